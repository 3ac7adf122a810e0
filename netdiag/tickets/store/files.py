"""What a file given as the ticket store is, found out before SQLite opens it for writing.

:func:`examine` reads the first 100 bytes (the SQLite header: the magic ``SQLite format 3``,
``user_version`` at offset 60 and ``application_id`` at offset 68) and refuses anything that
is not a netdiag ticket store, an empty file or a new name, leaving it byte for byte as it was
(no journal mode set, no -wal or -shm file created). :func:`read_only_reason` says why this
process could not write the store (the file, its folder, or a -wal / -shm of another user),
and :func:`read_mode` how to read it then without creating files that would lock its owner out.
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

from netdiag.errors import NotAStoreError
from netdiag.tickets.address import check_address, url_scheme  # noqa: F401 (what a --db value is)
from netdiag.tickets.store.errors import StoreAccessError, damaged

MAGIC = b"SQLite format 3\x00"
APPLICATION_ID = 0x4E444754  # "NDGT": a netdiag ticket store
HEADER_SIZE = 100

#: what :func:`examine` found: no file; a 0-byte file; an SQLite database with no tables and
#: no application_id; a netdiag ticket store
MISSING, EMPTY, BLANK, STORE = "missing", "empty", "blank", "store"

_GIVE = "give a netdiag ticket store or the name of a new file"


def examine(path: Path) -> str:
    """What ``path`` is: :data:`MISSING`, :data:`EMPTY`, :data:`BLANK` or :data:`STORE`; writes nothing.

    Raises
    ------
    netdiag.errors.NotAStoreError
        A folder, a file that is not an SQLite database, another application's database
        (an application_id that is not netdiag's, or tables without one), or a damaged header.
    StoreAccessError
        Not a regular file (a device, a pipe), a symbolic link to nothing, or not readable by this process.
    """
    if not path.exists():
        if path.is_symlink():  # creating the file it points to would surprise (or serve whoever planted the link)
            raise StoreAccessError(f"ticket store {path} is a symbolic link to {os.readlink(path)}, which does not exist; "
                                   f"give the real file's path")
        return MISSING
    if path.is_dir():
        raise NotAStoreError(f"ticket store {path} is a folder; expected a database file such as netdiag.db")
    if not path.is_file():
        raise StoreAccessError(f"ticket store {path} is not a regular file (a device or a pipe?); {_GIVE}")
    try:
        with open(path, "rb") as f:
            head = f.read(HEADER_SIZE)
    except OSError as exc:
        raise StoreAccessError(f"ticket store {path} cannot be read ({exc.strerror}){_owner(path)}") from None
    if not head:
        return EMPTY
    if not head.startswith(MAGIC) or len(head) < HEADER_SIZE:
        raise NotAStoreError(f"ticket store {path} is not an SQLite database (it does not begin with an SQLite "
                             f"header); {_GIVE}")
    app = int.from_bytes(head[68:72], "big")
    if app == APPLICATION_ID:
        return STORE
    if app != 0:
        raise _foreign(path, f"application_id {app:#x}")
    # no application_id in the file itself: look inside, read-only (it may sit in a -wal not yet checkpointed)
    app, version, tables = _peek(path)
    if app == APPLICATION_ID:
        return STORE
    if app != 0:
        raise _foreign(path, f"application_id {app:#x}")
    if tables:
        raise _foreign(path, f"tables {', '.join(tables[:5])}")
    if version != 0:
        raise _foreign(path, f"user_version {version} and no application_id")
    return BLANK


def _foreign(path: Path, what: str) -> NotAStoreError:
    return NotAStoreError(f"{path} is an SQLite database of another application ({what}); {_GIVE}")


def _peek(path: Path) -> tuple[int, int, list[str]]:
    """(application_id, user_version, table names) of an SQLite file, read without writing it or creating files."""
    con = sqlite3.connect(uri(path, read_mode(path) or "immutable"), uri=True)
    try:
        app = int(con.execute("PRAGMA application_id").fetchone()[0])
        version = int(con.execute("PRAGMA user_version").fetchone()[0])
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "AND name NOT LIKE 'sqlite_%' ORDER BY rowid")]
    except sqlite3.DatabaseError as exc:
        raise damaged(path, str(exc)) from None
    finally:
        con.close()
    return app, version, tables


def siblings(path: Path) -> tuple[Path, Path]:
    """The -wal and -shm files SQLite keeps beside the store (beside the real file when ``path`` is a symlink)."""
    real = path.resolve()
    return real.with_name(real.name + "-wal"), real.with_name(real.name + "-shm")


def uri(path: Path, mode: str) -> str:
    """An SQLite URI for ``path``: ``mode`` is rwc, rw, ro or immutable (read-only, no locks, no files created)."""
    query = "mode=ro&immutable=1" if mode == "immutable" else f"mode={mode}"
    return f"file:{quote(str(path.absolute()), safe='/')}?{query}"


def not_creatable_reason(path: Path) -> str | None:
    """Why this process cannot create the store ``path`` (its folder, or the nearest one that exists), or None."""
    folder = path.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if os.access(folder, os.W_OK | os.X_OK):
        return None
    return f"its folder {folder} is not writable by this user{_owner(folder)}"


def read_only_reason(path: Path) -> str | None:
    """Why this process cannot write the existing store ``path``, or None when it can.

    The file must be writable, its -wal and -shm too when they exist, and its folder when
    they do not (SQLite creates them there).
    """
    real = path.resolve()
    if not real.exists():
        return None
    if not os.access(real, os.W_OK):
        return f"this user cannot write {path}{_owner(real)}"
    wal, shm = siblings(path)
    missing = [f.name for f in (wal, shm) if not f.exists()]
    if missing and not os.access(real.parent, os.W_OK | os.X_OK):
        return f"its folder {real.parent} is not writable, and SQLite must create {' and '.join(missing)} there"
    for f in (wal, shm):
        if f.exists() and not os.access(f, os.W_OK):
            return f"{f} is not writable by this user{_owner(f)}; it was left by another user's process"
    return None


def read_mode(path: Path) -> str | None:
    """How to read ``path`` without writing it or creating files; None when that cannot be done.

    ``ro`` (shared locks through the existing -wal and -shm) when both exist; ``immutable``
    when there is no -wal with writes in it (SQLite then reads the file alone); None when a
    -wal holds writes but there is no -shm (SQLite would have to create one, owned by this
    user, which would keep the store's owner from writing it). An ``immutable`` read takes no
    lock: it assumes nobody writes meanwhile, which holds while no -wal exists (a writer
    creates one first); a writer starting during a long read may make it fail, never the store.
    """
    wal, shm = siblings(path)
    if wal.exists() and shm.exists():
        return "ro"
    if not wal.exists() or wal.stat().st_size == 0:
        return "immutable"
    return None


def _owner(path: Path) -> str:
    try:
        st = path.stat()
    except OSError:
        return ""
    try:
        import pwd

        who = pwd.getpwuid(st.st_uid).pw_name
    except (ImportError, KeyError):
        who = f"uid {st.st_uid}"
    return f" (owner {who}, mode {st.st_mode & 0o777:o})"
