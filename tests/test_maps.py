"""The HTML map: offline, escaped, status at the chosen time, and the ``netdiag map`` command.

On the tiny network HUB1 is down 2026-11-02 10:00-14:00Z (S001, S002 and their cells C001-C004,
and the repeater R01 of C001, are out of service behind it); C005 is shut down for planned
works 2026-11-02 17:00-21:00Z; C004 is congested 09:00-10:00Z.
"""
from __future__ import annotations

import json
import re

import folium
import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import TINY, write_dataset
from netdiag.cli.main import cli
from netdiag.data.dataset import load_dataset
from netdiag.engine.status import element_status, worst_time
from netdiag.errors import InputError, NetdiagError, OutputExistsError
from netdiag.pipeline import diagnose
from netdiag.views.leaflet import (
    inline_assets,
    layer_features,
    layer_positions,
    read_layers,
    render_map,
    safe_json,
    save_map,
)
from netdiag.views.map import build_map

XSS = '<img src=x onerror="document.title=\'PWNED\'">'
BREAKOUT = "</script><script>document.title='PWNED'</script>"


def xss_tables() -> dict:
    header, rows = TINY["complaints"]
    rows = [list(r) for r in rows]
    rows[0][-1] = XSS
    rows[1][-1] = BREAKOUT
    ev_header, events = TINY["events"]
    events = [list(e) for e in events]
    events[0][-1] = "fibre cut " + BREAKOUT  # OMC detail of the HUB1 fault, quoted in the evidence
    site_header, sites = TINY["sites"]
    sites = [list(s) for s in sites]
    sites[0][1] = XSS  # a site name
    return {"complaints": (header, rows), "events": (ev_header, events), "sites": (site_header, sites)}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("mapdata"), xss_tables())


@pytest.fixture(scope="module")
def loaded(data_dir):
    ds = load_dataset(data_dir)
    return ds, diagnose(ds)


@pytest.fixture(scope="module")
def html(loaded):
    ds, res = loaded
    return render_map(build_map(ds, res, at="2026-11-02T11:00Z", title="tiny"))


def layer_specs(page: str) -> dict:
    """The data of every netdiag layer in the page, unpacked, by CSS class."""
    return read_layers(page)


def features(page: str, cls: str) -> dict:
    """``{id: {"k": colour key, "p": popup values}}`` of one layer, as the page shows them."""
    layers = read_layers(page)
    return layer_features(layers[cls], layers)


def test_the_page_loads_nothing_from_the_network(html):
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=", html)
    assert "cdn.jsdelivr" not in html and "cdnjs" not in html and "bootstrapcdn" not in html
    assert "netdiag canvas layers" in html and "L.heatLayer" in html  # the runtime and the plugins are inlined
    assert len(html) > 300_000  # Leaflet and the plugins are in the page


def test_untrusted_text_cannot_break_out_or_run(html):
    assert XSS not in html and "onerror=\"document" not in html
    assert "</script><script>document.title" not in html
    # it is all there, packed from escaped JSON
    popups = {i: f["p"] for i, f in features(html, "nd-complaint").items()}
    assert XSS in popups["complaint:K001"]
    assert BREAKOUT in popups["complaint:K002"]
    assert any("fibre cut </script>" in str(v) for v in popups["complaint:K001"])  # evidence quotes the OMC detail
    assert features(html, "nd-site")["site:S001"]["p"][0] == "Site S001 " + XSS
    # the runtime sets popup text with textContent, never innerHTML (tests/test_browser.py runs it)
    for start in ("netdiag map runtime", "netdiag canvas layers"):
        runtime = html[html.index(start):html.index("}(window));", html.index(start))]
        assert "textContent" in runtime and ".innerHTML" not in runtime


def test_customer_numbers_are_masked(html):
    assert "13812345678" not in html and "13900001111" not in html
    assert "13812345678" not in str(layer_specs(html))
    assert "*******5678" in features(html, "nd-complaint")["complaint:K001"]["p"]


def test_sectors_are_coloured_by_status_at_the_chosen_time(loaded):
    ds, res = loaded

    def wedges(at):
        return {i: f["k"] for i, f in features(render_map(build_map(ds, res, at=at)), "nd-wedge").items()}

    during_hub_fault = wedges("2026-11-02T11:00Z")
    assert during_hub_fault == {"cell:C001": "fault", "cell:C002": "fault", "cell:C003": "fault", "cell:C004": "fault",
                                "cell:C005": "in_service", "cell:C006": "in_service", "repeater:R01": "fault"}
    planned_works = wedges("2026-11-03T03:00+08:00")  # 19:00Z
    assert planned_works["cell:C005"] == "shutdown" and planned_works["cell:C001"] == "in_service"
    busy = wedges("2026-11-02T09:30Z")
    assert busy["cell:C004"] == "congested" and busy["cell:C005"] == "interference"


def test_element_status_names_the_root(loaded):
    _, res = loaded
    st = element_status(res.network, pd.Timestamp("2026-11-02T11:00Z"))
    assert (st.loc["R01", "status"], st.loc["R01", "root_id"]) == ("fault", "HUB1")
    assert st.loc["C001", "because"].startswith("fault E1 on HUB1: fibre cut")
    assert st.loc["S003", "status"] == "in_service"


def test_worst_time_is_the_hub_fault(loaded):
    _, res = loaded
    assert worst_time(res.network) == pd.Timestamp("2026-11-02T10:00Z")
    assert worst_time(res.network, start=pd.Timestamp("2026-11-02T15:00Z")) == pd.Timestamp("2026-11-02T17:00Z")


def test_layers_counts_and_links(loaded, html):
    ds, _ = loaded
    specs = layer_specs(html)
    assert len(features(html, "nd-wedge")) == 7
    assert len(features(html, "nd-site")) == 3
    assert len(features(html, "nd-complaint")) == 2
    assert specs["nd-complaint"]["cluster"]["maxZoom"] == 16
    transport = features(html, "nd-transport")
    assert list(transport) == ["transport:HUB1"] and transport["transport:HUB1"]["k"] == "down"
    sites = ds["sites"].set_index("site_id")
    ends = sorted(zip(*layer_positions(specs["nd-transport"]["links"])))  # HUB1 -> S001, S002
    assert ends == sorted(zip(sites.loc[["S001", "S002"], "lon"], sites.loc[["S001", "S002"], "lat"]))
    assert len(features(html, "nd-ticket")) == 2
    assert "TDHeatmap" in html and "Complaint heatmap by day" in html
    assert sum(specs["heatByDay"]["w"]) == sum(specs["heat"]["w"]) == 2  # both heatmaps count every complaint


def test_period_filter_keeps_complaints_received_in_it(loaded):
    ds, res = loaded
    m = build_map(ds, res, start="2026-11-02T08:00Z", end="2026-11-02")  # K002 came at 07:00Z, K001 at 13:00Z
    assert m.netdiag_summary["complaints"] == 1
    with pytest.raises(InputError, match="`start` .* must be before `end`"):
        build_map(ds, res, start="2026-11-05", end="2026-11-01")


def test_tiles_only_when_asked(loaded):
    ds, res = loaded
    assert "L.tileLayer" not in render_map(build_map(ds, res))
    page = render_map(build_map(ds, res, tiles="http://tiles.noc.local/{z}/{x}/{y}.png"))
    assert "http://tiles.noc.local/{z}/{x}/{y}.png" in page and not re.search(r"<script[^>]+src=", page)
    with pytest.raises(InputError, match="`tiles` was 'http://x' but is expected to be a tile URL"):
        build_map(ds, res, tiles="http://x")


def test_a_resource_netdiag_does_not_ship_is_refused():
    from folium.plugins import Fullscreen

    m = folium.Map(tiles=None)
    Fullscreen().add_to(m)
    with pytest.raises(NetdiagError, match="does not ship"):
        inline_assets(m)


def test_safe_json_escapes_markup():
    text = safe_json({"a": "</script><!-- & \u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"a": "</script><!-- & \u2028"}


def test_save_map_refuses_to_overwrite(loaded, tmp_path):
    ds, res = loaded
    m = build_map(ds, res)
    path = save_map(m, tmp_path / "a" / "b" / "map.html")
    assert path.is_file()
    with pytest.raises(OutputExistsError, match="already exists; pass `overwrite`"):
        save_map(m, path)
    save_map(m, path, overwrite=True)


def test_cli_map_writes_the_default_file_and_never_overwrites(data_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    r = runner.invoke(cli, ["-q", "map", str(data_dir), "--at", "worst"])
    assert r.exit_code == 0, r.output
    page = (tmp_path / "maps" / "netdiag.html").read_text(encoding="utf-8")
    assert '"Times in UTC.","status at 2026-11-02 10:00 (the worst moment)"' in page
    r = runner.invoke(cli, ["map", str(data_dir)])
    assert r.exit_code == 2 and "maps/netdiag.html already exists; pass --overwrite" in r.output
    r = runner.invoke(cli, ["map", str(data_dir), "--overwrite", "--out", "deep/dir/x.html", "--from", "2026-11-02"])
    assert r.exit_code == 0, r.output
    assert "2 complaints" in r.output and (tmp_path / "deep" / "dir" / "x.html").is_file()


def test_cli_map_rejects_a_bad_time_before_reading_the_data(tmp_path):
    r = CliRunner().invoke(cli, ["map", str(tmp_path / "nowhere"), "--at", "yesterday-ish", "--out", str(tmp_path / "m.html")])
    assert r.exit_code == 2 and "--at was 'yesterday-ish'" in r.output


def _info(page: str) -> list[str]:
    """The info box's lines, as the page's finishing script gets them."""
    found = re.search(r"netdiag\.finish\([^,]+, (\{.*?\})\);", page, re.S)
    return json.loads(found.group(1))["info"]


def test_a_map_without_complaints_says_so_and_shows_the_datas_last_moment(tmp_path):
    header, _rows = TINY["complaints"]
    data = write_dataset(tmp_path / "data", {"complaints": (header, [])})
    ds = load_dataset(data)
    info = _info(render_map(build_map(ds, diagnose(ds), title="empty")))
    assert "no complaints in the data" in info
    # the status is at the data's last moment (its last counter period), not at the wall clock
    assert info[1] == "Times in UTC."
    assert info[2].startswith("status at 2026-11-02 ") and "latest data" in info[2]


def test_a_period_names_its_last_minute_and_a_period_without_complaints_says_how_many(loaded, caplog):
    ds, res = loaded
    info = _info(render_map(build_map(ds, res, start="2030-01-01", end="2030-01-02")))
    assert "complaints received 2030-01-01 00:00 to 2030-01-02 23:59: 0" in info
    assert "no complaint was received in the period" in caplog.text
