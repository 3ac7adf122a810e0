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
        """``net.elements`` as a dict of rows, made once per run (a lookup per new ticket)."""
        if self._elements is None:
            self._elements = net.elements[["kind", "name", "lat", "lon", "region"]].to_dict("index")
        return self._elements

    def day(self, received_at: str, tz: str) -> str:
        """The ticket-id day (:func:`~netdiag.tickets.lifecycle.ticket_days`) of one of the run's ``received_at``
        times; all of them are converted at the first call (one pandas call per run, not per ticket)."""
        if self._days is None:
            times = sorted({t for t in self.col["received_at"] if t is not None})
            self._days = dict(zip(times, lifecycle.ticket_days(times, tz).tolist()))
        return self._days[received_at]
