"""People's updates to a ticket store: status, priority, team and notes, each in one transaction.

Moves between statuses follow the life cycle (:func:`netdiag.tickets.lifecycle.check_transition`);
a resolved ticket is re-opened only while no other ticket is open for the same root element
(or grid square) and cause, which the store's unique index would refuse anyway. Every change
is written to ``history`` with who and why and bumps the ticket's ``revision``.
"""
from __future__ import annotations

import logging
import sqlite3
from typing import Any

from netdiag.data.privacy import mask_phone_numbers
from netdiag.data.times import now_iso
from netdiag.errors import InputError, StaleRevisionError, TransitionError
from netdiag.tickets import lifecycle
from netdiag.tickets.store import queries
from netdiag.tickets.store.connection import OPEN_SQL, StoreConnection, default_who, write

log = logging.getLogger(__package__)  # one logger for the whole store, as before it was split


def update(conn: StoreConnection, ticket_id: str, *, status: str | None = None, priority: str | None = None,
           team: str | None = None, note: str | None = None, who: str | None = None, why: str | None = None,
           expect_revision: int | None = None) -> dict:
    """Change a ticket's status, priority or team and/or add a note, in one transaction.

    Parameters
    ----------
    conn : StoreConnection
        The store's connection, with no transaction open.
    ticket_id : str
    status : str, optional
        The new status; the move must be allowed (:data:`netdiag.tickets.lifecycle.TRANSITIONS`).
    priority : {"P1", "P2", "P3", "P4"}, optional
        Set by a person: later runs no longer recompute it.
    team : str, optional
        Reassign.
    note : str, optional
        Free text added to the ticket's notes.
    who, why : str, optional
        Recorded in the history (``who`` defaults to :func:`default_who`).
    expect_revision : int, optional
        Refuse when the ticket changed since it was read at this revision.

    Returns
    -------
    dict
        The ticket after the change (as :func:`netdiag.tickets.store.queries.show`).

    Raises
    ------
    InputError
        Nothing to change, a bad priority or an empty team.
    netdiag.errors.TicketNotFoundError
        When the store has no such ticket.
    netdiag.errors.StaleRevisionError
        When the ticket's revision is no longer ``expect_revision``.
    netdiag.errors.TransitionError
        When the life cycle does not allow the status change; the message says why.
    """
    if status is None and priority is None and team is None and not note:
        raise InputError("nothing to update: give a new status, priority or team, or a note")
    if priority is not None:
        queries.check_priority(priority)
    if team is not None and not team.strip():
        raise InputError("`team` was empty but is expected to name a team, e.g. field-West")
    # a handler may type the customer's number into a note: personal data, masked like the rest
    note, why = mask_phone_numbers(note), mask_phone_numbers(why)
    who = who or default_who()
    at = now_iso()
    with write(conn) as c:
        row = c.execute("SELECT * FROM tickets WHERE ticket_id = ?", (ticket_id,)).fetchone()
        if row is None:
            raise queries.not_found(c, ticket_id)
        if expect_revision is not None and int(row["revision"]) != int(expect_revision):
            raise StaleRevisionError(f"ticket {ticket_id} changed since you read it (now revision {row['revision']}, "
                                     f"you had {expect_revision}); show it again and retry")
        sets: dict[str, Any] = {}
        if status is not None:
            lifecycle.check_transition(ticket_id, row["status"], status)
            if status in lifecycle.OPEN_STATUSES and row["status"] not in lifecycle.OPEN_STATUSES:
                _check_reopen(c, row)
            sets["status"] = status
            if status == "resolved":
                sets["resolved_at"] = at
                sets["resolution"] = why or f"resolved by {who}"
            elif status == "closed":
                sets["closed_at"] = at
            elif status in lifecycle.OPEN_STATUSES and row["status"] == "resolved":
                sets["resolved_at"] = None
                sets["resolution"] = None
            c.execute("INSERT INTO history (ticket_id, at, who, event, from_status, to_status, why) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      (ticket_id, at, who, "status", row["status"], status, why))
        if priority is not None and priority != row["priority"]:
            sets["priority"] = priority
            c.execute("INSERT INTO history (ticket_id, at, who, event, from_status, to_status, why) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      (ticket_id, at, who, "priority", None, None, f"priority {row['priority']} -> {priority}"
                       + (f": {why}" if why else "")))
        if priority is not None:
            sets["priority_manual"] = 1
        if team is not None and team != row["team"]:
            sets["team"] = team
            c.execute("INSERT INTO history (ticket_id, at, who, event, from_status, to_status, why) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      (ticket_id, at, who, "team", None, None, f"team {row['team']} -> {team}" + (f": {why}" if why else "")))
        if note:
            c.execute("INSERT INTO notes (ticket_id, at, who, text) VALUES (?, ?, ?, ?)", (ticket_id, at, who, note))
        assignments = ", ".join(f"{k} = ?" for k in sets)
        c.execute(f"UPDATE tickets SET {assignments + ', ' if assignments else ''}updated_at = ?, revision = revision + 1 "
                  "WHERE ticket_id = ?", [*sets.values(), at, ticket_id])
    log.info("ticket %s updated by %s: %s", ticket_id, who, ", ".join(sets) or "note")
    return queries.show(conn, ticket_id)


def close_ticket(conn: StoreConnection, ticket_id: str, *, who: str | None = None, why: str | None = None) -> dict:
    """Close a resolved ticket (after the call-back to the customer); see :func:`update`.

    Returns
    -------
    dict
        The ticket after the change (as :func:`netdiag.tickets.store.queries.show`).
    """
    return update(conn, ticket_id, status="closed", who=who, why=why)


def _check_reopen(c: sqlite3.Connection, row: sqlite3.Row) -> None:
    """A resolved ticket re-opens only while no other ticket is open for its element (or square) and cause."""
    for col in ("element_id", "area_key"):
        if row[col] is None:
            continue
        other = c.execute(f"SELECT ticket_id FROM tickets WHERE cause = ? AND {col} = ? AND status IN {OPEN_SQL} "
                          "AND ticket_id != ?", (row["cause"], row[col], row["ticket_id"])).fetchone()
        if other:
            raise TransitionError(
                f"ticket {row['ticket_id']} cannot be re-opened: {other[0]} is already open for {row['cause']} on "
                f"{row[col]}; add a note there instead")


def add_history(conn: StoreConnection, entries: dict[str, str], *, event: str, who: str | None = None,
                before_commit=None) -> int:
    """Write one ``history`` row per ticket (``event``, who, now, the ticket's ``why``), all in one transaction.

    For what happened *to* a ticket without changing it (e.g. ``customer_revealed``: a
    customer's full number printed on a dispatch list); the ticket's status, fields and
    revision stay as they are. ``why`` texts are masked like every note (no phone number whole).

    Parameters
    ----------
    conn : StoreConnection
        The store's connection, with no transaction open.
    entries : dict
        ticket id -> why.
    event : str
        The history event, e.g. ``customer_revealed``.
    who : str, optional
        Default :func:`default_who`.
    before_commit : callable, optional
        Called with no arguments inside the transaction just before COMMIT: what the history
        records (e.g. writing the list) happens there, and an exception rolls the history back.

    Returns
    -------
    int
        The rows written.

    Raises
    ------
    netdiag.errors.TicketNotFoundError
        When the store has no such ticket (nothing is written).
    """
    who = who or default_who()
    at = now_iso()
    with write(conn) as c:
        for ticket_id, why in entries.items():
            if c.execute("SELECT 1 FROM tickets WHERE ticket_id = ?", (ticket_id,)).fetchone() is None:
                raise queries.not_found(c, ticket_id)
            c.execute("INSERT INTO history (ticket_id, at, who, event, from_status, to_status, why) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      (ticket_id, at, who, event, None, None, mask_phone_numbers(why)))
        if before_commit is not None:
            before_commit()
    log.info("%s: %d history row(s) by %s", event, len(entries), who)
    return len(entries)
