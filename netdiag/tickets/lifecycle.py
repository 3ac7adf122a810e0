"""The ticket life cycle: TM Forum TMF621 statuses, priorities and the moves allowed between them.

Statuses follow TMF621: ``acknowledged`` (created) -> ``inProgress`` / ``pending`` (waiting
for someone else) / ``held`` (parked) -> ``resolved`` -> ``closed``; ``cancelled`` from any
open status. A resolved ticket can be re-opened (``inProgress``) when the customer is not
satisfied. :data:`TRANSITIONS` lists every allowed move.

Only :func:`check_transition` decides whether a move is allowed; the store and the CLI ask it.
"""
from __future__ import annotations

import pandas as pd

from netdiag.errors import TransitionError

#: TMF621 statuses netdiag uses, in life-cycle order
STATUSES = ("acknowledged", "inProgress", "pending", "held", "resolved", "closed", "cancelled")
#: statuses in which a ticket still needs work (at most one such ticket per root element and cause)
OPEN_STATUSES = ("acknowledged", "inProgress", "pending", "held")
#: statuses a ticket never leaves
FINAL_STATUSES = ("closed", "cancelled")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "acknowledged": ("inProgress", "pending", "held", "resolved", "cancelled"),
    "inProgress": ("pending", "held", "resolved", "cancelled"),
    "pending": ("inProgress", "held", "resolved", "cancelled"),
    "held": ("inProgress", "pending", "resolved", "cancelled"),
    "resolved": ("closed", "inProgress"),  # closed after the call-back; re-opened when the customer is unhappy
    "closed": (),
    "cancelled": (),
}
PRIORITIES = ("P1", "P2", "P3", "P4")
KINDS = ("incident", "coverage", "field_test")


def check_transition(ticket_id: str, old: str, new: str) -> None:
    """Raise :class:`TransitionError` unless a ticket may move from ``old`` to ``new``.

    Parameters
    ----------
    ticket_id : str
        Named in the message.
    old, new : str
        Statuses (see :data:`STATUSES`).

    Raises
    ------
    TransitionError
        With a one-line reason, e.g. ``closed is final``.

    Examples
    --------
    >>> check_transition("TS-20261102-0001", "acknowledged", "inProgress")
    >>> check_transition("TS-20261102-0001", "closed", "inProgress")
    Traceback (most recent call last):
    ...
    netdiag.errors.TransitionError: ticket TS-20261102-0001 is closed, which is final; it cannot become inProgress
    """
    if new not in STATUSES:
        raise TransitionError(f"`status` was {new!r} but is expected to be one of {', '.join(STATUSES)}")
    if old == new:
        raise TransitionError(f"ticket {ticket_id} is already {old}")
    if old in FINAL_STATUSES:
        raise TransitionError(f"ticket {ticket_id} is {old}, which is final; it cannot become {new}")
    if new not in TRANSITIONS.get(old, ()):
        allowed = ", ".join(TRANSITIONS.get(old, ()))
        hint = "; resolve it first" if new == "closed" else ""
        raise TransitionError(f"ticket {ticket_id} cannot go from {old} to {new} (from {old} it can go to {allowed}){hint}")


def ticket_days(created_at, zone: str) -> pd.Series:
    """The day part of ticket ids: each first complaint's day on the clock people read (``zone``, the
    display zone: an IANA name or ``UTC+08:00``), e.g. ``20261107``."""
    from netdiag.data.display import tzinfo

    return pd.to_datetime(pd.Series(created_at), utc=True).dt.tz_convert(tzinfo(zone)).dt.strftime("%Y%m%d")


def ticket_id(day: str, number: int) -> str:
    """A ticket id, ``TS-20261107-0042``: the day and the ticket's number that day."""
    return f"TS-{day}-{int(number):04d}"


def ticket_kind(cause: str) -> str:
    """``incident``, ``coverage`` or ``field_test`` for a cause."""
    return {"coverage_hole": "coverage", "no_fault_found": "field_test"}.get(cause, "incident")
