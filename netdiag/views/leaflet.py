"""Offline Leaflet pages: netdiag's vendored scripts inlined, data embedded safely, nothing fetched.

Leaflet and its plugins ship with netdiag (``netdiag/static``, see its README). folium builds
the page; :func:`inline_assets` swaps folium's CDN links for the vendored copies inlined into
the page, and :func:`render_map` refuses any page that would still fetch a script, stylesheet
or image. Data reaches the page only as JSON with ``<``, ``>`` and ``&`` escaped
(:func:`safe_json`): small layers (a route) inline as GeoJSON drawn by ``netdiag-map.js``,
large ones (:class:`CanvasLayer`, :class:`HeatLayer`) as packed columns
(:mod:`netdiag.views.columns`) in data blocks of the page, unpacked and drawn on canvases by
``netdiag-canvas.js``; every text goes in through ``textContent``. :func:`read_layers` reads
a saved page's layers back.
"""
from __future__ import annotations

import base64
import json
import logging
import re
from pathlib import Path

import folium
import numpy as np
from branca.element import Element
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.plugins import HeatMapWithTime
from folium.template import Template

from netdiag.errors import InputError, NetdiagError
from netdiag.views.columns import COORD_SCALE, column_minutes, column_values, pack, unpack
from netdiag.views.sanitize import safe_json
from netdiag.views.writers import ensure_writable, write_text

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent.parent / "static"
MAX_ZOOM = 19

def check_tiles(tiles: str | None) -> None:
    """A tile URL must have ``{z}``, ``{x}`` and ``{y}`` (an XYZ tile server).

    Raises
    ------
    InputError
    """
    if tiles is not None and not all(k in tiles for k in ("{z}", "{x}", "{y}")):
        raise InputError(f"`tiles` was {tiles!r} but is expected to be a tile URL with {{z}}, {{x}} and {{y}}, "
                         f"e.g. http://tiles.noc.local/{{z}}/{{x}}/{{y}}.png")


# folium's resources by name -> the copy in netdiag/static; names in _DROP are not needed
_ASSETS = {
    "leaflet_css": "leaflet/leaflet.css",
    "leaflet": "leaflet/leaflet.js",
    "jquery": "jquery/jquery.min.js",
    "leaflet-heat.js": "leaflet.heat/leaflet-heat.js",
    "iso8601": "iso8601-js-period/iso8601.js",
    "leaflet.timedimension.min.js": "leaflet-timedimension/leaflet.timedimension.min.js",
    "leaflet.timedimension.control.min.css": "leaflet-timedimension/leaflet.timedimension.control.css",
    "heatmap.min.js": "heatmap.js/heatmap.min.js",
    "leaflet-heatmap.js": "heatmap.js/leaflet-heatmap.js",
    "netdiag_css": "netdiag/netdiag-map.css",
    "netdiag_js": "netdiag/netdiag-map.js",
    "netdiag_canvas_js": "netdiag/netdiag-canvas.js",
}
_DROP = {"bootstrap", "bootstrap_css", "glyphicons_css", "awesome_markers", "awesome_markers_css",
         "awesome_markers_font_css", "awesome_rotate_css"}
_REMOTE = re.compile(r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


class RawText(Element):
    """Literal text in the page (branca would otherwise run it through Jinja)."""

    _template = Template("{{ this.text }}")

    def __init__(self, text: str):
        super().__init__()
        self.text = text


class DataLayer(Layer):
    """A small layer drawn by ``netdiag-map.js`` from embedded GeoJSON (text-only popups), e.g. a route."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = netdiag.layer({{ this.payload }});
        {% endmacro %}
    """)

    def __init__(self, spec: dict, *, name: str, show: bool = True):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "NetdiagLayer"
        self.payload = safe_json(spec)
        self.count = len(spec["data"]["features"])


def _add_data_block(element, packed: str) -> str:
    """Put packed data into the page's body as ``<script type="application/octet-stream" id=...>``.

    Kept out of the scripts so that folium renders it as plain text (a template holding many
    megabytes would be compiled by Jinja); base64 has no ``<``, ``>`` or ``&``. Returns the id.
    """
    block_id = f"nd-data-{element.get_name()}"
    element.get_root().html.add_child(
        RawText(f'<script type="application/octet-stream" id="{block_id}">{packed}</script>'), name=block_id)
    return block_id


class CanvasLayer(Layer):
    """A layer of many features drawn on a canvas by ``netdiag-canvas.js`` from packed columns.

    ``spec`` (plain, small) says how to draw: ``cls``, ``kind`` (``points``, ``wedges`` or
    ``polygons``), colour ``keys`` and ``colors``, popup ``labels``; ``data`` holds the columns
    (:mod:`netdiag.views.columns`), packed with :func:`~netdiag.views.columns.pack` into a data
    block of the page that the script names.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = netdiag.canvas({{ this.payload }}, "{{ this.block_id }}");
        {% endmacro %}
    """)

    def __init__(self, spec: dict, data: dict, *, name: str, count: int, show: bool = True):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "NetdiagCanvas"
        self.payload = safe_json({**spec, "n": int(count)})
        self.packed = pack(data)
        self.count = int(count)
        self.requires = ("netdiag_canvas_js",)

    def render(self, **kwargs):
        self.block_id = _add_data_block(self, self.packed)
        super().render(**kwargs)


class HeatLayer(Layer):
    """A Leaflet.heat heatmap of counts on a grid (``step``, ``gx``, ``gy``, ``w``), packed like :class:`CanvasLayer`."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = netdiag.heat({{ this.payload }}, "{{ this.block_id }}");
        {% endmacro %}
    """)

    def __init__(self, options: dict, data: dict, *, name: str, show: bool = True):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "NetdiagHeat"
        self.payload = safe_json(options)
        self.packed = pack(data)
        self.requires = ("leaflet-heat.js", "netdiag_canvas_js")

    def render(self, **kwargs):
        self.block_id = _add_data_block(self, self.packed)
        super().render(**kwargs)


class PackedData(folium.MacroElement):
    """Packed columns handed to the parent element by ``netdiag.<function>(parent, data block)`` once unpacked."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        netdiag.{{ this.function }}({{ this._parent.get_name() }}, "{{ this.block_id }}");
        {% endmacro %}
    """)

    def __init__(self, function: str, data: dict):
        super().__init__()
        self._name = "NetdiagData"
        self.function = function
        self.packed = pack(data)
        self.requires = ("netdiag_canvas_js",)

    def render(self, **kwargs):
        self.block_id = _add_data_block(self, self.packed)
        super().render(**kwargs)


def read_layers(page: str) -> dict:
    """The layers of a saved map page, unpacked: ``{cls: spec with its columns}`` (``heat`` for the
    heatmap, ``heatByDay`` for the heatmap by day). For tests and notebooks; the page itself
    unpacks them in the browser.
    """
    blocks = dict(re.findall(r'<script type="application/octet-stream" id="([\w-]+)">([A-Za-z0-9+/=]*)</script>', page))
    layers = {}
    for kind, spec, block in re.findall(r'netdiag\.(canvas|heat)\((\{.*?\}), "([\w-]+)"\);\n', page):
        spec = json.loads(spec)
        layers[spec.get("cls", "heat") if kind == "canvas" else "heat"] = {**spec, **unpack(blocks[block])}
    for function, block in re.findall(r'netdiag\.(\w+)\(\w+, "([\w-]+)"\);\n', page):
        layers[function] = unpack(blocks[block])
    return layers


def layer_positions(layer: dict) -> tuple[list[float], list[float]]:
    """Longitudes and latitudes of an unpacked layer's rows (undoing the differences)."""
    return (np.cumsum(layer["lon"]) / COORD_SCALE).tolist(), (np.cumsum(layer["lat"]) / COORD_SCALE).tolist()


def layer_features(layer: dict, layers: dict | None = None) -> dict:
    """An unpacked canvas layer's rows as the page shows them: ``{id: {"k": colour key, "p": popup values}}``.

    The popup's first value is its title (made from the id when the layer says how, as the page
    does); ``layers`` (all of :func:`read_layers`) is needed for values that point into another layer.
    """
    ids = column_values(layer["id"])
    keys = [layer["keys"][k] if k < len(layer["keys"]) else None for k in layer["k"]]
    columns = []
    for col in layer["p"]:
        if col is None:
            columns.append(None)
        elif "r" in col:
            columns.append(column_values(col, row_minutes=column_minutes(layer["p"][col["r"]])))
        else:
            columns.append(column_values(col, layers=layers))
    titles = columns[0]
    if titles is None:
        titles = []
        for i in ids:
            prefix, _, name = i.partition(":")
            before, after = layer["title"][prefix]
            titles.append(before + name + after)
    popups = zip(titles, *columns[1:])
    return {i: {"k": k, "p": list(p)} for i, k, p in zip(ids, keys, popups)}


class FinishScript(folium.MacroElement):
    """Legend, info box, fitting the view, ``#id`` links: the last script of the page."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        netdiag.finish({{ this._parent.get_name() }}, {{ this.payload }});
        {% endmacro %}
    """)

    def __init__(self, opts: dict):
        super().__init__()
        self._name = "NetdiagFinish"
        self.payload = safe_json(opts)


# ----------------------------------------------------------------------------- assets
def _asset_text(name: str) -> str:
    path = STATIC / _ASSETS[name]
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".css":
        # remote web fonts (the time slider's Glyphicons) are replaced by netdiag-map.css
        text = re.sub(r"@font-face\s*{[^}]*}", "", text)

        def data_uri(match: re.Match) -> str:
            ref = match.group(2)
            local = (path.parent / ref).resolve()
            if ref.startswith(("data:", "#")) or not local.is_file():
                return match.group(0)
            mime = "image/png" if local.suffix == ".png" else "application/octet-stream"
            return f"url(data:{mime};base64,{base64.b64encode(local.read_bytes()).decode()})"

        text = re.sub(r"""url\((['"]?)([^'")]+)\1\)""", data_uri, text)
        return "<style>\n" + re.sub(r"</(style)", r"<\\/\1", text, flags=re.I) + "\n</style>"
    return "<script>\n" + re.sub(r"</(script)", r"<\\/\1", text, flags=re.I) + "\n</script>"


def _walk(element):
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def inline_assets(m: folium.Map) -> list[str]:
    """Replace folium's CDN links by netdiag's vendored copies, inlined into the page header.

    Call once, after every layer has been added. Resources that netdiag's maps do not use
    (Bootstrap, Font Awesome, awesome-markers) are dropped; jQuery is kept only for the
    heatmap by day and folium popups (both build their content with it).

    Returns
    -------
    list of str
        The names of the inlined resources, in page order.

    Raises
    ------
    NetdiagError
        When an element asks for a resource that netdiag does not ship (the map would need
        the network).
    """
    wanted: list[str] = []
    has_time = False
    for element in _walk(m):
        if isinstance(element, (HeatMapWithTime, folium.Popup)):
            has_time = True  # both build their content with jQuery
        if isinstance(element, JSCSSMixin):
            for name, url in list(element.default_css) + list(element.default_js):
                if name in _DROP or name in wanted:
                    continue
                if name not in _ASSETS:
                    raise NetdiagError(f"the map needs `{name}` from {url}, which netdiag does not ship; "
                                       f"it would not work offline (add it to netdiag/static)")
                wanted.append(name)
            element.default_js = []  # instance attributes: folium's class lists stay as they are
            element.default_css = []
        for name in getattr(element, "requires", ()):
            if name not in wanted:
                wanted.append(name)
    if not has_time and "jquery" in wanted:
        wanted.remove("jquery")
    wanted += ["netdiag_css", "netdiag_js"]
    css = [n for n in wanted if _ASSETS[n].endswith(".css")]
    js = [n for n in wanted if _ASSETS[n].endswith(".js")]
    order = css + sorted(js, key=lambda n: list(_ASSETS).index(n))
    header = m.get_root().header
    for name in order:
        header.add_child(RawText(_asset_text(name)), name=f"netdiag-asset-{name}")
    return order


def render_map(m: folium.Map) -> str:
    """The page as HTML text, checked to load nothing from the network.

    Raises
    ------
    NetdiagError
        When a script, stylesheet or image would be fetched from the network.
    """
    html = m.get_root().render()
    remote = _REMOTE.findall(html)
    if remote:
        raise NetdiagError(f"the map would load {len(remote)} resource(s) from the network, e.g. {remote[0]!r}")
    return html


def save_map(m: folium.Map, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write the map as one self-contained HTML file (parent folders are created).

    Raises
    ------
    OutputExistsError
        When ``path`` exists and ``overwrite`` is false.
    InputError
        When ``path`` is a folder.
    """
    path = ensure_writable(path, overwrite=overwrite)
    html = render_map(m)
    write_text(path, html)
    log.info("wrote %s (%.1f MB)", path, path.stat().st_size / 1e6)
    return path
