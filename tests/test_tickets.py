"""Tickets as rules (grade, priority, life cycle, field-test groups) and as the `netdiag tickets` command."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from netdiag.data.coords import parse_bbox
from netdiag.errors import InputError, TransitionError
from netdiag.settings import Settings
from netdiag.tickets.grouping import assess, cluster_nearby, lead_department
from netdiag.tickets.lifecycle import TRANSITIONS, check_transition
from netdiag.tickets.tmf621 import tmf621
from conftest import copied_store
from test_store import write_day

T0 = pd.Timestamp("2026-11-02T10:00:00Z")


def ticket(cause="fault", *, n=1, vip=0, public=0, sites=1, cells=3, ongoing=True):
    return {"cause": cause, "created_at": T0, "complaint_count": n, "vip_count": vip, "public_count": public,
            "sites_affected": sites, "cells_affected": cells, "ongoing": ongoing}


@pytest.mark.parametrize("name, row, grade, priority", [
    ("fibre cut behind 12 sites", ticket(sites=12, cells=40), "urgent", "P1"),
    ("one site down, VIP", ticket(vip=1), "major", "P1"),
    ("one site down", ticket(), "ordinary", "P2"),
    ("one site down, ended", ticket(ongoing=False), "ordinary", "P3"),
    ("a cell down, 5 complaints", ticket(n=5, sites=0, cells=1), "major", "P2"),
    ("congestion", ticket("congestion", sites=0, cells=0, ongoing=False), "ordinary", "P3"),
    ("field test on social media", ticket("no_fault_found", public=1, sites=0, cells=0, ongoing=False), "major", "P3"),
    ("field test", ticket("no_fault_found", sites=0, cells=0, ongoing=False), "ordinary", "P4"),
    ("coverage hole", ticket("coverage_hole", sites=0, cells=0, ongoing=False), "ordinary", "P4"),
])
def test_grade_and_priority_follow_impact_and_urgency(name, row, grade, priority):
    a = assess(pd.DataFrame([row]), Settings()).iloc[0]
    assert (a["grade"], a["priority"]) == (grade, priority), name


def test_due_times_follow_the_grade_and_the_settings():
    rows = pd.DataFrame([ticket(sites=12), ticket(vip=1), ticket()])
    a = assess(rows, Settings())
    assert (a["first_reply_due"] - T0).tolist() == [pd.Timedelta(hours=h) for h in (2, 4, 24)]
    assert (a["due_at"] - T0).tolist() == [pd.Timedelta(hours=h) for h in (24, 48, 48)]
    faster = assess(rows, Settings().with_overrides({"close_h_ordinary": "36", "urgent_site_count": "20"}))
    assert faster["grade"].tolist() == ["ordinary", "major", "ordinary"]
    assert (faster["due_at"] - T0).iloc[2] == pd.Timedelta(hours=36)


def test_life_cycle_allows_tmf621_moves_only():
    check_transition("T", "acknowledged", "inProgress")
    check_transition("T", "resolved", "inProgress")  # the customer is not satisfied: re-open
    check_transition("T", "held", "cancelled")
    assert TRANSITIONS["closed"] == () and TRANSITIONS["cancelled"] == ()
    with pytest.raises(TransitionError, match="`status` was 'done' but is expected to be one of acknowledged, inProgress"):
        check_transition("T", "acknowledged", "done")
    with pytest.raises(TransitionError, match="ticket T cannot go from pending to closed .*; resolve it first"):
        check_transition("T", "pending", "closed")


def test_lead_department_names_one_owner():
    assert lead_department("fault", "dispatch_repair", "site") == "maintenance"
    assert lead_department("fault", "transfer", "transport") == "transport"
    assert lead_department("shutdown", "direct_reply", "cell") == "service desk"
    assert lead_department("congestion", "transfer", "cell") == "optimisation"


def test_cluster_nearby_links_close_points_transitively_in_space_and_time():
    x = np.array([0.0, 200.0, 400.0, 5000.0, 0.0])
    y = np.zeros(5)
    hours = np.array([0.0, 5.0, 10.0, 0.0, 100.0])
    label = cluster_nearby(x, y, hours, radius_m=300, window_h=24)
    assert label.tolist() == [0, 0, 0, 3, 4]  # a chain of three, one far away, one days later


def test_parse_bbox_says_what_was_expected():
    assert parse_bbox("-6.5, 53.3, -6.3, 53.4") == (-6.5, 53.3, -6.3, 53.4)
    with pytest.raises(InputError, match="`bbox` was '1,2,3' but is expected to be MIN_LON,MIN_LAT,MAX_LON,MAX_LAT"):
        parse_bbox("1,2,3")
    with pytest.raises(InputError, match="min must be below max"):
        parse_bbox("10,50,5,60")


def test_tmf621_of_an_in_memory_ticket():
    row = {"ticket_id": "TS-20261102-0001", "cause": "fault", "element_id": "HUB1", "element_kind": "transport", "kind": "incident",
           "status": "acknowledged", "priority": "P1", "grade": "urgent", "team": "Transport NOC", "lead_department": "transport",
           "created_at": T0, "due_at": T0 + pd.Timedelta(hours=24), "complaint_ids": "K1;K2", "evidence": "fibre cut",
           "sites_affected": np.int64(2)}
    t = tmf621(row)
    assert (t["name"], t["severity"], t["requestedResolutionDate"]) == ("fault on HUB1", "urgent", "2026-11-03T10:00:00Z")
    assert [e["id"] for e in t["relatedEntity"]] == ["HUB1", "K1", "K2"]
    assert {"name": "sites_affected", "value": 2} in t["characteristic"]
    json.dumps(t)  # JSON-ready


# ----------------------------------------------------------------------------- the command
@pytest.fixture(scope="module")
def base_store(tmp_path_factory):
    base = tmp_path_factory.mktemp("cli")
    db = base / "t.db"
    from netdiag.cli.main import cli

    res = CliRunner().invoke(cli, ["diagnose", str(write_day(base / "data", "day12")), "--out", str(base / "out"),
                                   "--db", str(db)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return db


@pytest.fixture(params=["sqlite", "postgresql"])
def db(base_store, request, tmp_path):
    return copied_store(base_store, request, tmp_path)


@pytest.fixture
def nd():
    from netdiag.cli.main import cli

    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)
    return invoke


def fault_ticket(db) -> str:
    from netdiag.tickets.store import TicketStore

    with TicketStore(db, create=False) as store:
        return store.tickets(cause=["fault"]).iloc[0]["ticket_id"]


def test_list_filters_by_status_team_priority_kind_and_area(nd, db):
    res = nd("tickets", "list", "--db", db)
    assert res.exit_code == 0 and "3 tickets" in res.output and "fault on S003" in res.output
    res = nd("tickets", "list", "--db", db, "--kind", "field_test", "--team", "field-West", "--format", "csv")
    t = pd.read_csv(pd.io.common.StringIO(res.stdout))
    assert t["kind"].eq("field_test").all() and len(t) == 2
    res = nd("tickets", "list", "--db", db, "--priority", "P2", "--format", "json")
    assert [t["name"] for t in json.loads(res.stdout)] == ["fault on S003"]
    west_of_s003 = "-6.45,53.3,-6.38,53.4"
    res = nd("tickets", "list", "--db", db, "--bbox", west_of_s003)
    assert "fault on S003" not in res.output and "2 tickets" in res.output
    assert "no tickets match" in nd("tickets", "list", "--db", db, "--region", "Nowhere").output


def test_show_update_and_close_through_the_life_cycle(nd, db):
    tid = fault_ticket(db)
    res = nd("tickets", "update", tid, "--db", db, "--status", "inProgress", "--who", "li.wei", "--why", "crew on site",
             "--note", "board replaced at 14:00")
    assert res.exit_code == 0 and res.output.strip() == f"{tid}: status acknowledged -> inProgress; note added"
    res = nd("tickets", "close", tid, "--db", db, "--who", "li.wei")
    assert res.exit_code == 2
    assert res.output.strip().splitlines()[-1] == (
        f"Error: ticket {tid} cannot go from inProgress to closed (from inProgress it can go to pending, held, resolved, "
        "cancelled); resolve it first")
    assert nd("tickets", "update", tid, "--db", db, "--status", "resolved", "--who", "li.wei", "--why", "site back").exit_code == 0
    assert nd("tickets", "close", tid, "--db", db, "--who", "zhang", "--why", "customer satisfied").exit_code == 0
    shown = nd("tickets", "show", tid, "--db", db).output
    assert "status     closed" in shown
    assert "li.wei" in shown and "acknowledged -> inProgress" in shown and "crew on site" in shown
    assert "zhang" in shown and "resolved -> closed" in shown and "customer satisfied" in shown
    assert "board replaced at 14:00" in shown
    assert "*******0000" in shown and "13800000000" not in shown
    as_json = json.loads(nd("tickets", "show", tid, "--db", db, "--format", "json").stdout)
    assert [c["status"] for c in as_json["statusChange"]] == ["acknowledged", "inProgress", "resolved", "closed"]


def test_errors_are_one_line_with_exit_code_2(nd, db, tmp_path):
    res = nd("tickets", "list", "--db", tmp_path / "none.db")
    assert res.exit_code == 2 and "none.db does not exist; create it with `netdiag diagnose" in res.output
    assert not (tmp_path / "none.db").exists()
    res = nd("tickets", "show", "TS-1", "--db", db)
    assert res.exit_code == 2 and "ticket 'TS-1' is not in" in res.output
    res = nd("tickets", "list", "--db", db, "--bbox", "west")
    assert res.exit_code == 2 and "--bbox was 'west'" in res.output
    assert "Traceback" not in res.output


def test_export_writes_each_format_and_refuses_to_overwrite(nd, db, tmp_path):
    for fmt in ("csv", "json", "geojson", "gpkg"):
        out = tmp_path / f"tickets.{fmt}"
        res = nd("tickets", "export", "--db", db, "--format", fmt, "--out", out)
        assert res.exit_code == 0 and "wrote 3 tickets" in res.output, fmt
        assert out.stat().st_size > 0
    res = nd("tickets", "export", "--db", db, "--format", "csv", "--out", tmp_path / "tickets.csv")
    assert res.exit_code == 2 and "pass --overwrite" in res.output

