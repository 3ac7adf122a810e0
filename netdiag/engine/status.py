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

from netdiag.settings import Settings

log = logging.getLogger(__name__)

FOREVER = pd.Timestamp("2262-01-01", tz="UTC")
OUTAGE_COLUMNS = ["element_id", "cause", "start", "end", "event_id", "severity", "planned", "detail", "source", "incident_id"]


def period_end(load: pd.DataFrame, settings: Settings) -> pd.Series:
    minutes = load["period_min"].astype("Float64").fillna(settings.period_min).astype(float)
    return load["timestamp"] + pd.to_timedelta(minutes.to_numpy(), unit="m")


def outages(ds, *, settings: Settings | None = None, transport_ids=()) -> pd.DataFrame:
    """Outage intervals per element from alarms and sleeping cells (see module docstring)."""
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
    sleeping = sleeping_cells(ds["load"], settings=settings)
    out = pd.concat([alarms, sleeping], ignore_index=True) if len(sleeping) else alarms
    out["start"] = pd.to_datetime(out["start"], utc=True)
    out["end"] = pd.to_datetime(out["end"], utc=True)
    out["incident_id"] = _incidents(out)
    log.info("outages: %d alarm intervals, %d sleeping-cell intervals", len(alarms), len(sleeping))
    return out[OUTAGE_COLUMNS]


def _incidents(out: pd.DataFrame) -> np.ndarray:
    """Overlapping intervals of one element and cause share one incident id."""
    if out.empty:
        return np.zeros(0, dtype=object)
    order = out.sort_values(["element_id", "cause", "start"]).index
    s = out.loc[order]
    end = s["end"].fillna(FOREVER)
    same = (s["element_id"] == s["element_id"].shift()) & (s["cause"] == s["cause"].shift())
    reach = end.groupby([s["element_id"], s["cause"]]).cummax().shift()
    new = ~same | (s["start"] > reach)
    number = new.cumsum()
    first_start = s["start"].groupby(number).transform("min")
    ids = s["element_id"].astype(str) + ":" + s["cause"].astype(str) + ":" + first_start.dt.strftime("%Y%m%dT%H%M")
    result = pd.Series(index=out.index, dtype=object)
    result.loc[order] = ids.to_numpy()
    return result.to_numpy(dtype=object)


def sleeping_cells(load: pd.DataFrame, *, settings: Settings) -> pd.DataFrame:
    """Intervals in which a cell that normally carries traffic reports 0 users and PRB < 1 %.

    "Normally carries traffic" = the cell's median ``users`` over all its periods is at
    least ``sleeping_normal_users``. Consecutive sleeping periods form one interval.
    """
    cols = OUTAGE_COLUMNS[:-1]
    if load.empty or load["users"].isna().all():
        return pd.DataFrame(columns=cols)
    median_users = load.groupby("cell_id", sort=False, observed=True)["users"].median()
    busy_cells = median_users[median_users >= settings.sleeping_normal_users].index
    asleep = (load["users"] == 0) & (load["prb_dl_pct"] < settings.sleeping_prb_pct) & load["cell_id"].isin(busy_cells)
    rows = load.loc[asleep.fillna(False), ["cell_id", "timestamp", "prb_dl_pct"]].copy()
    if rows.empty:
        return pd.DataFrame(columns=cols)
    rows["end"] = period_end(load.loc[rows.index], settings)
    rows = rows.sort_values(["cell_id", "timestamp"])
    new = (rows["cell_id"] != rows["cell_id"].shift()) | (rows["timestamp"] > rows["end"].shift())
    rows["run"] = new.cumsum()
    runs = rows.groupby("run").agg(element_id=("cell_id", "first"), start=("timestamp", "min"), end=("end", "max"),
                                   periods=("timestamp", "size"), prb=("prb_dl_pct", "max"))
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
        "end": period_end(rows, settings).to_numpy(), "prb_dl_pct": rows["prb_dl_pct"].to_numpy(float),
        "ul_noise_dbm": rows["ul_noise_dbm"].to_numpy(float), "users": rows["users"].to_numpy(float),
        "congested": congested[hit], "interfered": interfered[hit],
    })
    out["start"] = pd.to_datetime(out["start"], utc=True)
    out["end"] = pd.to_datetime(out["end"], utc=True)
    log.info("load: %d periods, %d congested, %d interfered", len(load), int(congested.sum()), int(interfered.sum()))
    return out
