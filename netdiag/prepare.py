"""``netdiag prepare``: validate a data directory once into a workspace (:mod:`netdiag.data.workspace`).

A first run validates every table and writes the workspace. A later run over the same folder
(or a folder with new exports) reads what is new and adds it:

- the inventory and the events are read again when one of their files changed (their size or
  SHA-256), and the footprints are built again with them; otherwise both are kept;
- complaints whose id the workspace already holds are kept as they are; new ones are added in a
  new part file;
- counters are validated a piece at a time (a Parquet batch; never the whole table in memory),
  staged by UTC day, and written sorted by cell: a day the workspace does not hold yet gets its
  folder; rows of a day it holds (the rest of a day cut short by the last export) are added as a
  new part of that day, without rewriting the old part.

Every input row is counted: accepted into the workspace, already there, or rejected with its
reason (``rejected.csv``, with the file it came from).
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import secrets
import shutil
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from netdiag import __version__
from netdiag.data import validate
from netdiag.data.csv_reader import ROW
from netdiag.data.display import decide_zone, display_zone, settings_for_data
from netdiag.data.manifest import KIND
from netdiag.data.read import find_table, gpkg_layers, read_pieces
from netdiag.data.schema import TABLE_ORDER, TABLES
from netdiag.data.workspace import (
    COMPLAINTS_DIR,
    FOOTPRINTS,
    FORMAT,
    LOAD_COLUMNS,
    LOAD_DIR,
    MANIFEST,
    NETWORK_TABLES,
    REJECTED,
    day_folder,
    footprint_settings,
    is_workspace,
    read_manifest,
)
from netdiag.errors import InputError
from netdiag.settings import Settings
from netdiag.views.writers import REJECTED_OUT, write_csv, write_text

log = logging.getLogger(__name__)

PIECE_ROWS = 4_000_000  # counter rows validated at a time
FOOTPRINT_ROW_GROUP = 2_000  # footprints per row group: the bbox statistics are the spatial index
LOAD_ROW_GROUP = 64_000  # counter rows per row group (a few hundred cells of a day)


@dataclass
class Prepared:
    """What one ``netdiag prepare`` run did."""

    workspace: Path
    changed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    complaints_added: int = 0
    complaints_known: int = 0
    load_read: int = 0
    load_added: int = 0
    load_known: int = 0
    load_rejected: int = 0
    load_unparked: int = 0
    days_added: list[str] = field(default_factory=list)
    days_extended: list[str] = field(default_factory=list)
    rejected: int = 0
    seconds: float = 0.0

    def text(self) -> str:
        lines = [f"workspace {self.workspace}:"]
        if self.changed:
            lines.append(f"  inventory and events read: {', '.join(self.changed)}")
        if self.kept:
            lines.append(f"  unchanged, kept: {', '.join(self.kept)}")
        lines.append(f"  complaints: {self.complaints_added:,} added, {self.complaints_known:,} already in the workspace")
        lines.append(f"  counters: {self.load_read:,} rows read, {self.load_added:,} added, {self.load_known:,} already "
                     f"in the workspace, {self.load_rejected:,} rejected")
        if self.load_unparked:
            lines.append(f"  counters of cells new to the inventory, kept from earlier exports: {self.load_unparked:,} added")
        if self.days_added or self.days_extended:
            lines.append(f"  days of counters: {len(self.days_added)} new"
                         + (f" ({self.days_added[0]} to {self.days_added[-1]})" if self.days_added else "")
                         + (f", {len(self.days_extended)} completed ({', '.join(self.days_extended)})" if self.days_extended else ""))
        lines.append(f"  rejected rows in the workspace: {self.rejected:,} (rejected.csv)")
        lines.append(f"done in {self.seconds:.1f} s")
        return "\n".join(lines)


def prepare_workspace(data_dir, ws, *, settings: Settings | None = None,
                      progress: Callable[[str], None] | None = None) -> Prepared:
    """Validate ``data_dir`` into workspace ``ws``, or add what is new to it (see the module docstring).

    Raises
    ------
    InputError
        A missing or unreadable table or column (as :func:`netdiag.data.dataset.load_dataset`),
        or a ``ws`` that exists and is not a workspace.
    """
    from netdiag.data.dataset import load_dataset

    settings = settings or Settings()
    if not settings.display_tz:  # called from Python: the data folder's zone, as the command line decides it
        settings = settings_for_data(settings, data_dir)
    say = progress or (lambda _t: None)
    started = time.perf_counter()
    data_dir, ws = Path(data_dir), Path(ws)
    if ws.exists() and not ws.is_dir():
        raise InputError(f"workspace {ws} is a file, not a folder")
    if not data_dir.is_dir():
        raise InputError(f"data directory {data_dir} does not exist or is not a folder")
    if data_dir.resolve() == ws.resolve():
        raise InputError("the workspace must be another folder than the data directory")
    if is_workspace(data_dir):
        raise InputError(f"{data_dir} is a workspace, not a data directory: give the folder of the exported files")
    _refuse_foreign(ws)  # before anything is written into it
    ws.mkdir(parents=True, exist_ok=True, mode=0o700)
    _private(ws)
    with _locked(ws):
        _refuse_foreign(ws)  # again, now that no other prepare runs
        for stale in ws.glob(".staging-*"):  # left by a run that was killed
            shutil.rmtree(stale, ignore_errors=True)
        manifest = read_manifest(ws) if is_workspace(ws) else _new_manifest(settings)
        _remove_orphans(ws, manifest)
        if manifest["tz"] != settings.tz:
            raise InputError(f"workspace {ws} reads naive times in {manifest['tz']}; run prepare with --tz {manifest['tz']} "
                             f"(this run has {settings.tz}), or prepare a new workspace")
        done = Prepared(ws)
        layers = gpkg_layers(data_dir)
        sources = {t: find_table(data_dir, t, layers=layers) for t in (*NETWORK_TABLES, "load", "complaints")}
        if sources["load"] is None and TABLES["load"].required:
            raise InputError(f"required table `load` not found in {data_dir}")
        absent = [t for t in NETWORK_TABLES if sources[t] is None and manifest["tables"].get(t, {}).get("accepted")]
        if absent:
            raise InputError(f"{data_dir} has no {', '.join(absent)} but the workspace does: a later prepare reads a "
                             f"folder with the whole inventory and events too (unchanged files are not read again)")
        say("fingerprinting the input files")
        prints = {t: _fingerprint(s) for t, s in sources.items() if s is not None}
        ds = load_dataset(data_dir, settings=settings, tables=(*NETWORK_TABLES, "complaints"), progress=progress)
        old_sources = manifest["sources"]
        network_changed = any(prints.get(t, {}).get("sha256") != old_sources.get(t, {}).get("sha256")
                              for t in NETWORK_TABLES) or not (ws / FOOTPRINTS).is_file()
        rejected = [_with_source(ds.rejected[ds.rejected["table"] != "load"], sources, prints)]
        fresh = {("complaints", prints["complaints"]["sha256"])} if sources["complaints"] is not None else set()
        unparked = pd.DataFrame(columns=["source", "row"])
        if network_changed:
            done.changed = [t for t in NETWORK_TABLES if sources[t] is not None]
            _write_network(ws, ds, settings, manifest, say)
            unparked = _unpark(ws, set(ds["cells"]["cell_id"].dropna()), manifest, done, say)
        else:
            done.kept = ["inventory", "events", "footprints"]
        rejected.append(_with_source(_add_complaints(ws, ds["complaints"], manifest, done), sources, prints))
        if sources["load"] is not None and prints["load"].get("sha256") != old_sources.get("load", {}).get("sha256"):
            load_rejected = _add_counters(ws, sources["load"], ds, settings, manifest, done, say, prints["load"]["sha256"])
            rejected.append(_with_source(load_rejected, sources, prints))
            fresh.add(("load", prints["load"]["sha256"]))
        elif sources["load"] is not None:
            done.kept.append("counters (same file)")
        # the rejections of what was read again replace the earlier ones; those of earlier files stay
        old = pd.read_parquet(ws / REJECTED) if (ws / REJECTED).is_file() else None
        if old is not None and len(old):
            sha = old["source_sha"] if "source_sha" in old.columns else pd.Series("", index=old.index)
            again = old["table"].isin(NETWORK_TABLES).to_numpy(dtype=bool) \
                | pd.Series(list(zip(old["table"], sha))).isin(fresh).to_numpy(dtype=bool)
            back = pd.Series(list(zip(old["source"], old["row"]))).isin(set(zip(unparked["source"], unparked["row"])))
            again |= (old["table"] == "load").to_numpy(dtype=bool) & back.to_numpy(dtype=bool)  # now in their days
            rejected.insert(0, old[~again].assign(source_sha=sha[~again]))
        rejected = pd.concat([r for r in rejected if len(r)], ignore_index=True) if any(len(r) for r in rejected) \
            else pd.DataFrame(columns=[*validate.REJECTED_COLUMNS, "source", "source_sha"])
        # an export that grows (the same rows again, and more) rejects its bad rows once
        rejected = rejected.drop_duplicates(["table", "source", "row", "id", "reason"], keep="last")
        _write_rejected(ws, rejected)
        done.rejected = len(rejected)
        for table, src in sources.items():
            if src is not None:
                manifest["sources"][table] = {"path": str(src.path.resolve()), "layer": src.layer, "format": src.fmt,
                                              **prints[table]}
        _count_tables(ws, manifest, ds, rejected)
        manifest["display_tz"] = display_zone(settings)  # the data's zone, for every command reading the workspace
        manifest["display_tz_note"] = _zone_note(settings, data_dir)
        manifest["updated"] = pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds")
        manifest["netdiag"] = __version__
        write_text(ws / MANIFEST, json.dumps(manifest, indent=1, default=str))  # last: the run is complete
    done.seconds = time.perf_counter() - started
    return done


# ----------------------------------------------------------------------------- the parts
def _new_manifest(settings: Settings) -> dict:
    import geopandas
    import shapely

    return {"kind": KIND, "format": FORMAT, "netdiag": __version__, "created": pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds"),
            "tz": settings.tz, "sources": {}, "tables": {}, "complaints": {"parts": []}, "load": {"days": {}},
            "versions": {"pandas": pd.__version__, "pyarrow": pa.__version__, "geopandas": geopandas.__version__,
                         "shapely": shapely.__version__}}


def _write_network(ws: Path, ds, settings: Settings, manifest: dict, say) -> None:
    from netdiag.engine.footprints import build_footprints

    (ws / "tables").mkdir(exist_ok=True)
    for name in NETWORK_TABLES:
        frame = ds[name]
        if name == "events":
            frame = frame.sort_values(["element_id", "start_time"], kind="stable")
        _write_parquet(ws / "tables" / f"{name}.parquet", _plain_strings(pa.Table.from_pandas(frame, preserve_index=False)),
                       row_group_size=20_000)
    say("footprints")
    fp = build_footprints(ds, settings=settings)
    fp = fp.iloc[np.argsort(fp.hilbert_distance(), kind="stable")] if len(fp) else fp
    with _replacing(ws / FOOTPRINTS) as temp:
        fp.to_parquet(temp, index=False, write_covering_bbox=True, schema_version="1.1.0",
                      row_group_size=FOOTPRINT_ROW_GROUP)
    manifest["crs"] = ds.crs.to_wkt()
    manifest["footprints"] = {"rows": len(fp), "settings": footprint_settings(settings)}


def _plain_strings(table: pa.Table) -> pa.Table:
    """Ids as plain strings: a check reads a few rows of 200,000 cells, and decoding a dictionary
    of 200,000 values would cost it half a second."""
    for i, f in enumerate(table.schema):
        if pa.types.is_dictionary(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(f.type.value_type))
    return table


#: what tells a complaint sent again from a complaint changed since (its id kept)
_COMPLAINT_CONTENT = ["received_at", "occurred_at", "lat_given", "lon_given", "coord_system", "category", "indoor",
                      "channel", "customer_id", "vip", "description"]


def _add_complaints(ws: Path, complaints: pd.DataFrame, manifest: dict, done: Prepared) -> pd.DataFrame:
    """Add the complaints the workspace does not hold yet; the rejections of those it holds with
    other values (the workspace keeps the first it was given, as a data folder keeps the first
    of two rows with one id)."""
    parts = manifest["complaints"]["parts"]
    held = pd.concat([pd.read_parquet(ws / COMPLAINTS_DIR / p) for p in parts], ignore_index=True) if parts else None
    known = held["complaint_id"] if held is not None else pd.Series([], dtype=str)
    is_known = complaints["complaint_id"].isin(set(known)).to_numpy(dtype=bool)
    new = complaints[~is_known]
    done.complaints_known = int(is_known.sum())
    done.complaints_added = len(new)
    rejected = pd.DataFrame(columns=validate.REJECTED_COLUMNS)
    if is_known.any():
        again = complaints[is_known]
        before = _content(held).groupby(known.to_numpy()).first()
        now = _content(again).set_axis(again["complaint_id"].to_numpy())
        changed = (now != before.reindex(now.index)).any(axis=1).to_numpy(dtype=bool)
        if changed.any():
            rows = again[changed]
            rejected = pd.DataFrame({"table": "complaints", "row": rows["_row"].to_numpy(dtype=np.int64),
                                     "id": rows["complaint_id"].to_numpy(dtype=object),
                                     "reason": [f"complaint_id {c!r} is already in the workspace with other values; "
                                                f"the workspace keeps the first one it was given" for c in rows["complaint_id"]],
                                     "code": "changed complaint"})
            done.complaints_known -= int(changed.sum())
    if new.empty:
        return rejected
    (ws / COMPLAINTS_DIR).mkdir(exist_ok=True)
    name = f"part-{len(parts):04d}.parquet"
    _write_parquet(ws / COMPLAINTS_DIR / name, pa.Table.from_pandas(new.reset_index(drop=True), preserve_index=False))
    parts.append(name)
    return rejected


def _content(complaints: pd.DataFrame) -> pd.DataFrame:
    """The columns that say what a complaint is, as comparable text."""
    cols = [c for c in _COMPLAINT_CONTENT if c in complaints.columns]
    return complaints[cols].astype(str).fillna("").reset_index(drop=True)


PARKED = "parked/load.parquet"  # counter rows of cells not in the inventory (yet); outside load/, which holds days only
_UNKNOWN_CELL = "unknown cell_id"


def _add_counters(ws: Path, source, ds, settings: Settings, manifest: dict, done: Prepared, say,
                  sha: str) -> pd.DataFrame:
    """Validate the counters a piece at a time, stage them by day, then write the new rows of each day.

    Rows whose only fault is a cell the inventory does not hold are rejected and also parked
    (``parked/load.parquet``): when a later inventory holds the cell, they join their days
    (:func:`_unpark`)."""
    spec = TABLES["load"]
    cells = ds["cells"]["cell_id"]
    cells_ok = set(cells.dropna().tolist())
    cells_bad = set(ds.rejected.loc[ds.rejected["table"] == "cells", "id"].dropna().tolist()) - cells_ok
    rejected, parked = [], []
    with _staging(ws) as staging:
        for k, piece in enumerate(read_pieces(source, rows=PIECE_ROWS)):
            done.load_read += len(piece) + len(piece.attrs.get("unreadable", []))
            say(f"counters: {done.load_read:,} rows read")
            typed, problems = validate.check_table(spec, piece, tz=settings.tz, source=str(source))
            validate.check_cells(typed, problems, cells_ok, cells_bad)
            codes = {part["code"].iloc[0] for part in problems.parts} - {_UNKNOWN_CELL}
            only_cell = problems.positions(len(typed), codes=(_UNKNOWN_CELL,)) & ~problems.positions(len(typed), codes=tuple(codes))
            if only_cell.any():
                park = typed.loc[only_cell, [ROW, *LOAD_COLUMNS]]
                parked.append(park.assign(cell_id=park["cell_id"].astype(str), source=str(source), source_sha=sha))
            accepted, rej = validate.split("load", typed, problems)
            rejected.append(rej)
            _stage(staging, accepted, k)
        _write_staged(ws, staging, manifest, done, say)
    if parked:
        _write_parked(ws, [*_parked(ws), pd.concat(parked, ignore_index=True)])
    rejected = [r for r in rejected if len(r)]
    out = pd.concat(rejected, ignore_index=True) if rejected else pd.DataFrame(columns=validate.REJECTED_COLUMNS)
    done.load_rejected = len(out)
    return out


def _unpark(ws: Path, cells_ok: set, manifest: dict, done: Prepared, say) -> pd.DataFrame:
    """Counter rows parked for a cell the inventory now holds join their days; returns them
    (``source, row``) so that their rejections are taken back."""
    parked = _parked(ws)
    if not parked:
        return pd.DataFrame(columns=["source", "row"])
    parked = pd.concat(parked, ignore_index=True)
    known = parked["cell_id"].isin(cells_ok).to_numpy(dtype=bool)
    if not known.any():
        return pd.DataFrame(columns=["source", "row"])
    back = parked[known]
    with _staging(ws) as staging:
        _stage(staging, back, 0)
        _write_staged(ws, staging, manifest, done, say)
    _write_parked(ws, [parked[~known]])
    done.load_unparked = int(known.sum())
    return back[["source", ROW]].rename(columns={ROW: "row"})


def _parked(ws: Path) -> list[pd.DataFrame]:
    path = ws / PARKED
    return [pd.read_parquet(path)] if path.is_file() else []


def _write_parked(ws: Path, frames: list[pd.DataFrame]) -> None:
    frames = [f for f in frames if len(f)]
    path = ws / PARKED
    if not frames:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = pd.concat(frames, ignore_index=True).drop_duplicates(["source_sha", ROW])  # a file read again parks once
    _write_parquet(path, pa.Table.from_pandas(rows, preserve_index=False))


@contextlib.contextmanager
def _staging(ws: Path):
    """A private folder for counters on their way to their days, removed afterwards."""
    staging = ws / f".staging-{os.getpid()}-{secrets.token_hex(4)}"
    staging.mkdir(mode=0o700)
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _stage(staging: Path, rows: pd.DataFrame, k: int) -> None:
    """Accepted counter rows, by UTC day, into the staging folder."""
    if rows.empty:
        return
    table = pa.Table.from_pandas(rows[LOAD_COLUMNS], preserve_index=False)
    table = table.set_column(0, "cell_id", table.column("cell_id").cast(pa.string()))
    days = rows["timestamp"].dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    for day in np.unique(days):
        folder = staging / day_folder(day)
        folder.mkdir(exist_ok=True)
        pq.write_table(table.filter(pa.array(days == day)), folder / f"piece-{k:05d}.parquet")


def _write_staged(ws: Path, staging: Path, manifest: dict, done: Prepared, say) -> None:
    """Each staged day, sorted by cell: a new day's folder, or a new part with the rows an old day lacks."""
    days = manifest["load"]["days"]
    for folder in sorted(staging.iterdir()):
        day = folder.name.split("=", 1)[1]
        say(f"counters: writing {day}")
        rows = pq.read_table(folder).sort_by([("cell_id", "ascending"), ("timestamp", "ascending")])
        entry = days.get(day)
        if entry:
            keys = pa.concat_tables([pq.read_table(ws / LOAD_DIR / day_folder(day) / p, columns=["cell_id", "timestamp"])
                                     for p in entry["parts"]])
            before = rows.num_rows
            rows = rows.join(keys, keys=["cell_id", "timestamp"], join_type="left anti")
            rows = rows.sort_by([("cell_id", "ascending"), ("timestamp", "ascending")])
            done.load_known += before - rows.num_rows
            if rows.num_rows == 0:
                continue
            done.days_extended.append(day)
        else:
            entry = days[day] = {"rows": 0, "parts": [], "latest": None}
            done.days_added.append(day)
        out = ws / LOAD_DIR / day_folder(day)
        out.mkdir(parents=True, exist_ok=True)
        name = f"part-{len(entry['parts']):04d}.parquet"
        _write_parquet(out / name, rows, row_group_size=LOAD_ROW_GROUP)
        latest = pd.Timestamp(pa.compute.max(rows.column("timestamp")).as_py())
        entry["parts"].append(name)
        entry["rows"] += rows.num_rows
        entry["latest"] = max(filter(None, [entry["latest"] and pd.Timestamp(entry["latest"]), latest])).isoformat()
        done.load_added += rows.num_rows
    manifest["load"]["days"] = dict(sorted(days.items()))
    manifest["load"]["columns"] = LOAD_COLUMNS


def _with_source(rejected: pd.DataFrame, sources: dict, prints: dict) -> pd.DataFrame:
    """Rejections with the file each row came from (its name; its SHA-256 to tell exports apart)."""
    names = {t: str(s) for t, s in sources.items() if s is not None}
    shas = {t: p["sha256"] for t, p in prints.items()}
    return rejected.assign(source=rejected["table"].map(names).fillna(""), source_sha=rejected["table"].map(shas).fillna(""))


def _count_tables(ws: Path, manifest: dict, ds, rejected: pd.DataFrame) -> None:
    """Rows read, accepted and rejected per table, for ``netdiag validate --workspace`` and the manifest."""
    counts = rejected["table"].value_counts()
    tables = manifest["tables"]
    for _, row in ds.stats.iterrows():
        tables[row["table"]] = {"source": row["source"], "read": int(row["read"]), "accepted": int(row["accepted"]),
                                "rejected": int(row["rejected"]), "skipped": 0}
    if "complaints" in tables:  # every complaint in the workspace and every one rejected, from this run or earlier
        complaints = tables["complaints"]
        complaints["accepted"] = int(sum(pq.read_metadata(ws / COMPLAINTS_DIR / p).num_rows
                                         for p in manifest["complaints"]["parts"]))
        complaints["rejected"] = int(counts.get("complaints", 0))
        complaints["read"] = complaints["accepted"] + complaints["rejected"]
    days = manifest["load"]["days"]
    load = tables.setdefault("load", {"source": "", "read": 0, "accepted": 0, "rejected": 0, "skipped": 0})
    load["source"] = Path(manifest["sources"].get("load", {}).get("path", "")).name
    load["accepted"] = int(sum(d["rows"] for d in days.values()))
    load["rejected"] = int(counts.get("load", 0))
    load["read"] = load["accepted"] + load["rejected"]


# ----------------------------------------------------------------------------- files
def _fingerprint(source) -> dict:
    """Size and SHA-256 of a source file (a GeoPackage layer: of the whole file)."""
    digest = hashlib.sha256()
    with open(source.path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return {"bytes": os.path.getsize(source.path), "sha256": digest.hexdigest()}


@contextlib.contextmanager
def _replacing(path: Path):
    """Write ``path`` whole or not at all: yields a temporary path beside it, renamed over ``path``
    when the block ends without error, removed otherwise."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    try:
        yield temp
        os.replace(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def _write_parquet(path: Path, table: pa.Table, **kwargs) -> None:
    with _replacing(path) as temp:
        pq.write_table(table, temp, **kwargs)


def _write_rejected(ws: Path, rejected: pd.DataFrame) -> None:
    order = {t: i for i, t in enumerate(TABLE_ORDER)}  # the order a data directory's rejections come in
    rejected = rejected.iloc[np.argsort(rejected["table"].map(order).to_numpy(), kind="stable")]
    rejected = rejected.reset_index(drop=True).astype({"row": np.int64, "id": str, "reason": str, "code": str, "source": str})
    _write_parquet(ws / REJECTED, pa.Table.from_pandas(rejected, preserve_index=False))
    write_csv(rejected[[*REJECTED_OUT, "source"]], ws / "rejected.csv")


def _remove_orphans(ws: Path, manifest: dict) -> None:
    """Part files a killed run wrote but the manifest does not list (other tools would read them)."""
    listed = {ws / COMPLAINTS_DIR / p for p in manifest["complaints"]["parts"]}
    listed |= {ws / LOAD_DIR / day_folder(d) / p for d, e in manifest["load"]["days"].items() for p in e["parts"]}
    for path in [*ws.glob(f"{COMPLAINTS_DIR}/part-*.parquet"), *ws.glob(f"{LOAD_DIR}/day=*/part-*.parquet")]:
        if path not in listed:
            log.info("removing %s, left by a run that did not finish", path)
            path.unlink()


def _refuse_foreign(ws: Path) -> None:
    """A folder that holds other things than a workspace (or one being made) is not written into."""
    if ws.is_dir() and not is_workspace(ws) and any(p.name != ".lock" and not p.name.startswith(".staging-")
                                                    for p in ws.iterdir()):
        raise InputError(f"{ws} is not empty and is not a netdiag workspace; give a new or empty folder")


def _private(ws: Path) -> None:
    """The workspace holds customer numbers unmasked: a real folder of this user's, for this user alone."""
    st = os.lstat(ws)
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise InputError(f"workspace {ws} is a symbolic link; give the folder itself")
    if st.st_uid != os.getuid():
        raise InputError(f"workspace {ws} belongs to another user; give a folder of your own")
    if st.st_mode & 0o077:
        os.chmod(ws, 0o700)


@contextlib.contextmanager
def _locked(ws: Path):
    """One ``prepare`` at a time per workspace (a second one waits)."""
    fd = os.open(ws / ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _zone_note(settings: Settings, data_dir: Path) -> str:
    """The note of :func:`~netdiag.data.display.decide_zone` when the workspace's zone is the one
    the data decides (a fixed offset guessed, or UTC as a fallback): the workspace's checks say it
    as the data folder's do; ``""`` when a zone was named."""
    decided, note = decide_zone(Settings(tz=settings.tz), data_dir, given=set())
    return note if note and display_zone(decided) == display_zone(settings) else ""
