"""`--db` is a SQLite file: a server address there is a clear error, never a path (issue #11, its last point)."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from netdiag.cli.main import cli


@pytest.mark.parametrize("command", [["diagnose", "--out", "o"], ["check", "--lat", "22.54", "--lon", "114.05"],
                                     ["tickets", "list"], ["dispatch", "--team", "field-Futian"]])
def test_a_server_address_as_db_is_a_clear_error_not_a_file(command, sample_dir, tmp_path, monkeypatch):
    """A NOC may try its PostgreSQL server: never a folder named 'postgresql:' with a SQLite file in it,
    and the address (it may hold a password) is not repeated."""
    monkeypatch.chdir(tmp_path)
    args = [*command, "--db", "postgresql://noc:s3cret@db.example/netdiag"]
    if command[0] in ("diagnose", "check"):
        args += ["--data", str(sample_dir)]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 2 and "postgresql:// address" in res.output and "SQLite file" in res.output
    assert "s3cret" not in res.output and not list(tmp_path.iterdir())
    from netdiag.errors import InputError
    from netdiag.tickets.store import TicketStore

    with pytest.raises(InputError, match="postgresql:// address") as caught:
        TicketStore("postgresql://noc:s3cret@db.example/netdiag")
    assert "s3cret" not in str(caught.value)
