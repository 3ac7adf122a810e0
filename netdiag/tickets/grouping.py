"""Tickets: grouping diagnosed complaints, grade, due times, priority and the life cycle.

A ticket is the NOC's unit of work (DOMAIN.md), shaped after TM Forum's Trouble Ticket
(TMF621). This module is pure: it decides *what* the tickets are; :mod:`netdiag.tickets.store` keeps
them across runs and people.

Grouping
--------
- **Network causes** (``kind="incident"``): one ticket per root element and cause. In one run,
  overlapping outage intervals of one element form one *incident*; across runs the store
  keeps at most one *open* ticket per root element and cause. A fibre cut behind 12 sites is
  one ticket on the hub.
- **Coverage holes** (``kind="coverage"``): one optimisation ticket per ``hotspot_cell_m``
  grid square.
- **No fault found** (``kind="field_test"``): complaints within ``field_test_radius_m`` and
  ``field_test_window_h`` of each other (transitively) share one field-test ticket.

Grade, due times and priority
-----------------------------
*Grade* (DOMAIN.md): ``urgent`` when an outage takes at least ``urgent_site_count`` sites off
the air (a large-area outage); ``major`` with at least ``major_complaint_count`` complaints, a
VIP customer, or a complaint that came through a public channel (``major_channels``, e.g.
social media); otherwise ``ordinary``. First-reply and closure due times run from the first
complaint and follow the grade (``first_reply_h_*``, ``close_h_*``).

*Priority* P1-P4 crosses impact and urgency (an ITIL-style matrix):

=============  =======================================================================
impact 1       outage with >= ``urgent_site_count`` sites or >= ``urgent_cell_count``
               cells affected, or an outage hitting a VIP customer
impact 2       any other outage, or a major ticket (many complaints, VIP, public channel)
impact 3       degradation or nothing found (interference, congestion, holes, field tests)
urgency 1      the outage is still going on
urgency 2      degradation (interference, congestion) or an outage that has ended
urgency 3      coverage holes and field tests (no live fault)
=============  =======================================================================

``impact + urgency``: 2 -> P1, 3 -> P2, 4 or 5 -> P3, 6 -> P4. So a large or VIP outage going on is
P1, any other outage going on P2, degradations, ended outages and major field tests P3, and
ordinary field tests and coverage holes P4.

The life cycle of a ticket is in :mod:`netdiag.tickets.lifecycle`.
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from netdiag.data.schema import DEGRADATIONS, GRADES, OUTAGES
from netdiag.data.times import hours_since_epoch
from netdiag.data.values import join_groups
from netdiag.settings import Settings
from netdiag.data.display import display_zone
from netdiag.tickets.lifecycle import ticket_days, ticket_id, ticket_kind

log = logging.getLogger(__name__)

TICKET_COLUMNS = ["ticket_id", "cause", "element_id", "action", "team", "priority", "grade", "created_at",
                  "first_reply_due", "due_at", "complaint_count", "complaint_ids", "vip_count", "sites_affected",
                  "cells_affected", "lat", "lon", "status", "resolved_at", "via", "evidence", "kind", "lead_department",
                  "region", "place"]


def lead_department(cause: str, action: str, element_kind: str | None = None) -> str:
    """The department that leads the case, so that it is not passed around (DOMAIN.md).

    Examples
    --------
    >>> lead_department("fault", "transfer", "transport")
    'transport'
    >>> lead_department("no_fault_found", "dispatch_field_test")
    'field test'
    """
    if action == "direct_reply":
        return "service desk"
    if cause in ("fault", "shutdown"):
        return "transport" if element_kind == "transport" else "maintenance"
    if cause == "no_fault_found":
        return "field test"
    return "optimisation"


def data_as_of(ds) -> pd.Timestamp:
    """The latest moment the data has seen: last complaint received, alarm raised or counter period.

    An outage whose end time is at or before this moment *has ended*; a later end time (planned
    works) has not yet. Event end times are not used, since planned works give theirs ahead.
    """
    candidates = [ds["complaints"]["received_at"].max(), ds.last_alarm(), ds.counters.latest()]
    found = [pd.Timestamp(c) for c in candidates if c is not None and pd.notna(c)]
    return max(found) if found else pd.Timestamp.now(tz="UTC")


# ----------------------------------------------------------------------------- grouping
def cluster_nearby(x: np.ndarray, y: np.ndarray, hours: np.ndarray, *, radius_m: float, window_h: float) -> np.ndarray:
    """Connected groups of points within ``radius_m`` metres and ``window_h`` hours of each other.

    Parameters
    ----------
    x, y : array
        Positions in a metric CRS.
    hours : array
        Times in hours (any origin).
    radius_m, window_h : float
        How close in space and time two points must be to be linked.

    Returns
    -------
    numpy.ndarray of int
        A group number per point; the group's lowest point index is its number.
    """
    import shapely

    n = len(x)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    pts = shapely.points(np.asarray(x, float), np.asarray(y, float))
    a, b = shapely.STRtree(pts).query(pts, predicate="dwithin", distance=radius_m)
    hours = np.asarray(hours, float)
    close = (a < b) & (np.abs(hours[a] - hours[b]) <= window_h)
    return _lowest_of_components(n, a[close].astype(np.int64), b[close].astype(np.int64))


def _lowest_of_components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For each of ``n`` points, the lowest point index of its connected component (edges ``a[i]-b[i]``).

    Vectorised union-find: every edge hooks the larger of its two roots under the smaller,
    then every point jumps to its label's label until each names a root; repeated until each
    edge joins one root. A point's label only ever falls to another point of its component, so the
    lowest point keeps its own index and ends as the one root.

    Examples
    --------
    >>> _lowest_of_components(5, np.array([3, 1]), np.array([4, 3])).tolist()
    [0, 1, 2, 1, 1]
    """
    label = np.arange(n, dtype=np.int64)
    while True:
        ra, rb = label[a], label[b]
        if (ra == rb).all():
            return label
        low = np.minimum(ra, rb)
        np.minimum.at(label, ra, low)
        np.minimum.at(label, rb, low)
        while True:
            up = label[label]
            if (up == label).all():
                break
            label = up


def _field_test_groups(net, diag: pd.DataFrame, settings: Settings) -> pd.Series:
    """Connected groups of no-fault-found complaints close in space and time."""
    nff = diag.index[diag["cause"] == "no_fault_found"]
    if len(nff) == 0:
        return pd.Series(dtype=object)
    x, y = net.to_xy.transform(diag.loc[nff, "lon"].to_numpy(float), diag.loc[nff, "lat"].to_numpy(float))
    label = cluster_nearby(np.asarray(x), np.asarray(y), hours_since_epoch(diag.loc[nff, "received_at"]),
                           radius_m=settings.field_test_radius_m, window_h=settings.field_test_window_h)
    first_id = diag.loc[nff, "complaint_id"].astype(str).to_numpy(dtype=object)[label]
    return pd.Series("field:" + pd.Series(first_id, dtype=object), dtype=object).set_axis(nff)


def hole_keys(net, lon: np.ndarray, lat: np.ndarray, settings: Settings) -> list[str]:
    """The ``hole:GX:GY`` grid square (``hotspot_cell_m``) of each position."""
    x, y = net.to_xy.transform(np.asarray(lon, float), np.asarray(lat, float))
    size = settings.hotspot_cell_m
    return ["hole:%d:%d" % (gx, gy) for gx, gy in zip(np.floor(np.asarray(x) / size), np.floor(np.asarray(y) / size))]


def _group_keys(net, diag: pd.DataFrame, settings: Settings) -> pd.Series:
    """The in-run grouping key of every diagnosis (incident id, hole square or field-test group)."""
    key = diag["incident_id"].astype(object).where(diag["incident_id"].notna(), None)
    key = key.where(~diag["cause"].isin(["coverage_hole", "no_fault_found"]), None)
    holes = diag["cause"] == "coverage_hole"
    if holes.any():
        key[holes] = hole_keys(net, diag.loc[holes, "lon"].to_numpy(float), diag.loc[holes, "lat"].to_numpy(float), settings)
    ft = _field_test_groups(net, diag, settings)
    if len(ft):
        key[ft.index] = ft
    missing = key.isna()
    if missing.any():  # a network cause without an incident id: group on element and cause
        key[missing] = diag.loc[missing, "element_id"].astype(str) + ":" + diag.loc[missing, "cause"].astype(str)
    return key


def affected(net, element_id) -> tuple[int, int]:
    """(sites, cells) out of service when ``element_id`` is (its own and everything behind it)."""
    kind = net.elements["kind"].get(element_id) if element_id else None
    if kind == "site":
        return 1, len(net.topology.downstream(element_id, "cell"))
    if kind == "transport":
        return len(net.topology.downstream(element_id, "site")), len(net.topology.downstream(element_id, "cell"))
    if kind == "cell":
        return 0, 1
    return 0, 0


def major_channel_set(settings: Settings) -> set[str]:
    """The channels that make a complaint major (``major_channels``), lower case."""
    return {c.strip().lower() for c in str(settings.major_channels).split(",") if c.strip()}


# ----------------------------------------------------------------------------- grade, due, priority
def assess(t: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Grade, due times, impact, urgency and priority of tickets.

    Parameters
    ----------
    t : DataFrame
        One row per ticket with ``cause, created_at, complaint_count, vip_count, public_count``
        (complaints through a ``major_channels`` channel), ``sites_affected, cells_affected``
        and ``ongoing`` (bool: the outage is still going on).
    settings : Settings

    Returns
    -------
    DataFrame
        ``grade, first_reply_due, due_at, impact, urgency, priority`` on ``t``'s index.

    Examples
    --------
    >>> t = pd.DataFrame({"cause": ["fault"], "created_at": [pd.Timestamp("2026-11-02T10:00Z")],
    ...                   "complaint_count": [2], "vip_count": [0], "public_count": [0],
    ...                   "sites_affected": [12], "cells_affected": [40], "ongoing": [True]})
    >>> assess(t, Settings())[["grade", "priority"]].iloc[0].tolist()
    ['urgent', 'P1']
    """
    cause = t["cause"].astype(str)
    outage = cause.isin(OUTAGES).to_numpy()
    degradation = cause.isin(DEGRADATIONS).to_numpy()
    sites = pd.to_numeric(t["sites_affected"]).fillna(0).to_numpy()
    cells = pd.to_numeric(t["cells_affected"]).fillna(0).to_numpy()
    vip = pd.to_numeric(t["vip_count"]).fillna(0).to_numpy() > 0
    many = pd.to_numeric(t["complaint_count"]).fillna(0).to_numpy() >= settings.major_complaint_count
    public = pd.to_numeric(t["public_count"]).fillna(0).to_numpy() > 0
    ongoing = t["ongoing"].astype(bool).to_numpy()
    large = outage & (sites >= settings.urgent_site_count)
    major = many | vip | public
    grade = pd.Series(np.select([large, major], ["urgent", "major"], default="ordinary"), index=t.index)
    first, due = due_times(t["created_at"], grade, settings)
    impact = np.select([outage & (large | (cells >= settings.urgent_cell_count) | vip), outage | major], [1, 2], default=3)
    urgency = np.select([outage & ongoing, outage | degradation], [1, 2], default=3)
    priority = np.array(["P1", "P1", "P1", "P2", "P3", "P3", "P4"], dtype=object)[impact + urgency]
    return pd.DataFrame({"grade": grade, "first_reply_due": first, "due_at": due, "impact": impact, "urgency": urgency,
                         "priority": priority}, index=t.index)


def due_times(created_at: pd.Series, grade: pd.Series, settings: Settings) -> tuple[pd.Series, pd.Series]:
    """(first reply due, closure due) from the first complaint's time and the grade (DOMAIN.md)."""
    hours = {g: settings.due_hours(g) for g in GRADES}
    first_h = grade.map({g: h[0] for g, h in hours.items()}).astype(float)
    close_h = grade.map({g: h[1] for g, h in hours.items()}).astype(float)
    created = pd.to_datetime(created_at, utc=True).set_axis(grade.index)
    return created + pd.to_timedelta(first_h, unit="h"), created + pd.to_timedelta(close_h, unit="h")


def higher_grade(a: str, b: str) -> str:
    """The more serious of two grades (a ticket's grade never goes down)."""
    return a if GRADES.index(a) >= GRADES.index(b) else b


# ----------------------------------------------------------------------------- in-memory tickets
def build_tickets(net, diag: pd.DataFrame, *, settings: Settings, as_of: pd.Timestamp | None = None
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Attach a ticket to every diagnosis (one run, no store) and return ``(diagnoses, tickets)``.

    Parameters
    ----------
    net : Network
        From :func:`netdiag.engine.network.prepare`.
    diag : DataFrame
        Diagnoses from :func:`netdiag.engine.actions.decide`.
    settings : Settings
    as_of : Timestamp, optional
        Outages ended by then are ``resolved``; default the last complaint received.

    Returns
    -------
    (DataFrame, DataFrame)
        The diagnoses with ``ticket_id`` filled in, and one row per ticket
        (:data:`TICKET_COLUMNS`). Ticket ids are ``TS-YYYYMMDD-NNNN`` numbered per day of the
        first complaint; they are only stable within the run (use a store for lasting ids).
    """
    if diag.empty:
        return diag.assign(ticket_id=""), pd.DataFrame(columns=TICKET_COLUMNS)
    diag = diag.copy()
    diag["_key"] = _group_keys(net, diag, settings).to_numpy()
    as_of = as_of if as_of is not None else diag["received_at"].max()
    public = major_channel_set(settings)
    diag["_public"] = diag["channel"].astype("str").str.lower().isin(public).fillna(False)
    diag["_open"] = diag["cause_end"].isna()
    g = diag.sort_values("received_at").groupby("_key", sort=False)
    t = g.agg(cause=("cause", "first"), element_id=("element_id", "first"), action=("action", "first"), team=("team", "first"),
              created_at=("received_at", "min"), complaint_count=("complaint_id", "size"),
              vip_count=("vip", "sum"), public_count=("_public", "sum"),
              lat_c=("lat", "mean"), lon_c=("lon", "mean"),
              cause_end=("cause_end", "max"), open_end=("_open", "max"),
              via=("via", "first"), evidence=("evidence", "first"), element_kind=("element_kind", "first"),
              region=("region", "first"), nearest_site=("nearest_site", "first")).reset_index()
    ordered = diag.sort_values("received_at", kind="stable")
    t["complaint_ids"] = t["_key"].map(join_groups(ordered["_key"], ordered["complaint_id"], ";"))
    el = net.elements
    t["lat"] = t["element_id"].map(el["lat"]).fillna(t["lat_c"]).round(6)
    t["lon"] = t["element_id"].map(el["lon"]).fillna(t["lon_c"]).round(6)
    own_region = t["element_id"].map(el["region"]).astype(object)
    t["region"] = own_region.where(own_region.notna(), t["region"].astype(object))
    t["place"] = _place_texts(el, t["element_id"], t["nearest_site"], t["region"])
    outage = t["cause"].isin(OUTAGES)
    hit = [affected(net, e) if o else (0, 0) for e, o in zip(t["element_id"], outage)]
    t["sites_affected"] = [h[0] for h in hit]
    t["cells_affected"] = [h[1] for h in hit]
    ended = outage & ~t["open_end"] & (t["cause_end"] <= as_of)
    ended |= t["action"].eq("direct_reply") & ~t["open_end"]
    t["ongoing"] = outage & ~ended
    t = t.join(assess(t, settings)[["grade", "first_reply_due", "due_at", "priority"]])
    t["status"] = np.where(ended, "resolved", "acknowledged")
    t["resolved_at"] = t["cause_end"].where(ended)
    t["kind"] = t["cause"].map(ticket_kind)
    t["lead_department"] = [lead_department(c, a, k) for c, a, k in zip(t["cause"], t["action"], t["element_kind"])]
    t = t.sort_values(["created_at", "_key"]).reset_index(drop=True)
    day = ticket_days(t["created_at"], display_zone(settings))
    seq = t.groupby(day).cumcount() + 1
    t["ticket_id"] = [ticket_id(d, n) for d, n in zip(day, seq)]
    diag["ticket_id"] = diag["_key"].map(t.set_index("_key")["ticket_id"])
    return diag.drop(columns=["_key", "_public", "_open"]), t[TICKET_COLUMNS]


def _place_texts(elements: pd.DataFrame, element_ids: pd.Series, nearest_sites: pd.Series, regions: pd.Series) -> list[str]:
    """:func:`place_text` for many tickets at once (names looked up by column, not per row)."""
    def names(ids: pd.Series) -> pd.Series:
        ids = ids.astype(object)
        kind = ids.map(elements["kind"])
        name = ids.map(elements["name"]).astype(object)
        show = name.notna() & (name.astype(str) != "") & (name.astype(str) != ids.astype(str))
        text = kind.astype(str) + " " + ids.astype(str) + np.where(show, " " + name.astype(str), "")
        return text.where(kind.notna(), None)

    own, near = names(element_ids), names(nearest_sites)
    where = own.where(own.notna(), ("near " + near.astype(str)).where(near.notna(), ""))
    region = regions.astype(object)
    has_region = region.map(lambda r: isinstance(r, str) and bool(r))
    both = has_region & (where != "")
    out = where.where(~both, where + " (" + region.astype(str) + ")")
    out = out.where(~(has_region & (where == "")), region)
    return out.tolist()


def place_text(elements, element_id, nearest_site, region) -> str:
    """Where a ticket is, in words: ``site Lucan North (West)`` or ``near site Lucan North (West)``.

    ``elements`` is :attr:`Network.elements` or the same as a dict of rows (faster per ticket).
    """
    def name(e):
        if not isinstance(e, str) or not e:
            return None
        if isinstance(elements, pd.DataFrame):
            if e not in elements.index:
                return None
            kind, n = elements.at[e, "kind"], elements.at[e, "name"]
        else:
            row = elements.get(e)
            if row is None:
                return None
            kind, n = row["kind"], row["name"]
        return f"{kind} {e}" + (f" {n}" if isinstance(n, str) and n and n != e else "")
    where = name(element_id)
    text = where or (f"near {name(nearest_site)}" if name(nearest_site) else "")
    if isinstance(region, str) and region:
        text = f"{text} ({region})" if text else region
    return text


def open_tickets_from_csv(path) -> pd.DataFrame:
    """The open tickets of a ``tickets.csv`` written by ``netdiag diagnose`` (every column as text).

    Raises
    ------
    InputError
        When the file cannot be read or is not a netdiag tickets.csv.
    """
    from pathlib import Path

    from netdiag.errors import InputError
    from netdiag.tickets.lifecycle import OPEN_STATUSES

    path = Path(path)
    try:
        t = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read `tickets` {path}: {exc}") from None
    missing = {"ticket_id", "element_id", "cause", "status"} - set(t.columns)
    if missing:
        raise InputError(f"`tickets` {path} is not a netdiag tickets.csv (missing {', '.join(sorted(missing))})")
    t = t.fillna("")
    return t[t["status"].isin(OPEN_STATUSES)].reset_index(drop=True)
