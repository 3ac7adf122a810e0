"""The ticket store's file as an unlucky operator meets it: the wrong file, an empty file, a
read-only file or folder, another user, a damaged file, a full disk, a symlink, a -wal left
behind. Every case ends in a one-line error naming the file and the reason (exit code 2) or
in a store that works, and a file that is not a netdiag store is never changed.

Tests run as root, which ignores file modes: a read-only store is made real by running the
command as another user (uid 65534) or by ``chattr +i``; a full disk by a tiny tmpfs (root
may mount one) or by SQLite's ``max_page_count``.
"""
from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from netdiag.cli.main import cli
from netdiag.errors import InputError, NotAStoreError
from netdiag.tickets.store import APPLICATION_ID, StoreDamagedError, StoreFullError, StoreReadOnlyError, TicketStore
from test_store import at, complaint, run, write_day

NETDIAG = [sys.executable, "-c", "import sys; from netdiag.cli.main import cli; sys.argv[0] = 'netdiag'; cli()"]
OTHER_UID, OWNER_UID = 65534, 1000  # "nobody", and a user who owns a store


# ----------------------------------------------------------------------------- helpers
def fingerprint(path: Path) -> tuple:
    """The file's bytes (hashed) and which of its SQLite siblings exist."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None
    return digest, sorted(p.name for p in path.parent.iterdir() if p.name.startswith(path.name + "-"))


def invoke(*args):
    return CliRunner().invoke(cli, ["-q", *map(str, args)], catch_exceptions=False)


def one_line_error(exit_code: int, output: str) -> str:
    """The single ``Error: ...`` line of a command that failed with exit code 2 (no traceback)."""
    assert exit_code == 2, output
    lines = output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), output
    return lines[0]


def stocked(folder: Path) -> tuple[Path, Path, str]:
    """A store with the tickets of two days of the tiny network: (db, data folder, a ticket id)."""
    data = write_day(folder / "data", "day12")
    db = folder / "t.db"
    with TicketStore(db) as store:
        result = run(store, data)
    return db, data, result.diagnoses["ticket_id"].iloc[0]


def foreign_sqlite(path: Path, *, app_id: int = 0, wal: bool = False, tables: bool = True, user_version: int = 0) -> Path:
    con = sqlite3.connect(path, isolation_level=None)
    if wal:
        con.execute("PRAGMA journal_mode = WAL")
    if tables:
        con.execute("CREATE TABLE customers (id TEXT, name TEXT)")
        con.execute("INSERT INTO customers VALUES ('1', 'Ms Li')")
    if app_id:
        con.execute(f"PRAGMA application_id = {app_id}")
    if user_version:
        con.execute(f"PRAGMA user_version = {user_version}")
    con.execute("VACUUM")  # a valid header even without tables
    con.close()
    return path


# ----------------------------------------------------------------------------- not a store: refused, unchanged
FOREIGN = {
    "text file": (lambda p: p.write_text("id,name\n1,Ms Li\n" * 50), "is not an SQLite database"),
    "short file with an SQLite magic": (lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\x10" * 20),
                                        "is not an SQLite database"),
    "another application's id": (lambda p: foreign_sqlite(p, app_id=0x47504B47),
                                  r"of another application \(application_id 0x47504b47\)"),
    "tables, no application_id": (lambda p: foreign_sqlite(p), r"of another application \(tables customers\)"),
    "tables, no application_id, WAL mode": (lambda p: foreign_sqlite(p, wal=True),
                                            r"of another application \(tables customers\)"),
    "a user_version, no tables": (lambda p: foreign_sqlite(p, tables=False, user_version=7),
                                  r"of another application \(user_version 7 and no application_id\)"),
}


@pytest.mark.parametrize("create", [True, False], ids=["writer", "reader"])
@pytest.mark.parametrize("name", list(FOREIGN))
def test_a_file_that_is_not_a_netdiag_store_is_refused_and_left_byte_for_byte(tmp_path, name, create):
    make, message = FOREIGN[name]
    path = tmp_path / "other.db"
    make(path)
    before = fingerprint(path)
    with pytest.raises(NotAStoreError, match=message):
        TicketStore(path, create=create)
    assert fingerprint(path) == before  # no journal mode set, no -wal, -shm or -journal created


def test_the_cli_refuses_another_applications_database_in_one_line_and_leaves_it_as_it_was(tmp_path, tiny_dir):
    path = foreign_sqlite(tmp_path / "crm.sqlite")
    before = fingerprint(path)
    res = invoke("diagnose", "--data", tiny_dir, "--out", tmp_path / "out", "--db", path)
    assert "is an SQLite database of another application (tables customers)" in one_line_error(res.exit_code, res.output)
    res = invoke("tickets", "list", "--db", path)
    assert "of another application" in one_line_error(res.exit_code, res.output)
    assert fingerprint(path) == before


# ----------------------------------------------------------------------------- an empty file
def test_an_empty_file_is_refused_by_a_reader_and_only_a_writer_makes_it_a_store(tmp_path, tiny_dir):
    empty = tmp_path / "new.db"
    empty.touch()
    for args in (["tickets", "list"], ["tickets", "export", "--out", tmp_path / "t.csv"],
                 ["dispatch", "--team", "field-West", "--date", "2026-11-03", "--out", tmp_path / "d"]):
        res = invoke(*args, "--db", empty)
        assert f"ticket store {empty} is empty, not a ticket store" in one_line_error(res.exit_code, res.output)
    with pytest.raises(NotAStoreError, match="is empty, not a ticket store"):
        TicketStore(empty, create=False)
    assert fingerprint(empty) == (hashlib.sha256(b"").hexdigest(), [])
    blank = foreign_sqlite(tmp_path / "blank.db", tables=False)  # an SQLite file with nothing in it
    before = fingerprint(blank)
    with pytest.raises(NotAStoreError, match=r"is empty, not a ticket store \(an SQLite database without tables\)"):
        TicketStore(blank, create=False)
    assert fingerprint(blank) == before
    res = invoke("diagnose", "--data", tiny_dir, "--out", tmp_path / "out", "--db", empty)
    assert res.exit_code == 0, res.output
    with TicketStore(empty, create=False) as store:
        assert len(store.tickets()) > 0
    head = empty.read_bytes()[:100]
    assert int.from_bytes(head[68:72], "big") == APPLICATION_ID  # the header names netdiag from the start
    with TicketStore(blank) as store:
        assert store.schema_version() >= 1


# ----------------------------------------------------------------------------- damaged
def damage(db: Path, how: str) -> None:
    data = bytearray(db.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    rng = random.Random(8)
    if how == "garbage pages":
        data[page:] = rng.randbytes(len(data) - page)
    elif how == "garbage schema":
        data[100:page] = rng.randbytes(page - 100)
    elif how == "truncated":
        del data[2 * page:]
    db.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["garbage pages", "garbage schema", "truncated"])
def test_a_store_damaged_past_its_header_is_a_one_line_error_that_says_what_to_do(tmp_path, how):
    db, data, ticket = stocked(tmp_path)
    assert not Path(f"{db}-wal").exists()  # everything is in the file itself
    damage(db, how)
    for args in (["tickets", "list"], ["tickets", "show", ticket], ["tickets", "update", ticket, "--note", "x"],
                 ["diagnose", "--data", data, "--out", tmp_path / "out"]):
        res = invoke(*args, "--db", db)
        line = one_line_error(res.exit_code, res.output)
        assert f"ticket store {db} is damaged (" in line and "PRAGMA integrity_check" in line and "backup" in line, args
    with pytest.raises(StoreDamagedError):
        with TicketStore(db, create=False) as store:
            store.tickets()


# ----------------------------------------------------------------------------- a full disk
def dump(db: Path) -> dict:
    con = sqlite3.connect(db)
    try:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                for t in ("tickets", "complaints", "history", "notes", "runs", "id_counters")}
    finally:
        con.close()


def integrity(db: Path) -> list:
    con = sqlite3.connect(db)
    try:
        return con.execute("PRAGMA integrity_check").fetchall() + con.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        con.close()


def busy_days(folder: Path) -> tuple[Path, Path]:
    """Day 1, and days 1-3 with 300 more complaints: a run that needs some 200 kB more in the store."""
    more = [complaint(f"M{i:03d}", at("S001", 3.6 * i, 300 + i), f"2026-11-04T{i % 24:02d}:00:00Z",
                      description=f"complaint {i}: " + "no service at all " * 25) for i in range(300)]
    return write_day(folder / "d1", "day1"), write_day(folder / "d3", "day123", extra_complaints=more)


def test_a_full_store_rolls_the_run_back_and_a_rerun_with_space_completes_it(tmp_path):
    data1, data3 = busy_days(tmp_path)
    db = tmp_path / "t.db"
    with TicketStore(db) as store:
        run(store, data1)
    before = dump(db)
    with TicketStore(db) as store:
        pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
        store.conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "database or disk is full"
        with pytest.raises(StoreFullError, match=f"ticket store {db}: the disk is full .*rolled back"):
            run(store, data3)
        assert not store.conn.in_transaction
        assert dump(db) == before and integrity(db) == [("ok",)]  # the run's transaction was rolled back whole
        store.update(store.tickets()["ticket_id"].iloc[0], note="a small write still fits")
    with TicketStore(db) as store:
        result = run(store, data3)
        linked = set(store.complaints(store.tickets()["ticket_id"])["complaint_id"])
    assert linked == set(result.diagnoses["complaint_id"])
    assert integrity(db) == [("ok",)]


@pytest.fixture
def tiny_disk(tmp_path):
    """A 1 MiB tmpfs mounted at tmp_path/disk (root only); skipped where mounting is refused."""
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", str(disk)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to fill up here: {done.stderr.strip() or done.returncode}")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def fill(disk: Path, leave: int) -> Path:
    """A file taking all the free space of ``disk`` but ``leave`` bytes."""
    st = os.statvfs(disk)
    filler = disk / "filler"
    with open(filler, "wb") as fh:
        fh.write(b"\0" * max(0, st.f_bavail * st.f_frsize - leave))
    return filler


def test_a_full_disk_during_diagnose_is_one_line_and_the_store_stays_consistent(tmp_path, tiny_disk):
    data1, data3 = busy_days(tmp_path)
    db = tiny_disk / "t.db"
    res = invoke("diagnose", "--data", data1, "--out", tmp_path / "o1", "--db", db)
    assert res.exit_code == 0, res.output
    before = dump(db)
    filler = fill(tiny_disk, 48 * 1024)  # room to open the store (its -shm) but not for the run
    res = invoke("diagnose", "--data", data3, "--out", tmp_path / "o3", "--db", db)
    line = one_line_error(res.exit_code, res.output)
    assert f"ticket store {db}: the disk is full (database or disk is full); the transaction was rolled back" in line, line
    assert integrity(db) == [("ok",)]
    assert dump(db) == before  # the run's transaction was rolled back whole
    filler.unlink()
    res = invoke("diagnose", "--data", data3, "--out", tmp_path / "o3", "--db", db, "--overwrite")
    assert res.exit_code == 0, res.output
    d = pd.read_csv(tmp_path / "o3" / "diagnoses.csv", dtype=str, encoding="utf-8-sig")
    with TicketStore(db, create=False) as store:
        assert set(store.complaints(store.tickets()["ticket_id"])["complaint_id"]) == set(d["complaint_id"])
    assert integrity(db) == [("ok",)]


# ----------------------------------------------------------------------------- read-only: another user, chattr
@pytest.fixture
def shared():
    """A folder other users can reach (pytest's own tmp folders are private to root)."""
    base = Path(tempfile.mkdtemp(prefix="netdiag-shared-", dir="/tmp"))
    base.chmod(0o755)
    yield base
    subprocess.run(["chattr", "-R", "-i", str(base)], capture_output=True)
    for p in [base, *base.rglob("*")]:
        if not p.is_symlink():
            p.chmod(0o777 if p.is_dir() else 0o666)
    shutil.rmtree(base, ignore_errors=True)


def as_user(uid: int, folder: Path, *args) -> subprocess.CompletedProcess:
    """``netdiag ARGS`` run in ``folder`` by user ``uid`` (needs root and util-linux's setpriv).

    The interpreter may live in root's private home, so the user keeps one capability,
    CAP_DAC_READ_SEARCH: he may read any file, and write only what his uid may.
    """
    env = {**os.environ, "HOME": str(folder), "NETDIAG_USER": f"uid{uid}"}
    become = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=+dac_read_search",
              "--ambient-caps=+dac_read_search"]
    return subprocess.run([*become, *NETDIAG, "-q", *map(str, args)], cwd=folder, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def other_user(shared):
    """Run commands as uid 65534; skipped when this process cannot switch users or that user cannot run netdiag."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("running a command as another user needs root and setpriv (util-linux)")
    done = as_user(OTHER_UID, shared, "--help")
    if done.returncode != 0:
        pytest.skip(f"uid {OTHER_UID} cannot run this Python and netdiag: {done.stderr.strip()[-300:]}")
    return lambda *args: as_user(OTHER_UID, shared, *args)


def test_another_user_reads_a_store_he_may_not_write_and_gets_one_line_errors_for_writes(shared, other_user):
    folder = shared / "store"
    folder.mkdir()
    db, data, ticket = stocked(folder)
    out = shared / "out"
    out.mkdir()
    out.chmod(0o777)
    for p in [data, *data.iterdir()]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    folder.chmod(0o777)  # he could create files beside it: the file itself is what is read-only
    db.chmod(0o444)
    before = fingerprint(db)
    listed = other_user("tickets", "list", "--db", db)
    assert listed.returncode == 0 and ticket in listed.stdout, listed.stderr
    shown = other_user("tickets", "show", ticket, "--db", db, "--format", "json")
    assert shown.returncode == 0 and ticket in shown.stdout, shown.stderr
    assert fingerprint(db) == before  # nothing created beside it that would lock its owner out
    for args in (["tickets", "update", ticket, "--note", "on my way"], ["tickets", "close", ticket],
                 ["diagnose", "--data", data, "--out", out / "run"]):
        done = other_user(*args, "--db", db)
        line = one_line_error(done.returncode, done.stderr)
        assert f"ticket store {db} is read-only here: this user cannot write {db} (owner root, mode 444)" in line, args
    assert fingerprint(db) == before


def test_a_store_in_a_folder_another_user_may_not_write_is_read_and_writes_say_why(shared, other_user):
    folder = shared / "store"
    folder.mkdir()
    db, _, ticket = stocked(folder)
    db.chmod(0o666)  # the file is writable, but SQLite could not create its -wal and -shm beside it
    folder.chmod(0o555)
    listed = other_user("tickets", "list", "--db", db)
    assert listed.returncode == 0 and ticket in listed.stdout, listed.stderr
    done = other_user("tickets", "update", ticket, "--note", "x", "--db", db)
    line = one_line_error(done.returncode, done.stderr)
    assert f"its folder {folder} is not writable, and SQLite must create t.db-wal and t.db-shm there" in line


def test_a_reader_does_not_lock_the_stores_owner_out(shared, other_user):
    """A reader without write access used to leave a -wal and -shm of his own, which the owner could not write."""
    folder = shared / "team"
    folder.mkdir()
    db, _, ticket = stocked(folder)
    folder.chmod(0o777)  # a shared folder
    for p in folder.rglob("*"):
        os.chown(p, OWNER_UID, OWNER_UID)
    db.chmod(0o644)
    listed = other_user("tickets", "list", "--db", db)
    assert listed.returncode == 0, listed.stderr
    owner = as_user(OWNER_UID, shared, "tickets", "update", ticket, "--note", "still mine", "--db", db)
    assert owner.returncode == 0, owner.stderr


def test_a_wal_left_without_its_shm_in_a_read_only_folder_is_a_one_line_error(shared, other_user):
    folder, copy = shared / "live", shared / "copy"
    folder.mkdir()
    copy.mkdir()
    db, _, ticket = stocked(folder)
    con = sqlite3.connect(db)  # a writer whose last change is still in the -wal
    con.execute("UPDATE tickets SET team = 'field-East' WHERE ticket_id = ?", (ticket,))
    con.commit()
    shutil.copy(db, copy / "t.db")
    shutil.copy(f"{db}-wal", copy / "t.db-wal")
    con.close()
    copy.chmod(0o555)
    done = other_user("tickets", "list", "--db", copy / "t.db")
    line = one_line_error(done.returncode, done.stderr)
    assert f"{copy / 't.db-wal'} holds writes that SQLite can only read by creating t.db-shm beside it" in line


@pytest.fixture
def immutable(tmp_path):
    """``chattr +i`` on a file: even root cannot write it; skipped where the file system has no such flag."""
    marked = []

    def mark(path: Path) -> None:
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"chattr +i does not work here: {done.stderr.strip()}")
        marked.append(path)
    yield mark
    for path in marked:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True)


def test_an_immutable_store_is_read_and_writes_are_one_line_errors(tmp_path, immutable):
    db, data, ticket = stocked(tmp_path)
    immutable(db)
    if os.access(db, os.W_OK):
        pytest.skip("this user may write a chattr +i file")
    before = fingerprint(db)
    res = invoke("tickets", "list", "--db", db)
    assert res.exit_code == 0 and ticket in res.output, res.output
    for args in (["tickets", "update", ticket, "--status", "inProgress"],
                 ["diagnose", "--data", data, "--out", tmp_path / "out"]):
        res = invoke(*args, "--db", db)
        assert f"ticket store {db} is read-only here: this user cannot write" in one_line_error(res.exit_code, res.output)
    assert fingerprint(db) == before


# ----------------------------------------------------------------------------- symlinks, -wal left behind, versions
def test_a_symlinked_store_keeps_its_wal_beside_the_real_file_and_a_symlink_to_a_foreign_file_is_refused(tmp_path):
    real, links = tmp_path / "real", tmp_path / "links"
    real.mkdir()
    links.mkdir()
    db, _, ticket = stocked(real)
    (links / "t.db").symlink_to(db)
    links.chmod(0o555)  # the link's folder is read-only: only the real file's folder matters
    try:
        with TicketStore(links / "t.db", create=False) as store:
            store.update(ticket, note="through a link")
            assert Path(f"{db}-wal").exists() and not (links / "t.db-wal").exists()
    finally:
        links.chmod(0o755)
    other = foreign_sqlite(tmp_path / "crm.sqlite")
    (links / "crm.db").symlink_to(other)
    before = fingerprint(other)
    with pytest.raises(NotAStoreError, match="of another application"):
        TicketStore(links / "crm.db")
    assert fingerprint(other) == before


def test_a_store_whose_header_is_still_in_a_wal_left_by_a_killed_process_is_recognised(tmp_path):
    """A store created by netdiag 0.2 (application_id set in WAL mode), its creator killed before a checkpoint."""
    from netdiag.tickets.store import MIGRATIONS

    db = tmp_path / "old.db"
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        con = sqlite3.connect(db, isolation_level=None)
        con.execute("PRAGMA journal_mode = WAL")
        con.execute("BEGIN IMMEDIATE")
        con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        for statement in MIGRATIONS[0]:
            con.execute(statement)
        con.execute("PRAGMA user_version = 1")
        con.execute("COMMIT")
        os.kill(os.getpid(), signal.SIGKILL)
    os.waitpid(pid, 0)
    assert int.from_bytes(db.read_bytes()[68:72], "big") == 0 and Path(f"{db}-wal").stat().st_size > 0
    with TicketStore(db, create=False) as store:  # recognised, and migrated from version 1 on opening
        assert store.schema_version() == len(MIGRATIONS) and store.tickets().empty


def test_a_store_of_an_older_schema_that_cannot_be_written_says_it_must_be_migrated_first(tmp_path, immutable, monkeypatch):
    import netdiag.tickets.store as store_mod

    db, _, _ = stocked(tmp_path)
    immutable(db)
    if os.access(db, os.W_OK):
        pytest.skip("this user may write a chattr +i file")
    monkeypatch.setattr(store_mod, "MIGRATIONS", store_mod.MIGRATIONS + [["ALTER TABLE tickets ADD COLUMN sla INTEGER"]])
    version = len(store_mod.MIGRATIONS) - 1
    with pytest.raises(StoreReadOnlyError, match=rf"its schema \(version {version}\) must first be migrated to version "
                                                 rf"{version + 1}"):
        store_mod.TicketStore(db, create=False)
    with pytest.raises(StoreReadOnlyError, match="is read-only here"):
        store_mod.TicketStore(db)


def test_a_symlink_to_nothing_is_refused_and_nothing_is_created_where_it_points(tmp_path, tiny_dir):
    (tmp_path / "planted.db").symlink_to(tmp_path / "elsewhere" / "target.db")
    for args in (["tickets", "list"], ["diagnose", "--data", tiny_dir, "--out", tmp_path / "out"]):
        res = invoke(*args, "--db", tmp_path / "planted.db")
        line = one_line_error(res.exit_code, res.output)
        assert f"is a symbolic link to {tmp_path / 'elsewhere' / 'target.db'}, which does not exist" in line, args
    assert not (tmp_path / "elsewhere").exists()


def test_a_new_store_in_a_folder_another_user_may_not_write_is_a_one_line_error(shared, other_user, tiny_dir):
    data = shared / "data"
    shutil.copytree(tiny_dir, data)
    out = shared / "out"
    out.mkdir(mode=0o777)
    out.chmod(0o777)
    done = other_user("diagnose", "--data", data, "--out", out / "run", "--db", shared / "stores" / "new.db")
    line = one_line_error(done.returncode, done.stderr)
    assert f"ticket store {shared / 'stores' / 'new.db'} cannot be created: its folder {shared} is not writable" in line


def test_exporting_onto_the_store_itself_is_refused(tmp_path):
    db, _, _ = stocked(tmp_path)
    before = fingerprint(db)
    for fmt in ("csv", "gpkg"):
        res = invoke("tickets", "export", "--db", db, "--format", fmt, "--out", db, "--overwrite")
        assert f"the export file {db} is the ticket store itself" in one_line_error(res.exit_code, res.output)
    assert fingerprint(db) == before


def test_a_store_migrated_by_a_newer_netdiag_while_open_is_not_written_with_the_old_schema(tmp_path):
    from netdiag.tickets.store import SCHEMA_VERSION

    db, _, ticket = stocked(tmp_path)
    with TicketStore(db) as store:
        raw = sqlite3.connect(db)  # a newer netdiag migrates the store meanwhile
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        raw.commit()
        raw.close()
        with pytest.raises(InputError, match=f"has schema version {SCHEMA_VERSION + 1} \\(a newer netdiag "
                                                            f"migrated it while this one had it open\\)"):
            store.update(ticket, note="written with the old schema")
    assert sqlite3.connect(db).execute("SELECT count(*) FROM notes").fetchone() == (0,)


def test_a_reader_tries_again_when_the_wal_and_shm_vanish_while_it_opens_the_store(tmp_path, immutable, monkeypatch):
    """The owner closing the store deletes its -wal and -shm between the reader looking and SQLite opening them."""
    from netdiag.tickets.store import files

    db, _, ticket = stocked(tmp_path)
    immutable(tmp_path)  # nobody, root included, may create files in the folder
    if os.access(tmp_path, os.W_OK):
        pytest.skip("this user may create files in a chattr +i folder")
    seen, real = [], files.read_mode
    monkeypatch.setattr(files, "read_mode", lambda path: seen.append(real(path)) or ("ro" if len(seen) == 1 else seen[-1]))
    with TicketStore(db, create=False) as store:
        assert ticket in set(store.tickets()["ticket_id"])
    assert seen == ["immutable", "immutable"]  # "ro" (as if both had been there) failed, and the store was looked at again


def test_a_wal_and_shm_left_by_another_user_let_the_owner_read_and_say_why_he_cannot_write(shared):
    """What a reader of an older netdiag left behind: a -wal and -shm the store's owner may not write."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("running a command as another user needs root and setpriv (util-linux)")
    folder = shared / "team"
    folder.mkdir()
    db, _, ticket = stocked(folder)
    folder.chmod(0o777)
    for p in folder.rglob("*"):
        os.chown(p, OWNER_UID, OWNER_UID)
    for name in ("t.db-wal", "t.db-shm"):  # as SQLite leaves them for a reader who could not write the store
        (folder / name).write_bytes(b"" if name.endswith("wal") else b"\0" * 32768)
        os.chown(folder / name, OTHER_UID, OTHER_UID)
        (folder / name).chmod(0o644)
    listed = as_user(OWNER_UID, shared, "tickets", "list", "--db", db)
    if listed.returncode != 0 and "cannot run" in listed.stderr:
        pytest.skip(listed.stderr)
    assert listed.returncode == 0 and ticket in listed.stdout, listed.stderr
    done = as_user(OWNER_UID, shared, "tickets", "update", ticket, "--note", "x", "--db", db)
    line = one_line_error(done.returncode, done.stderr)
    assert f"{folder / 't.db-wal'} is not writable by this user (owner nobody, mode 644); it was left by another user's " \
           f"process" in line


def test_a_writer_kept_waiting_too_long_gets_a_one_line_busy_error(tmp_path):
    from netdiag.errors import StoreBusyError
    from netdiag.settings import Settings

    db, _, ticket = stocked(tmp_path)
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the store
    try:
        with TicketStore(db, settings=Settings().with_overrides({"store_busy_timeout_s": "0.2"})) as store:
            assert ticket in set(store.tickets()["ticket_id"])  # readers never wait
            with pytest.raises(StoreBusyError, match=f"ticket store {db} stayed busy for 0.2 s \\(another netdiag is "
                                                     f"writing\\); try again or raise store_busy_timeout_s"):
                store.update(ticket, note="x")
    finally:
        other.execute("ROLLBACK")
        other.close()
