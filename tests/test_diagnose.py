"""Each cause of the contract on a tiny network whose answer is obvious by inspection.

Positions are offsets in metres from a site (north, east), so the serving sector is clear:
S001 has sectors at 0/120/240 degrees (1 km), S002 an omni cell (800 m), S003 a sector at
90 degrees and an indoor cell, R01 is a repeater of C001 2.2 km north of S001.
"""
from __future__ import annotations

import math

import pandas as pd
import pytest

from conftest import BASE_LAT, BASE_LON, TINY, write_dataset
from netdiag.data.dataset import load_dataset
from netdiag.pipeline import diagnose

SITES = {"S001": (BASE_LAT, BASE_LON), "S002": (BASE_LAT - 0.02, BASE_LON), "S003": (BASE_LAT, BASE_LON + 0.04),
         "R01": (BASE_LAT + 0.02, BASE_LON)}


def at(site: str, bearing_deg: float, metres: float) -> tuple[float, float]:
    lat, lon = SITES[site]
    dn = metres * math.cos(math.radians(bearing_deg))
    de = metres * math.sin(math.radians(bearing_deg))
    return lat + dn / 111_320, lon + de / (111_320 * math.cos(math.radians(lat)))


def complaint(cid, where, occurred, *, received=None, indoor="", category="no_signal"):
    lat, lon = where
    return [cid, received or occurred, occurred, round(lat, 7), round(lon, 7), "wgs84", category, indoor, "app",
            "13800000000", "", "test"]


EXTRA_EVENTS = [
    ["E5", "C001", "fault", "major", "2026-11-04T08:00:00Z", "2026-11-04T12:00:00Z", "", "", "", "board failure"],
    ["E6", "S002", "relocation", "minor", "2026-11-01T00:00:00Z", "", "", BASE_LAT - 0.02, BASE_LON - 0.03, "moved west"],
    ["E7", "C002", "interference", "major", "2026-11-05T00:00:00Z", "2026-11-05T06:00:00Z", "", "", "", "external jammer"],
]
SLEEPY_LOAD = ([["C003", f"2026-11-06T{h:02d}:00:00Z", 60, 30, 10, -115, 20] for h in range(0, 10)]
               + [["C003", f"2026-11-06T{h:02d}:00:00Z", 60, 0.2, 0, -116, 0] for h in range(10, 13)])

CASES = {  # complaint id: (position, occurred_at, expected cause, element, via, action)
    "HUB": (at("S001", 0, 500), "2026-11-02T11:30:00Z", "fault", "HUB1", "C001>S001>HUB1", "transfer"),
    "HUB2": (at("S002", 0, 300), "2026-11-02T12:10:00Z", "fault", "HUB1", "C004>S002>HUB1", "transfer"),
    "PLANNED": (at("S003", 90, 500), "2026-11-02T18:00:00Z", "shutdown", "C005", "", "direct_reply"),
    "CONGEST": (at("S002", 180, 300), "2026-11-02T09:30:00Z", "congestion", "C004", "", "transfer"),
    "NOISE": (at("S003", 90, 400), "2026-11-02T09:10:00Z", "interference", "C005", "", "transfer"),
    "JAMMER": (at("S001", 120, 500), "2026-11-05T03:00:00Z", "interference", "C002", "", "transfer"),
    "WARNING": (at("S001", 120, 500), "2026-11-03T03:00:00Z", "no_fault_found", "", "", "dispatch_field_test"),
    "HOLE": (at("S003", 0, 9000), "2026-11-03T03:00:00Z", "coverage_hole", "", "", "transfer"),
    "DONOR": (at("R01", 45, 200), "2026-11-04T09:00:00Z", "fault", "C001", "R01>C001", "dispatch_repair"),
    "MOVED": ((BASE_LAT - 0.02, BASE_LON - 0.03), "2026-11-03T09:00:00Z", "relocation", "S002", "C004>S002", "transfer"),
    "SLEEPY": (at("S001", 240, 600), "2026-11-06T11:20:00Z", "fault", "C003", "", "dispatch_repair"),
}


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    header, rows = TINY["complaints"]
    complaints = [complaint(cid, where, occurred) for cid, (where, occurred, *_rest) in CASES.items()]
    complaints.append(complaint("INDOOR", at("S003", 270, 50), "2026-11-03T03:00:00Z", indoor="yes"))
    data = {
        "complaints": (header, complaints),
        "events": (TINY["events"][0], TINY["events"][1] + EXTRA_EVENTS),
        "load": (TINY["load"][0], TINY["load"][1] + SLEEPY_LOAD),
    }
    ds = load_dataset(write_dataset(tmp_path_factory.mktemp("scenario"), data))
    assert ds.rejected.empty, ds.rejected
    return diagnose(ds)


@pytest.mark.parametrize("cid", list(CASES))
def test_cause_root_via_and_action(result, cid):
    _, _, cause, element, via, action = CASES[cid]
    row = result.diagnoses.set_index("complaint_id").loc[cid]
    assert (row["cause"], row["element_id"], row["via"], row["action"]) == (cause, element, via, action), row["evidence"]


def test_symptom_alarms_are_named_in_the_evidence(result):
    row = result.diagnoses.set_index("complaint_id").loc["HUB"]
    assert "fault alarm E1 on HUB1 (critical)" in row["evidence"]
    assert "symptom alarms below it suppressed: S001 E2" in row["evidence"]


def test_one_ticket_for_a_hub_fault_behind_two_sites(result):
    d = result.diagnoses.set_index("complaint_id")
    assert d.loc["HUB", "ticket_id"] == d.loc["HUB2", "ticket_id"]
    t = result.tickets.set_index("ticket_id").loc[d.loc["HUB", "ticket_id"]]
    assert (t["cause"], t["element_id"], t["complaint_count"], t["sites_affected"]) == ("fault", "HUB1", 2, 2)


def test_indoor_cells_serve_indoor_complaints_only(result):
    d = result.diagnoses.set_index("complaint_id")
    assert "C006" in d.loc["INDOOR", "serving_ids"].split(";")
    assert all("C006" not in s.split(";") for s in d["serving_ids"].drop("INDOOR"))


def test_evidence_names_counters_and_thresholds(result):
    d = result.diagnoses.set_index("complaint_id")
    assert "downlink PRB on C004 peaked at 92.0%" in d.loc["CONGEST", "evidence"]
    assert "uplink noise on C005 peaked at -100.0 dBm" in d.loc["NOISE", "evidence"]
    assert "sleeping cell C003" in d.loc["SLEEPY", "evidence"]
    assert "nearest site S003 at 9.0 km" in d.loc["HOLE", "evidence"]


def test_replies_in_both_languages_and_teams(result):
    d = result.diagnoses.set_index("complaint_id")
    assert "计划内网络施工" in d.loc["PLANNED", "reply_zh"] and "Planned network works" in d.loc["PLANNED", "reply_en"]
    assert d.loc["DONOR", "team"] == "TeamA"
    assert d.loc["HUB", "team"] == "Transport NOC"
    assert d.loc["WARNING", "team"] == "field-West"


def test_every_complaint_is_diagnosed_once(result):
    assert sorted(result.diagnoses["complaint_id"]) == sorted(list(CASES) + ["INDOOR"])
    assert result.diagnoses["ticket_id"].str.startswith("TS-").all()
    assert result.diagnoses["confidence"].between(0, 1).all()


def test_complaint_outside_the_network_is_rejected_not_lost(tmp_path):
    header, rows = TINY["complaints"]
    far = complaint("MARS", (22.5, 114.0), "2026-11-02T09:00:00Z")
    ds = load_dataset(write_dataset(tmp_path, {"complaints": (header, rows + [far])}))
    res = diagnose(ds)
    assert "MARS" not in set(res.diagnoses["complaint_id"])
    rej = res.rejected.set_index("id").loc["MARS"]
    assert rej["row"] == 3 and "outside the network's area" in rej["reason"]


def test_no_occurred_at_uses_the_lookback_window(tmp_path):
    header, rows = TINY["complaints"]
    # received 20 h after the hub fault ended: the 72 h look-back still covers it
    late = complaint("LATE", at("S001", 0, 500), "", received="2026-11-03T10:00:00Z")
    ds = load_dataset(write_dataset(tmp_path, {"complaints": (header, [late])}))
    row = diagnose(ds).diagnoses.iloc[0]
    assert (row["cause"], row["element_id"]) == ("fault", "HUB1")
    assert row["confidence"] == pytest.approx(0.95 * 0.9, abs=0.01)
    ds2 = load_dataset(tmp_path, settings=ds.settings.with_overrides({"lookback_h": "12"}))
    assert diagnose(ds2).diagnoses.iloc[0]["cause"] == "no_fault_found"


def test_a_no_fault_verdict_for_a_time_the_data_does_not_reach_says_so_and_promises_nothing(tmp_path):
    """Issue #16, point 2: the counters and alarms end on 2 November; a complaint of 10 November cannot be a
    confident no-fault, and the customer is not promised a tester on the strength of it."""
    header, rows = TINY["complaints"]
    today = complaint("TODAY", at("S002", 0, 300), "2026-11-10T12:00:00Z")
    inside = complaint("INSIDE", at("S002", 0, 300), "2026-11-02T16:30:00Z")
    res = diagnose(load_dataset(write_dataset(tmp_path, {"complaints": (header, rows + [today, inside])})))
    d = res.diagnoses.set_index("complaint_id")
    assert d.loc["TODAY", "cause"] == d.loc["INSIDE", "cause"] == "no_fault_found"
    assert d.loc["TODAY", "confidence"] == 0.2 and d.loc["INSIDE", "confidence"] == 0.6
    assert d.loc["TODAY", "evidence"].startswith("no counters or alarms reach this window (the data ends 2026-11-02 17:00Z)")
    assert "测试人员" not in d.loc["TODAY", "reply_zh"] and "tester" not in d.loc["TODAY", "reply_en"]
    assert "测试人员" in d.loc["INSIDE", "reply_zh"] and not d.loc["INSIDE", "evidence"].startswith("no counters")


def test_the_customer_is_promised_what_the_ticket_says_and_no_internal_names(tmp_path):
    """Issue #16, point 1: a reply's deadline is its ticket's (first reply for a repair, the visit for a
    no-fault), which follows the ticket's grade; a VIP's fault ticket is major, so its first reply is due
    sooner; an outage over before the call is told as over; no cell id or team name is read out."""
    header, rows = TINY["complaints"]
    vip = complaint("VIP", at("S001", 0, 400), "2026-11-02T11:00:00Z")
    vip[10] = "true"
    late = complaint("LATE", at("S001", 0, 420), "2026-11-02T13:30:00Z", received="2026-11-03T09:00:00Z")
    nff = complaint("NFF", at("S002", 0, 300), "2026-11-02T16:30:00Z")
    res = diagnose(load_dataset(write_dataset(tmp_path, {"complaints": (header, rows + [vip, late, nff])})))
    d = res.diagnoses.set_index("complaint_id")
    t = res.tickets.set_index("ticket_id")
    hub = t.loc[d.loc["VIP", "ticket_id"]]
    assert hub["grade"] == "major" and hub["first_reply_due"] == hub["created_at"] + pd.Timedelta(hours=4)
    assert f"before {hub['first_reply_due']:%Y-%m-%d %H:%M} UTC" in d.loc["VIP", "reply_en"]
    # LATE calls the next day about the same outage, which had ended by then: told so, promised nothing
    assert d.loc["LATE", "ticket_id"] == d.loc["VIP", "ticket_id"]
    assert d.loc["LATE", "reply_en"].startswith("The base station serving your area had a fault from 2026-11-02 10:00 "
                                                "to 2026-11-02 14:00; service has been restored.")
    assert "目前已恢复正常" in d.loc["LATE", "reply_zh"]
    field = t.loc[d.loc["NFF", "ticket_id"]]
    assert f"于{field['due_at']:%Y-%m-%d %H:%M} UTC前到现场测试" in d.loc["NFF", "reply_zh"]
    for text in d["reply_zh"].tolist() + d["reply_en"].tolist():
        assert not any(name in text for name in ("HUB1", "S001", "C001", "C004", "TeamA", "field-", "24小时", "24 hours"))
