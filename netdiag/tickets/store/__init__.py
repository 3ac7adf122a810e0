"""The ticket store: tickets that last across runs and people, in one SQLite file.

One file (``--db``, default ``$NETDIAG_DB`` or ``netdiag.db``) holds the tickets, the
complaints linked to them, every status change (when, who, why), notes and the runs that
wrote them. It is plain SQLite (stdlib :mod:`sqlite3`), so any SQLite tool reads it; for QGIS,
``netdiag tickets export --format gpkg`` (or ``geojson``) writes a point layer.

Guarantees
----------
- **One open ticket per root element and cause**, enforced by the database itself: a partial
  UNIQUE index on ``tickets(cause, element_id)`` over the open statuses (and one on
  ``(cause, area_key)`` for coverage holes).
- **Every complaint is linked once**: ``complaints.complaint_id`` is the primary key, so
  running ``diagnose`` twice on the same data changes nothing.
- **Every write is one transaction** (``BEGIN IMMEDIATE``): several handlers may run
  ``netdiag diagnose`` and ``netdiag tickets update`` at the same moment; writers queue (WAL
  mode, busy timeout ``store_busy_timeout_s``), readers never wait. A run killed halfway
  leaves nothing behind (SQLite rolls the transaction back) and a re-run completes it.
- **Versioned schema**: ``PRAGMA user_version`` is the schema version; opening an older
  store migrates it in one transaction, a newer one is refused.

Schema (version 1)
------------------
``tickets``      one row per ticket (TMF621-shaped: id, status, priority, grade, due times,
                 team, lead department, root element, via, place, evidence, counts)
``complaints``   one row per linked complaint (masked customer number, never the raw one)
``history``      status and field changes: ``at, who, event, from_status, to_status, why``
``notes``        free-text notes: ``at, who, text``
``runs``         one row per ``diagnose`` run that wrote to the store
``id_counters``  the last ``TS-YYYYMMDD-NNNN`` number used per day

Examples
--------
>>> from netdiag.tickets.store import TicketStore
>>> with TicketStore("netdiag.db") as store:                       # doctest: +SKIP
...     res = diagnose(load_dataset("sample_data"), store=store)
...     store.update(res.tickets.ticket_id[0], status="inProgress", who="li.wei", why="on site")
"""
from __future__ import annotations

import contextlib
import logging
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from netdiag.data.times import hours_since_epoch, iso_utc, now_iso
from netdiag.data.values import plain
from netdiag.engine.status import merge_intervals
from netdiag.tickets import grouping as tk
from netdiag.tickets import lifecycle
from netdiag.tickets.tmf621 import tmf621
from netdiag.errors import InputError
from netdiag.data.schema import CAUSE_RANK, OUTAGES
from netdiag.settings import Settings
from netdiag.tickets.store import connection, queries, updates
from netdiag.tickets.store.queries import TIME_COLUMNS
from netdiag.tickets.store.connection import (APPLICATION_ID, DEFAULT_DB, MIGRATIONS, OPEN_SQL, SCHEMA_VERSION, chunks,
                                              default_db_path, default_who)

log = logging.getLogger(__name__)

# ----------------------------------------------------------------------------- helpers
def _text(value) -> str | None:
    """:func:`~netdiag.data.values.plain` text, with an empty string as None."""
    value = plain(value)
    if value is None:
        return None
    value = str(value)
    return value if value != "" else None


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
        return (f"{self.new_tickets:,} new tickets, {self.linked_to_existing:,} complaints added to existing tickets, "
                f"{self.already_linked:,} already linked, {self.resolved:,} tickets resolved (outage ended)"
                + (f", {self.relinked:,} complaints moved after re-diagnosis" if self.relinked else ""))

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("run_id", "complaints", "already_linked", "linked_to_existing", "linked_to_new",
                                              "new_tickets", "resolved", "relinked", "cancelled")}


# ----------------------------------------------------------------------------- the store
class TicketStore:
    """A ticket store in one SQLite file.

    Parameters
    ----------
    path : str or Path
        The database file; created (with its folder) unless ``create`` is false.
    settings : Settings, optional
        Due times, priorities and the busy timeout (``store_busy_timeout_s``).
    create : bool, default True
        Create the file when it does not exist. With ``False`` a missing file is an error
        (commands that only read or update tickets never create an empty store by mistake).

    Raises
    ------
    InputError
        The file is missing (``create=False``), is not an SQLite database, is another
        application's database, or was written by a newer netdiag.

    Examples
    --------
    >>> with TicketStore("netdiag.db") as store:                  # doctest: +SKIP
    ...     store.tickets(status=["open"], team="field-West")
    """

    def __init__(self, path: str | Path, *, settings: Settings | None = None, create: bool = True) -> None:
        self.path = Path(path)
        self.settings = settings or Settings()
        # MIGRATIONS is looked up in this module when a store is opened (a test adds a step to it)
        self.conn = connection.connect(self.path, settings=self.settings, create=create, migrations=MIGRATIONS)

    # ------------------------------------------------------------------ plumbing
    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "TicketStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def write(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``): committed at the end, rolled back on error."""
        return connection.write(self.conn)

    def read(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """A read transaction: one consistent snapshot, never blocking writers (WAL)."""
        return connection.read(self.conn)

    def schema_version(self) -> int:
        """The store's schema version (``PRAGMA user_version``)."""
        return connection.schema_version(self.conn)

    # ------------------------------------------------------------------ reading
    def tickets(self, *, ids: Iterable[str] | None = None, status: Iterable[str] | None = None,
                team: str | None = None, priority: Iterable[str] | None = None, cause: Iterable[str] | None = None,
                kind: str | None = None, region: str | None = None,
                bbox: tuple[float, float, float, float] | None = None,
                created_before: pd.Timestamp | None = None, conn: sqlite3.Connection | None = None) -> pd.DataFrame:
        """Tickets matching every filter given, oldest first (see :func:`.queries.tickets`).

        ``conn``: read within this transaction (from :meth:`read` or :meth:`write`) instead of on its own.
        """
        return queries.tickets(conn or self.conn, ids=ids, status=status, team=team, priority=priority, cause=cause,
                               kind=kind, region=region, bbox=bbox, created_before=created_before)

    def complaints(self, ticket_ids: Iterable[str], *, conn: sqlite3.Connection | None = None) -> pd.DataFrame:
        """The complaints linked to some tickets (customer numbers masked), oldest first."""
        return queries.complaints(conn or self.conn, ticket_ids)

    def show(self, ticket_id: str) -> dict:
        """One ticket with its complaints, status history and notes (see :func:`.queries.show`).

        Raises
        ------
        netdiag.errors.TicketNotFoundError
            When the store has no such ticket.
        """
        return queries.show(self.conn, ticket_id)

    def history(self, ticket_ids: Iterable[str], *, conn: sqlite3.Connection | None = None) -> dict[str, list[dict]]:
        """Status and field changes per ticket, oldest first."""
        return queries.history(conn or self.conn, ticket_ids)

    def notes(self, ticket_ids: Iterable[str], *, conn: sqlite3.Connection | None = None) -> dict[str, list[dict]]:
        """Notes per ticket, oldest first."""
        return queries.notes(conn or self.conn, ticket_ids)

    def export(self, path: str | Path, *, fmt: str, overwrite: bool = False, **filters: Any) -> int:
        """Write tickets to a file for people and other tools.

        Parameters
        ----------
        path : str or Path
            The file to write (parent folders are created).
        fmt : {"csv", "json", "geojson", "gpkg"}
            ``csv`` (Excel-ready, formulas neutralised), ``json`` (TMF621 Trouble Ticket
            resources with status history and notes), ``geojson`` or ``gpkg`` (a point layer
            ``tickets`` in WGS-84 that QGIS opens).
        overwrite : bool
            Replace an existing file.
        **filters
            As for :meth:`tickets`.

        Returns
        -------
        int
            Tickets written.

        Raises
        ------
        InputError
            On an unknown format or an existing file without ``overwrite``.
        """
        from netdiag.views.writers import write_csv, write_json

        formats = ("csv", "json", "geojson", "gpkg")
        if fmt not in formats:
            raise InputError(f"--format was {fmt!r} but is expected to be one of {', '.join(formats)}")
        path = Path(path)
        if path.exists() and not overwrite:
            raise InputError(f"{path} already exists; use --overwrite to replace it")
        with self.read() as c:
            t = self.tickets(conn=c, **filters)
            if fmt == "json":
                ids = t["ticket_id"].tolist()
                history, notes = self.history(ids, conn=c), self.notes(ids, conn=c)
        if fmt == "csv":
            write_csv(t, path)
        elif fmt == "json":
            write_json([tmf621(r, history=history.get(r["ticket_id"], []), notes=notes.get(r["ticket_id"], []))
                        for r in t.to_dict("records")], path)
        else:
            import geopandas as gpd

            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists():
                path.unlink()
            flat = t.copy()
            for col in TIME_COLUMNS:
                flat[col] = flat[col].dt.strftime("%Y-%m-%dT%H:%M:%SZ").astype(object).where(flat[col].notna(), None)
            gdf = gpd.GeoDataFrame(flat, geometry=gpd.points_from_xy(flat["lon"].astype(float), flat["lat"].astype(float)),
                                   crs="EPSG:4326")
            if fmt == "gpkg":
                gdf.to_file(path, layer="tickets", driver="GPKG")
            else:
                gdf.to_file(path, driver="GeoJSON")
        log.info("exported %d tickets to %s (%s)", len(t), path, fmt)
        return len(t)

    # ------------------------------------------------------------------ people's updates
    def update(self, ticket_id: str, *, status: str | None = None, priority: str | None = None, team: str | None = None,
               note: str | None = None, who: str | None = None, why: str | None = None,
               expect_revision: int | None = None) -> dict:
        """Change a ticket's status, priority or team and/or add a note, in one transaction.

        See :func:`.updates.update` for the parameters and errors; returns the ticket after the
        change (as :meth:`show`).
        """
        return updates.update(self.conn, ticket_id, status=status, priority=priority, team=team, note=note, who=who,
                              why=why, expect_revision=expect_revision)

    def close_ticket(self, ticket_id: str, *, who: str | None = None, why: str | None = None) -> dict:
        """Close a resolved ticket (after the call-back to the customer); see :meth:`update`."""
        return updates.close_ticket(self.conn, ticket_id, who=who, why=why)

    # ------------------------------------------------------------------ a diagnose run
    def record(self, net, diag: pd.DataFrame, *, settings: Settings | None = None, as_of: pd.Timestamp | None = None,
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
        net : Network
            The run's network (:func:`netdiag.engine.network.prepare`).
        diag : DataFrame
            The run's diagnoses (:func:`netdiag.engine.actions.decide`).
        settings : Settings, optional
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
        settings = settings or self.settings
        who = who or default_who()
        at = now_iso()
        diag = diag.reset_index(drop=True)
        as_of = pd.Timestamp(as_of) if as_of is not None else (diag["received_at"].max() if len(diag) else pd.Timestamp.now(tz="UTC"))
        d = self._prepare(net, diag, settings)
        b = _Batch(d)
        with self.write() as c:
            run_id = c.execute("INSERT INTO runs (started_at, who, source, as_of, complaints) VALUES (?, ?, ?, ?, ?)",
                               (at, who, source, iso_utc(as_of), len(d))).lastrowid
            report = RunReport(run_id=run_id, complaints=len(d))
            moved_from = self._relink(c, d, report)
            linked = self._existing_links(c, d["complaint_id"].tolist())
            todo = ~d["complaint_id"].isin(linked).to_numpy()
            report.already_linked = int((~todo).sum())
            self._resolve_ended(c, net, as_of, at, who, report)
            kind = d["kind"].to_numpy()
            touched = set(moved_from)
            touched |= self._attach_incidents(c, net, b, d[todo & (kind == "incident")], settings, as_of, at, who, report)
            touched |= self._attach_areas(c, net, b, d[todo & (kind == "coverage")], settings, at, who, report)
            touched |= self._attach_field_tests(c, net, b, d[todo & (kind == "field_test")], settings, at, who, report)
            self._refresh(c, sorted(touched), settings, at)
            self._after_relink(c, moved_from, at, who, report)
            c.execute("UPDATE runs SET finished_at = ?, linked = ?, new_tickets = ?, resolved = ?, relinked = ? WHERE run_id = ?",
                      (now_iso(), report.linked_to_new + report.linked_to_existing, report.new_tickets, report.resolved,
                       report.relinked, run_id))
            ids = self._existing_links(c, d["complaint_id"].tolist())
            out = diag.assign(ticket_id=diag["complaint_id"].map(ids).fillna(""))
            tickets = self.tickets(ids=sorted(set(ids.values())), conn=c)
            if before_commit is not None:
                before_commit()
        log.info("ticket store %s, run %d: %s", self.path, run_id, report.text())
        return out, tickets, report

    def _prepare(self, net, diag: pd.DataFrame, settings: Settings) -> pd.DataFrame:
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

    def _existing_links(self, c: sqlite3.Connection, complaint_ids: list[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for chunk in chunks(complaint_ids):
            rows = c.execute(f"SELECT complaint_id, ticket_id FROM complaints WHERE complaint_id IN ({', '.join('?' * len(chunk))})",
                             list(chunk))
            out.update({r[0]: r[1] for r in rows})
        return out

    def _relink(self, c: sqlite3.Connection, d: pd.DataFrame, report: RunReport) -> dict[str, list[str]]:
        """Unlink complaints whose new diagnosis outranks the stored one while their ticket is open."""
        moved: dict[str, list[str]] = {}
        new_cause = dict(zip(d["complaint_id"], d["cause"]))
        for chunk in chunks(d["complaint_id"].tolist()):
            rows = c.execute(f"SELECT c.complaint_id, c.cause, c.ticket_id FROM complaints c JOIN tickets t USING (ticket_id) "
                             f"WHERE t.status IN {OPEN_SQL} AND c.complaint_id IN ({', '.join('?' * len(chunk))})", list(chunk))
            for cid, old_cause, ticket_id in rows:
                if CAUSE_RANK.get(new_cause[cid], 99) < CAUSE_RANK.get(old_cause, 99):
                    moved.setdefault(ticket_id, []).append(cid)
        for ticket_id, cids in moved.items():
            c.execute(f"DELETE FROM complaints WHERE complaint_id IN ({', '.join('?' * len(cids))})", cids)
            report.relinked += len(cids)
        return moved

    def _after_relink(self, c: sqlite3.Connection, moved: dict[str, list[str]], at: str, who: str, report: RunReport) -> None:
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

    # .. attaching
    def _open_ticket(self, c, col: str, cause: str, value: str) -> str | None:
        row = c.execute(f"SELECT ticket_id FROM tickets WHERE cause = ? AND {col} = ? AND status IN {OPEN_SQL}",
                        (cause, value)).fetchone()
        return row[0] if row else None

    def _attach_incidents(self, c, net, b: "_Batch", rows: pd.DataFrame, settings, as_of, at, who, report) -> set[str]:
        touched: set[str] = set()
        if rows.empty:
            return touched
        groups = rows.groupby(["cause", "element_id", "incident_id"], sort=False).indices
        positions = rows.index.to_numpy()
        first_t0 = {k: rows["_t0"].iloc[v].min() for k, v in groups.items()}
        first_w0 = {k: rows["_w0"].iloc[v].min() for k, v in groups.items()}
        for key in sorted(groups, key=lambda k: (first_t0[k], k)):
            cause, element_id, incident_id = key
            idx = positions[groups[key]].tolist()
            # the ticket of this very incident: open, or resolved / closed after the customer felt it (a late complaint)
            row = c.execute(f"SELECT ticket_id FROM tickets WHERE incident_id = ? AND cause = ? AND element_id = ? "
                            f"AND (status IN {OPEN_SQL} OR (status IN ('resolved', 'closed') "
                            f"AND ? < COALESCE(resolved_at, closed_at))) ORDER BY created_at DESC LIMIT 1",
                            (incident_id, cause, element_id, iso_utc(first_w0[key]))).fetchone()
            tid = row[0] if row else self._open_ticket(c, "element_id", cause, element_id)
            new = tid is None
            if new:
                tid = self._create(c, net, b, idx, settings, at, who, report, element_id=element_id, incident_id=incident_id)
            self._link(c, tid, b, idx, report, at, who, new)
            if new:  # resolve at once if its outage is over, so that a later outage in this run opens its own ticket
                self._resolve_ids(c, net, as_of, at, who, report, [tid])
            touched.add(tid)
        return touched

    def _attach_areas(self, c, net, b: "_Batch", rows: pd.DataFrame, settings, at, who, report) -> set[str]:
        touched: set[str] = set()
        positions = rows.index.to_numpy()
        for key, where in rows.groupby("area_key", sort=False).indices.items():
            idx = positions[where].tolist()
            tid = self._open_ticket(c, "area_key", b.col["cause"][idx[0]], key)
            new = tid is None
            if new:
                tid = self._create(c, net, b, idx, settings, at, who, report, area_key=key)
            self._link(c, tid, b, idx, report, at, who, new)
            touched.add(tid)
        return touched

    def _attach_field_tests(self, c, net, b: "_Batch", rows: pd.DataFrame, settings, at, who, report) -> set[str]:
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
                tid = self._create(c, net, b, idx, settings, at, who, report)
            self._link(c, tid, b, idx, report, at, who, new)
            touched.add(tid)
        return touched

    def _create(self, c, net, b: "_Batch", idx: list[int], settings: Settings, at: str, who: str, report: RunReport, *,
                element_id: str | None = None, incident_id: str | None = None, area_key: str | None = None) -> str:
        """Open a ticket for the complaints ``idx`` of the batch (not yet linked); returns its id."""
        col = b.col
        i0 = idx[0]
        cause = col["cause"][i0]
        kind = lifecycle.ticket_kind(cause)
        created = min(col["received_at"][i] for i in idx)
        day = pd.Timestamp(created).tz_convert(settings.tz).strftime("%Y%m%d")
        seq = c.execute("INSERT INTO id_counters (day, last) VALUES (?, 1) ON CONFLICT (day) DO UPDATE SET last = last + 1 "
                        "RETURNING last", (day,)).fetchone()[0]
        ticket_id = f"TS-{day}-{seq:04d}"
        el = b.elements(net)
        row = el.get(element_id) if element_id else None
        known = row is not None
        element_kind = row["kind"] if known else None
        lat, lon = (row["lat"], row["lon"]) if known else (None, None)
        fixed = lat is not None and lon is not None and pd.notna(lat) and pd.notna(lon)
        if not fixed:
            lat = float(np.mean([col["lat"][i] for i in idx]))
            lon = float(np.mean([col["lon"][i] for i in idx]))
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
            "updated_at": at,
        }
        c.execute(f"INSERT INTO tickets ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                  [plain(v) for v in values.values()])
        what = f"{cause} on {element_id}" if element_id else ("coverage hole" if kind == "coverage" else "field test")
        c.execute("INSERT INTO history (ticket_id, at, who, event, to_status, why) VALUES (?, ?, ?, 'created', 'acknowledged', ?)",
                  (ticket_id, at, who, f"opened for {what} (run {report.run_id})"))
        report.new_tickets += 1
        report.new_ticket_ids.append(ticket_id)
        return ticket_id

    def _link(self, c, ticket_id: str, b: "_Batch", idx: list[int], report: RunReport, at: str, who: str, new: bool) -> None:
        if not idx:
            return
        records = [[ticket_id if name == "ticket_id" else at if name == "linked_at" else report.run_id if name == "run_id"
                    else b.col[name][i] for name in LINK_COLUMNS] for i in idx]
        c.executemany(f"INSERT INTO complaints ({', '.join(LINK_COLUMNS)}) VALUES ({', '.join('?' * len(LINK_COLUMNS))})", records)
        ids = [b.col["complaint_id"][i] for i in idx]
        listed = ", ".join(ids[:10]) + (f" and {len(ids) - 10:,} more" if len(ids) > 10 else "")
        c.execute("INSERT INTO history (ticket_id, at, who, event, why) VALUES (?, ?, ?, 'linked', ?)",
                  (ticket_id, at, who, f"{len(ids):,} complaint{'s' if len(ids) != 1 else ''} linked: {listed} (run {report.run_id})"))
        if new:
            report.linked_to_new += len(ids)
        else:
            report.linked_to_existing += len(ids)

    def _refresh(self, c, ticket_ids: list[str], settings: Settings, at: str) -> None:
        """Recompute counts, position, grade, due times and priority of some tickets from their links."""
        if not ticket_ids:
            return
        parts = []
        for chunk in chunks(ticket_ids):
            q = ", ".join("?" * len(chunk))
            parts += [dict(r) for r in c.execute(
                f"SELECT t.ticket_id, t.cause, t.status, t.grade, t.priority, t.priority_manual, t.fixed_position, "
                f"t.sites_affected, t.cells_affected, t.lat AS t_lat, t.lon AS t_lon, "
                f"count(c.complaint_id) AS complaint_count, coalesce(sum(c.vip), 0) AS vip_count, "
                f"coalesce(sum(c.public), 0) AS public_count, min(c.received_at) AS first_received, "
                f"avg(c.lat) AS c_lat, avg(c.lon) AS c_lon, t.created_at AS old_created "
                f"FROM tickets t LEFT JOIN complaints c USING (ticket_id) WHERE t.ticket_id IN ({q}) GROUP BY t.ticket_id",
                list(chunk))]
        t = pd.DataFrame(parts)
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
        rows = [(int(n), int(v), int(p), iso_utc(cr), g, iso_utc(f), iso_utc(du), pr, plain(la), plain(lo), at, tid)
                for n, v, p, cr, g, f, du, pr, la, lo, tid in zip(
                    t["complaint_count"], t["vip_count"], t["public_count"], t["created_at"], grade, first, due, priority,
                    lat, lon, t["ticket_id"])]
        c.executemany("UPDATE tickets SET complaint_count = ?, vip_count = ?, public_count = ?, created_at = ?, grade = ?, "
                      "first_reply_due = ?, due_at = ?, priority = ?, lat = ?, lon = ?, updated_at = ?, revision = revision + 1 "
                      "WHERE ticket_id = ?", rows)

    # .. resolution
    def _resolve_ended(self, c, net, as_of, at, who, report: RunReport) -> None:
        """Open outage / interference tickets whose outage ended by ``as_of`` become resolved."""
        rows = c.execute(f"SELECT ticket_id FROM tickets WHERE status IN {OPEN_SQL} AND kind = 'incident' "
                         "AND cause IN ('fault', 'shutdown', 'interference')").fetchall()
        self._resolve_ids(c, net, as_of, at, who, report, [r[0] for r in rows])

    def _resolve_ids(self, c, net, as_of, at, who, report: RunReport, ticket_ids: list[str]) -> None:
        for tid in ticket_ids:
            r = c.execute("SELECT cause, element_id, cause_start, status FROM tickets WHERE ticket_id = ?", (tid,)).fetchone()
            if r["status"] not in lifecycle.OPEN_STATUSES or r["cause"] not in ("fault", "shutdown", "interference"):
                continue
            ended = incident_end(net, r["cause"], r["element_id"], r["cause_start"], as_of)
            if ended is None:
                continue
            end, events = ended
            why = (f"{r['cause']} on {r['element_id']} ended at {iso_utc(end)}" + (f" ({', '.join(events[:5])})" if events else "")
                   + f"; data as of {iso_utc(as_of)}")
            c.execute("UPDATE tickets SET status = 'resolved', resolved_at = ?, cause_end = ?, resolution = ?, updated_at = ?, "
                      "revision = revision + 1 WHERE ticket_id = ?", (iso_utc(end), iso_utc(end), why, at, tid))
            c.execute("INSERT INTO history (ticket_id, at, who, event, from_status, to_status, why) "
                      "VALUES (?, ?, ?, 'status', ?, 'resolved', ?)", (tid, at, who, r["status"], why))
            report.resolved += 1
            report.resolved_ticket_ids.append(tid)


LINK_COLUMNS = ["complaint_id", "ticket_id", "cause", "element_id", "incident_id", "received_at", "occurred_at", "cause_start",
                "cause_end", "lat", "lon", "category", "indoor", "vip", "public", "channel", "customer", "description", "region",
                "evidence", "confidence", "linked_at", "run_id"]


class _Batch:
    """A run's complaints as plain Python lists (times as ISO text): per-group work without pandas overhead."""

    TIMES = ("received_at", "occurred_at", "cause_start", "cause_end")

    def __init__(self, d: pd.DataFrame) -> None:
        self._elements: dict | None = None
        self.col: dict[str, list] = {}
        wanted = set(LINK_COLUMNS) | {"action", "team", "via", "nearest_site"}
        for name in wanted - {"ticket_id", "linked_at", "run_id"}:
            if name not in d:
                self.col[name] = [None] * len(d)
                continue
            s = d[name]
            if name in self.TIMES:
                t = pd.to_datetime(s, utc=True)
                text = t.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
                self.col[name] = text.astype(object).where(t.notna(), None).tolist()
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


def _intervals_of(net, cause: str, element_id: str) -> pd.DataFrame:
    """The outage or interference intervals of one element, from an index made once per network."""
    index = getattr(net, "_intervals_by_element", None)
    if index is None:
        outages = net.outages
        index = {("interference", e): rows for e, rows in net.interference.groupby("element_id", sort=False)}
        index.update({key: rows for key, rows in outages.groupby(["cause", "element_id"], sort=False)})
        net._intervals_by_element = index
    found = index.get((cause, element_id))
    return found if found is not None else net.outages.iloc[0:0]


def incident_end(net, cause: str, element_id: str, cause_start, as_of) -> tuple[pd.Timestamp, list[str]] | None:
    """When the outage (or interference) of ``element_id`` that began at ``cause_start`` ended.

    Overlapping intervals of the element and cause in the run's data form one incident; the
    one covering ``cause_start`` is looked up.

    Returns
    -------
    (end, event_ids) or None
        None when the data does not show that incident, or shows it still going on at
        ``as_of`` (no end time, or an end time after ``as_of``, e.g. planned works).
    """
    if cause not in ("interference", "fault", "shutdown"):
        return None
    iv = _intervals_of(net, cause, element_id)
    if iv.empty or cause_start is None:
        return None
    t0 = pd.Timestamp(cause_start)
    t0 = t0.tz_localize("UTC") if t0.tzinfo is None else t0
    iv = iv.assign(start=pd.to_datetime(iv["start"], utc=True), end=pd.to_datetime(iv["end"], utc=True))
    iv["_group"] = merge_intervals(iv, [])
    groups = iv.groupby("_group", sort=True)
    first = groups["start"].min()
    last = groups["end"].max().where(~iv["end"].isna().groupby(iv["_group"]).any())
    covering = (first <= t0 + pd.Timedelta(minutes=1)) & (last.isna() | (last > t0))
    if not covering.any():
        return None
    group = covering.idxmax()  # the earliest incident that covers cause_start
    end = last[group]
    if pd.isna(end) or end > pd.Timestamp(as_of):
        return None
    members = iv[iv["_group"] == group].sort_values("start", kind="stable")
    return end, [str(x) for x in members["event_id"] if isinstance(x, str)]

