"""A table name taken by something that is not a readable regular file (a dangling or looping
symbolic link, a FIFO, a folder, a file without read permission) is a one-line error naming the
file and what it is (exit code 2), never a table silently taken as absent; a FIFO is never opened."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import TINY, write_csv, write_dataset
from netdiag.data.dataset import load_dataset
from netdiag.errors import InputError


def _events_as(kind: str, folder: Path) -> Path:
    write_dataset(folder, skip=("events",))
    path = folder / "events.csv"
    if kind == "dangling symbolic link":
        path.symlink_to(folder / "gone.csv")
    elif kind == "symbolic link loop":
        path.symlink_to(path)
    elif kind == "FIFO":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
        write_csv(path / "events.csv", *TINY["events"])
    return folder


def _validate_in_subprocess(folder: Path, *, as_uid: int | None = None) -> subprocess.CompletedProcess:
    """``netdiag validate`` in its own process: a FIFO that is opened would block it, not the suite.

    With ``as_uid``, the process imports netdiag as it is, then drops to that user id before it
    reads anything (the interpreter's own files may be out of that user's reach).
    """
    drop = f"os.setgid({as_uid}); os.setuid({as_uid}); " if as_uid is not None else ""
    code = ("import os, sys, encodings.utf_8_sig, encodings.gb18030; from netdiag.cli.main import cli; "
            "import netdiag.cli.validate, netdiag.data.dataset; "
            f"{drop}sys.argv = ['netdiag', 'validate', '--data', {str(folder)!r}]; cli()")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("kind, message", [
    ("dangling symbolic link", r"events\.csv is a dangling symbolic link \(to .*gone\.csv, which does not exist\)"),
    ("symbolic link loop", r"events\.csv is a symbolic link loop"),
    ("FIFO", r"events\.csv is a FIFO \(named pipe\), not a file"),
    ("folder", r"events\.csv is a folder, not a file"),
])
def test_a_table_name_that_is_not_a_readable_file_is_a_one_line_error(tmp_path, kind, message):
    folder = _events_as(kind, tmp_path / "data")
    res = _validate_in_subprocess(folder)
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    assert re.search(message + r".*table `events` must be a readable regular file", res.stderr), res.stderr
    if kind != "FIFO":
        with pytest.raises(InputError, match=message):
            load_dataset(folder)


def test_a_geopackage_that_is_a_fifo_is_an_error_not_a_hang(tmp_path):
    folder = write_dataset(tmp_path / "data")
    os.mkfifo(folder / "network.gpkg")
    res = _validate_in_subprocess(folder)
    assert res.returncode == 2 and "network.gpkg is a FIFO (named pipe), not a file" in res.stderr, res.stderr


def test_a_table_file_without_read_permission_is_a_one_line_error():
    if os.geteuid() != 0:
        pytest.skip("needs root, to read as the unprivileged uid 65534 (root may read any file)")
    folder = Path(tempfile.mkdtemp(prefix="netdiag-perm-"))
    try:
        os.chmod(folder, 0o755)
        write_dataset(folder)
        for path in folder.iterdir():
            os.chmod(path, 0o644)
        os.chmod(folder / "events.csv", 0)
        res = _validate_in_subprocess(folder, as_uid=65534)
        assert res.returncode == 2, (res.stdout, res.stderr)
        assert "Traceback" not in res.stderr
        assert f"{folder / 'events.csv'} cannot be read: no read permission" in res.stderr, res.stderr
    finally:
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
