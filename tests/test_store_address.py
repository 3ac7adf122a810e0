"""`--db` is a SQLite file or a PostgreSQL address: any other address, or one holding a password, is a clear
error, never a path, and the address is never repeated (issue #11)."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from netdiag.cli.main import cli
from netdiag.errors import InputError
from netdiag.tickets.store import TicketStore

COMMANDS = [["diagnose", "--out", "o"], ["check", "--lat", "22.54", "--lon", "114.05"], ["tickets", "list"],
            ["dispatch", "--team", "field-Futian"]]


def run(command, db, sample_dir):
    args = [*command, "--db", db]
    if command[0] in ("diagnose", "check"):
        args += ["--data", str(sample_dir)]
    return CliRunner().invoke(cli, args)


@pytest.mark.parametrize("command", COMMANDS)
def test_another_server_address_as_db_is_a_clear_error_not_a_file(command, sample_dir, tmp_path, monkeypatch):
    """Never a folder named 'mysql:' with a SQLite file in it, and the address is not repeated."""
    monkeypatch.chdir(tmp_path)
    res = run(command, "mysql://noc:s3cret@db.example/netdiag", sample_dir)
    assert res.exit_code == 2 and "mysql:// address" in res.output and "postgresql://USER@HOST/DATABASE" in res.output
    assert "s3cret" not in res.output and not list(tmp_path.iterdir())
    with pytest.raises(InputError, match="mysql:// address") as caught:
        TicketStore("mysql://noc:s3cret@db.example/netdiag")
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("address", ["postgresql://noc:s3cret@db.example/netdiag",
                                     "postgres://noc@db.example/netdiag?password=s3cret"])
def test_a_password_in_the_address_is_refused_before_any_connection(command, address, sample_dir, tmp_path, monkeypatch):
    """Other accounts read a command line in `ps`: the password belongs in ~/.pgpass, and is never echoed."""
    monkeypatch.chdir(tmp_path)
    res = run(command, address, sample_dir)
    assert res.exit_code == 2 and "~/.pgpass" in res.output and "s3cret" not in res.output
    assert not list(tmp_path.iterdir())
    with pytest.raises(InputError, match="pgpass") as caught:
        TicketStore(address)
    assert "s3cret" not in str(caught.value)


def test_an_unreachable_server_is_one_line_naming_it_without_a_password(sample_dir, tmp_path, monkeypatch):
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.chdir(tmp_path)
    res = run(["tickets", "list"], f"postgresql://noc@127.0.0.1:{port}/netdiag?connect_timeout=2", sample_dir)
    assert res.exit_code == 2, res.output
    assert f"postgresql://noc@127.0.0.1:{port}/netdiag cannot be reached" in res.output and "Traceback" not in res.output
