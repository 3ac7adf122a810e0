"""Several people, one ticket store: real processes running `netdiag` at the same moment, and
a process killed (SIGKILL) in the middle of its transaction.

Data: a synthetic city of 30 sites over 4 days (:func:`netdiag.sample.generate`), split into
overlapping slices of complaints (days 1-2, 2-3, 3-4, 1-4) over the same network and alarms.
"""
from __future__ import annotations

import os
import shutil
import signal
import sqlite3
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


def query(db: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def dump(db: Path) -> dict[str, list[tuple]]:
    return {t: query(db, f"SELECT * FROM {t} ORDER BY 1") for t in ("tickets", "complaints", "history", "notes", "runs", "id_counters")}


def incident_links(db: Path) -> set[tuple]:
    """(complaint, cause, root element) of every complaint on an incident ticket."""
    return set(query(db, "SELECT c.complaint_id, t.cause, t.element_id FROM complaints c JOIN tickets t USING (ticket_id) "
                         "WHERE t.kind = 'incident'"))


def assert_consistent(db: Path) -> None:
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    assert query(db, "PRAGMA foreign_key_check") == []
    dup = query(db, f"SELECT cause, element_id, count(*) FROM tickets WHERE element_id IS NOT NULL AND status IN {OPEN} "
                    "GROUP BY cause, element_id HAVING count(*) > 1")
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


def test_four_processes_diagnosing_overlapping_data_at_once(city, reference, tmp_path):
    db = tmp_path / "t.db"
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


def test_updates_at_the_same_moment_are_all_kept(city, reference, tmp_path):
    db = tmp_path / "t.db"
    shutil.copy(reference, db)
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


def test_a_run_killed_mid_transaction_leaves_nothing_and_a_rerun_completes_it(city, reference, tmp_path):
    db = tmp_path / "t.db"
    kill_in_transaction(city["d14"], db, tmp_path)
    assert_consistent(db)
    assert query(db, "SELECT count(*) FROM tickets") == [(0,)]
    assert query(db, "SELECT count(*) FROM runs") == [(0,)]
    finish(netdiag(*diagnose_args(city["d14"], db, tmp_path / "rerun")))
    assert_consistent(db)
    assert query(db, "SELECT ticket_id, cause, element_id, status, complaint_count FROM tickets ORDER BY 1") == \
        query(reference, "SELECT ticket_id, cause, element_id, status, complaint_count FROM tickets ORDER BY 1")


def test_a_second_run_killed_mid_transaction_leaves_the_first_intact(city, tmp_path):
    db = tmp_path / "t.db"
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
