"""What a ``--db`` value names: a SQLite file, or a PostgreSQL server (``postgresql://USER@HOST/DATABASE``).

Standard library only, so that ``netdiag check`` (which asks a running ``netdiag serve``
without importing the data stack) can read its ``--db`` cheaply. psycopg is imported only to
read a PostgreSQL address.
"""
from __future__ import annotations

import re

from netdiag.errors import InputError

#: the URL schemes of a PostgreSQL ticket store
SCHEMES = ("postgresql", "postgres")
#: libpq parameters that would put a secret in the address
_SECRETS = ("password", "sslpassword")


def url_scheme(value) -> str | None:
    """The scheme of a server address given where a store file is expected (``postgresql``), or None.

    >>> url_scheme("postgresql://noc@db.example/netdiag"), url_scheme("out/netdiag.db"), url_scheme("C:/x.db")
    ('postgresql', None, None)
    """
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", str(value))
    return match.group(1).lower() if match else None


def is_postgres(value) -> bool:
    """Whether a ``--db`` value names a PostgreSQL server rather than a file."""
    return url_scheme(value) in SCHEMES


def check_address(value) -> None:
    """Refuse a ``--db`` value that is a server address netdiag does not speak (``mysql://...``), or a
    PostgreSQL address it may not use: never taken as a file name, and never repeated (it may hold a password).

    Raises
    ------
    InputError
        Another scheme; a PostgreSQL address holding a password (other accounts read it in
        ``ps``; libpq reads it from ``~/.pgpass`` instead), one that cannot be parsed, or
        psycopg not installed.
    """
    scheme = url_scheme(value)
    if scheme is None:
        return
    if scheme not in SCHEMES:
        raise InputError(f"the ticket store is a {scheme}:// address, but netdiag keeps its tickets in a SQLite file or "
                         f"on a PostgreSQL server: give a file's path or postgresql://USER@HOST/DATABASE")
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError:
        raise InputError("a PostgreSQL ticket store needs psycopg 3 and psycopg-pool: "
                         "pip install 'netdiag[postgresql]'") from None
    secret = [k for k in _SECRETS if params(str(value)).get(k)]
    if secret:
        raise InputError(f"the ticket store's address holds a {secret[0]}, which other accounts on this machine can read "
                         f"in the process list: give postgresql://USER@HOST/DATABASE and put the password in ~/.pgpass "
                         f"(or the file PGPASSFILE names)")


def params(address: str) -> dict:
    """The libpq parameters of a PostgreSQL address (a clear error, not repeating it, when it cannot be read)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        return conninfo_to_dict(address)
    except Exception:  # psycopg's ProgrammingError names the part it could not read, not the address
        raise InputError("the ticket store's address is not a valid PostgreSQL address; expected "
                         "postgresql://USER@HOST[:PORT]/DATABASE") from None


def display(address: str) -> str:
    """A PostgreSQL address as messages and logs show it: ``postgresql://user@host:port/db``, never a password.

    >>> display("postgresql://noc@db.example:5433/netdiag?sslmode=require")
    'postgresql://noc@db.example:5433/netdiag'
    >>> display("postgresql://noc@db.example/netdiag?options=-csearch_path%3Dshift_b,public")
    'postgresql://noc@db.example/netdiag (schema shift_b)'
    """
    p = params(address)
    user = f"{p['user']}@" if p.get("user") else ""
    port = f":{p['port']}" if p.get("port") else ""
    path = re.search(r"-c\s*search_path\s*=\s*([^\s,]+)", p.get("options", ""))
    schema = f" (schema {path.group(1)})" if path else ""
    return f"postgresql://{user}{p.get('host', '')}{port}/{p.get('dbname', '')}{schema}"
