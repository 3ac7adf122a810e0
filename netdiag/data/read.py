"""Find and read the tables of a data directory.

A table ``NAME`` may be given as ``NAME.csv``, ``NAME.parquet``, ``NAME.geojson`` or as layer
``NAME`` of ``network.gpkg`` (CONTRACT.md). A name that is there but is not a readable regular
file (a folder, a FIFO, a dangling symbolic link, ...) is an :class:`InputError`, never a table
taken as absent; nothing is opened before its kind is known (a FIFO would block).

Reading keeps every value as written: CSV columns are read as text by pyarrow's multi-threaded
reader (ids keep their leading zeros; conversion and checks happen in
:mod:`netdiag.data.validate`); a CSV file is UTF-8, UTF-16 or GB18030 (see :func:`_encoding`). Parquet and GeoPackage columns keep their own types. Point
geometries fill ``lat``/``lon`` when those columns are absent; a geometry that is not a point
is said per row in ``_geometry``. Columns outside the contract are left out (CONTRACT.md allows
them; nothing reads them).

Every frame returned carries ``_row``: the 1-based data row number in the source file, so a
rejected row can be found again by a person. Rows the reader itself cannot use (a CSV row with
the wrong number of fields, a field whose unbalanced quote swallowed the rows after it, text
that is not in the file's encoding) are listed in ``attrs["unreadable"]`` as
``(row, id, code, reason)``.
"""
from __future__ import annotations

import errno
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from netdiag.data.csv_reader import COLUMNS_READ, GEOMETRY, ROW, UNREADABLE, first_line, read_csv, short
from netdiag.data.schema import TABLES
from netdiag.errors import InputError

log = logging.getLogger(__name__)

GPKG_NAME = "network.gpkg"
FORMATS = ("csv", "parquet", "geojson")


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
        raise InputError(f"cannot read {path}: {first_line(exc)}") from None


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
            key = (spec.key or spec.columns[0].name) if spec else None
            strict = {c.name for c in spec.columns if c.kind != "text"} if spec else set()
            frame = read_csv(source.path, wanted=wanted, key=key, strict=strict, name=str(source))
        elif source.fmt == "parquet":
            frame = _read_parquet(source.path, window=window, time_column=time_column)
        else:
            frame = _read_ogr(source.path, source.layer)
    except InputError:
        raise
    except PermissionError:
        raise InputError(f"cannot read {source}: no read permission") from None
    except (OSError, pa.ArrowException, ValueError, UnicodeError) as exc:
        raise InputError(f"cannot read {source}: {first_line(exc)}") from None
    except Exception as exc:  # pyogrio's DataSourceError and friends
        raise InputError(f"cannot read {source}: {first_line(exc)}") from None
    frame = _contract_columns(frame, wanted, str(source))
    if ROW not in frame.columns:
        frame.insert(0, ROW, np.arange(1, len(frame) + 1, dtype=np.int64))
    log.debug("read %s: %d rows, %d columns", source, len(frame), frame.shape[1] - 1)
    return frame


def _contract_columns(frame: pd.DataFrame, wanted: set[str] | None, source: str) -> pd.DataFrame:
    """The contract's columns only (names without case and outer blanks), chosen in one step."""
    names = [str(c).strip().lower() for c in frame.columns]
    own = {ROW, GEOMETRY} if wanted is None or "lat" in wanted else {ROW}  # a geometry matters only for a position
    keep = [i for i, n in enumerate(names) if wanted is None or n in wanted or n in own]
    kept = [names[i] for i in keep]
    if len(set(kept)) < len(kept):
        dup = sorted({n for n in kept if kept.count(n) > 1})
        raise InputError(f"{source} has duplicate column names: {', '.join(dup)}; keep one of each")
    if COLUMNS_READ not in frame.attrs:  # for messages: a few of the names read, and how many there were
        given = [n for n in names if n not in (ROW, GEOMETRY)]
        frame.attrs[COLUMNS_READ] = ([short(n) for n in given[:20]], len(given))
    if len(keep) == len(names):
        frame.columns = names
        return frame
    log.info("%s: %d column(s) outside the contract left out", source, len(names) - len(keep))
    out = frame.iloc[:, keep]
    out.columns = kept
    out.attrs = frame.attrs
    return out


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



NO_GEOMETRY = "no geometry"
EMPTY_GEOMETRY = "geometry is empty"
_GEOMETRY_TYPES = ("Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon",
                   "GeometryCollection")


def _read_ogr(path: Path, layer: str | None) -> pd.DataFrame:
    import pyogrio

    gdf = pyogrio.read_dataframe(path, layer=layer)
    geometry = gdf.geometry if "geometry" in gdf.columns else None
    frame = pd.DataFrame(gdf.drop(columns="geometry", errors="ignore"))
    cols = {str(c).strip().lower() for c in frame.columns}
    if geometry is not None and not {"lat", "lon"} <= cols:
        if geometry.crs is not None and not geometry.crs.equals("EPSG:4326"):
            geometry = geometry.to_crs(4326)
        frame["lon"], frame["lat"], frame[GEOMETRY] = _points(np.asarray(geometry.values, dtype=object))
    return frame


def _points(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lon, lat, problem) of each geometry; ``problem`` says why it is not a usable point, else None.

    A MultiPoint of one point is that point; anything else that is not a point is named
    ("geometry is a LineString, expected a Point"), as are a missing and an empty geometry.
    """
    import shapely

    n = len(values)
    kind = shapely.get_type_id(values)
    missing = shapely.is_missing(values)
    empty = ~missing & shapely.is_empty(values)
    count = shapely.get_num_geometries(values)
    usable = ~missing & ~empty & ((kind == 0) | ((kind == 4) & (count == 1)))
    lon, lat = np.full(n, np.nan), np.full(n, np.nan)
    if usable.any():
        points = shapely.get_geometry(values[usable], 0)
        lon[usable], lat[usable] = shapely.get_x(points), shapely.get_y(points)
    problem = np.full(n, None, dtype=object)
    problem[missing] = NO_GEOMETRY
    problem[empty | (usable & (np.isnan(lon) | np.isnan(lat)))] = EMPTY_GEOMETRY
    for i in np.flatnonzero(~missing & ~empty & ~usable):
        name = _GEOMETRY_TYPES[kind[i]] if 0 <= kind[i] < len(_GEOMETRY_TYPES) else "geometry of an unknown type"
        what = f"a MultiPoint of {count[i]} points" if kind[i] == 4 else f"a {name}"
        problem[i] = f"geometry is {what}, expected a Point"
    return lon, lat, problem


def read_pieces(source: Source, *, rows: int = 4_000_000):
    """The rows of ``source`` as :func:`read_source` gives them, ``rows`` at a time (true ``_row``
    numbers). A Parquet file is read a batch at a time; other formats are read whole, then cut."""
    if source.fmt != "parquet":
        frame = read_source(source)
        unreadable = frame.attrs.get(UNREADABLE, [])
        for first in range(0, max(len(frame), 1), rows):
            piece = frame.iloc[first:first + rows].reset_index(drop=True)
            piece.attrs = {**frame.attrs, UNREADABLE: unreadable if first == 0 else []}
            yield piece
        return
    import pyarrow.parquet as pq

    spec = TABLES.get(source.table)
    wanted = {c.name for c in spec.columns} if spec else None
    try:
        pf = pq.ParquetFile(source.path)
        columns = [n for n in pf.schema_arrow.names if wanted is None or str(n).strip().lower() in wanted]
        offset = 0
        for batch in pf.iter_batches(batch_size=rows, columns=columns):
            frame = batch.to_pandas()
            frame.insert(0, ROW, np.arange(offset + 1, offset + len(frame) + 1, dtype=np.int64))
            offset += len(frame)
            yield _contract_columns(frame, wanted, str(source))
        if offset == 0:
            frame = pf.schema_arrow.empty_table().select(columns).to_pandas()
            frame.insert(0, ROW, np.zeros(0, dtype=np.int64))
            yield _contract_columns(frame, wanted, str(source))
    except InputError:
        raise
    except (OSError, pa.ArrowException, ValueError) as exc:
        raise InputError(f"cannot read {source}: {first_line(exc)}") from None
