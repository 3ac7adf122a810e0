"""Reading a ticket store: tickets with filters, their complaints, history and notes.

Every function takes the store's connection (:func:`netdiag.tickets.store.connection.connect`)
and reads in whatever transaction is open on it (:func:`~netdiag.tickets.store.connection.read`
for one consistent snapshot). Tickets come back as a DataFrame shaped like the in-memory
tickets (:data:`netdiag.tickets.grouping.TICKET_COLUMNS` first, UTC timestamps, empty text
rather than null).
"""
from __future__ import annotations

import json
import sqlite3
from typing import Iterable

import pandas as pd

from netdiag.data.times import iso_utc
from netdiag.errors import InputError, TicketNotFoundError
from netdiag.tickets import grouping as tk
from netdiag.tickets import lifecycle
from netdiag.tickets.store.connection import chunks, read, tuples

TIME_COLUMNS = ("created_at", "first_reply_due", "due_at", "opened_at", "updated_at", "resolved_at", "closed_at",
                "cause_start", "cause_end")
#: text columns read as "" rather than null, as in the in-memory tickets
_TEXT_COLUMNS = ("complaint_ids", "element_id", "element_kind", "via", "region", "place", "evidence", "resolution",
                 "area_key", "incident_id")
_COMPLAINT_TIMES = ("received_at", "occurred_at", "cause_start", "cause_end", "linked_at")


def tickets(conn: sqlite3.Connection, *, ids: Iterable[str] | None = None, status: Iterable[str] | None = None,
            team: str | None = None, priority: Iterable[str] | None = None, cause: Iterable[str] | None = None,
            kind: str | None = None, region: str | None = None, bbox: tuple[float, float, float, float] | None = None,
            created_before: pd.Timestamp | None = None) -> pd.DataFrame:
    """Tickets matching every filter given, oldest first.

    Parameters
    ----------
    conn : sqlite3.Connection
        The store's connection.
    ids : iterable of str, optional
        Only these ticket ids.
    status : iterable of str, optional
        Statuses (see :data:`netdiag.tickets.lifecycle.STATUSES`); ``open`` stands for every open one.
    team, region, kind : str, optional
        Exact matches.
    priority, cause : iterable of str, optional
    bbox : (min_lon, min_lat, max_lon, max_lat), optional
        Only tickets located inside.
    created_before : Timestamp, optional
        Only tickets whose first complaint came before this moment.

    Returns
    -------
    DataFrame
        :data:`netdiag.tickets.grouping.TICKET_COLUMNS` first, then the store's other columns;
        times are UTC timestamps.

    Raises
    ------
    InputError
        On an unknown status or priority.
    """
    where, args = [], []
    if ids is not None:
        ids = list(ids)
        if not ids:
            return _frame(conn, [], [])
        # one parameter, however many ids (a run may ask for 100,000+; SQLite limits the parameters)
        where.append("ticket_id IN (SELECT value FROM json_each(?))")
        args.append(json.dumps(ids))
    if status:
        wanted = []
        for s in status:
            if s == "open":
                wanted += list(lifecycle.OPEN_STATUSES)
            elif s in lifecycle.STATUSES:
                wanted.append(s)
            else:
                raise InputError(f"status was {s!r} but is expected to be open or one of {', '.join(lifecycle.STATUSES)}")
        where.append(f"status IN ({', '.join('?' * len(wanted))})")
        args += wanted
    if priority:
        priority = list(priority)
        check_priority(*priority)
        where.append(f"priority IN ({', '.join('?' * len(priority))})")
        args += priority
    if cause:
        cause = list(cause)
        where.append(f"cause IN ({', '.join('?' * len(cause))})")
        args += cause
    for col, value in (("team", team), ("region", region), ("kind", kind)):
        if value:
            where.append(f"{col} = ?")
            args.append(value)
    if bbox is not None:
        min_lon, min_lat, max_lon, max_lat = bbox
        where.append("lon BETWEEN ? AND ? AND lat BETWEEN ? AND ?")
        args += [min_lon, max_lon, min_lat, max_lat]
    if created_before is not None:
        where.append("created_at < ?")
        args.append(iso_utc(created_before))
    sql = (f"SELECT {', '.join('t.' + col for col in conn.columns('tickets'))}, {_COMPLAINT_IDS[conn.dialect]} "
           f"AS complaint_ids FROM tickets t"
           + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY created_at, ticket_id")
    return _frame(conn, *tuples(conn, sql, args))


#: a ticket's complaint ids, oldest first, as one text (SQLite before 3.44 has no ORDER BY in an aggregate)
_COMPLAINT_IDS = {
    "sqlite": "(SELECT group_concat(complaint_id, ';') FROM (SELECT complaint_id FROM complaints c "
              "WHERE c.ticket_id = t.ticket_id ORDER BY received_at, complaint_id))",
    "postgresql": "(SELECT string_agg(complaint_id, ';' ORDER BY received_at, complaint_id) FROM complaints c "
                  "WHERE c.ticket_id = t.ticket_id)",
}


def check_priority(*priorities: str) -> None:
    """Refuse a priority that is not one of :data:`netdiag.tickets.lifecycle.PRIORITIES`.

    Raises
    ------
    InputError
        Naming the first unknown priority.
    """
    bad = [p for p in priorities if p not in lifecycle.PRIORITIES]
    if bad:
        raise InputError(f"priority was {bad[0]!r} but is expected to be one of {', '.join(lifecycle.PRIORITIES)}")


def _frame(conn: sqlite3.Connection, columns: list[str], rows: list[tuple]) -> pd.DataFrame:
    if rows:
        frame = pd.DataFrame.from_records(rows, columns=columns)
    else:
        frame = pd.DataFrame(columns=conn.columns("tickets") + ["complaint_ids"])
    for col in TIME_COLUMNS:
        frame[col] = pd.to_datetime(frame[col], utc=True, format="ISO8601")
    for col in _TEXT_COLUMNS:
        frame[col] = frame[col].astype(object).where(frame[col].notna(), "")
    first = [c for c in tk.TICKET_COLUMNS if c in frame.columns]
    return frame[first + [c for c in frame.columns if c not in first]].reset_index(drop=True)


def complaints(conn: sqlite3.Connection, ticket_ids: Iterable[str]) -> pd.DataFrame:
    """The complaints linked to some tickets (customer numbers masked), oldest first.

    Parameters
    ----------
    conn : sqlite3.Connection
        The store's connection.
    ticket_ids : iterable of str

    Returns
    -------
    DataFrame
        The ``complaints`` table's columns; times are UTC timestamps.
    """
    # one query, so that the order holds across any number of tickets (it used to hold within 500)
    columns, rows = tuples(conn, f"SELECT {', '.join(conn.columns('complaints'))} FROM complaints WHERE ticket_id IN "
                                 f"(SELECT value FROM json_each(?)) ORDER BY received_at, complaint_id",
                           (json.dumps(list(ticket_ids)),))
    frame = pd.DataFrame.from_records(rows, columns=columns)
    for col in _COMPLAINT_TIMES:
        frame[col] = pd.to_datetime(frame[col], utc=True, format="ISO8601")
    return frame


def links(conn, complaint_ids: Iterable[str]) -> dict[str, str]:
    """complaint id -> the ticket it is linked to, for those of ``complaint_ids`` the store has linked."""
    ids = list(complaint_ids)
    if not ids:
        return {}
    return dict(tuples(conn, "SELECT complaint_id, ticket_id FROM complaints WHERE complaint_id IN "
                             "(SELECT value FROM json_each(?))", (json.dumps(ids),))[1])


def show(conn: sqlite3.Connection, ticket_id: str) -> dict:
    """One ticket with its complaints, status history and notes, read in one snapshot.

    Parameters
    ----------
    conn : sqlite3.Connection
        The store's connection, with no transaction open.
    ticket_id : str

    Returns
    -------
    dict
        ``ticket`` (a dict of the :func:`tickets` row), ``history`` and ``notes`` (lists of
        dicts, oldest first) and ``complaints`` (as :func:`complaints`).

    Raises
    ------
    netdiag.errors.TicketNotFoundError
        When the store has no such ticket.
    """
    with read(conn) as c:
        t = tickets(c, ids=[ticket_id])
        if t.empty:
            raise not_found(c, ticket_id)
        history = [dict(r) for r in c.execute("SELECT at, who, event, from_status, to_status, why FROM history "
                                              "WHERE ticket_id = ? ORDER BY seq", (ticket_id,))]
        notes = [dict(r) for r in c.execute("SELECT at, who, text FROM notes WHERE ticket_id = ? ORDER BY seq", (ticket_id,))]
        linked = complaints(c, [ticket_id])
    return {"ticket": t.iloc[0].to_dict(), "history": history, "notes": notes, "complaints": linked}


def not_found(conn: sqlite3.Connection, ticket_id: str) -> TicketNotFoundError:
    """The error for a ticket id the store does not have (saying how many it has and what ids look like)."""
    n = conn.execute("SELECT count(*) FROM tickets").fetchone()[0]
    return TicketNotFoundError(f"ticket {ticket_id!r} is not in {conn.path} ({n:,} tickets; ids look like TS-20261102-0001)")


def history(conn: sqlite3.Connection, ticket_ids: Iterable[str]) -> dict[str, list[dict]]:
    """Status and field changes per ticket, oldest first.

    Returns
    -------
    dict
        ticket id -> list of ``{at, who, event, from_status, to_status, why}``; tickets
        without history are left out.
    """
    return _per_ticket(conn, "SELECT ticket_id, at, who, event, from_status, to_status, why FROM history", ticket_ids)


def notes(conn: sqlite3.Connection, ticket_ids: Iterable[str]) -> dict[str, list[dict]]:
    """Notes per ticket, oldest first.

    Returns
    -------
    dict
        ticket id -> list of ``{at, who, text}``; tickets without notes are left out.
    """
    return _per_ticket(conn, "SELECT ticket_id, at, who, text FROM notes", ticket_ids)


def _per_ticket(conn: sqlite3.Connection, select: str, ticket_ids: Iterable[str]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for chunk in chunks(list(ticket_ids)):
        for r in conn.execute(f"{select} WHERE ticket_id IN ({', '.join('?' * len(chunk))}) ORDER BY seq", list(chunk)):
            row = dict(r)
            out.setdefault(row.pop("ticket_id"), []).append(row)
    return out
