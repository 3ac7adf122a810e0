"""Moving a ticket store between back ends: a SQLite file to a PostgreSQL server, and back.

:func:`copy_store` copies every table of the schema (tickets, linked complaints, history,
notes, runs, ticket-number counters) with its keys as they are: ticket ids, run ids and the
order of history and notes stay, so a ticket shows the same story on either side. The source
is read in one snapshot and the target written in one transaction: a copy that fails leaves
the target as it was. The target must hold no tickets yet (nothing is merged).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from netdiag.errors import InputError
from netdiag.tickets.store.connection import read, write
from netdiag.tickets.store.schema import MIGRATIONS

#: the store's tables in the order they were created, which is the order their references allow
TABLES = [m.group(1) for step in MIGRATIONS for statement in step
          for m in [re.match(r"\s*CREATE TABLE (\w+)", statement)] if m]
#: columns a back end fills by itself with the next number: after a copy it continues from the largest copied
_NUMBERED = {"runs": "run_id", "history": "seq", "notes": "seq"}
_BATCH = 5000


def copy_store(source, target, *, progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Copy every row of the store ``source`` into the empty store ``target`` (both :class:`TicketStore`).

    Returns
    -------
    dict
        Rows copied per table (each checked against the target's count before committing).

    Raises
    ------
    InputError
        The target already holds tickets or runs, or is the source itself.
    """
    say = progress or (lambda _text: None)
    if _same(source, target):
        raise InputError(f"the store to copy to is the store to copy from ({source.path}); give another one")
    copied: dict[str, int] = {}
    with read(source.conn) as src, write(target.conn) as dst:
        held = {t: dst.tuples(f"SELECT count(*) FROM {t}")[1][0][0] for t in ("tickets", "runs")}
        if any(held.values()):
            raise InputError(f"ticket store {target.path} already holds {held['tickets']:,} tickets and {held['runs']:,} "
                             f"runs; copy into a new, empty store (nothing is merged)")
        for table in TABLES:
            columns = [c for c in src.columns(table) if c in set(dst.columns(table))]
            names = ", ".join(columns)
            _, rows = src.tuples(f"SELECT {names} FROM {table} ORDER BY 1")
            insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})"
            for start in range(0, len(rows), _BATCH):
                dst.executemany(insert, rows[start:start + _BATCH])
            if table in _NUMBERED and dst.dialect == "postgresql" and rows:
                key = _NUMBERED[table]
                dst.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{key}'), (SELECT max({key}) FROM {table}))")
            there = dst.tuples(f"SELECT count(*) FROM {table}")[1][0][0]
            if there != len(rows):
                raise InputError(f"copying {table} to {target.path} gave {there:,} rows for {len(rows):,}; nothing was "
                                 f"copied")
            copied[table] = len(rows)
            say(f"{table}: {len(rows):,} rows")
    return copied


def _same(a, b) -> bool:
    """Whether two open stores are one: the same file, or the same server, database and schema."""
    if a.conn.dialect != b.conn.dialect:
        return False
    if a.conn.dialect == "sqlite":
        return Path(a.path).resolve() == Path(b.path).resolve()
    schema = "SELECT current_schema()"
    return a.path == b.path and a.conn.tuples(schema)[1] == b.conn.tuples(schema)[1]
