"""Several people, one ticket store: real processes running `netdiag` at the same moment, and
a process killed (SIGKILL) in the middle of its transaction, or at random points of its run.

Data: a synthetic city of 30 sites over 4 days (:func:`netdiag.sample.generate`), split into
overlapping slices of complaints (days 1-2, 2-3, 3-4, 1-4) over the same network and alarms.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

NETDIAG = [sys.executable, "-c", "import sys; from netdiag.cli.main import cli; sys.argv[0] = 'netdiag'; cli()"]
#: ``netdiag diagnose`` whose store pauses inside its write transaction, just before COMMIT
PAUSING = [sys.executable, str(Path(__file__).with_name("pausing_diagnose.py"))]
SLICES = {"d12": (0, 2), "d23": (1, 3), "d34": (2, 4), "d14": (0, 4)}
OPEN = ("acknowledged", "inProgress", "pending", "held")


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """Folders of overlapping complaint slices over one synthetic network."""
    sample = pytest.importorskip("netdiag.sample")
    base = tmp_path_factory.mktemp("city")
    full = base / "full"
    sample.generate(full, n_sites=30, seed=3, days=4, load_format="csv", bad_rows=False)
    complaints = pd.read_csv(full / "complaints.csv", dtype=str, keep_default_na=False)
    received = pd.to_datetime(complaints["received_at"], utc=True, format="ISO8601")
    day0 = received.min().normalize()
    day = ((received - day0) / pd.Timedelta(days=1)).astype(int).clip(upper=3)
    out = {}
    for name, (lo, hi) in SLICES.items():
        folder = base / name
        shutil.copytree(full, folder, ignore=shutil.ignore_patterns("truth"))
        complaints[(day >= lo) & (day < hi)].to_csv(folder / "complaints.csv", index=False)
        out[name] = folder
    return out


def netdiag(*args) -> subprocess.Popen:
    return subprocess.Popen([*NETDIAG, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def pausing_diagnose(folder: Path, db: Path, out: Path, seconds: float, marker: Path | None = None) -> subprocess.Popen:
    """A process diagnosing ``folder`` into ``db`` that sleeps ``seconds`` before COMMIT (after writing ``marker``)."""
    args = [folder, out, db, seconds] + ([marker] if marker else [])
    return subprocess.Popen([*PAUSING, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen, timeout: float = 120) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return out


def diagnose_args(folder: Path, db: Path, out: Path) -> list:
    return ["-q", "diagnose", folder, "--out", out, "--db", db, "--overwrite"]


def is_pg(db) -> bool:
    return str(db).startswith("postgresql://")


def query(db, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows of ``sql`` (``?`` parameters) on the store ``db``: a SQLite file or a PostgreSQL address."""
    from netdiag.tickets.store.connection import raw_rows

    return raw_rows(db, sql, params)


@pytest.fixture
def stores(store_kind, request, tmp_path):
    """A maker of new, empty stores for one test, all of the back end of ``store_kind``:
    ``stores(name)`` is a new SQLite file or PostgreSQL schema; ``stores(name, copy_of=db)`` a copy of ``db``."""
    kind, made = store_kind, []

    def make(name: str, copy_of=None) -> str:
        if kind == "sqlite":
            path = tmp_path / f"{name}.db"
            if copy_of is not None:
                shutil.copy(copy_of, path)
            return str(path)
        import uuid

        import psycopg

        server = request.getfixturevalue("pg_server")
        schema = f"c_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(server, autocommit=True) as con:
            con.execute(f"CREATE SCHEMA {schema}")
        made.append(schema)
        address = f"{server}?options=-csearch_path%3D{schema},public"
        if copy_of is not None:
            from netdiag.tickets.store import TicketStore
            from netdiag.tickets.store.migrate import copy_store

            with TicketStore(copy_of, create=False) as src, TicketStore(address) as dst:
                copy_store(src, dst)
        return address

    yield make
    if made:
        import psycopg

        from netdiag.tickets.store import postgres

        postgres.close_pools()
        with psycopg.connect(request.getfixturevalue("pg_server"), autocommit=True) as con:
            for schema in made:
                con.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_kind(request) -> str:
    if request.param == "postgresql":
        request.getfixturevalue("pg_server")  # skips, loudly, without a server
    return request.param


def dump(db: Path) -> dict[str, list[tuple]]:
    return {t: query(db, f"SELECT * FROM {t} ORDER BY 1") for t in ("tickets", "complaints", "history", "notes", "runs", "id_counters")}


def incident_links(db: Path) -> set[tuple]:
    """(complaint, cause, root element) of every complaint on an incident ticket."""
    return set(query(db, "SELECT c.complaint_id, t.cause, t.element_id FROM complaints c JOIN tickets t USING (ticket_id) "
                         "WHERE t.kind = 'incident'"))


def assert_consistent(db) -> None:
    if not is_pg(db):  # (PostgreSQL checks its pages and foreign keys itself)
        assert query(db, "PRAGMA integrity_check") == [("ok",)]
        assert query(db, "PRAGMA foreign_key_check") == []
    for col in ("element_id", "area_key"):
        dup = query(db, f"SELECT cause, {col}, count(*) FROM tickets WHERE {col} IS NOT NULL AND status IN {OPEN} "
                        f"GROUP BY cause, {col} HAVING count(*) > 1")
        assert dup == [], f"more than one open ticket for {dup}"
    wrong = query(db, "SELECT t.ticket_id FROM tickets t LEFT JOIN complaints c USING (ticket_id) GROUP BY t.ticket_id "
                      "HAVING t.complaint_count != count(c.complaint_id)")
    assert wrong == [], f"complaint_count out of step on {wrong}"


@pytest.fixture(scope="module")
def reference(city, tmp_path_factory):
    """The whole period diagnosed by one process into a fresh store."""
    base = tmp_path_factory.mktemp("reference")
    finish(netdiag(*diagnose_args(city["d14"], base / "ref.db", base / "out")))
    return base / "ref.db"


def test_four_processes_diagnosing_overlapping_data_at_once(city, reference, stores, tmp_path):
    db = stores("t")
    # each holds the write lock for a moment: the others must queue on it, not fail or duplicate
    procs = {name: pausing_diagnose(folder, db, tmp_path / name, 0.4) for name, folder in city.items()}
    for proc in procs.values():
        finish(proc)
    assert_consistent(db)
    linked = query(db, "SELECT complaint_id, ticket_id FROM complaints")
    every = set()
    for name in city:  # every complaint of every run is linked once, to the ticket its run reported
        d = pd.read_csv(tmp_path / name / "diagnoses.csv", dtype=str, encoding="utf-8-sig")
        assert dict(zip(d["complaint_id"], d["ticket_id"])).items() <= dict(linked).items(), name
        every |= set(d["complaint_id"])
    assert sorted(c for c, _ in linked) == sorted(every)
    assert query(db, "SELECT count(*) FROM runs WHERE finished_at IS NOT NULL") == [(4,)]
    # the same outages, the same tickets as one process over the whole period
    assert incident_links(db) == incident_links(reference)
    assert query(db, "SELECT count(*) FROM tickets WHERE kind = 'incident'") == \
        query(reference, "SELECT count(*) FROM tickets WHERE kind = 'incident'")


def test_updates_at_the_same_moment_are_all_kept(city, reference, stores, tmp_path):
    db = stores("t", copy_of=reference)
    ticket, revision = query(db, "SELECT ticket_id, revision FROM tickets WHERE kind = 'field_test' AND status = 'acknowledged' "
                                 "ORDER BY ticket_id LIMIT 1")[0]
    procs = [netdiag("tickets", "update", ticket, "--db", db, "--note", f"note {i}", "--who", f"handler{i}") for i in range(3)]
    procs.append(netdiag("tickets", "update", ticket, "--db", db, "--status", "inProgress", "--who", "tester", "--why", "on the way"))
    procs.append(netdiag(*diagnose_args(city["d14"], db, tmp_path / "again")))  # the same data again, meanwhile
    for proc in procs:
        finish(proc)
    assert_consistent(db)
    assert sorted(query(db, f"SELECT who, text FROM notes WHERE ticket_id = '{ticket}'")) == \
        [(f"handler{i}", f"note {i}") for i in range(3)]
    assert query(db, f"SELECT status, revision FROM tickets WHERE ticket_id = '{ticket}'") == [("inProgress", revision + 4)]
    assert query(db, f"SELECT who, from_status, to_status, why FROM history WHERE ticket_id = '{ticket}' AND event = 'status'") == \
        [("tester", "acknowledged", "inProgress", "on the way")]


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"process ended before pausing: {proc.communicate()[1]}")
        assert time.monotonic() < deadline, "the process never reached its transaction"
        time.sleep(0.05)


def kill_in_transaction(folder: Path, db: Path, tmp_path: Path) -> None:
    marker = tmp_path / "in-transaction"
    marker.unlink(missing_ok=True)
    proc = pausing_diagnose(folder, db, tmp_path / "killed", 60, marker)
    wait_for(marker, proc)  # every ticket of the run is written, nothing committed yet
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def test_a_run_killed_mid_transaction_leaves_nothing_and_a_rerun_completes_it(city, reference, stores, tmp_path):
    db = stores("t")
    kill_in_transaction(city["d14"], db, tmp_path)
    assert_consistent(db)
    assert query(db, "SELECT count(*) FROM tickets") == [(0,)]
    assert query(db, "SELECT count(*) FROM runs") == [(0,)]
    finish(netdiag(*diagnose_args(city["d14"], db, tmp_path / "rerun")))
    assert_consistent(db)
    assert query(db, "SELECT ticket_id, cause, element_id, status, complaint_count FROM tickets ORDER BY 1") == \
        query(reference, "SELECT ticket_id, cause, element_id, status, complaint_count FROM tickets ORDER BY 1")


def test_a_second_run_killed_mid_transaction_leaves_the_first_intact(city, stores, tmp_path):
    db = stores("t")
    finish(netdiag(*diagnose_args(city["d12"], db, tmp_path / "first")))
    before = dump(db)
    kill_in_transaction(city["d14"], db, tmp_path)
    assert_consistent(db)
    assert dump(db) == before
    finish(netdiag(*diagnose_args(city["d14"], db, tmp_path / "rerun")))
    assert_consistent(db)
    assert query(db, "SELECT count(*) FROM runs") == [(2,)]
    d = pd.read_csv(tmp_path / "rerun" / "diagnoses.csv", dtype=str, encoding="utf-8-sig")
    assert sorted(r[0] for r in query(db, "SELECT complaint_id FROM complaints")) == sorted(d["complaint_id"])


# ----------------------------------------------------------------------------- eight writers at once
#: a process making N ``netdiag tickets update --team`` calls one after the other, at random moments
UPDATER = """
import json, random, sys, time
import click
from netdiag.cli.main import cli
db, tag, seed, n, tickets = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
rng = random.Random(seed)
time.sleep(rng.uniform(0, 1.0))
done = []
for i in range(n):
    ticket, team, who = tickets[(seed + i) % len(tickets)], f"team-{tag}-{i}", f"{tag}-{i}"
    try:
        cli.main(["-q", "tickets", "update", ticket, "--db", db, "--team", team, "--who", who], prog_name="netdiag",
                 standalone_mode=False)
        code = 0
    except click.ClickException as exc:
        code = exc.exit_code
        exc.show()
    done.append([ticket, team, who, code])
    time.sleep(rng.uniform(0, 0.3))
print(json.dumps(done))
"""


def updater(db: Path, tag: str, seed: int, n: int, tickets: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", UPDATER, str(db), tag, str(seed), str(n), *tickets],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_eight_writers_diagnosing_and_updating_the_same_tickets_lose_nothing(city, stores, tmp_path):
    db = stores("t")
    finish(netdiag(*diagnose_args(city["d12"], db, tmp_path / "seed"), "--who", "seed"))
    targets = [r[0] for r in query(db, f"SELECT ticket_id FROM tickets WHERE status IN {OPEN} ORDER BY ticket_id")][:6]
    assert len(targets) >= 3
    runs = {  # overlapping data; two of them hold the write lock a while before COMMIT
        "d12": netdiag(*diagnose_args(city["d12"], db, tmp_path / "d12"), "--who", "run-d12"),
        "d23": subprocess.Popen([*PAUSING, city["d23"], tmp_path / "d23", db, "0.3", "--who", "run-d23"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
        "d34": netdiag(*diagnose_args(city["d34"], db, tmp_path / "d34"), "--who", "run-d34"),
        "d14": subprocess.Popen([*PAUSING, city["d14"], tmp_path / "d14", db, "0.3", "--who", "run-d14"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
    }
    updaters = [updater(db, f"u{j}", j, 6, targets) for j in range(4)]
    for proc in runs.values():
        finish(proc)
    updates = [u for proc in updaters for u in json.loads(finish(proc))]
    assert_consistent(db)
    # every complaint of every run is linked exactly once, to the ticket its run reported
    linked = query(db, "SELECT complaint_id, ticket_id FROM complaints")
    every = set()
    for name in runs:
        d = pd.read_csv(tmp_path / name / "diagnoses.csv", dtype=str, encoding="utf-8-sig")
        assert dict(zip(d["complaint_id"], d["ticket_id"])).items() <= dict(linked).items(), name
        every |= set(d["complaint_id"])
    assert sorted(c for c, _ in linked) == sorted(every)
    assert query(db, "SELECT count(*) FROM runs WHERE finished_at IS NOT NULL") == [(5,)]
    # no lost update: each one succeeded and left its history row; the last one's team stands
    assert [u for u in updates if u[3] != 0] == [] and len(updates) == 24
    for ticket, team, who, _ in updates:
        assert query(db, "SELECT count(*) FROM history WHERE ticket_id = ? AND who = ? AND event = 'team' AND why LIKE ?",
                     (ticket, who, f"% -> {team}")) == [(1,)], who
    for ticket in targets:
        last = query(db, "SELECT why FROM history WHERE ticket_id = ? AND event = 'team' ORDER BY seq DESC LIMIT 1", (ticket,))
        assert query(db, "SELECT team FROM tickets WHERE ticket_id = ?", (ticket,))[0][0] == last[0][0].split(" -> ")[1]
    # every revision is accounted for: one per run that linked to (or moved away from) the ticket,
    # one per status change, one per update by a person
    wrong = query(db, """
        SELECT * FROM (
            SELECT t.ticket_id, t.revision, 1 + count(DISTINCT CASE WHEN h.event IN ('linked', 'unlinked') THEN h.who END)
                   + sum(CASE WHEN h.event = 'status' THEN 1 ELSE 0 END)
                   + sum(CASE WHEN h.event IN ('team', 'priority') THEN 1 ELSE 0 END) AS expected
            FROM tickets t JOIN history h USING (ticket_id) GROUP BY t.ticket_id, t.revision) AS counted
        WHERE revision != expected""")
    assert wrong == [], f"revisions not accounted for by the history: {wrong[:5]}"


# ----------------------------------------------------------------------------- killed at random points
def tables_of(db) -> set[str]:
    if is_pg(db):
        return {r[0] for r in query(db, "SELECT table_name FROM information_schema.tables "
                                        "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")}
    if not Path(db).exists():
        return set()
    return {r[0] for r in query(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")}


@pytest.fixture(scope="module")
def whole_period(city):
    """The whole period's network and diagnoses, made once, for re-runs in this process: (net, diagnoses, as_of)."""
    from netdiag.data.dataset import load_dataset
    from netdiag.engine.network import prepare
    from netdiag.pipeline import diagnose
    from netdiag.tickets.grouping import data_as_of

    ds = load_dataset(city["d14"], load_window="complaints")
    net = prepare(ds)
    return net, diagnose(ds, network=net).diagnoses, data_as_of(ds)


def test_a_run_killed_at_twenty_random_points_leaves_a_consistent_store_that_a_rerun_completes(city, whole_period,
                                                                                               stores, tmp_path):
    from netdiag.tickets.store import TicketStore

    rng = random.Random(20261102)
    base = stores("base")
    finish(netdiag(*diagnose_args(city["d12"], base, tmp_path / "base"), "--who", "seed"))
    probes = {}
    for fresh in (False, True):  # how many statements a whole run takes, on the base store and on a new file
        db = stores(f"probe-{fresh}", copy_of=None if fresh else base)
        finish(subprocess.Popen([*PAUSING, city["d14"], tmp_path / "probe", db, "0", "--trace", tmp_path / "trace.json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        probes[fresh] = json.loads((tmp_path / "trace.json").read_text())
    every = set(pd.read_csv(tmp_path / "probe" / "diagnoses.csv", dtype=str, encoding="utf-8-sig")["complaint_id"])
    net, diag, as_of = whole_period
    points, dbs = {}, {}
    for pair in range(10):  # two killed runs at a time (on two stores): one at a statement, one at a moment
        procs, before = {}, {}
        for i in (2 * pair, 2 * pair + 1):
            fresh = i % 4 == 0  # every fourth on a new store: the kill may hit its creation
            db = stores(f"k{i}", copy_of=None if fresh else base)
            dbs[i] = db
            before[i] = dump(db) if not fresh else None
            args = [*PAUSING, city["d14"], tmp_path / f"out{i}", db, "0"]
            if i % 2 == 0:  # just before a random statement: the pragmas, the schema, the transaction, COMMIT
                points[i] = rng.randint(1, probes[fresh]["statements"])
                args += ["--kill-at", str(points[i])]
            else:
                args += ["--begin-marker", tmp_path / f"begun-{i}"]
            procs[i] = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        timed = 2 * pair + 1  # at a random moment of its transaction (or just after it)
        wait_for(tmp_path / f"begun-{timed}", procs[timed])
        points[timed] = rng.uniform(0, 1.5 * probes[False]["seconds"])
        time.sleep(points[timed])
        procs[timed].kill()
        for i, proc in procs.items():
            proc.wait(timeout=120)
            assert proc.returncode in ((-signal.SIGKILL,) if i % 2 == 0 else (-signal.SIGKILL, 0)), proc.communicate()[1]
            db, what = dbs[i], f"killed at {points[i]} ({'statement' if i % 2 == 0 else 's'})"
            # all or nothing: the store is as before the run, or the run is complete
            if tables_of(db):
                assert_consistent(db)
                linked = {r[0] for r in query(db, "SELECT complaint_id FROM complaints")}
                if query(db, "SELECT count(*) FROM runs WHERE who != 'seed'") != [(0,)]:
                    assert linked == every, what
                elif before[i] is None:
                    assert all(rows == [] for rows in dump(db).values()), what
                else:
                    assert dump(db) == before[i], what
            with TicketStore(db) as store:  # a re-run completes it
                store.record(net, diag, as_of=as_of, who="rerun")
            assert_consistent(db)
            assert {r[0] for r in query(db, "SELECT complaint_id FROM complaints")} == every, what
