"""The cross-run linking policy: which lasting ticket each complaint of a run joins.

:func:`record` writes one ``diagnose`` run into the store in one write transaction: it
moves re-diagnosed complaints, resolves tickets whose outage ended, attaches new complaints
to open tickets (or opens tickets), and recomputes what every touched ticket shows.

Batched writes
--------------
The run is one ``BEGIN IMMEDIATE`` transaction, so nothing else writes while it runs. New
tickets, their complaint links and their history rows are therefore not written one at a
time: they are collected in order in a :class:`Pending` and written with ``executemany``
(in chunks) by :meth:`Pending.flush` at the end of each attach phase (incidents, coverage
holes, field tests), before anything reads them back. Ticket numbers are counted in Python:
each day's counter is read once and its last value written at the flush. The rows reach the
tables in the order the one-at-a-time writes made them, so row ids, history order and ticket
numbers are unchanged.

Inside the incident phase, the only reads that could see a ticket this phase has opened are:

- "the ticket of this very incident" (same cause, element and incident id): each of those
  is one group and opens at most one ticket, so a pending ticket never answers it;
- "the open ticket of this element and cause": answered by the table, then by
  ``Pending.open_element``, the pending tickets still open;
- "has the outage of the new ticket ended": decided on the pending row itself
  (:meth:`Pending.resolve_new`, the same test and text as
  :func:`~netdiag.tickets.store.resolution.resolve_ids`).

The coverage phase looks up open tickets by grid square, one group per square, so its own
pending tickets never answer; the field-test phase reads the stored complaints once, at its
start (after the flush). ``_refresh`` and ``_after_relink`` run after the last flush.
"""
from __future__ import annotations

import logging
import sqlite3
from typing import Callable

import numpy as np
import pandas as pd

from netdiag.data.schema import CAUSE_RANK, OUTAGES
from netdiag.data.times import hours_since_epoch, iso_utc, now_iso
from netdiag.data.values import plain
from netdiag.settings import Settings
from netdiag.tickets import grouping as tk
from netdiag.tickets import lifecycle
from netdiag.tickets.store import queries
from netdiag.tickets.store.batch import Batch, RunReport
from netdiag.tickets.store.connection import OPEN_SQL, StoreConnection, chunks, default_who, write
from netdiag.tickets.store.pending import Pending
from netdiag.tickets.store.refresh import refresh
from netdiag.tickets.store.resolution import resolve_ended

log = logging.getLogger(__package__)  # one logger for the whole store, as before it was split


def record(conn: StoreConnection, net, diag: pd.DataFrame, *, settings: Settings, as_of: pd.Timestamp | None = None,
           who: str | None = None, source: str = "",
           before_commit: Callable[[], None] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, RunReport]:
    """Link a run's diagnoses to lasting tickets, in one transaction.

    1. Complaints already linked stay on their ticket (the same input twice changes
       nothing), unless the new diagnosis found a more specific cause (a fault instead of
       *no fault found*) and their ticket is still open: then they move.
    2. Open outage and interference tickets whose outage has ended by ``as_of`` (the data
       says so) become ``resolved`` with the end time as evidence.
    3. New complaints join the open ticket of their root element and cause; a complaint
       about an outage whose ticket is already resolved joins that ticket; otherwise a
       ticket is opened. Coverage holes join the open ticket of their grid square.
       No-fault-found complaints join an open field-test ticket that has a complaint
       within ``field_test_radius_m`` and ``field_test_window_h``, or share a new one.
    4. Counts, grade (never lowered), due times and priority (unless set by a person) are
       recomputed for every ticket touched.

    Parameters
    ----------
    conn : StoreConnection
        The store's connection, with no transaction open.
    net : Network
        The run's network (:func:`netdiag.engine.network.prepare`).
    diag : DataFrame
        The run's diagnoses (:func:`netdiag.engine.actions.decide`).
    settings : Settings
        Ticket grouping, grades, due times and priorities.
    as_of : Timestamp, optional
        The data's "now" (:func:`netdiag.tickets.grouping.data_as_of`); default the last complaint.
    who : str, optional
        Recorded in the history; default :func:`default_who`.
    source : str
        The data directory, recorded with the run.
    before_commit : callable, optional
        Called with no arguments inside the transaction, after everything is written and
        just before COMMIT (an exception there rolls the whole run back).

    Returns
    -------
    (diagnoses, tickets, report)
        The diagnoses with the store's ``ticket_id``; the tickets those complaints are
        linked to, as they stand after the run; a :class:`RunReport`.
    """
    who = who or default_who()
    at = now_iso()
    diag = diag.reset_index(drop=True)
    as_of = pd.Timestamp(as_of) if as_of is not None else (diag["received_at"].max() if len(diag) else pd.Timestamp.now(tz="UTC"))
    d = _prepare(net, diag, settings)
    complaint_ids = d["complaint_id"].tolist()
    with write(conn) as c:
        w = Pending().bind(c, ticket_zone(c, settings))
        run_id = c.execute("INSERT INTO runs (started_at, who, source, as_of, complaints) VALUES (?, ?, ?, ?, ?) "
                           "RETURNING run_id", (at, who, source, iso_utc(as_of), len(d))).fetchone()[0]
        report = RunReport(run_id=run_id, complaints=len(d))
        moved_from = _relink(c, d, report)
        linked = queries.links(c, complaint_ids)
        todo = np.fromiter((cid not in linked for cid in complaint_ids), dtype=bool, count=len(complaint_ids))
        report.already_linked = int((~todo).sum())
        resolve_ended(c, net, as_of, at, who, report)
        new = d[todo].reset_index(drop=True)  # the complaints to attach, in the same order
        b = Batch(new)
        kind = new["kind"].to_numpy()
        touched = set(moved_from)
        touched |= _attach_incidents(c, w, net, b, new[kind == "incident"], settings, as_of, at, who, report)
        w.flush(c)
        touched |= _attach_areas(c, w, net, b, new[kind == "coverage"], settings, at, who, report)
        w.flush(c)
        touched |= _attach_field_tests(c, w, net, b, new[kind == "field_test"], settings, at, who, report)
        w.flush(c)
        refresh(c, sorted(touched), settings, at)
        _after_relink(c, moved_from, at, who, report)
        c.execute("UPDATE runs SET finished_at = ?, linked = ?, new_tickets = ?, resolved = ?, relinked = ? WHERE run_id = ?",
                  (now_iso(), report.linked_to_new + report.linked_to_existing, report.new_tickets, report.resolved,
                   report.relinked, run_id))
        ids = queries.links(c, complaint_ids)
        out = diag.assign(ticket_id=diag["complaint_id"].map(ids).fillna(""))
        tickets = queries.tickets(c, ids=sorted(set(ids.values())))
        if before_commit is not None:
            before_commit()
    log.info("ticket store %s, run %d: %s", conn.path, run_id, report.text())
    return out, tickets, report


def ticket_zone(c, settings: Settings) -> str:
    """The zone whose days number this store's tickets (``TS-YYYYMMDD-NNNN``), kept in the store so that
    every run and every user numbers alike: the display zone of the run that first numbered a ticket
    (a store numbered before it was kept goes on in ``tz``, as it did)."""
    from netdiag.data.display import display_zone

    row = c.execute("SELECT value FROM store_settings WHERE key = 'ticket_zone'").fetchone()
    if row is not None:
        return row[0]
    numbered = c.execute("SELECT count(*) FROM tickets").fetchone()[0]
    zone = settings.tz if numbered else display_zone(settings)
    c.execute("INSERT INTO store_settings (key, value) VALUES ('ticket_zone', ?)", (zone,))
    return zone


def _prepare(net, diag: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    d = diag.copy()
    d["kind"] = d["cause"].map(lifecycle.ticket_kind)
    d["area_key"] = None
    holes = d["kind"] == "coverage"
    if holes.any():
        d.loc[holes, "area_key"] = tk.hole_keys(net, d.loc[holes, "lon"].to_numpy(float), d.loc[holes, "lat"].to_numpy(float),
                                                 settings)
    public = tk.major_channel_set(settings)
    d["public"] = d["channel"].astype("str").str.lower().isin(public).fillna(False).astype(bool) if "channel" in d else False
    incident = d["kind"] == "incident"
    fallback = d["element_id"].astype(str) + ":" + d["cause"].astype(str)
    d["incident_id"] = d["incident_id"].where(d["incident_id"].notna(), fallback).where(incident, None)
    d["element_id"] = d["element_id"].where(incident, None)
    d["_t0"] = d["cause_start"].fillna(d["received_at"])  # when the trouble began (orders the groups)
    d["_w0"] = d["w_start"].fillna(d["received_at"]) if "w_start" in d else d["received_at"]  # when the customer felt it
    return d.sort_values(["received_at", "complaint_id"], kind="stable").reset_index(drop=True)


#: (join, order) of the re-diagnosis lookup: SQLite's CROSS JOIN fixes its plan, and rows come in the order
#: they were written (rowid); PostgreSQL plans by itself and has no rowid: the keys order the rows there
_RELINK_PLAN = {"sqlite": ("CROSS JOIN", "t.rowid, c.rowid"), "postgresql": ("JOIN", "t.ticket_id, c.complaint_id")}


def _relink(c: sqlite3.Connection, d: pd.DataFrame, report: RunReport) -> dict[str, list[str]]:
    """Unlink complaints whose new diagnosis outranks the stored one while their ticket is open."""
    moved: dict[str, list[str]] = {}
    new_cause = dict(zip(d["complaint_id"], d["cause"]))
    for chunk in chunks(d["complaint_id"].tolist()):
        # CROSS JOIN: the complaints' primary key drives the join (a plain JOIN let the planner scan every
        # open ticket through tickets_by_status, per chunk); the ORDER BY is the order that plan gave
        # (status index, then the ticket's complaints), which orders the 'unlinked' history rows
        join, order = _RELINK_PLAN[c.dialect]
        rows = c.execute(f"SELECT c.complaint_id, c.cause, c.ticket_id FROM complaints c {join} tickets t "
                         f"ON t.ticket_id = c.ticket_id WHERE c.complaint_id IN ({', '.join('?' * len(chunk))}) "
                         f"AND t.status IN {OPEN_SQL} ORDER BY t.status, t.team, t.priority, {order}", list(chunk))
        for cid, old_cause, ticket_id in rows:
            if CAUSE_RANK.get(new_cause[cid], 99) < CAUSE_RANK.get(old_cause, 99):
                moved.setdefault(ticket_id, []).append(cid)
    for ticket_id, cids in moved.items():
        c.execute(f"DELETE FROM complaints WHERE complaint_id IN ({', '.join('?' * len(cids))})", cids)
        report.relinked += len(cids)
    return moved


def _after_relink(c: sqlite3.Connection, moved: dict[str, list[str]], at: str, who: str, report: RunReport) -> None:
    for ticket_id, cids in moved.items():
        now_on = dict(c.execute(f"SELECT complaint_id, ticket_id FROM complaints WHERE complaint_id IN "
                                f"({', '.join('?' * len(cids))})", cids).fetchall())
        why = "; ".join(f"{cid} re-diagnosed, moved to {now_on.get(cid, '?')}" for cid in cids[:10])
        c.execute("INSERT INTO history (ticket_id, at, who, event, why) VALUES (?, ?, ?, 'unlinked', ?)", (ticket_id, at, who, why))
        left, status = c.execute("SELECT complaint_count, status FROM tickets WHERE ticket_id = ?", (ticket_id,)).fetchone()
        if left == 0 and status in lifecycle.OPEN_STATUSES:
            targets = sorted(set(now_on.values()))
            reason = f"every complaint was re-diagnosed and moved to {', '.join(targets)}"
            c.execute("UPDATE tickets SET status = 'cancelled', resolution = ?, updated_at = ?, revision = revision + 1 "
                      "WHERE ticket_id = ?", (reason, at, ticket_id))
            c.execute("INSERT INTO history (ticket_id, at, who, event, from_status, to_status, why) "
                      "VALUES (?, ?, ?, 'status', ?, 'cancelled', ?)", (ticket_id, at, who, status, reason))
            report.cancelled += 1


# ----------------------------------------------------------------------------- attaching
def _open_ticket(c, col: str, cause: str, value: str) -> str | None:
    row = c.execute(f"SELECT ticket_id FROM tickets WHERE cause = ? AND {col} = ? AND status IN {OPEN_SQL}",
                    (cause, value)).fetchone()
    return row[0] if row else None


def _attach_incidents(c, w: Pending, net, b: Batch, rows: pd.DataFrame, settings, as_of, at, who, report) -> set[str]:
    touched: set[str] = set()
    if rows.empty:
        return touched
    by = rows.groupby(["cause", "element_id", "incident_id"], sort=False)
    groups = by.indices
    positions = rows.index.to_numpy()
    first_t0 = dict(zip(*_index_values(by["_t0"].min())))
    first_w0 = dict(zip(*_index_values(by["_w0"].min())))
    for key in sorted(groups, key=lambda k: (first_t0[k], k)):
        cause, element_id, incident_id = key
        idx = positions[groups[key]].tolist()
        # the ticket of this very incident: open, or resolved / closed after the customer felt it (a late complaint)
        row = c.execute(f"SELECT ticket_id FROM tickets WHERE incident_id = ? AND cause = ? AND element_id = ? "
                        f"AND (status IN {OPEN_SQL} OR (status IN ('resolved', 'closed') "
                        f"AND ? < COALESCE(resolved_at, closed_at))) ORDER BY created_at DESC LIMIT 1",
                        (incident_id, cause, element_id, iso_utc(first_w0[key]))).fetchone()
        # a ticket this run opened is not in the table yet: a pending one can never be "this very
        # incident" (each (cause, element, incident) is one group), only the open ticket of its element
        tid = row[0] if row else (_open_ticket(c, "element_id", cause, element_id) or w.open_element.get((cause, element_id)))
        new = tid is None
        if new:
            tid = _create(w, net, b, idx, settings, at, who, report, element_id=element_id, incident_id=incident_id)
        _link(w, tid, b, idx, report, at, who, new)
        # resolve at once if its outage is over, so that a later outage in this run opens its own ticket
        if new and not w.resolve_new(net, as_of, at, who, report):
            w.open_element[(cause, element_id)] = tid
        touched.add(tid)
    return touched


def _attach_areas(c, w: Pending, net, b: Batch, rows: pd.DataFrame, settings, at, who, report) -> set[str]:
    touched: set[str] = set()
    positions = rows.index.to_numpy()
    for key, where in rows.groupby("area_key", sort=False).indices.items():
        idx = positions[where].tolist()
        tid = _open_ticket(c, "area_key", b.col["cause"][idx[0]], key)
        new = tid is None
        if new:
            tid = _create(w, net, b, idx, settings, at, who, report, area_key=key)
        _link(w, tid, b, idx, report, at, who, new)
        touched.add(tid)
    return touched


def _attach_field_tests(c, w: Pending, net, b: Batch, rows: pd.DataFrame, settings, at, who, report) -> set[str]:
    touched: set[str] = set()
    if rows.empty:
        return touched
    since = iso_utc(rows["received_at"].min() - pd.Timedelta(hours=settings.field_test_window_h))
    stored = pd.DataFrame([dict(r) for r in c.execute(
        f"SELECT c.complaint_id, c.ticket_id, c.lat, c.lon, c.received_at, t.created_at FROM complaints c "
        f"JOIN tickets t USING (ticket_id) WHERE t.kind = 'field_test' AND t.status IN {OPEN_SQL} AND c.received_at >= ?",
        (since,))], columns=["complaint_id", "ticket_id", "lat", "lon", "received_at", "created_at"])
    lon = np.concatenate([stored["lon"].to_numpy(float), rows["lon"].to_numpy(float)])
    lat = np.concatenate([stored["lat"].to_numpy(float), rows["lat"].to_numpy(float)])
    hours = np.concatenate([hours_since_epoch(pd.to_datetime(stored["received_at"], utc=True, format="ISO8601")),
                            hours_since_epoch(rows["received_at"])])
    x, y = net.to_xy.transform(lon, lat)
    label = tk.cluster_nearby(np.asarray(x), np.asarray(y), hours, radius_m=settings.field_test_radius_m,
                              window_h=settings.field_test_window_h)
    n_stored = len(stored)
    ranked = stored.assign(_label=label[:n_stored]).sort_values(["created_at", "ticket_id"])
    owner = ranked.drop_duplicates("_label").set_index("_label")["ticket_id"].to_dict()
    positions = rows.index.to_numpy()
    for lab, where in pd.Series(label[n_stored:]).groupby(label[n_stored:], sort=False).indices.items():
        idx = positions[where].tolist()
        tid = owner.get(lab)
        new = tid is None
        if new:
            tid = _create(w, net, b, idx, settings, at, who, report)
        _link(w, tid, b, idx, report, at, who, new)
        touched.add(tid)
    return touched


def _create(w: Pending, net, b: Batch, idx: list[int], settings: Settings, at: str, who: str, report: RunReport, *,
            element_id: str | None = None, incident_id: str | None = None, area_key: str | None = None) -> str:
    """Open a ticket for the complaints ``idx`` of the batch (not yet linked); returns its id."""
    col = b.col
    i0 = idx[0]
    cause = col["cause"][i0]
    kind = lifecycle.ticket_kind(cause)
    created = min(col["received_at"][i] for i in idx)
    ticket_id = lifecycle.ticket_id(*w.number(b.day(created, w.zone)))
    el = b.elements(net)
    row = el.get(element_id) if element_id else None
    known = row is not None
    element_kind = row["kind"] if known else None
    lat, lon = (row["lat"], row["lon"]) if known else (None, None)
    fixed = lat is not None and lon is not None and pd.notna(lat) and pd.notna(lon)
    if not fixed:
        lat = _mean([col["lat"][i] for i in idx])
        lon = _mean([col["lon"][i] for i in idx])
    region = row["region"] if known else None
    if not isinstance(region, str) or not region:
        region = col["region"][i0]
    sites, cells = tk.affected(net, element_id) if cause in OUTAGES else (0, 0)
    action = col["action"][i0]
    starts = [col["cause_start"][i] for i in idx if col["cause_start"][i]]
    ends = [col["cause_end"][i] for i in idx]
    values = {
        "ticket_id": ticket_id, "kind": kind, "cause": cause, "element_id": element_id, "element_kind": element_kind,
        "area_key": area_key, "incident_id": incident_id, "status": "acknowledged", "priority": "P4", "grade": "ordinary",
        "action": action, "team": col["team"][i0], "lead_department": tk.lead_department(cause, action, element_kind),
        "via": col["via"][i0] or None, "region": _text(region),
        "place": tk.place_text(el, element_id, col["nearest_site"][i0], region),
        "lat": round(float(lat), 6), "lon": round(float(lon), 6), "fixed_position": int(fixed),
        "evidence": col["evidence"][i0], "cause_start": min(starts) if starts else created,
        "cause_end": max(ends) if ends and all(ends) else None,
        "sites_affected": int(sites), "cells_affected": int(cells), "created_at": created, "opened_at": at,
        "updated_at": at, "resolution": None, "resolved_at": None, "revision": 1,
    }
    w.tickets.append(values)
    what = f"{cause} on {element_id}" if element_id else ("coverage hole" if kind == "coverage" else "field test")
    w.history.append((ticket_id, at, who, "created", None, "acknowledged", f"opened for {what} (run {report.run_id})"))
    report.new_tickets += 1
    report.new_ticket_ids.append(ticket_id)
    return ticket_id


def _link(w: Pending, ticket_id: str, b: Batch, idx: list[int], report: RunReport, at: str, who: str, new: bool) -> None:
    if not idx:
        return
    w.links += b.links(idx, ticket_id, at, report.run_id)
    ids = [b.col["complaint_id"][i] for i in idx]
    listed = ", ".join(ids[:10]) + (f" and {len(ids) - 10:,} more" if len(ids) > 10 else "")
    w.history.append((ticket_id, at, who, "linked", None, None,
                      f"{len(ids):,} complaint{'s' if len(ids) != 1 else ''} linked: {listed} (run {report.run_id})"))
    if new:
        report.linked_to_new += len(ids)
    else:
        report.linked_to_existing += len(ids)


def _mean(values: list[float]) -> float:
    """``float(np.mean(values))`` of a ticket's few complaints, without numpy's call overhead: numpy adds
    fewer than 8 values one after the other, as ``sum`` does (pairwise from 8 on, so numpy there)."""
    return sum(values) / len(values) if len(values) < 8 else float(np.mean(values))


def _index_values(s: pd.Series) -> tuple[list, list]:
    """(index, values) of a per-group Series as Python lists (tuples for a MultiIndex, Timestamps for times)."""
    return s.index.tolist(), list(s)


def _text(value) -> str | None:
    """:func:`~netdiag.data.values.plain` text, with an empty string as None."""
    value = plain(value)
    if value is None:
        return None
    value = str(value)
    return value if value != "" else None
