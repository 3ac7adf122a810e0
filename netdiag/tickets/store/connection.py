"""Opening a ticket store: the SQLite file, its transactions, its schema and migrations.

:func:`connect` checks what the file is before writing to it (:mod:`.files`), opens (or
creates) it in WAL mode with a busy timeout, or read-only when this process may not write it,
and migrates an older schema (``PRAGMA user_version``) in one transaction. :func:`write` and
:func:`read` are the store's only transactions: every other module of
:mod:`netdiag.tickets.store` works on the connection they hand out. SQLite's errors become the
typed errors of :mod:`.errors` there and in :func:`guard`.
"""
from __future__ import annotations

import contextlib
import getpass
import logging
import os
import sqlite3
import time
from pathlib import Path
from typing import Iterator, Sequence

from netdiag.errors import InputError, NotAStoreError
from netdiag.settings import Settings
from netdiag.tickets.store import errors, files, postgres
from netdiag.tickets.store.files import APPLICATION_ID
from netdiag.tickets.store.schema import MIGRATIONS, OPEN_SQL, SCHEMA_VERSION  # noqa: F401 (the store's names)

log = logging.getLogger(__package__)  # one logger for the whole store, as before it was split

DEFAULT_DB = "netdiag.db"


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
    read_only : str or None
        Why the store was opened read-only (this process may not write it), or None.
    schema : int or None
        The schema version this connection works with, once the store is open (a newer
        netdiag may migrate the store while this one has it open: :func:`write` refuses then).
    """

    dialect = "sqlite"
    path: Path
    busy_timeout_s: float
    read_only: str | None
    schema: int | None

    def tuples(self, sql: str, args: Sequence = ()) -> tuple[list[str], list[tuple]]:
        """(column names, rows as plain tuples) of a query: many rows without a :class:`sqlite3.Row` each."""
        cur = self.cursor()
        cur.row_factory = None
        rows = cur.execute(sql, args).fetchall()
        return [d[0] for d in cur.description], rows

    def columns(self, table: str) -> list[str]:
        """The columns of ``table``, in order."""
        return [r[1] for r in self.execute(f"PRAGMA table_info({table})")]

    def begin(self, *, write: bool) -> None:
        """Open a write transaction (``BEGIN IMMEDIATE``: writers queue) or a read (a WAL snapshot)."""
        self.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    def rollback(self) -> None:
        """Roll back the open transaction, if SQLite has not already (it does on a full disk or an I/O error)."""
        if not self.in_transaction:
            return
        try:
            self.execute("ROLLBACK")
        except sqlite3.Error as exc:  # the error being raised says more than this one
            log.debug("ticket store %s: rollback failed: %s", self.path, exc)

    def schema_version(self) -> int:
        """The store's schema version (``PRAGMA user_version``)."""
        return int(self.execute("PRAGMA user_version").fetchone()[0])

    def translating(self) -> contextlib.AbstractContextManager[None]:
        """Turn an SQLite error inside into the store's typed error (:func:`.errors.translating`)."""
        return errors.translating(self.path, self.read_only, self.busy_timeout_s)


def connect(path: str | Path, *, settings: Settings | None = None, create: bool = True,
            migrations: Sequence[Sequence[str]] = MIGRATIONS) -> StoreConnection:
    """Open a ticket store: WAL mode, busy timeout, foreign keys; create or migrate its schema.

    A ``postgresql://`` address opens the store on that server instead (:func:`.postgres.connect`).

    What the file is is checked first, from its header and without writing to it
    (:func:`.files.examine`): anything but a netdiag ticket store, an empty file or a new name
    is refused and left byte for byte as it was. A store this process may not write (the file,
    its folder, or a -wal / -shm of another user) is opened read-only when ``create`` is
    false: reading works and a write raises :class:`~.errors.StoreReadOnlyError`.

    Parameters
    ----------
    path : str or Path
        The database file; created (with its folder) unless ``create`` is false.
    settings : Settings, optional
        ``store_busy_timeout_s``: how long a writer waits for another one.
    create : bool, default True
        Create the file when it does not exist or is empty, and refuse a store that cannot be
        written; with ``False`` a missing or empty file is an error.
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
        The path is a folder, an empty file (``create=False``), not an SQLite database, another
        application's database, or a damaged store (:class:`~.errors.StoreDamagedError`).
    netdiag.tickets.store.errors.StoreError
        The file cannot be opened or (``create=True``) written; the message says why.
    """
    settings = settings or Settings()
    if postgres.is_postgres(path):
        return postgres.connect(str(path), settings=settings, create=create, migrations=migrations)
    path = Path(path)
    kind = files.examine(path)
    if kind == files.MISSING and not create:
        raise InputError(f"ticket store {path} does not exist; create it with "
                         f"`netdiag diagnose --data DATA_DIR --out FOLDER --db {path}`")
    if kind in (files.EMPTY, files.BLANK) and not create:
        raise _empty(path, " (an SQLite database without tables)" if kind == files.BLANK else "")
    why_read_only = files.read_only_reason(path)
    timeout = float(settings.store_busy_timeout_s)
    if why_read_only and create:
        raise errors.read_only(path, why_read_only)
    if why_read_only:
        return _open_read_only(path, why_read_only, timeout, len(migrations))
    if kind == files.MISSING:
        why_not = files.not_creatable_reason(path)
        if why_not:
            raise errors.StoreAccessError(f"ticket store {path} cannot be created: {why_not}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise errors.StoreAccessError(f"ticket store {path} cannot be created ({exc.strerror}: {exc.filename})") from None
    conn = _open(path, "rwc" if kind == files.MISSING else "rw", None, timeout)
    try:
        with guard(conn):
            _migrate(conn, migrations, create)  # a new store is created before WAL, so that its header names netdiag
            conn.schema = len(migrations)
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                log.warning("ticket store %s: journal mode is %s, not WAL (network file system?)", path, mode)
            conn.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        conn.close()
        raise
    return conn


def _open(path: Path, mode: str, why_read_only: str | None, timeout: float) -> StoreConnection:
    """An SQLite connection to ``path`` in ``mode`` (:func:`.files.uri`) with the busy timeout and foreign keys."""
    with errors.translating(path, why_read_only, timeout):
        conn = sqlite3.connect(files.uri(path, mode), uri=True, timeout=timeout, isolation_level=None,
                               factory=StoreConnection)
    conn.path, conn.busy_timeout_s, conn.read_only, conn.schema = path, timeout, why_read_only, None
    conn.row_factory = sqlite3.Row
    try:
        with guard(conn):
            conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            conn.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        conn.close()
        raise
    return conn


def _open_read_only(path: Path, why: str, timeout: float, latest: int, attempts: int = 5) -> StoreConnection:
    """Open a store this process may not write, without creating files (:func:`.files.read_mode`).

    Its -wal and -shm come and go while their owner opens and closes the store, between
    looking at them and SQLite opening them: SQLite then reports it cannot open or create
    them, and the store is looked at again.
    """
    attempt = 0
    while True:
        attempt += 1
        mode = files.read_mode(path)
        if mode is None:
            wal, _ = files.siblings(path)
            raise errors.StoreAccessError(f"ticket store {path} cannot be read here: {why}, and {wal} holds writes that "
                                          f"SQLite can only read by creating {wal.name[:-4]}-shm beside it; let the "
                                          f"store's owner open it once (e.g. netdiag tickets list) and retry")
        conn = _open(path, mode, why, timeout)
        try:
            _known_version(conn, latest)  # the first read of the file
        except sqlite3.OperationalError as exc:
            conn.close()
            name = getattr(exc, "sqlite_errorname", "")
            if attempt < attempts and name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN")):
                log.debug("ticket store %s: read-only open (%s) failed (%s); trying again", path, mode, name)
                time.sleep(0.02 * attempt)
                continue
            raise errors.store_error(exc, path, why, timeout) from None
        except BaseException:
            conn.close()
            raise
        try:
            with guard(conn):
                _check_readable(conn, latest)
        except BaseException:
            conn.close()
            raise
        conn.schema = latest
        log.info("ticket store %s opened read-only (%s): %s", path, mode, why)
        return conn


def guard(conn) -> contextlib.AbstractContextManager[None]:
    """Turn an error of the store's database on ``conn`` into the store's typed error (:mod:`.errors`)."""
    return conn.translating()


@contextlib.contextmanager
def write(conn) -> Iterator:
    """A write transaction: committed at the end, rolled back on error.

    Writers queue: SQLite's ``BEGIN IMMEDIATE``, PostgreSQL's advisory lock of the store
    (:mod:`.postgres`), each waiting at most ``store_busy_timeout_s``.

    Raises
    ------
    netdiag.errors.StoreBusyError
        Another writer held the store for longer than the busy timeout.
    netdiag.tickets.store.errors.StoreError
        The store is read-only here, the disk is full, ...: the transaction was rolled back.
    """
    if conn.read_only:
        raise errors.read_only(conn.path, conn.read_only)
    with guard(conn):
        conn.begin(write=True)
        try:
            if conn.schema is not None:
                _known_version(conn, conn.schema, while_open=True)
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            conn.rollback()
            raise


@contextlib.contextmanager
def read(conn) -> Iterator:
    """A read transaction: one consistent snapshot, never blocking writers."""
    with guard(conn):
        conn.begin(write=False)
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.execute("COMMIT")


def schema_version(conn) -> int:
    """The store's schema version."""
    return conn.schema_version()


def tuples(conn, sql: str, args: Sequence = ()) -> tuple[list[str], list[tuple]]:
    """(column names, rows as plain tuples) of a query: many rows without a row object each."""
    return conn.tuples(sql, args)


def raw_rows(db, sql: str, args: Sequence = ()) -> list[tuple]:
    """Rows of ``sql`` (``?`` parameters) on the store ``db`` (a SQLite file or a PostgreSQL address),
    read on a connection of its own, outside netdiag's checks and transactions: for inspecting a
    store as it is (tests, benchmarks), never for netdiag's own work."""
    if postgres.is_postgres(db):
        import psycopg

        with psycopg.connect(str(db), autocommit=True) as con:
            return [tuple(r) for r in con.execute(postgres.translate(sql), list(args) or None).fetchall()]
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def chunks(items: Sequence, size: int = 500) -> Iterator[Sequence]:
    """``items`` in slices of ``size`` (SQLite limits the parameters of one statement)."""
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _migrate(conn: StoreConnection, migrations: Sequence[Sequence[str]], create: bool) -> None:
    latest = len(migrations)
    version = _known_version(conn, latest)
    if version == latest:
        _check_application(conn)
        return
    with write(conn) as c:
        version = _known_version(c, latest)  # another process may have created or migrated it while we waited
        if version == 0 and not create:  # SQLite rolled back a store's creation that was killed halfway
            raise _empty(conn.path, " (its creation was interrupted)")
        if version == 0 and int(c.execute("PRAGMA application_id").fetchone()[0]) == 0:
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


def _empty(path: Path, detail: str) -> NotAStoreError:
    """The error for an empty file given to a command that does not create stores."""
    return NotAStoreError(f"ticket store {path} is empty, not a ticket store{detail}; only a run creates one: "
                          f"`netdiag diagnose --data DATA_DIR --out FOLDER --db {path}`")


def _check_readable(conn: StoreConnection, latest: int) -> None:
    """A store opened read-only must be of this netdiag's schema version: it cannot be migrated."""
    version = _known_version(conn, latest)
    if version < latest:
        raise errors.read_only(conn.path, f"{conn.read_only}, and its schema (version {version}) must first be "
                                          f"migrated to version {latest}, which writes to it")
    _check_application(conn)


def _known_version(conn: StoreConnection, latest: int, *, while_open: bool = False) -> int:
    """The store's schema version; refuses one newer than ``latest`` (a newer netdiag wrote it)."""
    version = schema_version(conn)
    if version > latest:
        when = " (a newer netdiag migrated it while this one had it open)" if while_open else ""
        raise InputError(f"ticket store {conn.path} has schema version {version}{when}, but this netdiag knows up to "
                         f"version {latest}; upgrade netdiag to use it")
    return version


def _check_application(conn: StoreConnection) -> None:
    app = int(conn.execute("PRAGMA application_id").fetchone()[0])
    if app != APPLICATION_ID:
        raise NotAStoreError(f"{conn.path} is an SQLite database of another application (application_id {app:#x}); "
                             f"give a netdiag ticket store or the name of a new file")
