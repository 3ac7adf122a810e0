"""One self-contained HTML map of the network, the complaints and the tickets.

Layers (switchable in the layer control; the first five are on when the map opens):

- **sectors**: every cell's and repeater's serving wedge (:mod:`netdiag.engine.footprints`),
  coloured by its status at the map time ``at``: ``fault``, ``shutdown``, ``interference``,
  ``congested`` or ``in_service`` (a condition on the element or anywhere upstream of it, as
  in the diagnosis), plus the old footprints of relocated elements (``relocated``). On a large
  network (more than ``map_sectors_all_zooms`` sectors) the in-service ones are drawn only from
  the zoom where a typical wedge is readable (``map_sector_zoom``); the legend says so;
- **sites** and **repeaters** (coloured by status, repeaters linked to their donor's site);
- **transport failures**: transport nodes with an outage in the period, linked to every site
  behind them (red while still down at ``at``);
- **complaints**: coloured by diagnosed cause, clustered on screen up to zoom 16 (a cluster
  shows its count, ringed in its most common cause); the popup holds the evidence, the
  action, the team and the ticket;
- **tickets**, **hotspots** (:mod:`netdiag.views.hotspots`), a **heatmap** of the complaints and a
  **heatmap by day** (with a time slider), both summed on a grid before they are embedded.

Built for a province: every layer is embedded as compact columns (:mod:`netdiag.views.columns`)
and drawn on a canvas; a popup is built from the columns when a feature is clicked. A month of
250,000 complaints and 200,000 sectors makes a file of 19-25 MB, built in about 20 s, that
headless Chromium draws, every layer, in about 2 s (README, Performance).

Offline and safe
----------------
Leaflet and its plugins ship with netdiag (``netdiag/static``, see its README) and are inlined
into the page: the file needs no network at all. Base-map tiles are drawn only when a tile
URL is given (an internal tile server); otherwise the map has a plain background. Every text
from the data reaches the page through ``textContent`` (never ``innerHTML``), and the data is
embedded as JSON with ``<``, ``>`` and ``&`` escaped (then compressed), so neither a description
like ``<img src=x onerror=alert(1)>`` nor a ``</script>`` can run. Customer numbers are masked.

Links: ``netdiag.html#complaint:K001`` opens that complaint's popup (also ``#ticket:``,
``#cell:``, ``#repeater:``, ``#site:``, ``#transport:`` and ``#hotspot:``).
"""
from __future__ import annotations

import logging
from pathlib import Path

import folium
import numpy as np
import pandas as pd
from folium.map import Layer

from netdiag.data.schema import CAUSES
from netdiag.data.display import display_zone, zone_heading
from netdiag.data.times import check_period, format_times, parse_time, period_mask, when_text
from netdiag.data.values import join_groups
from netdiag.engine.diagnose import first_serving
from netdiag.engine.status import ELEMENT_STATES, element_status, worst_time
from netdiag.errors import InputError
from netdiag.tickets.grouping import data_as_of
from netdiag.views.hotspots import hotspots as find_hotspots
from netdiag.views.hotspots import repeat_complaints
from netdiag.views.leaflet import MAX_ZOOM, FinishScript, check_tiles, inline_assets
from netdiag.views.map_layers import (
    CAUSE_COLORS,
    CLUSTER_MAX_ZOOM,
    PRIORITY_COLORS,
    STATUS_COLORS,
    STATUS_LABELS,
    TRANSPORT_COLORS,
    complaint_layer,
    heat_by_day,
    heat_layer,
    hotspot_layer,
    repeater_layer,
    sector_layer,
    sector_min_zoom,
    site_layer,
    ticket_layer,
    transport_layer,
)
from netdiag.views.sanitize import escape_html

log = logging.getLogger(__name__)

__all__ = ["CAUSE_COLORS", "PRIORITY_COLORS", "STATUS_COLORS", "TRANSPORT_COLORS", "build_map", "check_map_options",
           "map_summary_text"]

#: on a large network, in-service sectors appear from the zoom where the median wedge's radius is this many pixels
SECTOR_MIN_PX = 24


def _fmt(series, tz: str) -> np.ndarray:
    """Local times as short text, one per value."""
    return format_times(pd.Series(series), tz).to_numpy(dtype=object)


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
        were out of service. A naive time is read in the display zone (:func:`~netdiag.data.display.display_zone`).
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
    tz = display_zone(settings)  # every time on the map, and times typed without an offset
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
        else:  # no complaint at all: the last moment the data has seen, not the wall clock
            at_ts = data_as_of(ds)
        at_label = "latest complaint" if len(d) else ("end of period" if end_ts is not None else "latest data")
    if d.empty:
        log.warning("no complaint was received in %s; the map shows the network only",
                    "the period" if start_ts is not None or end_ts is not None else "the data")

    shown = d
    if len(d) > settings.map_max_complaints:
        shown = d.sort_values("received_at").tail(settings.map_max_complaints)
        log.warning("%d complaints in the period: only the latest %d are drawn as points (map_max_complaints)",
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
                   tiles=None, control_scale=True)
    m.options["max_zoom"] = MAX_ZOOM  # the zoom limit of clusters and heatmaps when there is no tile layer
    m.get_root().title = escape_html(title)
    if tiles:
        folium.TileLayer(tiles=tiles, attr="internal tile server", name="Base map", overlay=False, control=False,
                         max_zoom=MAX_ZOOM).add_to(m)

    large = len(net.footprints) > settings.map_sectors_all_zooms
    zoom = settings.map_sector_zoom or sector_min_zoom(net, all_zooms_max=settings.map_sectors_all_zooms,
                                                       min_px=SECTOR_MIN_PX)
    zoom = zoom if large else 0
    sectors, status_counts = sector_layer(net, status, at_ts, served, tickets_by_el, tz, min_zoom=zoom,
                                          mast_zone_m=settings.mast_zone_m)
    sectors.add_to(m)
    site_layer(ds, status, nearest, small_below=zoom).add_to(m)
    reps = repeater_layer(ds, status)
    if reps is not None:
        reps.add_to(m)
    transport, transport_counts = transport_layer(ds, result, at_ts, start_ts, end_ts, lambda t: _fmt([t], tz)[0])
    if transport is not None:
        transport.add_to(m)
    complaint_rows = None
    if len(shown):  # a network with no complaints in the period still gets its map
        complaints, complaint_rows = complaint_layer(shown, result.tickets, repeats, tz)
        complaints.add_to(m)
    if len(tk):
        ticket_layer(tk, tz, complaint_rows).add_to(m)
    if len(d):
        spots = find_hotspots(result, settings=settings, grid=grid, start=start_ts, end=end_ts, repeats=repeats)
        hotspot_layer(spots, settings.hotspot_map_min, grid, settings.hotspot_cell_m).add_to(m)
        heat_layer(d).add_to(m)
        by_day = heat_by_day(d, tz, start_ts, end_ts)
        if by_day is not None:
            by_day.add_to(m)
    if show_all:
        for child in m._children.values():
            if isinstance(child, Layer) and child.overlay:
                child.show = True
    folium.LayerControl(collapsed=False, position="topright").add_to(m)

    cause_counts = d["cause"].value_counts()
    in_service = int(status_counts.get("in_service", 0))
    legend = [
        {"title": f"Sector status at {_fmt([at_ts], tz)[0]}",
         "items": [{"label": STATUS_LABELS[s], "color": STATUS_COLORS[s], "count": int(status_counts.get(s, 0)),
                    "dash": s == "relocated"} for s in ELEMENT_STATES],
         "note": {"layer": "nd-wedge", "minZoom": zoom,
                  "below": f"Zoom {{zoom}}: the {in_service:,} in-service sectors are hidden until zoom {zoom}, where the "
                           f"wedges are big enough to tell apart (zoom in); sectors with a problem are always drawn.",
                  "above": f"All sectors drawn (in-service ones only from zoom {zoom})."} if zoom else None},
        {"title": "Complaint cause (hotspots: dominant cause)",
         "items": [{"label": c.replace("_", " "), "color": CAUSE_COLORS[c], "shape": "dot", "count": int(cause_counts.get(c, 0))}
                   for c in CAUSES],
         "note": {"layer": "nd-complaint", "text": f"Up to zoom {CLUSTER_MAX_ZOOM}, nearby complaints are drawn as one circle "
                                                   f"with their number, ringed in their most common cause; click it to zoom in."}},
        {"title": "Ticket priority (size: complaints)",
         "items": [{"label": p, "color": c, "shape": "dot", "count": int((tk["priority"] == p).sum())}
                   for p, c in PRIORITY_COLORS.items()]},
    ]
    if transport_counts:
        legend.append({"title": "Transport failure", "items": [
            {"label": "still down at map time", "color": TRANSPORT_COLORS["down"], "shape": "dot", "count": transport_counts["down"]},
            {"label": "restored", "color": TRANSPORT_COLORS["ended"], "shape": "dot", "count": transport_counts["ended"]}]})
    period_from = _fmt([start_ts], tz)[0] if start_ts is not None else (_fmt([d["received_at"].min()], tz)[0] if len(d) else "")
    # an end is exclusive (a date-only --to is the day after it): shown as the last minute it takes in
    period_to = _fmt([end_ts - pd.Timedelta(minutes=1)], tz)[0] if end_ts is not None \
        else (_fmt([d["received_at"].max()], tz)[0] if len(d) else "")
    if len(d) or start_ts is not None or end_ts is not None:
        received = f"complaints received {period_from or '(any time)'} to {period_to or '(any time)'}: {len(d):,}"
    else:
        received = "no complaints in the data"
    info = [title, zone_heading(tz),
            f"status at {_fmt([at_ts], tz)[0]} ({at_label})",
            received + (f" (latest {len(shown):,} drawn)" if len(shown) < len(d) else ""),
            f"{len(tk):,} tickets, {sectors.count:,} sectors, {int(ds['sites']['lat'].notna().sum()):,} sites",
            "link a feature: add #complaint:ID, #ticket:ID, #cell:ID or #site:ID to the address"]
    FinishScript({"bounds": bounds, "legend": legend, "info": info}).add_to(m)
    names = inline_assets(m)
    n_spots = int((spots["complaints"] >= settings.hotspot_map_min).sum()) if len(d) else 0
    log.info("map: %d sectors, %d complaints, %d tickets, %d hotspots; status at %s; assets %s", sectors.count,
             len(shown), len(tk), n_spots, at_ts, ", ".join(names))
    m.netdiag_summary = {"at": at_ts, "tz": tz, "start": start_ts, "end": end_ts, "sectors": sectors.count,
                         "complaints": len(shown), "tickets": len(tk), "status": status_counts.to_dict()}
    return m


def map_summary_text(m: folium.Map, path: Path, seconds: float) -> str:
    """What a saved map holds, in one line: size, time taken, sectors, complaints, tickets, map time."""
    s = m.netdiag_summary
    return (f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB) in {seconds:.1f} s: "
            f"{s['sectors']:,} sectors, {s['complaints']:,} complaints, {s['tickets']:,} tickets; "
            f"status at {when_text(s['at'], s.get('tz', 'UTC'))}" + ("" if s.get("tz", "UTC") == "UTC" else f" ({s['tz']})"))
