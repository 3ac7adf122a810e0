"""Dispatch lists: a field team's visits in a short route, as a user (and a printer) meets them."""
from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import TINY, copied_store, write_dataset
from netdiag.data.coords import haversine_m
from netdiag.data.dataset import load_dataset
from netdiag.errors import OutputExistsError
from netdiag.pipeline import diagnose
from netdiag.tickets.dispatch import order_route, path_length, plan_dispatch, route_stops, what_to_test
from netdiag.tickets.store import TicketStore
from netdiag.views.dispatch_list import write_dispatch
from test_store import EVENT_HEADER, WARNING, at, complaint

# ten spots around S001 with nothing wrong, more than field_test_radius_m apart, received in a zig-zag order
SPOTS = [("S001", 0, 700), ("S001", 180, 700), ("S001", 60, 700), ("S001", 240, 700), ("S001", 90, 950),
         ("S001", 270, 950), ("S001", 120, 700), ("S001", 300, 700), ("S001", 30, 350), ("S001", 210, 350)]
DAY = "2026-11-05"


def field_complaints():
    rows = []
    for i, (site, bearing, metres) in enumerate(SPOTS):
        rows.append(complaint(f"F{i:02d}", at(site, bearing, metres), f"{DAY}T08:{i:02d}:00Z",
                              customer=f"1390000{i:04d}", category=["call_drop", "slow_data", "weak_signal"][i % 3],
                              description="<script>alert('x')</script> 信号差" if i == 0 else "no service"))
    rows.append(complaint("LATER", at("S001", 150, 400), "2026-11-07T08:00:00Z"))  # opened two days later
    return rows


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    base = tmp_path_factory.mktemp("dispatch")
    data = write_dataset(base / "data", {"complaints": (TINY["complaints"][0], field_complaints()),
                                         "events": (EVENT_HEADER, [WARNING])})
    path = base / "t.db"
    with TicketStore(path) as store:
        res = diagnose(load_dataset(data), store=store)
    assert (res.diagnoses["cause"] == "no_fault_found").all()
    assert res.tickets["team"].eq("field-West").all() and len(res.tickets) == len(SPOTS) + 1
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def address(db, request, tmp_path) -> str:
    """A copy of the store for one test: a SQLite file, then a PostgreSQL schema."""
    return copied_store(db, request, tmp_path)


@pytest.fixture
def store(address):
    with TicketStore(address, create=False) as s:
        yield s


START = (53.34, -6.41)


def test_haversine_and_route_on_a_line_find_the_obvious_order():
    assert haversine_m(0.0, 0.0, 1.0, 0.0) == pytest.approx(111_195, rel=1e-3)
    lon = np.array([0.0, 0.05, 0.01, 0.04, 0.02, 0.03])
    dist = haversine_m(lon[:, None], 0.0, lon[None, :], 0.0)
    path = order_route(dist)
    assert lon[path].tolist() in (sorted(lon.tolist()), sorted(lon.tolist(), reverse=True))
    assert path_length(path, dist) == pytest.approx(dist[0, 1])  # the span, walked once
    assert order_route(dist, start=2)[0] == 2


def test_the_plan_is_a_short_route_from_the_start_with_everything_a_tester_needs(store):
    plan = plan_dispatch(store, "field-West", date=DAY, start=START)
    s = plan.stops
    assert s["order"].tolist() == list(range(1, len(SPOTS) + 1))
    assert "LATER" not in " ".join(s["complaints"])  # opened after the day
    assert plan.route_m < 0.8 * plan.unordered_m
    first = haversine_m(START[1], START[0], s["lon"].iloc[0], s["lat"].iloc[0]) / 1000
    assert s["leg_km"].iloc[0] == pytest.approx(first, abs=0.01)
    assert s["cum_km"].iloc[-1] == pytest.approx(plan.route_m / 1000, abs=0.02)
    assert s["arrive"].iloc[0].startswith(f"{DAY} 09:")  # leaves at dispatch_day_start_h
    f00 = s[s["complaints"].str.contains("F00")].iloc[0]
    assert "call_drop x1" in f00["what_to_test"] and "repeated voice calls" in f00["what_to_test"]
    assert "*******0000" in f00["complaints"] and "13900000000" not in f00["complaints"]
    assert "no alarm, interference or congestion" in f00["evidence"]
    assert "route" in plan.summary() and "km in due-time order" in plan.summary()


def test_the_list_keeps_the_most_urgent_visits_and_skips_waiting_ones(store):
    tickets = store.tickets(kind="field_test").sort_values("due_at")
    store.update(tickets["ticket_id"].iloc[0], status="pending", who="t", why="customer abroad")
    plan = plan_dispatch(store, "field-West", max_stops=4)
    assert len(plan.stops) == 4 and plan.waiting == 1
    assert set(plan.stops["ticket_id"]) == set(tickets["ticket_id"].iloc[1:5])
    assert len(plan.left_over) == len(SPOTS) + 1 - 1 - 4


def test_route_stops_for_the_map(store):
    stops = route_stops(store, "field-West", date=DAY, start="53.34,-6.41")
    assert stops[["order", "ticket_id", "lat", "lon"]].notna().all().all()
    assert stops.attrs["start"] == START and stops.attrs["route_m"] < stops.attrs["unordered_m"]


def test_csv_and_printable_html_are_safe(store, tmp_path):
    plan = plan_dispatch(store, "field-West", date=DAY, start=START)
    csv_path, html_path = write_dispatch(plan, tmp_path / "out")
    assert csv_path.name == f"dispatch_field-West_{DAY}.csv"
    table = pd.read_csv(csv_path, encoding="utf-8-sig")
    assert table["route_km_total"].iloc[0] == pytest.approx(plan.route_m / 1000, abs=0.01)
    assert table["unordered_km_total"].iloc[0] == pytest.approx(plan.unordered_m / 1000, abs=0.01)
    page = html_path.read_text(encoding="utf-8")
    assert "<script" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "信号差" in page
    assert "13900000000" not in page and "*******0000" in page
    assert "http://" not in page and "https://" not in page  # self-contained
    assert f"Route <b>{plan.route_m / 1000:.1f} km</b> against {plan.unordered_m / 1000:.1f} km" in page
    with pytest.raises(OutputExistsError, match="pass `overwrite`"):
        write_dispatch(plan, tmp_path / "out")


def test_what_to_test_reads_the_categories():
    assert what_to_test(["no_signal"], [True]).startswith("no_signal x1 (indoors too): signal presence")
    assert what_to_test(["mystery"], [False]).startswith("other x1: signal level, one voice call")


def test_dispatch_command(address, tmp_path):
    from netdiag.cli.main import cli

    runner = CliRunner()
    res = runner.invoke(cli, ["dispatch", "--team", "field-West", "--date", DAY, "--start", "53.34,-6.41", "--db", address,
                              "--out", str(tmp_path / "d")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    zone, first = res.output.splitlines()[:2]
    assert zone == "Times in UTC."
    assert first.startswith(f"{len(SPOTS)} visits for field-West on {DAY}: route ") and "km in due-time order" in first
    assert (tmp_path / "d" / f"dispatch_field-West_{DAY}.html").exists()
    res = runner.invoke(cli, ["dispatch", "--team", "field-East", "--db", address])
    assert res.exit_code == 2
    assert "--team was 'field-East' but no field-test ticket has that team; teams with field tests: field-West" in res.output
    res = runner.invoke(cli, ["dispatch", "--team", "field-West", "--db", address, "--start", "53.34"])
    assert res.exit_code == 2 and "--start was '53.34' but is expected to be LAT,LON" in res.output
    res = runner.invoke(cli, ["dispatch", "--team", "field-West", "--db", address, "--date", "05/11/2026"])
    assert res.exit_code == 2 and "--date was '05/11/2026' but is expected to be a day like 2026-11-03" in res.output


def test_route_map_draws_every_stop_offline_and_escaped(store, tmp_path):
    plan = plan_dispatch(store, "field-West", date=DAY, start=START)
    paths = write_dispatch(plan, tmp_path / "out", route_map=True)
    assert paths[-1].name == f"dispatch_field-West_{DAY}_map.html"
    page = paths[-1].read_text(encoding="utf-8")
    layers = [json.loads(s.replace("\\u003c", "<").replace("\\u003e", ">").replace("\\u0026", "&"))
              for s in re.findall(r"netdiag\.layer\((\{.*?\})\);\n", page)]
    stops = next(layer for layer in layers if layer["cls"] == "nd-stop")["data"]["features"]
    assert sorted(f["properties"]["n"] for f in stops if "n" in f["properties"]) == list(range(1, len(plan.stops) + 1))
    assert any(layer["cls"] == "nd-route" for layer in layers)
    assert "<script>alert" not in page  # data is embedded as escaped JSON, drawn as text
    assert any("<script>alert('x')</script>" in str(f["properties"]["p"]) for f in stops)
    assert "13900000000" not in page and "*******0000" in page.replace("\\u002a", "*")

    assert not re.search(r"""<(?:script|link|img)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)
    assert "jquery" not in page.lower()  # no folium popups: nothing that builds HTML from data
