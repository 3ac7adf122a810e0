"""The same diagnosis on a Dask cluster (issue #12): a LocalCluster of 2 workers reads a prepared workspace's
counters and gives byte-identical outputs; a worker killed mid-run is replaced and the run completes; clear
errors for an unreachable scheduler, workers of another netdiag, and options that do not go together."""
from __future__ import annotations

import os
import signal
import threading
import time

import pandas as pd
import pytest
from click.testing import CliRunner

from netdiag.cli.main import cli

distributed = pytest.importorskip("distributed", reason="Dask is not installed (pip install 'netdiag[dask]')")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, sample_dir):
    ws = tmp_path_factory.mktemp("dask") / "ws"
    res = CliRunner().invoke(cli, ["-q", "prepare", str(sample_dir), "--workspace", str(ws)])
    assert res.exit_code == 0, res.output
    return ws


@pytest.fixture(scope="module")
def engine():
    from netdiag.engine.engines import DaskEngine

    with DaskEngine(workers=2) as running:
        yield running


def test_diagnose_on_two_dask_workers_writes_the_same_files_byte_for_byte(workspace, tmp_path):
    runner = CliRunner()
    local = runner.invoke(cli, ["-q", "diagnose", "--workspace", str(workspace), "--out", str(tmp_path / "local")])
    dask = runner.invoke(cli, ["diagnose", "--workspace", str(workspace), "--out", str(tmp_path / "dask"),
                               "--engine", "dask", "--workers", "2"])
    assert local.exit_code == 0 and dask.exit_code == 0, dask.output
    assert "starting a Dask LocalCluster of 2 workers" in dask.output
    assert "counter files: 15 of 15 done on the Dask workers" in dask.output
    for name in ("diagnoses.csv", "tickets.csv", "rejected.csv"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name


class SlowCounters:
    """A workspace's counters whose pieces take a while to read (so that a worker can be killed mid-run)."""

    def __init__(self, counters, seconds: float):
        self.counters, self.seconds = counters, seconds

    def pieces(self):
        return self.counters.pieces()

    def read_piece(self, piece, columns=None, cells=None):
        time.sleep(self.seconds)
        yield from self.counters.read_piece(piece, columns, cells)

    def empty(self):
        return self.counters.empty()


def test_a_worker_killed_mid_run_is_replaced_and_the_run_gives_the_same_answer(workspace, engine):
    from netdiag.data.workspace import open_workspace
    from netdiag.engine.status import scan_counters
    from netdiag.settings import Settings

    settings = Settings()
    counters = open_workspace(workspace, settings=settings).counters
    expected = scan_counters(counters, settings=settings)
    pids = engine.client.run(os.getpid)
    killed = []

    def kill_one():
        time.sleep(1.0)  # the workers are in the middle of the 15 files (0.4 s each)
        victim = sorted(pids.values())[0]
        os.kill(victim, signal.SIGKILL)
        killed.append(victim)

    killer = threading.Thread(target=kill_one)
    killer.start()
    got = scan_counters(SlowCounters(counters, 0.4), settings=settings, engine=engine)
    killer.join()
    assert killed and killed[0] not in engine.client.run(os.getpid).values()  # the nanny started a new process
    for g, e in zip(got, expected):
        pd.testing.assert_frame_equal(g.reset_index(drop=True), e.reset_index(drop=True))


def test_workers_of_another_netdiag_version_are_refused(engine, monkeypatch):
    import netdiag
    from netdiag.errors import InputError

    monkeypatch.setattr(netdiag, "__version__", "0.0.1")
    with pytest.raises(InputError, match=r"2 Dask worker\(s\) at here run netdiag .* this is netdiag 0\.0\.1; install "
                                         r"the same version on every worker"):
        engine._check_workers("here")


@pytest.mark.parametrize("args, says", [
    (["--engine", "dask", "--scheduler", "tcp://127.0.0.1:9"], "no Dask scheduler answers at tcp://127.0.0.1:9"),
    (["--scheduler", "tcp://127.0.0.1:9"], "--scheduler is for --engine dask"),
    (["--engine", "dask", "--scheduler", "tcp://127.0.0.1:9", "--workers", "2"], "--workers and --worker-memory size"),
])
def test_engine_options_that_cannot_work_are_one_line_errors(args, says, workspace, tmp_path):
    res = CliRunner().invoke(cli, ["diagnose", "--workspace", str(workspace), "--out", str(tmp_path / "o"), *args])
    assert res.exit_code == 2 and says in res.output and "Traceback" not in res.output, res.output


def test_dask_needs_a_prepared_workspace(sample_dir, tmp_path):
    res = CliRunner().invoke(cli, ["diagnose", "--data", str(sample_dir), "--out", str(tmp_path / "o"), "--engine", "dask"])
    assert res.exit_code == 2 and "--engine dask reads a prepared workspace" in res.output
    assert f"netdiag prepare {sample_dir} --workspace WS" in res.output


def _listening_on_every_interface() -> list[int]:
    """Ports this process listens on at 0.0.0.0 or :: (reachable from other machines), from /proc."""
    import os

    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = []
    for table, anywhere in (("/proc/net/tcp", "00000000"), ("/proc/net/tcp6", "0" * 32)):
        with open(table) as fh:
            for line in fh.readlines()[1:]:
                cols = line.split()
                address, port = cols[1].split(":")
                if cols[3] == "0A" and address == anywhere and cols[9] in inodes:  # 0A: listening
                    ports.append(int(port, 16))
    return ports


def test_the_local_cluster_listens_on_loopback_only(engine):
    """Its scheduler, and the scheduler's HTTP server, are not reachable from other machines."""
    assert _listening_on_every_interface() == []
