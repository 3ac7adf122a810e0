"""A diagnose run as the store sees it: its complaints as plain rows, and what it did.

:class:`Batch` holds the run's complaints column by column as plain Python lists (times as
ISO text), so that linking many small groups does no pandas work per group;
:class:`RunReport` counts what the run changed in the store.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from netdiag.data.times import iso_utc_list
from netdiag.tickets import lifecycle

#: the columns of a linked complaint (``complaints`` table), in insertion order
LINK_COLUMNS = ["complaint_id", "ticket_id", "cause", "element_id", "incident_id", "received_at", "occurred_at", "cause_start",
                "cause_end", "lat", "lon", "category", "indoor", "vip", "public", "channel", "customer", "description", "region",
                "evidence", "confidence", "linked_at", "run_id"]

#: the fields of a link that the run sets (not the complaint), and where they are in a row
_RUN_FIELDS = ("ticket_id", "linked_at", "run_id")
_TICKET, _LINKED_AT, _RUN = (LINK_COLUMNS.index(name) for name in _RUN_FIELDS)


@dataclass
class RunReport:
    """What one ``diagnose`` run did to the store."""

    run_id: int
    complaints: int = 0
    already_linked: int = 0
    linked_to_existing: int = 0
    linked_to_new: int = 0
    new_tickets: int = 0
    resolved: int = 0
    relinked: int = 0
    cancelled: int = 0
    new_ticket_ids: list[str] = field(default_factory=list)
    resolved_ticket_ids: list[str] = field(default_factory=list)

    def text(self) -> str:
        """One line for people: new tickets, complaints added, already linked, resolved (and moved)."""
        return (f"{self.new_tickets:,} new tickets, {self.linked_to_existing:,} complaints added to existing tickets, "
                f"{self.already_linked:,} already linked, {self.resolved:,} tickets resolved (outage ended)"
                + (f", {self.relinked:,} complaints moved after re-diagnosis" if self.relinked else ""))

    def as_dict(self) -> dict:
        """The counts as a JSON-ready dict (without the id lists)."""
        return {k: getattr(self, k) for k in ("run_id", "complaints", "already_linked", "linked_to_existing", "linked_to_new",
                                              "new_tickets", "resolved", "relinked", "cancelled")}


class Batch:
    """A run's complaints as plain Python lists (times as ISO text): per-group work without pandas overhead."""

    TIMES = ("received_at", "occurred_at", "cause_start", "cause_end")

    def __init__(self, d: pd.DataFrame) -> None:
        self._elements: dict | None = None
        self._days: dict[str, str] | None = None
        self._link_rows: list[tuple] | None = None
        self.col: dict[str, list] = {}
        wanted = set(LINK_COLUMNS) | {"action", "team", "via", "nearest_site"}
        for name in wanted - {"ticket_id", "linked_at", "run_id"}:
            if name not in d:
                self.col[name] = [None] * len(d)
                continue
            s = d[name]
            if name in self.TIMES:
                self.col[name] = iso_utc_list(s)
            elif name in ("indoor", "vip", "public"):
                self.col[name] = s.fillna(False).astype(bool).astype(int).tolist()
            elif name in ("lat", "lon", "confidence"):
                v = s.astype(float)
                self.col[name] = v.astype(object).where(v.notna(), None).tolist()
            else:
                v = s.astype(object).where(s.notna(), None)
                self.col[name] = [None if x == "" else x for x in v.tolist()]

    def elements(self, net) -> dict:
        """``net.elements`` as a dict of rows, made once per run (a lookup per new ticket); the rows hold
        what ``to_dict("index")`` gives, built from the columns' lists (faster)."""
        if self._elements is None:
            e = net.elements
            cols = ["kind", "name", "lat", "lon", "region"]
            self._elements = {k: dict(zip(cols, v)) for k, *v in zip(e.index.tolist(), *(e[c].tolist() for c in cols))}
        return self._elements

    def links(self, idx: list[int], ticket_id: str, linked_at: str, run_id: int) -> list[list]:
        """The ``complaints`` rows (:data:`LINK_COLUMNS`) linking the batch's complaints ``idx`` to a ticket."""
        if self._link_rows is None:  # every complaint's row once, the run's own fields left empty
            n = len(self.col["complaint_id"])
            self._link_rows = list(zip(*(self.col[name] if name not in _RUN_FIELDS else [None] * n
                                         for name in LINK_COLUMNS)))
        rows = []
        for i in idx:
            row = list(self._link_rows[i])
            row[_TICKET], row[_LINKED_AT], row[_RUN] = ticket_id, linked_at, run_id
            rows.append(row)
        return rows

    def day(self, received_at: str, tz: str) -> str:
        """The ticket-id day (:func:`~netdiag.tickets.lifecycle.ticket_days`) of one of the run's ``received_at``
        times; all of them are converted at the first call (one pandas call per run, not per ticket)."""
        if self._days is None:
            times = sorted({t for t in self.col["received_at"] if t is not None})
            self._days = dict(zip(times, lifecycle.ticket_days(times, tz).tolist()))
        return self._days[received_at]
