"""Complaints: placing each where and when the truth rules give its intended truth, and the file.

Owns the complaint slots (incident shares, gaps, "nothing wrong"), drawing positions and times,
redrawing until :func:`~netdiag.sample.truth._judge` agrees, and the complaints table: ids,
converted positions, categories, channels, customers and descriptions.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from netdiag.data.coords import wgs84_to_bd09, wgs84_to_gcj02
from netdiag.sample._common import (
    ACTIVITY,
    CONGESTION,
    EDGE_DEG,
    FAULT,
    HOLE,
    HOUR,
    INTERFERENCE,
    LOCAL_OFFSET_H,
    LOOKBACK_S,
    NFF,
    RELOCATION,
    REP,
    SE_OLD,
    SE_REPEATER,
    SHUTDOWN,
    _choice,
    _Clock,
    _destination,
    _to_latlon,
)
from netdiag.sample.city import _City
from netdiag.sample.incidents import _Plan
from netdiag.sample.truth import _clear_of_everything, _elements_below, _judge, _Serving
from netdiag.sample.writing import _bool, _fmt

log = logging.getLogger(__name__)

#: share of the incident-tied complaints per incident kind
TIED_SHARE = {
    "hub_fault": 0.12, "agg_fault": 0.06, "site_fault": 0.14, "cell_fault": 0.10, "repeater_fault": 0.04,
    "donor_fault": 0.04, "shutdown_planned": 0.05, "shutdown_unplanned": 0.08, "relocation": 0.06,
    "interference_event": 0.08, "interference_load": 0.06, "congestion": 0.12, "sleeping": 0.05,
}
TIED_FRACTION, HOLE_FRACTION = 0.40, 0.05
NO_OCCURRED_FRACTION = 0.20
MAX_ROUNDS = 30

CATEGORY_BY_CAUSE = {   # (categories, probabilities)
    FAULT: (("no_signal", "call_drop", "weak_signal", "slow_data"), (0.70, 0.14, 0.11, 0.05)),
    SHUTDOWN: (("no_signal", "call_drop", "weak_signal", "slow_data"), (0.70, 0.14, 0.11, 0.05)),
    RELOCATION: (("no_signal", "weak_signal", "call_drop"), (0.55, 0.35, 0.10)),
    INTERFERENCE: (("call_drop", "weak_signal", "slow_data"), (0.45, 0.35, 0.20)),
    CONGESTION: (("slow_data", "call_drop", "other"), (0.75, 0.10, 0.15)),
    HOLE: (("no_signal", "weak_signal"), (0.60, 0.40)),
    NFF: (("weak_signal", "slow_data", "call_drop", "no_signal", "other"), (0.35, 0.25, 0.20, 0.10, 0.10)),
}
DESCRIPTIONS = {
    "no_signal": ["家里完全没有信号，手机显示无服务", "小区附近一格信号都没有，打不了电话", "公司楼下突然没信号了",
                  "No service at all at home since this morning", "Phone shows 'No service' near the office"],
    "weak_signal": ["信号很弱，经常只有一格", "室内信号差，要到阳台才能打电话", "最近信号时有时无",
                    "Signal is very weak indoors, 1 bar only", "Weak coverage on my street"],
    "call_drop": ["通话经常掉线", "打电话说几句就断", "开车经过这里总是掉话",
                  "Calls keep dropping on the way home", "Call dropped three times today"],
    "slow_data": ["晚上上网特别慢，视频卡顿", "网速很慢，网页打不开", "5G显示满格但是网速很慢",
                  "Mobile data extremely slow in the evening", "Video keeps buffering, data very slow"],
    "other": ["网络不好，请处理", "手机有时候不能上网", "Please check the network here", "Network problem, please call me"],
}
MALICIOUS = ["<img src=x onerror=alert(1)>", '=HYPERLINK("http://evil.example/x","点击查看详情")']
CHANNELS = (("hotline", "app", "wechat", "store", "social"), (0.45, 0.25, 0.15, 0.10, 0.05))
PHONE_PREFIXES = np.array([130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 157, 158, 159,
                           166, 176, 177, 180, 181, 182, 183, 186, 187, 188, 189, 198, 199])


# ============================================================================= placing
@dataclass
class _Groups:
    """What complaint slots aim at: incidents, the gaps, or 'served with nothing wrong'.

    Targets are serving-element indices (gap indices for the hole group) in one flat array;
    intervals likewise. ``*_off``/``*_cnt`` slice them per group.
    """

    cause: np.ndarray
    root: np.ndarray
    incident: np.ndarray
    is_gap: np.ndarray
    targets: np.ndarray
    tgt_off: np.ndarray
    tgt_cnt: np.ndarray
    iv_a: np.ndarray
    iv_b: np.ndarray
    iv_off: np.ndarray
    iv_cnt: np.ndarray


def _groups(plan: _Plan, se: _Serving, city: _City, clock: _Clock) -> _Groups:
    """One group per incident, one for the gaps, one for 'nothing wrong'."""
    rows = []
    last = clock.span - HOUR
    for k, inc in enumerate(plan.incidents):
        level, node = inc["target"]
        targets = _elements_below(se, level, node)
        if level == REP:
            targets = targets[se.kind[targets] == SE_REPEATER]
        intervals = [(a, min(b, last)) for a, b in inc["intervals"] if min(b, last) > a]
        if len(targets) and intervals:
            rows.append((inc["cause"], inc["node"], k, False, targets, intervals))
    rows.append((HOLE, -1, -1, True, np.arange(len(city.gaps)), [(0.0, float(last))]))
    rows.append((NFF, -1, -1, False, np.flatnonzero(se.kind != SE_OLD), [(0.0, float(last))]))
    tgt_cnt = np.array([len(r[4]) for r in rows])
    iv_cnt = np.array([len(r[5]) for r in rows])
    ivs = np.array([iv for r in rows for iv in r[5]], dtype=float)
    return _Groups(np.array([r[0] for r in rows]), np.array([r[1] for r in rows]), np.array([r[2] for r in rows]),
                   np.array([r[3] for r in rows]), np.concatenate([r[4] for r in rows]).astype(np.int64),
                   np.cumsum(tgt_cnt) - tgt_cnt, tgt_cnt, ivs[:, 0], ivs[:, 1], np.cumsum(iv_cnt) - iv_cnt, iv_cnt)


def _slot_groups(rng, groups: _Groups, plan: _Plan, n_total: int) -> np.ndarray:
    """The group of each complaint slot: incident shares, ~5% holes, the rest 'nothing wrong'."""
    n_tied = int(round(TIED_FRACTION * n_total))
    n_hole = int(round(HOLE_FRACTION * n_total))
    incident_groups = np.flatnonzero(groups.incident >= 0)
    kinds = np.array([plan.incidents[i]["kind"] for i in groups.incident[incident_groups]])
    weight = np.array([TIED_SHARE[k] / np.sum(kinds == k) for k in kinds]) if len(kinds) else np.zeros(0)
    per_group = rng.multinomial(n_tied, weight / weight.sum()) if len(kinds) and n_tied else np.zeros(len(kinds), int)
    if n_tied >= len(kinds):
        per_group = np.maximum(per_group, 1)
    hole_group, nff_group = len(groups.cause) - 2, len(groups.cause) - 1
    n_nff = max(n_total - int(per_group.sum()) - n_hole, 0)
    slots = np.concatenate([np.repeat(incident_groups, per_group), np.full(n_hole, hole_group),
                            np.full(n_nff, nff_group)])
    return slots


@dataclass
class _Draw:
    """Candidate complaints: true WGS-84 position, indoor flag, times and window."""

    target: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    indoor: np.ndarray
    occurred: np.ndarray
    received: np.ndarray
    w0: np.ndarray
    w1: np.ndarray


def _draw(rng, groups: _Groups, se: _Serving, city: _City, clock: _Clock, group, has_occ) -> _Draw:
    """Draw a position inside the target's footprint (or a gap's hole zone) and a time."""
    k = len(group)
    target = groups.targets[groups.tgt_off[group] + (rng.random(k) * groups.tgt_cnt[group]).astype(np.int64)]
    gap = groups.is_gap[group]
    lat, lon = np.empty(k), np.empty(k)
    lat[~gap], lon[~gap] = _point_in_footprint(rng, se, target[~gap])
    lat[gap], lon[gap] = _point_in_gap(rng, city.gaps, target[gap])
    indoor = np.where(gap, rng.random(k) < 0.3, se.indoor[np.where(gap, 0, target)] | (rng.random(k) < 0.25))
    occurred = _time_in_intervals(rng, groups, clock, group)
    occurred = np.floor(occurred / 60) * 60
    delay = np.minimum(0.5 * HOUR + rng.exponential(4 * HOUR, k), 24 * HOUR)
    received = np.floor(np.minimum(occurred + delay, clock.span - 60))
    w0 = np.where(has_occ, np.floor(occurred / HOUR) * HOUR, received - LOOKBACK_S)
    w1 = np.where(has_occ, np.floor(occurred / HOUR) * HOUR + HOUR, received)
    return _Draw(target, lat, lon, indoor, occurred, received, w0, w1)


def _point_in_footprint(rng, se: _Serving, idx):
    """Uniform points well inside each element's footprint (inside the IN margins)."""
    k = len(idx)
    wide = se.half[idx] >= 180.0 - EDGE_DEG
    spread = np.where(wide, 180.0, se.half[idx] - EDGE_DEG - 1.0)
    bearing = np.where(wide, 0.0, se.az[idx]) + rng.uniform(-1, 1, k) * spread
    dist = np.maximum(se.r_in[idx], 1.0) * np.sqrt(rng.uniform(0.003, 0.97, k))
    return _destination(se.lat[idx], se.lon[idx], bearing % 360, dist)


def _point_in_gap(rng, gaps: pd.DataFrame, idx):
    """Uniform points in the hole zone of each gap."""
    k = len(idx)
    r = gaps["hole_m"].to_numpy()[idx] * np.sqrt(rng.random(k))
    theta = rng.uniform(0, 2 * np.pi, k)
    return _to_latlon(gaps["x"].to_numpy()[idx] + r * np.sin(theta), gaps["y"].to_numpy()[idx] + r * np.cos(theta))


def _time_in_intervals(rng, groups: _Groups, clock: _Clock, group) -> np.ndarray:
    """A time in one of the group's intervals, favouring busy hours (4 tries by activity)."""
    k = len(group)
    length = groups.iv_b - groups.iv_a
    cum = np.cumsum(length)
    base = cum[groups.iv_off[group]] - length[groups.iv_off[group]]
    total = cum[groups.iv_off[group] + groups.iv_cnt[group] - 1] - base
    u = base[:, None] + rng.random((k, 4)) * total[:, None]
    iv = np.searchsorted(cum, u, side="right").clip(0, len(cum) - 1)
    t = groups.iv_a[iv] + (u - (cum[iv] - length[iv]))
    t = np.clip(t, groups.iv_a[iv], groups.iv_b[iv])
    accept = rng.random((k, 4)) < ACTIVITY[clock.local_hour(t)]
    accept[:, -1] = True
    return t[np.arange(k), accept.argmax(axis=1)]


def _place_complaints(rng, city, clock, plan, se, conds, n_total: int) -> pd.DataFrame:
    """Draw complaint slots until the semantics give each its intended truth (or give up).

    A slot without ``occurred_at`` whose 72 h look-back keeps catching another incident gets an
    ``occurred_at`` after half the rounds; a slot still ambiguous after ``MAX_ROUNDS`` is dropped.
    """
    groups = _groups(plan, se, city, clock)
    slot_group = _slot_groups(rng, groups, plan, n_total)
    has_occ = rng.random(len(slot_group)) >= NO_OCCURRED_FRACTION
    accepted = []
    pending = np.arange(len(slot_group))
    for round_no in range(MAX_ROUNDS):
        if not len(pending):
            break
        if round_no == MAX_ROUNDS // 2:
            has_occ[pending] = True
        g = slot_group[pending]
        d = _draw(rng, groups, se, city, clock, g, has_occ[pending])
        ok = _truth_holds(se, conds, d, groups.cause[g], groups.root[g])
        accepted.append(pd.DataFrame({"slot": pending[ok], "group": g[ok], "target": d.target[ok],
                                      "lat": d.lat[ok], "lon": d.lon[ok], "indoor": d.indoor[ok],
                                      "occurred": np.where(has_occ[pending], d.occurred, np.nan)[ok],
                                      "received": d.received[ok]}))
        pending = pending[~ok]
    if len(pending):
        log.info("synth: %d complaint slots found no unambiguous spot and were dropped", len(pending))
    placed = pd.concat(accepted, ignore_index=True).sort_values(["received", "slot"], kind="stable")
    placed["cause"] = groups.cause[placed["group"].to_numpy()]
    placed["root"] = groups.root[placed["group"].to_numpy()]
    placed["incident"] = groups.incident[placed["group"].to_numpy()]
    return placed.reset_index(drop=True)


def _truth_holds(se, conds, d: _Draw, cause, root) -> np.ndarray:
    """Both readings of overlap give the intended cause and root (and holes are clear holes)."""
    ok = np.ones(len(cause), bool)
    for inclusive in (False, True):
        got, got_root = _judge(se, conds, d.lat, d.lon, d.indoor, d.w0, d.w1, inclusive=inclusive)
        ok &= (got == cause) & (got_root == root)
    hole = cause == HOLE
    if hole.any():
        ok[hole] &= _clear_of_everything(se, d.lat[hole], d.lon[hole])
    return ok


# ============================================================================= the complaints table
def _complaints_table(rng, city: _City, clock: _Clock, placed: pd.DataFrame) -> pd.DataFrame:
    """The complaints file: ids by day of receipt, converted positions, categories, people."""
    n = len(placed)
    lat, lon, system = _convert_positions(rng, placed["lat"].to_numpy(), placed["lon"].to_numpy())
    category = np.empty(n, dtype=object)
    for cause, (options, probs) in CATEGORY_BY_CAUSE.items():
        mask = placed["cause"].to_numpy() == cause
        category[mask] = _choice(rng, options, probs, int(mask.sum()))
    description = np.array([DESCRIPTIONS[c][i % len(DESCRIPTIONS[c])] for c, i in
                            zip(category, rng.integers(0, 1000, n))], dtype=object)
    if n >= 10:
        description[rng.choice(n, size=2, replace=False)] = MALICIOUS
    return pd.DataFrame({
        "complaint_id": _complaint_ids(clock, placed["received"].to_numpy()),
        "received_at": clock.iso(placed["received"], offset_h=LOCAL_OFFSET_H),
        "occurred_at": clock.iso(placed["occurred"], offset_h=LOCAL_OFFSET_H),
        "lat": lat, "lon": lon, "coord_system": system, "category": category,
        "indoor": _bool(placed["indoor"]), "channel": _choice(rng, *CHANNELS, n),
        "customer_id": _customers(rng, placed), "vip": _bool(rng.random(n) < 0.04),
        "description": description}).astype(object)


def _convert_positions(rng, lat, lon):
    """~20% GCJ-02, ~10% BD-09, the rest WGS-84 (some with an empty coord_system); 6 decimals."""
    u = rng.random(len(lat))
    system = np.select([u < 0.2, u < 0.3, u < 0.95], ["gcj02", "bd09", "wgs84"], "").astype(object)
    out_lon, out_lat = lon.copy(), lat.copy()
    for name, forward in (("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)):
        m = system == name
        if m.any():
            out_lon[m], out_lat[m] = forward(lon[m], lat[m])
    return _fmt(out_lat, "%.6f"), _fmt(out_lon, "%.6f"), system


def _complaint_ids(clock: _Clock, received) -> np.ndarray:
    """``CP`` + local yymmdd of receipt + a per-day sequence (4 digits, more when needed)."""
    local = (np.floor(received).astype(np.int64) + clock.epoch0 + LOCAL_OFFSET_H * HOUR).astype("datetime64[s]")
    day = pd.Series(pd.to_datetime(local).strftime("%y%m%d"))
    seq = day.groupby(day).cumcount().to_numpy() + 1
    width = max(4, len(str(int(seq.max())))) if len(seq) else 4
    return np.array([f"CP{d}{k:0{width}d}" for d, k in zip(day, seq)], dtype=object)


def _customers(rng, placed: pd.DataFrame) -> np.ndarray:
    """11-digit mobile numbers; ~15% of complaints repeat an earlier customer of the same place/issue."""
    n = len(placed)
    prefix = rng.choice(PHONE_PREFIXES, n)
    numbers = np.array([f"{p}{r:08d}" for p, r in zip(prefix, rng.integers(0, 10 ** 8, n))], dtype=object)
    key = np.where(placed["incident"].to_numpy() >= 0, placed["incident"].to_numpy(),
                   -1 - placed["target"].to_numpy())
    order = np.lexsort((placed["received"].to_numpy(), key))
    repeat = rng.random(n) < 0.15
    for prev, cur in zip(order[:-1], order[1:]):
        if key[prev] == key[cur] and repeat[cur]:
            numbers[cur] = numbers[prev]
    return numbers
