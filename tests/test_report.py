"""The weekly / monthly report on the tiny network: tables that add up, periods, comparison, files.

Week 2026-W45 (2 to 8 November, UTC) holds A1 (HUB1 fault), A2 (C004 congested) and A3 (no
fault found); week W46 (9 to 15 November) holds B1, B3 (no fault found) and B2 (coverage hole).
"""
from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import BASE_LAT, BASE_LON, TINY, write_dataset
from netdiag.cli.main import cli
from netdiag.data.dataset import load_dataset
from netdiag.errors import InputError, OutputExistsError
from netdiag.pipeline import diagnose
from netdiag.views.period_report import analyse, load_previous, period_containing
from netdiag.views.report_pages import render_html, render_markdown, write_report

EVIL_TEAM = "<script>alert(1)</script>|NOC"


def offset(lat, lon, north_m, east_m):
    return lat + north_m / 111_320, lon + east_m / (111_320 * math.cos(math.radians(lat)))


def row(cid, where, occurred, *, received=None):
    lat, lon = where
    return [cid, received or occurred, occurred, round(lat, 7), round(lon, 7), "wgs84", "no_signal", "", "app",
            "13800000000", "", "test"]


S001, S002, S003 = (BASE_LAT, BASE_LON), (BASE_LAT - 0.02, BASE_LON), (BASE_LAT, BASE_LON + 0.04)
COMPLAINTS = [
    row("A1", offset(*S001, 500, 0), "2026-11-02T11:30:00Z"),
    row("A2", offset(*S002, -300, 0), "2026-11-02T09:30:00Z"),
    row("A3", offset(*S001, -250, 433), "2026-11-03T03:00:00Z", received="2026-11-03T05:00:00Z"),
    row("B1", offset(*S001, 500, 0), "2026-11-10T12:00:00Z"),
    row("B2", offset(*S003, 9000, 0), "", received="2026-11-11T08:00:00Z"),
    row("B3", offset(*S003, 0, 500), "2026-11-12T22:00:00Z"),
]


def tables() -> dict:
    header, _ = TINY["complaints"]
    tr_header, transport = TINY["transport"]
    transport = [r[:-1] + [EVIL_TEAM] for r in transport]
    return {"complaints": (header, COMPLAINTS), "transport": (tr_header, transport)}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("report"), tables())


@pytest.fixture(scope="module")
def result(data_dir):
    ds = load_dataset(data_dir)
    assert ds.rejected.empty
    return diagnose(ds)


ADDING_UP = ["by_category", "by_cause", "by_action", "by_team", "by_grade", "by_cell", "by_site", "by_hour",
             "by_weekday", "by_day"]


def test_periods_are_calendar_weeks_and_months_in_the_time_zone():
    week = period_containing("week", "2026-11-12T01:00", tz="Asia/Shanghai")
    assert week.start == pd.Timestamp("2026-11-08T16:00Z") and week.end == pd.Timestamp("2026-11-15T16:00Z")
    assert week.label == "week 2026-W46 (2026-11-09 to 2026-11-15)"
    assert week.previous().label == "week 2026-W45 (2026-11-02 to 2026-11-08)"
    month = period_containing("month", "2026-12-31T23:59Z")
    assert (month.start, month.end) == (pd.Timestamp("2026-12-01T00:00Z"), pd.Timestamp("2027-01-01T00:00Z"))
    assert month.previous().label == "month 2026-11 (2026-11-01 to 2026-11-30)"
    with pytest.raises(InputError, match="`period` was 'fortnight' but is expected to be one of week, month"):
        period_containing("fortnight", "2026-11-01")


def test_the_setup_diagnoses_as_expected(result):
    cause = result.diagnoses.set_index("complaint_id")["cause"]
    assert cause.to_dict() == {"A1": "fault", "A2": "congestion", "A3": "no_fault_found", "B1": "no_fault_found",
                               "B2": "coverage_hole", "B3": "no_fault_found"}


@pytest.mark.parametrize("period, date, expected", [("week", None, 3), ("week", "2026-11-04", 3), ("month", None, 6)])
def test_every_table_adds_up_to_the_diagnoses(result, period, date, expected):
    rep = analyse(result, period=period, date=date)
    assert rep.totals["complaints"] == expected
    for name in ADDING_UP:
        assert rep.tables[name]["complaints"].sum() == expected, name
    assert rep.tables["hotspots"]["complaints"].sum() == expected
    by_day = rep.tables["by_day"]
    assert (by_day.drop(columns=["day", "complaints"]).sum(axis=1) == by_day["complaints"]).all()


def test_the_week_against_the_week_before(result):
    rep = analyse(result, period="week")  # the week of the latest complaint, B3
    assert rep.period.label == "week 2026-W46 (2026-11-09 to 2026-11-15)"
    assert rep.previous.label == "week 2026-W45 (2026-11-02 to 2026-11-08)"
    cause = rep.tables["by_cause"].set_index("cause")
    assert cause.loc["no_fault_found", ["complaints", "previous", "change"]].tolist() == [2, 1, 1]
    assert cause.loc["fault", ["complaints", "previous", "change_pct"]].tolist() == [0, 1, -100.0]
    assert cause.loc["coverage_hole", "share_pct"] == pytest.approx(33.3)
    team = rep.tables["by_team"].set_index("team")
    assert team.loc["field-West", "complaints"] == 1 and team.loc[EVIL_TEAM, "previous"] == 1
    cell = rep.tables["by_cell"].set_index("cell_id")
    assert cell.loc["C001", "complaints"] == 1 and cell.loc["(none)", "complaints"] == 1  # B2: no serving cell
    assert rep.tables["by_cell"]["cell_id"].iloc[-1] == "(none)"
    hour = rep.tables["by_hour"].set_index("hour")["complaints"]
    assert (hour[12], hour[22], hour[8]) == (1, 1, 1)  # B2 has no occurred_at: its received hour counts
    assert rep.totals["change_pct"] == 0.0


def test_response_times_say_what_they_measure(result):
    rep = analyse(result, period="week", date="2026-11-02")
    resp = rep.tables["response_times"].set_index("grade")
    assert resp.loc["all", "tickets"] == resp.loc[["urgent", "major", "ordinary"], "tickets"].sum() == 3
    # the HUB1 ticket is resolved at 14:00Z when the fibre is back, 2.5 h after A1
    assert resp.loc["all", "resolved"] >= 1
    assert resp.loc["all", "median_h_to_close"] == pytest.approx(2.5)
    assert any("no record of when the customer was first answered" in n for n in rep.notes)


def test_a_week_without_a_previous_week_says_so(result):
    rep = analyse(result, period="week", date="2026-11-02")
    assert rep.previous is None and "previous" not in rep.tables["by_cause"].columns
    assert any("no complaints in the previous week" in n for n in rep.notes)


def test_written_report_is_escaped_and_complete(result, tmp_path):
    rep = analyse(result, period="week", date="2026-11-04")
    files = write_report(rep, tmp_path / "r")
    names = {p.name for p in files}
    assert {"report.md", "report.html", "summary.json", "by_cause.csv", "by_team.csv", "by_cause.svg"} <= names
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<svg") == 7 and "http-equiv" not in page and "src=" not in page
    md = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    assert "<script>" not in md and "\\<script\\>alert(1)\\</script\\>\\|NOC" in md
    assert "![by cause](charts/by_cause.svg)" in md
    csv = pd.read_csv(tmp_path / "r" / "by_cause.csv", encoding="utf-8-sig")
    assert csv["complaints"].sum() == 3
    with pytest.raises(OutputExistsError, match="already holds .*; pass `overwrite`"):
        write_report(rep, tmp_path / "r")
    assert render_markdown(rep).startswith("# netdiag complaint report: week 2026-W45")
    assert "<h1>netdiag complaint report: week 2026-W45" in render_html(rep)


def test_compare_with_an_earlier_report(result, tmp_path):
    write_report(analyse(result, period="week", date="2026-11-04"), tmp_path / "w45")
    before = load_previous(tmp_path / "w45")
    rep = analyse(result, period="week", date="2026-11-12", previous=before)
    assert rep.previous.label == "week 2026-W45 (2026-11-02 to 2026-11-08)"
    assert rep.previous_source.endswith("summary.json")
    assert rep.tables["by_cause"].set_index("cause").loc["congestion", "previous"] == 1
    with pytest.raises(InputError, match="is neither a report folder"):
        load_previous(tmp_path / "missing")
    (tmp_path / "other.json").write_text(json.dumps({"x": 1}))
    with pytest.raises(InputError, match="not a netdiag report summary"):
        load_previous(tmp_path / "other.json")


def test_cli_report(data_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    r = runner.invoke(cli, ["report", str(data_dir), "--period", "week", "--date", "2026-11-03"])
    assert r.exit_code == 0, r.output
    assert "week 2026-W45 (2026-11-02 to 2026-11-08): 3 complaints" in r.output
    assert (tmp_path / "reports" / "week-2026-11-02" / "report.html").is_file()
    r = runner.invoke(cli, ["report", str(data_dir), "--compare", "reports/week-2026-11-02", "--out", "now"])
    assert r.exit_code == 0, r.output
    assert "3 complaints, +0.0% against week 2026-W45" in r.output
    summary = json.loads((tmp_path / "now" / "summary.json").read_text(encoding="utf-8"))
    assert summary["totals"]["previous_complaints"] == 3
    r = runner.invoke(cli, ["report", str(data_dir), "--out", "now"])
    assert r.exit_code == 2 and "pass --overwrite" in r.output
    r = runner.invoke(cli, ["report", str(data_dir), "--compare", str(data_dir), "--out", "vs-data", "--period", "month"])
    assert r.exit_code == 0, r.output
    assert "month 2026-11 (2026-11-01 to 2026-11-30): 6 complaints;" in r.output  # nothing in October to compare
    summary = json.loads((tmp_path / "vs-data" / "summary.json").read_text(encoding="utf-8"))
    assert summary["previous"]["label"] == "month 2026-10 (2026-10-01 to 2026-10-31)"


def test_ids_held_as_categories_give_the_same_report(data_dir, result):
    # a table of 200,000+ rows (a province's cells, a month of complaints) holds its ids as categories
    # (netdiag.data.convert.to_id), as the 50,000-site sample's cells and complaints do
    ds = load_dataset(data_dir)
    for table, cols in (("cells", ["cell_id", "site_id"]), ("complaints", ["complaint_id"])):
        ds[table][cols] = ds[table][cols].astype("category")
    as_categories = diagnose(ds)
    for period in ("week", "month"):
        expected, got = analyse(result, period=period), analyse(as_categories, period=period)
        assert list(got.tables) == list(expected.tables)
        for name, table in expected.tables.items():
            pd.testing.assert_frame_equal(got.tables[name], table, obj=name)
