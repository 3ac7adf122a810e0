"""A field team's route for the day as an offline map: numbered stops, the line between them, the start.

Drawn by ``netdiag-map.js`` from embedded JSON, like the main map: every text from the data
(place names, evidence, complaints) reaches the page through ``textContent``, never as HTML or
inside a script, so neither markup nor a ``${...}`` template can run. A stop's popup shows its
landmark and its position in WGS-84 and GCJ-02, labelled, with links to a map app (``geo:`` and
AMap; the page draws a link only for those two kinds of address). Customer numbers stay masked
on the map, even for a list that shows them.
"""
from __future__ import annotations

import folium
import numpy as np

from netdiag.data.display import zone_heading
from netdiag.errors import InputError
from netdiag.views.leaflet import MAX_ZOOM, DataLayer, FinishScript, check_tiles, inline_assets
from netdiag.views.map import PRIORITY_COLORS

ROUTE_COLOR = "#1565c0"
START_COLOR = "#212121"
STOP_LABELS = ["ticket", "priority", "place", "nearest site", "district", "WGS-84 (lat, lon)", "GCJ-02 (lat, lon)", "arrive",
               "due", "test", "evidence", "complaints"]


def build_dispatch_map(plan, *, tiles: str | None = None) -> folium.Map:
    """A field team's route for the day: numbered stops, the line between them, the start.

    Parameters
    ----------
    plan : netdiag.tickets.dispatch.DispatchPlan
        From :func:`netdiag.tickets.dispatch.plan_dispatch`.
    tiles : str, optional
        An XYZ tile URL of an internal tile server; default a plain background.

    Returns
    -------
    folium.Map
        Self-contained (assets inlined); save it with :func:`netdiag.views.leaflet.save_map`.
        Popups hold the ticket, place, due time, what to test and the evidence, as text.

    Raises
    ------
    InputError
        When the plan has no visits.
    """
    check_tiles(tiles)
    path = plan.path()
    if not path:
        raise InputError(f"team {plan.team} has no visits to draw")
    lats = [p[0] for p in path]
    lons = [p[1] for p in path]
    m = folium.Map(location=[float(np.mean(lats)), float(np.mean(lons))], zoom_start=13, tiles=None,
                   control_scale=True, max_zoom=MAX_ZOOM)
    m.get_root().title = "Dispatch route"
    if tiles:
        folium.TileLayer(tiles=tiles, attr="internal tile server", name="Base map", control=False,
                         max_zoom=MAX_ZOOM).add_to(m)
    summary = plan.summary()
    line = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[lon, lat] for lat, lon in path]},
            "properties": {"k": "route", "t": summary}}
    DataLayer({"cls": "nd-route", "colors": {"route": ROUTE_COLOR}, "lineWeight": 4,
               "data": {"type": "FeatureCollection", "features": [line]}}, name="Route").add_to(m)
    stops = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(s["lon"]), float(s["lat"])]},
              "properties": {"id": f"stop:{int(s['order'])}", "k": str(s["priority"]), "n": int(s["order"]),
                             "t": f"{s['order']}. {s['ticket_id']} {s['place']}",
                             "p": [f"Stop {int(s['order'])}", s["ticket_id"], s["priority"], s["place"],
                                   " ".join(x for x in (s["nearest_site_name"], f"({s['nearest_site_id']})"
                                                        if s["nearest_site_id"] else "") if x),
                                   s["district"], f"{s['lat_wgs84']:.6f}, {s['lon_wgs84']:.6f}",
                                   f"{s['lat_gcj02']:.6f}, {s['lon_gcj02']:.6f}", s["arrive"],
                                   s["due"], s["what_to_test"], s["evidence"], s["complaints"]],
                             "a": [["map app (WGS-84)", s["map_wgs84"]], ["高德地图 AMap (GCJ-02)", s["map_gcj02"]]]}}
             for s in plan.stops.to_dict("records")]
    if plan.start:
        stops.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [plan.start[1], plan.start[0]]},
                      "properties": {"id": "start", "k": "start", "t": "start"}})
    DataLayer({"cls": "nd-stop", "kind": "marker", "iconSize": 24, "labels": STOP_LABELS,
               "colors": {**PRIORITY_COLORS, "start": START_COLOR},
               "data": {"type": "FeatureCollection", "features": stops}}, name=f"Stops ({len(plan.stops)})").add_to(m)
    legend = [{"title": "Stops (number = order of the visits)",
               "items": [{"label": p, "color": c, "shape": "dot",
                          "count": int((plan.stops["priority"] == p).sum())} for p, c in PRIORITY_COLORS.items()]
               + ([{"label": "start", "color": START_COLOR, "shape": "dot"}] if plan.start else [])
               + [{"label": "route (straight lines)", "color": ROUTE_COLOR}]}]
    bounds = [[min(lats), min(lons)], [max(lats), max(lons)]]
    FinishScript({"bounds": bounds, "legend": legend, "info": [f"Dispatch list {plan.team}", zone_heading(plan.tz), summary]}).add_to(m)
    inline_assets(m)
    return m
