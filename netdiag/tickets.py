"""Grouping diagnosed complaints into tickets: one per faulty element, not one per complaint.

- Network causes: one ticket per root element, cause and *incident* (overlapping outage
  intervals of one element form one incident; a new outage later is a new ticket). A fibre
  cut behind 12 sites is one ticket on the hub.
- Coverage holes: one optimisation ticket per ``hotspot_cell_m`` grid square.
- No fault found: complaints within ``field_test_radius_m`` and ``field_test_window_h`` of
  each other (transitively) share one field-test ticket.

Grade (DOMAIN.md): *urgent* when an outage takes at least ``urgent_site_count`` sites off the
air, *major* with at least ``major_complaint_count`` complaints or a VIP customer, otherwise
*ordinary*; the due times follow the grade. Priority P1-P4 from impact and urgency.
"""
from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import shapely

from netdiag.settings import Settings

TICKET_COLUMNS = ["ticket_id", "cause", "element_id", "action", "team", "priority", "grade", "created_at",
                  "first_reply_due", "due_at", "complaint_count", "complaint_ids", "vip_count", "sites_affected",
                  "lat", "lon", "status", "resolved_at", "via", "evidence"]
OUTAGES = ("fault", "shutdown", "relocation")


def _field_test_groups(net, diag: pd.DataFrame, settings: Settings) -> pd.Series:
    """Connected groups of no-fault-found complaints close in space and time."""
    nff = diag.index[diag["cause"] == "no_fault_found"]
    if len(nff) == 0:
        return pd.Series(dtype=object)
    x, y = net.to_xy.transform(diag.loc[nff, "lon"].to_numpy(float), diag.loc[nff, "lat"].to_numpy(float))
    pts = shapely.points(np.asarray(x), np.asarray(y))
    tree = shapely.STRtree(pts)
    a, b = tree.query(pts, predicate="dwithin", distance=settings.field_test_radius_m)
    t = diag.loc[nff, "received_at"].astype("int64").to_numpy() / 3.6e12  # hours
    close = (a < b) & (np.abs(t[a] - t[b]) <= settings.field_test_window_h)
    graph = nx.Graph()
    graph.add_nodes_from(range(len(nff)))
    graph.add_edges_from(zip(a[close], b[close]))
    label = np.empty(len(nff), dtype=object)
    for comp in nx.connected_components(graph):
        members = sorted(comp)
        label[members] = "field:" + str(diag.loc[nff[members[0]], "complaint_id"])
    return pd.Series(label, index=nff)


def _group_keys(net, diag: pd.DataFrame, settings: Settings) -> pd.Series:
    key = diag["incident_id"].astype(object).where(diag["incident_id"].notna(), None)
    key = key.where(~diag["cause"].isin(["coverage_hole", "no_fault_found"]), None)
    holes = diag["cause"] == "coverage_hole"
    if holes.any():
        x, y = net.to_xy.transform(diag.loc[holes, "lon"].to_numpy(float), diag.loc[holes, "lat"].to_numpy(float))
        size = settings.hotspot_cell_m
        key[holes] = ["hole:%d:%d" % (gx, gy) for gx, gy in zip(np.floor(np.asarray(x) / size), np.floor(np.asarray(y) / size))]
    ft = _field_test_groups(net, diag, settings)
    if len(ft):
        key[ft.index] = ft
    return key


def build_tickets(net, diag: pd.DataFrame, *, settings: Settings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Attach a ticket to every diagnosis and return ``(diagnoses, tickets)``."""
    if diag.empty:
        return diag.assign(ticket_id=""), pd.DataFrame(columns=TICKET_COLUMNS)
    diag = diag.copy()
    diag["_key"] = _group_keys(net, diag, settings).to_numpy()
    as_of = diag["received_at"].max()
    g = diag.sort_values("received_at").groupby("_key", sort=False)
    t = g.agg(cause=("cause", "first"), element_id=("element_id", "first"), action=("action", "first"), team=("team", "first"),
              created_at=("received_at", "min"), complaint_count=("complaint_id", "size"),
              complaint_ids=("complaint_id", ";".join), vip_count=("vip", "sum"), lat_c=("lat", "mean"), lon_c=("lon", "mean"),
              cause_end=("cause_end", "max"), open_end=("cause_end", lambda s: s.isna().any()),
              via=("via", "first"), evidence=("evidence", "first")).reset_index()
    el = net.elements
    t["lat"] = t["element_id"].map(el["lat"]).fillna(t["lat_c"]).round(6)
    t["lon"] = t["element_id"].map(el["lon"]).fillna(t["lon_c"]).round(6)
    outage = t["cause"].isin(OUTAGES)
    t["sites_affected"] = [_sites_behind(net, e) if o else 0 for e, o in zip(t["element_id"], outage)]
    urgent = outage & (t["sites_affected"] >= settings.urgent_site_count)
    major = (t["complaint_count"] >= settings.major_complaint_count) | (t["vip_count"] > 0)
    t["grade"] = np.select([urgent, major], ["urgent", "major"], default="ordinary")
    first = t["grade"].map({"urgent": settings.first_reply_h_urgent, "major": settings.first_reply_h_major,
                            "ordinary": settings.first_reply_h_ordinary})
    close = t["grade"].map({"urgent": settings.close_h_urgent, "major": settings.close_h_major,
                            "ordinary": settings.close_h_ordinary})
    t["first_reply_due"] = t["created_at"] + pd.to_timedelta(first, unit="h")
    t["due_at"] = t["created_at"] + pd.to_timedelta(close, unit="h")
    t["priority"] = np.select(
        [urgent | (outage & (t["vip_count"] > 0)), outage | major, t["cause"].isin(["interference", "congestion"])],
        ["P1", "P2", "P3"], default="P4")
    ended = outage & ~t["open_end"] & (t["cause_end"] <= as_of)
    ended |= t["action"].eq("direct_reply") & ~t["open_end"]
    t["status"] = np.where(ended, "resolved", "acknowledged")
    t["resolved_at"] = t["cause_end"].where(ended)
    t = t.sort_values(["created_at", "_key"]).reset_index(drop=True)
    day = t["created_at"].dt.strftime("%Y%m%d")
    seq = t.groupby(day).cumcount() + 1
    t["ticket_id"] = "TS-" + day + "-" + seq.map("{:04d}".format)
    diag["ticket_id"] = diag["_key"].map(t.set_index("_key")["ticket_id"])
    return diag.drop(columns="_key"), t[TICKET_COLUMNS]


def _sites_behind(net, element_id) -> int:
    kind = net.elements["kind"].get(element_id)
    if kind == "site":
        return 1
    if kind == "transport":
        return len(net.topology.downstream(element_id, "site"))
    return 0
