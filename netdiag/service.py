"""``netdiag serve``: keep a network read and answer ``netdiag check`` in a fraction of a second.

A complaint handler's ``netdiag check`` has to read the tables, build the footprints and
import the data stack (pandas, geopandas, pyproj, networkx) before it can answer: seconds.
``netdiag serve --data DIR`` does that once and listens on a Unix socket; ``netdiag check
--data DIR ...`` finds it (by the data folder and the settings) and asks it instead,
importing nothing heavy, so an answer takes a few hundred milliseconds. The server re-reads
the data when a file of the folder changes, and the ticket store when it changes. Without a
server, ``check`` works on its own as before.

Only the user who started the server can talk to it, and ``check`` talks only to a server of
its own user:

- the socket lives in a per-user runtime folder (:func:`runtime_dir`) that must be a real
  folder (not a symbolic link), owned by this user and closed to everyone else (mode 700);
  netdiag creates it so and refuses one that is not (:class:`~netdiag.errors.UnsafeRuntimeError`);
- a socket file that is not this user's is neither connected to nor removed;
- both ends check the other's user id with ``SO_PEERCRED`` once connected: the server
  answers no other user, and ``check`` sends its query to no other user's server.

The server answers each client in a thread of its own (at most :data:`MAX_CLIENTS`; a
client that waits longer than :data:`BUSY_WAIT_S` for one is told the server is busy, and
``check`` then reads the data itself), reads at most :data:`MAX_REQUEST_BYTES` of a query
for at most ``read_timeout`` seconds, and answers every malformed query with an error. Protocol: one JSON object per line each way: the query
``{"lat", "lon", "coord_system", "at", "indoor", "db"}``, the answer ``{"ok": true,
"result": {...}}`` or ``{"ok": false, "error": "..."}``. This module imports only the
standard library at the top; the server side imports the engine when it starts.
"""
from __future__ import annotations

import concurrent.futures
import errno
import hashlib
import json
import logging
import math
import os
import socket
import stat
import struct
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

from netdiag.errors import InputError, NetdiagError, UnsafeRuntimeError

log = logging.getLogger(__name__)

RUNTIME_ENV = "NETDIAG_RUNTIME_DIR"  # where sockets live (overrides the per-user default, same checks)
MAX_REQUEST_BYTES = 64 * 1024  # a query is about 200 bytes
MAX_REPLY_BYTES = 16 * 1024 * 1024
READ_TIMEOUT_S = 5.0  # a client has this long to send its whole query
MAX_CLIENTS = 64  # clients answered at once; more wait for a free thread
BUSY_WAIT_S = 10.0  # and are told the server is busy after this long
STORE_WAIT_S = 10.0  # a query naming a ticket store that does not answer in this long gets an error


def runtime_dir() -> Path:
    """The folder of this user's sockets (checked and created by the server, checked by the client).

    ``$NETDIAG_RUNTIME_DIR`` when set; else ``$XDG_RUNTIME_DIR/netdiag`` when that folder is
    this user's; else ``netdiag-<uid>`` in the temporary folder (``/tmp/netdiag-1000``).
    """
    override = os.environ.get(RUNTIME_ENV)
    if override:
        return Path(override)
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg and os.path.isabs(xdg):
        try:
            st = os.lstat(xdg)
        except OSError:
            st = None
        if st is not None and stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid():
            return Path(xdg) / "netdiag"
    return Path(tempfile.gettempdir()) / f"netdiag-{os.getuid()}"


def socket_path(data_dir: str | Path, settings_dict: dict) -> Path:
    """The socket of the server for ``data_dir`` with these settings (same for server and client)."""
    key = json.dumps({"data": str(Path(data_dir).resolve()), "settings": settings_dict}, sort_keys=True, default=str)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return runtime_dir() / f"{digest}.sock"


def _refuse_unless_private(folder: Path, st: os.stat_result) -> None:
    fix = (f"set {RUNTIME_ENV} to a folder only you can open (mode 700)" if os.environ.get(RUNTIME_ENV) else
           f"have it removed (netdiag serve makes it again, mode 700) or set {RUNTIME_ENV} to a folder only you can open")
    if stat.S_ISLNK(st.st_mode):
        raise UnsafeRuntimeError(f"the runtime folder {folder} is a symbolic link; {fix}")
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafeRuntimeError(f"the runtime folder {folder} is not a folder; {fix}")
    if st.st_uid != os.getuid():
        raise UnsafeRuntimeError(f"the runtime folder {folder} belongs to user {st.st_uid}, not to you ({os.getuid()}); {fix}")
    if st.st_mode & 0o077:
        raise UnsafeRuntimeError(f"the runtime folder {folder} is open to other users (mode {stat.S_IMODE(st.st_mode):o}); {fix}")


def _open_private_dir(folder: Path, *, create: bool) -> int | None:
    """A descriptor of ``folder`` once it is shown to be this user's alone; None when it is missing (and not ``create``).

    Checked with lstat (a symbolic link is refused, never followed), then opened without
    following links and compared with what was checked, so it cannot be swapped in between.
    """
    if create:
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            pass  # checked below, whatever it is
        except OSError as exc:
            raise UnsafeRuntimeError(f"cannot create the runtime folder {folder}: {exc.strerror}") from None
    try:
        st = os.lstat(folder)
    except FileNotFoundError:
        return None
    _refuse_unless_private(folder, st)
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise UnsafeRuntimeError(f"the runtime folder {folder} changed while it was checked ({exc.strerror})") from None
    opened = os.fstat(fd)
    if (opened.st_dev, opened.st_ino) != (st.st_dev, st.st_ino):
        os.close(fd)
        raise UnsafeRuntimeError(f"the runtime folder {folder} changed while it was checked")
    return fd


def _own_socket(dir_fd: int, path: Path) -> os.stat_result | None:
    """The socket file ``path`` (in the folder of ``dir_fd``) if it is this user's; None when there is none."""
    try:
        st = os.lstat(path.name, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    if not stat.S_ISSOCK(st.st_mode):
        raise UnsafeRuntimeError(f"{path} is not a socket; remove it")
    if st.st_uid != os.getuid():
        raise UnsafeRuntimeError(f"the socket {path} belongs to user {st.st_uid}, not to you ({os.getuid()}); "
                                 f"not using it (remove it)")
    return st


def _peer_uid(conn: socket.socket) -> int | None:
    """The user id of the process at the other end of a Unix socket (None where the system cannot tell)."""
    if not hasattr(socket, "SO_PEERCRED"):
        return None
    fmt = "iII"  # struct ucred: pid, uid, gid
    _pid, uid, _gid = struct.unpack(fmt, conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize(fmt)))
    return uid


def _peer_is_me(conn: socket.socket) -> tuple[bool, str]:
    """Whether the other end runs as this user, and if not, why (for the message)."""
    uid = _peer_uid(conn)
    if uid is None:
        return False, "this system cannot tell which user is at the other end (no SO_PEERCRED)"
    return uid == os.getuid(), f"it runs as user {uid}, not as you ({os.getuid()})"


class _TooLong(ValueError):
    pass


def _read_line(conn: socket.socket, *, limit: int, timeout: float) -> bytes:
    """One line (without its newline, or what came before the end) of at most ``limit`` bytes within ``timeout`` s.

    Raises ``_TooLong`` past ``limit``, ``TimeoutError`` past the time. What follows the line is dropped.
    """
    deadline = time.monotonic() + timeout
    buf = bytearray()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        conn.settimeout(remaining)
        chunk = conn.recv(1 << 16)
        end = chunk.find(b"\n")
        buf += chunk if end < 0 else chunk[:end]
        if len(buf) > limit:
            raise _TooLong(f"longer than {limit} bytes")
        if end >= 0 or not chunk:
            return bytes(buf)


def _send(conn: socket.socket, reply: dict, *, timeout: float) -> None:
    conn.settimeout(timeout)
    conn.sendall(json.dumps(reply, ensure_ascii=False).encode() + b"\n")


def _connect(conn: socket.socket, path: Path, *, patience: float) -> bool:
    """Connect; False when nobody listens there (a stale socket, a server gone) or its queue stays full for ``patience`` s."""
    deadline = time.monotonic() + patience
    while True:
        try:
            conn.connect(str(path))
            return True
        except BlockingIOError:  # the server's queue of waiting clients is full: a moment
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        except OSError:
            return False


def ask(path: Path, query: dict, *, timeout: float = 30.0) -> dict | None:
    """Send one query to this user's server at ``path``; None when no server answers there (or it is busy).

    Raises
    ------
    UnsafeRuntimeError
        The runtime folder or the socket is not this user's alone, or the server runs as
        another user: the query was not sent (ask the data yourself, and say why).
    """
    dir_fd = _open_private_dir(path.parent, create=False)
    if dir_fd is None:
        return None
    try:
        if _own_socket(dir_fd, path) is None:
            return None
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            if not _connect(conn, path, patience=min(timeout, 2.0)):
                return None
            mine, why = _peer_is_me(conn)
            if not mine:
                raise UnsafeRuntimeError(f"the server on {path} is not yours: {why}")
            try:
                conn.sendall(json.dumps(query).encode() + b"\n")
                reply = _read_line(conn, limit=MAX_REPLY_BYTES, timeout=timeout)
            except (OSError, _TooLong):  # a server that went away or misbehaves: no answer
                return None
    finally:
        os.close(dir_fd)
    try:
        reply = json.loads(reply) if reply.strip() else None
    except ValueError:
        return None
    if not isinstance(reply, dict) or reply.get("busy"):
        return None  # no answer (a busy server): the caller reads the data itself
    return reply


def _stop(_signum, _frame) -> None:
    raise KeyboardInterrupt


def _threading_main() -> bool:
    return threading.current_thread() is threading.main_thread()


def _signature(folder: Path) -> tuple:
    """What changes when a data file is replaced or edited."""
    return tuple(sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir() if p.is_file()))


class _State:
    """The prepared network of a data folder, re-read when the folder changes.

    Shared by the handler threads: the network is only read by queries; re-reading it happens
    under ``lock`` and the lazy indexes are built before use; the ticket stores are read under a
    lock of their own (:meth:`open_tickets`).
    """

    def __init__(self, data_dir: Path, settings, *, given: set | None = None, decide_zone: bool = False) -> None:
        from netdiag.data.manifest import is_workspace

        self.data_dir, self.settings = data_dir, settings
        self.given_settings, self.given, self.decide_zone = settings, given, decide_zone
        self.zone_note = ""
        self._zone()
        self.workspace = is_workspace(data_dir)
        self.signature = None
        self.net = None
        self.tickets: dict[str, tuple] = {}
        self.lock = threading.Lock()
        self.tickets_lock = threading.Lock()  # the ticket stores' cache: never held while the network is read
        self._store_reads = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="netdiag-store")

    def _zone(self) -> None:
        """Decide the display zone for the data as it is now (a ``netdiag.toml`` added or changed,
        other offsets), as a command run now would: served and unserved checks agree."""
        if self.decide_zone:
            from netdiag.data.display import decide_zone

            self.settings, self.zone_note = decide_zone(self.given_settings, self.data_dir, given=self.given)

    def refresh(self) -> None:
        """Read the data again when it changed (and decide its zone again); else nothing."""
        self.network(near=None)

    def network(self, *, near: tuple | None = None, at=None):
        """The network to answer a query: of a workspace, only what may serve the spot, read per
        query (as quick at 50,000 sites as at 300); of a data folder, the whole one, kept."""
        if self.workspace:
            from netdiag.data.workspace import MANIFEST, WorkspaceReader
            from netdiag.engine.check import load_network

            with self.lock:  # a `netdiag prepare` that added data rewrote the manifest: read again
                stamp = (self.data_dir / MANIFEST).stat().st_mtime_ns
                if stamp != self.signature:
                    if self.signature is not None:
                        self._zone()
                    self.reader, self.signature = WorkspaceReader(self.data_dir, keep=True), stamp
                    for name in ("sites", "cells", "repeaters", "transport", "events"):
                        self.reader.table(name)
                    self.reader.footprints()
                    log.info("workspace %s read", self.data_dir)
                reader = self.reader
            return None if near is None else load_network(self.data_dir, self.settings, at=at, near=near, reader=reader)
        with self.lock:
            signature = _signature(self.data_dir)
            if signature != self.signature:
                from netdiag.engine.check import load_network

                if self.signature is not None:
                    self._zone()  # the files changed: their zone may have too
                net = load_network(self.data_dir, self.settings)  # every counter: queries may ask any time
                # build the indexes kept on first use now, so that concurrent queries only read them
                net.footprint_attributes, net.footprints.sindex, net.nearest_site([0.0], [0.0])
                self.net, self.signature = net, signature
                log.info("network of %s read", self.data_dir)
            return self.net

    def open_tickets(self, db: str | None):
        """The open tickets of the store ``db``, read again only when the store changed (:meth:`TicketStore.stamp`).

        Under a lock of their own, so that a slow or stalled store holds up only the queries that
        name it, never those that do not (nor the network's reading); a store that does not answer
        within :data:`STORE_WAIT_S` is an error for this query, and the read goes on in its thread.
        """
        if not db:
            return None
        future = self._store_reads.submit(self._read_open_tickets, db)
        try:
            return future.result(timeout=STORE_WAIT_S)
        except concurrent.futures.TimeoutError:
            raise InputError(f"the ticket store did not answer within {STORE_WAIT_S:g} s; try again, or check "
                             f"without --db") from None

    def _read_open_tickets(self, db: str):
        from netdiag.tickets.store import TicketStore

        with self.tickets_lock, TicketStore(db, settings=self.settings, create=False) as store:
            stamp = store.stamp()
            cached = self.tickets.get(db)
            if cached is None or cached[0] != stamp:
                cached = (stamp, store.tickets(status=["open"]))
                self.tickets[db] = cached
            return cached[1]


_QUERY_TYPES = {"coord_system": (str,), "at": (str,), "indoor": (bool,), "db": (str,)}


def _parse_request(line: bytes) -> dict:
    """A query line -> the query, checked: an object with finite numbers ``lat`` and ``lon``.

    >>> _parse_request(b'{"lat": 53.3, "lon": -6.4}')
    {'lat': 53.3, 'lon': -6.4}
    >>> _parse_request(b'[]')
    Traceback (most recent call last):
    ...
    netdiag.errors.InputError: the query is a JSON list but is expected to be a JSON object

    Raises
    ------
    InputError
        Not JSON, not an object, a field missing or of the wrong type, a position not finite.
    """
    try:
        query = json.loads(line)
    except (ValueError, RecursionError):
        raise InputError("the query is not JSON (one object per line)") from None
    if not isinstance(query, dict):
        kind = {list: "list", str: "string", type(None): "null", bool: "boolean"}.get(type(query), "number")
        raise InputError(f"the query is a JSON {kind} but is expected to be a JSON object")
    if query.get("ping") is True:
        return query
    for name in ("lat", "lon"):
        if name not in query:
            raise InputError(f"the query has no `{name}`")
        value = query[name]
        try:
            finite = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
        except OverflowError:
            finite = False
        if not finite:
            raise InputError(f"`{name}` was {str(value)[:40]!r} but is expected to be a finite number")
    for name, types in _QUERY_TYPES.items():
        if query.get(name) is not None and not isinstance(query[name], types):
            raise InputError(f"`{name}` was {str(query[name])[:40]!r} but is expected to be a {types[0].__name__}")
    return query


def answer(state: _State, query: dict) -> dict:
    """One checked query -> the JSON-ready reply (errors as ``{"ok": false, "error": ...}``)."""
    from netdiag.data.display import display_zone
    from netdiag.data.times import parse_at
    from netdiag.engine.check import check_point

    try:
        state.refresh()  # the data (and so its zone) as it is now, before reading a time in that zone
        settings, zone_note = state.settings, state.zone_note
        at = parse_at(query.get("at"), display_zone(settings))
        system = query.get("coord_system") or "wgs84"
        net = state.network(near=(float(query["lat"]), float(query["lon"]), system), at=at)
        result = check_point(net, float(query["lat"]), float(query["lon"]), coord_system=system, at=at,
                             indoor=bool(query.get("indoor")), tickets=state.open_tickets(query.get("db")),
                             zone_note=zone_note)
        return {"ok": True, "result": json.loads(json.dumps(result, default=str))}
    except NetdiagError as exc:
        return {"ok": False, "error": str(exc)}


def _respond(state: _State, line: bytes) -> dict:
    """The reply to one query line, whatever came."""
    try:
        query = _parse_request(line)
    except InputError as exc:
        return {"ok": False, "error": str(exc)}
    if query.get("ping") is True:
        return {"ok": True, "pong": True}
    try:
        return answer(state, query)
    except Exception as exc:  # noqa: BLE001 - a query must not stop the server; the log says what failed
        log.exception("netdiag serve: a query failed")
        return {"ok": False, "error": f"the server could not answer: {type(exc).__name__}: {exc}"}


def _handler(state: _State, read_timeout: float):
    import socketserver

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            conn = self.request
            try:
                mine, why = _peer_is_me(conn)
                if not mine:
                    log.warning("netdiag serve: refused a client: %s", why)
                    reply = {"ok": False, "error": f"refused: this server answers only its own user; {why}"}
                else:
                    try:
                        reply = _respond(state, _read_line(conn, limit=MAX_REQUEST_BYTES, timeout=read_timeout))
                    except _TooLong:
                        reply = {"ok": False, "error": f"the query is longer than {MAX_REQUEST_BYTES} bytes"}
                    except TimeoutError:
                        reply = {"ok": False, "error": f"no complete query line within {read_timeout:g} s"}
                _send(conn, reply, timeout=read_timeout)
            except OSError as exc:  # the client went away (broken pipe, reset) or does not read its reply
                log.info("netdiag serve: a client went away: %s", exc)

    return Handler


def _server_class():
    import socketserver

    class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
        """One thread per client, at most MAX_CLIENTS at once."""

        daemon_threads = True
        block_on_close = False
        request_queue_size = MAX_CLIENTS

        def __init__(self, path: Path, handler) -> None:
            self.slots = threading.BoundedSemaphore(MAX_CLIENTS)
            super().__init__(str(path), handler)

        def process_request(self, request, client_address):
            # more clients than threads wait here (a query takes well under a second; a slow client READ_TIMEOUT_S)
            if not self.slots.acquire(timeout=BUSY_WAIT_S):
                try:  # never wait for this client: this is the thread that accepts
                    request.setblocking(False)
                    request.send(b'{"ok": false, "busy": true, "error": "the server is busy; try again"}\n')
                except OSError:
                    pass
                self.shutdown_request(request)
                return
            try:
                super().process_request(request, client_address)
            except Exception:  # no thread to give the slot back (a KeyboardInterrupt may come after it started)
                self.slots.release()
                raise

        def process_request_thread(self, request, client_address):
            try:
                super().process_request_thread(request, client_address)
            finally:
                self.slots.release()

        def handle_error(self, request, client_address):
            log.exception("netdiag serve: a client's request failed")

    return Server


def _clear_stale(dir_fd: int, path: Path, data_dir: Path) -> None:
    """Refuse when a server listens on ``path``; remove the socket when it is this user's and nobody listens."""
    if _own_socket(dir_fd, path) is None:
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(2)
        try:
            probe.connect(str(path))
        except ConnectionRefusedError:  # a stale socket of a server that died (checked: this user's socket)
            os.unlink(path.name, dir_fd=dir_fd)
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            raise InputError(f"a netdiag server seems to listen on {path} but does not answer ({exc.strerror or exc}); "
                             f"stop it, or remove the socket once it has stopped") from None
        mine, why = _peer_is_me(probe)
    if not mine:
        raise UnsafeRuntimeError(f"the server on {path} is not yours: {why}")
    raise InputError(f"a netdiag server already answers for {data_dir} ({path})")


def serve(data_dir: str | Path, settings, *, on_ready: Callable[[Path], None] | None = None,
          path: Path | None = None, read_timeout: float | None = None, given: set | None = None) -> None:
    """Read the network of ``data_dir`` and answer queries on its socket until interrupted.

    The socket is found by ``settings`` as given (``netdiag check`` looks for it so); without a
    ``display_tz``, the answers are in the data's zone (:func:`netdiag.data.display.settings_for_data`
    with ``given``, the settings a person gave), decided once the runtime folder is known to be safe.

    A client has ``read_timeout`` seconds (default :data:`READ_TIMEOUT_S`) to send its query.

    Raises
    ------
    UnsafeRuntimeError
        The runtime folder (or a socket in it) is not this user's alone.
    InputError
        When the data cannot be read, or another server already answers for this folder.
    """
    from netdiag.tickets.store import postgres

    postgres.use_pools()  # many queries in one process: connections to a PostgreSQL store are kept
    data_dir = Path(data_dir)
    path = path or socket_path(data_dir, settings.as_dict())
    dir_fd = _open_private_dir(path.parent, create=True)
    try:
        _clear_stale(dir_fd, path, data_dir)
        # without a display_tz, the data's zone: decided now and again whenever the data changes
        state = _State(data_dir, settings, given=given, decide_zone=not settings.display_tz)
        state.network(near=None)  # read once before listening: a bad data folder fails here, clearly
        old_umask = os.umask(0o177)  # the socket: this user only
        try:
            server = _server_class()(path, _handler(state, read_timeout or READ_TIMEOUT_S))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise InputError(f"a netdiag server started for {data_dir} while this one read the data ({path})") from None
            raise InputError(f"cannot listen on {path}: {exc.strerror}") from None
        finally:
            os.umask(old_umask)
        try:
            _run(server, dir_fd, path, on_ready)
        finally:
            server.server_close()
    finally:
        os.close(dir_fd)


def _run(server, dir_fd: int, path: Path, on_ready) -> None:
    import signal

    bound = _own_socket(dir_fd, path)  # the socket is in the folder that was checked, not elsewhere
    if bound is None:
        raise UnsafeRuntimeError(f"the runtime folder {path.parent} changed while the server started")
    if _threading_main():
        signal.signal(signal.SIGTERM, _stop)  # `kill` cleans up like Ctrl-C
    try:
        if on_ready:
            on_ready(path)
        server.serve_forever()
    except KeyboardInterrupt:
        log.info("netdiag serve stopped")
    finally:
        try:
            now = os.lstat(path.name, dir_fd=dir_fd)
        except FileNotFoundError:
            now = None
        if now is not None and (now.st_dev, now.st_ino) == (bound.st_dev, bound.st_ino):
            os.unlink(path.name, dir_fd=dir_fd)  # only the socket this server made
