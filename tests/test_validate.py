"""Every rejection reason of the contract, each with its message; good rows all accepted."""
from __future__ import annotations

import pytest

from conftest import TINY, write_dataset
from netdiag.data.dataset import load_dataset
from netdiag.errors import InputError


def with_rows(table: str, *rows) -> dict:
    header, base = TINY[table]
    return {table: (header, base + [list(r) for r in rows])}


def reasons(ds, table):
    rej = ds.rejected[ds.rejected["table"] == table]
    return dict(zip(rej["id"], rej["reason"]))


def test_clean_tiny_dataset_accepts_every_row(tiny_dir):
    ds = load_dataset(tiny_dir)
    assert ds.rejected.empty
    assert ds.stats.set_index("table")["accepted"].to_dict() == {
        "transport": 3, "sites": 3, "cells": 6, "repeaters": 1, "events": 4, "load": 3, "complaints": 2}


def test_ids_keep_leading_zeros_and_are_strings(tiny_dir):
    ds = load_dataset(tiny_dir)
    assert ds["sites"]["site_id"].tolist() == ["S001", "S002", "S003"]
    assert ds["cells"].loc[0, "site_id"] == "S001"


COMPLAINT_HEADER = TINY["complaints"][0]


def complaint(cid, **kw):
    row = dict(zip(COMPLAINT_HEADER, TINY["complaints"][1][0]))
    row.update(complaint_id=cid, **kw)
    return [row[c] for c in COMPLAINT_HEADER]


@pytest.mark.parametrize("fields, expected", [
    ({"lat": ""}, "missing lat: no usable position; ask the customer for the exact place"),
    ({"lon": "east"}, "lon 'east' is not a number"),
    ({"lat": 95}, "lat 95 is outside [-90, 90]"),
    ({"lon": -181}, "lon -181 is outside [-180, 180]"),
    ({"lat": 0, "lon": 0}, "position (lat, lon) = (0, 0) is a placeholder, not a real place"),
    ({"received_at": "yesterday"}, "received_at 'yesterday' is not an ISO 8601 timestamp"),
    ({"received_at": ""}, "missing received_at"),
    ({"occurred_at": "2026-13-45T10:00"}, "occurred_at '2026-13-45T10:00' is not an ISO 8601 timestamp"),
    ({"received_at": "9999-12-31T23:59:59Z"}, "received_at '9999-12-31T23:59:59Z' is outside the years 1678-2261"),
    ({"category": "bad_vibes"}, "category 'bad_vibes' is not one of no_signal, weak_signal, call_drop, slow_data, other"),
    ({"coord_system": "utm"}, "coord_system 'utm' is not one of wgs84, gcj02, bd09"),
    ({"vip": "maybe"}, "vip 'maybe' is not a boolean (true/false, 1/0, yes/no, y/n)"),
    ({"occurred_at": "2026-11-03T00:00:00Z"}, "occurred_at 2026-11-03T00:00:00+00:00 is after received_at 2026-11-02T13:00:00+00:00"),
])
def test_complaint_rejections(tmp_path, fields, expected):
    ds = load_dataset(write_dataset(tmp_path, with_rows("complaints", complaint("BAD", **fields))))
    got = reasons(ds, "complaints")
    assert got == {"BAD": expected}
    assert set(ds["complaints"]["complaint_id"]) == {"K001", "K002"}
    assert ds.rejected.set_index("id").loc["BAD", "row"] == 3


def test_duplicate_id_first_row_wins(tmp_path):
    ds = load_dataset(write_dataset(tmp_path, with_rows("complaints", complaint("K001", category="other"))))
    assert reasons(ds, "complaints") == {"K001": "duplicate complaint_id 'K001' (first at row 1); the first row is kept"}
    kept = ds["complaints"].set_index("complaint_id").loc["K001"]
    assert kept["category"] == "no_signal" and kept["_row"] == 1


def test_several_problems_of_one_row_are_reported_together(tmp_path):
    ds = load_dataset(write_dataset(tmp_path, with_rows("complaints", complaint("BAD", lat=95, category="x"))))
    assert reasons(ds, "complaints")["BAD"] == (
        "lat 95 is outside [-90, 90]; category 'x' is not one of no_signal, weak_signal, call_drop, slow_data, other")


@pytest.mark.parametrize("row, expected", [
    (["C100", "S999", "LTE", 1800, 0, 65, 500, ""], "site_id 'S999' is not in sites"),
    (["C101", "S001", "6G", 1800, 0, 65, 500, ""], "technology '6G' is not one of GSM, UMTS, LTE, NR"),
    (["C102", "S001", "LTE", 1800, 360, 65, 500, ""], "azimuth_deg 360 is outside [0, 360)"),
    (["C103", "S001", "LTE", 1800, -5, 65, 500, ""], "azimuth_deg -5 is outside [0, 360)"),
    (["C104", "S001", "LTE", 1800, 0, 65, -50, ""], "radius_m -50 is outside > 0"),
    (["C105", "S001", "LTE", 1800, 0, 65, 0, ""], "radius_m 0 is outside > 0"),
    (["C106", "S001", "LTE", 1800, 0, 0, 500, ""], "beamwidth_deg 0 is outside (0, 360]"),
    (["C107", "S001", "LTE", "", 0, 65, 500, ""], "missing band_mhz"),
    (["C001", "S002", "LTE", 1800, 0, 65, 500, ""], "duplicate cell_id 'C001' (first at row 1); the first row is kept"),
])
def test_cell_rejections(tmp_path, row, expected):
    ds = load_dataset(write_dataset(tmp_path, with_rows("cells", row)))
    assert reasons(ds, "cells") == {row[0]: expected}
    assert len(ds["cells"]) == 6


def test_technology_aliases_are_accepted(tmp_path):
    ds = load_dataset(write_dataset(tmp_path, with_rows("cells", ["C200", "S001", "5g", 3500, 10, "", 300, ""])))
    assert ds["cells"].set_index("cell_id").loc["C200", "technology"] == "NR"


@pytest.mark.parametrize("row, expected", [
    (["S100", "x", "north", -6.4, "HUB1", "", ""], "lat 'north' is not a number"),
    (["S101", "x", 0, 0, "HUB1", "", ""], "position (lat, lon) = (0, 0) is a placeholder, not a real place"),
    (["S102", "x", 53.3, -6.4, "HUB9", "", ""], "transport_id 'HUB9' is not in transport"),
    (["S103", "x", "", "", "HUB1", "", ""],
     "missing lat and lon (only a site with a relocation event may have no position: dismantled)"),
])
def test_site_rejections(tmp_path, row, expected):
    ds = load_dataset(write_dataset(tmp_path, with_rows("sites", row)))
    assert reasons(ds, "sites") == {row[0]: expected}


def test_rejected_site_takes_its_cells_with_it(tmp_path):
    data = with_rows("sites", ["S100", "x", 95, -6.4, "HUB1", "", ""])
    data.update(with_rows("cells", ["C100", "S100", "LTE", 1800, 0, 65, 500, ""]))
    ds = load_dataset(write_dataset(tmp_path, data))
    assert reasons(ds, "cells") == {"C100": "site_id 'S100' is in sites but that row was rejected"}


def test_repeater_with_unknown_donor(tmp_path):
    ds = load_dataset(write_dataset(tmp_path, with_rows("repeaters", ["R09", "C999", 53.3, -6.4, "", "", 300, "", ""])))
    assert reasons(ds, "repeaters") == {"R09": "donor_cell_id 'C999' is not in cells"}


def test_transport_cycle_and_unknown_parent(tmp_path):
    data = with_rows("transport", ["AGG1", "aggregation", "AGG2", "", "", ""], ["AGG2", "aggregation", "AGG1", "", "", ""],
                     ["HUB7", "hub", "AGG1", "", "", ""], ["HUB8", "hub", "NOPE", "", "", ""],
                     ["HUB9", "hub", "HUB9", "", "", ""])
    ds = load_dataset(write_dataset(tmp_path, data))
    got = reasons(ds, "transport")
    assert got["AGG1"] in ("transport parent cycle AGG1>AGG2>AGG1", "transport parent cycle AGG2>AGG1>AGG2")
    assert got["AGG2"] == got["AGG1"]
    assert got["HUB7"] == "parent_id 'AGG1' is in transport but that row was rejected"
    assert got["HUB8"] == "parent_id 'NOPE' is not in transport"
    assert got["HUB9"] == "parent_id is the node itself (a cycle)"
    assert set(ds["transport"]["node_id"]) == {"CORE1", "HUB1", "HUB2"}


EVENT_HEADER = TINY["events"][0]


@pytest.mark.parametrize("row, expected", [
    (["E9", "C001", "fault", "major", "2026-11-02T10:00:00Z", "2026-11-02T09:00:00Z", "", "", "", ""],
     "end_time 2026-11-02T09:00:00+00:00 is before start_time 2026-11-02T10:00:00+00:00"),
    (["E9", "X404", "fault", "major", "2026-11-02T10:00:00Z", "", "", "", "", ""],
     "element_id 'X404' is not a site, cell, repeater or transport node"),
    (["E9", "C001", "explosion", "major", "2026-11-02T10:00:00Z", "", "", "", "", ""],
     "event_type 'explosion' is not one of fault, interference, shutdown, relocation"),
    (["E9", "C001", "fault", "huge", "2026-11-02T10:00:00Z", "", "", "", "", ""],
     "severity 'huge' is not one of critical, major, minor, warning"),
    (["E9", "C001", "fault", "major", "", "", "", "", "", ""], "missing start_time"),
    (["E9", "S001", "relocation", "major", "2026-11-02T10:00:00Z", "", "", "", "", ""],
     "relocation needs prev_lat and prev_lon (where the element stood before)"),
    (["E1", "C001", "fault", "major", "2026-11-02T10:00:00Z", "", "", "", "", ""],
     "duplicate event_id 'E1' (first at row 1); the first row is kept"),
])
def test_event_rejections(tmp_path, row, expected):
    ds = load_dataset(write_dataset(tmp_path, with_rows("events", row)))
    assert reasons(ds, "events") == {row[0]: expected}


def test_relocation_of_a_dismantled_element_is_kept(tmp_path):
    data = with_rows("events", ["E9", "S404", "relocation", "major", "2026-11-02T10:00:00Z", "", "", 53.3, -6.41, "dismantled"])
    data.update(with_rows("sites", ["S405", "gone", "", "", "HUB1", "", ""]))
    data["events"][1].append(["E10", "S405", "relocation", "major", "2026-11-02T10:00:00Z", "", "", 53.31, -6.42, "moved"])
    ds = load_dataset(write_dataset(tmp_path, data))
    assert ds.rejected.empty
    assert {"E9", "E10"} <= set(ds["events"]["event_id"])


@pytest.mark.parametrize("row, expected", [
    (["C999", "2026-11-02T09:00:00Z", 60, 40, 20, -115, 30], "cell_id 'C999' is not in cells"),
    (["C001", "2026-11-02T10:00:00Z", 60, "n/a", 20, -115, 30], "prb_dl_pct 'n/a' is not a number"),
    (["C001", "2026-11-02T10:00:00Z", 60, 140, 20, -115, 30], "prb_dl_pct 140 is outside [0, 100]"),
    (["C001", "2026-11-02T10:00:00Z", 0, 40, 20, -115, 30], "period_min 0 is outside (0, 44640]"),
    (["C001", "2026-11-02T10:00:00Z", 7.5, 40, 20, -115, 30], "period_min 7.5 is not a whole number"),
    (["C001", "soon", 60, 40, 20, -115, 30], "timestamp 'soon' is not an ISO 8601 timestamp"),
    (["C001", "2026-11-02T10:00:00Z", 60, 40, 20, -115, -3], "users -3 is outside >= 0"),
])
def test_load_rejections(tmp_path, row, expected):
    ds = load_dataset(write_dataset(tmp_path, with_rows("load", row)))
    rej = ds.rejected[ds.rejected["table"] == "load"]
    assert rej["reason"].tolist() == [expected]
    assert rej["row"].tolist() == [4]
    assert len(ds["load"]) == 3


def test_every_input_row_is_accepted_or_rejected(tmp_path):
    data = with_rows("complaints", complaint("B1", lat=""), complaint("B2", category="?"), complaint("K002"))
    data.update(with_rows("cells", ["C100", "S999", "LTE", 1800, 0, 65, 500, ""]))
    ds = load_dataset(write_dataset(tmp_path, data))
    for row in ds.stats.itertuples():
        assert row.read == row.accepted + row.rejected, row.table


def test_missing_required_column_is_an_input_error(tmp_path):
    header, rows = TINY["sites"]
    data = {"sites": ([h for h in header if h != "lat"], [[v for h, v in zip(header, r) if h != "lat"] for r in rows])}
    with pytest.raises(InputError, match=r"sites.csv: missing required column `lat` \(table `sites`\)"):
        load_dataset(write_dataset(tmp_path, data))


def test_missing_required_table_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match=r"required table `cells` not found in .*cells.csv"):
        load_dataset(write_dataset(tmp_path, skip=("cells",)))


def test_optional_tables_may_be_absent(tmp_path):
    ds = load_dataset(write_dataset(tmp_path, skip=("repeaters", "transport", "events", "load")))
    # sites referencing transport now have nowhere to hang: each says so
    assert set(reasons(ds, "sites").values()) == {"transport_id 'HUB1' is not in transport", "transport_id 'HUB2' is not in transport"}
    assert ds["events"].empty and "start_time" in ds["events"].columns
