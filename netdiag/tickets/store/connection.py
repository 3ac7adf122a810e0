"""Opening a ticket store: the SQLite file, its transactions, its schema and migrations.

:func:`connect` opens (or creates) the file in WAL mode with a busy timeout, refuses a file
that is not a netdiag ticket store, and migrates an older schema (``PRAGMA user_version``) in
one transaction. :func:`write` and :func:`read` are the store's only transactions: every
other module of :mod:`netdiag.tickets.store` works on the connection they hand out.
"""
from __future__ import annotations

import contextlib
import getpass
import logging
import os
import sqlite3
from pathlib import Path
from typing import Iterator, Sequence

from netdiag.errors import InputError, NotAStoreError, StoreBusyError
from netdiag.settings import Settings
from netdiag.tickets import lifecycle

log = logging.getLogger(__package__)  # one logger for the whole store, as before it was split

SCHEMA_VERSION = 1
APPLICATION_ID = 0x4E444754  # "NDGT": a netdiag ticket store
DEFAULT_DB = "netdiag.db"

#: the open statuses as an SQL list, for ``status IN {OPEN_SQL}``
OPEN_SQL = "(" + ", ".join(f"'{s}'" for s in lifecycle.OPEN_STATUSES) + ")"

#: migrations[i] takes a store from schema version i to i + 1 (statements run one by one in one transaction)
MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE tickets (
            ticket_id        TEXT PRIMARY KEY,
            kind             TEXT NOT NULL CHECK (kind IN ('incident', 'coverage', 'field_test')),
            cause            TEXT NOT NULL,
            element_id       TEXT,
            element_kind     TEXT,
            area_key         TEXT,
            incident_id      TEXT,
            status           TEXT NOT NULL CHECK (status IN ('acknowledged', 'inProgress', 'pending', 'held',
                                                             'resolved', 'closed', 'cancelled')),
            priority         TEXT NOT NULL CHECK (priority IN ('P1', 'P2', 'P3', 'P4')),
            priority_manual  INTEGER NOT NULL DEFAULT 0,
            grade            TEXT NOT NULL CHECK (grade IN ('ordinary', 'major', 'urgent')),
            action           TEXT NOT NULL,
            team             TEXT NOT NULL,
            lead_department  TEXT NOT NULL,
            via              TEXT,
            region           TEXT,
            place            TEXT,
            lat              REAL,
            lon              REAL,
            fixed_position   INTEGER NOT NULL DEFAULT 0,
            evidence         TEXT,
            resolution       TEXT,
            cause_start      TEXT,
            cause_end        TEXT,
            sites_affected   INTEGER NOT NULL DEFAULT 0,
            cells_affected   INTEGER NOT NULL DEFAULT 0,
            complaint_count  INTEGER NOT NULL DEFAULT 0,
            vip_count        INTEGER NOT NULL DEFAULT 0,
            public_count     INTEGER NOT NULL DEFAULT 0,
            created_at       TEXT NOT NULL,
            first_reply_due  TEXT,
            due_at           TEXT,
            opened_at        TEXT NOT NULL,
            updated_at       TEXT NOT NULL,
            resolved_at      TEXT,
            closed_at        TEXT,
            revision         INTEGER NOT NULL DEFAULT 1
        )""",
        f"""CREATE UNIQUE INDEX tickets_one_open_per_element ON tickets (cause, element_id)
            WHERE element_id IS NOT NULL AND status IN {OPEN_SQL}""",
        f"""CREATE UNIQUE INDEX tickets_one_open_per_area ON tickets (cause, area_key)
            WHERE area_key IS NOT NULL AND status IN {OPEN_SQL}""",
        "CREATE INDEX tickets_by_status ON tickets (status, team, priority)",
        "CREATE INDEX tickets_by_incident ON tickets (incident_id)",
        """CREATE TABLE runs (
            run_id       INTEGER PRIMARY KEY AUTOINCREMENT,
            started_at   TEXT NOT NULL,
            finished_at  TEXT,
            who          TEXT NOT NULL,
            source       TEXT,
            as_of        TEXT,
            complaints   INTEGER,
            linked       INTEGER,
            new_tickets  INTEGER,
            resolved     INTEGER,
            relinked     INTEGER
        )""",
        """CREATE TABLE complaints (
            complaint_id  TEXT PRIMARY KEY,
            ticket_id     TEXT NOT NULL REFERENCES tickets (ticket_id),
            cause         TEXT NOT NULL,
            element_id    TEXT,
            incident_id   TEXT,
            received_at   TEXT NOT NULL,
            occurred_at   TEXT,
            cause_start   TEXT,
            cause_end     TEXT,
            lat           REAL,
            lon           REAL,
            category      TEXT,
            indoor        INTEGER,
            vip           INTEGER,
            public        INTEGER,
            channel       TEXT,
            customer      TEXT,
            description   TEXT,
            region        TEXT,
            evidence      TEXT,
            confidence    REAL,
            linked_at     TEXT NOT NULL,
            run_id        INTEGER REFERENCES runs (run_id)
        )""",
        "CREATE INDEX complaints_by_ticket ON complaints (ticket_id)",
        "CREATE INDEX complaints_by_received ON complaints (received_at)",
        """CREATE TABLE history (
            seq          INTEGER PRIMARY KEY AUTOINCREMENT,
            ticket_id    TEXT NOT NULL REFERENCES tickets (ticket_id),
            at           TEXT NOT NULL,
            who          TEXT NOT NULL,
            event        TEXT NOT NULL,
            from_status  TEXT,
            to_status    TEXT,
            why          TEXT
        )""",
        "CREATE INDEX history_by_ticket ON history (ticket_id, seq)",
        """CREATE TABLE notes (
            seq        INTEGER PRIMARY KEY AUTOINCREMENT,
            ticket_id  TEXT NOT NULL REFERENCES tickets (ticket_id),
            at         TEXT NOT NULL,
            who        TEXT NOT NULL,
            text       TEXT NOT NULL
        )""",
        "CREATE INDEX notes_by_ticket ON notes (ticket_id, seq)",
        "CREATE TABLE id_counters (day TEXT PRIMARY KEY, last INTEGER NOT NULL)",
    ],
]
assert len(MIGRATIONS) == SCHEMA_VERSION


def default_db_path() -> Path:
    """``$NETDIAG_DB`` if set, else ``netdiag.db`` in the current folder."""
    return Path(os.environ.get("NETDIAG_DB") or DEFAULT_DB)


def default_who() -> str:
    """Who is acting: ``$NETDIAG_USER``, else the login name."""
    name = os.environ.get("NETDIAG_USER")
    if name:
        return name
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        return "unknown"


class StoreConnection(sqlite3.Connection):
    """An SQLite connection to a ticket store that knows its file and busy timeout (for messages).

    Attributes
    ----------
    path : Path
        The store's file, as given.
    busy_timeout_s : float
        How long a writer waits for another one.
    """

    path: Path
    busy_timeout_s: float


def connect(path: str | Path, *, settings: Settings | None = None, create: bool = True,
            migrations: Sequence[Sequence[str]] = MIGRATIONS) -> StoreConnection:
    """Open a ticket store: WAL mode, busy timeout, foreign keys; create or migrate its schema.

    Parameters
    ----------
    path : str or Path
        The database file; created (with its folder) unless ``create`` is false.
    settings : Settings, optional
        ``store_busy_timeout_s``: how long a writer waits for another one.
    create : bool, default True
        Create the file when it does not exist; with ``False`` a missing file is an error.
    migrations : sequence of statement lists, default :data:`MIGRATIONS`
        ``migrations[i]`` takes a store from schema version i to i + 1; the store is brought
        to version ``len(migrations)``.

    Returns
    -------
    StoreConnection
        In autocommit mode (``isolation_level=None``): transactions are :func:`write` and :func:`read`.

    Raises
    ------
    InputError
        The file is missing (``create=False``) or was written by a newer netdiag.
    netdiag.errors.NotAStoreError
        The path is a folder, not an SQLite database, or another application's database.
    """
    path = Path(path)
    settings = settings or Settings()
    if not create and not path.exists():
        raise InputError(f"ticket store {path} does not exist; create it with "
                         f"`netdiag diagnose --data DATA_DIR --out FOLDER --db {path}`")
    if path.exists() and path.is_dir():
        raise NotAStoreError(f"ticket store {path} is a folder; expected a database file such as {DEFAULT_DB}")
    path.parent.mkdir(parents=True, exist_ok=True)
    timeout = float(settings.store_busy_timeout_s)
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, factory=StoreConnection)
    conn.path, conn.busy_timeout_s = path, timeout
    conn.row_factory = sqlite3.Row
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            log.warning("ticket store %s: journal mode is %s, not WAL (network file system?)", path, mode)
        conn.execute("PRAGMA synchronous = NORMAL")
        _migrate(conn, migrations)
    except sqlite3.DatabaseError as exc:
        conn.close()
        if "not a database" in str(exc) or "malformed" in str(exc):
            raise NotAStoreError(f"ticket store {path} is not an SQLite database ({exc}); "
                                 f"give a netdiag ticket store or the name of a new file") from None
        raise
    except BaseException:
        conn.close()
        raise
    return conn


@contextlib.contextmanager
def write(conn: StoreConnection) -> Iterator[StoreConnection]:
    """A write transaction (``BEGIN IMMEDIATE``): committed at the end, rolled back on error.

    Raises
    ------
    netdiag.errors.StoreBusyError
        Another writer held the store for longer than the busy timeout.
    """
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise StoreBusyError(f"ticket store {conn.path} stayed busy for {conn.busy_timeout_s:g} s "
                                 f"(another netdiag is writing); try again or raise store_busy_timeout_s") from None
        raise
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


@contextlib.contextmanager
def read(conn: StoreConnection) -> Iterator[StoreConnection]:
    """A read transaction: one consistent snapshot, never blocking writers (WAL)."""
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")


def schema_version(conn: sqlite3.Connection) -> int:
    """The store's schema version (``PRAGMA user_version``)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def chunks(items: Sequence, size: int = 500) -> Iterator[Sequence]:
    """``items`` in slices of ``size`` (SQLite limits the parameters of one statement)."""
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _migrate(conn: StoreConnection, migrations: Sequence[Sequence[str]]) -> None:
    latest = len(migrations)
    version = schema_version(conn)
    if version > latest:
        raise InputError(f"ticket store {conn.path} has schema version {version}, but this netdiag knows up to "
                         f"version {latest}; upgrade netdiag to use it")
    if version == latest:
        _check_application(conn)
        return
    with write(conn) as c:
        version = schema_version(c)  # another process may have migrated while we waited
        if version == 0:
            foreign = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                               "AND name NOT LIKE 'sqlite_%'")]
            if foreign:
                raise NotAStoreError(f"{conn.path} is an SQLite database of another application (tables "
                                     f"{', '.join(foreign[:5])}); give a netdiag ticket store or the name of a new file")
            c.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        else:
            _check_application(c)
        for step in range(version, latest):
            for statement in migrations[step]:
                c.execute(statement)
            c.execute(f"PRAGMA user_version = {step + 1}")
            log.info("ticket store %s: migrated schema to version %d", conn.path, step + 1)


def _check_application(conn: StoreConnection) -> None:
    app = int(conn.execute("PRAGMA application_id").fetchone()[0])
    if app != APPLICATION_ID:
        raise NotAStoreError(f"{conn.path} is an SQLite database of another application (application_id {app:#x}); "
                             f"give a netdiag ticket store or the name of a new file")
