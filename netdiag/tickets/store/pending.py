"""A diagnose run's new rows before they are written: tickets, complaint links, history and the
day counters of ticket numbers, written with ``executemany`` when a phase of
:func:`netdiag.tickets.store.linking.record` ends (see its module docstring)."""
from __future__ import annotations

import sqlite3

from netdiag.data.values import plain
from netdiag.tickets.store.batch import LINK_COLUMNS, RunReport
from netdiag.tickets.store.connection import chunks
from netdiag.tickets.store.resolution import ended_why


class Pending:
    """The run's new rows not yet written: tickets, complaint links, history and day counters.

    Rows are kept in the order the run makes them and :meth:`flush` writes them in that order
    (tickets, then links, then history), so row ids and history order are those of writing
    them one at a time.
    """

    def __init__(self) -> None:
        self.tickets: list[dict] = []           # new tickets' column values (TICKET_COLUMNS)
        self.links: list[list] = []             # complaint rows (LINK_COLUMNS)
        self.history: list[tuple] = []          # (ticket_id, at, who, event, from_status, to_status, why)
        self.counters: dict[str, int] = {}      # day -> last ticket number used, read once per day
        self.written: dict[str, int] = {}       # the counters as the table has them
        self.open_element: dict[tuple[str, str], str] = {}  # (cause, element_id) -> an open ticket not yet written
        self._c: sqlite3.Connection | None = None

    def bind(self, c: sqlite3.Connection, zone: str = "UTC") -> "Pending":
        """Write through ``c``; ticket numbers count the days of ``zone`` (:func:`.linking.ticket_zone`)."""
        self._c, self.zone = c, zone
        return self

    def number(self, day: str) -> tuple[str, int]:
        """(day, the next ticket number of that day): the stored counter is read once, then counted here."""
        if day not in self.counters:
            row = self._c.execute("SELECT last FROM id_counters WHERE day = ?", (day,)).fetchone()
            self.counters[day] = self.written[day] = row[0] if row else 0
        self.counters[day] += 1
        return day, self.counters[day]

    def resolve_new(self, net, as_of, at: str, who: str, report: RunReport) -> bool:
        """Resolve the ticket just opened (the last pending one) if its outage has ended by ``as_of``
        (as :func:`~netdiag.tickets.store.resolution.resolve_ids` does for a stored one)."""
        v = self.tickets[-1]
        ended = ended_why(net, v["cause"], v["element_id"], v["cause_start"], as_of)
        if ended is None:
            return False
        end, why = ended
        v.update(status="resolved", resolved_at=end, cause_end=end, resolution=why, updated_at=at, revision=v["revision"] + 1)
        self.history.append((v["ticket_id"], at, who, "status", "acknowledged", "resolved", why))
        report.resolved += 1
        report.resolved_ticket_ids.append(v["ticket_id"])
        return True

    def flush(self, c: sqlite3.Connection) -> None:
        """Write everything pending, in chunks; afterwards the tables show what one-at-a-time writes would."""
        counters = [(day, n) for day, n in self.counters.items() if self.written.get(day) != n]
        c.executemany("INSERT INTO id_counters (day, last) VALUES (?, ?) ON CONFLICT (day) DO UPDATE SET last = excluded.last",
                      counters)
        self.written.update(self.counters)
        for chunk in chunks(self.tickets, 5000):
            c.executemany(_INSERT_TICKET, [[_sql_value(v[k]) for k in TICKET_COLUMNS] for v in chunk])
        for chunk in chunks(self.links, 5000):
            c.executemany(_INSERT_LINK, chunk)
        for chunk in chunks(self.history, 5000):
            c.executemany("INSERT INTO history (ticket_id, at, who, event, from_status, to_status, why) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?)", chunk)
        self.tickets, self.links, self.history = [], [], []
        self.open_element.clear()


def _sql_value(value):
    """:func:`~netdiag.data.values.plain`, with text, integers and None (most of a ticket) passed as they are."""
    kind = type(value)
    return value if kind is str or kind is int or value is None else plain(value)


#: the columns of a new ticket, in insertion order
TICKET_COLUMNS = ["ticket_id", "kind", "cause", "element_id", "element_kind", "area_key", "incident_id", "status", "priority",
                  "grade", "action", "team", "lead_department", "via", "region", "place", "lat", "lon", "fixed_position",
                  "evidence", "cause_start", "cause_end", "sites_affected", "cells_affected", "created_at", "opened_at",
                  "updated_at", "resolution", "resolved_at", "revision"]
_INSERT_TICKET = f"INSERT INTO tickets ({', '.join(TICKET_COLUMNS)}) VALUES ({', '.join('?' * len(TICKET_COLUMNS))})"
_INSERT_LINK = f"INSERT INTO complaints ({', '.join(LINK_COLUMNS)}) VALUES ({', '.join('?' * len(LINK_COLUMNS))})"
