"""Load a data directory: find, read and validate every table, convert complaint positions.

This is the boundary of netdiag: what comes out of :func:`load_dataset` is typed, checked and
in WGS-84, and every input row is either in ``Dataset.tables`` or in ``Dataset.rejected``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from pyproj import CRS

from netdiag.data import validate
from netdiag.data.convert import to_time
from netdiag.data.coords import to_wgs84, utm_crs
from netdiag.data.counters import Counters, FrameCounters
from netdiag.data.csv_reader import ROW, UNREADABLE
from netdiag.data.privacy import mask_text_series
from netdiag.data.read import Source, find_table, gpkg_layers, read_source
from netdiag.data.schema import TABLE_ORDER, TABLES
from netdiag.errors import InputError
from netdiag.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Dataset:
    """Validated tables of one data directory.

    Attributes
    ----------
    tables : dict[str, DataFrame]
        Accepted rows per table, typed (timestamps in UTC, ids as strings), each with ``_row``.
        Absent optional tables are empty frames with the contract's columns.
    rejected : DataFrame
        ``table, row, id, reason, code``: one row per rejected input row.
    stats : DataFrame
        ``table, source, read, accepted, rejected`` per table.
    crs : pyproj.CRS
        The metric CRS for distance work, chosen from the data's own location (UTM zone).
    counters : Counters
        The load counters, read a piece at a time (:mod:`netdiag.data.counters`). For a data
        directory they are ``tables["load"]``; a workspace reads its day files when asked, and
        its ``tables["load"]`` is empty.
    footprints : GeoDataFrame or None
        Footprints prepared ahead (a workspace), else None (built from the inventory).
    """

    data_dir: Path
    tables: dict[str, pd.DataFrame]
    rejected: pd.DataFrame
    stats: pd.DataFrame
    sources: dict[str, Source]
    settings: Settings
    crs: CRS
    notes: list[str] = field(default_factory=list)
    counters: Counters | None = None
    footprints: object = None
    #: the last alarm's start in the whole data, when ``tables["events"]`` holds only some (a workspace
    #: read around one spot); None = take it from ``tables["events"]``
    events_until: object = None

    def __post_init__(self):
        if self.counters is None:
            self.counters = FrameCounters(self.tables["load"] if "load" in self.tables else _empty("load"))

    def __getitem__(self, table: str) -> pd.DataFrame:
        return self.tables[table]

    def last_alarm(self) -> pd.Timestamp | None:
        """When the last alarm of the whole data started (``events_until`` when only some events
        were read), or None."""
        if self.events_until is not None:
            return pd.Timestamp(self.events_until)
        starts = self.tables["events"]["start_time"].dropna() if "events" in self.tables else pd.Series([], dtype=object)
        return pd.Timestamp(starts.max()) if len(starts) else None

    def reasons(self) -> pd.DataFrame:
        """Rejections grouped: ``table, code, count, example`` (most frequent first)."""
        if self.rejected.empty:
            return pd.DataFrame(columns=["table", "code", "count", "example"])
        g = self.rejected.groupby(["table", "code"], sort=False)
        out = g.agg(count=("row", "size"), example=("reason", "first")).reset_index()
        order = {t: i for i, t in enumerate(TABLE_ORDER)}
        out["_t"] = out["table"].map(order)
        return out.sort_values(["_t", "count"], ascending=[True, False]).drop(columns="_t").reset_index(drop=True)


def _empty(table: str) -> pd.DataFrame:
    spec = TABLES[table]
    frame = pd.DataFrame({ROW: pd.Series(dtype=np.int64)})
    for col in spec.columns:
        if col.kind == "time":
            frame[col.name] = pd.Series(dtype="datetime64[ns, UTC]")
        elif col.kind in ("float",):
            frame[col.name] = pd.Series(dtype=float)
        elif col.kind == "int":
            frame[col.name] = pd.Series(dtype="Int64")
        elif col.kind == "bool":
            frame[col.name] = pd.Series(dtype="boolean")
        else:
            frame[col.name] = pd.Series(dtype="str")
    return frame


def load_dataset(data_dir: str | Path, *, settings: Settings | None = None,
                 tables: tuple[str, ...] | None = None, load_window=None,
                 progress: Callable[[str], None] | None = None) -> Dataset:
    """Read and validate the tables of ``data_dir``.

    Parameters
    ----------
    data_dir : path
        A folder with one file per table (``NAME.csv``, ``.parquet``, ``.geojson``) and/or a
        ``network.gpkg`` with one layer per table; or a workspace made by ``netdiag prepare``
        (:mod:`netdiag.data.workspace`), read without validating again.
    settings : Settings, optional
        ``settings.tz`` is the time zone of naive timestamps.
    tables : tuple of str, optional
        Only these tables (and what they reference) are read; default all.
    load_window : (start, end), "complaints" or None
        Read only the load counters of this period (UTC); ``"complaints"`` = the period the
        complaints need (their windows, plus ``load_baseline_days`` before for the sleeping-cell
        baseline). With a Parquet load table whose ``timestamp`` is a timestamp column, row
        groups outside the period are not even read. The rows left out are counted in
        ``stats["skipped"]``, never silently. Default None: every row.
    progress : callable, optional
        Called with a short text at each stage.

    Returns
    -------
    Dataset

    Raises
    ------
    InputError
        The folder does not exist, a required table or column is missing, or a file cannot be
        read. The message names the file and column.

    Examples
    --------
    >>> ds = load_dataset("sample_data")                       # doctest: +SKIP
    >>> ds.stats                                               # doctest: +SKIP
    """
    settings = settings or Settings()
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise InputError(f"data directory {data_dir} does not exist or is not a folder")
    from netdiag.data.workspace import is_workspace, open_workspace

    if is_workspace(data_dir):
        return open_workspace(data_dir, settings=settings, tables=tables, load_window=load_window, progress=progress)
    wanted = [t for t in TABLE_ORDER if tables is None or t in tables]
    layers = gpkg_layers(data_dir)
    sources: dict[str, Source] = {}
    typed: dict[str, pd.DataFrame] = {}
    problems: dict[str, validate.Problems] = {}
    read_counts: dict[str, int] = {}
    skipped: dict[str, int] = {}
    if isinstance(load_window, str) and "load" in wanted and "complaints" in wanted:
        wanted_order = [t for t in wanted if t != "load"] + ["load"]  # the complaints decide the window
    else:
        wanted_order = wanted
    for name in wanted_order:
        source = find_table(data_dir, name, layers=layers)
        if source is None:
            if TABLES[name].required:
                raise InputError(f"required table `{name}` not found in {data_dir} "
                                 f"(expected {name}.csv, {name}.parquet, {name}.geojson or a layer of network.gpkg)")
            continue
        if progress:
            progress(f"reading {source}")
        window = None
        if name == "load" and load_window is not None:
            window = _complaint_period(typed.get("complaints"), settings) if isinstance(load_window, str) else load_window
        raw = read_source(source, window=window)
        parsed = {}
        if window is not None and source.fmt != "parquet":
            raw, parsed = _inside(raw, window, settings)  # text formats: read, then keep the period
        skipped[name] = int(raw.attrs.get("skipped_outside_window", 0))
        sources[name] = source
        typed[name], problems[name] = validate.check_table(TABLES[name], raw, tz=settings.tz, source=str(source),
                                                           parsed=parsed)
        read_counts[name] = len(raw) + len(raw.attrs.get(UNREADABLE, [])) + skipped[name]
    if progress:
        progress("checking references")
    validate.check_references(typed, problems)

    accepted: dict[str, pd.DataFrame] = {}
    rejected_parts = []
    for name in wanted:
        if name in typed:
            accepted[name], rej = validate.split(name, typed[name], problems[name])
            rejected_parts.append(rej)
        else:
            accepted[name] = _empty(name)
    rejected = pd.concat([p for p in rejected_parts if len(p)], ignore_index=True) if any(len(p) for p in rejected_parts) \
        else pd.DataFrame(columns=validate.REJECTED_COLUMNS)
    rejected["row"] = rejected["row"].astype(np.int64)

    if "load" in accepted and len(accepted["load"]):
        # millions of rows, thousands of cells: group and join on codes, not strings
        accepted["load"]["cell_id"] = accepted["load"]["cell_id"].astype("category")
    if "complaints" in accepted:
        accepted["complaints"] = _complaints_to_wgs84(accepted["complaints"])
    if "events" in accepted and len(accepted["events"]):
        # an engineer may paste a callback number into an alarm's detail: it reaches evidence, maps and tickets
        accepted["events"]["detail"] = mask_text_series(accepted["events"]["detail"])
    sites = accepted.get("sites")
    crs = utm_crs(sites["lon"], sites["lat"]) if sites is not None and len(sites) else CRS.from_epsg(3857)

    stats = pd.DataFrame([
        {"table": name, "source": str(sources[name]) if name in sources else "",
         "read": read_counts.get(name, 0), "accepted": len(accepted[name]),
         "rejected": int((rejected["table"] == name).sum()), "skipped": skipped.get(name, 0)}
        for name in wanted])
    for _, r in stats.iterrows():
        log.info("%s: %d read, %d accepted, %d rejected, %d outside the period", r["table"], r["read"], r["accepted"],
                 r["rejected"], r["skipped"])
    return Dataset(data_dir, accepted, rejected, stats, sources, settings, crs)


def load_period(earliest: pd.Timestamp, latest: pd.Timestamp, settings: Settings) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The counters needed for windows from ``earliest`` to ``latest``: from ``load_baseline_days``
    before (the sleeping-cell baseline) to the end of the period holding ``latest``."""
    return (earliest.floor("D") - pd.Timedelta(days=settings.load_baseline_days),
            latest + pd.Timedelta(minutes=settings.period_min))


def _complaint_period(complaints: pd.DataFrame | None, settings: Settings) -> tuple | None:
    """The load period the complaints need (their windows; see :func:`load_period`)."""
    if complaints is None or complaints.empty:
        return None
    received = complaints["received_at"].dropna()
    occurred = complaints["occurred_at"].dropna()
    if received.empty:
        return None
    earliest = min(received.min() - pd.Timedelta(hours=settings.lookback_h), occurred.min() if len(occurred) else received.min())
    return load_period(earliest, received.max(), settings)


def _inside(raw: pd.DataFrame, window: tuple, settings: Settings) -> tuple[pd.DataFrame, dict]:
    """Rows of a text-format load table inside ``window`` (unreadable times are kept, to be
    reported), and their times as parsed (for :func:`validate.check_table`, not to parse twice)."""
    times, bad, dst = to_time(raw["timestamp"], settings.tz) if "timestamp" in raw else (None, None, None)
    if times is None:
        return raw, {}
    lo, hi = (pd.Timestamp(t).tz_convert("UTC") for t in window)
    keep = ((times >= lo) & (times < hi)).to_numpy(dtype=bool) | times.isna().to_numpy()
    out = raw.loc[keep].reset_index(drop=True)
    out.attrs = {**raw.attrs, "skipped_outside_window": int((~keep).sum())}
    return out, {"timestamp": (times[keep].reset_index(drop=True), bad[keep], dst[keep])}


def _complaints_to_wgs84(complaints: pd.DataFrame) -> pd.DataFrame:
    """Keep the position as given (``lat_given``, ``lon_given``) and convert ``lat``/``lon`` to WGS-84."""
    out = complaints.copy()
    system = out["coord_system"].fillna("wgs84").astype("str")
    out["coord_system"] = system
    out["lat_given"], out["lon_given"] = out["lat"], out["lon"]
    lon, lat = to_wgs84(out["lon"].to_numpy(float), out["lat"].to_numpy(float), system.to_numpy(dtype=object))
    out["lon"], out["lat"] = lon, lat
    for col in ("indoor", "vip"):
        out[col] = out[col].fillna(False).astype(bool)
    return out
