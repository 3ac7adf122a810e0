"""A ticket as a TM Forum Trouble Ticket (TMF621) resource, for JSON exports and other systems."""
from __future__ import annotations

from netdiag.data.times import iso_utc
from netdiag.data.values import plain

_TMF_TYPES = {"incident": "networkFault", "coverage": "coverage", "field_test": "fieldTest"}


def ticket_title(t) -> str:
    """``fault on HUB1``, ``coverage hole near site S001 (West)``, ``field test near ...``."""
    if t.get("element_id") and isinstance(t.get("element_id"), str):
        return f"{t['cause']} on {t['element_id']}"
    what = "coverage hole" if t.get("kind") == "coverage" else "field test"
    place = t.get("place")
    return f"{what} {place}" if isinstance(place, str) and place else what


def tickets_tmf621(tickets) -> list[dict]:
    """Many tickets (a frame of :meth:`netdiag.tickets.store.TicketStore.tickets`) as TMF621 resources."""
    return [tmf621(r) for r in tickets.to_dict("records")]


def shown_tmf621(shown: dict) -> dict:
    """One ticket as :meth:`netdiag.tickets.store.TicketStore.show` gives it, with history, notes and complaints."""
    return tmf621(shown["ticket"], history=shown["history"], notes=shown["notes"],
                  complaint_ids=shown["complaints"]["complaint_id"].tolist())


def tmf621(ticket, *, history=(), notes=(), complaint_ids=None) -> dict:
    """One ticket as a TM Forum Trouble Ticket (TMF621) resource.

    Parameters
    ----------
    ticket : mapping
        A row of :meth:`netdiag.tickets.store.TicketStore.tickets` (or of in-memory tickets).
    history : iterable of mapping
        ``at, who, event, from_status, to_status, why`` rows; status changes become
        ``statusChange``.
    notes : iterable of mapping
        ``at, who, text`` rows.
    complaint_ids : list of str, optional
        Default: ``ticket["complaint_ids"]`` split on ``;``.

    Returns
    -------
    dict
        JSON-ready: ``id, name, description, ticketType, status, priority, severity,
        creationDate, lastUpdate, requestedResolutionDate, resolutionDate, relatedEntity,
        relatedParty, note, statusChange, characteristic``.
    """
    t = {k: plain(v) for k, v in dict(ticket).items()}
    if complaint_ids is None:
        complaint_ids = [c for c in str(t.get("complaint_ids") or "").split(";") if c]
    changes = [h for h in history if h.get("event") in ("created", "status")]
    related = []
    if t.get("element_id"):
        related.append({"id": t["element_id"], "role": "rootElement", "@referredType": "Resource",
                        "name": t.get("element_kind") or None})
    related += [{"id": c, "role": "complaint", "@referredType": "CustomerComplaint"} for c in complaint_ids]
    parties = [{"id": t.get("team"), "role": "assignee", "@referredType": "Organization"},
               {"id": t.get("lead_department"), "role": "leadDepartment", "@referredType": "Organization"}]
    chars = ["cause", "action", "via", "region", "place", "lat", "lon", "sites_affected", "cells_affected", "complaint_count",
             "vip_count", "first_reply_due", "resolution", "incident_id", "revision"]
    return {
        "id": t["ticket_id"],
        "@type": "TroubleTicket",
        "name": ticket_title(t),
        "description": t.get("evidence"),
        "ticketType": _TMF_TYPES.get(t.get("kind"), "networkFault"),
        "status": t.get("status"),
        "priority": t.get("priority"),
        "severity": t.get("grade"),
        "creationDate": iso_utc(t.get("created_at")),
        "lastUpdate": iso_utc(t.get("updated_at")),
        "requestedResolutionDate": iso_utc(t.get("due_at")),
        "resolutionDate": iso_utc(t.get("resolved_at")),
        "statusChangeDate": iso_utc(changes[-1]["at"]) if changes else None,
        "statusChangeReason": changes[-1].get("why") if changes else None,
        "relatedEntity": related,
        "relatedParty": parties,
        "note": [{"date": iso_utc(n["at"]), "author": n["who"], "text": n["text"]} for n in notes],
        "statusChange": [{"changeDate": iso_utc(h["at"]), "status": h.get("to_status"), "changeReason": h.get("why"),
                          "author": h.get("who")} for h in changes],
        "characteristic": [{"name": k, "value": iso_utc(t[k]) if k == "first_reply_due" else t.get(k)}
                           for k in chars if t.get(k) is not None],
    }
