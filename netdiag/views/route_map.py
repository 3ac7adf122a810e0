"""A field team's route for the day as an offline map: numbered stops, the line between them, the start."""
from __future__ import annotations

import folium
import numpy as np
from branca.element import Element

from netdiag.errors import InputError
from netdiag.views.leaflet import MAX_ZOOM, inline_assets
from netdiag.views.map import PRIORITY_COLORS
from netdiag.views.sanitize import escape_html


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
        Self-contained (assets inlined); save it with :func:`netdiag.views.leaflet.save_map`. Popups hold the
        ticket, place, due time, what to test and the evidence, all escaped.
    """
    path = plan.path()
    if not path:
        raise InputError(f"team {plan.team} has no visits to draw")
    lats = [p[0] for p in path]
    lons = [p[1] for p in path]
    m = folium.Map(location=[float(np.mean(lats)), float(np.mean(lons))], zoom_start=13, tiles=None,
                   control_scale=True, max_zoom=MAX_ZOOM)
    if tiles:
        folium.TileLayer(tiles=tiles, attr="internal tile server", name="Base map", control=False,
                         max_zoom=MAX_ZOOM).add_to(m)
    m.fit_bounds([[min(lats), min(lons)], [max(lats), max(lons)]], padding=(30, 30))
    folium.PolyLine(path, color="#1565c0", weight=4, opacity=0.8,
                    tooltip=escape_html(plan.summary())).add_to(m)
    if plan.start:
        folium.CircleMarker(plan.start, radius=7, color="#212121", fill=True, fill_opacity=1,
                            tooltip="start").add_to(m)
    for stop in plan.stops.to_dict("records"):
        colour = PRIORITY_COLORS.get(str(stop["priority"]), "#1565c0")
        icon = folium.DivIcon(html=(f'<div style="background:{colour};color:#fff;border-radius:12px;width:24px;'
                                    f'height:24px;line-height:24px;text-align:center;font:bold 12px sans-serif;'
                                    f'border:2px solid #fff">{int(stop["order"])}</div>'),
                              icon_size=(24, 24), icon_anchor=(12, 12))
        rows = [("stop", stop["order"]), ("ticket", stop["ticket_id"]), ("priority", stop["priority"]),
                ("place", stop["place"]), ("arrive", stop["arrive"]), ("due", stop["due"]),
                ("test", stop["what_to_test"]), ("evidence", stop["evidence"]), ("complaints", stop["complaints"])]
        popup = "<table>" + "".join(f"<tr><th style='text-align:left;padding-right:6px'>{escape_html(k)}</th>"
                                    f"<td>{escape_html(v)}</td></tr>" for k, v in rows) + "</table>"
        folium.Marker([float(stop["lat"]), float(stop["lon"])], icon=icon,
                      tooltip=escape_html(f"{stop['order']}. {stop['ticket_id']} {stop['place']}"),
                      popup=folium.Popup(popup, max_width=420)).add_to(m)
    title = escape_html(plan.summary())
    m.get_root().html.add_child(Element(
        f'<div style="position:fixed;top:10px;left:60px;z-index:1000;background:#fff;padding:6px 10px;'
        f'border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);font:13px sans-serif;max-width:60%">{title}</div>'))
    inline_assets(m)
    return m
