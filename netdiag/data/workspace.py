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

import json
import logging
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd
from pyproj import CRS

from netdiag.data.counters import Counters
from netdiag.errors import InputError

log = logging.getLogger(__name__)

FORMAT = 1
MANIFEST = "manifest.json"
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


def is_workspace(path: str | Path) -> bool:
    """True for a folder holding a workspace manifest."""
    return (Path(path) / MANIFEST).is_file()


def read_manifest(ws: str | Path) -> dict:
    """The manifest of workspace ``ws``.

    Raises
    ------
    InputError
        When it is missing, unreadable, or written by a newer netdiag.
    """
    path = Path(ws) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{ws} is not a netdiag workspace (no {MANIFEST}); make one with "
                         f"`netdiag prepare DATA --workspace {ws}`") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError(f"{path} is a workspace of format {manifest.get('format') if isinstance(manifest, dict) else '?'}, "
                         f"this netdiag reads format {FORMAT}; prepare it again")
    return manifest


def day_folder(day: str) -> str:
    return f"day={day}"


class WorkspaceCounters(Counters):
    """The counters of a workspace: a day file at a time, only the days of the period asked.

    Each day's rows are sorted by cell, so a few cells (``netdiag check``) are read from the
    row groups that hold them, not the whole day.
    """

    def __init__(self, ws: Path, days: dict, window: tuple | None = None, cells: Iterable[str] | None = None):
        self.ws = Path(ws)
        self.window = None if window is None else tuple(pd.Timestamp(t).tz_convert("UTC") for t in window)
        first, last = (self.window[0].floor("D"), self.window[1]) if self.window else (None, None)
        self.days = sorted(d for d in days if not self.window or first <= pd.Timestamp(d, tz="UTC") < last)
        self.parts = {d: list(days[d]["parts"]) for d in self.days}
        self.rows_in_days = sum(int(days[d]["rows"]) for d in self.days)
        self.only = None if cells is None else sorted(set(map(str, cells)))
        self._latest = max((pd.Timestamp(v["latest"]) for v in days.values()), default=None)

    def chunks(self, columns=None, cells=None):
        import pyarrow.compute as pc

        wanted = self.only
        if cells is not None:
            cells = sorted(set(map(str, cells)))
            wanted = cells if wanted is None else sorted(set(wanted) & set(cells))
        for day in self.days:
            for part in self.parts[day]:
                table = _read_cells(self.ws / LOAD_DIR / day_folder(day) / part, wanted, columns)
                if table is None:
                    continue
                keep = None
                if self.window:
                    time = table.column("timestamp") if "timestamp" in table.column_names else None
                    if time is not None:
                        keep = pc.and_(pc.greater_equal(time, pa_time(self.window[0])), pc.less(time, pa_time(self.window[1])))
                if wanted is not None:
                    inside = pc.is_in(table.column("cell_id"), value_set=_strings(wanted))
                    keep = inside if keep is None else pc.and_(keep, inside)
                if keep is not None:
                    table = table.filter(keep)
                if table.num_rows:
                    yield _typed_load(table.to_pandas())

    def latest(self):
        return self._latest

    def empty(self):
        return _typed_load(pd.DataFrame({c: pd.Series(dtype=t) for c, t in _LOAD_DTYPES.items()}))


def _strings(values: list[str]):
    import pyarrow as pa

    return pa.array(values, type=pa.string())


def _read_cells(path: Path, cells: list[str] | None, columns: list[str] | None):
    """A day file's rows, or with ``cells`` (sorted) only its row groups whose cell range holds
    one of them (the file is sorted by cell, so a few cells read a few row groups). None when
    no row group can hold them."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
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


def open_workspace(ws: str | Path, *, settings, tables: tuple[str, ...] | None = None, load_window=None,
                   progress: Callable[[str], None] | None = None, area: tuple | None = None):
    """A :class:`~netdiag.data.dataset.Dataset` read from workspace ``ws`` (no validation again).

    Parameters are those of :func:`netdiag.data.dataset.load_dataset`, plus ``area``: (lon,
    lat) of one spot, for which only the elements that may serve it are read
    (:func:`local_tables`): a check stays as quick at 50,000 sites as at 300.
    """
    from netdiag.data.dataset import Dataset, _complaint_period, _empty

    ws = Path(ws)
    manifest = read_manifest(ws)
    say = progress or (lambda _t: None)
    if manifest.get("tz") and manifest["tz"] != settings.tz:
        log.warning("workspace %s was prepared with times read in %s; this run's time zone is %s", ws, manifest["tz"],
                    settings.tz)
    wanted = [t for t in (*NETWORK_TABLES, "load", "complaints") if tables is None or t in tables]
    say(f"reading workspace {ws}")
    typed: dict[str, pd.DataFrame] = {}
    footprints = None
    fp_current = manifest.get("footprints", {}).get("settings") == footprint_settings(settings)
    if area is not None:
        typed, footprints = local_tables(ws, area, settings, with_footprints=fp_current)
    else:
        for name in NETWORK_TABLES:
            if name in wanted:
                typed[name] = _read_table(ws / "tables" / f"{name}.parquet", name)
        if fp_current:
            footprints = read_footprints(ws)
    if "complaints" in wanted:
        parts = sorted((ws / COMPLAINTS_DIR).glob("part-*.parquet"))
        typed["complaints"] = (pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True) if parts
                               else _empty("complaints"))
    for name in wanted:
        typed.setdefault(name, _empty(name))
    window = load_window
    if isinstance(load_window, str):
        window = _complaint_period(typed.get("complaints"), settings)
    counters = WorkspaceCounters(ws, manifest.get("load", {}).get("days", {}), window,
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
    crs = CRS.from_user_input(manifest["crs"])
    if not fp_current and manifest.get("footprints"):
        log.info("the footprint settings differ from the workspace's: footprints are built again")
    return Dataset(ws, typed, rejected, stats, {}, settings, crs, counters=counters, footprints=footprints)


def footprint_settings(settings) -> dict:
    """The settings footprints depend on (a workspace's footprints are reused while they match)."""
    return {name: getattr(settings, name) for name in FOOTPRINT_SETTINGS}


def _read_table(path: Path, name: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except FileNotFoundError:
        raise InputError(f"workspace table {path} is missing; prepare the workspace again") from None


def read_footprints(ws: Path, bbox: tuple | None = None):
    """The workspace's footprints (GeoDataFrame in the data's metric CRS), in their own order
    (``fp_id``); with ``bbox`` (xmin, ymin, xmax, ymax), only those whose bbox meets it."""
    import geopandas as gpd

    path = Path(ws) / FOOTPRINTS
    fp = gpd.read_parquet(path, bbox=bbox) if bbox is not None else gpd.read_parquet(path)
    fp = fp.drop(columns=["bbox"], errors="ignore").sort_values("fp_id", kind="stable").reset_index(drop=True)
    return fp


def local_tables(ws: Path, area: tuple, settings, *, with_footprints: bool) -> tuple[dict, object]:
    """The tables around one spot: what may serve it and everything upstream, plus the nearest site.

    ``area`` is (lon, lat) in WGS-84. Footprints come from the spatial index (bbox row groups);
    the serving elements bring their cells, sites, donor cells, upstream transport nodes and
    their events. Every answer about the spot is the same as with the whole network.
    """
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    from pyproj import Transformer

    manifest = read_manifest(ws)
    crs = CRS.from_user_input(manifest["crs"])
    to_xy = Transformer.from_crs(4326, crs, always_xy=True)
    x, y = to_xy.transform(area[0], area[1])
    tables = ws / "tables"
    located = pq.read_table(tables / "sites.parquet", columns=["site_id", "lat", "lon"]).to_pandas().dropna()
    sx, sy = to_xy.transform(located["lon"].to_numpy(float), located["lat"].to_numpy(float))
    distance = np.hypot(np.asarray(sx) - x, np.asarray(sy) - y)
    site_ids = {located["site_id"].iloc[int(np.argmin(distance))]} if len(located) else set()  # the nearest site
    cells = pd.read_parquet(tables / "cells.parquet")
    reps = pd.read_parquet(tables / "repeaters.parquet")
    footprints = None
    if with_footprints:
        footprints = read_footprints(ws, bbox=(x - 1, y - 1, x + 1, y + 1))
        serving = set(footprints["element_id"])
        reps = reps[reps["repeater_id"].isin(serving)]
        cells = cells[cells["cell_id"].isin(serving | set(reps["donor_cell_id"]))]
    else:  # footprints are built again: every element of the sites within reach
        reach = settings.radius_max_m * 2 + settings.indoor_radius_m
        cells = cells[cells["site_id"].isin(set(located.loc[distance <= reach, "site_id"]))]
        reps = reps[reps["donor_cell_id"].isin(set(cells["cell_id"]))]
    site_ids |= set(cells["site_id"])
    sites = pq.read_table(tables / "sites.parquet", filters=pc.field("site_id").isin(sorted(map(str, site_ids)))).to_pandas()
    transport = _upstream(pd.read_parquet(tables / "transport.parquet"), set(sites["transport_id"].dropna()))
    chain = set(sites["site_id"]) | set(cells["cell_id"]) | set(reps["repeater_id"]) | set(transport["node_id"])
    events = pq.read_table(tables / "events.parquet",
                           filters=pc.field("element_id").isin(sorted(map(str, chain)))).to_pandas()
    local = {"transport": transport, "sites": sites, "cells": cells.reset_index(drop=True),
             "repeaters": reps.reset_index(drop=True), "events": events}
    if footprints is not None:
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
