"""When an outage ended, and resolving the tickets of outages that have ended.

An outage or interference ticket is resolved by a run when the run's data shows its incident
over by the data's "now" (``as_of``): the end time and the events become its resolution.
"""
from __future__ import annotations

import sqlite3

import pandas as pd

from netdiag.data.times import iso_utc
from netdiag.engine.status import merge_intervals
from netdiag.tickets import lifecycle
from netdiag.tickets.store.batch import RunReport
from netdiag.tickets.store.connection import OPEN_SQL

#: causes whose tickets a run resolves when the data shows the incident over
ENDING_CAUSES = ("fault", "shutdown", "interference")
_ENDING_SQL = "(" + ", ".join(f"'{c}'" for c in ENDING_CAUSES) + ")"


def incident_end(net, cause: str, element_id: str, cause_start, as_of) -> tuple[pd.Timestamp, list[str]] | None:
    """When the outage (or interference) of ``element_id`` that began at ``cause_start`` ended.

    Overlapping intervals of the element and cause in the run's data form one incident; the
    one covering ``cause_start`` is looked up.

    Returns
    -------
    (end, event_ids) or None
        None when the data does not show that incident, or shows it still going on at
        ``as_of`` (no end time, or an end time after ``as_of``, e.g. planned works).
    """
    if cause not in ENDING_CAUSES:
        return None
    iv = net.intervals(cause, element_id)
    if iv.empty or cause_start is None:
        return None
    t0 = pd.Timestamp(cause_start)
    t0 = t0.tz_localize("UTC") if t0.tzinfo is None else t0
    iv = iv.assign(start=pd.to_datetime(iv["start"], utc=True), end=pd.to_datetime(iv["end"], utc=True))
    iv["_group"] = merge_intervals(iv, [])
    groups = iv.groupby("_group", sort=True)
    first = groups["start"].min()
    last = groups["end"].max().where(~iv["end"].isna().groupby(iv["_group"]).any())
    covering = (first <= t0 + pd.Timedelta(minutes=1)) & (last.isna() | (last > t0))
    if not covering.any():
        return None
    group = covering.idxmax()  # the earliest incident that covers cause_start
    end = last[group]
    if pd.isna(end) or end > pd.Timestamp(as_of):
        return None
    members = iv[iv["_group"] == group].sort_values("start", kind="stable")
    return end, [str(x) for x in members["event_id"] if isinstance(x, str)]


def resolve_ended(c: sqlite3.Connection, net, as_of, at: str, who: str, report: RunReport) -> None:
    """Every open outage / interference ticket whose outage ended by ``as_of`` becomes resolved (:func:`resolve_ids`)."""
    rows = c.execute(f"SELECT ticket_id FROM tickets WHERE status IN {OPEN_SQL} AND kind = 'incident' "
                     f"AND cause IN {_ENDING_SQL}").fetchall()
    resolve_ids(c, net, as_of, at, who, report, [r[0] for r in rows])


def resolve_ids(c: sqlite3.Connection, net, as_of, at: str, who: str, report: RunReport, ticket_ids: list[str]) -> None:
    """Those of ``ticket_ids`` that are open outage / interference tickets whose outage ended by ``as_of`` become resolved.

    The end time (and the events of the incident) become the ticket's resolution; ``report``
    counts them.
    """
    for tid in ticket_ids:
        r = c.execute("SELECT cause, element_id, cause_start, status FROM tickets WHERE ticket_id = ?", (tid,)).fetchone()
        if r["status"] not in lifecycle.OPEN_STATUSES or r["cause"] not in ENDING_CAUSES:
            continue
        ended = incident_end(net, r["cause"], r["element_id"], r["cause_start"], as_of)
        if ended is None:
            continue
        end, events = ended
        why = (f"{r['cause']} on {r['element_id']} ended at {iso_utc(end)}" + (f" ({', '.join(events[:5])})" if events else "")
               + f"; data as of {iso_utc(as_of)}")
        c.execute("UPDATE tickets SET status = 'resolved', resolved_at = ?, cause_end = ?, resolution = ?, updated_at = ?, "
                  "revision = revision + 1 WHERE ticket_id = ?", (iso_utc(end), iso_utc(end), why, at, tid))
        c.execute("INSERT INTO history (ticket_id, at, who, event, from_status, to_status, why) "
                  "VALUES (?, ?, ?, 'status', ?, 'resolved', ?)", (tid, at, who, r["status"], why))
        report.resolved += 1
        report.resolved_ticket_ids.append(tid)
