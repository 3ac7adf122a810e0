"""`netdiag serve` answers `netdiag check` exactly as a check on its own would, from a running process.

It answers only its own user, `check` talks only to a server of its own user, and bad
clients (slow, huge, malformed, gone) get an error each and stall nobody. Real processes and
real Unix sockets; the impostor tests run a process as another user (nobody) and need root.
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import TINY, write_dataset
from netdiag.cli.main import cli
from netdiag.service import socket_path
from netdiag.settings import Settings

CHECK = ["--lat", "53.355", "--lon", "-6.4", "--at", "2026-11-02T11:30:00Z", "--format", "json"]
QUERY = {"lat": 53.355, "lon": -6.4, "at": "2026-11-02T11:30:00Z"}
NOBODY = 65534
TINY_LOAD = TINY["load"]


def _start(env: dict, path: Path, command: list[str]) -> subprocess.Popen:
    """A server process; returns once its socket is there (at most 60 s)."""
    proc = subprocess.Popen([sys.executable, *command], env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not path.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    if not path.exists():
        proc.kill()
        pytest.fail(f"the server did not start: {proc.communicate(timeout=10)[1][-2000:]}")
    return proc


def _stop(proc: subprocess.Popen) -> str:
    """Stop a server as `kill` does; its stderr."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.communicate(timeout=30)[1]
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate(timeout=10)[1]


def _private_tmp(monkeypatch, tmp: Path) -> dict:
    """Sockets in the default place, `netdiag-UID` in the temporary folder ``tmp``, here and in child processes."""
    monkeypatch.delenv("NETDIAG_RUNTIME_DIR", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    monkeypatch.setenv("TMPDIR", str(tmp))
    return dict(os.environ)


@pytest.fixture
def server(tiny_dir, tmp_path, monkeypatch):
    """`netdiag serve` with its runtime folder in the default place (a fresh temporary folder)."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = _private_tmp(monkeypatch, tmp)
    path = socket_path(tiny_dir, Settings().as_dict())
    proc = _start(env, path, ["-m", "netdiag.cli.main", "serve", "--data", str(tiny_dir)])
    yield proc, path
    _stop(proc)


def _check(tiny_dir, *extra: str):
    return CliRunner().invoke(cli, ["check", "--data", str(tiny_dir), *CHECK, *extra], catch_exceptions=False)


def test_check_asks_the_running_server(server, tiny_dir):
    proc, path = server
    runner = CliRunner()
    served = _check(tiny_dir)
    alone = _check(tiny_dir, "--no-server")
    assert served.exit_code == 0 and alone.exit_code == 0
    assert json.loads(served.stdout) == json.loads(alone.stdout)
    assert json.loads(served.stdout)["verdict"]["element_id"] == "HUB1"
    bad = runner.invoke(cli, ["check", "--data", str(tiny_dir), "--lat", "22.5", "--lon", "114.0"])
    assert bad.exit_code == 2 and "outside the network's area" in bad.output
    again = runner.invoke(cli, ["serve", "--data", str(tiny_dir)])
    assert again.exit_code == 2 and "a netdiag server already answers" in again.output


def test_the_server_decides_the_zone_again_when_the_data_folder_changes(server, tiny_dir):
    """A netdiag.toml added while `netdiag serve` runs: the next served check is in its zone, as
    an unserved check is (before: the zone decided at start, UTC, for ever)."""
    before = json.loads(_check(tiny_dir).stdout)
    assert before["display_tz"] == "UTC"
    (tiny_dir / "netdiag.toml").write_text('display_tz = "Asia/Shanghai"\n')
    served = _check(tiny_dir, "--format", "text")
    alone = _check(tiny_dir, "--format", "text", "--no-server")
    assert served.stdout.startswith("Times in Asia/Shanghai (UTC+08:00).")
    assert served.stdout == alone.stdout
    assert json.loads(_check(tiny_dir).stdout) == json.loads(_check(tiny_dir, "--no-server").stdout)


def test_a_workspace_server_answers_as_the_data_folder_and_sees_new_data(tiny_dir, tmp_path, monkeypatch):
    """`netdiag serve --workspace` reads per query only what may serve the spot, with the same answers,
    and a `netdiag prepare` that adds data is seen by the next query."""
    from netdiag.prepare import prepare_workspace

    ws = tmp_path / "ws"
    prepare_workspace(tiny_dir, ws, settings=Settings())
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = _private_tmp(monkeypatch, tmp)
    path = socket_path(ws, Settings().as_dict())
    proc = _start(env, path, ["-m", "netdiag.cli.main", "serve", "--workspace", str(ws)])
    try:
        def check(*extra):
            res = CliRunner().invoke(cli, ["check", "--workspace", str(ws), *CHECK, *extra], catch_exceptions=False)
            assert res.exit_code == 0, res.output
            return json.loads(res.stdout)
        served = check()
        assert served == check("--no-server") == json.loads(_check(tiny_dir, "--no-server").stdout)
        assert served["verdict"]["element_id"] == "HUB1"
        # a new hour of counters: the uplink noise on C001 at 11:00 is now known to the server
        header, rows = TINY_LOAD
        write_dataset(tiny_dir, {"load": (header, rows + [["C001", "2026-11-02T11:00:00Z", 60, 95, 20, -90, 30]])})
        prepare_workspace(tiny_dir, ws, settings=Settings())
        loads = {(r["cell_id"], r["timestamp"]): r for r in check()["load"]}
        assert loads[("C001", "2026-11-02T11:00:00+00:00")]["prb_dl_pct"] == 95
    finally:
        _stop(proc)


def test_the_runtime_folder_is_made_for_this_user_alone(server, tmp_path):
    proc, path = server
    assert path.parent == tmp_path / "tmp" / f"netdiag-{os.getuid()}"
    folder = os.lstat(path.parent)
    assert stat.S_ISDIR(folder.st_mode) and stat.S_IMODE(folder.st_mode) == 0o700 and folder.st_uid == os.getuid()
    sock = os.lstat(path)
    assert stat.S_ISSOCK(sock.st_mode) and sock.st_uid == os.getuid() and not sock.st_mode & 0o077


def test_server_removes_its_socket_when_stopped(server):
    proc, path = server
    _stop(proc)
    assert not path.exists()


def test_a_stale_socket_falls_back_to_reading_the_data(tiny_dir, tmp_path, monkeypatch):
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    monkeypatch.setenv("NETDIAG_RUNTIME_DIR", str(run))
    with socket.socket(socket.AF_UNIX) as dead:  # a server that died without cleaning up
        dead.bind(str(socket_path(tiny_dir, Settings().as_dict())))
    res = _check(tiny_dir)
    assert res.exit_code == 0 and json.loads(res.stdout)["verdict"]["cause"] == "fault"
    assert "Warning" not in res.output


def _unsafe_folder(kind: str, tmp_path: Path) -> Path:
    run = tmp_path / "run"
    if kind == "symlink":
        (tmp_path / "real").mkdir(mode=0o700)
        run.symlink_to(tmp_path / "real")
    elif kind == "another user's":
        if os.geteuid() != 0:
            pytest.skip("needs root to give a folder to another user")
        run.mkdir(mode=0o700)
        os.chown(run, NOBODY, NOBODY)
    elif kind == "a file":
        run.write_text("")
    else:
        run.mkdir()
        run.chmod(int(kind, 8))
    return run


@pytest.mark.parametrize("kind, says", [
    ("777", "is open to other users (mode 777)"), ("750", "is open to other users (mode 750)"),
    ("symlink", "is a symbolic link"), ("another user's", f"belongs to user {NOBODY}"), ("a file", "is not a folder"),
])
def test_an_unsafe_runtime_folder_is_refused(kind, says, tiny_dir, tmp_path, monkeypatch):
    run = _unsafe_folder(kind, tmp_path)
    monkeypatch.setenv("NETDIAG_RUNTIME_DIR", str(run))
    # serve: a one-line error, exit code 2 (a process: a server that starts would not return)
    res = subprocess.run([sys.executable, "-m", "netdiag.cli.main", "serve", "--data", str(tiny_dir)],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2, res.stderr
    assert res.stderr.count("\n") == 1 and res.stderr.startswith("Error: the runtime folder") and says in res.stderr
    if run.is_dir():
        assert not list(run.glob("*.sock"))
    # check: says why it does not ask a server and answers from the data
    checked = _check(tiny_dir)
    assert checked.exit_code == 0 and json.loads(checked.stdout)["verdict"]["element_id"] == "HUB1"
    assert "Warning: not asking netdiag serve" in checked.stderr and says in checked.stderr


# --- bad clients -------------------------------------------------------------------------

READ_TIMEOUT = 1.5


def _serve_with(base: Path, **limits) -> tuple[subprocess.Popen, Path]:
    """A server of the tiny data in ``base`` with other limits (constants of netdiag.service)."""
    data = write_dataset(base / "data")
    (base / "run").mkdir(mode=0o700)
    env = {**os.environ, "NETDIAG_RUNTIME_DIR": str(base / "run")}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NETDIAG_RUNTIME_DIR", env["NETDIAG_RUNTIME_DIR"])
        path = socket_path(data, Settings().as_dict())
    code = ("import sys; from netdiag import service; from netdiag.settings import Settings; "
            f"vars(service).update({limits!r}); service.serve(sys.argv[1], Settings())")
    return _start(env, path, ["-c", code, str(data)]), path


@pytest.fixture(scope="module")
def quick_server(tmp_path_factory):
    """A server (shared by the tests of bad clients) that gives a client READ_TIMEOUT s to send its query."""
    proc, path = _serve_with(tmp_path_factory.mktemp("quick"), READ_TIMEOUT_S=READ_TIMEOUT)
    yield proc, path
    assert "Traceback" not in _stop(proc)


def _talk(path: Path, data: bytes, *, timeout: float = 10) -> dict:
    """Send raw bytes, read the one-line reply (whatever happened to the sending)."""
    with socket.socket(socket.AF_UNIX) as conn:
        conn.settimeout(timeout)
        conn.connect(str(path))
        try:
            conn.sendall(data)
        except OSError:  # the server stopped reading (and closed): its reply is still there
            pass
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = conn.recv(1 << 16)
            if not chunk:
                break
            reply += chunk
    return json.loads(reply)


def test_a_slow_client_does_not_stall_others(quick_server):
    from netdiag.service import ask

    proc, path = quick_server
    with socket.socket(socket.AF_UNIX) as slow:
        slow.settimeout(10)
        slow.connect(str(path))
        slow.sendall(b'{"lat": 53.355, "lo')  # half a line, then nothing
        started = time.monotonic()
        reply = ask(path, QUERY, timeout=5)
        assert reply is not None and reply["result"]["verdict"]["element_id"] == "HUB1"
        assert time.monotonic() - started < 1.5
        late = json.loads(slow.recv(1 << 16))  # the slow one is told, after READ_TIMEOUT s
    assert late == {"ok": False, "error": f"no complete query line within {READ_TIMEOUT:g} s"}
    assert time.monotonic() - started < READ_TIMEOUT + 2


BAD_QUERIES = [
    (b"not json", "not JSON"), (b"[]", "a JSON list"), (b"1", "a JSON number"), (b'"x"', "a JSON string"),
    (b"null", "a JSON null"), (b"{}", "no `lat`"), (b'{"lat": 53.3}', "no `lon`"),
    (b'{"lat": "53.3", "lon": -6.4}', "`lat` was '53.3'"), (b'{"lat": NaN, "lon": -6.4}', "`lat` was 'nan'"),
    (b'{"lat": 53.3, "lon": Infinity}', "`lon` was 'inf'"), (b'{"lat": true, "lon": -6.4}', "`lat` was 'True'"),
    (b'{"lat": 53.3, "lon": -6.4, "indoor": "yes"}', "`indoor` was 'yes'"),
    (b'{"lat": 53.3, "lon": -6.4, "at": 5}', "`at` was '5'"), (b'{"lat": 1' + b"0" * 400 + b', "lon": 1}', "`lat` was"),
    (b"[" * 60_000, "not JSON"), (b"\xff\xfe{}", "not JSON"),
    (b'{"lat": 53.3, "lon": -6.4, "coord_system": "utm"}', "`coord_system` was 'utm'"),
    (b'{"lat": 53.3, "lon": -6.4, "db": "/nonexistent/x.db"}', "x.db"),
    # over the size limit, with or without an end of line in reach
    (b"[" * 100_000, "longer than 65536 bytes"), (b" " * 70_000 + b"{}", "longer than 65536 bytes"),
    (b"x" * 4_000_000, "longer than 65536 bytes"),
]


def test_every_malformed_query_gets_an_error_reply(quick_server):
    proc, path = quick_server
    for line, says in BAD_QUERIES:
        reply = _talk(path, line + b"\n")
        assert reply["ok"] is False and says in reply["error"], (line[:60], reply)
    assert _talk(path, json.dumps(QUERY).encode() + b"\n")["result"]["verdict"]["element_id"] == "HUB1"
    assert proc.poll() is None


def test_clients_that_go_away_do_not_stop_the_server(quick_server):
    proc, path = quick_server
    query = json.dumps(QUERY).encode() + b"\n"
    for _ in range(10):  # ask and leave at once: the server's reply meets a closed socket
        with socket.socket(socket.AF_UNIX) as conn:
            conn.connect(str(path))
            conn.sendall(query)
    never_reads = []
    for _ in range(3):  # ask and never read the replies
        conn = socket.socket(socket.AF_UNIX)
        conn.connect(str(path))
        conn.sendall(query * 3)
        never_reads.append(conn)
    threads = [threading.Thread(target=lambda: results.append(_talk(path, query))) for _ in range(4)]
    results: list[dict] = []
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    for conn in never_reads:
        conn.close()
    assert len(results) == 4 and all(r["ok"] for r in results)
    assert proc.poll() is None


def test_a_full_server_says_busy_and_check_reads_the_data_itself(tmp_path):
    from netdiag.service import ask

    proc, path = _serve_with(tmp_path, MAX_CLIENTS=2, BUSY_WAIT_S=0.3, READ_TIMEOUT_S=3)
    try:
        idle = [socket.socket(socket.AF_UNIX) for _ in range(2)]
        for conn in idle:  # two clients that say nothing hold both threads
            conn.connect(str(path))
        time.sleep(0.2)
        assert _talk(path, b"") == {"ok": False, "busy": True, "error": "the server is busy; try again"}
        assert ask(path, QUERY, timeout=5) is None  # no answer: `check` reads the data itself
        for conn in idle:
            conn.close()
        time.sleep(0.2)
        assert ask(path, QUERY, timeout=5)["ok"]
    finally:
        assert "Traceback" not in _stop(proc)


# --- another user ------------------------------------------------------------------------

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: runs an impostor process as another user (nobody)")

IMPOSTOR = r"""
import json, os, socket, sys
what, path = sys.argv[1], sys.argv[2]
if what == "plant":  # try to put a socket where the real server's goes
    try:
        socket.socket(socket.AF_UNIX).bind(path)
        print("planted", flush=True)
    except OSError as exc:
        print("denied", exc.errno, flush=True)
    sys.exit()
if what == "ask":  # talk to the real server as this user
    conn = socket.socket(socket.AF_UNIX)
    conn.settimeout(10)
    conn.connect(path)
    try:
        conn.sendall(json.dumps({"lat": 53.355, "lon": -6.4}).encode() + b"\n")
    except OSError:  # refused before it read the query: the reply is there all the same
        pass
    print(conn.recv(1 << 16).decode(), flush=True)
    sys.exit()
server = socket.socket(socket.AF_UNIX)  # listen, note what comes, answer a false verdict
server.bind(path)
os.chmod(path, 0o777)
server.listen(8)
server.settimeout(30)
print("listening", flush=True)
fake = {"ok": True, "result": json.loads(sys.argv[3])}
for _ in range(8):
    try:
        conn, _ = server.accept()
    except OSError:
        break
    conn.settimeout(2)
    try:
        print("heard", repr(conn.recv(1 << 16)), flush=True)
        conn.sendall(json.dumps(fake).encode() + b"\n")
    except OSError:
        pass
    conn.close()
"""


@functools.lru_cache(maxsize=None)
def _python_for_nobody() -> str:
    """A Python interpreter that another user can run (this one may sit in root's home)."""
    for candidate in (sys.executable, shutil.which("python3"), "/usr/bin/python3"):
        try:
            if candidate and subprocess.run([candidate, "-I", "-c", "pass"], user=NOBODY, group=NOBODY, extra_groups=[],
                                            cwd="/", capture_output=True, timeout=30).returncode == 0:
                return candidate
        except OSError:  # not even allowed to start it
            continue
    pytest.skip("no Python interpreter that the user nobody may run")


def _as_nobody(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([_python_for_nobody(), "-I", "-c", IMPOSTOR, *args], user=NOBODY, group=NOBODY,
                            extra_groups=[], cwd="/", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)


@pytest.fixture
def shared_tmp(monkeypatch):
    """A temporary folder like /tmp that every user can write to (sticky), as the default runtime parent."""
    shared = Path(tempfile.mkdtemp(prefix="netdiag-test-", dir="/tmp"))
    shared.chmod(0o1777)
    env = _private_tmp(monkeypatch, shared)
    procs: list[subprocess.Popen] = []
    yield shared, env, procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)
    shutil.rmtree(shared, ignore_errors=True)


def _impostor(procs: list, path: Path, fake: dict) -> subprocess.Popen:
    proc = _as_nobody("listen", str(path), json.dumps(fake))
    procs.append(proc)
    assert proc.stdout.readline().strip() == "listening"
    return proc


def _heard(proc: subprocess.Popen) -> str:
    proc.kill()
    return proc.communicate(timeout=10)[0]


@needs_root
def test_another_user_cannot_pose_as_the_server(shared_tmp, tiny_dir):
    shared, env, procs = shared_tmp
    alone = _check(tiny_dir, "--no-server")
    truth = json.loads(alone.stdout)
    fake = {**truth, "verdict": {**truth["verdict"], "element_id": "IMPOSTOR", "cause": "no_fault_found"}}
    path = socket_path(tiny_dir, Settings().as_dict())
    digest = path.name.removesuffix(".sock")

    # 1. nobody listens where netdiag 0.1 put the socket (/tmp/netdiag-UID-DIGEST.sock): not asked
    old_place = _impostor(procs, shared / f"netdiag-{os.getuid()}-{digest}.sock", fake)
    res = _check(tiny_dir)
    assert res.exit_code == 0 and json.loads(res.stdout) == truth

    # 2. nor does it keep the real server from starting, in a folder that nobody cannot write to
    server = _start(env, path, ["-m", "netdiag.cli.main", "serve", "--data", str(tiny_dir)])
    procs.append(server)
    planted = _as_nobody("plant", str(path.parent / "x.sock"))
    procs.append(planted)
    assert planted.communicate(timeout=30)[0].split()[0] == "denied"
    res = _check(tiny_dir)
    assert res.exit_code == 0 and json.loads(res.stdout) == truth
    assert "lat" not in _heard(old_place)
    _stop(server)
    assert not path.exists()

    # 3. a socket of nobody's put into the runtime folder (as root can): check neither asks nor shows it,
    #    and serve neither removes it nor starts
    impostor = _impostor(procs, shared / "planted.sock", fake)
    os.rename(shared / "planted.sock", path)
    res = _check(tiny_dir)
    assert res.exit_code == 0 and json.loads(res.stdout) == truth
    assert f"Warning: not asking netdiag serve: the socket {path} belongs to user {NOBODY}" in res.stderr
    again = CliRunner().invoke(cli, ["serve", "--data", str(tiny_dir)])
    assert again.exit_code == 2 and f"belongs to user {NOBODY}" in again.output and path.exists()

    # 4. the same socket made to look like this user's: the server's user id (SO_PEERCRED) gives it away
    os.lchown(path, os.getuid(), os.getgid())
    res = _check(tiny_dir)
    assert res.exit_code == 0 and json.loads(res.stdout) == truth
    assert f"is not yours: it runs as user {NOBODY}" in res.stderr
    assert "IMPOSTOR" not in res.output
    assert "lat" not in _heard(impostor)  # it never saw a query


@needs_root
def test_the_server_answers_no_other_user(shared_tmp, tiny_dir):
    shared, env, procs = shared_tmp
    path = socket_path(tiny_dir, Settings().as_dict())
    server = _start(env, path, ["-m", "netdiag.cli.main", "serve", "--data", str(tiny_dir)])
    procs.append(server)
    door = shared / "door.sock"  # a way in for nobody (as root could make one): the same socket, open to all
    os.link(path, door)
    os.chmod(door, 0o777)
    client = _as_nobody("ask", str(door))
    procs.append(client)
    reply = json.loads(client.communicate(timeout=30)[0])
    assert reply["ok"] is False and reply["error"].startswith("refused: this server answers only its own user")
    assert "result" not in reply
    assert json.loads(_check(tiny_dir).stdout)["verdict"]["element_id"] == "HUB1"  # and still answers its user


@pytest.fixture
def diagnosed_store(store_db, tiny_dir, tmp_path):
    """A store (SQLite, then PostgreSQL) holding the tiny data's tickets, HUB1's fault re-opened by a handler
    (the data shows it over; the customer says it is not)."""
    from netdiag.tickets.store import TicketStore

    res = CliRunner().invoke(cli, ["diagnose", "--data", str(tiny_dir), "--out", str(tmp_path / "out"), "--db", store_db])
    assert res.exit_code == 0, res.output
    with TicketStore(store_db, create=False) as store:
        hub = store.tickets(cause=["fault"]).set_index("element_id").loc["HUB1", "ticket_id"]
        store.update(hub, status="inProgress", who="li.wei", why="customer still without service")
    return store_db


def test_the_server_shows_a_ticket_as_the_store_has_it_now(server, diagnosed_store, tiny_dir):
    """A handler asks through the server; another one resolves the ticket meanwhile: the next answer knows."""
    res = _check(tiny_dir, "--db", diagnosed_store)
    assert res.exit_code == 0, res.output
    served = json.loads(res.stdout)
    ticket = served["ticket"]
    assert ticket is not None and ticket["status"] == "inProgress"
    from netdiag.tickets.store import TicketStore

    with TicketStore(diagnosed_store, create=False) as store:  # the caller joins that ticket: promised what it says
        due = store.tickets(ids=[ticket["ticket_id"]]).iloc[0]["first_reply_due"]
    assert f"before {due:%Y-%m-%d %H:%M} UTC" in served["reply"]["en"]
    assert json.loads(_check(tiny_dir, "--db", diagnosed_store, "--no-server").stdout)["ticket"] == ticket
    res = CliRunner().invoke(cli, ["tickets", "update", ticket["ticket_id"], "--db", diagnosed_store, "--status", "resolved",
                                   "--who", "li.wei"])
    assert res.exit_code == 0, res.output
    assert json.loads(_check(tiny_dir, "--db", diagnosed_store).stdout)["ticket"] is None


def test_a_stalled_ticket_store_holds_up_only_the_checks_that_name_it(tiny_dir, monkeypatch):
    from netdiag import service
    from netdiag.errors import InputError

    monkeypatch.setattr(service, "STORE_WAIT_S", 0.5)
    state = service._State(tiny_dir, Settings())
    stalled, release = threading.Event(), threading.Event()

    def stall(db):  # the database stopped answering (a stalled backend, a cut link)
        with state.tickets_lock:
            stalled.set()
            release.wait(60)
    monkeypatch.setattr(state, "_read_open_tickets", stall)
    try:
        t0 = time.monotonic()
        with pytest.raises(InputError, match="the ticket store did not answer within 0.5 s"):
            state.open_tickets("/some/store.db")
        assert stalled.is_set() and time.monotonic() - t0 < 5
        assert state.network() is not None  # a check without --db goes on while the store read hangs
        assert not release.is_set()
    finally:
        release.set()
