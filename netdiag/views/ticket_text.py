"""Tickets for a terminal: a fixed-width list and one ticket's card (facts, complaints, history, notes)."""
from __future__ import annotations

import pandas as pd

from netdiag.data.display import zone_heading
from netdiag.data.times import UTC_NAMES, format_times, when_text
from netdiag.tickets.lifecycle import OPEN_STATUSES
from netdiag.tickets.tmf621 import ticket_title


def format_table(t: pd.DataFrame, *, tz: str = "UTC", now: pd.Timestamp | None = None) -> str:
    """Tickets as a fixed-width table (one line each), with overdue open tickets flagged ``!``; times in ``tz``,
    named on the first line."""
    if t.empty:
        return "no tickets match"
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    head = f"{'ticket':<17} {'status':<12} {'pri':<3} {'grade':<8} {'what':<34} {'team':<18} {'n':>4}  due ({tz})"
    lines = [zone_heading(tz), head, "-" * len(head)]
    due = _when_texts(t["due_at"], tz)  # one pandas call for the column, not one per ticket
    shown = [c for c in _TABLE_COLUMNS if c in t.columns]  # the rows as dicts of these only (a province has 100,000+)
    for r, due_text in zip(t[shown].to_dict("records"), due):
        late = r["status"] in OPEN_STATUSES and pd.notna(r["due_at"]) and pd.Timestamp(r["due_at"]) < now
        lines.append(f"{r['ticket_id']:<17} {r['status']:<12} {r['priority']:<3} {r['grade']:<8} "
                     f"{_pad(ticket_title(r), 34)} {_pad(str(r['team']), 18)} {int(r['complaint_count']):>4}  "
                     f"{due_text}{' !' if late else ''}")
    return "\n".join(lines)


#: what a line of :func:`format_table` shows (with :func:`~netdiag.tickets.tmf621.ticket_title`)
_TABLE_COLUMNS = ["ticket_id", "status", "priority", "grade", "team", "complaint_count", "due_at", "element_id", "cause",
                  "kind", "place"]


def _when_texts(values, tz: str) -> list[str]:
    """:func:`~netdiag.data.times.when_text` of every value, formatted as one column."""
    return format_times(pd.Series(list(values), dtype=object), None if tz in UTC_NAMES else tz).tolist()


def _pad(text: str, width: int) -> str:
    """Cut and pad to ``width`` terminal columns (Chinese characters take two)."""
    import unicodedata

    out, used = [], 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if used + w > width:
            break
        out.append(ch)
        used += w
    return "".join(out) + " " * (width - used)


def format_ticket(shown: dict, *, tz: str = "UTC") -> str:
    """One ticket for a person: facts, evidence, complaints (masked), history and notes; times in ``tz``,
    named on the first line."""
    t = shown["ticket"]

    def val(key):
        v = t.get(key)
        return "" if v is None or (not isinstance(v, str) and pd.isna(v)) else v
    lines = [zone_heading(tz), f"{t['ticket_id']}  {ticket_title(t)}",
             f"  status     {t['status']}  (revision {val('revision')})",
             f"  priority   {t['priority']}   grade {t['grade']}",
             f"  action     {t['action']} -> {t['team']}   lead department: {t['lead_department']}",
             f"  place      {val('place')}  ({float(t['lat']):.5f}, {float(t['lon']):.5f})"]
    if val("via"):
        lines.append(f"  via        {t['via']}")
    if val("sites_affected") or val("cells_affected"):
        lines.append(f"  affected   {int(t['sites_affected'])} sites, {int(t['cells_affected'])} cells")
    lines += [f"  created    {when_text(t['created_at'], tz)}   first reply due {when_text(t['first_reply_due'], tz)}"
              f"   due {when_text(t['due_at'], tz)}",
              f"  evidence   {val('evidence')}"]
    if val("resolution"):
        lines.append(f"  resolution {t['resolution']}  ({when_text(t['resolved_at'], tz)})")
    c = shown["complaints"]
    lines += ["", f"complaints ({len(c)}):"]
    for r, received in zip(c.to_dict("records"), _when_texts(c["received_at"], tz)):
        flags = ", ".join(f for f, on in (("VIP", r.get("vip")), ("indoor", r.get("indoor"))) if on)
        lines.append(f"  {r['complaint_id']:<14} {received}  {str(r.get('category') or ''):<12} "
                     f"{str(r.get('customer') or ''):<12} {flags}")
    lines += ["", "history:"]
    for h in shown["history"]:
        move = f"{h['from_status'] or ''} -> {h['to_status']}" if h.get("to_status") else h["event"]
        lines.append(f"  {when_text(h['at'], tz)}  {h['who']:<16} {move:<28} {h.get('why') or ''}")
    if shown["notes"]:
        lines += ["", "notes:"]
        lines += [f"  {when_text(n['at'], tz)}  {n['who']:<16} {n['text']}" for n in shown["notes"]]
    return "\n".join(lines)


def change_text(ticket_id: str, before: dict, after: dict, *, priority: str | None = None, note: str | None = None) -> str:
    """What an update changed, in one line: ``TS-... : status acknowledged -> inProgress; note added``."""
    changes = [f"{k} {before[k]} -> {after[k]}" for k in ("status", "priority", "team") if before[k] != after[k]]
    if priority and before["priority"] == priority:
        changes.append(f"priority {priority} kept, now fixed by hand")
    return f"{ticket_id}: " + ("; ".join(changes) if changes else "unchanged") + ("; note added" if note else "")
