"""One self-contained HTML map of the network, the complaints and the tickets (folium).

Layers (switchable in the layer control; the first five are on when the map opens):

- **sectors**: every cell's and repeater's serving wedge (:mod:`netdiag.engine.footprints`),
  coloured by its status at the map time ``at``: ``fault``, ``shutdown``, ``interference``,
  ``congested`` or ``in_service`` (a condition on the element or anywhere upstream of it, as
  in the diagnosis), plus the old footprints of relocated elements (``relocated``);
- **sites** and **repeaters** (coloured by status, repeaters linked to their donor's site);
- **transport failures**: transport nodes with an outage in the period, linked to every site
  behind them (red while still down at ``at``);
- **complaints**: coloured by diagnosed cause and clustered; the popup holds the evidence, the
  action, the team and the ticket;
- **tickets**, **hotspots** (:mod:`netdiag.views.hotspots`), a **heatmap** of the complaints and a
  **heatmap by day** (with a time slider).

Offline and safe
----------------
Leaflet and its plugins ship with netdiag (``netdiag/static``, see its README) and are inlined
into the page: the file needs no network at all. Base-map tiles are drawn only when a tile
URL is given (an internal tile server); otherwise the map has a plain background. Every text
from the data reaches the page through ``textContent`` (never ``innerHTML``), and the data is
embedded as JSON with ``<``, ``>`` and ``&`` escaped, so neither a description like
``<img src=x onerror=alert(1)>`` nor a ``</script>`` can run. Customer numbers are masked.

Links: ``netdiag.html#complaint:K001`` opens that complaint's popup (also ``#ticket:``,
``#cell:``, ``#repeater:``, ``#site:``, ``#transport:`` and ``#hotspot:``).
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.map import Layer
from folium.plugins import HeatMap, HeatMapWithTime

from netdiag.data.schema import CAUSES
from netdiag.data.times import check_period, format_times, parse_time, period_mask, when_text
from netdiag.data.values import join_groups, text_or_empty
from netdiag.engine.diagnose import first_serving
from netdiag.engine.status import ELEMENT_STATES, FOREVER, element_status, worst_time
from netdiag.errors import InputError
from netdiag.views.hotspots import hotspots as find_hotspots
from netdiag.views.hotspots import repeat_complaints
from netdiag.views.leaflet import MAX_ZOOM, DataLayer, FinishScript, check_tiles, inline_assets
from netdiag.views.sanitize import escape_html

log = logging.getLogger(__name__)


STATUS_COLORS = {"fault": "#e53935", "shutdown": "#fb8c00", "relocated": "#9e9e9e", "interference": "#8e24aa",
                 "congested": "#fdd835", "in_service": "#43a047"}
STATUS_LABELS = {"fault": "fault", "shutdown": "shutdown", "relocated": "relocated (old footprint)",
                 "interference": "interference", "congested": "congested", "in_service": "in service"}
CAUSE_COLORS = {"fault": "#c62828", "shutdown": "#ef6c00", "relocation": "#6d4c41", "interference": "#8e24aa",
                "congestion": "#f9a825", "coverage_hole": "#212121", "no_fault_found": "#1e88e5"}
PRIORITY_COLORS = {"P1": "#b71c1c", "P2": "#e65100", "P3": "#f9a825", "P4": "#1565c0"}
TRANSPORT_COLORS = {"down": "#d50000", "ended": "#616161"}

# ----------------------------------------------------------------------------- helpers
def _fmt(series, tz: str) -> np.ndarray:
    """Local times as short text, one per value."""
    return format_times(pd.Series(series), tz).to_numpy(dtype=object)


def _text(series) -> np.ndarray:
    """Text for a popup, missing as ``""``, as an array."""
    return text_or_empty(series).to_numpy(dtype=object)


def _round_geoms(geoms) -> np.ndarray:
    return shapely.transform(np.asarray(geoms, dtype=object), lambda c: np.round(c, 6))


def _features(geoms, props: list[dict]) -> dict:
    """A GeoJSON FeatureCollection from WGS-84 geometries and property dicts."""
    geo = shapely.to_geojson(_round_geoms(geoms)) if len(props) else []
    return {"type": "FeatureCollection",
            "features": [{"type": "Feature", "geometry": json.loads(g), "properties": p} for g, p in zip(geo, props)]}


def _rows(*columns) -> list[list]:
    """Popup value lists, one per row, from equally long arrays."""
    return [list(r) for r in zip(*columns)]


def _to_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoSeries:
    return gdf.geometry.to_crs(4326)


# ----------------------------------------------------------------------------- layers
def _sector_layer(net, status: pd.DataFrame, at: pd.Timestamp, served: pd.Series, tickets_by_el: pd.Series,
                  tz: str) -> tuple[DataLayer, pd.Series]:
    fp = net.footprints
    old = (fp["variant"] == "old").to_numpy()
    valid_old = old & (fp["valid_from"].fillna(pd.Timestamp.min.tz_localize("UTC")) <= at).to_numpy() \
        & (fp["valid_to"].fillna(FOREVER) > at).to_numpy()
    fp = fp[~old | valid_old]
    st = status.reindex(fp["element_id"].to_numpy())
    k = np.where(fp["variant"].to_numpy() == "old", "relocated", st["status"].to_numpy(dtype=object))
    el = fp["element_id"].to_numpy(dtype=object)
    cells = net.ds["cells"].set_index("cell_id")
    tech = fp["element_id"].map(cells["technology"]).astype("str") + " " + \
        fp["element_id"].map(cells["band_mhz"]).round(0).astype("Int64").astype("str") + " MHz"
    tech = tech.where(fp["kind"] == "cell", "repeater")
    az = fp["azimuth_deg"].round(0).astype("Int64").astype("str")
    beam = (2 * fp["half_angle_deg"]).round(0).astype("Int64").astype("str")
    direction = np.where(fp["azimuth_deg"].isna(), "omni" + np.where(fp["indoor"].to_numpy(bool), " (indoor)", ""),
                         az + "° / serving wedge " + beam + "°")
    radius = fp["radius_m"].round(0).astype("Int64").astype("str") + " m (" + fp["radius_source"].astype("str") + ")"
    title = np.where(old[~old | valid_old], "Old footprint of " + pd.Series(el).astype(str) + " (relocated)",
                     np.where(fp["kind"].to_numpy() == "cell", "Cell ", "Repeater ") + pd.Series(el).astype(str))
    status_text = pd.Series(k).map(STATUS_LABELS).to_numpy(dtype=object)
    popup = _rows(title, _text(fp["site_id"]), _text(tech), status_text, _text(st["because"]), _fmt(st["since"], tz),
                  _fmt(st["until"], tz), direction, _text(radius), _text(pd.Series(el).map(served).fillna(0).astype(int)),
                  _text(pd.Series(el).map(tickets_by_el)))
    prefix = np.where(fp["kind"].to_numpy() == "cell", "cell:", "repeater:")
    ids = np.where(old[~old | valid_old], "old:" + pd.Series(el).astype(str), prefix + pd.Series(el).astype(str))
    props = [{"id": i, "k": kk, "t": f"{e}: {STATUS_LABELS[kk]}", "p": p} for i, kk, e, p in zip(ids, k, el, popup)]
    geoms = _to_wgs84(fp)
    spec = {"cls": "nd-wedge", "kind": "polygon", "colors": STATUS_COLORS, "dash": {"relocated": "4 3"},
            "fillOpacity": 0.28, "weight": 1,
            "labels": ["site", "technology", "status at map time", "because", "since", "until", "azimuth / width",
                       "radius", "complaints (nearest serving)", "tickets on it"],
            "data": _features(geoms.to_numpy(), props)}
    counts = pd.Series(k).value_counts()
    return DataLayer(spec, name=f"Sectors by status ({len(props):,})"), counts


def _site_layer(ds, status: pd.DataFrame, nearest: pd.Series) -> DataLayer:
    sites = ds["sites"].dropna(subset=["lat", "lon"])
    st = status.reindex(sites["site_id"].to_numpy())
    cells = ds["cells"].groupby("site_id")["cell_id"].agg(lambda s: ", ".join(sorted(s)))
    sid = sites["site_id"].to_numpy(dtype=object)
    popup = _rows("Site " + pd.Series(sid).astype(str) + " " + _text(sites["name"]), _text(sites["region"]),
                  _text(sites["maintainer"]), _text(sites["transport_id"]),
                  pd.Series(st["status"].to_numpy()).map(STATUS_LABELS).to_numpy(dtype=object), _text(st["because"]),
                  _text(pd.Series(sid).map(cells)), _text(pd.Series(sid).map(nearest).fillna(0).astype(int)))
    props = [{"id": f"site:{s}", "k": k, "t": f"{s} {n}".strip(), "p": p}
             for s, k, n, p in zip(sid, st["status"].to_numpy(dtype=object), _text(sites["name"]), popup)]
    geoms = shapely.points(sites["lon"].to_numpy(float), sites["lat"].to_numpy(float))
    spec = {"cls": "nd-site", "kind": "point", "colors": STATUS_COLORS, "radius": 4,
            "labels": ["region", "maintainer", "transport node", "status at map time", "because", "cells",
                       "complaints (nearest site)"],
            "data": _features(geoms, props)}
    return DataLayer(spec, name=f"Sites ({len(props):,})")


def _repeater_layer(ds, status: pd.DataFrame) -> DataLayer | None:
    reps = ds["repeaters"].dropna(subset=["lat", "lon"])
    if reps.empty:
        return None
    cells = ds["cells"].set_index("cell_id")
    sites = ds["sites"].set_index("site_id")
    donor_site = reps["donor_cell_id"].map(cells["site_id"])
    st = status.reindex(reps["repeater_id"].to_numpy())
    rid = reps["repeater_id"].to_numpy(dtype=object)
    popup = _rows("Repeater " + pd.Series(rid).astype(str), _text(reps["donor_cell_id"]), _text(donor_site),
                  _text(reps["maintainer"]), pd.Series(st["status"].to_numpy()).map(STATUS_LABELS).to_numpy(dtype=object),
                  _text(st["because"]))
    props = [{"id": f"repeater-site:{r}", "k": k, "r": 5, "t": f"repeater {r}", "p": p}
             for r, k, p in zip(rid, st["status"].to_numpy(dtype=object), popup)]
    geoms = list(shapely.points(reps["lon"].to_numpy(float), reps["lat"].to_numpy(float)))
    dlat, dlon = donor_site.map(sites["lat"]).to_numpy(float), donor_site.map(sites["lon"]).to_numpy(float)
    ok = ~np.isnan(dlat) & ~np.isnan(dlon)
    links = shapely.linestrings(np.stack([np.stack([reps["lon"].to_numpy(float), reps["lat"].to_numpy(float)], -1),
                                          np.stack([dlon, dlat], -1)], axis=1)[ok])
    geoms += list(links)
    props += [{"k": k} for k in st["status"].to_numpy(dtype=object)[ok]]
    spec = {"cls": "nd-repeater", "kind": "point", "colors": STATUS_COLORS, "stroke": "#37474f",
            "labels": ["donor cell", "donor site", "maintainer", "status at map time", "because"],
            "data": _features(np.asarray(geoms, dtype=object), props)}
    return DataLayer(spec, name=f"Repeaters ({len(reps):,})")


def _transport_layer(ds, result, at, start, end, tz) -> tuple[DataLayer | None, dict]:
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
    geoms, props, counts = [], [], {"down": 0, "ended": 0}
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
        popup = [f"Transport node {row.element_id} ({net.elements.at[row.element_id, 'name']})",
                 f"{row.cause} {row.event_id or ''}".strip(), str(row.detail or "") if pd.notna(row.detail) else "",
                 _fmt([row.start], tz)[0], _fmt([row.end], tz)[0] or "ongoing",
                 "still down" if down else "restored", f"{len(behind)}: " + ", ".join(behind[:40]) + more,
                 str(int(n_blamed.get(row.element_id, 0))), str(tickets.get(row.element_id, "")), placed]
        geoms.append(shapely.Point(lon, lat))
        props.append({"id": f"transport:{row.element_id}", "k": key, "r": 8, "t": f"{row.element_id}: {row.cause}", "p": popup})
        for s in behind:
            geoms.append(shapely.LineString([(lon, lat), (sites.at[s, "lon"], sites.at[s, "lat"])]))
            props.append({"k": key})
    if not geoms:
        return None, {}
    spec = {"cls": "nd-transport", "kind": "point", "colors": TRANSPORT_COLORS, "stroke": "#000", "lineWeight": 1.5,
            "labels": ["outage", "OMC detail", "start", "end", "at map time", "sites behind it", "complaints blamed on it",
                       "tickets", "position"],
            "data": _features(np.asarray(geoms, dtype=object), props)}
    n = sum(counts.values())
    return DataLayer(spec, name=f"Transport failures and the sites behind them ({n})"), counts


def _complaint_layer(d: pd.DataFrame, tickets: pd.DataFrame, repeats: pd.DataFrame, tz: str) -> DataLayer:
    t = tickets.set_index("ticket_id")
    tid = d["ticket_id"]
    rep = repeats.set_index("complaint_id")
    rep_text = pd.Series(np.where(rep["repeat"], "yes (" + rep["repeat_by"].astype(str) + ") of " + rep["repeat_of"].astype(str)
                                  + ", " + rep["days_since"].round(1).astype(str) + " days earlier", ""), index=rep.index)
    ticket = tid.astype("str") + " (" + tid.map(t["priority"]).astype("str") + ", " + tid.map(t["grade"]).astype("str") + ", " \
        + tid.map(t["status"]).astype("str") + ")"
    cid = d["complaint_id"].to_numpy(dtype=object)
    yes = {True: "yes", False: ""}
    popup = _rows("Complaint " + pd.Series(cid).astype(str), _fmt(d["received_at"], tz), _fmt(d["occurred_at"], tz),
                  _text(d["category"]), _text(d["channel"]), _text(d["customer"]), pd.Series(d["vip"].fillna(False).astype(bool)).map(yes).to_numpy(),
                  pd.Series(d["indoor"].fillna(False).astype(bool)).map(yes).to_numpy(), _text(d["description"]),
                  _text(d["cause"]), _text(d["element_id"]), _text(d["via"]), _text(d["serving_ids"].str.replace(";", ", ")),
                  _text(d["evidence"]), _text(d["action"]), _text(d["team"]), _text(ticket.where(tid.astype("str") != "", "")),
                  _fmt(tid.map(t["first_reply_due"]), tz), _fmt(tid.map(t["due_at"]), tz),
                  _text(d["confidence"].round(2)), _text(d["complaint_id"].map(rep_text)))
    props = [{"id": f"complaint:{c}", "k": k, "t": f"{c}: {k}", "p": p}
             for c, k, p in zip(cid, d["cause"].astype(str).to_numpy(dtype=object), popup)]
    geoms = shapely.points(d["lon"].to_numpy(float), d["lat"].to_numpy(float))
    spec = {"cls": "nd-complaint", "kind": "marker", "cluster": True, "colors": CAUSE_COLORS, "iconSize": 12,
            "labels": ["received", "problem time", "category", "channel", "customer", "VIP", "indoor", "description",
                       "cause", "blamed element", "via", "served by", "evidence", "action", "team", "ticket",
                       "first reply due", "closure due", "confidence", "repeat complaint"],
            "data": _features(geoms, props)}
    return DataLayer(spec, name=f"Complaints by cause ({len(props):,})")


def _ticket_layer(tk: pd.DataFrame, tz: str) -> DataLayer:
    tk = tk.dropna(subset=["lat", "lon"])
    ids = tk["ticket_id"].astype(str)
    cids = tk["complaint_ids"].astype("str").str.split(";")
    listed = cids.str[:20].str.join(", ") + np.where(cids.str.len() > 20, " ...", "")
    popup = _rows("Ticket " + ids, _text(tk["cause"]), _text(tk["element_id"]), _text(tk["via"]), _text(tk["action"]),
                  _text(tk["team"]), _text(tk["priority"] + " / " + tk["grade"]), _fmt(tk["created_at"], tz),
                  _fmt(tk["first_reply_due"], tz), _fmt(tk["due_at"], tz), _text(tk["status"]), _fmt(tk["resolved_at"], tz),
                  _text(tk["complaint_count"]), _text(listed), _text(tk["sites_affected"]), _text(tk["evidence"]))
    radius = np.clip(4 + 2 * np.sqrt(tk["complaint_count"].to_numpy(float)), 5, 18)
    props = [{"id": f"ticket:{i}", "k": k, "r": float(round(r, 1)), "t": f"{i}: {c} ({n})", "p": p}
             for i, k, r, c, n, p in zip(ids, tk["priority"].astype(str), radius, tk["cause"].astype(str),
                                         tk["complaint_count"], popup)]
    geoms = shapely.points(tk["lon"].to_numpy(float), tk["lat"].to_numpy(float))
    spec = {"cls": "nd-ticket", "kind": "point", "colors": PRIORITY_COLORS, "pointOpacity": 0.75,
            "labels": ["cause", "element", "via", "action", "team", "priority / grade", "created", "first reply due",
                       "closure due", "status", "resolved", "complaints", "complaint ids", "sites affected", "evidence"],
            "data": _features(geoms, props)}
    return DataLayer(spec, name=f"Tickets ({len(props):,})", show=False)


def _hotspot_layer(spots: gpd.GeoDataFrame, minimum: int, grid: str, size: float) -> DataLayer:
    hs = spots[spots["complaints"] >= minimum]
    popup = _rows("Hotspot #" + hs["rank"].astype(str) + " (" + hs["hotspot_id"].astype(str) + ")",
                  _text(hs["complaints"]), _text(hs["dominant_cause"] + " (" + (100 * hs["dominant_share"]).round(0).astype(int).astype(str) + "%)"),
                  _text(hs["causes"]), _text(hs["first_half"].astype(str) + " -> " + hs["second_half"].astype(str)),
                  _text(hs["trend"] + " (" + hs["trend_pct"].map("{:+.0f}%".format).astype(str) + ")"), _text(hs["cells"]),
                  _text(hs["elements"]), _text(hs["repeat_complaints"]), _text(hs["vip_complaints"]))
    props = [{"id": f"hotspot:{h}", "k": k, "t": f"#{r}: {n} complaints, {k}", "p": p}
             for h, k, r, n, p in zip(hs["hotspot_id"], hs["dominant_cause"].astype(str), hs["rank"], hs["complaints"], popup)]
    spec = {"cls": "nd-hotspot", "kind": "polygon", "colors": CAUSE_COLORS, "fillOpacity": 0.45, "weight": 1.5,
            "labels": ["complaints", "dominant cause", "causes", "first half -> second half", "trend", "cells (nearest serving)",
                       "elements blamed", "repeat complaints", "VIP complaints"],
            "data": _features(_to_wgs84(hs).to_numpy() if len(hs) else [], props)}
    shape = "hexagons" if grid == "hex" else "squares"
    return DataLayer(spec, name=f"Hotspots: {shape} of {size:g} m with >= {minimum} complaints ({len(props):,})", show=False)


def _heat_by_day(d: pd.DataFrame, tz: str, start, end) -> HeatMapWithTime | None:
    if d.empty:
        return None
    day = pd.to_datetime(d["received_at"], utc=True).dt.tz_convert(tz).dt.strftime("%Y-%m-%d")
    first = pd.Timestamp(start).tz_convert(tz).normalize() if start is not None else pd.Timestamp(day.min()).tz_localize(tz)
    last = (pd.Timestamp(end) - pd.Timedelta(seconds=1)).tz_convert(tz).normalize() if end is not None \
        else pd.Timestamp(day.max()).tz_localize(tz)
    days = pd.date_range(first, last, freq="D").strftime("%Y-%m-%d").tolist()
    pts = pd.DataFrame({"day": day.to_numpy(), "lat": d["lat"].round(5).to_numpy(), "lon": d["lon"].round(5).to_numpy()})
    grouped = {k: g[["lat", "lon"]].to_numpy().tolist() for k, g in pts.groupby("day")}
    data = [grouped.get(k, []) for k in days]
    return HeatMapWithTime(data, index=days, name="Complaint heatmap by day (slider, bottom left)", radius=18,
                           min_opacity=0.3, max_opacity=0.8, auto_play=False, show=False, position="bottomleft")


# ----------------------------------------------------------------------------- the map
def check_map_options(*, at=None, start=None, end=None, tiles: str | None = None, tz: str = "UTC") -> None:
    """Check a map's options before the long work of reading and diagnosing (see :func:`build_map`).

    Raises
    ------
    InputError
    """
    if not (isinstance(at, str) and at.strip().lower() == "worst"):
        parse_time(at, tz=tz, name="at")
    check_period(parse_time(start, tz=tz, name="start"), parse_time(end, tz=tz, name="end", end=True))
    check_tiles(tiles)


def build_map(ds, result, *, at=None, start=None, end=None, tiles: str | None = None, grid: str = "hex",
              title: str = "netdiag", show_all: bool = False) -> folium.Map:
    """The map of a diagnosed data set (see the module docstring for its layers).

    Parameters
    ----------
    ds : Dataset
        From :func:`netdiag.data.dataset.load_dataset`.
    result : Result
        ``diagnose(ds)``.
    at : str, Timestamp or "worst", optional
        The time of the sector, site and repeater status. Default: the latest complaint
        received in the period. ``"worst"``: the moment of the period when the most sectors
        were out of service. A naive time is read in ``settings.tz``.
    start, end : str or Timestamp, optional
        Only complaints received in ``[start, end)`` (and their tickets, transport failures
        overlapping the period); a date-only ``end`` includes that day.
    tiles : str, optional
        An XYZ tile URL with ``{z}``, ``{x}``, ``{y}`` (an internal tile server). Without it
        the map has a plain background and needs no network.
    grid : {"hex", "square"}
        The hotspot grid.
    title : str
        Page title and first line of the info box.
    show_all : bool
        Switch every layer on when the page opens (for screenshots and wall displays); by
        default tickets, hotspots and the heatmaps start switched off.

    Returns
    -------
    folium.Map
        With every resource inlined (:func:`inline_assets`); save with :func:`save_map`.
        ``m.netdiag_summary`` holds the map time, the period and the counts drawn.

    Raises
    ------
    InputError
        On a bad time, an empty period or a tile URL without ``{z}/{x}/{y}``.

    Examples
    --------
    >>> m = build_map(ds, diagnose(ds), at="2026-11-05T15:00+08:00")   # doctest: +SKIP
    >>> save_map(m, "maps/netdiag.html", overwrite=True)               # doctest: +SKIP
    """
    settings = ds.settings
    tz = settings.tz
    start_ts = parse_time(start, tz=tz, name="start")
    end_ts = parse_time(end, tz=tz, name="end", end=True)
    check_period(start_ts, end_ts)
    check_tiles(tiles)
    net = result.network
    d = result.diagnoses[period_mask(result.diagnoses["received_at"], start_ts, end_ts)].reset_index(drop=True)
    if isinstance(at, str) and at.strip().lower() == "worst":
        at_ts = worst_time(net, start_ts, end_ts)
        if at_ts is None:
            log.warning("no sector was out of service in the period; showing the status at its end")
        at_label = "the worst moment"
    else:
        at_ts = parse_time(at, tz=tz, name="at")
        at_label = "given"
    if at_ts is None:
        if len(d):
            at_ts = pd.Timestamp(d["received_at"].max())
        elif end_ts is not None:
            at_ts = end_ts - pd.Timedelta(seconds=1)
        else:
            at_ts = pd.Timestamp.now(tz="UTC").floor("s")
        at_label = "latest complaint" if len(d) else "end of period"

    shown = d
    if len(d) > settings.map_max_complaints:
        shown = d.sort_values("received_at").tail(settings.map_max_complaints)
        log.warning("%d complaints in the period: only the latest %d are drawn as markers (map_max_complaints)",
                    len(d), settings.map_max_complaints)
    tk = result.tickets[result.tickets["ticket_id"].isin(set(d["ticket_id"]))]
    status = element_status(net, at_ts)
    first = first_serving(d["serving_ids"])
    served = first[first != ""].value_counts()
    nearest = d["nearest_site"].value_counts()
    on_element = tk[tk["element_id"].fillna("").astype(str) != ""]
    tickets_by_el = join_groups(on_element["element_id"].astype(str), on_element["ticket_id"].astype(str) + " ("
                                + on_element["cause"].astype(str) + ", " + on_element["priority"].astype(str) + ")", "; ")
    repeats = repeat_complaints(result, settings=settings, start=start_ts, end=end_ts)

    lat = np.concatenate([ds["sites"]["lat"].dropna().to_numpy(float), d["lat"].to_numpy(float)])
    lon = np.concatenate([ds["sites"]["lon"].dropna().to_numpy(float), d["lon"].to_numpy(float)])
    if len(lat) == 0:
        raise InputError("nothing to draw: no located site and no complaint in the period")
    bounds = [[float(lat.min()), float(lon.min())], [float(lat.max()), float(lon.max())]]
    m = folium.Map(location=[float(np.mean(bounds, axis=0)[0]), float(np.mean(bounds, axis=0)[1])], zoom_start=12,
                   tiles=None, control_scale=True, prefer_canvas=False)
    m.options["max_zoom"] = MAX_ZOOM  # the marker clusters need it when there is no tile layer
    m.get_root().title = escape_html(title)
    if tiles:
        folium.TileLayer(tiles=tiles, attr="internal tile server", name="Base map", overlay=False, control=False,
                         max_zoom=MAX_ZOOM).add_to(m)

    sectors, status_counts = _sector_layer(net, status, at_ts, served, tickets_by_el, tz)
    sectors.add_to(m)
    _site_layer(ds, status, nearest).add_to(m)
    reps = _repeater_layer(ds, status)
    if reps is not None:
        reps.add_to(m)
    transport, transport_counts = _transport_layer(ds, result, at_ts, start_ts, end_ts, tz)
    if transport is not None:
        transport.add_to(m)
    if len(shown):  # a network with no complaints in the period still gets its map
        _complaint_layer(shown, result.tickets, repeats, tz).add_to(m)
    if len(tk):
        _ticket_layer(tk, tz).add_to(m)
    if len(d):
        spots = find_hotspots(result, settings=settings, grid=grid, start=start_ts, end=end_ts, repeats=repeats)
        _hotspot_layer(spots, settings.hotspot_map_min, grid, settings.hotspot_cell_m).add_to(m)
        HeatMap(d[["lat", "lon"]].round(5).to_numpy().tolist(), name=f"Complaint heatmap ({len(d):,})", radius=16,
                blur=20, min_opacity=0.3, show=False).add_to(m)
        by_day = _heat_by_day(d, tz, start_ts, end_ts)
        if by_day is not None:
            by_day.add_to(m)
    if show_all:
        for child in m._children.values():
            if isinstance(child, Layer) and child.overlay:
                child.show = True
    folium.LayerControl(collapsed=False, position="topright").add_to(m)

    cause_counts = d["cause"].value_counts()
    legend = [
        {"title": f"Sector status at {_fmt([at_ts], tz)[0]}",
         "items": [{"label": STATUS_LABELS[s], "color": STATUS_COLORS[s], "count": int(status_counts.get(s, 0)),
                    "dash": s == "relocated"} for s in ELEMENT_STATES]},
        {"title": "Complaint cause (hotspots: dominant cause)",
         "items": [{"label": c.replace("_", " "), "color": CAUSE_COLORS[c], "shape": "dot", "count": int(cause_counts.get(c, 0))}
                   for c in CAUSES]},
        {"title": "Ticket priority (size: complaints)",
         "items": [{"label": p, "color": c, "shape": "dot", "count": int((tk["priority"] == p).sum())}
                   for p, c in PRIORITY_COLORS.items()]},
    ]
    if transport_counts:
        legend.append({"title": "Transport failure", "items": [
            {"label": "still down at map time", "color": TRANSPORT_COLORS["down"], "shape": "dot", "count": transport_counts["down"]},
            {"label": "restored", "color": TRANSPORT_COLORS["ended"], "shape": "dot", "count": transport_counts["ended"]}]})
    period_from = _fmt([start_ts], tz)[0] if start_ts is not None else (_fmt([d["received_at"].min()], tz)[0] if len(d) else "")
    period_to = _fmt([end_ts], tz)[0] if end_ts is not None else (_fmt([d["received_at"].max()], tz)[0] if len(d) else "")
    info = [title,
            f"status at {_fmt([at_ts], tz)[0]} ({tz}, {at_label})",
            f"complaints received {period_from} to {period_to}: {len(d):,}"
            + (f" (latest {len(shown):,} drawn)" if len(shown) < len(d) else ""),
            f"{len(tk):,} tickets, {sectors.count:,} sectors, {int(ds['sites']['lat'].notna().sum()):,} sites",
            "link a feature: add #complaint:ID, #ticket:ID, #cell:ID or #site:ID to the address"]
    FinishScript({"bounds": bounds, "legend": legend, "info": info}).add_to(m)
    names = inline_assets(m)
    n_spots = int((spots["complaints"] >= settings.hotspot_map_min).sum()) if len(d) else 0
    log.info("map: %d sectors, %d complaints, %d tickets, %d hotspots; status at %s; assets %s", sectors.count,
             len(shown), len(tk), n_spots, at_ts, ", ".join(names))
    m.netdiag_summary = {"at": at_ts, "start": start_ts, "end": end_ts, "sectors": sectors.count,
                         "complaints": len(shown), "tickets": len(tk), "status": status_counts.to_dict()}
    return m


def map_summary_text(m: folium.Map, path: Path, seconds: float) -> str:
    """What a saved map holds, in one line: size, time taken, sectors, complaints, tickets, map time."""
    s = m.netdiag_summary
    return (f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB) in {seconds:.1f} s: "
            f"{s['sectors']:,} sectors, {s['complaints']:,} complaints, {s['tickets']:,} tickets; "
            f"status at {when_text(s['at'])}")
