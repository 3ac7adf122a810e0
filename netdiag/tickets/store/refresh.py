"""Recompute what a ticket's links decide: counts, position, grade (never lowered), due times
and priority (unless a person set it), for the tickets a run touched."""
from __future__ import annotations

import pandas as pd

from netdiag.data.schema import OUTAGES
from netdiag.data.times import iso_utc_list
from netdiag.data.values import plain
from netdiag.settings import Settings
from netdiag.tickets import grouping as tk
from netdiag.tickets import lifecycle
from netdiag.tickets.store.connection import chunks, tuples


def refresh(c, ticket_ids: list[str], settings: Settings, at: str) -> None:
    """Recompute counts, position, grade, due times and priority of some tickets from their links."""
    if not ticket_ids:
        return
    parts, columns = [], []
    for chunk in chunks(ticket_ids):
        q = ", ".join("?" * len(chunk))
        columns, rows = tuples(c, (
            f"SELECT t.ticket_id, t.cause, t.status, t.grade, t.priority, t.priority_manual, t.fixed_position, "
            f"t.sites_affected, t.cells_affected, t.lat AS t_lat, t.lon AS t_lon, "
            f"count(c.complaint_id) AS complaint_count, coalesce(sum(c.vip), 0) AS vip_count, "
            f"coalesce(sum(c.public), 0) AS public_count, min(c.received_at) AS first_received, "
            f"avg(c.lat) AS c_lat, avg(c.lon) AS c_lon, t.created_at AS old_created "
            f"FROM tickets t LEFT JOIN complaints c USING (ticket_id) WHERE t.ticket_id IN ({q}) GROUP BY t.ticket_id"),
            list(chunk))
        parts += rows
    t = pd.DataFrame.from_records(parts, columns=columns)
    t["created_at"] = pd.to_datetime(t["first_received"].fillna(t["old_created"]), utc=True, format="ISO8601")
    t["ongoing"] = t["status"].isin(lifecycle.OPEN_STATUSES) & t["cause"].isin(OUTAGES)
    a = tk.assess(t, settings)
    grade = [tk.higher_grade(old, new) for old, new in zip(t["grade"], a["grade"])]
    first, due = tk.due_times(t["created_at"], pd.Series(grade, index=t.index), settings)
    keep_priority = t["priority_manual"] == 1  # a person's choice stands
    priority = t["priority"].where(keep_priority, a["priority"])
    moving = t["fixed_position"] == 0
    lat = t["c_lat"].where(moving & t["c_lat"].notna(), t["t_lat"]).round(6)
    lon = t["c_lon"].where(moving & t["c_lon"].notna(), t["t_lon"]).round(6)
    rows = [(int(n), int(v), int(p), cr, g, f, du, pr, plain(la), plain(lo), at, tid)
            for n, v, p, cr, g, f, du, pr, la, lo, tid in zip(
                t["complaint_count"], t["vip_count"], t["public_count"], iso_utc_list(t["created_at"]), grade,
                iso_utc_list(first), iso_utc_list(due), priority, lat, lon, t["ticket_id"])]
    c.executemany("UPDATE tickets SET complaint_count = ?, vip_count = ?, public_count = ?, created_at = ?, grade = ?, "
                  "first_reply_due = ?, due_at = ?, priority = ?, lat = ?, lon = ?, updated_at = ?, revision = revision + 1 "
                  "WHERE ticket_id = ?", rows)
