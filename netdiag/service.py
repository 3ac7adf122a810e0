"""``netdiag serve``: keep a network read and answer ``netdiag check`` in a fraction of a second.

A complaint handler's ``netdiag check`` has to read the tables, build the footprints and
import the data stack (pandas, geopandas, pyproj, networkx) before it can answer: seconds.
``netdiag serve --data DIR`` does that once and listens on a Unix socket that only its user
can open; ``netdiag check --data DIR ...`` finds it (by the data folder and the settings) and
asks it instead, importing nothing heavy, so an answer takes a few hundred milliseconds.
The server re-reads the data when a file of the folder changes, and the ticket store when it
changes. Without a server, ``check`` works on its own as before.

Protocol: one JSON object per line each way: the query ``{"lat", "lon", "coord_system",
"at", "indoor", "db"}``, the answer ``{"ok": true, "result": {...}}`` or ``{"ok": false,
"error": "..."}``. This module imports only the standard library at the top; the server side
imports the engine when it starts.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import tempfile
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

RUNTIME_ENV = "NETDIAG_RUNTIME_DIR"  # where sockets live (default: the system's temporary folder)


def socket_path(data_dir: str | Path, settings_dict: dict) -> Path:
    """The socket of the server for ``data_dir`` with these settings (same for server and client)."""
    key = json.dumps({"data": str(Path(data_dir).resolve()), "settings": settings_dict}, sort_keys=True, default=str)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    folder = Path(os.environ.get(RUNTIME_ENV) or tempfile.gettempdir())
    return folder / f"netdiag-{os.getuid()}-{digest}.sock"


def ask(path: Path, query: dict, *, timeout: float = 30.0) -> dict | None:
    """Send one query to a running server; None when no server answers there."""
    if not path.exists():
        return None
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(str(path))
            conn.sendall(json.dumps(query).encode() + b"\n")
            reply = b""
            while not reply.endswith(b"\n"):
                chunk = conn.recv(1 << 16)
                if not chunk:
                    break
                reply += chunk
    except OSError:  # a stale socket file, or a server that went away
        return None
    return json.loads(reply) if reply.strip() else None


def _stop(_signum, _frame) -> None:
    raise KeyboardInterrupt


def threading_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _signature(folder: Path) -> tuple:
    """What changes when a data file is replaced or edited."""
    return tuple(sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir() if p.is_file()))


class _State:
    """The prepared network of a data folder, re-read when the folder changes."""

    def __init__(self, data_dir: Path, settings) -> None:
        self.data_dir, self.settings = data_dir, settings
        self.signature = None
        self.net = None
        self.tickets: dict[str, tuple] = {}

    def network(self):
        signature = _signature(self.data_dir)
        if signature != self.signature:
            from netdiag.data.dataset import load_dataset
            from netdiag.engine.network import prepare

            ds = load_dataset(self.data_dir, settings=self.settings,
                              tables=("transport", "sites", "cells", "repeaters", "events", "load"))
            self.net, self.signature = prepare(ds, settings=self.settings), signature
            log.info("network of %s read", self.data_dir)
        return self.net

    def open_tickets(self, db: str | None):
        if not db:
            return None
        from netdiag.tickets.store import TicketStore

        files = [Path(db), Path(db + "-wal")]
        stamp = tuple(f.stat().st_mtime_ns if f.exists() else 0 for f in files)
        cached = self.tickets.get(db)
        if cached is None or cached[0] != stamp:
            with TicketStore(db, settings=self.settings, create=False) as store:
                cached = (stamp, store.tickets(status=["open"]))
            self.tickets[db] = cached
        return cached[1]


def answer(state: _State, query: dict) -> dict:
    """One query -> the JSON-ready reply (errors as ``{"ok": false, "error": ...}``)."""
    from netdiag.data.times import parse_at
    from netdiag.engine.check import check_point
    from netdiag.errors import NetdiagError

    try:
        net = state.network()
        result = check_point(net, float(query["lat"]), float(query["lon"]), coord_system=query.get("coord_system", "wgs84"),
                             at=parse_at(query.get("at"), state.settings.tz), indoor=bool(query.get("indoor")),
                             tickets=state.open_tickets(query.get("db")))
        return {"ok": True, "result": json.loads(json.dumps(result, default=str))}
    except NetdiagError as exc:
        return {"ok": False, "error": str(exc)}
    except (KeyError, TypeError, ValueError) as exc:
        return {"ok": False, "error": f"bad query: {exc}"}


def serve(data_dir: str | Path, settings, *, on_ready: Callable[[Path], None] | None = None,
          path: Path | None = None) -> None:
    """Read the network of ``data_dir`` and answer queries on its socket until interrupted.

    Raises
    ------
    InputError
        When the data cannot be read, or another server already answers for this folder.
    """
    import socketserver

    from netdiag.errors import InputError

    data_dir = Path(data_dir)
    path = path or socket_path(data_dir, settings.as_dict())
    if ask(path, {"ping": True}, timeout=2) is not None:
        raise InputError(f"a netdiag server already answers for {data_dir} ({path})")
    state = _State(data_dir, settings)
    state.network()  # read once before listening: a bad data folder fails here, clearly
    if path.exists():
        path.unlink()  # a stale socket of a server that died

    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            line = self.rfile.readline()
            try:
                query = json.loads(line)
            except ValueError:
                reply = {"ok": False, "error": "the query is not JSON"}
            else:
                reply = {"ok": True, "pong": True} if query.get("ping") else answer(state, query)
            self.wfile.write(json.dumps(reply, ensure_ascii=False).encode() + b"\n")

    old_umask = os.umask(0o177)  # the socket: this user only
    try:
        server = socketserver.UnixStreamServer(str(path), Handler)
    finally:
        os.umask(old_umask)
    import signal

    if threading_main():
        signal.signal(signal.SIGTERM, _stop)  # `kill` cleans up like Ctrl-C
    try:
        if on_ready:
            on_ready(path)
        server.serve_forever()
    except KeyboardInterrupt:
        log.info("netdiag serve stopped")
    finally:
        server.server_close()
        path.unlink(missing_ok=True)
