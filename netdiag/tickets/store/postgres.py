"""The ticket store on a PostgreSQL/PostGIS server: ``--db postgresql://user@host/db``.

A NOC shift shares one store: handlers at their desks, diagnosis runs and field teams all
write to one server. Every module of :mod:`netdiag.tickets.store` works on a
:class:`PgConnection` as on an SQLite one: it takes the same SQL (``?`` parameters are
rewritten as psycopg's, :func:`translate`), hands out rows that are read by name or position,
and keeps the same transactions:

- **a write** is ``BEGIN`` plus a transaction-level advisory lock of the store: netdiag's
  writers queue one behind the other exactly as SQLite's ``BEGIN IMMEDIATE`` makes them, for
  at most ``store_busy_timeout_s`` (``lock_timeout``); readers never wait;
- **a read** is one ``REPEATABLE READ READ ONLY`` snapshot.

The database enforces the guarantees itself, as SQLite does: the same partial unique indexes
(one open ticket per root element and cause, and per coverage-hole square), primary keys for
complaints, foreign keys. The schema is :data:`~netdiag.tickets.store.schema.MIGRATIONS`
with PostgreSQL's types (:func:`ddl`; text compares byte by byte, ``COLLATE "C"``, so ids sort
as in SQLite); ``netdiag_meta`` names the application and holds the schema version. Tickets and
complaints carry a PostGIS point ``geom`` (EPSG:4326, kept from ``lon``/``lat`` by the database)
with a GiST index: QGIS opens the ``tickets`` table as a layer.

Connections come from one :class:`psycopg_pool.ConnectionPool` per address and process
(``serve`` answers many handlers at once). The address never carries a password (it would show
in ``ps`` and in shell histories): libpq reads it from ``~/.pgpass``, ``PGPASSFILE`` or
``PGPASSWORD``; messages and logs name the store as ``postgresql://user@host:port/db``.
"""
from __future__ import annotations

import atexit
import contextlib
import functools
import logging
import re
import threading
from typing import Iterator, Sequence

from netdiag.errors import InputError, NotAStoreError, StoreAccessError, StoreBusyError, StoreError, StoreFullError, \
    StoreReadOnlyError

log = logging.getLogger(__package__)

SCHEMES = ("postgresql", "postgres")
APPLICATION = "netdiag ticket store"
#: the first key of the store's advisory lock (the second is the schema's): "NDGT"
LOCK_KEY = 0x4E444754
#: libpq parameters that would put a secret in the address
_SECRETS = ("password", "sslpassword")


def is_address(value) -> bool:
    """Whether a ``--db`` value names a PostgreSQL server rather than a file."""
    return bool(re.match(r"^(postgresql|postgres)://", str(value), re.IGNORECASE))


def display(address: str) -> str:
    """The address as messages and logs show it: ``postgresql://user@host:port/db``, never a password.

    >>> display("postgresql://noc@db.example:5433/netdiag?sslmode=require")
    'postgresql://noc@db.example:5433/netdiag'
    """
    params = _params(address)
    user = f"{params['user']}@" if params.get("user") else ""
    port = f":{params['port']}" if params.get("port") else ""
    return f"postgresql://{user}{params.get('host', '')}{port}/{params.get('dbname', '')}"


def _params(address: str) -> dict:
    from psycopg.conninfo import conninfo_to_dict

    try:
        return conninfo_to_dict(address)
    except Exception:  # psycopg's ProgrammingError names the part it could not read, not the address
        raise InputError("the ticket store's address is not a valid PostgreSQL address; expected "
                         "postgresql://USER@HOST[:PORT]/DATABASE") from None


def check_address(address: str) -> str:
    """``address`` if netdiag can use it; a clear error (that does not repeat it) otherwise.

    Raises
    ------
    InputError
        The address holds a password (other accounts read it in ``ps``; libpq reads it from
        ``~/.pgpass`` instead), cannot be parsed, or psycopg is not installed.
    """
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError:
        raise InputError("a PostgreSQL ticket store needs psycopg 3 and psycopg-pool: "
                         "pip install 'netdiag[postgresql]'") from None
    params = _params(address)
    secret = [k for k in _SECRETS if params.get(k)]
    if secret:
        raise InputError(f"the ticket store's address holds a {secret[0]}, which other accounts on this machine can read "
                         f"in the process list: give postgresql://USER@HOST/DATABASE and put the password in ~/.pgpass "
                         f"(or the file PGPASSFILE names)")
    return address


# ----------------------------------------------------------------------------- SQL
@functools.lru_cache(maxsize=512)
def translate(sql: str) -> str:
    """The store's SQLite-flavoured SQL for psycopg: ``?`` parameters, ``json_each`` id lists.

    >>> translate("SELECT x FROM t WHERE a LIKE 'x%' AND id IN (SELECT value FROM json_each(?)) AND b = ?")
    "SELECT x FROM t WHERE a LIKE 'x%%' AND id IN (SELECT value FROM jsonb_array_elements_text(%s::jsonb)) AND b = %s"
    """
    sql = sql.replace("%", "%%").replace("json_each(?)", "jsonb_array_elements_text(?::jsonb)")
    return sql.replace("?", "%s")


#: SQLite's column types as PostgreSQL's (text compares byte by byte, as in SQLite)
_TYPES = [
    (re.compile(r"\bINTEGER PRIMARY KEY AUTOINCREMENT\b"), "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
    (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),
    (re.compile(r"\bTEXT\b"), 'TEXT COLLATE "C"'),
]


def ddl(statement: str) -> str:
    """A migration statement of :data:`~netdiag.tickets.store.schema.MIGRATIONS` with PostgreSQL's types.

    >>> ddl("CREATE TABLE r (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, x REAL, n INTEGER)")
    'CREATE TABLE r (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, at TEXT COLLATE "C" NOT NULL, x DOUBLE PRECISION, n INTEGER)'
    """
    for pattern, replacement in _TYPES:
        statement = pattern.sub(replacement, statement)
    return statement


def _geometry_steps(postgis: str) -> dict[int, list[str]]:
    """PostgreSQL-only statements per migration step: the PostGIS points QGIS opens (``postgis``: its schema)."""
    def point(table: str) -> list[str]:
        return [f'ALTER TABLE {table} ADD COLUMN geom "{postgis}".geometry(Point, 4326) GENERATED ALWAYS AS '
                f'("{postgis}".ST_SetSRID("{postgis}".ST_MakePoint(lon, lat), 4326)) STORED',
                f"CREATE INDEX {table}_geom ON {table} USING GIST (geom)"]
    return {0: point("tickets") + point("complaints")}


# ----------------------------------------------------------------------------- rows
class Row:
    """A row read by column name or position, as :class:`sqlite3.Row` is (``dict(row)`` works too)."""

    __slots__ = ("_values", "_names")

    def __init__(self, values: Sequence, names: dict[str, int]) -> None:
        self._values, self._names = values, names

    def __getitem__(self, key):
        return self._values[self._names[key] if isinstance(key, str) else key]

    def keys(self) -> list[str]:
        return list(self._names)

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def _row_factory(cursor):
    names = {d.name: i for i, d in enumerate(cursor.description or ())}
    return lambda values: Row(values, names)


def _configure(conn) -> None:
    """Every pooled connection: numpy's numbers as plain ones (pandas hands them out)."""
    import numpy as np

    as_int, as_float, as_bool = _dumpers()
    for kind in (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32):
        conn.adapters.register_dumper(kind, as_int)
    for kind in (np.float32, np.float64):
        conn.adapters.register_dumper(kind, as_float)
    conn.adapters.register_dumper(np.bool_, as_bool)


@functools.cache
def _dumpers():
    """psycopg dumpers for numpy's integers, floats and booleans (made once, psycopg imported late)."""
    from psycopg.types.bool import BoolDumper
    from psycopg.types.numeric import FloatDumper, Int8Dumper

    class NumpyInt(Int8Dumper):
        def dump(self, obj):
            return super().dump(int(obj))

    class NumpyFloat(FloatDumper):
        def dump(self, obj):
            return super().dump(float(obj))

    class NumpyBool(BoolDumper):
        def dump(self, obj):
            return super().dump(bool(obj))

    return NumpyInt, NumpyFloat, NumpyBool


# ----------------------------------------------------------------------------- connections
_POOLS: dict[str, object] = {}
_POOLS_LOCK = threading.Lock()


def _pool(address: str, name: str, size: int):
    """The process's pool of connections to ``address``, made on first use (closed at exit).

    The server is asked once before the pool is made, so that an unreachable server or a refused
    login is an error at once, with the server's reason (a pool would retry in the background
    and wait out its timeout).
    """
    import psycopg
    from psycopg_pool import ConnectionPool

    with _POOLS_LOCK:
        pool = _POOLS.get(address)
        if pool is None:
            try:
                psycopg.connect(address, connect_timeout=10).close()
            except psycopg.Error as exc:
                raise StoreAccessError(f"ticket store {name} cannot be reached: {_reason(exc)}") from None
            pool = ConnectionPool(address, min_size=1, max_size=max(1, size), open=True, configure=_configure,
                                  kwargs={"autocommit": True, "connect_timeout": 10, "application_name": "netdiag"},
                                  name=f"netdiag-{len(_POOLS)}")
            _POOLS[address] = pool
        return pool


def close_pool(address: str) -> None:
    """Close this process's pool of connections to ``address``, if it has one."""
    with _POOLS_LOCK:
        pool = _POOLS.pop(address, None)
    if pool is not None:
        pool.close(timeout=2)


@atexit.register
def close_pools() -> None:
    """Close every pool this process opened."""
    with _POOLS_LOCK:
        for pool in _POOLS.values():
            with contextlib.suppress(Exception):
                pool.close(timeout=2)
        _POOLS.clear()


class PgConnection:
    """A connection to a PostgreSQL ticket store, used by the store's modules as an SQLite one.

    Attributes
    ----------
    path : str
        The store as messages name it (:func:`display`: no password).
    busy_timeout_s : float
        How long a writer waits for another one (``lock_timeout``).
    read_only : None
        A PostgreSQL role's rights are the server's: a refused write is an error then.
    schema : int or None
        The schema version this connection works with once the store is open.
    """

    dialect = "postgresql"
    read_only = None

    def __init__(self, raw, pool, name: str, busy_timeout_s: float) -> None:
        self.raw, self._pool, self.path, self.busy_timeout_s = raw, pool, name, busy_timeout_s
        self.schema: int | None = None
        self._columns: dict[str, list[str]] = {}

    # -- the sqlite3.Connection subset the store uses
    def execute(self, sql: str, args: Sequence = ()):
        cur = self.raw.cursor(row_factory=_row_factory)
        return cur.execute(translate(sql), args or None)

    def executemany(self, sql: str, rows) -> None:
        rows = list(rows)
        if rows:
            with self.raw.cursor() as cur:
                cur.executemany(translate(sql), rows)

    def tuples(self, sql: str, args: Sequence = ()) -> tuple[list[str], list[tuple]]:
        """(column names, rows as plain tuples) of a query."""
        with self.raw.cursor() as cur:
            cur.execute(translate(sql), args or None)
            return [d.name for d in cur.description], cur.fetchall()

    def columns(self, table: str) -> list[str]:
        """The columns of ``table`` netdiag reads (the PostGIS ``geom`` is the database's, for QGIS)."""
        if table not in self._columns:
            with self.raw.cursor() as cur:
                cur.execute(f"SELECT * FROM {table} LIMIT 0")
                self._columns[table] = [d.name for d in cur.description if d.name != "geom"]
        return self._columns[table]

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def begin(self, *, write: bool) -> None:
        """Open a write transaction (queued behind other writers) or a read-only snapshot."""
        if not write:
            self.raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            return
        self.raw.execute("BEGIN")
        self.raw.execute(f"SET LOCAL lock_timeout = '{int(self.busy_timeout_s * 1000)}ms'")
        self.raw.execute("SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))", (LOCK_KEY,))

    def rollback(self) -> None:
        if self.in_transaction:
            try:
                self.raw.execute("ROLLBACK")
            except Exception as exc:  # the error being raised says more than this one
                log.debug("ticket store %s: rollback failed: %s", self.path, exc)

    def schema_version(self) -> int:
        row = self.raw.execute("SELECT value FROM netdiag_meta WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else 0

    def translating(self) -> contextlib.AbstractContextManager[None]:
        return translating(self.path, self.busy_timeout_s)

    def close(self) -> None:
        raw, self.raw = self.raw, None
        if raw is not None:
            self._pool.putconn(raw)


def connect(address: str, *, settings, create: bool, migrations: Sequence[Sequence[str]]) -> PgConnection:
    """Open the PostgreSQL ticket store at ``address``; create or migrate its schema (see :mod:`.connection`).

    Raises
    ------
    InputError
        No store there (``create=False``), a password in the address, or a schema of a newer netdiag.
    netdiag.errors.NotAStoreError
        The schema holds a ``tickets`` table of another application.
    netdiag.tickets.store.errors.StoreError
        The server cannot be reached, refuses the login, or this role may not create the store.
    """
    check_address(address)
    name = display(address)
    timeout = float(settings.store_busy_timeout_s)
    conn = PgConnection(_get(address, name, int(settings.store_pool_size)), _POOLS[address], name, timeout)
    try:
        with conn.translating():
            _migrate(conn, migrations, create)
            conn.schema = len(migrations)
    except BaseException:
        conn.close()
        raise
    return conn


def _get(address: str, name: str, size: int):
    """A connection from the pool, or the server's own reason why there is none."""
    import psycopg
    from psycopg_pool import PoolTimeout

    pool = _pool(address, name, size)
    try:
        return pool.getconn(timeout=30)
    except PoolTimeout:
        pass
    try:  # the pool keeps the reason in its log: ask the server once more, for the message
        psycopg.connect(address, connect_timeout=10).close()
    except psycopg.Error as exc:
        raise StoreAccessError(f"ticket store {name} cannot be reached: {_reason(exc)}") from None
    raise StoreAccessError(f"ticket store {name}: no connection became free within 30 s (raise store_pool_size?)")


def _migrate(conn: PgConnection, migrations: Sequence[Sequence[str]], create: bool) -> None:
    latest = len(migrations)
    version = _version(conn)
    if version == latest:
        return
    if version is not None and version > latest:
        raise _newer(conn, version, latest)
    if version is None and not create:
        raise InputError(f"ticket store {conn.path} has no netdiag tickets yet; create them with "
                         f"`netdiag diagnose --data DATA_DIR --out FOLDER --db {conn.path}`")
    conn.begin(write=True)
    try:
        version = _version(conn)  # another process may have created or migrated it while we waited
        if version is None:
            if _table(conn, "tickets"):
                raise NotAStoreError(f"{conn.path} already has a table tickets of another application in schema "
                                     f"{conn.raw.execute('SELECT current_schema()').fetchone()[0]}; give netdiag a "
                                     f"database or schema of its own")
            conn.raw.execute("CREATE TABLE netdiag_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            conn.raw.execute("INSERT INTO netdiag_meta VALUES ('application', %s), ('schema_version', '0')", (APPLICATION,))
            version = 0
        elif version > latest:
            raise _newer(conn, version, latest)
        extra = _geometry_steps(_postgis(conn))
        for step in range(version, latest):
            for statement in migrations[step]:
                conn.raw.execute(ddl(statement))
            for statement in extra.get(step, ()):
                conn.raw.execute(statement)
            conn.raw.execute("UPDATE netdiag_meta SET value = %s WHERE key = 'schema_version'", (str(step + 1),))
            log.info("ticket store %s: migrated schema to version %d", conn.path, step + 1)
        conn.raw.execute("COMMIT")
    except BaseException:
        conn.rollback()
        raise


def _version(conn: PgConnection) -> int | None:
    """The store's schema version, or None when the schema has no netdiag store (no ``netdiag_meta``)."""
    if not _table(conn, "netdiag_meta"):
        return None
    rows = dict(conn.raw.execute("SELECT key, value FROM netdiag_meta").fetchall())
    if rows.get("application") != APPLICATION:
        raise NotAStoreError(f"{conn.path} has a table netdiag_meta that is not a netdiag ticket store's")
    return int(rows.get("schema_version", 0))


def _table(conn: PgConnection, name: str) -> bool:
    """Whether the store's schema (the first of the search path that exists) has the table ``name``."""
    return conn.raw.execute("SELECT to_regclass(format('%%I.%%I', current_schema(), %s::text)) IS NOT NULL",
                            (name,)).fetchone()[0]


def _newer(conn: PgConnection, version: int, latest: int) -> InputError:
    return InputError(f"ticket store {conn.path} has schema version {version}, but this netdiag knows up to version "
                      f"{latest}; upgrade netdiag to use it")


def _postgis(conn: PgConnection) -> str:
    """The schema PostGIS is installed in; installed here when this role may (else a clear error)."""
    row = conn.raw.execute("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'postgis'").fetchone()
    if row is None:
        with conn.raw.transaction():  # a savepoint: a refusal leaves the migration's transaction usable for the message
            try:
                conn.raw.execute("CREATE EXTENSION postgis")
            except Exception as exc:
                raise StoreError(f"ticket store {conn.path}: PostGIS is not installed in this database and could not "
                                 f"be ({_reason(exc)}); ask its administrator to run CREATE EXTENSION postgis "
                                 f"(Debian: apt install postgresql-NN-postgis-3)") from None
        row = conn.raw.execute("SELECT extnamespace::regnamespace::text FROM pg_extension "
                               "WHERE extname = 'postgis'").fetchone()
    return row[0].strip('"')


# ----------------------------------------------------------------------------- errors
def _reason(exc: BaseException) -> str:
    """The server's one-line reason (psycopg's messages may span lines)."""
    diag = getattr(exc, "diag", None)
    text = (getattr(diag, "message_primary", None) or str(exc)).strip()
    return " ".join(text.split())


@contextlib.contextmanager
def translating(name: str, busy_timeout_s: float | None = None) -> Iterator[None]:
    """Turn a psycopg error raised inside into the store's typed error (as :func:`.errors.translating` does SQLite's)."""
    import psycopg
    from psycopg import errors as pge

    try:
        yield
    except psycopg.Error as exc:
        log.debug("ticket store %s: %s", name, exc, exc_info=True)
        reason = _reason(exc)
        if isinstance(exc, (pge.LockNotAvailable, pge.DeadlockDetected)):
            waited = f" for {busy_timeout_s:g} s" if busy_timeout_s is not None else ""
            raise StoreBusyError(f"ticket store {name} stayed busy{waited} (another netdiag is writing); try again or "
                                 f"raise store_busy_timeout_s") from None
        if isinstance(exc, pge.InsufficientPrivilege):
            raise StoreReadOnlyError(f"ticket store {name}: this role may not do that ({reason}); reading works, "
                                     f"writing needs the rights the README's roles give") from None
        if isinstance(exc, (pge.DiskFull, pge.OutOfMemory)):
            raise StoreFullError(f"ticket store {name}: the server is out of space ({reason}); the transaction was "
                                 f"rolled back, so the store is as it was before") from None
        if isinstance(exc, (pge.ReadOnlySqlTransaction,)):
            raise StoreReadOnlyError(f"ticket store {name} is read-only here ({reason}): a standby server?") from None
        if isinstance(exc, psycopg.OperationalError):
            raise StoreAccessError(f"ticket store {name}: the server connection failed ({reason})") from None
        raise StoreError(f"ticket store {name}: {reason}") from None

