"""``netdiag import``: an operator's own exports -> the contract's tables.

One importer per kind of export, each a module: :mod:`~netdiag.importers.params` (工参表 ->
cells and sites), :mod:`~netdiag.importers.alarms` (告警流水 -> events, through the alarm
dictionary), :mod:`~netdiag.importers.counters` (PM counters -> load, streamed),
:mod:`~netdiag.importers.opencellid` (OpenCelliD -> cells and sites) and
:mod:`~netdiag.importers.complaints` (complaint exports -> complaints). They share the profile
(:mod:`~netdiag.importers.profile`), the readers (:mod:`~netdiag.importers.source`), the
column-wise conversions and row accounting (:mod:`~netdiag.importers.common`), the id rules
(:mod:`~netdiag.importers.ids`) and the 3GPP band tables (:mod:`~netdiag.importers.bands`).

Every row of the export is converted, or rejected with a reason in
``DATA_DIR/import/KIND-rejected.csv`` (``table, row, id, reason``), or (OpenCelliD) counted as
outside the filters; ``DATA_DIR/import/KIND-summary.json`` says what was mapped, defaulted,
converted and dropped.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from netdiag.data.csv_reader import ROW, UNREADABLE
from netdiag.errors import InputError
from netdiag.importers.common import REJECTED_COLUMNS, Job, unused_columns
from netdiag.importers.profile import load_dictionary, load_profile, norm_header, starter_profiles
from netdiag.importers.source import check_source, read_chunks, read_table

log = logging.getLogger(__name__)

#: kind -> (contract table its rows become, the tables it writes)
KINDS = {
    "params": ("cells", ["sites.csv", "cells.csv"]),
    "alarms": ("events", ["events.csv"]),
    "counters": ("load", ["load.csv"]),
    "opencellid": ("cells", ["sites.csv", "cells.csv"]),
    "complaints": ("complaints", ["complaints.csv"]),
}
#: the starter profile of each kind
DEFAULT_PROFILES = {"params": "params_cn", "alarms": "alarms_cn", "counters": "counters_cn",
                    "opencellid": "opencellid", "complaints": "complaints_cn"}

__all__ = ["KINDS", "ImportResult", "import_export", "starter_profiles", "load_profile", "load_dictionary"]


@dataclass
class ImportResult:
    """What one import did: the files written, the rejected rows and the summary."""

    kind: str
    written: dict[str, int]            # file -> data rows
    rejected: pd.DataFrame             # table, row, id, reason
    summary: dict = field(default_factory=dict)
    report_files: list[Path] = field(default_factory=list)


def import_export(kind: str, source: str | Path, out_dir: str | Path, *, profile: str | Path | None = None,
                  sheet: str | None = None, dictionary: str | Path | None = None, mcc: int | None = None,
                  mnc: int | None = None, bbox: tuple | None = None, overwrite: bool = False,
                  append: bool = False, inventory: str | Path | None = None) -> ImportResult:
    """Convert one export into contract tables in ``out_dir``.

    Parameters
    ----------
    kind : {"params", "alarms", "counters", "opencellid", "complaints"}
    source : str or Path
        The export: CSV (UTF-8, UTF-16, GB18030/GBK) or ``.xlsx``.
    out_dir : str or Path
        The data directory to write into (created); existing tables are kept unless ``overwrite``.
    profile : str or Path, optional
        A ``.toml`` profile or a starter profile's name; default the kind's starter profile.
    sheet : str, optional
        The sheet of an ``.xlsx`` (default: the profile's, else the first).
    dictionary : str or Path, optional
        Alarm dictionary (``alarms`` only); default the starter dictionary.
    mcc, mnc, bbox : optional
        OpenCelliD filters (``bbox`` = west, south, east, north).
    overwrite : bool
        Replace tables and reports already in ``out_dir``.
    append : bool
        Add the rows to the tables already in ``out_dir`` (``params``, ``alarms``, ``complaints``):
        e.g. a second OMC vendor's alarms into the same ``events.csv``. A row whose id is already
        in the table is rejected with that reason; a site already there is kept as it is. The
        reports are written beside the earlier ones (``alarms-2-rejected.csv``, ...).
    inventory : str or Path, optional
        ``alarms``: the data directory whose ``sites``/``cells`` resolve alarms that name their
        element by NE name, cell name or local cell id (see :mod:`netdiag.importers.names`);
        default ``out_dir``, where ``netdiag import params`` wrote them.

    Returns
    -------
    ImportResult

    Raises
    ------
    InputError
        Unknown kind, unreadable source or profile, a column the profile needs missing from the
        export, existing outputs without ``overwrite``.
    """
    if kind not in KINDS:
        raise InputError(f"`kind` was {kind!r} but is expected to be one of {', '.join(KINDS)}")
    if inventory is not None and kind != "alarms":
        raise InputError(f"`inventory` resolves the NE names of alarm exports (kind 'alarms'), not {kind!r}")
    if inventory is not None and not Path(inventory).is_dir():
        raise InputError(f"`inventory` was {str(inventory)!r}: no such data directory")
    prof = load_profile(profile or DEFAULT_PROFILES[kind], kind=kind)
    path = check_source(source)
    table, outputs = KINDS[kind]
    report_names = [f"{kind}-rejected.csv", f"{kind}-summary.json"] + (["alarms-merged.csv"] if kind == "alarms" else [])
    from netdiag.views.writers import prepare_out_dir, refuse_existing

    if append and overwrite:
        raise InputError("`append` and `overwrite` exclude each other: add the rows to the tables, or replace them")
    if append and kind not in APPENDABLE:
        raise InputError(f"`append` is for the kinds {', '.join(APPENDABLE)}; import {kind} into its own data "
                         f"directory, or merge the files before importing")
    from netdiag.errors import OutputExistsError

    try:
        out = prepare_out_dir(out_dir, [] if append else outputs, overwrite=overwrite)
    except OutputExistsError as exc:
        if kind in APPENDABLE:
            raise OutputExistsError(f"{exc}, or `append` to add this export's rows to them (e.g. a second OMC "
                                    f"vendor's {kind})") from None
        raise
    if append:
        n = 2
        while any((out / "import" / name.replace(kind, f"{kind}-{n}", 1)).exists() for name in report_names):
            n += 1
        if any((out / "import" / name).exists() for name in report_names):
            report_names = [name.replace(kind, f"{kind}-{n}", 1) for name in report_names]
    refuse_existing(out / "import", report_names, overwrite=overwrite)
    sheet = sheet or prof.source.get("sheet") or None
    header_rows = int(prof.source.get("header_rows", 0))
    wanted = {norm_header(part) for headers in prof.columns.values() for h in headers for part in (h, h.split("/")[-1])}
    if kind == "counters" or kind == "opencellid":
        result = _import_streamed(kind, prof, path, out, table, sheet=sheet, header_rows=header_rows,
                                  mcc=mcc, mnc=mnc, bbox=bbox, wanted=wanted)
    else:
        frame = read_table(path, encoding=prof.encoding, sheet=sheet, header_rows=header_rows, wanted=wanted)
        result = _import_whole(kind, prof, frame, out, table, dictionary=dictionary, append=append,
                               inventory=inventory if inventory is not None else out_dir)
    result.summary.update({"kind": kind, "source": path.name, "profile": prof.name})
    _write_report(result, out / "import", kind, report_names)
    log.info("import %s: %d rows read, %d converted, %d rejected", kind, result.summary["rows_read"],
             result.summary["rows_converted"], result.summary["rows_rejected"])
    return result


#: the kinds whose rows can be added to an existing table (``append``), with each table's id column
APPENDABLE = {"params": {"cells": "cell_id", "sites": "site_id"}, "alarms": {"events": "event_id"},
              "complaints": {"complaints": "complaint_id"}}


def _import_whole(kind, prof, frame, out: Path, table: str, *, dictionary, append: bool = False,
                  inventory=None) -> ImportResult:
    from netdiag.views.writers import write_csv

    job = Job(frame, prof, table)
    if kind == "params":
        from netdiag.importers.params import convert

        tables, ids = convert(job)
    elif kind == "alarms":
        from netdiag.importers.alarms import convert

        tables, ids = convert(job, load_dictionary(dictionary or "alarm_dictionary"), inventory=inventory)
    else:
        from netdiag.importers.complaints import convert

        tables, ids = convert(job)
    if append:
        tables = _append(job, tables, ids, out, APPENDABLE[kind])
    rejected = job.rejected(ids)
    written = {}
    for name, t in tables.items():
        write_csv(t, out / f"{name}.csv")
        written[f"{name}.csv"] = int(len(t))
    read = int(len(frame)) + len(frame.attrs.get(UNREADABLE) or [])
    summary = _summary(job, read=read, rejected=rejected, written=written)
    result = ImportResult(kind, written, rejected, summary)
    if kind == "alarms":
        result.absorbed = job.absorbed
    return result


def _append(job: Job, tables: dict, ids: pd.Series, out: Path, id_columns: dict) -> dict:
    """The tables with the rows already in ``out`` first; a new row whose id is already there is
    rejected (the main table) or left out (sites: the one there is kept)."""
    from netdiag.importers.common import quoted

    merged = {}
    for name, t in tables.items():
        path = out / f"{name}.csv"
        if not path.exists():
            merged[name] = t
            continue
        old = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        key = id_columns[name]
        if key not in old.columns:
            raise InputError(f"{path} has no column {key}: not a table netdiag can append to")
        there = set(old[key])
        if name == job.table:
            clash = ids.isin(there).to_numpy() & ~job.bad & (ids != "").to_numpy()
            job.reject(clash, f"{key} " + quoted(ids) + f" is already in {name}.csv (from an earlier import)")
        t = t[~t[key].astype(str).isin(there)]
        merged[name] = pd.concat([old, t.astype(object)], ignore_index=True)
        job.summary.setdefault("appended_to", {})[f"{name}.csv"] = int(len(old))
    return merged


def _import_streamed(kind, prof, path: Path, out: Path, table: str, *, sheet, header_rows, mcc, mnc, bbox,
                     wanted=None) -> ImportResult:
    """Counters and OpenCelliD: piece by piece, each written before the next is read."""
    from netdiag.importers import counters, opencellid
    from netdiag.views.sanitize import neutralise_frame

    chunk_rows = int(prof.options.get("chunk_rows", 200_000))
    names = {"counters": ["load"], "opencellid": ["cells", "sites"]}[kind]
    targets = {n: out / f"{n}.csv" for n in names}
    for target in targets.values():
        target.unlink(missing_ok=True)
    written = {f"{n}.csv": 0 for n in names}
    rejected, summary, read, filtered = [], None, 0, 0
    sites = []
    seen = counters.Seen()
    for piece in read_chunks(path, encoding=prof.encoding, sheet=sheet, header_rows=header_rows, chunk_rows=chunk_rows,
                             wanted=wanted):
        read += len(piece) + len(piece.attrs.get(UNREADABLE) or [])
        if kind == "opencellid":
            keep = opencellid.keep_mask(piece.rename(columns=str.lower), mcc=mcc, mnc=mnc, bbox=bbox)
            filtered += int((~keep).sum())
            attrs = piece.attrs
            piece = piece[keep]
            piece.attrs = attrs
        job = Job(piece, prof, table)
        tables, ids = (counters.convert(job, seen) if kind == "counters" else opencellid.convert(job))
        if kind == "opencellid":
            sites.append(tables.pop("sites"))
        for name, t in tables.items():
            neutralise_frame(t).to_csv(targets[name], mode="a", header=not targets[name].exists(), index=False,
                                       encoding="utf-8")
            written[f"{name}.csv"] += int(len(t))
        rejected.append(job.rejected(ids))
        summary = _merge_summary(summary, job)
    if summary is None:
        raise InputError(f"{path.name} has no rows")
    if kind == "opencellid":
        all_sites = pd.concat(sites, ignore_index=True) if sites else pd.DataFrame()
        all_sites = all_sites.groupby("site_id", sort=False).first().reset_index() if len(all_sites) else all_sites
        from netdiag.views.writers import write_csv

        write_csv(all_sites, targets["sites"])
        written["sites.csv"] = int(len(all_sites))
    rejected = pd.concat(rejected, ignore_index=True) if rejected else pd.DataFrame(columns=REJECTED_COLUMNS)
    summary = _summary(summary, read=read, rejected=rejected, written=written, filtered=filtered)
    return ImportResult(kind, written, rejected, summary)


def _merge_summary(previous: Job | None, job: Job) -> Job:
    if previous is None:
        return job
    for key in ("defaulted",):
        for col, n in job.summary[key].items():
            previous.summary[key][col] = previous.summary[key].get(col, 0) + n
    previous.summary["mapped"].update(job.summary["mapped"])
    previous.summary["unit_converted"].update(job.summary["unit_converted"])
    for key, n in job.summary.get("converted", {}).items():
        previous.summary.setdefault("converted", {})
        previous.summary["converted"][key] = previous.summary["converted"].get(key, 0) + n
    return previous


def _reason_kind(reason: str) -> str:
    """A reason with its quoted values taken out, to count reasons by kind."""
    return re.sub(r"'[^']*'", "'…'", re.sub(r"\(the later row; first at row \d+\)", "(the later row)", reason))


def _summary(job: Job, *, read: int, rejected: pd.DataFrame, written: dict, filtered: int = 0) -> dict:
    by_reason = rejected["reason"].map(_reason_kind).value_counts() if len(rejected) else pd.Series(dtype=int)
    extra = {k: v for k, v in job.summary.items() if k not in ("mapped", "defaulted", "unit_converted")}
    return {
        "rows_read": read,
        "rows_converted": read - int(len(rejected)) - filtered,
        "rows_rejected": int(len(rejected)),
        "rows_filtered": filtered,
        "written": written,
        "mapped": dict(job.summary["mapped"]),
        "defaulted": dict(job.summary["defaulted"]),
        "unit_converted": dict(job.summary["unit_converted"]),
        "not_used": unused_columns(job),
        "reasons": {str(k): int(v) for k, v in by_reason.items()},
        **extra,
    }


def _write_report(result: ImportResult, folder: Path, kind: str, names: list[str] | None = None) -> None:
    from netdiag.views.writers import write_csv, write_json

    names = names or [f"{kind}-rejected.csv", f"{kind}-summary.json", "alarms-merged.csv"]
    folder.mkdir(parents=True, exist_ok=True)
    rejected = result.rejected[REJECTED_COLUMNS].sort_values("row", kind="stable")
    result.report_files = [write_csv(rejected, folder / names[0]), write_json(result.summary, folder / names[1])]
    if kind == "alarms":
        result.report_files.append(write_csv(result.absorbed, folder / names[2]))


def summary_text(result: ImportResult) -> str:
    """The summary for a person: rows, files, columns mapped / defaulted / not used, reasons."""
    s = result.summary
    lines = [f"import {s['kind']} from {s['source']} (profile {s['profile']})",
             f"  rows read {s['rows_read']}: converted {s['rows_converted']}, rejected {s['rows_rejected']}"
             + (f", outside the filters {s['rows_filtered']}" if s.get("rows_filtered") else "")
             + (f" ({s['merged_rows']} flapping alarms merged into {s['flapping_events']} events)" if s.get("merged_rows") else "")]
    lines.append("  written: " + ", ".join(f"{f} ({n} rows)" for f, n in s["written"].items())
                 + (" (appended: " + ", ".join(f"{n} rows of {f} were there before" for f, n in s["appended_to"].items())
                    + ")" if s.get("appended_to") else ""))
    lines.append("  mapped: " + ", ".join(f"{col} <- {h}" for col, h in s["mapped"].items()))
    if s["unit_converted"]:
        lines.append("  units converted: " + ", ".join(f"{c} from {u}" for c, u in s["unit_converted"].items()))
    if s.get("converted"):
        lines.append("  values converted: " + ", ".join(f"{k} ({n} rows)" for k, n in s["converted"].items()))
    if s["defaulted"]:
        lines.append("  defaulted: " + ", ".join(f"{c} in {n} rows" for c, n in s["defaulted"].items()))
    if s["not_used"]:
        lines.append("  not used (no contract column): " + ", ".join(s["not_used"][:30]))
    if s.get("unmapped_alarms"):
        lines.append("  alarm names not in the dictionary (rows): " +
                     ", ".join(f"{k} ({v})" for k, v in list(s["unmapped_alarms"].items())[:30]))
    if s.get("unresolved_names"):
        lines.append("  NE / cell names not in the inventory (rows): " +
                     ", ".join(f"{k} ({v})" for k, v in list(s["unresolved_names"].items())[:30]))
    if s.get("ambiguous_names"):
        lines.append("  NE / cell names the inventory gives to several elements (rows): " +
                     ", ".join(f"{k} ({v})" for k, v in list(s["ambiguous_names"].items())[:30]))
    if s.get("sites_with_spread_cells"):
        lines.append(f"  sites whose cells stand apart (first cell's position used): {s['sites_with_spread_cells']}")
    if s["reasons"]:
        lines.append("  rejected, by reason:")
        lines += [f"    {n:6d}  {r}" for r, n in list(s["reasons"].items())[:20]]
    return "\n".join(lines)
