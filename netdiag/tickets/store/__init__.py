"""The ticket store: tickets that last across runs and people, in one SQLite file or on a PostgreSQL server.

One file (``--db``, default ``$NETDIAG_DB`` or ``netdiag.db``), or one PostgreSQL/PostGIS
database a shift shares (``--db postgresql://USER@HOST/DATABASE``, :mod:`.postgres`: the same
SQL, the same guarantees, enforced by that database), holds the tickets, the
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
- **A file is checked before it is written**: its SQLite header must name netdiag
  (``application_id``); anything else is refused and left byte for byte as it was. Only a
  writing command (``create=True``: ``diagnose --db``, ``demo``) turns a new name or an empty
  file into a store. A store this process may not write is read without creating files; a
  write to it, a full disk or a damaged file is a typed error naming the file and the reason
  (:mod:`~netdiag.tickets.store.errors`), never a bare :class:`sqlite3.Error`.

Schema (version 1)
------------------
``tickets``      one row per ticket (TMF621-shaped: id, status, priority, grade, due times,
                 team, lead department, root element, via, place, evidence, counts)
``complaints``   one row per linked complaint (masked customer number, never the raw one)
``history``      status and field changes: ``at, who, event, from_status, to_status, why``
``notes``        free-text notes: ``at, who, text``
``runs``         one row per ``diagnose`` run that wrote to the store
``id_counters``  the last ``TS-YYYYMMDD-NNNN`` number used per day

Modules
-------
:mod:`~netdiag.tickets.store.files`       what a file is (its header), before it is opened for writing
:mod:`~netdiag.tickets.store.connection`  opening the file, transactions, running migrations
:mod:`~netdiag.tickets.store.schema`      the tables, as migrations, and the schema version
:mod:`~netdiag.tickets.store.errors`      SQLite's errors as typed errors naming the file and the reason
:mod:`~netdiag.tickets.store.queries`     reading: tickets with filters, complaints, history, notes
:mod:`~netdiag.tickets.store.updates`     people's updates: status, priority, team, notes
:mod:`~netdiag.tickets.store.linking`     a ``diagnose`` run: which lasting ticket each complaint joins
:mod:`~netdiag.tickets.store.resolution`  when an outage ended; resolving its ticket
:mod:`~netdiag.tickets.store.batch`       a run's complaints as plain rows, and its :class:`RunReport`
:mod:`~netdiag.tickets.store.pending`     a run's new tickets, links and history, written in batches
:mod:`~netdiag.tickets.store.refresh`     counts, grade, due times and priority recomputed from links
:mod:`~netdiag.tickets.store.postgres`    the same store on a PostgreSQL/PostGIS server
:mod:`~netdiag.tickets.store.migrate`     a store copied whole to another back end

:class:`TicketStore` is the one door: it opens the connection and hands it to these modules.
Export formats (CSV, TMF621 JSON, GeoJSON, GeoPackage) are written by :mod:`netdiag.views.writers`.

Examples
--------
>>> from netdiag.tickets.store import TicketStore
>>> with TicketStore("netdiag.db") as store:                       # doctest: +SKIP
...     res = diagnose(load_dataset("sample_data"), store=store)
...     store.update(res.tickets.ticket_id[0], status="inProgress", who="li.wei", why="on site")
"""
from __future__ import annotations

import contextlib
import functools
import logging
import sqlite3
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd

from netdiag.settings import Settings
from netdiag.tickets.store import connection, files, linking, queries, updates
from netdiag.tickets.store.batch import RunReport
from netdiag.tickets.store.connection import (
    APPLICATION_ID,
    DEFAULT_DB,
    MIGRATIONS,
    SCHEMA_VERSION,
    StoreConnection,
    default_db_path,
    default_who,
)
from netdiag.tickets.store.errors import (
    StoreAccessError,
    StoreDamagedError,
    StoreError,
    StoreFullError,
    StoreIOError,
    StoreReadOnlyError,
)
from netdiag.tickets.store.postgres import PgConnection
from netdiag.tickets.store.queries import TIME_COLUMNS
from netdiag.tickets.store.resolution import incident_end

__all__ = ["TicketStore", "RunReport", "incident_end", "default_db_path", "default_who", "SCHEMA_VERSION", "MIGRATIONS",
           "APPLICATION_ID", "DEFAULT_DB", "TIME_COLUMNS", "StoreError", "StoreReadOnlyError", "StoreFullError",
           "StoreIOError", "StoreAccessError", "StoreDamagedError"]

log = logging.getLogger(__name__)


def _guarded(method):
    """The store's edge: an SQLite error inside ``method`` becomes a typed error naming the file (:func:`.connection.guard`)."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with connection.guard(self.conn):
            return method(self, *args, **kwargs)
    return wrapper


def open_tickets(db, *, settings: Settings | None = None) -> pd.DataFrame:
    """The open tickets of the store ``db`` (which must exist), for a handler's check."""
    with TicketStore(db, settings=settings, create=False) as store:
        return store.tickets(status=["open"])


class TicketStore:
    """A ticket store in one SQLite file, or in a PostgreSQL database.

    Parameters
    ----------
    path : str or Path
        The database file, created (with its folder) unless ``create`` is false; or a
        ``postgresql://USER@HOST/DATABASE`` address (no password: libpq reads ``~/.pgpass``),
        whose schema is created unless ``create`` is false.
    settings : Settings, optional
        Due times, priorities and the busy timeout (``store_busy_timeout_s``).
    create : bool, default True
        Create the file when it does not exist or is empty, and refuse a store this process
        cannot write. With ``False`` a missing or empty file is an error (commands that only
        read or update tickets never create a store by mistake) and a store that cannot be
        written is opened read-only (a write then raises :class:`StoreReadOnlyError`).

    Attributes
    ----------
    path : Path or str
        The database file, or the server's address as messages show it (no password).
    conn : StoreConnection or PgConnection
        The open connection (autocommit; transactions are :meth:`write` and :meth:`read`).
    settings : Settings

    Raises
    ------
    InputError
        The file is missing (``create=False``), is not a netdiag ticket store or is damaged
        (:class:`~netdiag.errors.NotAStoreError`), or was written by a newer netdiag; see
        :func:`.connection.connect`.
    StoreError
        The file cannot be opened, or written when ``create`` is true; the message says why.
        Every method raises it (or :class:`~netdiag.errors.StoreBusyError`) for what SQLite
        reports: read-only, full disk, I/O error.

    Examples
    --------
    >>> with TicketStore("netdiag.db") as store:                  # doctest: +SKIP
    ...     store.tickets(status=["open"], team="field-West")
    """

    def __init__(self, path: str | Path, *, settings: Settings | None = None, create: bool = True) -> None:
        files.check_address(path)
        self.settings = settings or Settings()
        # MIGRATIONS is looked up in this module when a store is opened (a test adds a step to it)
        self.conn: StoreConnection | PgConnection = connection.connect(path, settings=self.settings, create=create,
                                                                       migrations=MIGRATIONS)
        self.path: Path | str = self.conn.path

    # ------------------------------------------------------------------ plumbing
    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> "TicketStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def write(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``): committed at the end, rolled back on error.

        Raises
        ------
        netdiag.errors.StoreBusyError
            Another writer held the store for longer than ``store_busy_timeout_s``.
        """
        return connection.write(self.conn)

    def read(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """A read transaction: one consistent snapshot, never blocking writers (WAL)."""
        return connection.read(self.conn)

    @_guarded
    def schema_version(self) -> int:
        """The store's schema version (``PRAGMA user_version``)."""
        return connection.schema_version(self.conn)

    # ------------------------------------------------------------------ reading
    @_guarded
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

    @_guarded
    def complaints(self, ticket_ids: Iterable[str], *, conn: sqlite3.Connection | None = None) -> pd.DataFrame:
        """The complaints linked to some tickets (customer numbers masked), oldest first."""
        return queries.complaints(conn or self.conn, ticket_ids)

    @_guarded
    def run_sources(self) -> dict[int, str]:
        """run id -> the data folder that ``diagnose`` run read (absolute since 0.2; empty when not recorded)."""
        return {run: source or "" for run, source in self.conn.tuples("SELECT run_id, source FROM runs")[1]}

    @_guarded
    def links(self, complaint_ids: Iterable[str], *, conn=None) -> dict[str, str]:
        """complaint id -> its ticket, for those of ``complaint_ids`` a run has linked."""
        return queries.links(conn or self.conn, complaint_ids)

    @_guarded
    def show(self, ticket_id: str) -> dict:
        """One ticket with its complaints, status history and notes (see :func:`.queries.show`).

        Raises
        ------
        netdiag.errors.TicketNotFoundError
            When the store has no such ticket.
        """
        return queries.show(self.conn, ticket_id)

    @_guarded
    def history(self, ticket_ids: Iterable[str], *, conn: sqlite3.Connection | None = None) -> dict[str, list[dict]]:
        """Status and field changes per ticket, oldest first."""
        return queries.history(conn or self.conn, ticket_ids)

    @_guarded
    def notes(self, ticket_ids: Iterable[str], *, conn: sqlite3.Connection | None = None) -> dict[str, list[dict]]:
        """Notes per ticket, oldest first."""
        return queries.notes(conn or self.conn, ticket_ids)

    @_guarded
    def files(self) -> list[Path]:
        """The store's own files (the database and its -wal and -shm), resolved; nothing may be written over them
        (none for a store on a server)."""
        if self.conn.dialect != "sqlite":
            return []
        return [self.path.resolve(), *files.siblings(self.path)]

    @_guarded
    def stamp(self) -> tuple:
        """Something that changes whenever the store's tickets do (for a cache of them).

        SQLite: the file's and its -wal's modification times. PostgreSQL: the number of tickets
        and the sum of their revisions (every change of a ticket bumps its revision).
        """
        if self.conn.dialect == "sqlite":
            return tuple(f.stat().st_mtime_ns if f.exists() else 0 for f in [self.path, *files.siblings(self.path)[:1]])
        return tuple(self.conn.tuples("SELECT count(*), coalesce(sum(revision), 0) FROM tickets")[1][0])

    # ------------------------------------------------------------------ people's updates
    @_guarded
    def update(self, ticket_id: str, *, status: str | None = None, priority: str | None = None, team: str | None = None,
               note: str | None = None, who: str | None = None, why: str | None = None,
               expect_revision: int | None = None) -> dict:
        """Change a ticket's status, priority or team and/or add a note, in one transaction.

        See :func:`.updates.update` for the parameters and errors; returns the ticket after the
        change (as :meth:`show`).
        """
        return updates.update(self.conn, ticket_id, status=status, priority=priority, team=team, note=note, who=who,
                              why=why, expect_revision=expect_revision)

    @_guarded
    def add_history(self, entries: dict[str, str], *, event: str, who: str | None = None,
                    before_commit: Callable[[], None] | None = None) -> int:
        """One history row per ticket (``event``, ``who``, now, ``entries[ticket_id]`` as why) in one
        transaction, the tickets themselves unchanged; see :func:`.updates.add_history`."""
        return updates.add_history(self.conn, entries, event=event, who=who, before_commit=before_commit)

    @_guarded
    def close_ticket(self, ticket_id: str, *, who: str | None = None, why: str | None = None) -> dict:
        """Close a resolved ticket (after the call-back to the customer); see :meth:`update`."""
        return updates.close_ticket(self.conn, ticket_id, who=who, why=why)

    # ------------------------------------------------------------------ a diagnose run
    @_guarded
    def record(self, net, diag: pd.DataFrame, *, settings: Settings | None = None, as_of: pd.Timestamp | None = None,
               who: str | None = None, source: str = "",
               before_commit: Callable[[], None] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, RunReport]:
        """Link a run's diagnoses to lasting tickets, in one transaction (see :func:`.linking.record`).

        ``settings`` defaults to the store's; ``before_commit`` is called with no arguments
        inside the transaction just before COMMIT (an exception there rolls the run back).

        Returns
        -------
        (diagnoses, tickets, report)
            The diagnoses with the store's ``ticket_id``; the tickets those complaints are
            linked to, as they stand after the run; a :class:`RunReport`.
        """
        return linking.record(self.conn, net, diag, settings=settings or self.settings, as_of=as_of, who=who,
                              source=source, before_commit=before_commit)
