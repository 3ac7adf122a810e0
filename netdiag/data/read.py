"""Find and read the tables of a data directory.

A table ``NAME`` may be given as ``NAME.csv``, ``NAME.parquet``, ``NAME.geojson`` or as layer
``NAME`` of ``network.gpkg`` (CONTRACT.md). A name that is there but is not a readable regular
file (a folder, a FIFO, a dangling symbolic link, ...) is an :class:`InputError`, never a table
taken as absent; nothing is opened before its kind is known (a FIFO would block).

Reading keeps every value as written: CSV columns are read as text by pyarrow's multi-threaded
reader (ids keep their leading zeros; conversion and checks happen in
:mod:`netdiag.data.validate`). Parquet and GeoPackage columns keep their own types. Point
geometries fill ``lat``/``lon`` when those columns are absent. Columns outside the contract are
left out (CONTRACT.md allows them; nothing reads them).

Every frame returned carries ``_row``: the 1-based data row number in the source file, so a
rejected row can be found again by a person.
"""
from __future__ import annotations

import csv
import errno
import logging
import os
import re
import stat
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from netdiag.data.schema import TABLES
from netdiag.errors import InputError

log = logging.getLogger(__name__)

GPKG_NAME = "network.gpkg"
FORMATS = ("csv", "parquet", "geojson")
ROW = "_row"
#: ``attrs`` key: (the first 20 column names as read, how many there were)
COLUMNS_READ = "columns_read"
BLOCK_SIZE = 1 << 24  # Arrow's CSV block; the largest header cell we accept
_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Source:
    """Where one table comes from."""

    table: str
    path: Path
    fmt: str  # csv | parquet | geojson | gpkg
    layer: str | None = None

    def __str__(self) -> str:
        return f"{self.path.name}:{self.layer}" if self.layer else self.path.name


# ----------------------------------------------------------------------------- finding files
_NOT_FILES = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
              (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def file_problem(path: Path) -> str | None:
    """Why ``path`` is there but is not a readable regular file ("is a folder, not a file"), or None.

    Looks with ``lstat``/``stat`` only: nothing is opened (opening a FIFO would block).

    Raises
    ------
    FileNotFoundError
        When there is nothing at ``path`` (not even a dangling link).
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise
    except OSError as exc:
        return f"cannot be examined ({exc.strerror})"
    link = stat.S_ISLNK(st.st_mode)
    if link:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return f"is a dangling symbolic link (to {os.readlink(path)}, which does not exist)"
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return "is a symbolic link loop (it never reaches a file)"
            return f"is a symbolic link that cannot be followed ({exc.strerror})"
    for test, what in _NOT_FILES:
        if test(st.st_mode):
            return f"is {what}{' behind a symbolic link' if link else ''}, not a file"
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file"
    if not os.access(path, os.R_OK):
        return "cannot be read: no read permission"
    return None


def _present(path: Path, what: str) -> bool:
    """True for a readable regular file, False when nothing is there; InputError for anything else."""
    try:
        problem = file_problem(path)
    except FileNotFoundError:
        return False
    if problem:
        raise InputError(f"{path} {problem}; {what} must be a readable regular file")
    return True


def gpkg_layers(data_dir: Path) -> list[str]:
    path = data_dir / GPKG_NAME
    if not _present(path, "a GeoPackage"):
        return []
    import pyogrio

    try:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises its own DataSourceError for broken files
        raise InputError(f"cannot read {path}: {_first_line(exc)}") from None


def find_table(data_dir: str | Path, table: str, *, layers: list[str] | None = None) -> Source | None:
    """The one source of ``table`` in ``data_dir``, or None when it is absent.

    Raises
    ------
    InputError
        When the table is given twice (e.g. ``sites.csv`` and ``sites.parquet``), or a name of
        the table is taken by something that is not a readable regular file.
    """
    data_dir = Path(data_dir)
    found = [Source(table, data_dir / f"{table}.{fmt}", fmt) for fmt in FORMATS
             if _present(data_dir / f"{table}.{fmt}", f"table `{table}`")]
    if layers is None:
        layers = gpkg_layers(data_dir)
    if table in layers:
        found.append(Source(table, data_dir / GPKG_NAME, "gpkg", table))
    if len(found) > 1:
        raise InputError(f"table `{table}` is given {len(found)} times in {data_dir} "
                         f"({', '.join(map(str, found))}); keep exactly one")
    return found[0] if found else None


# ----------------------------------------------------------------------------- reading
def read_source(source: Source, *, window: tuple | None = None, time_column: str = "timestamp") -> pd.DataFrame:
    """Read one table: its contract columns as they are written, plus ``_row``.

    CSV columns are read as text (Arrow's multi-threaded reader); :mod:`netdiag.data.validate`
    casts them with Arrow kernels, which is as fast as typed parsing and lets it point at each
    value that is not a number. Column names are compared without case and outer blanks;
    columns outside the contract are left out in one step.

    Raises
    ------
    InputError
        When the file cannot be read at all, or a contract column is given twice (the message
        names the file).
    """
    spec = TABLES.get(source.table)
    wanted = {c.name for c in spec.columns} if spec else None
    try:
        if source.fmt == "csv":
            frame = _read_csv(source.path, wanted=wanted, name=str(source))
        elif source.fmt == "parquet":
            frame = _read_parquet(source.path, window=window, time_column=time_column)
        else:
            frame = _read_ogr(source.path, source.layer)
    except InputError:
        raise
    except PermissionError:
        raise InputError(f"cannot read {source}: no read permission") from None
    except (OSError, pa.ArrowException, ValueError, UnicodeError) as exc:
        raise InputError(f"cannot read {source}: {_first_line(exc)}") from None
    except Exception as exc:  # pyogrio's DataSourceError and friends
        raise InputError(f"cannot read {source}: {_first_line(exc)}") from None
    frame = _contract_columns(frame, wanted, str(source))
    if ROW not in frame.columns:
        frame.insert(0, ROW, np.arange(1, len(frame) + 1, dtype=np.int64))
    log.debug("read %s: %d rows, %d columns", source, len(frame), frame.shape[1] - 1)
    return frame


def _short(name: str, limit: int = 40) -> str:
    """A column name or value cut for a message (a header cell may be a megabyte long)."""
    return name if len(name) <= limit else name[:limit] + "..."


def _contract_columns(frame: pd.DataFrame, wanted: set[str] | None, source: str) -> pd.DataFrame:
    """The contract's columns only (names without case and outer blanks), chosen in one step."""
    names = [str(c).strip().lower() for c in frame.columns]
    keep = [i for i, n in enumerate(names) if wanted is None or n in wanted or n == ROW]
    kept = [names[i] for i in keep]
    if len(set(kept)) < len(kept):
        dup = sorted({n for n in kept if kept.count(n) > 1})
        raise InputError(f"{source} has duplicate column names: {', '.join(dup)}; keep one of each")
    if COLUMNS_READ not in frame.attrs:  # for messages: a few of the names read, and how many there were
        given = [n for n in names if n != ROW]
        frame.attrs[COLUMNS_READ] = ([_short(n) for n in given[:20]], len(given))
    if len(keep) == len(names):
        frame.columns = names
        return frame
    log.info("%s: %d column(s) outside the contract left out", source, len(names) - len(keep))
    out = frame.iloc[:, keep]
    out.columns = kept
    out.attrs = frame.attrs
    return out


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return _short(text.splitlines()[0], 300)


@contextmanager
def _csv_field_limit(limit: int):
    old = csv.field_size_limit()
    csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _csv_header(path: Path, name: str) -> tuple[list[str], str]:
    """(column names, Arrow's name of the encoding). UTF-8 (with or without BOM), else GB18030."""
    for encoding, arrow_encoding in (("utf-8-sig", "utf8"), ("gb18030", "gb18030")):
        try:
            with _csv_field_limit(BLOCK_SIZE), open(path, newline="", encoding=encoding) as fh:
                header = next(csv.reader(fh), None)
        except UnicodeDecodeError:
            continue
        except csv.Error as exc:
            raise InputError(f"cannot read the header of {name}: {exc}") from None
        if arrow_encoding != "utf8":
            log.warning("%s is not UTF-8; read as GB18030", name)
        break
    else:
        raise InputError(f"cannot read the header of {name}: it is neither UTF-8 nor GB18030 text")
    if header is None:
        raise InputError(f"{name} is empty: expected a header row with column names")
    if not header:
        raise InputError(f"{name}: the first line is empty; expected a header row with column names")
    header = [h.lstrip("\ufeff") for h in header]
    long = next((h for h in header if _BREAK.search(h)), None)
    if long is not None:
        raise InputError(f"{name}: the header's column name {_short(long)!r} runs over several lines "
                         f"(an unbalanced quote?); the column names must all be on the first line")
    return header, arrow_encoding


def _read_csv(path: Path, *, wanted: set[str] | None = None, name: str | None = None) -> pd.DataFrame:
    """CSV as text columns. UTF-8 (with or without BOM); falls back to GB18030 (Excel in China).

    Only the columns in ``wanted`` (compared without case and outer blanks; default all) are
    converted to pandas.
    """
    name = name or path.name
    header, arrow_encoding = _csv_header(path, name)
    fields = [f"f{i}" for i in range(len(header))]  # by position: odd or repeated names cannot collide
    bad_rows: list[int | None] = []

    def on_bad_row(row) -> str:
        bad_rows.append(row.number)
        return "skip"

    def read(threads: bool) -> pa.Table:
        bad_rows.clear()
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(use_threads=threads, encoding=arrow_encoding, column_names=fields,
                                           skip_rows=1, block_size=BLOCK_SIZE),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_bad_row),
            convert_options=_as_text(fields),
        )

    table = read(True)
    if bad_rows:
        # Line numbers of malformed rows are only known to a single-threaded read.
        table = read(False)
    keep = [i for i, h in enumerate(header) if wanted is None or h.strip().lower() in wanted]
    frame = table.select(keep).to_pandas()
    frame.columns = [header[i] for i in keep]
    if bad_rows:
        skipped = np.array(sorted(n - 1 for n in bad_rows if n is not None), dtype=np.int64)
        numbers = np.arange(1, len(frame) + len(skipped) + 1, dtype=np.int64)
        frame.insert(0, ROW, numbers[~np.isin(numbers, skipped)][: len(frame)])
        frame.attrs["malformed_rows"] = skipped.tolist()
        frame.attrs["expected_columns"] = len(header)
    frame.attrs[COLUMNS_READ] = ([_short(h.strip().lower()) for h in header[:20]], len(header))
    return frame


def _as_text(fields: list[str]) -> pacsv.ConvertOptions:
    return pacsv.ConvertOptions(column_types={f: pa.string() for f in fields}, null_values=[""],
                                strings_can_be_null=True, quoted_strings_can_be_null=True)


def _read_parquet(path: Path, *, window: tuple | None = None, time_column: str = "timestamp") -> pd.DataFrame:
    """A Parquet table, with ``_row`` (1-based row in the file).

    With ``window`` (UTC start, end) and a timestamp-typed ``time_column``, only the row groups
    whose statistics overlap the window are read, and of those only the rows inside it; the
    rows keep their true row numbers. ``attrs["skipped_outside_window"]`` counts the others.
    """
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    schema = pf.schema_arrow
    if window is None or time_column not in schema.names or not pa.types.is_timestamp(schema.field(time_column).type):
        frame = pf.read().to_pandas()
        frame.insert(0, ROW, np.arange(1, len(frame) + 1, dtype=np.int64))
        return frame
    md = pf.metadata
    lo, hi = (pd.Timestamp(t).tz_convert("UTC") for t in window)
    naive = schema.field(time_column).type.tz is None
    column = schema.names.index(time_column)
    sizes = [md.row_group(i).num_rows for i in range(md.num_row_groups)]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    parts = []
    for i in range(md.num_row_groups):
        stats = md.row_group(i).column(column).statistics
        if stats is not None and stats.has_min_max:
            first, last = pd.Timestamp(stats.min), pd.Timestamp(stats.max)
            first, last = (first.tz_localize("UTC"), last.tz_localize("UTC")) if naive else (first, last)
            if last < lo or first >= hi:
                continue  # the whole row group lies outside the window: not even read
        group = pf.read_row_group(i).to_pandas()
        times = pd.to_datetime(group[time_column], utc=True) if naive else group[time_column]
        inside = ((times >= lo) & (times < hi)).to_numpy(dtype=bool) | times.isna().to_numpy()  # a missing time is reported
        group = group[inside]
        group.insert(0, ROW, (offsets[i] + 1 + np.flatnonzero(inside)).astype(np.int64))
        parts.append(group)
    frame = pd.concat(parts, ignore_index=True) if parts else pf.schema_arrow.empty_table().to_pandas()
    if not parts:
        frame.insert(0, ROW, np.zeros(0, dtype=np.int64))
    frame.attrs["skipped_outside_window"] = int(md.num_rows - len(frame))
    return frame


def _read_ogr(path: Path, layer: str | None) -> pd.DataFrame:
    import pyogrio
    import shapely

    gdf = pyogrio.read_dataframe(path, layer=layer)
    geometry = gdf.geometry if "geometry" in gdf.columns else None
    frame = pd.DataFrame(gdf.drop(columns="geometry", errors="ignore"))
    cols = {str(c).lower() for c in frame.columns}
    if geometry is not None and not {"lat", "lon"} <= cols:
        if geometry.crs is not None and not geometry.crs.equals("EPSG:4326"):
            geometry = geometry.to_crs(4326)
        values = geometry.values
        points = np.asarray(shapely.get_type_id(values) == 0)
        frame["lon"] = np.where(points, shapely.get_x(values), np.nan)
        frame["lat"] = np.where(points, shapely.get_y(values), np.nan)
    return frame
