"""Writing tables: value formatting, the inventory and event tables, CSV files, row splicing.

Owns how values become strings (:func:`_fmt`, :func:`_bool`), the sites, cells, repeaters,
transport and events tables in contract column order, :func:`_write_csv` and
:func:`_merge_order` (where extra rows go among good ones).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from netdiag.sample._common import CENTRE_LAT, CENTRE_LON, TRANSPORT_TEAM, _Clock
from netdiag.sample.city import _City
from netdiag.sample.incidents import _Plan


def _fmt(values, spec: str) -> np.ndarray:
    """Format numbers with ``spec`` (e.g. ``'%.6f'``); NaN -> ''."""
    v = np.asarray(values, dtype=float)
    out = np.full(v.shape, "", dtype=object)
    ok = np.isfinite(v)
    if ok.any():
        out[ok] = np.char.mod(spec, v[ok]).astype(object)
    return out


def _bool(values) -> np.ndarray:
    return np.where(np.asarray(values, dtype=bool), "true", "false").astype(object)


def _sites_table(city: _City) -> pd.DataFrame:
    s = city.sites
    return pd.DataFrame({"site_id": s["site_id"], "name": s["name"], "lat": _fmt(s["lat"], "%.6f"),
                         "lon": _fmt(s["lon"], "%.6f"), "transport_id": s["transport_id"],
                         "maintainer": s["maintainer"], "region": s["region"]}).astype(object)


def _cells_table(city: _City) -> pd.DataFrame:
    c = city.cells
    return pd.DataFrame({"cell_id": c["cell_id"], "site_id": city.sites["site_id"].to_numpy()[c["site"].to_numpy()],
                         "technology": c["technology"], "band_mhz": _fmt(c["band_mhz"], "%.0f"),
                         "azimuth_deg": _fmt(c["azimuth_deg"], "%.0f"),
                         "beamwidth_deg": _fmt(c["beamwidth_deg"], "%.0f"),
                         "radius_m": _fmt(c["radius_m"], "%.0f"), "indoor": _bool(c["indoor"])}).astype(object)


def _repeaters_table(city: _City) -> pd.DataFrame:
    r = city.repeaters
    return pd.DataFrame({"repeater_id": r["repeater_id"],
                         "donor_cell_id": city.cells["cell_id"].to_numpy()[r["donor"].to_numpy()],
                         "lat": _fmt(r["lat"], "%.6f"), "lon": _fmt(r["lon"], "%.6f"),
                         "azimuth_deg": _fmt(r["azimuth_deg"], "%.0f"),
                         "beamwidth_deg": _fmt(r["beamwidth_deg"], "%.0f"),
                         "radius_m": _fmt(r["radius_m"], "%.0f"), "indoor": _bool(r["indoor"]),
                         "maintainer": r["maintainer"]}).astype(object)


def _transport_table(city: _City) -> pd.DataFrame:
    hubs, aggs = city.hubs, city.aggs
    ids = ["CORE01", *aggs["node_id"], *hubs["node_id"]]
    parent = ["", *["CORE01"] * len(aggs), *aggs["node_id"].to_numpy()[hubs["agg"].to_numpy()]]
    lat = np.concatenate([[CENTRE_LAT], aggs["lat"], hubs["lat"]])
    lon = np.concatenate([[CENTRE_LON], aggs["lon"], hubs["lon"]])
    kind = ["core", *["aggregation"] * len(aggs), *["hub"] * len(hubs)]
    return pd.DataFrame({"node_id": ids, "kind": kind, "parent_id": parent, "lat": _fmt(lat, "%.6f"),
                         "lon": _fmt(lon, "%.6f"), "maintainer": TRANSPORT_TEAM}).astype(object)


def _events_table(city: _City, plan: _Plan, clock: _Clock) -> pd.DataFrame:
    ev = pd.DataFrame(plan.events)
    ev["element_id"] = city.node_id[ev["node"].to_numpy()]
    ev = ev.sort_values(["start", "element_id"], kind="stable").reset_index(drop=True)
    prev = ev["prev"].apply(lambda p: p if p else (np.nan, np.nan))
    planned = ev["planned"].map({True: "true", False: "false"}).fillna("").astype(object)
    return pd.DataFrame({
        "event_id": [f"EV{k:06d}" for k in range(1, len(ev) + 1)], "element_id": ev["element_id"],
        "event_type": ev["type"], "severity": ev["severity"],
        "start_time": clock.iso(ev["start"], offset_h=0), "end_time": clock.iso(ev["end"], offset_h=0),
        "planned": planned, "prev_lat": _fmt([p[0] for p in prev], "%.6f"),
        "prev_lon": _fmt([p[1] for p in prev], "%.6f"), "detail": ev["detail"]}).astype(object)


def _write_csv(frame: pd.DataFrame, path: Path) -> int:
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return len(frame)


def _merge_order(n_good: int, positions) -> tuple[np.ndarray, np.ndarray]:
    """Order that puts extra rows (appended after ``n_good`` good rows) before good row ``position``.

    Returns ``(order, where)``: ``rows[order]`` is the merged table and ``where[k]`` the 0-based
    merged position of appended row ``k`` (ties keep their listed order).
    """
    keys = np.concatenate([np.arange(n_good) * 2 + 1, np.asarray(positions, dtype=np.int64) * 2])
    order = np.argsort(keys, kind="stable")
    where = np.empty(len(keys), dtype=np.int64)
    where[order] = np.arange(len(keys))
    return order, where[n_good:]
