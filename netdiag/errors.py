"""Exceptions raised by the engine. The CLI turns them into one-line errors (exit code 2).

Messages name the Python parameter in backticks (```at``` was ...); the CLI shows the
command's own flag in its place (``--at was ...``), so the same error reads right from a
notebook and from a terminal.
"""


class NetdiagError(Exception):
    """Base class of every error netdiag raises on purpose."""


class InputError(NetdiagError, ValueError):
    """A file, table, column or parameter cannot be used as given; the message says what came and what was expected."""


class OutputExistsError(InputError, FileExistsError):
    """An output file is already there and ``overwrite`` was not asked for."""


class OutsideNetworkError(InputError):
    """A position lies outside the network's area (too far from every site)."""


class TicketNotFoundError(InputError, LookupError):
    """The ticket store has no ticket with that id."""


class StaleRevisionError(InputError):
    """A ticket changed since the caller read it (its revision moved on)."""


class TransitionError(InputError):
    """A status change the ticket life cycle does not allow; the message says why and what is allowed."""


class NotAStoreError(InputError):
    """A file given as the ticket store is not a netdiag ticket store (or is damaged)."""


class StoreBusyError(NetdiagError):
    """The ticket store stayed locked by another writer for longer than ``store_busy_timeout_s``."""


class StoreError(NetdiagError):
    """The ticket store's file could not be read or written; the message names the file and the reason."""


class StoreReadOnlyError(StoreError):
    """A write to a ticket store this process may only read (the file, its folder, or its -wal / -shm)."""


class StoreFullError(StoreError):
    """The disk (or SQLite's page limit) filled up during a write; the transaction was rolled back."""


class StoreIOError(StoreError):
    """The operating system failed to read or write the ticket store's files."""


class StoreAccessError(StoreError):
    """The ticket store's file (or its folder) cannot be opened: missing permission, not a regular file."""


class StoreDamagedError(NotAStoreError, StoreError):
    """The file has a ticket store's header but its pages are damaged (``PRAGMA integrity_check`` fails)."""


class UnsafeRuntimeError(InputError):
    """The runtime folder of ``netdiag serve``, or a socket in it, is not this user's alone, or a server or client runs as another user."""
