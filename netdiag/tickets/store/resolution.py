"""When an outage ended, and resolving the tickets of outages that have ended.

An outage or interference ticket is resolved by a run when the run's data shows its incident
over by the data's "now" (``as_of``): the end time and the events become its resolution.
"""
from __future__ import annotations

import sqlite3

import pandas as pd

from netdiag.data.times import iso_utc
from netdiag.engine.status import FOREVER
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
    # merged as :func:`~netdiag.engine.status.merge_intervals` does, in plain Python: an element has a
    # few intervals and this runs once per ticket, where pandas' per-call overhead was most of a run's
    starts = pd.to_datetime(iv["start"], utc=True).tolist()
    ends = pd.to_datetime(iv["end"], utc=True).tolist()
    order = sorted(range(len(starts)), key=lambda i: (1, 0) if pd.isna(starts[i]) else (0, starts[i]))  # NaT last, stable
    groups: list[list] = []  # [first start, last end (NaT: still going on), member rows]
    reach = None
    for i in order:
        start, end = starts[i], ends[i]
        if not groups or start > reach:
            groups.append([pd.NaT, None, []])
        g = groups[-1]
        g[2].append(i)
        if not pd.isna(start) and (pd.isna(g[0]) or start < g[0]):
            g[0] = start
        g[1] = pd.NaT if pd.isna(end) or (g[1] is not None and pd.isna(g[1])) else (end if g[1] is None else max(g[1], end))
        reach_end = FOREVER if pd.isna(end) else end
        reach = reach_end if reach is None else max(reach, reach_end)
    limit = t0 + pd.Timedelta(minutes=1)
    for first, last, members in groups:  # the earliest incident that covers cause_start
        if not pd.isna(first) and first <= limit and (pd.isna(last) or last > t0):
            if pd.isna(last) or last > pd.Timestamp(as_of):
                return None
            events = iv["event_id"].tolist()
            return last, [str(events[i]) for i in members if isinstance(events[i], str)]
    return None


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
        if r["status"] not in lifecycle.OPEN_STATUSES:
            continue
        ended = ended_why(net, r["cause"], r["element_id"], r["cause_start"], as_of)
        if ended is None:
            continue
        end, why = ended
        c.execute("UPDATE tickets SET status = 'resolved', resolved_at = ?, cause_end = ?, resolution = ?, updated_at = ?, "
                  "revision = revision + 1 WHERE ticket_id = ?", (end, end, why, at, tid))
        c.execute("INSERT INTO history (ticket_id, at, who, event, from_status, to_status, why) "
                  "VALUES (?, ?, ?, 'status', ?, 'resolved', ?)", (tid, at, who, r["status"], why))
        report.resolved += 1
        report.resolved_ticket_ids.append(tid)


def ended_why(net, cause: str, element_id: str, cause_start, as_of) -> tuple[str, str] | None:
    """(end time as ISO text, the resolution text) when the outage of an open ticket ended by ``as_of``, else None.

    Shared by :func:`resolve_ids` and the run's new tickets that are not yet written
    (:mod:`~netdiag.tickets.store.linking`).
    """
    if cause not in ENDING_CAUSES:
        return None
    ended = incident_end(net, cause, element_id, cause_start, as_of)
    if ended is None:
        return None
    end, events = ended
    why = (f"{cause} on {element_id} ended at {iso_utc(end)}" + (f" ({', '.join(events[:5])})" if events else "")
           + f"; data as of {iso_utc(as_of)}")
    return iso_utc(end), why
