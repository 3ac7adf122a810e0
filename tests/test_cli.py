"""The command line as a user meets it: help, exit codes, files written, one-line errors."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import TINY, write_dataset
from netdiag.cli.main import COMMANDS, cli


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)
    return invoke


def test_help_lists_commands_with_examples(run):
    res = run("--help")
    assert res.exit_code == 0
    for name in COMMANDS:
        assert name in res.output
    for name in COMMANDS:
        sub = run(name, "--help")
        assert sub.exit_code == 0, name
        assert "Example" in sub.output, name


def test_validate_reports_and_writes_rejected(run, tmp_path):
    header, rows = TINY["complaints"]
    bad = rows[0][:]
    bad[0], bad[3] = "K009", 95
    data = write_dataset(tmp_path / "data", {"complaints": (header, rows + [bad])})
    res = run("validate", data, "--out", tmp_path / "out")
    assert res.exit_code == 0, res.output
    assert "complaints" in res.output and "lat out of range" in res.output
    rej = pd.read_csv(tmp_path / "out" / "rejected.csv", dtype=str, encoding="utf-8-sig")
    assert rej.columns.tolist() == ["table", "row", "id", "reason"]
    assert rej.values.tolist() == [["complaints", "3", "K009", "lat 95 is outside [-90, 90]"]]


def test_validate_json(run, tiny_dir):
    res = run("validate", tiny_dir, "--format", "json")
    summary = json.loads(res.stdout)
    assert {t["table"]: t["accepted"] for t in summary["tables"]}["cells"] == 6


def test_unreadable_data_exits_2_with_one_line(run, tmp_path):
    data = write_dataset(tmp_path / "data", skip=("sites",))
    res = run("validate", data)
    assert res.exit_code == 2
    assert res.stderr.strip().splitlines()[-1] == (f"Error: required table `sites` not found in {data} "
                                                   "(expected sites.csv, sites.parquet, sites.geojson or a layer of network.gpkg)")
    assert "Traceback" not in res.output


def test_bad_setting_exits_2(run, tiny_dir):
    res = run("--set", "congestion_prb_pct=200", "validate", tiny_dir)
    assert res.exit_code == 2 and "`congestion_prb_pct` was 200" in res.output


def test_diagnose_writes_contract_files_and_masks_and_neutralises(run, tiny_dir, tmp_path):
    out = tmp_path / "out"
    res = run("diagnose", tiny_dir, "--out", out, "--json")
    assert res.exit_code == 0, res.output
    assert "2 complaints diagnosed" in res.output
    d = pd.read_csv(out / "diagnoses.csv", dtype=str, encoding="utf-8-sig").fillna("")
    assert d.columns[:10].tolist() == ["complaint_id", "cause", "element_id", "via", "serving_ids", "action", "team",
                                       "ticket_id", "confidence", "evidence"]
    text = (out / "diagnoses.csv").read_text(encoding="utf-8-sig")
    assert "13812345678" not in text and "*******5678" in text
    assert "'=HYPERLINK" in text
    t = pd.read_csv(out / "tickets.csv", dtype=str, encoding="utf-8-sig")
    for col in ["ticket_id", "cause", "element_id", "action", "team", "priority", "created_at", "due_at", "complaint_count",
                "complaint_ids", "lat", "lon", "status"]:
        assert col in t.columns
    assert set(d["ticket_id"]) == set(t["ticket_id"])
    assert json.loads((out / "summary.json").read_text())["complaints"] == 2
    assert "13812345678" not in (out / "diagnoses.json").read_text()


def test_diagnose_refuses_to_overwrite(run, tiny_dir, tmp_path):
    out = tmp_path / "out"
    assert run("diagnose", tiny_dir, "--out", out).exit_code == 0
    res = run("diagnose", tiny_dir, "--out", out)
    assert res.exit_code == 2 and "pass --overwrite" in res.output
    assert run("diagnose", tiny_dir, "--out", out, "--overwrite").exit_code == 0


def test_check_text_and_json(run, tiny_dir):
    res = run("check", "--data", tiny_dir, "--lat", 53.355, "--lon", -6.4, "--at", "2026-11-02T11:30:00Z", "--lang", "zh")
    assert res.exit_code == 0, res.output
    assert "VERDICT  fault on HUB1 via C001>S001>HUB1" in res.output
    assert "传输线路" in res.output
    res = run("check", "--data", tiny_dir, "--lat", 53.355, "--lon", -6.4, "--at", "2026-11-02T11:30:00Z", "--format", "json")
    out = json.loads(res.stdout)
    assert out["verdict"]["cause"] == "fault" and out["serving"][0]["element_id"] == "C001"
    assert {e["event_id"] for e in out["events"] if e["active"]} == {"E1", "E2"}


@pytest.mark.parametrize("args, message", [
    (["--lat", 22.5, "--lon", 114.0], "outside the network's area"),
    (["--lat", 53.355, "--lon", -6.4, "--at", "yesterday"], "--at was 'yesterday' but is expected to be an ISO 8601 time"),
    (["--lat", 53.355, "--lon", -6.4, "--coord-system", "utm"], "--coord-system was 'utm'"),
])
def test_check_errors(run, tiny_dir, args, message):
    res = run("check", "--data", tiny_dir, *args)
    assert res.exit_code == 2 and message in res.output


def test_check_time_lost_to_daylight_saving(run, tiny_dir):
    res = run("--tz", "Europe/Dublin", "check", "--data", tiny_dir, "--lat", 53.355, "--lon", -6.4, "--at", "2026-03-29T01:30",
              "--no-server")
    assert res.exit_code == 2
    assert "--at was '2026-03-29T01:30', which does not exist or is ambiguous in Europe/Dublin (daylight-saving change)" in res.output


def test_settings_lists_values(run):
    res = run("--set", "lookback_h=48", "settings")
    assert "lookback_h" in res.output and "(default 72.0)" in res.output


def test_check_answers_queries_from_stdin(tiny_dir):
    runner = CliRunner()
    queries = "53.355,-6.4,2026-11-02T11:30:00Z\nnot a query\n53.355,-6.4,2026-11-02T16:00:00Z\n"
    res = runner.invoke(cli, ["check", "--data", str(tiny_dir), "--format", "json"], input=queries)
    assert res.exit_code == 0, res.output
    answers = [json.loads(line) for line in res.stdout.splitlines()]
    assert [a["verdict"]["cause"] for a in answers] == ["fault", "no_fault_found"]
    assert "'not a query' is expected to look like LAT,LON[,TIME[,SYSTEM[,indoor]]]" in res.stderr
    res = runner.invoke(cli, ["check", "--data", str(tiny_dir), "--lat", "53.3"])
    assert res.exit_code == 2 and "give both --lat and --lon" in res.output


def test_demo_on_a_network_without_complaints_still_writes_what_it_can(run, tmp_path):
    data = write_dataset(tmp_path / "data", skip=("complaints",))
    res = run("demo", data, "--out", tmp_path / "out", "--maps", tmp_path / "maps")
    assert res.exit_code == 0, res.output
    assert "0 complaints diagnosed" in res.output and "no complaints diagnosed: no reports" in res.output
    assert (tmp_path / "maps" / "netdiag.html").exists()
    assert pd.read_csv(tmp_path / "out" / "diagnoses.csv", encoding="utf-8-sig").empty


def test_check_finds_the_open_ticket_in_the_store(run, tmp_path):
    # C003 (S001's 240-degree sector) has a fault that is still active: its ticket stays open
    events = (TINY["events"][0], TINY["events"][1] + [["E9", "C003", "fault", "major", "2026-11-02T00:00:00Z", "", "", "", "",
                                                        "board failure"]])
    header, rows = TINY["complaints"]
    spot = [53.3475, -6.4045]  # about 400 m south-west of S001
    complaint = ["K009", "2026-11-02T09:00:00Z", "2026-11-02T08:30:00Z", *spot, "", "no_signal", "", "app", "", "", ""]
    data = write_dataset(tmp_path / "data", {"events": events, "complaints": (header, rows + [complaint])})
    db = tmp_path / "t.db"
    assert run("diagnose", data, "--out", tmp_path / "out", "--db", db).exit_code == 0
    res = run("check", "--data", data, "--lat", spot[0], "--lon", spot[1], "--at", "2026-11-02T09:30:00Z",
              "--db", db, "--format", "json")
    answer = json.loads(res.stdout)
    assert (answer["verdict"]["cause"], answer["verdict"]["element_id"]) == ("fault", "C003")
    d = pd.read_csv(tmp_path / "out" / "diagnoses.csv", dtype=str, encoding="utf-8-sig").set_index("complaint_id")
    assert answer["ticket"]["ticket_id"] == d.loc["K009", "ticket_id"]
    assert answer["ticket"]["status"] == "acknowledged"


def test_check_outside_the_data_warns_and_promises_nothing(sample_dir, tmp_path):
    """A check at a time the data does not reach (today, when the export ends two weeks ago) says so
    on the screen and in JSON, and the reply names no cause and no deadline (issue #16, point 2)."""
    from netdiag.prepare import prepare_workspace
    from netdiag.settings import Settings

    ws = tmp_path / "ws"
    prepare_workspace(sample_dir, ws, settings=Settings(tz="Asia/Shanghai"))
    spot = ["--lat", "22.5431", "--lon", "114.0579", "--coord-system", "gcj02", "--no-server"]
    runner = CliRunner()
    for data in (["--data", str(sample_dir)], ["--workspace", str(ws)]):
        late = runner.invoke(cli, ["--tz", "Asia/Shanghai", "check", *data, *spot, "--at", "2026-11-28T10:00+08:00",
                                   "--format", "json"])
        answer = json.loads(late.output)
        assert "no counters or alarms reach this time" in answer["warning"]
        assert answer["data_until"] < "2026-11-15" and "2026-11" not in answer["reply"]["en"] + answer["reply"]["zh"]
        screen = runner.invoke(cli, ["--tz", "Asia/Shanghai", "check", *data, *spot, "--at", "2026-11-28T10:00+08:00"])
        assert screen.output.startswith("Times in Asia/Shanghai (UTC+08:00).\nWARNING  no counters or alarms reach this time")
        assert "the window is 2026-11-28 10:00 to 2026-11-28 11:00" in screen.output  # the warning's times are local too
        inside = json.loads(runner.invoke(cli, ["--tz", "Asia/Shanghai", "check", *data, *spot,
                                                "--at", "2026-11-05T20:30+08:00", "--format", "json"]).output)
        assert "warning" not in inside and "2026-11-0" in inside["reply"]["en"]  # a deadline, as before
