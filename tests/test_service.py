"""`netdiag serve` answers `netdiag check` exactly as a check on its own would, from a running process."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from netdiag.cli.main import cli
from netdiag.service import socket_path
from netdiag.settings import Settings

CHECK = ["--lat", "53.355", "--lon", "-6.4", "--at", "2026-11-02T11:30:00Z", "--format", "json"]


@pytest.fixture
def server(tiny_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("NETDIAG_RUNTIME_DIR", str(tmp_path))
    env = {**os.environ, "NETDIAG_RUNTIME_DIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "netdiag.cli.main", "serve", "--data", str(tiny_dir)], env=env,
                            stderr=subprocess.PIPE, text=True)
    path = socket_path(tiny_dir, Settings().as_dict())
    deadline = time.monotonic() + 60
    while not path.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    assert path.exists(), proc.stderr.read() if proc.poll() is not None else "no socket"
    yield proc, path
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


def test_check_asks_the_running_server(server, tiny_dir):
    proc, path = server
    runner = CliRunner()
    served = runner.invoke(cli, ["check", "--data", str(tiny_dir), *CHECK], catch_exceptions=False)
    alone = runner.invoke(cli, ["check", "--data", str(tiny_dir), *CHECK, "--no-server"], catch_exceptions=False)
    assert served.exit_code == 0 and alone.exit_code == 0
    assert json.loads(served.stdout) == json.loads(alone.stdout)
    assert json.loads(served.stdout)["verdict"]["element_id"] == "HUB1"
    bad = runner.invoke(cli, ["check", "--data", str(tiny_dir), "--lat", "22.5", "--lon", "114.0"])
    assert bad.exit_code == 2 and "outside the network's area" in bad.output
    again = runner.invoke(cli, ["serve", "--data", str(tiny_dir)])
    assert again.exit_code == 2 and "a netdiag server already answers" in again.output


def test_server_removes_its_socket_when_stopped(server):
    proc, path = server
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    assert not path.exists()


def test_a_stale_socket_falls_back_to_reading_the_data(tiny_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("NETDIAG_RUNTIME_DIR", str(tmp_path))
    socket_path(tiny_dir, Settings().as_dict()).write_text("")  # a server that died without cleaning up
    res = CliRunner().invoke(cli, ["check", "--data", str(tiny_dir), *CHECK], catch_exceptions=False)
    assert res.exit_code == 0 and json.loads(res.stdout)["verdict"]["cause"] == "fault"
