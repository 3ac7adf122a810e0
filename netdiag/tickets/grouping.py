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

Life cycle
----------
Statuses follow TMF621: ``acknowledged`` (created) -> ``inProgress`` / ``pending`` (waiting
for someone else) / ``held`` (parked) -> ``resolved`` -> ``closed``; ``cancelled`` from any
open status. A resolved ticket can be re-opened (``inProgress``) when the customer is not
satisfied. :data:`TRANSITIONS` lists every allowed move.
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from netdiag.errors import InputError
from netdiag.data.values import join_groups
from netdiag.settings import Settings

log = logging.getLogger(__name__)

TICKET_COLUMNS = ["ticket_id", "cause", "element_id", "action", "team", "priority", "grade", "created_at",
                  "first_reply_due", "due_at", "complaint_count", "complaint_ids", "vip_count", "sites_affected",
                  "cells_affected", "lat", "lon", "status", "resolved_at", "via", "evidence", "kind", "lead_department",
                  "region", "place"]
OUTAGES = ("fault", "shutdown", "relocation")
DEGRADATIONS = ("interference", "congestion")

#: TMF621 statuses netdiag uses, in life-cycle order
STATUSES = ("acknowledged", "inProgress", "pending", "held", "resolved", "closed", "cancelled")
#: statuses in which a ticket still needs work (at most one such ticket per root element and cause)
OPEN_STATUSES = ("acknowledged", "inProgress", "pending", "held")
#: statuses a ticket never leaves
FINAL_STATUSES = ("closed", "cancelled")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "acknowledged": ("inProgress", "pending", "held", "resolved", "cancelled"),
    "inProgress": ("pending", "held", "resolved", "cancelled"),
    "pending": ("inProgress", "held", "resolved", "cancelled"),
    "held": ("inProgress", "pending", "resolved", "cancelled"),
    "resolved": ("closed", "inProgress"),  # closed after the call-back; re-opened when the customer is unhappy
    "closed": (),
    "cancelled": (),
}
PRIORITIES = ("P1", "P2", "P3", "P4")
GRADES = ("ordinary", "major", "urgent")
KINDS = ("incident", "coverage", "field_test")


class TransitionError(InputError):
    """A status change the life cycle does not allow; the message says why and what is allowed."""


def check_transition(ticket_id: str, old: str, new: str) -> None:
    """Raise :class:`TransitionError` unless a ticket may move from ``old`` to ``new``.

    Parameters
    ----------
    ticket_id : str
        Named in the message.
    old, new : str
        Statuses (see :data:`STATUSES`).

    Raises
    ------
    TransitionError
        With a one-line reason, e.g. ``closed is final``.

    Examples
    --------
    >>> check_transition("TS-20261102-0001", "acknowledged", "inProgress")
    >>> check_transition("TS-20261102-0001", "closed", "inProgress")
    Traceback (most recent call last):
    ...
    netdiag.tickets.grouping.TransitionError: ticket TS-20261102-0001 is closed, which is final; it cannot become inProgress
    """
    if new not in STATUSES:
        raise TransitionError(f"status was {new!r} but is expected to be one of {', '.join(STATUSES)}")
    if old == new:
        raise TransitionError(f"ticket {ticket_id} is already {old}")
    if old in FINAL_STATUSES:
        raise TransitionError(f"ticket {ticket_id} is {old}, which is final; it cannot become {new}")
    if new not in TRANSITIONS.get(old, ()):
        allowed = ", ".join(TRANSITIONS.get(old, ()))
        hint = "; resolve it first" if new == "closed" else ""
        raise TransitionError(f"ticket {ticket_id} cannot go from {old} to {new} (from {old} it can go to {allowed}){hint}")


def ticket_kind(cause: str) -> str:
    """``incident``, ``coverage`` or ``field_test`` for a cause."""
    return {"coverage_hole": "coverage", "no_fault_found": "field_test"}.get(cause, "incident")


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
    candidates = [ds["complaints"]["received_at"].max(), ds["events"]["start_time"].max()]
    load = ds["load"]
    if len(load):
        candidates.append(load["timestamp"].max())
    found = [pd.Timestamp(c) for c in candidates if pd.notna(c)]
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
    import networkx as nx
    import shapely

    n = len(x)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    pts = shapely.points(np.asarray(x, float), np.asarray(y, float))
    a, b = shapely.STRtree(pts).query(pts, predicate="dwithin", distance=radius_m)
    hours = np.asarray(hours, float)
    close = (a < b) & (np.abs(hours[a] - hours[b]) <= window_h)
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(zip(a[close].tolist(), b[close].tolist()))
    label = np.empty(n, dtype=np.int64)
    for comp in nx.connected_components(graph):
        members = sorted(comp)
        label[members] = members[0]
    return label


def hours_of(times: pd.Series) -> np.ndarray:
    """UTC timestamps as hours since the epoch (for :func:`cluster_nearby`)."""
    return pd.to_datetime(times, utc=True).dt.as_unit("ns").astype("int64").to_numpy() / 3.6e12


def _field_test_groups(net, diag: pd.DataFrame, settings: Settings) -> pd.Series:
    """Connected groups of no-fault-found complaints close in space and time."""
    nff = diag.index[diag["cause"] == "no_fault_found"]
    if len(nff) == 0:
        return pd.Series(dtype=object)
    x, y = net.to_xy.transform(diag.loc[nff, "lon"].to_numpy(float), diag.loc[nff, "lat"].to_numpy(float))
    label = cluster_nearby(np.asarray(x), np.asarray(y), hours_of(diag.loc[nff, "received_at"]),
                           radius_m=settings.field_test_radius_m, window_h=settings.field_test_window_h)
    first_id = diag.loc[nff, "complaint_id"].astype(str).to_numpy(dtype=object)[label]
    return pd.Series("field:" + pd.Series(first_id, dtype=object), dtype=object).set_axis(nff)


def hole_keys(net, lon: np.ndarray, lat: np.ndarray, settings: Settings) -> list[str]:
    """The ``hole:GX:GY`` grid square (``hotspot_cell_m``) of each position."""
    x, y = net.to_xy.transform(np.asarray(lon, float), np.asarray(lat, float))
    size = settings.hotspot_cell_m
    return ["hole:%d:%d" % (gx, gy) for gx, gy in zip(np.floor(np.asarray(x) / size), np.floor(np.asarray(y) / size))]


def group_keys(net, diag: pd.DataFrame, settings: Settings) -> pd.Series:
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
    first_h = grade.map({"urgent": settings.first_reply_h_urgent, "major": settings.first_reply_h_major,
                         "ordinary": settings.first_reply_h_ordinary}).astype(float)
    close_h = grade.map({"urgent": settings.close_h_urgent, "major": settings.close_h_major,
                         "ordinary": settings.close_h_ordinary}).astype(float)
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
        From :func:`netdiag.engine.diagnose.prepare`.
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
    diag["_key"] = group_keys(net, diag, settings).to_numpy()
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
    t["place"] = place_texts(el, t["element_id"], t["nearest_site"], t["region"])
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
    day = t["created_at"].dt.strftime("%Y%m%d")
    seq = t.groupby(day).cumcount() + 1
    t["ticket_id"] = "TS-" + day + "-" + seq.map("{:04d}".format)
    diag["ticket_id"] = diag["_key"].map(t.set_index("_key")["ticket_id"])
    return diag.drop(columns=["_key", "_public", "_open"]), t[TICKET_COLUMNS]


def place_texts(elements: pd.DataFrame, element_ids: pd.Series, nearest_sites: pd.Series, regions: pd.Series) -> list[str]:
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


# ----------------------------------------------------------------------------- TMF621 shape, filters
_TMF_TYPES = {"incident": "networkFault", "coverage": "coverage", "field_test": "fieldTest"}


def _iso_text(value) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def _value(value):
    if value is None or (not isinstance(value, (str, list, dict)) and pd.isna(value)):
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, pd.Timestamp):
        return _iso_text(value)
    return value


def ticket_title(t) -> str:
    """``fault on HUB1``, ``coverage hole near site S001 (West)``, ``field test near ...``."""
    if t.get("element_id") and isinstance(t.get("element_id"), str):
        return f"{t['cause']} on {t['element_id']}"
    what = "coverage hole" if t.get("kind") == "coverage" else "field test"
    place = t.get("place")
    return f"{what} {place}" if isinstance(place, str) and place else what


def tmf621(ticket, *, history=(), notes=(), complaint_ids=None) -> dict:
    """One ticket as a TM Forum Trouble Ticket (TMF621) resource.

    Parameters
    ----------
    ticket : mapping
        A row of :meth:`netdiag.tickets.store.TicketStore.tickets` (or of in-memory tickets).
    history : iterable of mapping
        ``at, who, event, from_status, to_status, why`` rows; status changes become
        ``statusChange``.
    notes : iterable of mapping
        ``at, who, text`` rows.
    complaint_ids : list of str, optional
        Default: ``ticket["complaint_ids"]`` split on ``;``.

    Returns
    -------
    dict
        JSON-ready: ``id, name, description, ticketType, status, priority, severity,
        creationDate, lastUpdate, requestedResolutionDate, resolutionDate, relatedEntity,
        relatedParty, note, statusChange, characteristic``.
    """
    t = {k: _value(v) for k, v in dict(ticket).items()}
    if complaint_ids is None:
        complaint_ids = [c for c in str(t.get("complaint_ids") or "").split(";") if c]
    changes = [h for h in history if h.get("event") in ("created", "status")]
    related = []
    if t.get("element_id"):
        related.append({"id": t["element_id"], "role": "rootElement", "@referredType": "Resource",
                        "name": t.get("element_kind") or None})
    related += [{"id": c, "role": "complaint", "@referredType": "CustomerComplaint"} for c in complaint_ids]
    parties = [{"id": t.get("team"), "role": "assignee", "@referredType": "Organization"},
               {"id": t.get("lead_department"), "role": "leadDepartment", "@referredType": "Organization"}]
    chars = ["cause", "action", "via", "region", "place", "lat", "lon", "sites_affected", "cells_affected", "complaint_count",
             "vip_count", "first_reply_due", "resolution", "incident_id", "revision"]
    return {
        "id": t["ticket_id"],
        "@type": "TroubleTicket",
        "name": ticket_title(t),
        "description": t.get("evidence"),
        "ticketType": _TMF_TYPES.get(t.get("kind"), "networkFault"),
        "status": t.get("status"),
        "priority": t.get("priority"),
        "severity": t.get("grade"),
        "creationDate": _iso_text(t.get("created_at")),
        "lastUpdate": _iso_text(t.get("updated_at")),
        "requestedResolutionDate": _iso_text(t.get("due_at")),
        "resolutionDate": _iso_text(t.get("resolved_at")),
        "statusChangeDate": _iso_text(changes[-1]["at"]) if changes else None,
        "statusChangeReason": changes[-1].get("why") if changes else None,
        "relatedEntity": related,
        "relatedParty": parties,
        "note": [{"date": _iso_text(n["at"]), "author": n["who"], "text": n["text"]} for n in notes],
        "statusChange": [{"changeDate": _iso_text(h["at"]), "status": h.get("to_status"), "changeReason": h.get("why"),
                          "author": h.get("who")} for h in changes],
        "characteristic": [{"name": k, "value": _iso_text(t[k]) if k == "first_reply_due" else t.get(k)}
                           for k in chars if t.get(k) is not None],
    }


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``"min_lon,min_lat,max_lon,max_lat"`` -> a tuple of floats.

    Raises
    ------
    InputError
        When the text is not four numbers with min < max inside WGS-84 bounds.

    Examples
    --------
    >>> parse_bbox("113.9,22.5,114.1,22.6")
    (113.9, 22.5, 114.1, 22.6)
    """
    parts = [p.strip() for p in str(text).split(",")]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 4:
        raise InputError(f"--bbox was {text!r} but is expected to be MIN_LON,MIN_LAT,MAX_LON,MAX_LAT, e.g. 113.9,22.5,114.1,22.6")
    min_lon, min_lat, max_lon, max_lat = values
    if not (-180 <= min_lon < max_lon <= 180 and -90 <= min_lat < max_lat <= 90):
        raise InputError(f"--bbox was {text!r} but min must be below max and within -180..180 (lon), -90..90 (lat)")
    return values


# ----------------------------------------------------------------------------- text for people
def when_text(value, tz: str = "UTC") -> str:
    """A timestamp for a person: ``2026-11-02 10:00Z`` in UTC, ``2026-11-02 18:00`` in local time."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts
    if tz in ("UTC", "Etc/UTC"):
        return ts.tz_convert("UTC").strftime("%Y-%m-%d %H:%MZ")
    return ts.tz_convert(tz).strftime("%Y-%m-%d %H:%M")


def format_table(t: pd.DataFrame, *, tz: str = "UTC", now: pd.Timestamp | None = None) -> str:
    """Tickets as a fixed-width table (one line each), with overdue open tickets flagged ``!``."""
    if t.empty:
        return "no tickets match"
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    head = f"{'ticket':<17} {'status':<12} {'pri':<3} {'grade':<8} {'what':<34} {'team':<18} {'n':>4}  due ({tz})"
    lines = [head, "-" * len(head)]
    for r in t.to_dict("records"):
        late = r["status"] in OPEN_STATUSES and pd.notna(r["due_at"]) and pd.Timestamp(r["due_at"]) < now
        lines.append(f"{r['ticket_id']:<17} {r['status']:<12} {r['priority']:<3} {r['grade']:<8} "
                     f"{_pad(ticket_title(r), 34)} {_pad(str(r['team']), 18)} {int(r['complaint_count']):>4}  "
                     f"{when_text(r['due_at'], tz)}{' !' if late else ''}")
    return "\n".join(lines)


def _pad(text: str, width: int) -> str:
    """Cut and pad to ``width`` terminal columns (Chinese characters take two)."""
    import unicodedata

    out, used = [], 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if used + w > width:
            break
        out.append(ch)
        used += w
    return "".join(out) + " " * (width - used)


def format_ticket(shown: dict, *, tz: str = "UTC") -> str:
    """One ticket for a person: facts, evidence, complaints (masked), history and notes."""
    t = shown["ticket"]

    def val(key):
        v = t.get(key)
        return "" if v is None or (not isinstance(v, str) and pd.isna(v)) else v
    lines = [f"{t['ticket_id']}  {ticket_title(t)}",
             f"  status     {t['status']}  (revision {val('revision')})",
             f"  priority   {t['priority']}   grade {t['grade']}",
             f"  action     {t['action']} -> {t['team']}   lead department: {t['lead_department']}",
             f"  place      {val('place')}  ({float(t['lat']):.5f}, {float(t['lon']):.5f})"]
    if val("via"):
        lines.append(f"  via        {t['via']}")
    if val("sites_affected") or val("cells_affected"):
        lines.append(f"  affected   {int(t['sites_affected'])} sites, {int(t['cells_affected'])} cells")
    lines += [f"  created    {when_text(t['created_at'], tz)}   first reply due {when_text(t['first_reply_due'], tz)}"
              f"   due {when_text(t['due_at'], tz)}",
              f"  evidence   {val('evidence')}"]
    if val("resolution"):
        lines.append(f"  resolution {t['resolution']}  ({when_text(t['resolved_at'], tz)})")
    c = shown["complaints"]
    lines += ["", f"complaints ({len(c)}):"]
    for r in c.to_dict("records"):
        flags = ", ".join(f for f, on in (("VIP", r.get("vip")), ("indoor", r.get("indoor"))) if on)
        lines.append(f"  {r['complaint_id']:<14} {when_text(r['received_at'], tz)}  {str(r.get('category') or ''):<12} "
                     f"{str(r.get('customer') or ''):<12} {flags}")
    lines += ["", "history:"]
    for h in shown["history"]:
        move = f"{h['from_status'] or ''} -> {h['to_status']}" if h.get("to_status") else h["event"]
        lines.append(f"  {when_text(h['at'], tz)}  {h['who']:<16} {move:<28} {h.get('why') or ''}")
    if shown["notes"]:
        lines += ["", "notes:"]
        lines += [f"  {when_text(n['at'], tz)}  {n['who']:<16} {n['text']}" for n in shown["notes"]]
    return "\n".join(lines)
