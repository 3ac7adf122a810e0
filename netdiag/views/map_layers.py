"""The map's layers as compact columns (:mod:`netdiag.views.columns`), one builder per layer.

Each builder returns a :class:`~netdiag.views.leaflet.CanvasLayer`: a small plain spec (kind,
colours, popup labels, draw options) and one packed object of equally long columns, one value
per feature: positions as integer 1e-5 degrees, a colour key as a code, the popup's values as
text, time or number columns. ``netdiag-map.js`` draws the features on a canvas and builds a
popup from the columns only when one is clicked. Heatmaps are counts on a grid, summed here.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from folium.plugins import HeatMapWithTime
from pyproj import Transformer

from netdiag.data.schema import CAUSES
from netdiag.data.times import local_days
from netdiag.data.values import join_groups
from netdiag.engine.status import ELEMENT_STATES, FOREVER
from netdiag.views.columns import (
    code_column,
    coord_ints,
    delta_coords,
    number_column,
    reference_column,
    spatial_order,
    text_column,
    time_column,
)
from netdiag.views.leaflet import CanvasLayer, HeatLayer, PackedData

STATUS_COLORS = {"fault": "#e53935", "shutdown": "#fb8c00", "relocated": "#9e9e9e", "interference": "#8e24aa",
                 "congested": "#fdd835", "in_service": "#43a047"}
STATUS_LABELS = {"fault": "fault", "shutdown": "shutdown", "relocated": "relocated (old footprint)",
                 "interference": "interference", "congested": "congested", "in_service": "in service"}
CAUSE_COLORS = {"fault": "#c62828", "shutdown": "#ef6c00", "relocation": "#6d4c41", "interference": "#8e24aa",
                "congestion": "#f9a825", "coverage_hole": "#212121", "no_fault_found": "#1e88e5"}
PRIORITY_COLORS = {"P1": "#b71c1c", "P2": "#e65100", "P3": "#f9a825", "P4": "#1565c0"}
TRANSPORT_COLORS = {"down": "#d50000", "ended": "#616161"}

#: drawing order (later on top): what needs attention last
STATUS_ORDER = tuple(reversed(ELEMENT_STATES))
CAUSE_ORDER = tuple(reversed(CAUSES))
#: stacking of the canvas layers (Leaflet's overlay pane is 400, markers 600, popups 700)
Z = {"nd-hotspot": 380, "nd-wedge": 390, "nd-transport": 410, "nd-site": 420, "nd-repeater": 425,
     "nd-ticket": 430, "nd-complaint": 440}
#: complaints closer than this on screen are drawn as one cluster, up to CLUSTER_MAX_ZOOM
CLUSTER_PX = 56
CLUSTER_MAX_ZOOM = 16
COMPLAINT_LABELS = ["received", "problem time", "category", "channel", "customer", "VIP", "indoor", "description",
                    "cause", "blamed element", "via", "served by", "evidence", "action", "team", "ticket",
                    "first reply due", "closure due", "confidence", "repeat complaint"]
#: the complaint popup's evidence (popup values start with the title)
COMPLAINT_EVIDENCE = 1 + COMPLAINT_LABELS.index("evidence")
#: heatmaps sum complaints on a grid of this many degrees (about 200 m; 500 m for the heatmap by day)
HEAT_GRID_DEG = 0.002
HEAT_DAY_GRID_DEG = 0.005


def _text(values) -> pd.Series:
    """Values as text, missing as ``""``."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    return s.astype("str").where(s.notna(), "").reset_index(drop=True)


def _int_text(values) -> pd.Series:
    """Rounded numbers as text (``"12"``), missing as ``""``."""
    s = pd.to_numeric(pd.Series(values).reset_index(drop=True), errors="coerce").round(0).astype("Int64")
    return s.astype("str").where(s.notna(), "")


def _status_text(keys) -> np.ndarray:
    return pd.Series(keys, dtype=object).map(STATUS_LABELS).fillna("").to_numpy(dtype=object)


def _lonlat(net, x, y) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 longitude and latitude of points in the network's metric CRS."""
    back = Transformer.from_crs(net.ds.crs, "EPSG:4326", always_xy=True)
    lon, lat = back.transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lon, float), np.asarray(lat, float)


def _points(lon, lat) -> dict:
    return delta_coords(lon, lat)


def _near_first(frame: pd.DataFrame, lon="lon", lat="lat") -> pd.DataFrame:
    """The rows in spatial order (:func:`~netdiag.views.columns.spatial_order`), index reset."""
    return frame.iloc[spatial_order(frame[lon], frame[lat])].reset_index(drop=True)


# ----------------------------------------------------------------------------- sectors
def sector_layer(net, status: pd.DataFrame, at: pd.Timestamp, served: pd.Series, tickets_by_el: pd.Series,
                 tz: str, *, min_zoom: int, mast_zone_m: float) -> tuple[CanvasLayer, pd.Series]:
    """Every cell's and repeater's wedge, coloured by status at ``at`` (old footprints of relocated ones too).

    Sent as centre, azimuth, half-angle, radius and mast zone (the page draws the wedge, as
    :func:`netdiag.engine.footprints.footprint_polygons` does); in-service sectors are drawn
    from ``min_zoom`` on, the others at every zoom.
    """
    fp = net.footprints
    old = (fp["variant"] == "old").to_numpy()
    valid_old = old & (fp["valid_from"].fillna(pd.Timestamp.min.tz_localize("UTC")) <= at).to_numpy() \
        & (fp["valid_to"].fillna(FOREVER) > at).to_numpy()
    fp = fp[~old | valid_old].reset_index(drop=True)
    fp["lon"], fp["lat"] = _lonlat(net, fp["x"].to_numpy(float), fp["y"].to_numpy(float))
    fp = _near_first(pd.DataFrame(fp.drop(columns="geometry")))
    old = (fp["variant"] == "old").to_numpy()
    st = status.reindex(fp["element_id"].to_numpy())
    k = np.where(old, "relocated", st["status"].fillna("in_service").to_numpy(dtype=object))
    el = fp["element_id"].astype(str).reset_index(drop=True)
    is_cell = (fp["kind"] == "cell").to_numpy()
    cells = net.ds["cells"].set_index("cell_id")
    tech = el.map(cells["technology"]).astype("str") + " " + _int_text(el.map(cells["band_mhz"])) + " MHz"
    tech = tech.where(is_cell, "repeater")
    az = fp["azimuth_deg"].reset_index(drop=True)
    half = fp["half_angle_deg"].reset_index(drop=True)
    indoor = fp["indoor"].fillna(False).astype(bool).reset_index(drop=True)
    direction = pd.Series(np.where(az.isna(), np.where(indoor, "omni (indoor)", "omni"),
                                   _int_text(az) + "° / serving wedge " + _int_text(2 * half) + "°"))
    radius = _int_text(fp["radius_m"]) + " m (" + _text(fp["radius_source"]) + ")"
    ids = pd.Series(np.where(old, "old:" + el, np.where(is_cell, "cell:", "repeater:") + el))
    radius_m = fp["radius_m"].to_numpy(float)
    data = {
        **_points(fp["lon"], fp["lat"]), "k": code_column(k, STATUS_ORDER), "id": text_column(ids),
        "az": number_column(az, digits=1)["n"], "half": number_column(half, digits=1)["n"],
        "rm": np.round(radius_m).astype(np.int64).tolist(),
        "mast": np.round(np.minimum(mast_zone_m, radius_m / 4.0)).astype(np.int64).tolist(),
        "p": [None, text_column(fp["site_id"]), text_column(tech), text_column(_status_text(k)),
              text_column(st["because"]), time_column(st["since"], tz), time_column(st["until"], tz),
              text_column(direction), text_column(radius), number_column(el.map(served).fillna(0)),
              text_column(el.map(tickets_by_el))],
    }
    spec = {"cls": "nd-wedge", "kind": "wedges", "z": Z["nd-wedge"], "keys": list(STATUS_ORDER), "colors": STATUS_COLORS,
            "keyLabels": STATUS_LABELS, "dash": {"relocated": [4, 3]}, "fillOpacity": 0.28, "weight": 1,
            "title": {"cell": ["Cell ", ""], "repeater": ["Repeater ", ""], "old": ["Old footprint of ", " (relocated)"]},
            "minZoom": int(min_zoom), "always": [s for s in STATUS_ORDER if s != "in_service"],
            "labels": ["site", "technology", "status at map time", "because", "since", "until", "azimuth / width",
                       "radius", "complaints (nearest serving)", "tickets on it"]}
    counts = pd.Series(k).value_counts()
    return CanvasLayer(spec, data, name=f"Sectors by status ({len(fp):,})", count=len(fp)), counts


def sector_min_zoom(net, *, all_zooms_max: int, min_px: float) -> int:
    """The zoom from which in-service sectors are drawn: 0 for a small network (at most
    ``all_zooms_max`` sectors), else the first zoom where the median sector's radius is at
    least ``min_px`` screen pixels (Web Mercator, at the network's median latitude)."""
    fp = net.footprints
    if len(fp) <= all_zooms_max:
        return 0
    _, lat = _lonlat(net, fp["x"].to_numpy(float), fp["y"].to_numpy(float))
    metres_per_px_z0 = 156543.03392 * np.cos(np.radians(float(np.nanmedian(lat))))
    radius = float(np.nanmedian(fp["radius_m"].to_numpy(float)))
    return int(np.clip(np.ceil(np.log2(min_px * metres_per_px_z0 / max(radius, 1.0))), 1, 18))


# ----------------------------------------------------------------------------- sites, repeaters, transport
def site_layer(ds, status: pd.DataFrame, nearest: pd.Series, *, small_below: int) -> CanvasLayer:
    sites = _near_first(ds["sites"].dropna(subset=["lat", "lon"]))
    st = status.reindex(sites["site_id"].to_numpy())
    k = st["status"].fillna("in_service").to_numpy(dtype=object)
    cells = ds["cells"].sort_values("cell_id")
    cell_list = join_groups(cells["site_id"], cells["cell_id"], ", ")
    sid = sites["site_id"].astype(str)
    name = _text(sites["name"])
    data = {**_points(sites["lon"], sites["lat"]), "k": code_column(k, STATUS_ORDER), "id": text_column("site:" + sid),
            "p": [text_column("Site " + sid + " " + name), text_column(sites["region"]), text_column(sites["maintainer"]),
                  text_column(sites["transport_id"]), text_column(_status_text(k)), text_column(st["because"]),
                  text_column(sid.map(cell_list)), number_column(sid.map(nearest).fillna(0))]}
    spec = {"cls": "nd-site", "kind": "points", "z": Z["nd-site"], "keys": list(STATUS_ORDER), "colors": STATUS_COLORS,
            "radius": 4, "stroke": "#222", "small": [small_below, 2],
            "labels": ["region", "maintainer", "transport node", "status at map time", "because", "cells",
                       "complaints (nearest site)"]}
    return CanvasLayer(spec, data, name=f"Sites ({len(sites):,})", count=len(sites))


def repeater_layer(ds, status: pd.DataFrame) -> CanvasLayer | None:
    reps = ds["repeaters"].dropna(subset=["lat", "lon"]).reset_index(drop=True)
    if reps.empty:
        return None
    cells = ds["cells"].set_index("cell_id")
    sites = ds["sites"].set_index("site_id")
    donor_site = reps["donor_cell_id"].map(cells["site_id"])
    st = status.reindex(reps["repeater_id"].to_numpy())
    k = st["status"].fillna("in_service").to_numpy(dtype=object)
    rid = reps["repeater_id"].astype(str)
    dlat, dlon = donor_site.map(sites["lat"]).to_numpy(float), donor_site.map(sites["lon"]).to_numpy(float)
    ok = np.flatnonzero(~np.isnan(dlat) & ~np.isnan(dlon))
    data = {**_points(reps["lon"], reps["lat"]), "k": code_column(k, STATUS_ORDER), "id": text_column("repeater-site:" + rid),
            "t": text_column("repeater " + rid),
            "links": {"from": ok.tolist(), **_points(dlon[ok], dlat[ok])},
            "p": [text_column("Repeater " + rid), text_column(reps["donor_cell_id"]), text_column(donor_site),
                  text_column(reps["maintainer"]), text_column(_status_text(k)), text_column(st["because"])]}
    spec = {"cls": "nd-repeater", "kind": "points", "z": Z["nd-repeater"], "keys": list(STATUS_ORDER), "colors": STATUS_COLORS,
            "keyLabels": STATUS_LABELS, "radius": 5, "stroke": "#37474f", "lineWeight": 1.5,
            "labels": ["donor cell", "donor site", "maintainer", "status at map time", "because"]}
    return CanvasLayer(spec, data, name=f"Repeaters ({len(reps):,})", count=len(reps))


def transport_layer(ds, result, at, start, end, fmt) -> tuple[CanvasLayer | None, dict]:
    """Transport nodes with an outage in the period, linked to every site behind them."""
    net = result.network
    o = net.outages
    kinds = net.elements["kind"]
    o = o[o["element_id"].map(kinds).eq("transport").to_numpy()]
    if start is not None:
        o = o[o["end"].fillna(FOREVER) > start]
    if end is not None:
        o = o[o["start"] < end]
    if o.empty:
        return None, {}
    o = o.sort_values("start").drop_duplicates("element_id", keep="last")
    sites = ds["sites"].set_index("site_id")
    d = result.diagnoses
    blamed = d[d["element_id"].isin(o["element_id"])].groupby("element_id")
    n_blamed, tickets = blamed.size(), blamed["ticket_id"].agg(lambda s: ", ".join(sorted(set(s))))
    rows, link_from, link_lon, link_lat = [], [], [], []
    counts = {"down": 0, "ended": 0}
    for row in o.itertuples(index=False):  # one per failed transport node (few)
        behind = sorted(net.topology.downstream(row.element_id, "site"))
        behind = [s for s in behind if s in sites.index and pd.notna(sites.at[s, "lat"])]
        lat, lon = net.elements.at[row.element_id, "lat"], net.elements.at[row.element_id, "lon"]
        placed = "given"
        if pd.isna(lat) or pd.isna(lon):
            if not behind:
                continue
            lat, lon, placed = sites.loc[behind, "lat"].mean(), sites.loc[behind, "lon"].mean(), "centre of the sites behind it"
        down = row.start <= at and (pd.isna(row.end) or row.end > at)
        key = "down" if down else "ended"
        counts[key] += 1
        more = "" if len(behind) <= 40 else f" ... (+{len(behind) - 40})"
        rows.append({"id": f"transport:{row.element_id}", "k": key, "lon": lon, "lat": lat,
                     "t": f"{row.element_id}: {row.cause}",
                     "p": [f"Transport node {row.element_id} ({net.elements.at[row.element_id, 'name']})",
                           f"{row.cause} {row.event_id or ''}".strip(), str(row.detail) if pd.notna(row.detail) else "",
                           fmt(row.start), fmt(row.end) or "ongoing", "still down" if down else "restored",
                           f"{len(behind)}: " + ", ".join(behind[:40]) + more, str(int(n_blamed.get(row.element_id, 0))),
                           str(tickets.get(row.element_id, "")), placed]})
        link_from += [len(rows) - 1] * len(behind)
        link_lon += sites.loc[behind, "lon"].tolist()
        link_lat += sites.loc[behind, "lat"].tolist()
    if not rows:
        return None, {}
    frame = pd.DataFrame(rows)
    popup = list(zip(*frame["p"]))
    data = {**_points(frame["lon"], frame["lat"]), "k": code_column(frame["k"], list(TRANSPORT_COLORS)),
            "id": text_column(frame["id"]), "t": text_column(frame["t"]), "p": [text_column(list(v)) for v in popup],
            "links": {"from": link_from, **_points(link_lon, link_lat)}}
    spec = {"cls": "nd-transport", "kind": "points", "z": Z["nd-transport"], "keys": list(TRANSPORT_COLORS),
            "colors": TRANSPORT_COLORS, "radius": 8, "stroke": "#000", "lineWeight": 1.5,
            "labels": ["outage", "OMC detail", "start", "end", "at map time", "sites behind it", "complaints blamed on it",
                       "tickets", "position"]}
    return CanvasLayer(spec, data, name=f"Transport failures and the sites behind them ({len(rows)})", count=len(rows)), counts


# ----------------------------------------------------------------------------- complaints, tickets, hotspots
def complaint_layer(d: pd.DataFrame, tickets: pd.DataFrame, repeats: pd.DataFrame, tz: str
                    ) -> tuple[CanvasLayer, pd.DataFrame]:
    """Complaints coloured by cause, clustered on screen below zoom ``CLUSTER_MAX_ZOOM + 1``.

    Also returns each complaint's row in the layer (``complaint_id, row, evidence``), for the
    tickets that repeat a complaint's text (:func:`ticket_layer`).
    """
    d = _near_first(d)
    t = tickets.set_index("ticket_id")
    tid = d["ticket_id"].astype("str").where(d["ticket_id"].notna(), "")
    rep = repeats.set_index("complaint_id")
    rep_text = pd.Series(np.where(rep["repeat"], "yes (" + rep["repeat_by"].astype(str) + ") of " + rep["repeat_of"].astype(str)
                                  + ", " + rep["days_since"].round(1).astype(str) + " days earlier", ""), index=rep.index)
    ticket = (tid + " (" + tid.map(t["priority"]).astype("str") + ", " + tid.map(t["grade"]).astype("str") + ", "
              + tid.map(t["status"]).astype("str") + ")").where(tid != "", "")
    cid = d["complaint_id"].astype(str)
    yes = {True: "yes", False: ""}
    data = {**_points(d["lon"], d["lat"]), "k": code_column(d["cause"], CAUSE_ORDER), "id": text_column("complaint:" + cid),
            "p": [None, time_column(d["received_at"], tz), time_column(d["occurred_at"], tz, after=(1, d["received_at"])),
                  text_column(d["category"]), text_column(d["channel"]), text_column(d["customer"]),
                  text_column(d["vip"].fillna(False).astype(bool).map(yes)),
                  text_column(d["indoor"].fillna(False).astype(bool).map(yes)), text_column(d["description"]),
                  text_column(d["cause"]), text_column(d["element_id"]), text_column(d["via"]),
                  text_column(d["serving_ids"].astype("str").str.replace(";", ", ").where(d["serving_ids"].notna(), "")),
                  text_column(d["evidence"]), text_column(d["action"]), text_column(d["team"]), text_column(ticket),
                  time_column(tid.map(t["first_reply_due"]), tz, after=(1, d["received_at"])),
                  time_column(tid.map(t["due_at"]), tz, after=(1, d["received_at"])),
                  number_column(d["confidence"], digits=2), text_column(cid.map(rep_text))]}
    spec = {"cls": "nd-complaint", "kind": "points", "z": Z["nd-complaint"], "keys": list(CAUSE_ORDER), "colors": CAUSE_COLORS,
            "keyLabels": {c: c for c in CAUSES}, "title": {"complaint": ["Complaint ", ""]},
            "radius": 6, "stroke": "#fff", "halo": "rgba(0,0,0,0.6)",
            "cluster": {"px": CLUSTER_PX, "maxZoom": CLUSTER_MAX_ZOOM},
            "labels": COMPLAINT_LABELS}
    rows = pd.DataFrame({"complaint_id": cid, "row": np.arange(len(d)), "evidence": _text(d["evidence"])})
    return CanvasLayer(spec, data, name=f"Complaints by cause ({len(d):,})", count=len(d)), rows


def ticket_layer(tk: pd.DataFrame, tz: str, complaints: pd.DataFrame | None = None) -> CanvasLayer:
    """Tickets sized by their complaints; a ticket of one complaint drawn on the map points at
    that complaint's id and evidence instead of repeating them (``complaints`` from :func:`complaint_layer`)."""
    tk = _near_first(tk.dropna(subset=["lat", "lon"]))
    ids = tk["ticket_id"].astype(str)
    cids = tk["complaint_ids"].astype("str")
    n_ids = cids.str.count(";").to_numpy() + 1
    listed = cids.str.replace(";", ", ", regex=False)
    long = n_ids > 20
    if long.any():  # the first 20
        listed[long] = cids[long].str.split(";").str[:20].str.join(", ") + " ..."
    radius = np.clip(4 + 2 * np.sqrt(tk["complaint_count"].to_numpy(float)), 5, 18)
    if complaints is None:
        complaints = pd.DataFrame({"complaint_id": [], "row": [], "evidence": []})
    found = complaints.set_index("complaint_id")
    only = cids.where(n_ids == 1, "")
    row = only.map(found["row"]).fillna(-1).astype(np.int64).to_numpy()
    same_text = (only.map(found["evidence"]) == _text(tk["evidence"])).to_numpy()
    evidence_row = np.where(same_text, row, -1)
    data = {**_points(tk["lon"], tk["lat"]), "k": code_column(tk["priority"], list(PRIORITY_COLORS)),
            "id": text_column("ticket:" + ids), "r": np.round(radius, 1).tolist(),
            "p": [None, text_column(tk["cause"]), text_column(tk["element_id"]), text_column(tk["via"]),
                  text_column(tk["action"]), text_column(tk["team"]), text_column(_text(tk["priority"]) + " / " + _text(tk["grade"])),
                  time_column(tk["created_at"], tz), time_column(tk["first_reply_due"], tz, after=(7, tk["created_at"])),
                  time_column(tk["due_at"], tz, after=(7, tk["created_at"])), text_column(tk["status"]),
                  time_column(tk["resolved_at"], tz, after=(7, tk["created_at"])), number_column(tk["complaint_count"]),
                  reference_column(listed, layer="nd-complaint", column="id", rows=row, strip_prefix=True),
                  text_column(tk["sites_affected"]),
                  reference_column(tk["evidence"], layer="nd-complaint", column=COMPLAINT_EVIDENCE, rows=evidence_row)]}
    spec = {"cls": "nd-ticket", "kind": "points", "z": Z["nd-ticket"], "keys": list(reversed(PRIORITY_COLORS)),
            "colors": PRIORITY_COLORS, "title": {"ticket": ["Ticket ", ""]}, "tip": "{name}: {1} ({12})",
            "radius": 6, "stroke": "#222", "fillOpacity": 0.75,
            "labels": ["cause", "element", "via", "action", "team", "priority / grade", "created", "first reply due",
                       "closure due", "status", "resolved", "complaints", "complaint ids", "sites affected", "evidence"]}
    return CanvasLayer(spec, data, name=f"Tickets ({len(tk):,})", count=len(tk), show=False)


def hotspot_layer(spots, minimum: int, grid: str, size: float) -> CanvasLayer:
    """Grid cells with at least ``minimum`` complaints, as polygons of integer 1e-5 degree offsets from their centre."""
    hs = spots[spots["complaints"] >= minimum]
    hs = hs.iloc[spatial_order(hs["lon"], hs["lat"])].reset_index(drop=True)
    corners = 6 if grid == "hex" else 4
    if len(hs):
        ring = shapely.get_coordinates(hs.geometry.to_crs(4326).exterior.to_numpy()).reshape(len(hs), corners + 1, 2)[:, :corners]
        centre = np.stack([hs["lon"].to_numpy(float), hs["lat"].to_numpy(float)], axis=-1)[:, None, :]
        offsets = coord_ints(ring - centre).reshape(len(hs), -1).ravel().tolist()
    else:
        offsets = []
    share = (100 * hs["dominant_share"]).round(0).astype(int).astype(str)
    data = {**_points(hs["lon"], hs["lat"]), "k": code_column(hs["dominant_cause"], CAUSE_ORDER),
            "id": text_column("hotspot:" + hs["hotspot_id"].astype(str)), "ring": offsets,
            "p": [text_column("Hotspot #" + hs["rank"].astype(str) + " (" + hs["hotspot_id"].astype(str) + ")"),
                  number_column(hs["complaints"]), text_column(hs["dominant_cause"] + " (" + share + "%)"),
                  text_column(hs["causes"]), text_column(hs["first_half"].astype(str) + " -> " + hs["second_half"].astype(str)),
                  text_column(hs["trend"] + " (" + hs["trend_pct"].map("{:+.0f}%".format).astype(str) + ")"),
                  text_column(hs["cells"]), text_column(hs["elements"]), number_column(hs["repeat_complaints"]),
                  number_column(hs["vip_complaints"])]}
    spec = {"cls": "nd-hotspot", "kind": "polygons", "z": Z["nd-hotspot"], "corners": corners, "keys": list(CAUSE_ORDER),
            "tip": "{0}: {1} complaints, {2}",
            "colors": CAUSE_COLORS, "fillOpacity": 0.45, "weight": 1.5,
            "labels": ["complaints", "dominant cause", "causes", "first half -> second half", "trend", "cells (nearest serving)",
                       "elements blamed", "repeat complaints", "VIP complaints"]}
    shape = "hexagons" if grid == "hex" else "squares"
    return CanvasLayer(spec, data, name=f"Hotspots: {shape} of {size:g} m with >= {minimum} complaints ({len(hs):,})",
                       count=len(hs), show=False)


# ----------------------------------------------------------------------------- heatmaps
def _grid_counts(lat, lon, step: float, by=None) -> pd.DataFrame:
    """Points counted on a grid of ``step`` degrees: integer cell ``gx``, ``gy`` and count ``n`` (per ``by``), sorted."""
    frame = pd.DataFrame({"gy": np.floor(np.asarray(lat, float) / step).astype(np.int64),
                          "gx": np.floor(np.asarray(lon, float) / step).astype(np.int64)})
    keys = ["gy", "gx"]
    if by is not None:
        frame["by"] = np.asarray(by)
        keys = ["by"] + keys
    return frame.groupby(keys, sort=True).size().rename("n").reset_index()


def _grid_data(cells: pd.DataFrame, step: float) -> dict:
    """Grid cells as columns: ``gx``, ``gy`` as differences from the previous cell, ``w`` the counts."""
    return {"step": step, "gx": np.diff(cells["gx"].to_numpy(), prepend=0).tolist(),
            "gy": np.diff(cells["gy"].to_numpy(), prepend=0).tolist(), "w": cells["n"].tolist()}


def heat_layer(d: pd.DataFrame) -> HeatLayer:
    """The complaints' heatmap: complaints counted on a grid of ``HEAT_GRID_DEG``, one weighted
    point per grid cell at its centre (Leaflet.heat sums the weights as it summed the points)."""
    data = _grid_data(_grid_counts(d["lat"], d["lon"], HEAT_GRID_DEG), HEAT_GRID_DEG)
    options = {"radius": 16, "blur": 20, "minOpacity": 0.3}
    return HeatLayer(options, data, name=f"Complaint heatmap ({len(d):,})", show=False)


def heat_by_day(d: pd.DataFrame, tz: str, start, end) -> HeatMapWithTime | None:
    """A heatmap per day (time slider), each day counted on a grid of ``HEAT_DAY_GRID_DEG``.

    The per-day points are packed (:class:`~netdiag.views.leaflet.PackedData`) and handed to
    the slider's layer when unpacked; folium's own data list stays empty.
    """
    if d.empty:
        return None
    day = pd.to_datetime(d["received_at"], utc=True).dt.tz_convert(tz).dt.strftime("%Y-%m-%d")
    received = pd.to_datetime(d["received_at"], utc=True)
    first = pd.Timestamp(start) if start is not None else received.min()
    last = pd.Timestamp(end) - pd.Timedelta(seconds=1) if end is not None else received.max()
    days = local_days(first, last, tz)  # calendar days: midnight may not exist on a daylight-saving day
    cells = _grid_counts(d["lat"], d["lon"], HEAT_DAY_GRID_DEG, by=pd.Categorical(day, categories=days).codes)
    cells = cells[cells["by"] >= 0]
    layer = HeatMapWithTime([[] for _ in days], index=days, name="Complaint heatmap by day (slider, bottom left)",
                            radius=18, min_opacity=0.3, max_opacity=0.8, auto_play=False, show=False,
                            position="bottomleft")
    PackedData("heatByDay", {**_grid_data(cells, HEAT_DAY_GRID_DEG), "day": cells["by"].tolist(), "days": len(days)}
               ).add_to(layer)
    return layer
