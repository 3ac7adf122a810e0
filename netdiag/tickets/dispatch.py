"""Dispatch lists: a field team's visits for the day, ordered into a short route.

A field tester (DOMAIN.md) must reach the complaint spot within a set time, test there and
reply. :func:`plan_dispatch` takes the open field-test tickets of one team from the ticket
store, keeps the most urgent ``dispatch_max_stops`` (earliest due first), and orders them into
a short route on great-circle (haversine) distances:

1. nearest neighbour from the start (or from every stop when no start is given),
2. Christofides' tour (networkx) cut into a path,
3. each improved by 2-opt; the shortest wins.

The route is compared with the *unordered list* (the same stops by due time): both lengths are
reported. Distances are straight lines, so the road distance is longer; the arrival times use
``dispatch_speed_kmh`` and ``dispatch_visit_min``.

Each stop says where it is twice, labelled: ``lat_wgs84, lon_wgs84`` (the inventory's system, GPS)
and ``lat_gcj02, lon_gcj02`` (what Chinese map apps show; equal to WGS-84 outside China), with a
link for each (``map_wgs84``: a ``geo:`` URI, which a phone opens in its map app; ``map_gcj02``: an
AMap 高德 marker URI). Nothing is fetched to make them: the tester's phone opens them. The link
names the ticket only, so no place or customer leaves for the map provider. The landmark is the
ticket's nearest site (``nearest_site_id``, ``nearest_site_name``) and ``district`` (the region);
the data contract has no address column, so a stop carries none (the description is the
customer's own words, not an address).

Customer numbers are masked on every stop. :func:`reveal_customers` makes a copy of a plan whose
CSV and printable page (only those: not the map, the terminal or JSON) show the complainants'
full numbers, when the setting ``dispatch_reveal_customer`` allows it; the numbers come from the
data folder (:func:`read_customer_numbers`: the store keeps masked ones only), and
:func:`netdiag.views.dispatch_list.write_dispatch` writes each reveal to the ticket's history
(``customer_revealed``: who, when, which list) in the transaction that writes the list.

:func:`route_stops` gives the ordered stops as a frame; :mod:`netdiag.views.dispatch_list`
writes the list as CSV, text and a printable page, :mod:`netdiag.views.route_map` as a map.

Examples
--------
>>> from netdiag.tickets.store import TicketStore
>>> with TicketStore("netdiag.db", create=False) as store:             # doctest: +SKIP
...     plan = plan_dispatch(store, "field-Nanshan", date="2026-11-03", start=(22.54, 113.93))
>>> plan.route_m, plan.unordered_m                                       # doctest: +SKIP
(18234.0, 61021.5)
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import networkx as nx
import numpy as np
import pandas as pd

from netdiag.data import coords
from netdiag.data.display import display_zone
from netdiag.data.privacy import mask_customer
from netdiag.data.times import day_start, format_times, parse_day
from netdiag.errors import InputError
from netdiag.settings import Settings

log = logging.getLogger(__name__)

#: statuses of a field-test ticket that go on a dispatch list (pending / held wait for something else)
DISPATCH_STATUSES = ("acknowledged", "inProgress")
TESTS = {
    "no_signal": "signal presence and level (RSRP/SINR), idle camping and attach",
    "weak_signal": "signal level walk test around the spot (RSRP/RSRQ/SINR)",
    "call_drop": "repeated voice calls (10 x 2 min), count drops",
    "slow_data": "download/upload throughput and latency, at the busy hour if possible",
    "other": "signal level, one voice call and one data session",
}
STOP_COLUMNS = ["order", "ticket_id", "priority", "place", "lat", "lon", "lat_wgs84", "lon_wgs84", "lat_gcj02", "lon_gcj02",
                "map_wgs84", "map_gcj02", "nearest_site_id", "nearest_site_name", "district", "due_at", "due", "overdue", "arrive", "late",
                "leg_km", "cum_km", "what_to_test", "evidence", "complaint_count", "complaints", "status", "team"]

#: decimals of a coordinate on a list and in its links (1e-6 degree is about 0.1 m)
COORD_DECIMALS = 6
#: AMap's (高德) web URI for one marked point; the documented parameters are position=LON,LAT, name,
#: src, coordinate (gaode = GCJ-02, wgs84) and callnative (1: open the AMap app on a phone when it is there)
AMAP_MARKER = "https://uri.amap.com/marker"
#: the history event of a customer's number printed on a dispatch list
REVEAL_EVENT = "customer_revealed"


# ----------------------------------------------------------------------------- where a stop is
def map_links(lat_wgs84: float, lon_wgs84: float, lat_gcj02: float, lon_gcj02: float, name: str) -> tuple[str, str]:
    """The links that open a spot in a phone's map app: ``(geo: URI of the WGS-84 position, AMap URI of the GCJ-02 one)``.

    ``name`` is shown by AMap on the marker (percent-encoded here); give something that may leave
    the company, e.g. the ticket id.

    Examples
    --------
    >>> map_links(22.5431, 114.0579, 22.540, 114.063, "TS-1 <b>")
    ('geo:22.543100,114.057900', 'https://uri.amap.com/marker?position=114.063000,22.540000&name=TS-1%20%3Cb%3E&src=netdiag&coordinate=gaode&callnative=1')
    """
    d = COORD_DECIMALS
    return (f"geo:{lat_wgs84:.{d}f},{lon_wgs84:.{d}f}",
            f"{AMAP_MARKER}?position={lon_gcj02:.{d}f},{lat_gcj02:.{d}f}&name={quote(str(name), safe='')}"
            "&src=netdiag&coordinate=gaode&callnative=1")


def nearest_site(place, region) -> tuple[str, str]:
    """``(site id, site name)`` named by a ticket's place text (:func:`netdiag.tickets.grouping.place_text`),
    or ``("", "")`` when it names no site (the store keeps the place as text, not the site's id).

    Examples
    --------
    >>> nearest_site("near site S001 Lucan North (West)", "West"), nearest_site("site S7 (North)", "North")
    (('S001', 'Lucan North'), ('S7', ''))
    >>> nearest_site("cell C001 (West)", "West"), nearest_site("", None)
    (('', ''), ('', ''))
    """
    text = place if isinstance(place, str) else ""
    if isinstance(region, str) and region and text.endswith(f" ({region})"):
        text = text[:-len(region) - 3]
    for prefix in ("near site ", "site "):
        if text.startswith(prefix):
            site_id, _, name = text[len(prefix):].partition(" ")
            return site_id, name
    return "", ""


def stop_places(stops: pd.DataFrame) -> pd.DataFrame:
    """The labelled positions, map links and landmark of stops.

    Parameters
    ----------
    stops : DataFrame
        ``ticket_id``, ``lat``, ``lon`` (WGS-84), ``place`` and ``region``, as the store's tickets.

    Returns
    -------
    DataFrame
        ``lat_wgs84, lon_wgs84, lat_gcj02, lon_gcj02`` (:data:`COORD_DECIMALS` decimals; GCJ-02
        equals WGS-84 outside China), ``map_wgs84, map_gcj02`` (:func:`map_links`, named by the
        ticket id), ``nearest_site_id, nearest_site_name`` (:func:`nearest_site`) and ``district``;
        on ``stops``' index.
    """
    lat = stops["lat"].to_numpy(float)
    lon = stops["lon"].to_numpy(float)
    glon, glat = coords.wgs84_to_gcj02(lon, lat)
    d = COORD_DECIMALS
    out = pd.DataFrame({"lat_wgs84": lat.round(d), "lon_wgs84": lon.round(d),
                        "lat_gcj02": np.asarray(glat, float).round(d), "lon_gcj02": np.asarray(glon, float).round(d)},
                       index=stops.index)
    links = [map_links(*row) for row in zip(out["lat_wgs84"], out["lon_wgs84"], out["lat_gcj02"], out["lon_gcj02"],
                                            stops["ticket_id"])]
    out["map_wgs84"] = [w for w, _ in links]
    out["map_gcj02"] = [g for _, g in links]
    sites = [nearest_site(p, r) for p, r in zip(stops["place"], stops["region"])]
    out["nearest_site_id"] = [s[0] for s in sites]
    out["nearest_site_name"] = [s[1] for s in sites]
    out["district"] = [r if isinstance(r, str) else "" for r in stops["region"]]
    return out


# ----------------------------------------------------------------------------- distances and routes
def _distance_matrix(lat, lon) -> np.ndarray:
    """Pairwise haversine distances (m) of points."""
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    return coords.haversine_m(lon[:, None], lat[:, None], lon[None, :], lat[None, :])


def path_length(path: list[int], dist: np.ndarray) -> float:
    """Length of an open path through ``dist``'s nodes."""
    return float(sum(dist[a, b] for a, b in zip(path[:-1], path[1:])))


def _two_opt(path: list[int], dist: np.ndarray, *, fixed_start: bool) -> list[int]:
    """Improve an open path by reversing segments while that shortens it (the first node stays if fixed)."""
    path = list(path)
    n = len(path)
    improved = True
    while improved:
        improved = False
        for i in range(1 if fixed_start else 0, n - 1):
            a = path[i - 1] if i > 0 else None
            for j in range(i + 1, n):
                b, c = path[i], path[j]
                d = path[j + 1] if j + 1 < n else None
                before = (dist[a, b] if a is not None else 0.0) + (dist[c, d] if d is not None else 0.0)
                after = (dist[a, c] if a is not None else 0.0) + (dist[b, d] if d is not None else 0.0)
                if after < before - 1e-6:
                    path[i:j + 1] = path[i:j + 1][::-1]
                    improved = True
    return path


def _nearest_neighbour(dist: np.ndarray, first: int) -> list[int]:
    left = set(range(len(dist))) - {first}
    path = [first]
    while left:
        here = path[-1]
        nxt = min(left, key=lambda k: (dist[here, k], k))
        path.append(nxt)
        left.remove(nxt)
    return path


def _christofides_paths(dist: np.ndarray, start: int | None) -> list[list[int]]:
    n = len(dist)
    if n < 3:
        return []
    graph = nx.Graph()
    graph.add_weighted_edges_from((i, j, float(dist[i, j])) for i in range(n) for j in range(i + 1, n))
    cycle = nx.approximation.christofides(graph, weight="weight")[:-1]
    if start is not None:
        k = cycle.index(start)
        forward = cycle[k:] + cycle[:k]
        return [forward, [forward[0]] + forward[1:][::-1]]
    # no start: cut the tour at its longest edge
    edges = [(dist[cycle[i], cycle[(i + 1) % n]], i) for i in range(n)]
    _, cut = max(edges)
    path = cycle[cut + 1:] + cycle[:cut + 1]
    return [path]


def order_route(dist: np.ndarray, *, start: int | None = None) -> list[int]:
    """A short open path visiting every node of ``dist`` (beginning at ``start`` when given).

    Parameters
    ----------
    dist : (n, n) array
        Symmetric distances.
    start : int, optional
        The node the path must begin at (the team's depot); free otherwise.

    Returns
    -------
    list of int
        Node indices in visiting order.
    """
    n = len(dist)
    if n <= 2:
        order = list(range(n))
        if start is not None and n == 2 and start == 1:
            order = [1, 0]
        return order
    firsts = [start] if start is not None else list(range(n)) if n <= 60 else [0]
    candidates = [_nearest_neighbour(dist, f) for f in firsts]
    if n <= 200:
        candidates += _christofides_paths(dist, start)
    best, best_len = None, np.inf
    for cand in candidates:
        improved = _two_opt(cand, dist, fixed_start=start is not None)
        length = path_length(improved, dist)
        if length < best_len - 1e-6:
            best, best_len = improved, length
    return best


#: up to this many stops every order is tried (7! = 5,040 orders); beyond, a local search from two starts
EXHAUSTIVE_STOPS = 7
#: how much a late visit weighs against another, by priority (an urgent visit made late to save a kilometre is worse)
LATE_WEIGHT = {"P1": 8.0, "P2": 4.0, "P3": 2.0, "P4": 1.0}


def lateness(path: list[int], dist: np.ndarray, due_min: np.ndarray, weight: np.ndarray, *, speed_kmh: float,
             visit_min: float, depot: bool) -> tuple[float, float, float]:
    """(weighted late visits, weighted minutes late, length) of visiting ``path`` in order.

    The team leaves at minute 0 (from the depot, node ``path[0]``, when ``depot``; else it is at
    the first stop at minute 0), travels at ``speed_kmh`` in straight lines and spends
    ``visit_min`` at each stop; ``due_min`` is each node's due time in minutes from the start
    (NaN: none).
    """
    stops = path[1:] if depot else path
    legs = np.array([dist[a, b] for a, b in zip(path[:-1], path[1:])]) if len(path) > 1 else np.zeros(0)
    if not depot:
        legs = np.r_[0.0, legs]
    arrive = np.cumsum(legs / 1000 / speed_kmh * 60) + visit_min * np.arange(len(stops))
    due = due_min[stops]
    late = np.nan_to_num(np.maximum(arrive - due, 0.0), nan=0.0)
    w = weight[stops]
    return float((w * (late > 0)).sum()), float((w * late).sum()), float(legs.sum())


def order_for_due_times(path: list[int], dist: np.ndarray, due_min: np.ndarray, weight: np.ndarray, *,
                        speed_kmh: float, visit_min: float, depot: bool) -> list[int]:
    """A visiting order that makes as few (and as little) weighted late visits as it can, and is short
    only after that: the route never makes an urgent or overdue visit late to save a kilometre.

    Up to :data:`EXHAUSTIVE_STOPS` stops, every order is tried. Beyond, it starts from the short
    ``path`` and from the visits by due time, and improves each by moving one stop elsewhere or
    reversing a stretch while (late visits, minutes late, length) gets smaller, compared in that
    order: good, not proven best. The depot (``path[0]`` when ``depot``) stays first.
    """
    head = path[:1] if depot else []
    body = path[1:] if depot else list(path)
    if len(body) < 2:
        return list(path)

    def cost(order):
        return lateness(head + order, dist, due_min, weight, speed_kmh=speed_kmh, visit_min=visit_min, depot=depot)

    if len(body) <= EXHAUSTIVE_STOPS:  # every order: the least late one is the least late there is
        import itertools

        best = min((list(order) for order in itertools.permutations(body)), key=cost)
        return head + best
    by_due = sorted(body, key=lambda k: (np.inf if np.isnan(due_min[k]) else due_min[k], -weight[k], k))
    best, best_cost = None, None
    for order in (body, by_due):
        current, current_cost = list(order), cost(order)
        improved = True
        while improved:
            improved = False
            n = len(current)
            for i in range(n):
                for j in range(n):
                    if i == j:
                        continue
                    moved = current[:i] + current[i + 1:]
                    moved.insert(j, current[i])
                    c = cost(moved)
                    if c < current_cost:
                        current, current_cost, improved = moved, c, True
            for i in range(n - 1):
                for j in range(i + 1, n):
                    flipped = current[:i] + current[i:j + 1][::-1] + current[j + 1:]
                    c = cost(flipped)
                    if c < current_cost:
                        current, current_cost, improved = flipped, c, True
        if best_cost is None or current_cost < best_cost:
            best, best_cost = current, current_cost
    return head + best


# ----------------------------------------------------------------------------- the plan
@dataclass
class DispatchPlan:
    """One team's visits for a day, in route order.

    Attributes
    ----------
    stops : DataFrame
        :data:`STOP_COLUMNS`, one row per visit in route order (``order`` from 1).
    route_m, unordered_m : float
        Straight-line length of the route and of the same stops in due-time order (from
        ``start`` when given).
    left_over : DataFrame
        Open visits of the team beyond ``dispatch_max_stops`` (the least urgent), for another day.
    waiting : int
        The team's field-test tickets that are ``pending`` or ``held`` (not on the list).
    """

    team: str
    date: dt.date | None
    start: tuple[float, float] | None
    stops: pd.DataFrame
    route_m: float
    unordered_m: float
    left_over: pd.DataFrame
    waiting: int
    tz: str = "UTC"
    notes: list[str] = field(default_factory=list)
    #: the listed complaints as the store has them (numbers masked), ``_received`` in the display zone
    complaints: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    #: only on a plan from :func:`reveal_customers`: ticket id -> its complaints with the full numbers
    #: (for the team's CSV and printable page), and ticket id -> the complaint ids whose number is shown
    revealed: dict[str, str] = field(default_factory=dict, repr=False)
    reveals: dict[str, list[str]] = field(default_factory=dict, repr=False)

    @property
    def saving_pct(self) -> float:
        """How much shorter the route is than the unordered list (%)."""
        return 0.0 if self.unordered_m <= 0 else 100.0 * (1 - self.route_m / self.unordered_m)

    def path(self) -> list[tuple[float, float]]:
        """``(lat, lon)`` of the route, the start first when given (for drawing a line)."""
        pts = [self.start] if self.start else []
        return pts + list(zip(self.stops["lat"].astype(float), self.stops["lon"].astype(float)))

    @property
    def late(self) -> int:
        """Visits the route reaches after their due time (the order keeps them as few as it can)."""
        return int(self.stops["late"].sum()) if "late" in self.stops else 0

    def summary(self) -> str:
        """One line: stops and route length against the unordered list."""
        return (f"{len(self.stops)} visits for {self.team}" + (f" on {self.date}" if self.date else "")
                + f": route {self.route_m / 1000:.1f} km vs {self.unordered_m / 1000:.1f} km in due-time order "
                  f"({self.saving_pct:.0f}% shorter, straight-line)"
                + (f"; {self.late} late, which no order could avoid" if self.late and len(self.stops) <= EXHAUSTIVE_STOPS
                   else f"; {self.late} late, the fewest the search found" if self.late else "")
                + (f"; {len(self.left_over)} more open visits left for another day" if len(self.left_over) else "")
                + (f"; {self.waiting} pending/held not listed" if self.waiting else ""))


def what_to_test(categories: list, indoor: list) -> str:
    """The tests to run at a stop, from the complaints' categories (and indoor or not).

    Examples
    --------
    >>> what_to_test(["call_drop", "call_drop", "slow_data"], [False, True, False])
    'call_drop x2, slow_data x1 (indoors too): repeated voice calls (10 x 2 min), count drops; download/upload throughput and latency, at the busy hour if possible'
    """
    counts = pd.Series([c if c in TESTS else "other" for c in categories], dtype=object).value_counts()
    what = ", ".join(f"{c} x{n}" for c, n in counts.items())
    inside = any(bool(i) for i in indoor)
    tests = "; ".join(TESTS[c] for c in counts.index)
    return f"{what}{' (indoors too)' if inside else ''}: {tests}"


def plan_dispatch(store, team: str, *, date: str | dt.date | None = None, start: str | tuple[float, float] | None = None,
                  settings: Settings | None = None, max_stops: int | None = None) -> DispatchPlan:
    """The day's visits of one field team, in a short route.

    Parameters
    ----------
    store : TicketStore or path
        The ticket store (a path is opened read-only in spirit: nothing is written).
    team : str
        The team, e.g. ``field-Nanshan`` (as in the tickets' ``team``).
    date : str or date, optional
        ``YYYY-MM-DD`` in the display zone (:func:`~netdiag.data.display.display_zone`): only tickets opened
        before the route starts (``dispatch_day_start_h`` that day), and arrival times from then.
        Default: every open visit.
    start : (lat, lon) or "LAT,LON", optional
        Where the team sets off; the route begins there. Default: wherever makes it shortest.
    settings : Settings, optional
    max_stops : int, optional
        Default ``settings.dispatch_max_stops``.

    Returns
    -------
    DispatchPlan

    Raises
    ------
    InputError
        A bad date or start; a team with no field-test tickets at all (the message lists the
        teams that have some).
    """
    from netdiag.tickets.store import TicketStore

    own = not isinstance(store, TicketStore)
    if own:
        store = TicketStore(store, settings=settings, create=False)
    settings = settings or store.settings
    try:
        return _plan(store, team, parse_day(date), coords.parse_latlon(start), settings, max_stops or settings.dispatch_max_stops)
    finally:
        if own:
            store.close()


def _plan(store, team, day, start, settings, max_stops) -> DispatchPlan:
    tz = display_zone(settings)
    # a visit is booked from the route's start on: only tickets opened by then go on the list
    route_start = day_start(day, tz, hours=settings.dispatch_day_start_h) if day else None
    with store.read() as c:
        all_team = store.tickets(kind="field_test", team=team, conn=c)
        if all_team.empty:
            teams = [r[0] for r in c.execute("SELECT DISTINCT team FROM tickets WHERE kind = 'field_test' ORDER BY team")]
            raise InputError(f"`team` was {team!r} but no field-test ticket has that team; teams with field tests: "
                             f"{', '.join(teams) if teams else 'none yet (the store has no field-test tickets)'}")
        if route_start is not None:
            all_team = all_team[all_team["created_at"] <= route_start]
        waiting = int(all_team["status"].isin(["pending", "held"]).sum())
        todo = all_team[all_team["status"].isin(DISPATCH_STATUSES)]
        todo = todo.assign(_p=todo["priority"].str.slice(1).astype(int)).sort_values(["due_at", "_p", "ticket_id"], kind="stable")
        chosen, left_over = todo.head(max_stops).drop(columns="_p"), todo.iloc[max_stops:].drop(columns="_p")
        complaints = store.complaints(chosen["ticket_id"].tolist(), conn=c)
    chosen = chosen.reset_index(drop=True)
    n = len(chosen)
    lat, lon = chosen["lat"].to_numpy(float), chosen["lon"].to_numpy(float)
    if start:
        dist = _distance_matrix(np.r_[start[0], lat], np.r_[start[1], lon])
        nodes = order_route(dist, start=0) if n else []
    else:
        dist = _distance_matrix(lat, lon)
        nodes = order_route(dist) if n else []
    if day and n:  # due times known against the day's start: lateness first, then length
        t0 = day_start(day, tz, hours=settings.dispatch_day_start_h)
        due = ((pd.to_datetime(chosen["due_at"], utc=True) - t0).dt.total_seconds() / 60).to_numpy(float)
        weight = chosen["priority"].map(LATE_WEIGHT).fillna(1.0).to_numpy(float)
        if start:
            due, weight = np.r_[np.nan, due], np.r_[0.0, weight]
        nodes = order_for_due_times(nodes, dist, due, weight, speed_kmh=settings.dispatch_speed_kmh,
                                    visit_min=settings.dispatch_visit_min, depot=bool(start))
    if start:
        path = [k - 1 for k in nodes[1:]]
        unordered = path_length(list(range(n + 1)), dist)
        route = path_length([0] + [k + 1 for k in path], dist)
        legs = [dist[a, b] for a, b in zip([0] + [k + 1 for k in path][:-1], [k + 1 for k in path])]
    else:
        path = nodes
        unordered = path_length(list(range(n)), dist)
        route = path_length(path, dist)
        legs = ([0.0] if path else []) + [dist[a, b] for a, b in zip(path[:-1], path[1:])]
    stops = chosen.iloc[path].reset_index(drop=True)
    complaints = complaints.assign(_received=format_times(complaints["received_at"], tz).to_numpy(dtype=object))
    stops = _describe(stops, complaints, np.asarray(legs, float), day, settings)
    plan = DispatchPlan(team, day, start, stops, float(route), float(unordered), left_over.reset_index(drop=True), waiting, tz,
                        complaints=complaints)
    log.info("dispatch %s: %s", team, plan.summary())
    return plan


def _describe(stops: pd.DataFrame, complaints: pd.DataFrame, legs: np.ndarray, day, settings: Settings) -> pd.DataFrame:
    tz = display_zone(settings)
    out = pd.DataFrame({"order": np.arange(1, len(stops) + 1)})
    for col in ("ticket_id", "priority", "place", "lat", "lon", "due_at", "evidence", "complaint_count", "status", "team"):
        out[col] = stops[col].to_numpy()
    out = out.join(stop_places(stops.reset_index(drop=True)))
    out["leg_km"] = (legs / 1000).round(2)
    out["cum_km"] = (np.cumsum(legs) / 1000).round(2)
    # arrival: leave at the day's start, travel at dispatch_speed_kmh, test dispatch_visit_min at each stop
    travel_min = legs / 1000 / settings.dispatch_speed_kmh * 60
    arrive_min = np.cumsum(travel_min) + settings.dispatch_visit_min * np.arange(len(stops))
    if day:
        t0 = day_start(day, tz, hours=settings.dispatch_day_start_h)
        arrive = pd.Series(t0 + pd.to_timedelta(np.asarray(arrive_min, float), unit="min"))
        out["arrive"] = format_times(arrive, tz).to_numpy(dtype=object)
        out["late"] = (arrive.dt.tz_convert("UTC").to_numpy() > pd.to_datetime(out["due_at"], utc=True).to_numpy()) \
            if len(out) else []
        now = t0
    else:
        out["arrive"] = [f"+{int(m // 60)}:{int(m % 60):02d}" for m in arrive_min]
        out["late"] = False
        now = pd.Timestamp.now(tz="UTC")
    out["due"] = format_times(out["due_at"], tz).to_numpy(dtype=object)
    out["overdue"] = (pd.to_datetime(out["due_at"], utc=True) < now).to_numpy() if len(out) else []
    per = {tid: g for tid, g in complaints.groupby("ticket_id", sort=False)}
    tests, listed = [], []
    for tid in out["ticket_id"]:
        g = per.get(tid, complaints.iloc[0:0])
        tests.append(what_to_test(g["category"].tolist(), g["indoor"].tolist()))
        listed.append(_complaint_lines(g))
    out["what_to_test"] = tests
    out["complaints"] = listed
    return out[STOP_COLUMNS]


def _complaint_lines(rows: pd.DataFrame, numbers: dict[str, str] | None = None) -> str:
    """One line per complaint of a stop: id, received, category, customer (masked, or from ``numbers``), ..."""
    numbers = numbers or {}
    return "\n".join(
        f"{r['complaint_id']} {r['_received']} {r['category'] or ''}"
        + (f" {numbers.get(r['complaint_id']) or r['customer']}" if r["customer"] else "")
        + (" indoor" if r["indoor"] else "") + (" VIP" if r["vip"] else "")
        + (f": {r['description']}" if r["description"] else "")
        for r in rows.to_dict("records"))


# ----------------------------------------------------------------------------- customers' numbers
def read_customer_numbers(data_dir: str | Path, complaint_ids) -> dict[str, str]:
    """The full customer numbers of some complaints, from the data folder they were read from.

    The ticket store keeps masked numbers only; this reads the folder's ``complaints`` table and
    keeps the numbers of ``complaint_ids`` alone (nothing else is returned or logged).

    Parameters
    ----------
    data_dir : str or Path
        The data folder (``--data``) holding ``complaints`` (CSV, Parquet, GeoJSON or GeoPackage).
    complaint_ids : iterable of str

    Returns
    -------
    dict
        complaint id -> number, for those of ``complaint_ids`` the table gives one.

    Raises
    ------
    InputError
        When the folder has no complaints table or it cannot be read.
    """
    from netdiag.data.read import find_table, read_source

    source = find_table(data_dir, "complaints")
    if source is None:
        raise InputError(f"`data` was {str(data_dir)!r} but it holds no complaints table (complaints.csv, .parquet, "
                         ".geojson or a layer of network.gpkg) to take the customers' numbers from")
    raw = read_source(source)
    if "complaint_id" not in raw.columns or "customer_id" not in raw.columns:
        return {}
    wanted = set(map(str, complaint_ids))
    ids = raw["complaint_id"].astype(str).str.strip()
    rows = raw.loc[ids.isin(wanted).to_numpy(), "customer_id"]
    numbers = {}
    for cid, number in zip(ids[rows.index], rows):
        text = "" if number is None or (isinstance(number, float) and np.isnan(number)) else str(number).strip()
        if text and cid not in numbers:
            numbers[cid] = text
    return numbers


def check_reveal_allowed(settings: Settings) -> None:
    """Refuse to show customers' numbers unless the setting ``dispatch_reveal_customer`` is true.

    Raises
    ------
    InputError
        When it is false (the default).
    """
    if not settings.dispatch_reveal_customer:
        raise InputError("`reveal_customers` is refused: the setting dispatch_reveal_customer is false (the default); "
                         "customers' numbers stay masked unless the configuration sets dispatch_reveal_customer = true")


def reveal_customers(plan: DispatchPlan, numbers: dict[str, str], *, settings: Settings) -> DispatchPlan:
    """A copy of ``plan`` whose CSV and printable page show the complainants' full numbers.

    Only a number that masks to what the store holds for that complaint is shown (a data folder
    other than the one the store was filled from reveals nothing); one that is itself masked
    (``*``) is not a number. The plan's stops, map, terminal text and JSON stay masked;
    :func:`netdiag.views.dispatch_list.write_dispatch` writes the reveal to each ticket's history
    (``customer_revealed``) as it writes the list.

    Parameters
    ----------
    plan : DispatchPlan
        One team's list (:func:`plan_dispatch`): numbers of other teams' complaints are never on it.
    numbers : dict
        complaint id -> full number (:func:`read_customer_numbers`).
    settings : Settings
        ``dispatch_reveal_customer`` must be true.

    Returns
    -------
    DispatchPlan
        With ``revealed`` (ticket id -> complaints text with the numbers) and ``reveals``
        (ticket id -> the complaint ids shown); both empty when no number matched.

    Raises
    ------
    InputError
        When the setting ``dispatch_reveal_customer`` is false.
    """
    check_reveal_allowed(settings)
    shown, skipped = {}, 0
    for r in plan.complaints.to_dict("records"):
        number = numbers.get(r["complaint_id"])
        if not number or not r["customer"]:
            continue
        if "*" in number or mask_customer(number) != r["customer"]:
            skipped += 1
            continue
        shown[r["complaint_id"]] = number
    if skipped:
        log.warning("dispatch %s: %d customer number(s) of the data folder do not match the store's (masked) ones "
                    "and stay masked", plan.team, skipped)
    per = {tid: g for tid, g in plan.complaints.groupby("ticket_id", sort=False)}
    revealed, reveals = {}, {}
    for tid in plan.stops["ticket_id"]:
        g = per.get(tid, plan.complaints.iloc[0:0])
        ids = [c for c in g["complaint_id"] if c in shown]
        if ids:
            revealed[tid] = _complaint_lines(g, shown)
            reveals[tid] = ids
    log.info("dispatch %s: %d customer number(s) to show on %d stop(s)", plan.team, len(shown), len(reveals))
    return dataclasses.replace(plan, revealed=revealed, reveals=reveals)


def route_stops(store, team: str, *, date: str | dt.date | None = None, start: str | tuple[float, float] | None = None,
                settings: Settings | None = None) -> pd.DataFrame:
    """The ordered stops of a team's dispatch list, for drawing (``order, ticket_id, lat, lon, ...``).

    The same as ``plan_dispatch(...).stops``; ``attrs`` carry ``start``, ``route_m`` and
    ``unordered_m``. See :func:`plan_dispatch` for the parameters.

    Examples
    --------
    >>> stops = route_stops("netdiag.db", "field-Nanshan", date="2026-11-03")   # doctest: +SKIP
    >>> stops[["order", "ticket_id", "lat", "lon"]].head()                       # doctest: +SKIP
    """
    plan = plan_dispatch(store, team, date=date, start=start, settings=settings)
    stops = plan.stops.copy()
    stops.attrs.update({"team": team, "start": plan.start, "route_m": plan.route_m, "unordered_m": plan.unordered_m})
    return stops


def busiest_field_day(tickets, tz: str) -> tuple[str | None, str | None]:
    """The field team and local day (``YYYY-MM-DD``) with the most open field-test visits, e.g. for a demo."""
    visits = tickets[(tickets["action"] == "dispatch_field_test") & (tickets["status"] != "resolved")]
    if visits.empty:
        return None, None
    day = visits["created_at"].dt.tz_convert(tz).dt.strftime("%Y-%m-%d")
    counts = visits.groupby([visits["team"], day]).size().sort_values(ascending=False, kind="stable")
    team, best = counts.index[0]
    return team, best
