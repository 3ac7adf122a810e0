"""When an outage ended, and resolving the tickets of outages that have ended.

An outage or interference ticket is resolved by a run when the run's data shows its incident
over by the data's "now" (``as_of``): the end time and the events become its resolution.
"""
from __future__ import annotations

import sqlite3

import pandas as pd

from netdiag.data.times import iso_utc
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
    incidents = net.incidents(cause, element_id)
    if not incidents or cause_start is None:
        return None
    t0 = pd.Timestamp(cause_start)
    t0 = t0.tz_localize("UTC") if t0.tzinfo is None else t0
    limit = t0 + pd.Timedelta(minutes=1)
    for first, last, events in incidents:  # the earliest incident that covers cause_start
        if not pd.isna(first) and first <= limit and (pd.isna(last) or last > t0):
            if pd.isna(last) or last > pd.Timestamp(as_of):
                return None
            return last, [str(e) for e in events if isinstance(e, str)]
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
