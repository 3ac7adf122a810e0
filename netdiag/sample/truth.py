"""The ground truth: serving footprints, planted conditions, the judge and the truth files.

Owns :class:`_Serving` (every footprint with IN / EDGE / OUT margins), :class:`_Conditions`
(outage, interference and congestion intervals per footprint), :func:`_judge` (the truth rules
of :mod:`netdiag.sample` applied to points and windows) and ``truth/*.csv``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from netdiag.data.coords import haversine_m
from netdiag.sample._common import (
    AGG,
    CAUSES,
    CELL,
    CONGESTION,
    CORE,
    DEFAULT_BEAMWIDTH,
    EDGE_DEG,
    EDGE_FRAC,
    EDGE_MIN_M,
    FAULT,
    HOLE,
    HOLE_CLEARANCE,
    HOUR,
    HUB,
    INTERFERENCE,
    MAST_EDGE_M,
    MAST_ZONE_M,
    NFF,
    RELOCATION,
    REP,
    SE_CELL,
    SE_OLD,
    SE_REPEATER,
    SHUTDOWN,
    SITE,
    TRUTH_COLUMNS,
    _bearing_deg,
    _Clock,
    _to_xy,
)
from netdiag.sample.city import _City, _nearest_other
from netdiag.sample.incidents import _Plan
from netdiag.sample.load import _Mods
from netdiag.sample.writing import _write_csv

IN, EDGE, OUT = 0, 1, 2


# ============================================================================= serving elements
@dataclass
class _Serving:
    """Every footprint that can serve a complaint: cells, repeaters, relocated cells' old places.

    ``r_in``/``r_out`` and ``mz_in``/``mz_out`` bound the radius and mast zone with margins:
    a point is IN (served under any reasonable reading), OUT, or on the EDGE.
    """

    kind: np.ndarray
    ref: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    az: np.ndarray
    half: np.ndarray
    r_in: np.ndarray
    r_out: np.ndarray
    mz_in: np.ndarray
    mz_out: np.ndarray
    clear: np.ndarray        # a coverage hole is farther than this from the element
    indoor: np.ndarray
    chain: np.ndarray        # (n, 6) node per level, -1 where none
    reloc_site: np.ndarray   # old footprints: the relocated site's node
    tree: shapely.STRtree = None
    clear_tree: shapely.STRtree = None
    index: dict = field(default_factory=dict)   # level (or "old") -> (element order, sorted node keys)

    def __len__(self) -> int:
        return len(self.kind)

    def build_index(self) -> None:
        """Sort elements by their node at each level, for :func:`_elements_below`."""
        columns = {level: self.chain[:, level] for level in range(6)}
        columns["old"] = self.reloc_site
        for level, keys in columns.items():
            order = np.argsort(keys, kind="stable")
            self.index[level] = (order, keys[order])


def _serving_elements(city: _City, plan: _Plan) -> _Serving:
    """Build the serving elements and their spatial indexes (after relocations moved sites)."""
    sites, cells, reps = city.sites, city.cells, city.repeaters
    sites["nearest_m"] = _nearest_other(sites["x"].to_numpy(), sites["y"].to_numpy())
    site = cells["site"].to_numpy()
    moved = [m["site"] for m in plan.moves]
    old = np.flatnonzero(np.isin(site, moved))
    prev = {m["site"]: m["prev"] for m in plan.moves}
    kind = np.concatenate([np.full(len(cells), SE_CELL), np.full(len(reps), SE_REPEATER), np.full(len(old), SE_OLD)])
    ref = np.concatenate([np.arange(len(cells)), np.arange(len(reps)), old])
    lat = np.concatenate([sites["lat"].to_numpy()[site], reps["lat"].to_numpy(),
                          [prev[s][0] for s in site[old]]]).astype(float)
    lon = np.concatenate([sites["lon"].to_numpy()[site], reps["lon"].to_numpy(),
                          [prev[s][1] for s in site[old]]]).astype(float)
    az = np.concatenate([cells["azimuth_deg"].to_numpy(), reps["azimuth_deg"].to_numpy(),
                         cells["azimuth_deg"].to_numpy()[old]]).astype(float)
    beam = np.concatenate([cells["beamwidth_deg"].to_numpy(), reps["beamwidth_deg"].to_numpy(),
                           cells["beamwidth_deg"].to_numpy()[old]]).astype(float)
    radius = np.concatenate([cells["radius_m"].to_numpy(), reps["radius_m"].to_numpy(),
                             cells["radius_m"].to_numpy()[old]]).astype(float)
    indoor = np.concatenate([cells["indoor"].to_numpy(), np.zeros(len(reps), bool), cells["indoor"].to_numpy()[old]])
    nearest = np.concatenate([sites["nearest_m"].to_numpy()[site], np.full(len(reps), np.inf),
                              np.full(len(old), np.inf)])
    half = np.where(np.isnan(az), 180.0, np.nan_to_num(beam, nan=DEFAULT_BEAMWIDTH))
    se = _Serving(kind, ref, lat, lon, az, half, *_margins(radius, nearest), indoor,
                  _chains(city, kind, ref), np.full(len(kind), -1))
    se.reloc_site[kind == SE_OLD] = city.offset["site"] + site[old]
    se.build_index()
    se.tree = _box_tree(se, np.maximum(se.r_out, se.mz_out) * 1.03 + 30.0)
    se.clear_tree = _box_tree(se, se.clear * 1.03 + 30.0)
    return se


def _margins(radius, nearest):
    """IN/OUT bounds of radius and mast zone, and the hole clearance, for each element."""
    given = np.isfinite(radius)
    margin = np.maximum(EDGE_MIN_M, EDGE_FRAC * radius)
    est_hi = 1.05 * np.maximum(np.where(np.isfinite(nearest), nearest, 1500.0), 150.0)
    r_in = np.where(given, radius - margin, np.minimum(140.0, 0.9 * nearest))
    r_out = np.where(given, radius + margin, est_hi + EDGE_MIN_M)
    mast = np.minimum(MAST_ZONE_M, np.where(given, radius, est_hi) / 4.0)
    mz_in = np.where(given, mast - MAST_EDGE_M, 25.0)
    mz_out = mast + MAST_EDGE_M
    clear = HOLE_CLEARANCE * np.where(given, radius, est_hi) + 30.0
    return r_in, r_out, mz_in, mz_out, clear


def _chains(city: _City, kind, ref) -> np.ndarray:
    """Dependency chain (node per level) of each serving element; old footprints have none."""
    cells, sites = city.cells, city.sites
    chain = np.full((len(kind), 6), -1, dtype=np.int64)
    cell = np.full(len(kind), -1)
    cell[kind == SE_CELL] = ref[kind == SE_CELL]
    rep = kind == SE_REPEATER
    cell[rep] = city.repeaters["donor"].to_numpy()[ref[rep]]
    live = kind != SE_OLD
    site = cells["site"].to_numpy()[cell[live]]
    hub = sites["hub"].to_numpy()[site]
    chain[live, CELL] = city.offset["cell"] + cell[live]
    chain[live, SITE] = city.offset["site"] + site
    chain[live, HUB] = city.offset["hub"] + hub
    chain[live, AGG] = city.offset["agg"] + city.hubs["agg"].to_numpy()[hub]
    chain[live, CORE] = city.offset["core"]
    chain[rep, REP] = city.offset["rep"] + ref[rep]
    return chain


def _box_tree(se: _Serving, half_size) -> shapely.STRtree:
    """STRtree of squares of half-size ``half_size`` (m) around each element, in local metres."""
    x, y = _to_xy(se.lat, se.lon)
    return shapely.STRtree(shapely.box(x - half_size, y - half_size, x + half_size, y + half_size))


def _elements_below(se: _Serving, level, node) -> np.ndarray:
    """Serving elements (not old footprints) whose chain passes through ``node``; ``"old"``: old ones."""
    order, keys = se.index[level]
    return np.sort(order[np.searchsorted(keys, node):np.searchsorted(keys, node, side="right")])


def _classify(se: _Serving, idx, lat, lon, indoor) -> np.ndarray:
    """IN / EDGE / OUT of each (element, point) pair, with the margins of :func:`_margins`."""
    d = haversine_m(se.lon[idx], se.lat[idx], lon, lat)
    off = np.abs((_bearing_deg(se.lat[idx], se.lon[idx], lat, lon) - se.az[idx] + 180.0) % 360.0 - 180.0)
    half = se.half[idx]
    wide = half >= 180.0 - EDGE_DEG
    ang_in = wide | (off < half - EDGE_DEG)
    ang_out = ~wide & (off > half + EDGE_DEG)
    inside = ((d < se.r_in[idx]) & ang_in) | (d < se.mz_in[idx])
    outside = (d > se.r_out[idx]) | (ang_out & (d > se.mz_out[idx])) | (se.indoor[idx] & ~indoor)
    return np.where(outside, OUT, np.where(inside, IN, EDGE))


# ============================================================================= conditions
@dataclass
class _Conditions:
    """Every planted condition per serving element, sorted by element (``offsets`` index it)."""

    se: np.ndarray
    t0: np.ndarray
    t1: np.ndarray
    cls: np.ndarray
    level: np.ndarray
    root: np.ndarray
    cause: np.ndarray
    offsets: np.ndarray


def _conditions(se: _Serving, city: _City, plan: _Plan, mods: _Mods) -> _Conditions:
    """Outage, interference and congestion intervals of each serving element, from the data written."""
    rows = []
    for e in plan.events:
        if e["severity"] == "warning":
            continue
        level = int(city.node_level[e["node"]])
        if e["type"] == "interference":
            affected = _elements_below(se, CELL, e["node"]) if level == CELL else np.zeros(0, int)
            affected = affected[se.kind[affected] == SE_CELL]
            rows.append(_cond_rows(affected, e["start"], e["end"], 1, CELL, e["node"], INTERFERENCE))
            continue
        cause = {"fault": FAULT, "shutdown": SHUTDOWN, "relocation": RELOCATION}[e["type"]]
        affected = _elements_below(se, "old" if cause == RELOCATION else level, e["node"])
        rows.append(_cond_rows(affected, e["start"], e["end"], 0, level, e["node"], cause))
    offset = city.offset["cell"]
    for keys, cls, cause in ((mods.noisy, 1, INTERFERENCE), (mods.congested, 2, CONGESTION), (mods.sleeping, 0, FAULT)):
        cell, hour = keys % mods.n_cells, keys // mods.n_cells
        rows.append(_cond_rows(cell, hour * HOUR, (hour + 1) * HOUR, cls, CELL, offset + cell, cause))
    table = {k: np.concatenate([r[k] for r in rows]) for k in rows[0]}
    order = np.argsort(table["se"], kind="stable")
    table = {k: v[order] for k, v in table.items()}
    offsets = np.searchsorted(table["se"], np.arange(len(se) + 1))
    return _Conditions(**table, offsets=offsets)


def _cond_rows(se_idx, t0, t1, cls, level, root, cause) -> dict:
    """Condition rows for elements ``se_idx`` (scalars are broadcast)."""
    n = len(se_idx)
    return {"se": np.asarray(se_idx, dtype=np.int64), "t0": np.broadcast_to(np.asarray(t0, float), n).copy(),
            "t1": np.broadcast_to(np.asarray(t1, float), n).copy(), "cls": np.full(n, cls),
            "level": np.full(n, level), "root": np.broadcast_to(np.asarray(root, np.int64), n).copy(),
            "cause": np.full(n, cause)}


# ============================================================================= the truth check
def _judge(se: _Serving, conds: _Conditions, lat, lon, indoor, w0, w1, *, inclusive: bool):
    """The truth the semantics give at each point and window: ``(cause, root)``, cause -1 if ambiguous.

    ``inclusive`` reads "overlap" as touching intervals counting too (``<=``) instead of strict.
    """
    n = len(lat)
    x, y = _to_xy(lat, lon)
    pt, el = se.tree.query(shapely.points(x, y), predicate="intersects")
    status = _classify(se, el, lat[pt], lon[pt], indoor[pt])
    keep = status != OUT
    pt, el, status = pt[keep], el[keep], status[keep]

    cnt = conds.offsets[el + 1] - conds.offsets[el]
    pair = np.repeat(np.arange(len(pt)), cnt)
    ci = conds.offsets[el][pair] + np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    a, b = w0[pt[pair]], w1[pt[pair]]
    live = (conds.t0[ci] <= b) & (conds.t1[ci] >= a) if inclusive else (conds.t0[ci] < b) & (conds.t1[ci] > a)
    pair, ci = pair[live], ci[live]

    # an old footprint serves only while its relocation is in the window
    has_cond = np.zeros(len(pt), bool)
    has_cond[pair] = True
    status = np.where((se.kind[el] == SE_OLD) & ~has_cond, EDGE, status)
    has_in = np.bincount(pt[status == IN], minlength=n) > 0
    has_edge = np.bincount(pt[status == EDGE], minlength=n) > 0
    edge_cond = np.bincount(pt[pair][status[pair] == EDGE], minlength=n) > 0
    cause, root = _reduce(n, pt[pair], pair, conds, ci, status[pair] == IN)

    ambiguous = edge_cond | (cause == -2) | ((cause == -1) & ~has_in & has_edge)
    cause = np.where(cause >= 0, cause, np.where(has_in, NFF, HOLE))
    cause = np.where(ambiguous, -1, cause)
    return cause, np.where(cause >= 0, root, -1)


def _reduce(n, p, pair, conds: _Conditions, ci, usable):
    """Top-precedence cause and its single root per point: -1 none, -2 more than one root."""
    p, pair, ci = p[usable], pair[usable], ci[usable]
    cls = conds.cls[ci]
    top = np.full(n, 9)
    np.minimum.at(top, p, cls)
    sel = cls == top[p]
    level = np.where(sel & (cls == 0), conds.level[ci], -1)
    upstream = np.full(pair.max() + 1 if len(pair) else 0, -1)
    np.maximum.at(upstream, pair, level)
    sel &= (cls != 0) | (level == upstream[pair])
    key = conds.root[ci] * 8 + conds.cause[ci]
    lo = np.full(n, np.iinfo(np.int64).max)
    hi = np.full(n, -1, dtype=np.int64)
    np.minimum.at(lo, p[sel], key[sel])
    np.maximum.at(hi, p[sel], key[sel])
    found = hi >= 0
    cause = np.where(found, np.where(lo == hi, lo % 8, -2), -1)
    return cause, np.where(found & (lo == hi), lo // 8, -1)


def _clear_of_everything(se: _Serving, lat, lon) -> np.ndarray:
    """True where a point is farther than twice every element's radius (a clear coverage hole)."""
    x, y = _to_xy(lat, lon)
    pt, el = se.clear_tree.query(shapely.points(x, y), predicate="intersects")
    near = haversine_m(se.lon[el], se.lat[el], lon[pt], lat[pt]) < se.clear[el]
    return np.bincount(pt[near], minlength=len(lat)) == 0


# ============================================================================= the truth files
def _write_truth(out: Path, city: _City, plan: _Plan, clock: _Clock, placed: pd.DataFrame,
                 complaints: pd.DataFrame, bad: list) -> dict:
    """truth/complaints.csv, truth/incidents.csv and truth/bad_rows.csv."""
    incidents = _incidents_table(plan, clock)
    order = np.argsort([inc["start"] for inc in plan.incidents], kind="stable")
    incident_id = np.empty(len(order), dtype=object)
    incident_id[order] = incidents["incident_id"].to_numpy(object)
    bad_complaints = [row for table, row, _, _ in bad if table == "complaints"]
    good = ~np.isin(np.arange(1, len(complaints) + 1), bad_complaints)
    root = placed["root"].to_numpy()
    inc = placed["incident"].to_numpy()
    truth = pd.DataFrame({
        "complaint_id": complaints["complaint_id"].to_numpy(object)[good],
        "cause": np.array(CAUSES, dtype=object)[placed["cause"].to_numpy()],
        "element_id": np.where(root >= 0, city.node_id[np.maximum(root, 0)], ""),
        "incident_id": np.where(inc >= 0, incident_id[np.maximum(inc, 0)] if len(incident_id) else "", ""),
    }).astype(object)
    bad_frame = pd.DataFrame(sorted(bad, key=lambda b: (b[0], b[1])), columns=TRUTH_COLUMNS["bad_rows"])
    return {"truth/complaints": _write_csv(truth, out / "truth" / "complaints.csv"),
            "truth/incidents": _write_csv(incidents, out / "truth" / "incidents.csv"),
            "truth/bad_rows": _write_csv(bad_frame, out / "truth" / "bad_rows.csv")}


def _incidents_table(plan: _Plan, clock: _Clock) -> pd.DataFrame:
    """truth/incidents.csv rows, ordered by start time."""
    inc = pd.DataFrame(plan.incidents).sort_values("start", kind="stable").reset_index(drop=True)
    planned = inc["planned"].map({True: "true", False: "false"}).fillna("").astype(object)
    return pd.DataFrame({
        "incident_id": [f"INC{k:04d}" for k in range(1, len(inc) + 1)],
        "cause": np.array(CAUSES, dtype=object)[inc["cause"].to_numpy()],
        "element_id": inc["element_id"], "start_time": clock.iso(inc["start"], offset_h=0),
        "end_time": clock.iso(inc["end"], offset_h=0), "planned": planned, "note": inc["note"]}).astype(object)
