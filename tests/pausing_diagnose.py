"""Diagnose a data folder into a ticket store, pausing inside the store's write transaction.

A driver for ``test_concurrency.py`` (not a test itself): a real process that holds the write
lock for a while, or that a test kills (SIGKILL) after its run is written but before COMMIT.
It does what ``netdiag -q diagnose DATA_DIR --out OUT_DIR --db DB --overwrite`` does, with a
store whose ``before_commit`` callback writes this process's id to MARKER (when given) and
then sleeps SECONDS.

Usage::

    python pausing_diagnose.py DATA_DIR OUT_DIR DB SECONDS [MARKER]
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from netdiag.data.dataset import load_dataset
from netdiag.engine.diagnose import diagnose
from netdiag.settings import Settings
from netdiag.tickets.store import TicketStore
from netdiag.views.writers import OUTPUT_FILES, prepare_out_dir, write_diagnosis


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


def main(data_dir: str, out_dir: str, db: str, seconds: str, marker: str | None = None) -> None:
    settings = Settings()
    out = prepare_out_dir(out_dir, OUTPUT_FILES, overwrite=True)
    ds = load_dataset(data_dir, settings=settings, load_window="complaints")
    with PausingStore(db, settings=settings, seconds=float(seconds), marker=marker) as store:
        result = diagnose(ds, settings=settings, store=store)
    write_diagnosis(result, out)


if __name__ == "__main__":
    main(*sys.argv[1:])
