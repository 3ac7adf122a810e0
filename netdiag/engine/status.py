"""Element state over time, from alarms (events) and performance counters (load).

Three tables come out, each a list of intervals ``[start, end)`` (``end`` NaT = still active):

- :func:`outages`: ``fault`` and non-warning ``shutdown`` events, plus *sleeping cells*
  found in the counters (a cell that normally carries traffic reporting 0 users and almost
  no PRB: a fault with no alarm). Relocations are handled as old footprints
  (:mod:`netdiag.engine.footprints`), except for transport nodes, which have no footprint: there a
  relocation counts as an outage of the node. Overlapping intervals of one element and cause
  form one *incident* (one ticket).
- :func:`interference_events`: non-warning ``interference`` events.
- :func:`load_anomalies`: counter periods that are congested (``prb_dl_pct >=
  congestion_prb_pct``) or interfered (``ul_noise_dbm >= interference_noise_dbm``).

``warning`` events are informational and never a cause.
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from netdiag.data.counters import Counters, FrameCounters
from netdiag.settings import Settings

log = logging.getLogger(__name__)

FOREVER = pd.Timestamp("2262-01-01", tz="UTC")
OUTAGE_COLUMNS = ["element_id", "cause", "start", "end", "event_id", "severity", "planned", "detail", "source", "incident_id"]


def _period_end(load: pd.DataFrame, settings: Settings) -> pd.Series:
    minutes = load["period_min"].astype("Float64").fillna(settings.period_min).astype(float)
    return load["timestamp"] + pd.to_timedelta(minutes.to_numpy(), unit="m")


def outages(ds, *, settings: Settings | None = None, transport_ids=(), sleeping: pd.DataFrame | None = None) -> pd.DataFrame:
    """Outage intervals per element from alarms and sleeping cells (see module docstring).

    ``sleeping``: the sleeping-cell intervals when already found (:func:`scan_counters`);
    default: found in ``ds["load"]``.
    """
    settings = settings or ds.settings
    ev = ds["events"]
    kind = ev["event_type"]
    keep = (ev["severity"] != "warning") & (kind.isin(["fault", "shutdown"])
                                            | ((kind == "relocation") & ev["element_id"].isin(list(transport_ids))))
    ev = ev[keep.fillna(False)]
    alarms = pd.DataFrame({
        "element_id": ev["element_id"].to_numpy(dtype=object),
        "cause": np.where(ev["event_type"] == "relocation", "fault", ev["event_type"].to_numpy(dtype=object)),
        "start": ev["start_time"].to_numpy(), "end": ev["end_time"].to_numpy(),
        "event_id": ev["event_id"].to_numpy(dtype=object), "severity": ev["severity"].to_numpy(dtype=object),
        "planned": ev["planned"].to_numpy(dtype=object), "detail": ev["detail"].to_numpy(dtype=object), "source": "alarm",
    })
    if sleeping is None:
        sleeping = sleeping_cells(ds["load"], settings=settings)
    out = pd.concat([alarms, sleeping], ignore_index=True) if len(sleeping) else alarms
    out["start"] = pd.to_datetime(out["start"], utc=True)
    out["end"] = pd.to_datetime(out["end"], utc=True)
    out["incident_id"] = _incidents(out)
    log.info("outages: %d alarm intervals, %d sleeping-cell intervals", len(alarms), len(sleeping))
    return out[OUTAGE_COLUMNS]


def merge_intervals(frame: pd.DataFrame, by: list[str], *, start: str = "start", end: str = "end") -> pd.Series:
    """Number the merged intervals: rows with the same ``by`` values whose ``[start, end)``
    overlap or touch (directly or through others) get the same number.

    ``end`` NaT means still going on. Numbers rise with the merged interval's start within each
    ``by`` group. Vectorised (a running maximum of ends per group), no loop over rows.

    Returns
    -------
    Series of int, aligned with ``frame``.

    Examples
    --------
    >>> t = pd.to_datetime(["2026-11-02 10:00", "2026-11-02 11:00", "2026-11-02 13:00"], utc=True)
    >>> iv = pd.DataFrame({"el": ["A", "A", "A"], "start": t, "end": t + pd.Timedelta(hours=1)})
    >>> merge_intervals(iv, ["el"]).tolist()
    [1, 1, 2]
    """
    if frame.empty:
        return pd.Series(np.zeros(0, dtype=np.int64), index=frame.index)
    s = frame.sort_values(list(by) + [start], kind="stable")
    reach_end = s[end].fillna(FOREVER)
    same = pd.Series(True, index=s.index)
    for key in by:
        same &= s[key] == s[key].shift()
    same.iloc[0] = False
    reach = (reach_end.groupby([s[k] for k in by], sort=False).cummax() if by else reach_end.cummax()).shift()
    new = ~same | (s[start] > reach)
    return new.cumsum().astype(np.int64).reindex(frame.index)


def _incidents(out: pd.DataFrame) -> np.ndarray:
    """Overlapping intervals of one element and cause share one incident id."""
    if out.empty:
        return np.zeros(0, dtype=object)
    number = merge_intervals(out, ["element_id", "cause"])
    first_start = out["start"].groupby(number).transform("min")
    ids = out["element_id"].astype(str) + ":" + out["cause"].astype(str) + ":" + first_start.dt.strftime("%Y%m%dT%H%M")
    return ids.to_numpy(dtype=object)


def sleeping_cells(load: pd.DataFrame, *, settings: Settings) -> pd.DataFrame:
    """Intervals in which a cell that normally carries traffic reports 0 users and PRB < 1 %.

    "Normally carries traffic" = the cell's median ``users`` over all its periods is at
    least ``sleeping_normal_users``. Consecutive sleeping periods form one interval.
    """
    return scan_counters(FrameCounters(load), settings=settings)[1]


def scan_counters(counters: Counters, *, settings: Settings, engine=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(load anomalies, sleeping-cell intervals) of ``counters``, a piece at a time.

    One pass keeps only the anomalous periods (:func:`load_anomalies`) and the periods in which
    a cell looked asleep (0 users, PRB below ``sleeping_prb_pct``); a second pass reads only the
    ``users`` of the cells that looked asleep, for their median. Each pass is one task per piece
    of the counters (:meth:`~netdiag.data.counters.Counters.pieces`), run by ``engine``
    (:mod:`netdiag.engine.engines`; default here, one piece at a time): memory holds a piece
    plus what is kept, never the whole table, and the results are the same on any engine.
    """
    from netdiag.engine.engines import LOCAL

    engine = engine or LOCAL
    pieces = counters.pieces()
    anomalies, asleep, rows = [], [], 0
    for found, sleepy, n in engine.map(_scan_piece, pieces, counters, settings, what="counter files"):
        rows += n
        anomalies += found
        asleep += sleepy
    anomalies = pd.concat(anomalies, ignore_index=True) if anomalies else load_anomalies(counters.empty(), settings=settings)
    log.info("load: %d periods, %d congested, %d interfered", rows, int(anomalies["congested"].sum()),
             int(anomalies["interfered"].sum()))
    if not asleep:
        return anomalies, pd.DataFrame(columns=OUTAGE_COLUMNS[:-1])
    asleep = pd.concat(asleep, ignore_index=True)
    cells = sorted(set(asleep["cell_id"]))
    users = [u for part in engine.map(_users_piece, pieces, counters, cells, what="counter files (users)") for u in part]
    users = pd.concat(users, ignore_index=True)
    users["cell_id"] = users["cell_id"].astype(object)
    return anomalies, _sleeping_runs(asleep, users.groupby("cell_id", sort=False)["users"].median(), settings)


def _scan_piece(piece, counters: Counters, settings: Settings) -> tuple[list[pd.DataFrame], list[pd.DataFrame], int]:
    """One piece of the counters -> (its anomalous periods, its asleep periods, its rows), chunk by chunk."""
    anomalies, asleep, rows = [], [], 0
    for chunk in counters.read_piece(piece):
        rows += len(chunk)
        found = load_anomalies(chunk, settings=settings)
        if len(found):
            anomalies.append(found)
        hit = ((chunk["users"] == 0) & (chunk["prb_dl_pct"] < settings.sleeping_prb_pct)).fillna(False).to_numpy(dtype=bool)
        if hit.any():
            part = chunk.loc[hit]
            asleep.append(pd.DataFrame({"cell_id": part["cell_id"].to_numpy(dtype=object), "timestamp": part["timestamp"].to_numpy(),
                                        "end": _period_end(part, settings).to_numpy(), "prb_dl_pct": part["prb_dl_pct"].to_numpy(float)}))
    return anomalies, asleep, rows


def _users_piece(piece, counters: Counters, cells: list[str]) -> list[pd.DataFrame]:
    """The ``users`` of ``cells`` in one piece of the counters."""
    return [c[["cell_id", "users"]] for c in counters.read_piece(piece, columns=["cell_id", "users"], cells=cells)]


def _sleeping_runs(asleep: pd.DataFrame, median_users: pd.Series, settings: Settings) -> pd.DataFrame:
    """The sleeping intervals: consecutive asleep periods of cells whose median users is high enough."""
    busy = median_users[median_users >= settings.sleeping_normal_users].index
    rows = asleep[asleep["cell_id"].isin(busy)]
    if rows.empty:
        return pd.DataFrame(columns=OUTAGE_COLUMNS[:-1])
    rows = rows.sort_values(["cell_id", "timestamp"], kind="stable")
    new = (rows["cell_id"] != rows["cell_id"].shift()) | (rows["timestamp"] > rows["end"].shift())
    rows = rows.assign(run=new.cumsum())
    runs = rows.groupby("run").agg(element_id=("cell_id", "first"), start=("timestamp", "min"), end=("end", "max"),
                                   periods=("timestamp", "size"), prb=("prb_dl_pct", "max"))
    runs["start"], runs["end"] = pd.to_datetime(runs["start"], utc=True), pd.to_datetime(runs["end"], utc=True)
    runs["normal"] = runs["element_id"].map(median_users)
    hours = (runs["end"] - runs["start"]).dt.total_seconds() / 3600
    return pd.DataFrame({
        "element_id": runs["element_id"].to_numpy(dtype=object), "cause": "fault",
        "start": runs["start"].to_numpy(), "end": runs["end"].to_numpy(),
        "event_id": ("SLEEP-" + runs["element_id"].astype(str) + "-" + runs["start"].dt.strftime("%Y%m%dT%H%M")).to_numpy(dtype=object),
        "severity": "major", "planned": None,
        "detail": ("sleeping cell: 0 users and PRB <= " + runs["prb"].round(1).astype(str) + "% for "
                   + hours.round(1).astype(str) + " h (normally " + runs["normal"].round(0).astype(int).astype(str)
                   + " users), no alarm raised").to_numpy(dtype=object),
        "source": "load",
    })


def interference_events(ds) -> pd.DataFrame:
    """Non-warning interference events: ``element_id, start, end, event_id, severity, detail``."""
    ev = ds["events"]
    ev = ev[((ev["event_type"] == "interference") & (ev["severity"] != "warning")).fillna(False)]
    return pd.DataFrame({"element_id": ev["element_id"].to_numpy(dtype=object), "start": ev["start_time"].to_numpy(),
                         "end": ev["end_time"].to_numpy(), "event_id": ev["event_id"].to_numpy(dtype=object),
                         "severity": ev["severity"].to_numpy(dtype=object), "detail": ev["detail"].to_numpy(dtype=object)})


def load_anomalies(load: pd.DataFrame, *, settings: Settings) -> pd.DataFrame:
    """Congested or interfered counter periods: ``cell_id, start, end, prb_dl_pct, ul_noise_dbm,
    users, congested, interfered``. Usually a small fraction of the load table."""
    congested = (load["prb_dl_pct"] >= settings.congestion_prb_pct).to_numpy()
    interfered = (load["ul_noise_dbm"] >= settings.interference_noise_dbm).fillna(False).to_numpy(dtype=bool)
    hit = congested | interfered
    rows = load.loc[hit]
    out = pd.DataFrame({
        "cell_id": rows["cell_id"].to_numpy(dtype=object), "start": rows["timestamp"].to_numpy(),
        "end": _period_end(rows, settings).to_numpy(), "prb_dl_pct": rows["prb_dl_pct"].to_numpy(float),
        "ul_noise_dbm": rows["ul_noise_dbm"].to_numpy(float), "users": rows["users"].to_numpy(float),
        "congested": congested[hit], "interfered": interfered[hit],
    })
    out["start"] = pd.to_datetime(out["start"], utc=True)
    out["end"] = pd.to_datetime(out["end"], utc=True)
    return out


# ----------------------------------------------------------------------------- state at one moment
#: what an element can be at one moment, most serious first (``relocated`` = an old footprint)
ELEMENT_STATES = ("fault", "shutdown", "relocated", "interference", "congested", "in_service")


def element_status(net, at: pd.Timestamp) -> pd.DataFrame:
    """Status of every element at ``at``, from its own and its upstream elements' conditions.

    Parameters
    ----------
    net : Network
        ``Result.network``.
    at : Timestamp
        UTC.

    Returns
    -------
    DataFrame
        Indexed by ``element_id``: ``status`` (``fault``, ``shutdown``, ``interference``,
        ``congested`` or ``in_service``), ``root_id`` (the element whose condition it is),
        ``because`` (alarm or counter, text), ``since``, ``until``.
    """
    rank = {s: i for i, s in enumerate(ELEMENT_STATES)}
    parts = []
    o = net.outages
    if len(o):
        on = (o["start"] <= at) & (o["end"].fillna(FOREVER) > at)
        a = o[on]
        parts.append(pd.DataFrame({"own_id": a["element_id"].to_numpy(dtype=object), "status": a["cause"].to_numpy(dtype=object),
                                   "because": (a["cause"].astype(str) + " " + a["event_id"].fillna("").astype(str) + " on "
                                               + a["element_id"].astype(str) + ": " + a["detail"].fillna("").astype(str)).to_numpy(dtype=object),
                                   "since": a["start"].to_numpy(), "until": a["end"].to_numpy()}))
    i = net.interference
    if len(i):
        on = (i["start"] <= at) & (i["end"].fillna(FOREVER) > at)
        a = i[on]
        parts.append(pd.DataFrame({"own_id": a["element_id"].to_numpy(dtype=object), "status": "interference",
                                   "because": ("interference " + a["event_id"].astype(str) + " on " + a["element_id"].astype(str)
                                               + ": " + a["detail"].fillna("").astype(str)).to_numpy(dtype=object),
                                   "since": a["start"].to_numpy(), "until": a["end"].to_numpy()}))
    an = net.anomalies
    if len(an):
        a = an[(an["start"] <= at) & (an["end"] > at)]
        noisy, busy = a[a["interfered"]], a[a["congested"]]
        parts.append(pd.DataFrame({"own_id": noisy["cell_id"].to_numpy(dtype=object), "status": "interference",
                                   "because": ("uplink noise " + noisy["ul_noise_dbm"].round(1).astype(str) + " dBm on "
                                               + noisy["cell_id"].astype(str)).to_numpy(dtype=object),
                                   "since": noisy["start"].to_numpy(), "until": noisy["end"].to_numpy()}))
        parts.append(pd.DataFrame({"own_id": busy["cell_id"].to_numpy(dtype=object), "status": "congested",
                                   "because": ("downlink PRB " + busy["prb_dl_pct"].round(1).astype(str) + "% on "
                                               + busy["cell_id"].astype(str)).to_numpy(dtype=object),
                                   "since": busy["start"].to_numpy(), "until": busy["end"].to_numpy()}))
    ids = net.elements.index
    out = pd.DataFrame(index=pd.Index(ids, name="element_id"))
    parts = [p for p in parts if len(p)]
    if parts:
        own = pd.concat(parts, ignore_index=True)
        chains = net.topology.chains(ids)
        hit = chains.merge(own, left_on="ancestor_id", right_on="own_id")
        hit["_rank"] = hit["status"].map(rank)
        hit = hit.sort_values(["element_id", "_rank", "depth"], ascending=[True, True, False])
        best = hit.drop_duplicates("element_id").set_index("element_id")
        out = out.join(best[["status", "own_id", "because", "since", "until"]].rename(columns={"own_id": "root_id"}))
    for col in ("status", "root_id", "because", "since", "until"):
        if col not in out.columns:
            out[col] = None
    out["status"] = out["status"].fillna("in_service")
    return out


def worst_time(net, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None) -> pd.Timestamp | None:
    """The moment in ``[start, end)`` when the most sectors were out of service (fault or shutdown).

    A sweep over the outage intervals (merged per sector), no loop over times. None when
    nothing was out of service in the period.
    """
    o = net.outages
    if o.empty:
        return None
    fp = net.footprints
    sectors = fp.loc[fp["variant"] == "current", "element_id"].unique()
    chains = net.topology.chains(sectors)
    hit = chains.merge(o[["element_id", "start", "end"]], left_on="ancestor_id", right_on="element_id",
                       suffixes=("", "_o"))
    if hit.empty:
        return None
    s = hit["start"]
    e = hit["end"].fillna(FOREVER)
    if start is not None:
        s = s.clip(lower=start)
    if end is not None:
        e = e.clip(upper=end)
    iv = pd.DataFrame({"el": hit["element_id"].to_numpy(dtype=object), "s": s.to_numpy(), "e": e.to_numpy()})
    iv = iv[iv["s"] < iv["e"]]
    if iv.empty:
        return None
    # merge overlapping intervals of one sector, so that a sector counts once
    iv["grp"] = merge_intervals(iv, ["el"], start="s", end="e")
    merged = iv.groupby("grp").agg(s=("s", "min"), e=("e", "max"))
    times = pd.concat([pd.DataFrame({"t": merged["s"], "d": 1}), pd.DataFrame({"t": merged["e"], "d": -1})])
    times = times.sort_values(["t", "d"]).reset_index(drop=True)  # ends before starts at the same instant
    level = times["d"].cumsum()
    return pd.Timestamp(times.loc[int(level.idxmax()), "t"])
