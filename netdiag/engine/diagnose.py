"""The orchestrator: complaints -> serving elements -> causes -> diagnoses.

For all complaints at once (no per-complaint loop over frames):

1. **Window** (:func:`complaint_windows`): the counter period containing ``occurred_at``;
   without it, the ``lookback_h`` hours before ``received_at``.
2. **Serving elements**: footprints containing the spot, through an STRtree
   (:func:`netdiag.engine.footprints.serving_pairs`); indoor cells only for indoor complaints; a
   relocated element's old footprint only from the relocation on.
3. **Causes**, joined on element ids and filtered by interval overlap with the window:
   outages on the serving element's whole upstream chain (the root is the most upstream
   element whose own outage covers the window; alarms below it are symptoms, kept as
   evidence), relocations (old footprints), interference (events, uplink noise) and
   congestion (PRB) on the chain.
4. **Verdict**: the contract's precedence, outage > interference > congestion >
   coverage_hole > no_fault_found; ties go to the serving element nearest the spot.
5. **Action, team, confidence, evidence and reply** (:mod:`netdiag.engine.actions`).
"""
from __future__ import annotations

import logging
from typing import Callable

import numpy as np
import pandas as pd

from netdiag.data.schema import CAUSE_RANK
from netdiag.data.times import overlaps
from netdiag.data.values import join_groups
from netdiag.engine import actions
from netdiag.engine.footprints import serving_pairs
from netdiag.engine.network import Network
from netdiag.engine.topology import Topology
from netdiag.settings import Settings

log = logging.getLogger(__name__)

DIAGNOSIS_COLUMNS = ["complaint_id", "cause", "element_id", "via", "serving_ids", "action", "team", "ticket_id",
                     "confidence", "evidence"]


# ----------------------------------------------------------------------------- windows
def complaint_windows(complaints: pd.DataFrame, settings: Settings) -> tuple[pd.Series, pd.Series]:
    """(start, end) of each complaint's window, UTC."""
    period = pd.Timedelta(minutes=settings.period_min)
    occurred = complaints["occurred_at"]
    start_known = occurred.dt.floor(period)
    start = start_known.where(occurred.notna(), complaints["received_at"] - pd.Timedelta(hours=settings.lookback_h))
    end = (start_known + period).where(occurred.notna(), complaints["received_at"])
    return start, end


# ----------------------------------------------------------------------------- evaluation
def evaluate(net: Network, points: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Diagnose points (complaints or a handler's query).

    Parameters
    ----------
    points : DataFrame
        ``lon, lat`` (WGS-84), ``indoor``, ``w_start``, ``w_end``; any other columns are kept.

    Returns
    -------
    (verdicts, candidates)
        ``verdicts``: one row per point (same order) with ``cause, element_id, via,
        serving_ids, serving_element, event_id, start, end, severity, planned, detail, source,
        incident_id, value, periods, symptoms, nearest_site, nearest_site_m``;
        ``candidates``: every cause found for every serving element (for ``netdiag check``).
    """
    n = len(points)
    x, y = net.to_xy.transform(points["lon"].to_numpy(float), points["lat"].to_numpy(float))
    x, y = np.asarray(x, float), np.asarray(y, float)
    w_start = points["w_start"].reset_index(drop=True)
    w_end = points["w_end"].reset_index(drop=True)
    fp = net.footprints
    pairs = serving_pairs(fp, x, y, indoor=points["indoor"].to_numpy(bool))
    pairs = pairs.join(net.footprint_attributes, on="fp_id")
    pairs["w_start"] = w_start.to_numpy()[pairs["point"].to_numpy()]
    pairs["w_end"] = w_end.to_numpy()[pairs["point"].to_numpy()]
    old = pairs["variant"].to_numpy() == "old"
    live = ~old | overlaps(pairs["valid_from"], pairs["valid_to"], pairs["w_start"], pairs["w_end"])
    pairs = pairs[live].reset_index(drop=True)

    cur = pairs[pairs["variant"] == "current"]
    chains = net.topology.chains(cur["element_id"].unique())
    linked = cur[["point", "element_id", "distance_m", "w_start", "w_end"]].merge(chains, on="element_id")
    candidates = pd.concat([
        _outage_candidates(net, linked),
        _relocation_candidates(net, pairs[pairs["variant"] == "old"]),
        _interference_candidates(net, linked),
        _congestion_candidates(net, linked),
    ], ignore_index=True)
    verdicts = _choose(net, candidates, pairs, n, x, y)
    return verdicts, candidates


CANDIDATE_COLUMNS = ["point", "cause", "element_id", "serving_element", "depth", "distance_m", "event_id", "start", "end",
                     "severity", "planned", "detail", "source", "incident_id", "value", "periods"]


def _outage_candidates(net: Network, linked: pd.DataFrame) -> pd.DataFrame:
    o = net.outages
    if o.empty or linked.empty:
        return pd.DataFrame(columns=CANDIDATE_COLUMNS + ["symptoms"])
    hit = linked.merge(o, left_on="ancestor_id", right_on="element_id", suffixes=("", "_o"))
    hit = hit[overlaps(hit["start"], hit["end"], hit["w_start"], hit["w_end"])]
    if hit.empty:
        return pd.DataFrame(columns=CANDIDATE_COLUMNS + ["symptoms"])
    # the root of each serving chain: the most upstream element with its own outage; fault before shutdown
    hit = hit.assign(_rank=hit["cause"].map(CAUSE_RANK))
    hit = hit.sort_values(["point", "element_id", "depth", "_rank", "start"], ascending=[True, True, False, True, True])
    roots = hit.drop_duplicates(["point", "element_id"], keep="first")
    sym = hit.merge(roots[["point", "element_id", "depth"]], on=["point", "element_id"], suffixes=("", "_root"))
    sym = sym[sym["depth"] < sym["depth_root"]].drop_duplicates(["point", "ancestor_id", "event_id"])
    sym = sym.assign(_text=sym["ancestor_id"].astype(str) + " " + sym["event_id"].astype(str))
    sym = sym.drop_duplicates(["point", "_text"]).sort_values(["point", "_text"])
    sym_text = join_groups(sym["point"], sym["_text"], ", ")
    out = pd.DataFrame({
        "point": roots["point"].to_numpy(), "cause": roots["cause"].to_numpy(dtype=object),
        "element_id": roots["ancestor_id"].to_numpy(dtype=object), "serving_element": roots["element_id"].to_numpy(dtype=object),
        "depth": roots["depth"].to_numpy(), "distance_m": roots["distance_m"].to_numpy(float),
        "event_id": roots["event_id"].to_numpy(dtype=object), "start": roots["start"].to_numpy(), "end": roots["end"].to_numpy(),
        "severity": roots["severity"].to_numpy(dtype=object), "planned": roots["planned"].to_numpy(dtype=object),
        "detail": roots["detail"].to_numpy(dtype=object), "source": roots["source"].to_numpy(dtype=object),
        "incident_id": roots["incident_id"].to_numpy(dtype=object), "value": np.nan, "periods": 0,
    })
    out["symptoms"] = out["point"].map(sym_text)
    return out


def _relocation_candidates(net: Network, old: pd.DataFrame) -> pd.DataFrame:
    if old.empty:
        return pd.DataFrame(columns=CANDIDATE_COLUMNS)
    ev = net.ds["events"].set_index("event_id")
    e = ev.loc[old["event_id"].to_numpy()]
    moved = e["element_id"].to_numpy(dtype=object)
    serving = old["element_id"].to_numpy(dtype=object)
    return pd.DataFrame({
        "point": old["point"].to_numpy(), "cause": "relocation", "element_id": moved, "serving_element": serving,
        "depth": (moved != serving).astype(int), "distance_m": old["distance_m"].to_numpy(float),
        "event_id": old["event_id"].to_numpy(dtype=object), "start": e["start_time"].to_numpy(), "end": e["end_time"].to_numpy(),
        "severity": e["severity"].to_numpy(dtype=object), "planned": e["planned"].to_numpy(dtype=object),
        "detail": e["detail"].to_numpy(dtype=object), "source": "alarm",
        "incident_id": (pd.Series(moved, dtype=object).astype(str) + ":relocation:" + old["event_id"].astype(str).to_numpy()).to_numpy(),
        "value": np.nan, "periods": 0,
    })


def _counter_candidates(net: Network, linked: pd.DataFrame, flag: str, value_col: str, cause: str) -> pd.DataFrame:
    a = net.anomalies
    a = a[a[flag]]
    if a.empty or linked.empty:
        return pd.DataFrame(columns=CANDIDATE_COLUMNS)
    hit = linked.merge(a, left_on="ancestor_id", right_on="cell_id")
    hit = hit[overlaps(hit["start"], hit["end"], hit["w_start"], hit["w_end"])]
    if hit.empty:
        return pd.DataFrame(columns=CANDIDATE_COLUMNS)
    hit = hit.sort_values(["point", "ancestor_id", value_col], ascending=[True, True, False])
    g = hit.groupby(["point", "ancestor_id"], sort=False)
    first = g.head(1).set_index(["point", "ancestor_id"])
    agg = g.agg(periods=("start", "size"), first_start=("start", "min"), last_end=("end", "max"))
    first = first.join(agg).reset_index()
    return pd.DataFrame({
        "point": first["point"].to_numpy(), "cause": cause, "element_id": first["ancestor_id"].to_numpy(dtype=object),
        "serving_element": first["element_id"].to_numpy(dtype=object), "depth": first["depth"].to_numpy(),
        "distance_m": first["distance_m"].to_numpy(float), "event_id": None,
        "start": first["first_start"].to_numpy(), "end": first["last_end"].to_numpy(), "severity": None, "planned": None,
        "detail": None, "source": "load",
        "incident_id": (first["ancestor_id"].astype(str) + ":" + cause).to_numpy(dtype=object),
        "value": first[value_col].to_numpy(float), "periods": first["periods"].to_numpy(),
        "peak_time": first["start"].to_numpy(),
    })


def _interference_candidates(net: Network, linked: pd.DataFrame) -> pd.DataFrame:
    counters = _counter_candidates(net, linked, "interfered", "ul_noise_dbm", "interference")
    ev = net.interference
    if ev.empty or linked.empty:
        return counters
    hit = linked.merge(ev, left_on="ancestor_id", right_on="element_id", suffixes=("", "_e"))
    hit = hit[overlaps(hit["start"], hit["end"], hit["w_start"], hit["w_end"])]
    hit = hit.sort_values(["point", "ancestor_id", "start"]).drop_duplicates(["point", "ancestor_id"])
    alarms = pd.DataFrame({
        "point": hit["point"].to_numpy(), "cause": "interference", "element_id": hit["ancestor_id"].to_numpy(dtype=object),
        "serving_element": hit["element_id"].to_numpy(dtype=object), "depth": hit["depth"].to_numpy(),
        "distance_m": hit["distance_m"].to_numpy(float), "event_id": hit["event_id"].to_numpy(dtype=object),
        "start": hit["start"].to_numpy(), "end": hit["end"].to_numpy(), "severity": hit["severity"].to_numpy(dtype=object),
        "planned": None, "detail": hit["detail"].to_numpy(dtype=object), "source": "alarm",
        "incident_id": (hit["ancestor_id"].astype(str) + ":interference").to_numpy(dtype=object), "value": np.nan, "periods": 0,
    })
    if counters.empty:
        return alarms
    # an alarm and raised noise on the same element: keep the alarm, add the measured noise
    merged = alarms.merge(counters[["point", "element_id", "value", "periods", "peak_time"]], on=["point", "element_id"],
                          how="left", suffixes=("", "_c"))
    merged["value"] = merged["value_c"]
    merged["periods"] = merged["periods_c"].fillna(0).astype(int)
    merged = merged.drop(columns=["value_c", "periods_c"])
    only_counters = counters.merge(alarms[["point", "element_id"]], on=["point", "element_id"], how="left", indicator=True)
    only_counters = only_counters[only_counters["_merge"] == "left_only"].drop(columns="_merge")
    return pd.concat([merged, only_counters], ignore_index=True)


def _congestion_candidates(net: Network, linked: pd.DataFrame) -> pd.DataFrame:
    return _counter_candidates(net, linked, "congested", "prb_dl_pct", "congestion")


def _choose(net: Network, candidates: pd.DataFrame, pairs: pd.DataFrame, n: int, x, y) -> pd.DataFrame:
    """One verdict per point: the contract's precedence, then the nearest serving element."""
    verdicts = pd.DataFrame(index=pd.RangeIndex(n))
    verdicts["serving_ids"] = _joined_by_point(pairs, n)
    verdicts["nearest_site"], verdicts["nearest_site_m"] = net.nearest_site(x, y)
    if len(candidates):
        c = candidates.assign(_rank=candidates["cause"].map(CAUSE_RANK), _v=-pd.to_numeric(candidates["value"], errors="coerce").fillna(0))
        c = c.sort_values(["point", "_rank", "distance_m", "depth", "_v"], ascending=[True, True, True, False, True])
        best = c.drop_duplicates("point", keep="first").set_index("point").drop(columns=["_rank", "_v"])
        verdicts = verdicts.join(best)
    for col in CANDIDATE_COLUMNS[1:] + ["symptoms", "peak_time"]:
        if col not in verdicts.columns and col != "point":
            verdicts[col] = None
    served = verdicts["serving_ids"] != ""
    verdicts["cause"] = verdicts["cause"].where(verdicts["cause"].notna(), np.where(served, "no_fault_found", "coverage_hole"))
    verdicts["via"] = _via(net.topology, verdicts)
    return verdicts


def _joined_by_point(pairs: pd.DataFrame, n: int) -> np.ndarray:
    """``serving_ids`` per point: distinct elements, nearest first, joined with ';' (vectorised)."""
    out = np.full(n, "", dtype=object)
    serving = pairs.sort_values(["point", "distance_m"], kind="stable").drop_duplicates(["point", "element_id"])
    if serving.empty:
        return out
    joined = join_groups(serving["point"], serving["element_id"], ";")
    out[joined.index.to_numpy(dtype=int)] = joined.to_numpy(dtype=object)
    return out


def first_serving(serving_ids: pd.Series) -> pd.Series:
    """The nearest serving element of each diagnosis (the first of ``serving_ids``), ``""`` when none.

    Examples
    --------
    >>> first_serving(pd.Series(["C001;C002", "", None])).tolist()
    ['C001', '', '']
    """
    return serving_ids.fillna("").astype(str).str.split(";").str[0]


def _via(topo: Topology, verdicts: pd.DataFrame) -> pd.Series:
    """``serving>...>root``; empty when the serving element is the root."""
    out = pd.Series("", index=verdicts.index, dtype=object)
    has = verdicts["element_id"].notna() & verdicts["serving_element"].notna() & (verdicts["serving_element"] != verdicts["element_id"])
    if not has.any():
        return out
    sub = verdicts.loc[has, ["serving_element", "element_id"]].astype(object)
    pairs = sub.drop_duplicates()
    # the chain of each distinct (serving, root) pair, cut at the root: ancestors up to the root's depth
    chains = topo.chains(pairs["serving_element"].unique()).astype({"element_id": object, "ancestor_id": object})
    root_depth = pairs.merge(chains, left_on=["serving_element", "element_id"], right_on=["element_id", "ancestor_id"],
                             suffixes=("", "_c"))[["serving_element", "element_id", "depth"]]
    steps = root_depth.merge(chains, left_on="serving_element", right_on="element_id", suffixes=("", "_c"))
    steps = steps[steps["depth_c"] <= steps["depth"]].sort_values(["serving_element", "element_id", "depth_c"])
    text = join_groups(steps["serving_element"] + "\x00" + steps["element_id"], steps["ancestor_id"], ">")
    key = sub["serving_element"] + "\x00" + sub["element_id"]
    out[has] = key.map(text).fillna(sub["serving_element"] + ">" + sub["element_id"]).to_numpy(dtype=object)
    return out


# ----------------------------------------------------------------------------- every complaint
def diagnose_complaints(ds, net: Network, *, settings: Settings | None = None,
                        progress: Callable[[str], None] | None = None,
                        replies: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The verdict, action, team, evidence and reply of every accepted complaint of ``ds``
    (without the replies, left to :func:`~netdiag.engine.actions.replies_by_tickets`, with ``replies=False``).

    Tickets are not made here (see :func:`netdiag.pipeline.diagnose`, which groups these rows
    into tickets, in a store or not).

    Returns
    -------
    (diagnoses, rejected)
        One row per diagnosed complaint (``ticket_id`` still empty), and the data set's
        rejected rows plus the complaints outside the network's area.
    """
    settings = settings or ds.settings
    say = progress or (lambda _t: None)
    comp = ds["complaints"].reset_index(drop=True)
    w_start, w_end = complaint_windows(comp, settings)
    points = comp.assign(w_start=w_start, w_end=w_end)
    say(f"diagnosing {len(points):,} complaints")
    verdicts, _ = evaluate(net, points)

    far = verdicts["nearest_site_m"].to_numpy(float) > settings.max_complaint_distance_km * 1000
    rejected = ds.rejected[["table", "row", "id", "reason", "code"]]
    if far.any():
        dist = verdicts.loc[far, "nearest_site_m"].to_numpy(float)
        extra = pd.DataFrame({"table": "complaints", "row": comp.loc[far, "_row"].to_numpy(), "id": comp.loc[far, "complaint_id"].to_numpy(dtype=object),
                              "reason": [f"position is {d / 1000:,.0f} km from the nearest site: outside the network's area "
                                         f"(wrong coordinates or coordinate system?)" for d in dist],
                              "code": "outside the network's area"})
        rejected = pd.concat([rejected, extra], ignore_index=True)
    keep = ~far
    comp, points, verdicts = comp[keep].reset_index(drop=True), points[keep].reset_index(drop=True), verdicts[keep].reset_index(drop=True)

    say("actions, evidence and replies")
    return actions.decide(net, points, verdicts, replies=replies), rejected
