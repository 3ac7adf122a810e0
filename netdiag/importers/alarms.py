"""OMC alarm exports (告警流水) -> ``events``, through the alarm dictionary.

Each alarm row names the alarm (in any language the dictionary knows), its level
(紧急/重要/次要/提示 -> critical/major/minor/warning through ``[vocab.severity]``), when it was
raised and cleared (a clear time such as ``-``, ``未清除``, ``NULL`` or the 1970 epoch is an
alarm still active: ``[time] not_cleared`` lists them), and the network element: a cell (by the profile's ``[ids]`` rule: ECI,
node + local cell id, ...) or else the NE itself (``element_id``: site, repeater or transport
node id). The dictionary (:func:`netdiag.importers.profile.load_dictionary`) gives the event
type, and for shutdowns whether they were planned. An alarm name the dictionary does not know
rejects its row and is counted in the summary's ``unmapped_alarms``, so the operator can
extend the dictionary.

Flapping: alarms of one element, type and name raised again within ``[options] flap_gap_min``
(default 10) minutes of the previous clear are one event from the first raise to the last
clear; its detail says how many alarms it merges (``flapping: 6 alarms merged``). The rows it
merges are listed in ``alarms-merged.csv``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from netdiag.data.schema import SEVERITIES
from netdiag.errors import InputError
from netdiag.importers import names
from netdiag.importers.common import Job, quoted
from netdiag.importers.ids import cell_ids, node_text
from netdiag.importers.profile import NOT_CLEARED, norm_header

EVENT_COLUMNS = ["event_id", "element_id", "event_type", "severity", "start_time", "end_time", "planned",
                 "prev_lat", "prev_lon", "detail"]
SEVERITY_RANK = {"warning": 0, "minor": 1, "major": 2, "critical": 3}


def convert(job: Job, dictionary: dict, *, inventory: str | Path | None = None) -> tuple[dict, pd.Series]:
    """``{"events": ...}`` and the row ids; fills ``job.summary`` with unmapped names and merges.

    ``inventory``: the data directory whose ``sites``/``cells`` resolve NE and cell names
    (:mod:`netdiag.importers.names`) for the rows that give no id.
    """
    job.require("alarm_name", "start_time")
    has_cell_rule = any(job.header(c) for c in ("eci", "nci", "cgi", "local_cell_id", "cell_text"))
    cell, _ = cell_ids(job, required=False) if has_cell_rule else (pd.Series("", index=job.frame.index), None)
    element = cell.where(cell != "", node_text(job, "element_id"))
    by_name, named = names.resolve(job, (element == "").to_numpy(), lambda: _inventory(job, inventory))
    element = element.where(~named, by_name)
    alarm_id = job.text("alarm_id")
    alarm_id = alarm_id.where(alarm_id != "", "A" + job.frame["_row"].astype(str))
    name = job.text("alarm_name")
    key = name.map(norm_header)
    known = key.isin(dictionary.keys())
    unknown = ~known.to_numpy() & (name != "").to_numpy()
    counts = name[unknown].value_counts()
    job.summary["unmapped_alarms"] = {str(k): int(v) for k, v in counts.items()}
    job.reject(unknown, job.label("alarm_name") + " " + quoted(name) +
               " is not in the alarm dictionary (add it to map it to an event type)")
    job.reject((name == "").to_numpy(), f"{job.label('alarm_name')} missing")
    def field(what):
        return key.map({k: ("" if v.get(what) is None else v[what]) for k, v in dictionary.items()}).fillna("")
    event_type = field("event_type")
    ignored = (event_type == "ignore").to_numpy()
    job.summary["ignored_alarms"] = {str(k): int(v) for k, v in name[ignored].value_counts().items()}
    job.reject(ignored, job.label("alarm_name") + " " + quoted(name) + " is ignored by the alarm dictionary (no effect on service)")
    level = job.words("severity", allowed=SEVERITIES, required=True)
    fixed = field("severity")
    severity = fixed.where(fixed != "", level)
    planned = field("planned").map({True: "true", False: "false", "": ""}).fillna("")
    start = job.times("start_time", required=True)
    _not_cleared(job)
    end = job.times("end_time")
    job.reject(((end != "") & (start != "") & (end < start)).to_numpy(), "cleared before it was raised (" +
               job.label("end_time") + " before " + job.label("start_time") + ")")
    job.reject((element == "").to_numpy() & ~named, f"no element: {job.label('element_id')}, the cell id columns "
               f"and the NE name are empty")
    detail = name + np.where(job.text("detail") != "", ": " + job.text("detail"), "")
    location = job.text("location")
    detail = detail + np.where(location != "", " [" + location + "]", "")
    events = pd.DataFrame({"event_id": alarm_id, "element_id": element, "event_type": event_type, "severity": severity,
                           "start_time": start, "end_time": end, "planned": planned,
                           "prev_lat": job.number("prev_lat", lo=-90, hi=90),
                           "prev_lon": job.number("prev_lon", lo=-180, hi=180), "detail": detail,
                           "_key": field("name").where(known, key),
                           "_row": job.frame["_row"]})
    from netdiag.importers.params import _duplicates

    _duplicates(job, alarm_id, "alarm id")
    kept = events[~job.bad]
    merged, absorbed = merge_flapping(kept, gap_min=float(job.profile.options.get("flap_gap_min", 10)))
    job.summary["merged_rows"] = int(len(absorbed))
    job.summary["flapping_events"] = int(merged["detail"].str.contains("flapping: ", regex=False).sum())
    job.absorbed = absorbed
    return {"events": merged[EVENT_COLUMNS].reset_index(drop=True)}, alarm_id


def _inventory(job: Job, folder) -> names.Inventory:
    """The inventory NE names are resolved against; an error when there is none."""
    found = names.load_inventory(folder, job.profile.ids.get("format", "{node}-{cell}")) if folder else None
    if found is None:
        where = f"{folder}" if folder else "the data directory"
        raise InputError(f"the alarms name their elements by NE name ({job.label('ne_name')}) but {where} has no "
                         f"sites table to resolve them against: import the 工参表 into it first (netdiag import "
                         f"params ... --out {folder or 'DATA_DIR'}), or give the inventory's data directory "
                         f"(--inventory OTHER_DATA_DIR)")
    return found


def _not_cleared(job: Job) -> None:
    """A clear time that says "not cleared" (``-``, ``未清除``, ``NULL``, the 1970 epoch, ...: the
    profile's ``[time] not_cleared``) is an alarm still active: its end time is empty."""
    header = job.header("end_time")
    if header is None:
        return
    words = {w.strip().lower() for w in job.profile.time.get("not_cleared", NOT_CLEARED)}
    raw = job.frame[header].fillna("").astype(str).str.strip()
    hit = raw.str.lower().isin(words) & (raw != "")
    if hit.any():
        job.frame[header] = raw.where(~hit, "")
        job.note("end_time", int(hit.sum()), "'not cleared' placeholder read as still active")


def merge_flapping(events: pd.DataFrame, *, gap_min: float = 10) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Alarms of one element, type and alarm raised within ``gap_min`` of the previous clear -> one event.

    Returns the events (the first alarm's id, the first raise, the last clear or none when one
    is still active, the highest severity, the count in the detail) and the rows merged into
    another (``row``, ``alarm_id``, ``merged_into``).

    Examples
    --------
    >>> e = pd.DataFrame({"event_id": ["a", "b", "c"], "element_id": "X", "event_type": "fault",
    ...     "severity": ["minor", "major", "minor"], "start_time": ["2026-01-01T00:00:00Z", "2026-01-01T00:06:00Z",
    ...     "2026-01-01T05:00:00Z"], "end_time": ["2026-01-01T00:05:00Z", "2026-01-01T00:09:00Z", ""],
    ...     "planned": "", "prev_lat": np.nan, "prev_lon": np.nan, "detail": "d", "_key": "k", "_row": [1, 2, 3]})
    >>> m, gone = merge_flapping(e)
    >>> m[["event_id", "severity", "end_time", "detail"]].values.tolist()
    [['a', 'major', '2026-01-01T00:09:00Z', 'd (flapping: 2 alarms merged)'], ['c', 'minor', '', 'd']]
    """
    if events.empty:
        return events.copy(), pd.DataFrame(columns=["row", "alarm_id", "merged_into"])
    e = events.copy()
    e["_start"] = pd.to_datetime(e["start_time"], utc=True).dt.as_unit("ns")
    e["_end"] = pd.to_datetime(e["end_time"].replace("", None), utc=True).dt.as_unit("ns")
    e["_rank"] = e["severity"].map(SEVERITY_RANK).fillna(0)
    e = e.sort_values(["element_id", "event_type", "_key", "_start", "_row"], kind="stable")
    keys = ["element_id", "event_type", "_key"]
    end_ns = e["_end"].astype("int64").where(e["_end"].notna(), np.iinfo(np.int64).max)
    running = end_ns.groupby([e[k] for k in keys]).cummax()
    previous = running.groupby([e[k] for k in keys]).shift(1)
    gap = pd.Timedelta(minutes=gap_min).value
    new_group = previous.isna() | (e["_start"].astype("int64") > previous + gap)
    e["_group"] = new_group.cumsum()
    g = e.groupby("_group", sort=False)
    first = g.head(1).set_index("_group")
    out = first.copy()
    out["_count"] = g.size()
    last = g["_end"].max()
    active = g["_end"].count() < g.size()
    out["end_time"] = last.dt.strftime("%Y-%m-%dT%H:%M:%SZ").where(~active & last.notna(), "")
    out["severity"] = g["_rank"].max().map({v: k for k, v in SEVERITY_RANK.items()})
    many = out["_count"] > 1
    out.loc[many, "detail"] = out.loc[many, "detail"] + " (flapping: " + out.loc[many, "_count"].astype(str) + " alarms merged)"
    e["_into"] = e["_group"].map(first["event_id"])
    gone = e[e["event_id"] != e["_into"]]
    absorbed = pd.DataFrame({"row": gone["_row"].to_numpy(), "alarm_id": gone["event_id"].to_numpy(),
                             "merged_into": gone["_into"].to_numpy()})
    out = out.sort_values(["_start", "event_id"], kind="stable").reset_index(drop=True)
    return out, absorbed
