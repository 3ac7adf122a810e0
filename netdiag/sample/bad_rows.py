"""Planted bad rows: a few contract-breaking rows per table, harmless to every truth.

Owns the rows of "Bad rows" in :mod:`netdiag.sample`: where they go (quiet central sites,
random places between good rows), what each breaks, and their listing for ``truth/bad_rows.csv``.
The load table's rows are spliced in by :mod:`~netdiag.sample.load` as it writes each day.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from netdiag.sample._common import CENTRE_LAT, CENTRE_LON, DAY, HOUR, TRANSPORT_TEAM, _Clock
from netdiag.sample.city import _City
from netdiag.sample.incidents import _Plan
from netdiag.sample.writing import _merge_order


def _insert(frame: pd.DataFrame, rows: list) -> tuple[pd.DataFrame, list]:
    """Insert ``(position, row dict, id, what)`` before good row ``position``; return 1-based row numbers."""
    if not rows:
        return frame, []
    bad = pd.DataFrame([r[1] for r in rows], columns=frame.columns).fillna("").astype(object)
    order, where = _merge_order(len(frame), [r[0] for r in rows])
    merged = pd.concat([frame, bad], ignore_index=True).iloc[order].reset_index(drop=True)
    return merged, [(int(w) + 1, r[2], r[3]) for w, r in zip(where, rows)]


def _quiet_sites(city: _City, plan: _Plan) -> np.ndarray:
    """Sites no planted incident touches (directly or upstream): hosts for bad rows."""
    touched = np.zeros(len(city.node_id), dtype=bool)
    touched[[e["node"] for e in plan.events]] = True
    site = np.arange(len(city.sites))
    hub = city.sites["hub"].to_numpy()
    quiet = ~touched[city.offset["site"] + site] & ~touched[city.offset["hub"] + hub]
    quiet &= ~touched[city.offset["agg"] + city.hubs["agg"].to_numpy()[hub]]
    cell_touched = touched[city.offset["cell"]:city.offset["cell"] + len(city.cells)]
    busy = np.bincount(city.cells["site"].to_numpy(), weights=cell_touched, minlength=len(site)) > 0
    return quiet & ~busy


def _plant_bad_rows(rng, tables: dict, city: _City, clock: _Clock, quiet) -> list:
    """A few contract-breaking rows per table; returns ``(table, row, id, what)`` entries."""
    planted = []
    for name, rows in _bad_row_specs(rng, tables, city, clock, quiet).items():
        tables[name], listed = _insert(tables[name], rows)
        planted += [(name, row, rid, what) for row, rid, what in listed]
    return planted


def _bad_row_specs(rng, tables, city: _City, clock: _Clock, quiet) -> dict:
    """The planted rows of every table, as ``_insert`` wants them."""
    hosts = _central_sites(city, quiet, 5, rng)
    return {"sites": _bad_sites(rng, tables["sites"]), "cells": _bad_cells(rng, tables["cells"], city, hosts[:4]),
            "repeaters": _bad_repeaters(rng, tables["repeaters"], city, hosts[4]),
            "transport": _bad_transport(rng, tables["transport"]),
            "events": _bad_events(rng, tables["events"], city, clock),
            "complaints": _bad_complaints(rng, tables["complaints"], clock)}


def _central_sites(city: _City, quiet, k: int, rng) -> np.ndarray:
    """``k`` quiet sites among the most central fifth (any sites if too few are quiet)."""
    order = np.argsort(np.hypot(city.sites["x"], city.sites["y"]).to_numpy(), kind="stable")
    central = order[:max(k, len(order) // 5)]
    pool = central[quiet[central]] if quiet[central].sum() >= k else central
    return rng.choice(pool, size=k, replace=False)


def _bad_sites(rng, sites: pd.DataFrame) -> list:
    """A site with a non-numeric latitude and a duplicated site_id."""
    n = len(sites)
    width = len(sites["site_id"].iat[0]) - 1
    new_id = f"S{n + 901:0{width}d}"
    dup = int(rng.integers(0, n // 2))
    first = sites.iloc[0]
    return [
        (int(rng.integers(1, n)), {**first.to_dict(), "site_id": new_id, "name": f"SZ-Futian-{n + 901:04d}",
                                   "lat": "22°32'N"}, new_id, "lat is not a number"),
        (int(rng.integers(dup + 1, n + 1)), {**sites.iloc[dup].to_dict(), "name": sites["name"].iat[dup] + "-dup"},
         sites["site_id"].iat[dup], "duplicate site_id (the later row)"),
    ]


def _bad_cells(rng, cells: pd.DataFrame, city: _City, hosts) -> list:
    """Cells with an unknown site, azimuth 360, a negative radius, technology 6G, beamwidth 0."""
    n = len(cells)
    host = city.sites["site_id"].to_numpy()[hosts]
    base = {"technology": "LTE", "band_mhz": "1800", "azimuth_deg": "60", "beamwidth_deg": "65",
            "radius_m": "400", "indoor": "false"}
    width = len(city.sites["site_id"].iat[0]) - 1
    specs = [({"site_id": f"S{len(city.sites) + 950:0{width}d}"}, "site_id not in sites"),
             ({"site_id": host[0], "azimuth_deg": "360"}, "azimuth_deg 360 outside 0 <= x < 360"),
             ({"site_id": host[1], "radius_m": "-300"}, "negative radius_m"),
             ({"site_id": host[2], "technology": "6G"}, "unknown technology 6G"),
             ({"site_id": host[3], "beamwidth_deg": "0"}, "beamwidth_deg 0")]
    rows = []
    for k, (change, what) in enumerate(specs):
        cid = f"C{n + 1 + k:06d}"
        rows.append((int(rng.integers(1, n)), {"cell_id": cid, **base, **change}, cid, what))
    return rows


def _bad_repeaters(rng, reps: pd.DataFrame, city: _City, s: int) -> list:
    """A repeater whose donor cell does not exist."""
    rid = f"R{len(reps) + 1:04d}"
    row = {"repeater_id": rid, "donor_cell_id": "C999999", "lat": f"{city.sites['lat'].iat[s] + 0.002:.6f}",
           "lon": f"{city.sites['lon'].iat[s]:.6f}", "azimuth_deg": "", "beamwidth_deg": "", "radius_m": "300",
           "indoor": "false", "maintainer": city.sites["maintainer"].iat[s]}
    return [(int(rng.integers(0, len(reps) + 1)), row, rid, "donor_cell_id not in cells")]


def _bad_transport(rng, transport: pd.DataFrame) -> list:
    """Two hubs that are each other's parent."""
    n_hubs = int((transport["kind"] == "hub").sum())
    width = len(transport["node_id"].iat[-1]) - 3
    a, b = (f"HUB{n_hubs + k:0{width}d}" for k in (1, 2))
    base = {"kind": "hub", "lat": f"{CENTRE_LAT + 0.01:.6f}", "lon": f"{CENTRE_LON + 0.01:.6f}",
            "maintainer": TRANSPORT_TEAM}
    n = len(transport)
    return [(int(rng.integers(5, n)), {**base, "node_id": a, "parent_id": b}, a, f"parent cycle {a} > {b} > {a}"),
            (n, {**base, "node_id": b, "parent_id": a}, b, f"parent cycle {b} > {a} > {b}")]


def _bad_events(rng, events: pd.DataFrame, city: _City, clock: _Clock) -> list:
    """Bad events dated a week before the period, so that none could touch a complaint window."""
    n = len(events)
    t = -7 * DAY + 3 * HOUR + 1234.0
    start, end, before = (clock.iso([v], offset_h=0)[0] for v in (t, t + HOUR, t - HOUR))
    site = city.sites["site_id"].iat[int(rng.integers(0, len(city.sites)))]
    width = len(city.sites["site_id"].iat[0]) - 1
    base = {"element_id": site, "event_type": "fault", "severity": "major", "start_time": start,
            "end_time": end, "planned": "", "prev_lat": "", "prev_lon": "", "detail": "基站退服 site out of service"}
    specs = [({"end_time": before}, "end_time before start_time"),
             ({"element_id": f"S{len(city.sites) + 970:0{width}d}"}, "element_id not in the inventory"),
             ({"event_type": "maintenance"}, "unknown event_type maintenance"),
             ({"severity": "P1"}, "unknown severity P1")]
    rows = []
    for k, (change, what) in enumerate(specs):
        eid = f"EV{n + 1 + k:06d}"
        rows.append((int(rng.integers(0, n + 1)), {**base, "event_id": eid, **change}, eid, what))
    return rows


def _bad_complaints(rng, complaints: pd.DataFrame, clock: _Clock) -> list:
    """Complaints without a usable place, time, category or coordinate system, and a duplicate id."""
    n = len(complaints)
    template = complaints.iloc[n // 2].to_dict()
    day = template["complaint_id"][2:8]
    taken = set(complaints["complaint_id"])
    fresh = (cid for cid in (f"CP{day}9{k:03d}" for k in range(1, 1000)) if cid not in taken)
    specs = [({"lat": ""}, "lat missing"), ({"lat": "95.000000"}, "lat 95 outside -90..90"),
             ({"lat": "0.000000", "lon": "0.000000"}, "position (0, 0)"),
             ({"received_at": "yesterday"}, "received_at 'yesterday' is not a timestamp"),
             ({"category": "billing_dispute"}, "unknown category billing_dispute"),
             ({"coord_system": "utm50n"}, "unknown coord_system utm50n")]
    rows = []
    for change, what in specs:
        cid = next(fresh)
        rows.append((int(rng.integers(0, n + 1)), {**template, "complaint_id": cid, "coord_system": "wgs84",
                                                   "occurred_at": "", **change}, cid, what))
    dup = int(rng.integers(0, n // 2))
    other = complaints.iloc[int(rng.integers(n // 2, n))].to_dict()
    rows.append((int(rng.integers(dup + 1, n + 1)), {**other, "complaint_id": complaints["complaint_id"].iat[dup]},
                 complaints["complaint_id"].iat[dup], "duplicate complaint_id (the later row)"))
    return rows


def _load_bad_rows(city: _City, clock: _Clock, load_format: str) -> list:
    """Planted load rows: ``(day, position in that day's chunk, cell_id, prb_dl_pct, what)``.

    Even read leniently they change nothing: no congestion, no sleeping cell.
    """
    day = min(2, clock.days - 1)
    good = city.cells["cell_id"].iat[0]
    if load_format == "csv":
        text = ("#VALUE!", "prb_dl_pct '#VALUE!' is not a number")
    else:
        text = (None, "prb_dl_pct missing (null)")
    return [(day, 17, "C999998", 40.0, "cell_id not in cells"),
            (day, 4242, good, text[0], text[1]),
            (day, 9001, good, -5.0, "prb_dl_pct -5 outside 0..100")]
