"""Hotspots on a grid, repeat complaints and the period helpers, on the tiny network.

S001 (sectors 0/120/240 degrees, 1 km) sits behind HUB1, which is down 2026-11-02 10:00-14:00Z;
C005 (S003, 90 degrees) has raised uplink noise 09:00-10:00Z that day.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import shapely

from conftest import BASE_LAT, BASE_LON, TINY, write_dataset
from netdiag.data.dataset import load_dataset
from netdiag.data.times import parse_time
from netdiag.errors import InputError
from netdiag.pipeline import diagnose
from netdiag.views.hotspots import grid_index, grid_polygons, hotspot_table, hotspots, repeat_complaints


def offset(lat, lon, north_m, east_m):
    return lat + north_m / 111_320, lon + east_m / (111_320 * math.cos(math.radians(lat)))


NORTH = offset(BASE_LAT, BASE_LON, 500, 0)       # in C001's wedge, 500 m north of S001
EAST = offset(BASE_LAT, BASE_LON + 0.04, 0, 400)  # in C005's wedge
FAR = offset(BASE_LAT, BASE_LON + 0.04, 9000, 0)  # served by nothing


def row(cid, where, occurred, customer, *, dn=0.0):
    lat, lon = offset(*where, dn, 0)
    return [cid, occurred, occurred, round(lat, 7), round(lon, 7), "wgs84", "no_signal", "", "app", customer, "", "test"]


COMPLAINTS = [
    row("N1", NORTH, "2026-11-02T11:00:00Z", "13800000001"),
    row("N2", NORTH, "2026-11-02T11:30:00Z", "13800000002", dn=10),
    row("N3", NORTH, "2026-11-02T12:00:00Z", "13800000003", dn=-10),
    row("N4", NORTH, "2026-11-02T12:30:00Z", "13800000001", dn=20),   # customer 1 again, same place
    row("N5", NORTH, "2026-11-09T12:00:00Z", "13900000009", dn=5),    # a week later, same place
    row("E1", EAST, "2026-11-02T09:10:00Z", "13700000001"),
    row("E2", EAST, "2026-11-02T09:40:00Z", "13700000002", dn=300),
    row("F1", FAR, "2026-11-10T08:00:00Z", "13800000001"),            # customer 1, 8 days on, far away
    row("L1", FAR, "2026-12-20T08:00:00Z", "13700000001"),            # customer of E1, 48 days on
]


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    header, _ = TINY["complaints"]
    ds = load_dataset(write_dataset(tmp_path_factory.mktemp("hot"), {"complaints": (header, COMPLAINTS)}))
    assert ds.rejected.empty, ds.rejected
    return diagnose(ds)


def test_the_setup_diagnoses_as_expected(result):
    cause = result.diagnoses.set_index("complaint_id")["cause"]
    assert list(cause[["N1", "N2", "N3", "N4", "E1", "F1"]]) == ["fault"] * 4 + ["interference", "coverage_hole"]


@pytest.mark.parametrize("grid", ["hex", "square"])
def test_every_point_falls_in_its_grid_cell(grid):
    rng = np.random.default_rng(3)
    x, y = rng.uniform(-5000, 5000, 3000), rng.uniform(-5000, 5000, 3000)
    i, j = grid_index(x, y, 400.0, grid)
    cells = grid_polygons(i, j, 400.0, grid)
    assert shapely.covers(cells, shapely.points(x, y)).all()
    area = 400.0 ** 2 * (math.sqrt(3) / 2 if grid == "hex" else 1)
    assert np.allclose(shapely.area(cells), area)


def test_hotspots_are_ranked_with_cause_cells_and_trend(result):
    start, end = parse_time("2026-11-02"), parse_time("2026-11-11")
    hs = hotspots(result, start=start, end=end)
    top = hs.iloc[0]
    assert (top["rank"], top["complaints"], top["dominant_cause"]) == (1, 5, "fault")
    assert top["dominant_share"] == pytest.approx(0.8)
    assert top["causes"] == "fault 4; no_fault_found 1"
    assert top["cells"].startswith("C001 (5)")
    assert top["elements"] == "HUB1 (4)"
    # period 2 to 11 November: the middle is 6 November 12:00, so 4 before and 1 after
    assert (top["first_half"], top["second_half"], top["trend"], top["trend_pct"]) == (4, 1, "falling", -75)
    assert top["repeat_complaints"] == 4  # N2-N5 repeat N1 (place); N4 also by customer
    # every complaint of the period is in exactly one cell; L1 (December) is outside
    assert hs["complaints"].sum() == 8
    assert hs["rank"].tolist() == list(range(1, len(hs) + 1))
    assert hs.crs == result.network.ds.crs
    assert "geometry" not in hotspot_table(hs).columns


def test_hotspot_cell_size_comes_from_settings(result):
    big = result.network.settings.with_overrides({"hotspot_cell_m": "20000"})
    hs = hotspots(result, settings=big, grid="square")
    assert len(hs) <= 2 and hs["complaints"].sum() == len(result.diagnoses)


def test_unknown_grid_is_an_input_error(result):
    with pytest.raises(InputError, match="`grid` was 'round' but is expected to be one of hex, square"):
        hotspots(result, grid="round")


def test_repeat_complaints_by_customer_and_place(result):
    rep = repeat_complaints(result).set_index("complaint_id")
    assert not rep.loc["N1", "repeat"]
    assert (rep.loc["N2", "repeat_by"], rep.loc["N2", "repeat_of"]) == ("place", "N1")
    assert (rep.loc["N4", "repeat_by"], rep.loc["N4", "repeat_of"]) == ("customer+place", "N1")
    assert (rep.loc["N5", "repeat_by"], rep.loc["N5", "repeat_of"]) == ("place", "N4")
    assert rep.loc["N5", "days_since"] == pytest.approx(6.98, abs=0.01)
    assert (rep.loc["F1", "repeat_by"], rep.loc["F1", "repeat_of"]) == ("customer", "N4")
    assert rep.loc["F1", "distance_m"] > 5000
    assert not rep.loc["E2", "repeat"]          # 300 m apart: not the same place
    assert not rep.loc["L1", "repeat"]          # same customer as E1, but 48 days later
    assert rep.loc["N1", "customer"] == "*******0001"
    assert not rep["customer"].str.contains("13800000001").any()


def test_repeat_window_and_radius_are_settings(result):
    wide = result.network.settings.with_overrides({"repeat_window_days": "60", "repeat_radius_m": "400"})
    rep = repeat_complaints(result, settings=wide).set_index("complaint_id")
    assert (rep.loc["L1", "repeat_by"], rep.loc["L1", "repeat_of"]) == ("customer+place", "E1")  # and F1: same spot, 40 days
    assert rep.loc["E2", "repeat_by"] == "place"


def test_parse_time_reads_naive_times_in_the_time_zone_and_whole_days():
    assert parse_time("2026-11-05T08:00", tz="Asia/Shanghai") == pd.Timestamp("2026-11-05T00:00Z")
    assert parse_time("2026-11-05T08:00+00:00", tz="Asia/Shanghai") == pd.Timestamp("2026-11-05T08:00Z")
    assert parse_time("2026-11-05", end=True) == pd.Timestamp("2026-11-06T00:00Z")
    assert parse_time("2026-11-05T10:00", end=True) == pd.Timestamp("2026-11-05T10:00Z")
    assert parse_time(None) is None
    with pytest.raises(InputError, match="`--at` was 'soon' but is expected to be an ISO 8601 time"):
        parse_time("soon", name="--at")


def test_a_local_time_lost_to_daylight_saving_is_a_clear_error():
    from netdiag.data.times import parse_time
    from netdiag.errors import InputError

    with pytest.raises(InputError, match=r"`--at` was '2026-03-29T01:30', which does not exist or is ambiguous in Europe/Dublin"):
        parse_time("2026-03-29T01:30", tz="Europe/Dublin", name="--at")
