"""Writing outputs: safe CSV (Excel-ready), JSON, the diagnosis files, ticket exports; never overwriting without being asked."""
from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
from pathlib import Path

import pandas as pd

from netdiag.data.times import ISO_UTC, iso_utc
from netdiag.errors import InputError, OutputExistsError
from netdiag.tickets.tmf621 import tmf621
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
    _refuse_link(path)
    _refuse_foreign_folder(path.parent)
    if path.is_dir():
        raise InputError(f"{path} is a folder; give a file name, e.g. {path / 'netdiag.html'}")
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} already exists; pass `overwrite` to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _refuse_link(path: Path) -> None:
    """netdiag never writes through a symbolic link (a dangling one would create a file elsewhere)."""
    if path.is_symlink():
        raise InputError(f"{path} is a symbolic link; netdiag does not write through links: "
                         f"remove it or choose another name")


def _refuse_foreign_folder(folder: Path) -> None:
    """An output folder that is a link someone else made is refused (your own links are fine):
    in a shared folder, another account could otherwise send the files anywhere."""
    for part in [folder, *folder.parents]:
        if part.is_symlink() and part.lstat().st_uid not in (os.getuid(), 0):
            raise InputError(f"{part} is a symbolic link made by another account (uid {part.lstat().st_uid}); "
                             f"netdiag does not write through it: choose another folder")


def open_output(path: str | Path, *, encoding: str = "utf-8", newline: str | None = None, exclusive: bool = False):
    """Open ``path`` for writing (created or truncated) without following a symbolic link.

    ``O_NOFOLLOW`` makes the open itself refuse a link, so a link planted between the check
    and the write (by another account sharing the folder) is refused too.

    Raises
    ------
    InputError
        When ``path`` is a symbolic link.
    """
    path = Path(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    if exclusive:
        flags |= os.O_EXCL  # a new file only: nothing planted there beforehand is opened
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            _refuse_link(path)
        raise
    return os.fdopen(fd, "w", encoding=encoding, newline=newline)


@contextlib.contextmanager
def writing(path: str | Path, *, encoding: str = "utf-8", newline: str | None = None):
    """Write ``path`` whole or not at all: into a new temporary file beside it (opened with
    :func:`open_output`), renamed over ``path`` only when everything was written. A full disk
    leaves the old file (or none) instead of a truncated one, and the error names ``path``
    (the operating system does not say which file a failed ``write`` was for)."""
    path = Path(path)
    _refuse_link(path)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    try:
        with open_output(temp, encoding=encoding, newline=newline, exclusive=True) as fh:
            yield fh
        os.replace(temp, path)  # replaces a link planted meanwhile, never writes through it
    except BaseException as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        if isinstance(exc, OSError) and (exc.filename is None or str(exc.filename) == str(temp)):
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from None
        raise


def write_text(path: str | Path, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` (parents created) without following a link."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with writing(path, encoding=encoding) as fh:
        fh.write(text)
    return path


def refuse_existing(folder: str | Path, names: list[str], *, overwrite: bool = False) -> None:
    """Refuse outputs ``names`` already in ``folder``, unless ``overwrite``: the check of
    :func:`prepare_out_dir` without creating anything, made before long work.

    Raises
    ------
    OutputExistsError
    """
    existing = [n for n in names if (Path(folder) / n).exists()]
    if existing and not overwrite:
        raise OutputExistsError(f"{folder} already holds {', '.join(existing)}; pass `overwrite` to replace them")


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
    _refuse_foreign_folder(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} exists and is not a folder")
    for name in names:
        _refuse_link(out / name)
    refuse_existing(out, names, overwrite=overwrite)
    out.mkdir(parents=True, exist_ok=True)
    return out


#: RFC 4180 line ends: a field holding a lone carriage return is then quoted, not split into two rows
CSV_LINE_END = "\r\n"


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """UTF-8 with BOM (so Excel reads Chinese text), formulas neutralised, no index."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with writing(path, encoding="utf-8-sig", newline="") as fh:
        neutralise_frame(frame).to_csv(fh, index=False, date_format=ISO_UTC, lineterminator=CSV_LINE_END)
    return path


def csv_text(frame: pd.DataFrame) -> str:
    """A frame as CSV text for stdout: formulas neutralised, times as ISO 8601 UTC, no index."""
    return neutralise_frame(frame).to_csv(index=False, date_format=ISO_UTC, lineterminator=CSV_LINE_END)


def json_text(obj, *, indent: int | None = 2) -> str:
    """JSON text for stdout (UTF-8 text kept readable; timestamps and the like as strings)."""
    if isinstance(obj, pd.DataFrame):
        obj = to_jsonable(obj)
    return json.dumps(obj, ensure_ascii=False, indent=indent, default=str)


def to_jsonable(frame: pd.DataFrame) -> list[dict]:
    """Records with ISO timestamps and nulls as None."""
    return json.loads(frame.to_json(orient="records", date_format="iso", force_ascii=False))


def write_json(obj, path: str | Path) -> Path:
    """``obj`` (a frame becomes records) as indented UTF-8 JSON in ``path`` (see :func:`json_text`)."""
    return write_text(path, json_text(obj))


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


EXPORT_FORMATS = ("csv", "json", "geojson", "gpkg")


def export_tickets(store, path: str | Path, *, fmt: str, overwrite: bool = False, **filters) -> int:
    """Write the tickets of a ticket store to a file for people and other tools.

    Parameters
    ----------
    store : netdiag.tickets.store.TicketStore
        Read in one snapshot (its ``read``, ``tickets``, ``history`` and ``notes``).
    path : str or Path
        The file to write (parent folders are created).
    fmt : {"csv", "json", "geojson", "gpkg"}
        ``csv`` (Excel-ready, formulas neutralised), ``json`` (TMF621 Trouble Ticket
        resources with status history and notes), ``geojson`` or ``gpkg`` (a point layer
        ``tickets`` in WGS-84 that QGIS opens; times as UTC ISO 8601 text).
    overwrite : bool
        Replace an existing file.
    **filters
        As for :meth:`netdiag.tickets.store.TicketStore.tickets`.

    Returns
    -------
    int
        Tickets written.

    Raises
    ------
    InputError
        On an unknown format.
    netdiag.errors.OutputExistsError
        When ``path`` exists and ``overwrite`` is false.
    """
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"`fmt` was {fmt!r} but is expected to be one of {', '.join(EXPORT_FORMATS)}")
    if _same_file(Path(path), store.files()):
        raise InputError(f"the export file {path} is the ticket store itself; give another file to export to")
    path = ensure_writable(path, overwrite=overwrite)
    with store.read() as c:
        t = store.tickets(conn=c, **filters)
        if fmt == "json":
            ids = t["ticket_id"].tolist()
            history, notes = store.history(ids, conn=c), store.notes(ids, conn=c)
    if fmt == "csv":
        write_csv(t, path)
    elif fmt == "json":
        write_json([tmf621(r, history=history.get(r["ticket_id"], []), notes=notes.get(r["ticket_id"], []))
                    for r in t.to_dict("records")], path)
    else:
        _write_points(t, path, driver="GPKG" if fmt == "gpkg" else "GeoJSON")
    return len(t)


def _same_file(path: Path, files: list[Path]) -> bool:
    """``path`` is one of ``files`` by name, by link or by hard link (the same inode)."""
    if path.resolve() in files:
        return True
    try:
        st = path.stat()
    except OSError:
        return False
    return any(f.exists() and os.path.samestat(st, f.stat()) for f in files)


def _write_points(tickets: pd.DataFrame, path: Path, *, driver: str) -> None:
    """Tickets as a WGS-84 point layer (``tickets`` in a GeoPackage), replacing ``path`` whole:
    GDAL writes a new file beside it, renamed over ``path`` only when complete."""
    import geopandas as gpd

    _refuse_link(path)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{path.suffix}")
    flat = neutralise_frame(tickets)  # QGIS exports attribute tables to spreadsheets too
    for col in flat.columns:
        if isinstance(flat[col].dtype, pd.DatetimeTZDtype):
            flat[col] = flat[col].map(iso_utc).astype(object)
    gdf = gpd.GeoDataFrame(flat, geometry=gpd.points_from_xy(flat["lon"].astype(float), flat["lat"].astype(float)),
                           crs="EPSG:4326")
    try:
        gdf.to_file(temp, driver=driver, **({"layer": "tickets"} if driver == "GPKG" else {}))
        os.replace(temp, path)
    except Exception as exc:  # pyogrio's DataSourceError and friends, a full disk among them
        with contextlib.suppress(OSError):
            temp.unlink()
        if isinstance(exc, OSError):
            raise
        raise InputError(f"cannot write {path}: {str(exc).strip().splitlines()[0][:300]}") from None
