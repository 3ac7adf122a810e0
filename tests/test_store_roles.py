"""Least privilege on a shared PostgreSQL store (issue #11, point 3): the README's roles, run as written on a
real server, give handlers reading and updating, the runs writing tickets, and neither of them the schema."""
from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from netdiag.cli.main import cli
from test_store import write_day

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_sql(marker: str) -> str:
    """The ```sql block of the README right after ``<!-- marker``."""
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"<!-- {re.escape(marker)}.*?```sql\n(.*?)```", text, re.S)
    assert match, f"the README has no sql block after <!-- {marker}"
    return re.sub(r"^\s+", "", match.group(1), flags=re.M)


def own_names(sql: str, prefix: str) -> str:
    """The README's roles and schema (noc_owner, noc_runs, noc_handlers; noc) under this test's own names."""
    return re.sub(r"\bnoc\b", prefix, re.sub(r"\bnoc_(owner|runs|handlers)\b", rf"{prefix}_\1", sql))


def run_sql(conn, sql: str) -> None:
    """The statements of ``sql`` one by one (the README's blocks hold no ';' but between statements)."""
    for statement in sql.split(";"):
        if re.sub(r"--[^\n]*", "", statement).strip():
            conn.execute(statement)


@pytest.fixture
def roles(pg_server, tmp_path, monkeypatch):
    """The README's roles on the test server, each with a password in a pgpass file of this test's own."""
    import os

    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    from netdiag.tickets.store import postgres

    prefix = f"r{uuid.uuid4().hex[:10]}"
    params = conninfo_to_dict(pg_server)
    host, port, dbname = params["host"], params["port"], params["dbname"]
    passwords = {role: uuid.uuid4().hex for role in ("owner", "runs", "handlers")}
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(Path(os.environ["PGPASSFILE"]).read_text()
                      + "".join(f"{host}:{port}:*:{prefix}_{role}:{pw}\n" for role, pw in passwords.items()))
    pgpass.chmod(0o600)
    with psycopg.connect(pg_server, autocommit=True) as admin:
        run_sql(admin, own_names(readme_sql("roles.sql"), prefix))
        for role, pw in passwords.items():
            admin.execute(f"ALTER ROLE {prefix}_{role} PASSWORD '{pw}'")
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    address = {role: f"postgresql://{prefix}_{role}@{host}:{port}/{dbname}" for role in passwords}
    yield prefix, address
    postgres.close_pools()
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute(f"DROP SCHEMA IF EXISTS {prefix} CASCADE")
        for role in passwords:
            admin.execute(f"DROP OWNED BY {prefix}_{role}")
            admin.execute(f"DROP ROLE {prefix}_{role}")


def nd(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_the_readme_roles_give_each_job_what_it_needs_and_no_more(roles, pg_server, tmp_path):
    import psycopg

    prefix, address = roles
    res = nd("tickets", "init", "--db", address["owner"])
    assert res.exit_code == 0 and "schema version 2, 0 tickets" in res.output, res.output
    with psycopg.connect(pg_server, autocommit=True) as admin:
        run_sql(admin, own_names(readme_sql("roles-after-init.sql"), prefix))
    data = write_day(tmp_path / "data", "day12")
    res = nd("diagnose", data, "--out", tmp_path / "out", "--db", address["runs"])
    assert res.exit_code == 0 and "3 new tickets" in res.output, res.output

    # a handler reads, updates and checks
    res = nd("tickets", "list", "--db", address["handlers"], "--format", "csv")
    assert res.exit_code == 0 and res.output.count("TS-") == 3, res.output
    ticket = re.search(r"TS-\d{8}-\d{4}", res.output).group(0)
    res = nd("tickets", "update", ticket, "--db", address["handlers"], "--status", "inProgress", "--note", "on site",
             "--who", "li.wei")
    assert res.exit_code == 0 and "status acknowledged -> inProgress; note added" in res.output, res.output
    res = nd("check", "--data", data, "--lat", "53.35", "--lon", "-6.34", "--db", address["handlers"], "--format", "json")
    assert res.exit_code == 0, res.output
    # ... but does not run diagnoses, and sees one line saying why
    res = nd("diagnose", data, "--out", tmp_path / "out2", "--db", address["handlers"])
    assert res.exit_code == 2 and "this role may not do that (permission denied for table runs)" in res.output
    assert "Traceback" not in res.output and "password" not in res.output.lower()

    # the runs write tickets but not the schema, nor its record of what it is, nor rewrite history
    with psycopg.connect(address["runs"], autocommit=True) as runs:
        for sql in ("ALTER TABLE tickets ADD COLUMN sneaky TEXT",
                    "UPDATE netdiag_meta SET value = '99' WHERE key = 'schema_version'",
                    "DELETE FROM history", "UPDATE history SET why = 'nothing happened'", "DELETE FROM notes",
                    f"INSERT INTO history (ticket_id, at, who, event, db_role) VALUES ('{ticket}', 'now', 'x', 'y', 'boss')"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                runs.execute(sql)
    # a handler changes what a handler's update changes, and nothing else
    with psycopg.connect(address["handlers"], autocommit=True) as handlers:
        for sql in ("DELETE FROM complaints", f"UPDATE tickets SET element_id = 'FAKE' WHERE ticket_id = '{ticket}'",
                    f"UPDATE tickets SET complaint_count = 0 WHERE ticket_id = '{ticket}'",
                    "DELETE FROM history",
                    f"INSERT INTO notes (ticket_id, at, who, text, db_role) VALUES ('{ticket}', 'now', 'x', 'y', 'boss')"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                handlers.execute(sql)
        # and what each role wrote says so, whatever name a person gave
        wrote = handlers.execute(f"SELECT who, db_role FROM history WHERE ticket_id = '{ticket}' AND event = 'status'").fetchall()
        assert wrote == [("li.wei", f"{prefix}_handlers")]
        assert handlers.execute(f"SELECT db_role FROM notes WHERE ticket_id = '{ticket}'").fetchall() == [(f"{prefix}_handlers",)]
        created = handlers.execute("SELECT DISTINCT db_role FROM history WHERE event = 'created'").fetchall()
        assert created == [(f"{prefix}_runs",)]
