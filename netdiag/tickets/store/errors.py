"""What can go wrong with the ticket store's file, as typed errors that name the file and the reason.

Every :class:`sqlite3.Error` that reaches the edge of :mod:`netdiag.tickets.store` is turned
into one of these by :func:`translating` (the CLI shows them as one line, exit code 2):

==============================  ==========================================================
SQLite says                     raised
==============================  ==========================================================
busy, locked                    :class:`~netdiag.errors.StoreBusyError`
read-only                       :class:`StoreReadOnlyError` (why: file, folder, -wal, -shm)
database or disk is full        :class:`StoreFullError`
malformed, not a database       :class:`StoreDamagedError` (a :class:`~netdiag.errors.NotAStoreError`)
cannot open, permission denied  :class:`StoreAccessError`
disk I/O error                  :class:`StoreIOError`
anything else                   :class:`StoreError`
==============================  ==========================================================
"""
from __future__ import annotations

import contextlib
import logging
import sqlite3
from pathlib import Path
from typing import Iterator

from netdiag.errors import (  # noqa: F401
    NetdiagError,
    NotAStoreError,
    StoreAccessError,
    StoreBusyError,
    StoreDamagedError,
    StoreError,
    StoreFullError,
    StoreIOError,
    StoreReadOnlyError,
)

log = logging.getLogger(__package__)


def damaged(path: Path, reason: str, why_read_only: str | None = None) -> StoreDamagedError:
    """The error for a store whose pages SQLite cannot read, with what to do about it.

    A store read without write access may be read without locks (:func:`.files.read_mode`):
    a write by its owner at that moment looks the same, so the message says to try again first.
    """
    again = (f"; it was read without write access ({why_read_only}), so its owner writing at that moment looks the "
             f"same: try again first" if why_read_only else "")
    return StoreDamagedError(f"ticket store {path} is damaged ({reason}); check it with: sqlite3 {path} "
                             f"\"PRAGMA integrity_check\", and restore it from a backup{again}")


def read_only(path: Path, why: str) -> StoreReadOnlyError:
    """The error for a write to a store this process may only read."""
    return StoreReadOnlyError(f"ticket store {path} is read-only here: {why}; reading works, writing needs write "
                              f"access to the file, its folder and its -wal and -shm files")


def store_error(exc: sqlite3.Error, path: Path, why_read_only: str | None = None,
                busy_timeout_s: float | None = None) -> NetdiagError:
    """The typed error for an SQLite error on the store ``path`` (see the table above).

    Parameters
    ----------
    exc : sqlite3.Error
    path : Path
        The store's file, as given.
    why_read_only : str, optional
        Why this process opened the store read-only, if it did; else worked out from the file.
    busy_timeout_s : float, optional
        How long the connection waited for another writer (for the message).
    """
    from netdiag.tickets.store import files  # files raises these errors

    name = getattr(exc, "sqlite_errorname", "") or ""
    reason = str(exc)
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in reason:
        waited = f" for {busy_timeout_s:g} s" if busy_timeout_s is not None else ""
        return StoreBusyError(f"ticket store {path} stayed busy{waited} (another netdiag is writing); try again or "
                              f"raise store_busy_timeout_s")
    if name.startswith("SQLITE_READONLY"):
        return read_only(path, why_read_only or files.read_only_reason(path) or reason)
    if name == "SQLITE_FULL":
        return StoreFullError(f"ticket store {path}: the disk is full ({reason}); the transaction was rolled back, so the "
                              f"store is as it was before; free some space on its disk and run again")
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in reason:
        return damaged(path, reason, why_read_only)
    if name.startswith(("SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")):
        why = files.read_only_reason(path)
        return StoreAccessError(f"ticket store {path} cannot be opened ({reason})" + (f": {why}" if why else ""))
    if name.startswith("SQLITE_IOERR"):
        return StoreIOError(f"ticket store {path}: disk I/O error ({name.removeprefix('SQLITE_').lower()}); the store "
                            f"keeps its last committed state; check the disk and run again")
    return StoreError(f"ticket store {path}: {reason}")


@contextlib.contextmanager
def translating(path: Path, why_read_only: str | None = None, busy_timeout_s: float | None = None) -> Iterator[None]:
    """Turn an :class:`sqlite3.Error` raised inside into the typed error of :func:`store_error`."""
    try:
        yield
    except sqlite3.Error as exc:
        log.debug("ticket store %s: %s", path, exc, exc_info=True)
        raise store_error(exc, path, why_read_only, busy_timeout_s) from None
