"""netdiag evaluate: the figures of tests/test_accuracy.py, from the files a user has."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from netdiag.cli.main import cli
from netdiag.data.dataset import load_dataset
from netdiag.evaluate import evaluate, evaluation_html
from netdiag.pipeline import diagnose
from netdiag.views.writers import write_diagnosis

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    result = diagnose(load_dataset(SAMPLE))
    write_diagnosis(result, out)
    truth = pd.read_csv(SAMPLE / "truth" / "complaints.csv", dtype=str, keep_default_na=False)
    m = result.diagnoses.merge(truth, on="complaint_id", suffixes=("", "_truth"))
    return out, (m["cause"] == m["cause_truth"]).mean(), (m["element_id"] == m["element_id_truth"]).mean()


def test_evaluate_reproduces_the_accuracy_tests_figures(run):
    out, cause, root = run
    e = evaluate(out / "diagnoses.csv", SAMPLE / "truth" / "complaints.csv")
    assert e.scored == 1500 and e.only_truth == 0 and e.only_diagnosed == 0
    assert e.cause_accuracy == pytest.approx(cause)
    assert e.element_accuracy == pytest.approx(root)
    assert e.cause_accuracy >= 0.98
    assert int(e.confusion.values.trace()) == round(cause * e.scored)
    assert e.reliability["count"].sum() == 1500
    assert 0 <= e.ece <= 1


def test_a_wrong_verdict_shows_in_every_score(tmp_path, run):
    out, _, _ = run
    d = pd.read_csv(out / "diagnoses.csv", dtype=str, keep_default_na=False)
    faults = d.index[d["cause"] == "fault"][:10]
    d.loc[faults, "cause"] = "congestion"
    e = evaluate(d, SAMPLE / "truth" / "complaints.csv")
    assert e.cause_accuracy == pytest.approx(1 - 10 / 1500, abs=0.002)
    assert int(e.confusion.loc["fault", "congestion"]) >= 10
    row = e.per_cause.set_index("cause").loc["fault"]
    assert row["recall"] < 1
    assert len(e.mismatches) >= 10


def test_cli_text_json_and_html_escape_hostile_ids(tmp_path):
    d = pd.DataFrame({"complaint_id": ["<script>x</script>", "=1+1", "K3", "K4"],
                      "cause": ["congestion", "congestion", "fault", "fault"],
                      "element_id": ["C1", "C2", "C3", "C4"], "confidence": ["0.9", "0.8", "0.7", "0.6"]})
    t = pd.DataFrame({"complaint_id": ["<script>x</script>", "=1+1", "K3", "K4"], "cause": "fault",
                      "element_id": ["C1", "C2", "C3", "C4"]})
    d.to_csv(tmp_path / "d.csv", index=False)
    t.to_csv(tmp_path / "t.csv", index=False)
    r = CliRunner().invoke(cli, ["evaluate", str(tmp_path / "d.csv"), "--truth", str(tmp_path / "t.csv"),
                                 "--out", str(tmp_path / "ev"), "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["cause_accuracy"] == 0.5
    page = (tmp_path / "ev" / "evaluation.html").read_text(encoding="utf-8")
    assert "<script>x" not in page and "&lt;script&gt;x" in page
    mism = (tmp_path / "ev" / "mismatches.csv").read_text(encoding="utf-8-sig")
    assert "'=1+1" in mism
    r = CliRunner().invoke(cli, ["evaluate", str(tmp_path / "d.csv"), "--truth", str(tmp_path / "t.csv")])
    assert "cause accuracy    50.0%" in r.output


def test_bad_truth_is_a_clear_error(tmp_path):
    (tmp_path / "d.csv").write_text("complaint_id,cause\n1,fault\n", encoding="utf-8")
    (tmp_path / "t.csv").write_text("ticket,why\n1,fault\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["evaluate", str(tmp_path / "d.csv"), "--truth", str(tmp_path / "t.csv")])
    assert r.exit_code == 2 and "has no column complaint_id" in r.output
    r = CliRunner().invoke(cli, ["evaluate", str(tmp_path / "nope.csv"), "--truth", str(tmp_path / "t.csv")])
    assert r.exit_code == 2 and "no such file" in r.output


def test_repeated_truth_rows_are_scored_once_and_said_so(tmp_path):
    d = pd.DataFrame({"complaint_id": ["1", "2"], "cause": ["fault", "fault"], "element_id": ["C1", "C2"],
                      "confidence": ["0.9", "0.9"]})
    t = pd.DataFrame({"complaint_id": ["1", "1", "1", "2"], "cause": ["fault", "fault", "fault", "congestion"],
                      "element_id": ["C1", "C1", "C1", "C2"]})
    e = evaluate(d, t)
    assert e.scored == 2 and e.cause_accuracy == 0.5 and int(e.confusion.values.sum()) == 2
    assert any("2 repeated complaint_id rows left out" in n for n in e.notes)


def test_causes_outside_the_contract_are_counted_as_other_not_dropped(tmp_path):
    d = pd.DataFrame({"complaint_id": ["1", "2", "3"], "cause": ["<b>evil</b>", "fault", "fault"],
                      "element_id": "", "confidence": ""})
    t = pd.DataFrame({"complaint_id": ["1", "2", "3"], "cause": ["fault", "broken antenna", "fault"], "element_id": ""})
    e = evaluate(d, t)
    assert int(e.confusion.values.sum()) == e.scored == 3
    assert int(e.confusion.loc["fault", "other"]) == 1 and int(e.confusion.loc["other", "fault"]) == 1
    assert e.per_cause.set_index("cause").loc["other", ["support", "predicted"]].tolist() == [1, 1]
    assert sum("counted as 'other'" in n for n in e.notes) == 2
    page = evaluation_html(e)
    assert "<b>evil" not in page


def test_confidence_outside_0_1_is_refused(tmp_path):
    (tmp_path / "d.csv").write_text("complaint_id,cause,confidence\nCD1,fault,7.5\nCD2,fault,-3\nCD3,fault,0.5\n", encoding="utf-8")
    (tmp_path / "t.csv").write_text("complaint_id,cause\nCD1,fault\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["evaluate", str(tmp_path / "d.csv"), "--truth", str(tmp_path / "t.csv")])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "confidence must be a number in 0..1 (or empty); 2 rows are not: CD1 ('7.5'), CD2 ('-3')" in r.output


def test_gbk_truth_causes_any_case_and_rows_without_a_cause(tmp_path):
    (tmp_path / "d.csv").write_text("complaint_id,cause\nCD1,fault\nCD2,fault\nCD3,fault\n", encoding="utf-8")
    (tmp_path / "t.csv").write_bytes("complaint_id,cause,备注\nCD1,Fault,已修复\nCD2, FAULT ,\nCD3,,未知\n".encode("gbk"))
    r = CliRunner().invoke(cli, ["evaluate", str(tmp_path / "d.csv"), "--truth", str(tmp_path / "t.csv"), "--format", "json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output[r.output.index("{"):])
    assert out["scored"] == 2 and out["cause_accuracy"] == 1.0
    assert out["notes"] == ["truth: 1 rows without a cause left out: CD3 (row 3)"]
