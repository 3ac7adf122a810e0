"""A prepared workspace: a data directory validated once, kept in formats other tools open.

``netdiag prepare DATA --workspace WS`` (:mod:`netdiag.prepare`) writes it; every command that
takes ``--data`` takes ``--workspace WS`` instead, and reads it without validating again::

    WS/manifest.json                 sources (size, SHA-256, rows read/accepted/rejected), versions,
                                     time zone, CRS, days of counters
    WS/tables/NAME.parquet           transport, sites, cells, repeaters: typed, validated
    WS/tables/events.parquet         sorted by element and start time (row groups by element)
    WS/complaints/part-NNNN.parquet  typed, positions in WGS-84; a part per run that added some
    WS/footprints.parquet            GeoParquet 1.1 in the data's metric CRS, Hilbert-sorted, with
                                     a bbox column (its spatial index: row groups by area)
    WS/load/day=YYYY-MM-DD/part-NNNN.parquet
                                     counters by UTC day, sorted by cell and time, only the
                                     columns the engine reads; a new day adds a folder, never
                                     rewrites an old one
    WS/rejected.csv, rejected.parquet
                                     every rejected input row: table, row, id, reason, code, source

Everything is Parquet: pandas (``pd.read_parquet``), DuckDB
(``SELECT * FROM 'WS/load/*/*.parquet'``, with ``hive_partitioning``) and QGIS 3.34+ (GDAL's
(Geo)Parquet driver) open it; ``ogr2ogr -f GPKG fp.gpkg WS/footprints.parquet`` makes a
GeoPackage for older QGIS.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd
from pyproj import CRS

from netdiag.data.counters import Counters, FrameCounters
from netdiag.data.manifest import FORMAT, MANIFEST, is_workspace, read_manifest  # noqa: F401 (the workspace's names)
from netdiag.errors import InputError

log = logging.getLogger(__name__)

NETWORK_TABLES = ("transport", "sites", "cells", "repeaters", "events")
#: the counter columns the engine reads (the rest stay in the source)
LOAD_COLUMNS = ["cell_id", "timestamp", "period_min", "prb_dl_pct", "ul_noise_dbm", "users"]
LOAD_DIR = "load"
COMPLAINTS_DIR = "complaints"
FOOTPRINTS = "footprints.parquet"
REJECTED = "rejected.parquet"
#: the settings that footprints are built with (:mod:`netdiag.engine.footprints`)
FOOTPRINT_SETTINGS = ("urban_isd_m", "isd_factor", "beamwidth_deg", "wedge_factor", "mast_zone_m", "mapl_db", "bs_height_m",
                      "ms_height_m", "radius_min_m", "radius_max_m", "indoor_radius_m")


def day_folder(day: str) -> str:
    return f"day={day}"


class WorkspaceReader:
    """Reads the files of one workspace; with ``keep``, keeps what it read (``netdiag serve``
    answers a spot in a fraction of a second from tables in memory, and reads counters only)."""

    def __init__(self, ws: str | Path, *, keep: bool = False):
        self.ws, self.keep = Path(ws), keep
        self.manifest = read_manifest(self.ws)
        try:
            self.crs = CRS.from_user_input(self.manifest["crs"])
        except Exception:  # pyproj's CRSError
            raise InputError(f"{self.ws / 'manifest.json'} is damaged (its `crs` is not a CRS); prepare a new workspace") from None
        self._tables: dict[str, pd.DataFrame] = {}
        self._files: dict[Path, object] = {}
        self._footprints = None

    def table(self, name: str) -> pd.DataFrame:
        """A table of the network (``tables/NAME.parquet``)."""
        if name in self._tables:
            return self._tables[name]
        frame = _read_table(self.ws / "tables" / f"{name}.parquet", name)
        if self.keep:
            self._tables[name] = frame
        return frame

    def footprints(self, bbox: tuple | None = None):
        """The footprints, or those whose bounding box meets ``bbox`` (xmin, ymin, xmax, ymax)."""
        if self.keep:
            if self._footprints is None:
                self._footprints = read_footprints(self.ws)
                self._footprints.sindex  # built once, before queries share it
            if bbox is None:
                return self._footprints
            hits = self._footprints.sindex.query(_box(bbox))
            return self._footprints.iloc[np.sort(hits)]
        return read_footprints(self.ws, bbox=bbox)

    def parquet(self, path: Path):
        """A ``pyarrow.parquet.ParquetFile``; when kept, its footer is read once (a file object
        of its own each time: queries in threads never share one)."""
        import pyarrow.parquet as pq

        metadata = self._files.get(path)
        pf = pq.ParquetFile(path, metadata=metadata)
        if self.keep and metadata is None:
            self._files[path] = pf.metadata
        return pf


def _box(bbox: tuple):
    import shapely

    return shapely.box(*bbox)


class WorkspaceCounters(Counters):
    """The counters of a workspace: a day file at a time, only the days of the period asked.

    Each day's rows are sorted by cell, so a few cells (``netdiag check``) are read from the
    row groups that hold them, not the whole day.
    """

    def __init__(self, reader: WorkspaceReader, window: tuple | None = None, cells: Iterable[str] | None = None):
        self.reader, self.ws = reader, reader.ws
        days = reader.manifest.get("load", {}).get("days", {})
        self.window = None if window is None else tuple(pd.Timestamp(t).tz_convert("UTC") for t in window)
        first, last = (self.window[0].floor("D"), self.window[1]) if self.window else (None, None)
        self.days = sorted(d for d in days if not self.window or first <= pd.Timestamp(d, tz="UTC") < last)
        self.parts = {d: list(days[d]["parts"]) for d in self.days}
        self.rows_in_days = sum(int(days[d]["rows"]) for d in self.days)
        self.only = None if cells is None else sorted(set(map(str, cells)))
        self._few = None
        self._latest = max((pd.Timestamp(v["latest"]) for v in days.values()), default=None)

    def chunks(self, columns=None, cells=None):
        if self.only is not None:  # a few cells (a check): read once, then asked again from memory
            if self._few is None:
                parts = list(self._read(None, None))
                self._few = FrameCounters(pd.concat(parts, ignore_index=True) if parts else self.empty())
            yield from self._few.chunks(columns, cells)
            return
        yield from self._read(columns, cells)

    def _read(self, columns, cells):
        for piece in self.pieces():
            yield from self.read_piece(piece, columns, cells)

    def pieces(self) -> list[tuple[str, str]]:
        """(day, part file) of every counter file of the period, in order."""
        return [(day, part) for day in self.days for part in self.parts[day]]

    def read_piece(self, piece, columns=None, cells=None):
        import pyarrow.compute as pc

        wanted = self.only
        if cells is not None:
            cells = sorted(set(map(str, cells)))
            wanted = cells if wanted is None else sorted(set(wanted) & set(cells))
        day, part = piece
        table = _read_cells(self.reader.parquet(self.ws / LOAD_DIR / day_folder(day) / part), wanted, columns)
        if table is None:
            return
        keep = self._in_window(table.column("timestamp")) if self.window else None
        if wanted is not None:
            inside = pc.is_in(table.column("cell_id"), value_set=_strings(wanted))
            keep = inside if keep is None else pc.and_(keep, inside)
        if keep is not None:
            table = table.filter(keep)
        if table.num_rows:
            yield _typed_load(table.to_pandas())

    def __reduce__(self):
        """Sent to another process (a Dask worker) as the workspace's path and the period: the worker
        reads the manifest and the day files itself (the workspace is on a file system both see)."""
        return _remote_counters, (str(self.ws), self.window, self.only)

    def _in_window(self, times):
        """Which of ``times`` (an Arrow column) fall in the data set's period."""
        import pyarrow.compute as pc

        return pc.and_(pc.greater_equal(times, pa_time(self.window[0])), pc.less(times, pa_time(self.window[1])))

    def latest(self):
        """The last counter period of the data set's period (all days without one), as a data
        folder's counters cut to that period would say."""
        if not self.window:
            return self._latest
        import pyarrow.compute as pc

        for day in reversed(self.days):  # the last day with a row inside the period
            found = []
            for part in self.parts[day]:
                times = self.reader.parquet(self.ws / LOAD_DIR / day_folder(day) / part).read(columns=["timestamp"]).column(0)
                inside = times.filter(self._in_window(times))
                if len(inside):
                    found.append(pd.Timestamp(pc.max(inside).as_py()))
            if found:
                return max(found)
        return None

    def empty(self):
        return _typed_load(pd.DataFrame({c: pd.Series(dtype=t) for c, t in _LOAD_DTYPES.items()}))


def _remote_counters(ws: str, window, only) -> "WorkspaceCounters":
    return WorkspaceCounters(WorkspaceReader(ws), window, only)


def _strings(values: list[str]):
    import pyarrow as pa

    return pa.array(values, type=pa.string())


def _read_cells(pf, cells: list[str] | None, columns: list[str] | None):
    """A day file's rows, or with ``cells`` (sorted) only its row groups whose cell range holds
    one of them (the file is sorted by cell, so a few cells read a few row groups). None when
    no row group can hold them."""
    if columns is not None and "timestamp" not in columns:
        columns = [*columns, "timestamp"]
    if cells is None:
        return pf.read(columns=columns)
    import bisect

    md = pf.metadata
    index = pf.schema_arrow.get_field_index("cell_id")
    groups = []
    for i in range(md.num_row_groups):
        stats = md.row_group(i).column(index).statistics
        if stats is None or not stats.has_min_max:
            groups.append(i)
            continue
        at = bisect.bisect_left(cells, stats.min)
        if at < len(cells) and cells[at] <= stats.max:
            groups.append(i)
    return pf.read_row_groups(groups, columns=columns) if groups else None


_LOAD_DTYPES = {"cell_id": "str", "timestamp": "datetime64[ns, UTC]", "period_min": "Int64", "prb_dl_pct": float,
                "ul_noise_dbm": float, "users": float}


def pa_time(t: pd.Timestamp):
    import pyarrow as pa

    return pa.scalar(t.as_unit("ns").value, type=pa.timestamp("ns", tz="UTC"))


def _typed_load(frame: pd.DataFrame) -> pd.DataFrame:
    if "timestamp" in frame.columns:
        frame["timestamp"] = frame["timestamp"].dt.as_unit("ns")
    return frame


_WARNED: set = set()


def open_workspace(ws: str | Path, *, settings, tables: tuple[str, ...] | None = None, load_window=None,
                   progress: Callable[[str], None] | None = None, area: tuple | None = None,
                   reader: WorkspaceReader | None = None):
    """A :class:`~netdiag.data.dataset.Dataset` read from workspace ``ws`` (no validation again).

    Parameters are those of :func:`netdiag.data.dataset.load_dataset`, plus ``area``: (lon,
    lat) of one spot, for which only the elements that may serve it are read
    (:func:`local_tables`): a check stays as quick at 50,000 sites as at 300; and ``reader``,
    a :class:`WorkspaceReader` that may keep the tables between calls.
    """
    from netdiag.data.dataset import Dataset, _complaint_period, _empty

    ws = Path(ws)
    reader = reader or WorkspaceReader(ws)
    manifest = reader.manifest
    say = progress or (lambda _t: None)
    if manifest.get("tz") and manifest["tz"] != settings.tz and (ws, settings.tz) not in _WARNED:
        _WARNED.add((ws, settings.tz))  # once a process: a stream of checks would say it every time
        log.warning("workspace %s was prepared with times read in %s; this run's time zone is %s", ws, manifest["tz"],
                    settings.tz)
    wanted = [t for t in (*NETWORK_TABLES, "load", "complaints") if tables is None or t in tables]
    say(f"reading workspace {ws}")
    typed: dict[str, pd.DataFrame] = {}
    footprints = None
    fp_current = manifest.get("footprints", {}).get("settings") == footprint_settings(settings)
    if area is not None and fp_current:
        typed, footprints = local_tables(reader, area, settings)
    else:  # the whole network (also for a check when the footprints must be built again)
        area = None
        for name in NETWORK_TABLES:
            if name in wanted:
                typed[name] = reader.table(name)
        if fp_current:
            footprints = reader.footprints()
    if "complaints" in wanted:
        parts = [ws / COMPLAINTS_DIR / p for p in manifest.get("complaints", {}).get("parts", [])]
        typed["complaints"] = (pd.concat([_read_table(p, "complaints") for p in parts], ignore_index=True) if parts
                               else _empty("complaints"))
    for name in wanted:
        if name not in typed:
            typed[name] = _empty(name)
    window = load_window
    if isinstance(load_window, str):
        window = _complaint_period(typed.get("complaints"), settings)
    counters = WorkspaceCounters(reader, window,
                                 cells=typed["cells"]["cell_id"].tolist() if area is not None else None)
    rejected = pd.read_parquet(ws / REJECTED) if (ws / REJECTED).is_file() else pd.DataFrame(
        columns=["table", "row", "id", "reason", "code", "source"])
    stats = pd.DataFrame([{"table": name, **manifest.get("tables", {}).get(name, {})} for name in wanted])
    for col in ("source", "read", "accepted", "rejected", "skipped"):
        if col not in stats.columns:
            stats[col] = 0 if col != "source" else ""
    stats = stats.fillna({"read": 0, "accepted": 0, "rejected": 0, "skipped": 0, "source": ""})
    if "load" in wanted:
        stats.loc[stats["table"] == "load", "skipped"] = int(manifest.get("tables", {}).get("load", {}).get("accepted", 0)) \
            - counters.rows_in_days
    crs = reader.crs
    if not fp_current and manifest.get("footprints"):
        log.info("the footprint settings differ from the workspace's: footprints are built again")
    events_until = None
    if area is not None:  # the spot's events only: what the whole data has seen comes from all of them
        starts = reader.table("events")["start_time"].dropna()
        events_until = pd.Timestamp(starts.max()) if len(starts) else None
    return Dataset(ws, typed, rejected, stats, {}, settings, crs, counters=counters, footprints=footprints,
                   events_until=events_until)


def footprint_settings(settings) -> dict:
    """The settings footprints depend on (a workspace's footprints are reused while they match)."""
    return {name: getattr(settings, name) for name in FOOTPRINT_SETTINGS}


def _read_table(path: Path, name: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except FileNotFoundError:
        raise InputError(f"workspace file {path} is missing (deleted?); prepare a new workspace") from None
    except Exception as exc:  # pyarrow's ArrowInvalid and friends: a damaged file
        raise InputError(f"workspace file {path} cannot be read ({str(exc).splitlines()[0][:200]}); "
                         f"prepare a new workspace") from None


def read_footprints(ws: Path, bbox: tuple | None = None):
    """The workspace's footprints (GeoDataFrame in the data's metric CRS), in their own order
    (``fp_id``); with ``bbox`` (xmin, ymin, xmax, ymax), only those whose bbox meets it."""
    import geopandas as gpd

    path = Path(ws) / FOOTPRINTS
    fp = gpd.read_parquet(path, bbox=bbox) if bbox is not None else gpd.read_parquet(path)
    fp = fp.drop(columns=["bbox"], errors="ignore").sort_values("fp_id", kind="stable").reset_index(drop=True)
    return fp


def local_tables(reader: WorkspaceReader, area: tuple, settings) -> tuple[dict, object]:
    """The tables around one spot: what may serve it and everything upstream, plus the nearest site.

    ``area`` is (lon, lat) in WGS-84. Footprints come from the spatial index (bbox row groups,
    or the tree of a kept reader); the serving elements bring their cells, sites, donor cells,
    upstream transport nodes and their events. Every answer about the spot is the same as with
    the whole network.
    """
    from pyproj import Transformer

    to_xy = Transformer.from_crs(4326, reader.crs, always_xy=True)
    x, y = to_xy.transform(area[0], area[1])
    all_sites = reader.table("sites")
    located = all_sites.dropna(subset=["lat", "lon"])
    sx, sy = to_xy.transform(located["lon"].to_numpy(float), located["lat"].to_numpy(float))
    distance = np.hypot(np.asarray(sx) - x, np.asarray(sy) - y)
    site_ids = {located["site_id"].iloc[int(np.argmin(distance))]} if len(located) else set()  # the nearest site
    cells, reps = reader.table("cells"), reader.table("repeaters")
    footprints = reader.footprints(bbox=(x - 1, y - 1, x + 1, y + 1))
    serving = set(footprints["element_id"])
    reps = reps[reps["repeater_id"].isin(serving)]
    cells = cells[cells["cell_id"].isin(serving | set(reps["donor_cell_id"]))]
    site_ids |= set(cells["site_id"])
    sites = all_sites[all_sites["site_id"].isin(site_ids)]
    transport = _upstream(reader.table("transport"), set(sites["transport_id"].dropna()))
    chain = set(sites["site_id"]) | set(cells["cell_id"]) | set(reps["repeater_id"]) | set(transport["node_id"])
    events = reader.table("events")
    local = {"transport": transport, "sites": sites.reset_index(drop=True), "cells": cells.reset_index(drop=True),
             "repeaters": reps.reset_index(drop=True), "events": events[events["element_id"].isin(chain)].reset_index(drop=True)}
    footprints = footprints[footprints["element_id"].isin(set(cells["cell_id"]) | set(reps["repeater_id"]))]
    return local, footprints


def _upstream(transport: pd.DataFrame, nodes: set) -> pd.DataFrame:
    """The transport nodes ``nodes`` and every node above them."""
    parent = transport.set_index("node_id")["parent_id"]
    parent = parent[~parent.index.duplicated()]
    found, frontier = set(), set(nodes)
    while frontier:
        found |= frontier
        frontier = {p for p in parent.reindex(list(frontier)).dropna() if p not in found}
    return transport[transport["node_id"].isin(found)].reset_index(drop=True)


def load_days(frame: pd.DataFrame) -> Iterable[tuple[str, pd.DataFrame]]:
    """(``YYYY-MM-DD``, rows) per UTC day of a counter frame."""
    day = frame["timestamp"].dt.strftime("%Y-%m-%d")
    for name, rows in frame.groupby(day, sort=True):
        yield str(name), rows
