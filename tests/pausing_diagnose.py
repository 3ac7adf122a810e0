"""Diagnose a data folder into a ticket store, pausing inside the store's write transaction.

A driver for ``test_concurrency.py`` (not a test itself): a real process that holds the write
lock for a while, or that a test kills (SIGKILL) at a chosen point of its run. It does what
``netdiag -q diagnose DATA_DIR --out OUT_DIR --db DB --overwrite`` does, with a store whose
``before_commit`` callback writes this process's id to MARKER (when given) and then sleeps
SECONDS.

Options (after the positional arguments):

``--kill-at N``
    SIGKILL this process just before the N-th SQL statement on the store's connection,
    counting from its opening (the pragmas, a new store's schema, the run's transaction).
``--trace FILE``
    At the end, write as JSON how many statements ran, the numbers of the run's ``BEGIN
    IMMEDIATE`` and ``COMMIT``, and how long the transaction took.
``--begin-marker FILE``
    Write this process's id to FILE when the run's transaction begins.
``--who WHO``
    Recorded in the history (as ``diagnose --who``).

Usage::

    python pausing_diagnose.py DATA_DIR OUT_DIR DB SECONDS [MARKER] [--kill-at N] [--trace FILE]
                               [--begin-marker FILE] [--who WHO]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

from netdiag.data.dataset import load_dataset
from netdiag.pipeline import diagnose
from netdiag.settings import Settings
from netdiag.tickets.store import TicketStore, connection
from netdiag.views.writers import OUTPUT_FILES, prepare_out_dir, write_diagnosis


class Tracer:
    """Counts the statements run on the store's connections; kills this process at one of them."""

    def __init__(self, kill_at: int | None, begin_marker: str | None, begin: str = "BEGIN IMMEDIATE") -> None:
        self.kill_at, self.begin_marker, self.write_begin = kill_at, begin_marker, begin
        self.count, self.begin, self.commit, self.t0, self.seconds = 0, None, None, 0.0, None

    def statement(self, sql: str) -> None:
        self.count += 1
        if self.count == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        text = sql.strip().upper()
        if text == self.write_begin:  # the last one is the run's (a new store's schema is written in an earlier one)
            self.begin, self.commit, self.t0 = self.count, None, time.monotonic()
            if self.begin_marker:
                Path(self.begin_marker).write_text(str(os.getpid()))
        elif text == "COMMIT" and self.begin is not None and self.commit is None:
            self.commit, self.seconds = self.count, time.monotonic() - self.t0


class PausingStore(TicketStore):
    """A ticket store whose runs pause just before COMMIT."""

    def __init__(self, path, *, seconds: float, marker: str | None = None, **kwargs) -> None:
        super().__init__(path, **kwargs)
        self.seconds, self.marker = seconds, marker

    def record(self, *args, **kwargs):
        return super().record(*args, before_commit=self._pause, **kwargs)

    def _pause(self) -> None:
        if self.marker:
            Path(self.marker).write_text(str(os.getpid()))
        time.sleep(self.seconds)


def traced(tracer: Tracer) -> None:
    """Make every store connection of this process report its statements to ``tracer``: SQLite's through
    its trace callback, PostgreSQL's (a write begins with a plain ``BEGIN`` there) through psycopg's cursors."""
    class TracedConnection(connection.StoreConnection):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.set_trace_callback(tracer.statement)

    connection.StoreConnection = TracedConnection  # connect() looks the factory up when it is called
    try:
        import psycopg
    except ImportError:
        return
    execute, executemany = psycopg.Cursor.execute, psycopg.Cursor.executemany

    def traced_execute(self, query, *args, **kwargs):
        tracer.statement(str(query))
        return execute(self, query, *args, **kwargs)

    def traced_executemany(self, query, *args, **kwargs):
        tracer.statement(str(query))
        return executemany(self, query, *args, **kwargs)

    psycopg.Cursor.execute, psycopg.Cursor.executemany = traced_execute, traced_executemany


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    for name in ("data_dir", "out_dir", "db", "seconds"):
        parser.add_argument(name)
    parser.add_argument("marker", nargs="?")
    parser.add_argument("--kill-at", type=int)
    parser.add_argument("--trace")
    parser.add_argument("--begin-marker")
    parser.add_argument("--who")
    args = parser.parse_args(argv)
    tracer = Tracer(args.kill_at, args.begin_marker, "BEGIN" if args.db.startswith("postgresql://") else "BEGIN IMMEDIATE")
    traced(tracer)
    settings = Settings()
    out = prepare_out_dir(args.out_dir, OUTPUT_FILES, overwrite=True)
    ds = load_dataset(args.data_dir, settings=settings, load_window="complaints")
    with PausingStore(args.db, settings=settings, seconds=float(args.seconds), marker=args.marker) as store:
        result = diagnose(ds, settings=settings, store=store, who=args.who)
    write_diagnosis(result, out)
    if args.trace:
        Path(args.trace).write_text(json.dumps({"statements": tracer.count, "begin": tracer.begin, "commit": tracer.commit,
                                                "seconds": tracer.seconds}))


if __name__ == "__main__":
    main(sys.argv[1:])
