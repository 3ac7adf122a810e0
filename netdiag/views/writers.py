"""Writing outputs: safe CSV (Excel-ready), JSON, the diagnosis files; never overwriting without being asked."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from netdiag.errors import InputError, OutputExistsError
from netdiag.views.sanitize import neutralise_frame


def ensure_writable(path: str | Path, *, overwrite: bool = False) -> Path:
    """Check that a file may be written at ``path`` and create its parent folders.

    Parameters
    ----------
    path : str or Path
        The file about to be written.
    overwrite : bool
        Allow replacing an existing file.

    Returns
    -------
    Path

    Raises
    ------
    OutputExistsError
        When a file is already there and ``overwrite`` is false.
    InputError
        When a folder is there.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path} is a folder; give a file name, e.g. {path / 'netdiag.html'}")
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} already exists; pass `overwrite` to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def prepare_out_dir(out_dir: str | Path, names: list[str], *, overwrite: bool = False) -> Path:
    """Create ``out_dir`` (and parents); refuse to overwrite existing outputs unless asked.

    Raises
    ------
    OutputExistsError
        When one of ``names`` exists in ``out_dir`` and ``overwrite`` is false.
    InputError
        When ``out_dir`` is a file.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"`out` {out} exists and is not a folder")
    existing = [n for n in names if (out / n).exists()]
    if existing and not overwrite:
        raise OutputExistsError(f"{out} already holds {', '.join(existing)}; pass `overwrite` to replace them")
    out.mkdir(parents=True, exist_ok=True)
    return out


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """UTF-8 with BOM (so Excel reads Chinese text), formulas neutralised, no index."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    neutralise_frame(frame).to_csv(path, index=False, encoding="utf-8-sig", date_format="%Y-%m-%dT%H:%M:%SZ")
    return path


def csv_text(frame: pd.DataFrame) -> str:
    """A frame as CSV text for stdout: formulas neutralised, times as ISO 8601 UTC, no index."""
    return neutralise_frame(frame).to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ")


def json_text(obj, *, indent: int | None = 2) -> str:
    """JSON text for stdout (UTF-8 text kept readable; timestamps and the like as strings)."""
    if isinstance(obj, pd.DataFrame):
        obj = to_jsonable(obj)
    return json.dumps(obj, ensure_ascii=False, indent=indent, default=str)


def to_jsonable(frame: pd.DataFrame) -> list[dict]:
    """Records with ISO timestamps and nulls as None."""
    return json.loads(frame.to_json(orient="records", date_format="iso", force_ascii=False))


def write_json(obj, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(obj, pd.DataFrame):
        obj = to_jsonable(obj)
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return path


REJECTED_OUT = ["table", "row", "id", "reason"]
OUTPUT_FILES = ["diagnoses.csv", "tickets.csv", "rejected.csv"]
JSON_FILES = ["diagnoses.json", "tickets.json", "summary.json"]


def write_rejected(rejected: pd.DataFrame, path: str | Path) -> Path:
    """``rejected.csv`` in the contract's format: ``table, row, id, reason``."""
    return write_csv(rejected[REJECTED_OUT], path)


def write_diagnosis(result, out_dir: str | Path, *, json: bool = False) -> list[Path]:
    """Write the contract's three CSV files (and, with ``json``, the same as JSON)."""
    out = Path(out_dir)
    written = [
        write_csv(result.diagnoses, out / "diagnoses.csv"),
        write_csv(result.tickets, out / "tickets.csv"),
        write_rejected(result.rejected, out / "rejected.csv"),
    ]
    if json:
        written += [
            write_json(to_jsonable(result.diagnoses), out / "diagnoses.json"),
            write_json(to_jsonable(result.tickets), out / "tickets.json"),
            write_json(result.summary(), out / "summary.json"),
        ]
    return written
