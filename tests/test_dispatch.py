"""Dispatch lists: a field team's visits in a short route, as a user (and a printer) meets them."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import TINY, copied_store, write_dataset
from netdiag.data.coords import haversine_m
from netdiag.data.dataset import load_dataset
from netdiag.errors import InputError, OutputExistsError
from netdiag.pipeline import diagnose
from netdiag.settings import Settings
from netdiag.tickets.dispatch import (
    map_links,
    order_route,
    path_length,
    plan_dispatch,
    read_customer_numbers,
    reveal_customers,
    route_stops,
    stop_places,
    what_to_test,
)
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
    assert "13900000000" not in csv_path.read_text(encoding="utf-8-sig") and "*******0000" in table["complaints"].iloc[0] + \
        "".join(table["complaints"])
    # self-contained: the only web addresses are links a tester taps, nothing is loaded with the page
    assert "http://" not in page
    assert page.count("https://") == page.count('<a href="https://uri.amap.com/marker?') == len(plan.stops)
    assert not re.search(r"""\s(?:src|srcset|action)\s*=|<link\b|@import|url\(""", page)
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


# ----------------------------------------------------------------------------- issue #16 point 5: the place and the customer
SHENZHEN = (22.5431, 114.0579)


def test_each_stop_is_in_wgs84_and_gcj02_and_gcj02_is_offset_only_in_china():
    stops = pd.DataFrame({"ticket_id": ["TS-CN", "TS-IE"], "lat": [SHENZHEN[0], 53.35], "lon": [SHENZHEN[1], -6.40],
                          "place": ["near site S9 福田 (Futian)", "near site S001 Lucan North (West)"],
                          "region": ["Futian", "West"]})
    where = stop_places(stops)
    cn, ie = where.iloc[0], where.iloc[1]
    assert (cn["lat_wgs84"], cn["lon_wgs84"]) == SHENZHEN
    offset = haversine_m(cn["lon_wgs84"], cn["lat_wgs84"], cn["lon_gcj02"], cn["lat_gcj02"])
    assert 200 < offset < 800  # what a Chinese map app shows, a few hundred metres from the GPS position
    assert (ie["lat_gcj02"], ie["lon_gcj02"]) == (ie["lat_wgs84"], ie["lon_wgs84"]) == (53.35, -6.4)  # no offset outside China
    assert cn["map_wgs84"] == "geo:22.543100,114.057900"
    assert cn["map_gcj02"] == (f"https://uri.amap.com/marker?position={cn['lon_gcj02']:.6f},{cn['lat_gcj02']:.6f}"
                               "&name=TS-CN&src=netdiag&coordinate=gaode&callnative=1")
    assert (cn["nearest_site_id"], cn["nearest_site_name"], cn["district"]) == ("S9", "福田", "Futian")


def test_a_map_link_carries_only_the_name_given_and_encodes_it():
    geo, amap = map_links(1.5, 2.5, 1.5, 2.5, 'TS-1 "><script>&x=1')
    assert geo == "geo:1.500000,2.500000"
    assert amap.endswith("&name=TS-1%20%22%3E%3Cscript%3E%26x%3D1&src=netdiag&coordinate=gaode&callnative=1")


def test_the_list_shows_both_positions_labelled_with_links_and_the_landmark(store, tmp_path):
    plan = plan_dispatch(store, "field-West", date=DAY, start=START)
    s = plan.stops
    assert (s["lat_wgs84"] == s["lat"].round(6)).all() and (s["lat_gcj02"] == s["lat_wgs84"]).all()  # Dublin
    assert s["map_gcj02"].str.startswith("https://uri.amap.com/marker?position=").all()
    assert (s["nearest_site_id"] == "S001").all() and (s["nearest_site_name"] == "Lucan North").all()
    assert (s["district"] == "West").all()
    csv_path, html_path = write_dispatch(plan, tmp_path / "out")
    table = pd.read_csv(csv_path, encoding="utf-8-sig", dtype=str)
    for col in ("lat_wgs84", "lon_wgs84", "lat_gcj02", "lon_gcj02", "map_wgs84", "map_gcj02", "nearest_site_id",
                "nearest_site_name", "district"):
        assert table[col].notna().all(), col
    assert table["map_wgs84"].iloc[0] == f"geo:{s['lat'].iloc[0]:.6f},{s['lon'].iloc[0]:.6f}"
    page = html_path.read_text(encoding="utf-8")
    first = s.iloc[0]
    assert f"WGS-84 {first['lat']:.6f}, {first['lon']:.6f}" in page and "GCJ-02 " in page
    assert (f'<a href="geo:{first["lat"]:.6f},{first["lon"]:.6f}" target="_blank" rel="noopener noreferrer">'
            in page)
    amap = first["map_gcj02"].replace("&", "&amp;")
    assert f'<a href="{amap}" target="_blank" rel="noopener noreferrer">高德地图 AMap</a>' in page
    assert "nearest site Lucan North (S001) &middot; district West" in page


def test_hostile_names_stay_text_on_the_list_and_the_map(store, tmp_path):
    plan = plan_dispatch(store, "field-West", date=DAY, start=START)
    hostile = '<img src=x onerror=alert(1)>"'
    plan.stops.loc[0, ["place", "nearest_site_name", "district"]] = [hostile, hostile, "=cmd|' /C calc'!A0"]
    csv_path, html_path, map_path = write_dispatch(plan, tmp_path / "out", route_map=True)
    page = html_path.read_text(encoding="utf-8")
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;&quot;" in page
    table = pd.read_csv(csv_path, encoding="utf-8-sig", dtype=str)
    assert table["district"].iloc[0] == "'=cmd|' /C calc'!A0"  # neutralised like every CSV cell
    assert table["nearest_site_name"].iloc[0] == hostile
    map_page = map_path.read_text(encoding="utf-8")
    assert "<img src=x onerror=alert(1)>" not in map_page
    layers = [json.loads(x.replace("\\u003c", "<").replace("\\u003e", ">").replace("\\u0026", "&"))
              for x in re.findall(r"netdiag\.layer\((\{.*?\})\);\n", map_page)]
    stop = next(f for layer in layers if layer["cls"] == "nd-stop" for f in layer["data"]["features"]
                if f["properties"].get("n") == 1)
    assert hostile in stop["properties"]["p"]  # drawn as text by netdiag-map.js
    assert [a[1] for a in stop["properties"]["a"]] == [plan.stops["map_wgs84"].iloc[0], plan.stops["map_gcj02"].iloc[0]]
    labels = next(layer for layer in layers if layer["cls"] == "nd-stop")["labels"]
    assert "WGS-84 (lat, lon)" in labels and "GCJ-02 (lat, lon)" in labels


def _reveal_history(address):
    with TicketStore(address, create=False) as s:
        tickets = s.tickets(kind="field_test")["ticket_id"].tolist()
        return {t: [h for h in rows if h["event"] == "customer_revealed"] for t, rows in s.history(tickets).items()}


def test_numbers_are_revealed_only_on_the_teams_list_with_the_setting_and_each_reveal_is_in_the_history(address, db, tmp_path):
    from netdiag.cli.main import cli

    data = str(Path(db).parent / "data")
    runner = CliRunner()
    base = ["dispatch", "--team", "field-West", "--date", DAY, "--db", address]
    # refused without the setting, with it set false, without --data, without --out: nothing revealed or recorded
    for pre, extra, message in (
            ([], ["--data", data, "--out", str(tmp_path / "a")],
             "--reveal-customers is refused: the setting dispatch_reveal_customer is false"),
            (["--set", "dispatch_reveal_customer=false"], ["--data", data, "--out", str(tmp_path / "a")],
             "--reveal-customers is refused"),
            (["--set", "dispatch_reveal_customer=true"], ["--out", str(tmp_path / "a")],
             "--reveal-customers needs --data DATA_DIR, the data folder the complaints came from"),
            (["--set", "dispatch_reveal_customer=true"], ["--data", data],
             "--reveal-customers shows the numbers only on the team's list files: give --out")):
        res = runner.invoke(cli, pre + base + ["--reveal-customers"] + extra)
        assert res.exit_code == 2 and message in res.output, res.output
    assert not (tmp_path / "a").exists()
    assert not any(_reveal_history(address).values())
    res = runner.invoke(cli, base + ["--data", data])
    assert res.exit_code == 2 and "--data is read only with --reveal-customers" in res.output
    # another folder (here a copy: the same numbers) is not the one the store's runs read: nothing is revealed
    import shutil

    other = shutil.copytree(data, tmp_path / "elsewhere")
    res = runner.invoke(cli, ["--set", "dispatch_reveal_customer=true"] + base + [
        "--reveal-customers", "--data", str(other), "--out", str(tmp_path / "o")], catch_exceptions=False)
    assert res.exit_code == 0 and "every number stays masked" in res.output, res.output
    assert "1390000" not in (tmp_path / "o" / f"dispatch_field-West_{DAY}.csv").read_text(encoding="utf-8-sig")
    assert not any(_reveal_history(address).values())

    res = runner.invoke(cli, ["--set", "dispatch_reveal_customer=true"] + base + [
        "--reveal-customers", "--data", data, "--who", "li.wei", "--out", str(tmp_path / "d")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "13900000000" not in res.output  # not on the screen
    assert f"customer numbers shown for {len(SPOTS)} complaint(s) of {len(SPOTS)} ticket(s)" in res.output
    out = tmp_path / "d"
    csv_text = (out / f"dispatch_field-West_{DAY}.csv").read_text(encoding="utf-8-sig")
    page = (out / f"dispatch_field-West_{DAY}.html").read_text(encoding="utf-8")
    for i in range(len(SPOTS)):
        assert f"1390000{i:04d}" in csv_text and f"1390000{i:04d}" in page
    assert "customer numbers shown for this team only" in page
    map_page = (out / f"dispatch_field-West_{DAY}_map.html").read_text(encoding="utf-8")
    assert "13900000000" not in map_page and "*******0000" in map_page.replace("\\u002a", "*")  # the map stays masked
    history = _reveal_history(address)
    revealed = {t: h for t, h in history.items() if h}
    assert len(revealed) == len(SPOTS)  # every listed ticket, not LATER (not on the list)
    for rows in revealed.values():
        (row,) = rows
        assert row["who"] == "li.wei" and row["at"].startswith("20")
        assert row["why"].startswith(f"dispatch list for field-West on {DAY}: number(s) of F")
        assert "1390000" not in row["why"]
    # elsewhere the store and other commands' files stay masked
    with TicketStore(address, create=False) as s:
        assert "13900000000" not in " ".join(s.complaints(list(revealed))["customer"])
    f00 = next(t for t, rows in revealed.items() if "F00" in rows[0]["why"])
    res = runner.invoke(cli, ["tickets", "show", f00, "--db", address], catch_exceptions=False)
    assert res.exit_code == 0 and "customer_revealed" in res.output and "li.wei" in res.output, res.output
    assert "13900000000" not in res.output and "*******0000" in res.output


def test_reveal_needs_the_setting_and_matching_numbers_and_is_undone_when_the_list_cannot_be_written(
        store, address, tmp_path, monkeypatch):
    plan = plan_dispatch(store, "field-West", date=DAY, start=START)
    numbers = {"F00": "13900000000", "F01": "13811112222", "F02": "*******0002"}  # F01 and F02 are not the store's numbers
    with pytest.raises(InputError, match="`reveal_customers` is refused: the setting dispatch_reveal_customer is false"):
        reveal_customers(plan, numbers, settings=Settings())
    shown = reveal_customers(plan, numbers, settings=Settings(dispatch_reveal_customer=True))
    assert [ids for ids in shown.reveals.values()] == [["F00"]]
    assert "13900000000" in "".join(shown.revealed.values()) and "13900000000" not in " ".join(shown.stops["complaints"])
    with pytest.raises(InputError, match="with the ticket store that records each reveal"):
        write_dispatch(shown, tmp_path / "x")

    import netdiag.views.dispatch_list as dl

    def broken(path, text):
        path.write_text("partial")
        raise OSError(28, "No space left on device", str(path))
    monkeypatch.setattr(dl, "write_text", broken)
    with pytest.raises(OSError, match="No space left"):
        write_dispatch(shown, tmp_path / "x", store=store, who="li.wei")
    assert not any(_reveal_history(address).values())  # rolled back with the list
    assert not any((tmp_path / "x").iterdir())  # and no half-written list with the numbers is left


def test_customer_numbers_are_read_from_the_data_folder_for_the_listed_complaints_only(db, tmp_path):
    data = Path(db).parent / "data"
    assert read_customer_numbers(data, ["F03", "F07", "NOPE"]) == {"F03": "13900000003", "F07": "13900000007"}
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="holds no complaints table"):
        read_customer_numbers(empty, ["F03"])


def test_the_route_never_makes_an_urgent_visit_late_to_save_a_kilometre():
    """Issue #16, point 4: on a line of stops from the depot, the shortest order reaches the far
    urgent one last, hours after its due time; the order for the day goes there first, makes
    every visit on time, and only then is as short as it can be."""
    from netdiag.tickets.dispatch import lateness, order_for_due_times

    km = np.array([0.0, 1.0, 2.0, 3.0, 10.0])                 # depot, three near stops, the urgent one far out
    dist = np.abs(km[:, None] - km[None, :]) * 1000
    due = np.array([np.nan, 600.0, 600.0, 600.0, 40.0])       # minutes from leaving: the far one within 40 min
    weight = np.array([0.0, 1.0, 1.0, 1.0, 8.0])
    shortest = order_route(dist, start=0)
    assert shortest == [0, 1, 2, 3, 4]
    kw = dict(speed_kmh=25.0, visit_min=30.0, depot=True)
    assert lateness(shortest, dist, due, weight, **kw)[0] == 8.0   # the urgent visit is late on the shortest route
    best = order_for_due_times(shortest, dist, due, weight, **kw)
    late, minutes, length = lateness(best, dist, due, weight, **kw)
    assert best[:2] == [0, 4] and late == 0 and minutes == 0
    assert length == min(lateness([0, 4] + list(rest), dist, due, weight, **kw)[2]
                         for rest in ([1, 2, 3], [3, 2, 1], [2, 1, 3], [1, 3, 2], [2, 3, 1], [3, 1, 2]))
    # a visit no order can make on time (due before the team can get there) is reported, not hidden
    due[4] = 5.0
    best = order_for_due_times(shortest, dist, due, weight, **kw)
    assert best[1] == 4 and lateness(best, dist, due, weight, **kw)[0] == 8.0


def test_a_small_day_is_ordered_by_trying_every_order():
    """A case a local search got wrong (an adversarial review): the urgent visits due first must not be
    sacrificed for one ordinary visit; with every order tried, only the ordinary one is late."""
    from netdiag.tickets.dispatch import lateness, order_for_due_times

    lat = np.array([22.54353, 22.59256, 22.5639, 22.5105, 22.54191])
    lon = np.array([114.04666, 114.00139, 114.09614, 114.09162, 114.01015])
    dist = np.array([[haversine_m(a, b, c, d) for c, d in zip(lat, lon)] for a, b in zip(lat, lon)])
    due = np.array([np.nan, 133.0, 75.0, 51.0, 66.0])
    weight = np.array([0.0, 8.0, 1.0, 8.0, 8.0])
    kw = dict(speed_kmh=25.0, visit_min=30.0, depot=True)
    best = order_for_due_times(order_route(dist, start=0), dist, due, weight, **kw)
    assert lateness(best, dist, due, weight, **kw)[:1] == (1.0,)  # only the weight-1 visit is late
