"""The demo map in a real headless browser (Debian's chromium), with no network.

Checks what a person would see: every sector wedge, site and complaint is drawn (the canvas
layers say how many they drew; complaints sit in clusters whose counts add up), the time slider and heatmaps work offline, and a
description or OMC detail full of markup shows as text and runs nothing. Writes a PNG
screenshot; with ``NETDIAG_SCREENSHOT_DIR`` set it is also saved there (docs/img for the
README). Skipped, with the reason, where no Chromium is installed.
"""
from __future__ import annotations

import html as htmllib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from netdiag.data.dataset import load_dataset
from netdiag.pipeline import diagnose
from netdiag.views.leaflet import save_map
from netdiag.views.map import build_map

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER = next((b for b in map(shutil.which, (os.environ.get("NETDIAG_CHROMIUM", ""),) + BROWSERS) if b), None)
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no headless Chromium found (Debian: apt-get install chromium); "
                                                        "the map was not checked in a browser")

TITLE = "netdiag demo"
PAYLOAD = "<img src=x onerror=\"document.title='PWNED';document.body.setAttribute('data-pwned','1')\">"
BREAKOUT = "</script><script>document.title='PWNED'</script>"
#: runs inside a JavaScript template literal (`...${...}...`): HTML escaping does not stop it
TEMPLATE = "${document.title='PWNED',document.body.setAttribute('data-pwned','1')}`+(document.title='PWNED')+`"


def browse(url: str, tmp_path: Path, *extra: str) -> tuple[str, str]:
    """Run headless Chromium on ``url`` with networking off; (stdout, stderr)."""
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    args = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
            "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={profile}", "--hide-scrollbars",
            "--window-size=1400,900", "--virtual-time-budget=10000", "--enable-logging=stderr", "--v=0", *extra, url]
    run = subprocess.run(args, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout, run.stderr


def not_pwned(dom: str, title: str | None = TITLE) -> bool:
    """The page title was not changed by a payload and its attribute was never set on <body>."""
    found = re.search(r"<title>(.*?)</title>", dom, re.S)
    if found is None or found.group(1).strip() == "PWNED" or (title is not None and found.group(1) != title):
        return False
    return not re.search(r"<body[^>]*data-pwned", dom)


def drawn(dom: str, cls: str) -> dict[str, int]:
    """What a canvas layer drew, from its ``data-*`` counts (``points``, ``clusters``, ``clustered``,
    ``wedges``, ``hidden``, ``polygons``)."""
    tag = re.search(rf'<canvas class="nd-canvas {cls}[ "][^>]*>', dom)
    assert tag, f"no canvas for {cls}"
    return {k: int(v) for k, v in re.findall(r'data-([a-z]+)="(\d+)"', tag.group(0))}


def console_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "CONSOLE" in line and ("Uncaught" in line or "Error" in line)]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo data (netdiag.sample, 60 sites) with markup in descriptions, OMC details and site names."""
    from netdiag.sample import generate

    root = tmp_path_factory.mktemp("browser")
    data = root / "data"
    generate(data, n_sites=60, seed=7)
    # hostile text in every free-text field that reaches a page: descriptions, OMC details
    # (-> evidence), site names (-> places), regions (-> field teams), maintainers (-> repair teams)
    for name, column, rows, value in (("complaints", "description", slice(None), PAYLOAD),
                                      ("events", "detail", slice(None), "cut " + BREAKOUT),
                                      ("sites", "name", slice(0, 5), PAYLOAD),
                                      ("sites", "name", slice(5, None), "site " + TEMPLATE),
                                      ("sites", "maintainer", slice(None), "maint " + TEMPLATE),
                                      ("sites", "region", slice(None), "West " + TEMPLATE)):
        path = data / f"{name}.csv"
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        frame.loc[frame.index[rows], column] = value
        frame.to_csv(path, index=False)
    ds = load_dataset(data)
    result = diagnose(ds)
    m = build_map(ds, result, at="worst", title=TITLE)
    path = save_map(m, root / "maps" / "netdiag.html")
    return {"root": root, "ds": ds, "result": result, "map": m, "path": path}


def test_everything_is_drawn_offline(demo, tmp_path):
    dom, stderr = browse(demo["path"].as_uri(), tmp_path, "--dump-dom")
    assert console_errors(stderr) == []
    assert 'data-netdiag-ready="1"' in dom, "the page script did not finish"
    assert not_pwned(dom)
    summary = demo["map"].netdiag_summary
    wedges, sites, complaints = drawn(dom, "nd-wedge"), drawn(dom, "nd-site"), drawn(dom, "nd-complaint")
    assert wedges["wedges"] == summary["sectors"] > 100 and wedges["hidden"] == 0  # a small network: every sector
    assert sites["points"] == demo["ds"]["sites"]["lat"].notna().sum()
    # each complaint is drawn once, alone or in a cluster
    assert complaints["points"] + complaints["clustered"] == summary["complaints"] == len(demo["result"].diagnoses)
    assert complaints["clusters"] > 0  # the clusters are on
    assert "timecontrol-play" in dom  # the time slider of the heatmap by day
    names = re.findall(r'class="leaflet-control-layers-selector"[^>]*>\s*<span>\s*(.*?)</span>', dom)
    assert len(names) == 9, names


def test_markup_in_the_data_shows_as_text_and_runs_nothing(demo, tmp_path):
    d = demo["result"].diagnoses
    target = d[d["evidence"].str.contains("</script>", regex=False)].iloc[0]["complaint_id"]
    dom, stderr = browse(demo["path"].as_uri() + f"#complaint:{target}", tmp_path, "--dump-dom")
    assert console_errors(stderr) == []
    assert not_pwned(dom)
    popup = re.search(r'<div class="nd-popup">.*?</table></div>', dom, re.S)
    assert popup, "the complaint's popup did not open"
    text = popup.group(0)
    assert f"Complaint {target}" in text
    assert htmllib.escape(PAYLOAD, quote=False) in text          # shown as text ...
    assert "<img" not in text and "<script" not in text          # ... not as markup
    assert "cut &lt;/script&gt;&lt;script&gt;" in text           # the OMC detail, quoted in the evidence
    assert re.search(r"\*{7}\d{4}", text)                       # the customer, masked


def test_screenshot_with_every_layer(demo, tmp_path):
    ds, result = demo["ds"], demo["result"]
    path = save_map(build_map(ds, result, at="worst", title=TITLE, show_all=True), tmp_path / "all.html")
    png = tmp_path / "netdiag-map.png"
    _, stderr = browse(path.as_uri(), tmp_path, f"--screenshot={png}")
    assert console_errors(stderr) == []
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 30_000
    target = os.environ.get("NETDIAG_SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(png, Path(target) / png.name)


def _keep_screenshot(png: Path) -> None:
    target = os.environ.get("NETDIAG_SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(png, Path(target) / png.name)


def test_default_map_screenshot(demo, tmp_path):
    path = save_map(build_map(demo["ds"], demo["result"], title=TITLE), tmp_path / "latest.html")
    png = tmp_path / "netdiag-map-latest.png"
    dom, stderr = browse(path.as_uri(), tmp_path, "--dump-dom")
    assert console_errors(stderr) == [] and 'data-netdiag-ready="1"' in dom
    _, stderr = browse(path.as_uri(), tmp_path, f"--screenshot={png}")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    _keep_screenshot(png)


@pytest.fixture(scope="module")
def dispatch(demo, tmp_path_factory):
    """The busiest field team's plan, from a store of the hostile demo data."""
    from netdiag.tickets.dispatch import busiest_field_day, plan_dispatch
    from netdiag.tickets.store import TicketStore

    folder = tmp_path_factory.mktemp("dispatch")
    with TicketStore(folder / "t.db") as store:
        result = diagnose(demo["ds"], store=store)
        team, day = busiest_field_day(result.tickets, "UTC")
        assert TEMPLATE in team  # the hostile region reached the team name
        return {"plan": plan_dispatch(store, team, date=day), "folder": folder}


def test_dispatch_route_map_draws_every_stop(dispatch, tmp_path):
    from netdiag.views.route_map import build_dispatch_map

    plan = dispatch["plan"]
    path = save_map(build_dispatch_map(plan), tmp_path / "route.html")
    dom, stderr = browse(path.as_uri() + "#stop:1", tmp_path, "--dump-dom")
    assert console_errors(stderr) == []
    assert not_pwned(dom, title="Dispatch route")
    stops = re.findall(r'<span class="nd-dot nd-num"[^>]*>(\d+)</span>', dom)
    assert sorted(map(int, stops)) == list(range(1, len(plan.stops) + 1))
    assert "nd-route-link" in dom  # the route line
    legend = re.search(r'<div class="leaflet-control nd-box nd-legend">.*?</div></div></div>', dom, re.S).group(0)
    assert all(p in legend for p in ("P1", "P2", "P3", "P4", "route"))
    popup = re.search(r'<div class="nd-popup">.*?</table>(?:<div class="nd-popup-links">.*?</div>)?</div>', dom, re.S)
    assert popup and "Stop 1" in popup.group(0)
    # the stop's map links are real links (and only geo: / https: ones), positions labelled in both systems
    assert re.search(r'<a href="geo:-?\d+\.\d{6},-?\d+\.\d{6}" target="_blank" rel="noopener noreferrer">', popup.group(0))
    assert '<a href="https://uri.amap.com/marker?position=' in popup.group(0)
    assert "WGS-84 (lat, lon)" in popup.group(0) and "GCJ-02 (lat, lon)" in popup.group(0)
    assert htmllib.escape(TEMPLATE, quote=False) in dom  # the team name, shown as text in the info box
    png = tmp_path / "dispatch-map.png"
    browse(path.as_uri(), tmp_path, f"--screenshot={png}")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    _keep_screenshot(png)


def test_no_page_runs_text_from_the_data(demo, dispatch, tmp_path):
    """Every page netdiag writes, with markup, a </script> and a ${...} template in every text field."""
    from netdiag.views.dispatch_list import write_dispatch
    from netdiag.views.period_report import analyse
    from netdiag.views.report_pages import write_report

    pages = write_dispatch(dispatch["plan"], tmp_path / "dispatch", route_map=True)
    pages = [p for p in pages if p.suffix == ".html"]
    pages += [p for p in write_report(analyse(demo["result"], period="week"), tmp_path / "report") if p.suffix == ".html"]
    pages.append(demo["path"])
    assert len(pages) == 4
    for page in pages:
        dom, stderr = browse(page.as_uri(), tmp_path, "--dump-dom")
        assert console_errors(stderr) == [], page.name
        assert not_pwned(dom, title=None), page.name


@pytest.mark.parametrize("typed", ["K%zz", "K%25zz"])
def test_a_link_to_an_id_with_a_percent_sign_opens_it_typed_or_encoded(typed, tmp_path):
    """``#complaint:K%zz`` as a person types it, and ``K%25zz`` as a link encodes it, both open K%zz."""
    from conftest import TINY, write_dataset

    header, rows = TINY["complaints"]
    rows = [list(r) for r in rows]
    rows[0][0] = "K%zz"
    ds = load_dataset(write_dataset(tmp_path / "data", {"complaints": (header, rows)}))
    page = save_map(build_map(ds, diagnose(ds), title=TITLE), tmp_path / "m.html")
    dom, stderr = browse(page.as_uri() + f"#complaint:{typed}", tmp_path, "--dump-dom")
    assert console_errors(stderr) == []
    popup = re.search(r'<div class="nd-popup">.*?</table></div>', dom, re.S)
    assert popup and "Complaint K%zz" in popup.group(0)
