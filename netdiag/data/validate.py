"""Row checks: raw frames in, typed accepted frames and rejected rows out.

Validation works on whole columns (boolean masks), never row by row, so it keeps pace with a
billion load rows a year. One pass collects every problem of a row; a row with problems is
rejected with ``table, row, id, reason`` (and a short ``code`` for summaries) and everything
else goes on. Only a missing required column stops the run (:class:`InputError`).

The stages, in order:

1. :func:`check_table` converts each column by its contract type and checks ranges,
   vocabularies, required values, table rules (``(0, 0)`` positions, ``end < start``) and
   duplicate keys (the first row wins);
2. :func:`check_references` checks ids against the accepted rows of the referenced tables, in
   dependency order (transport parents and cycles, site -> transport, cell -> site,
   repeater -> donor cell, event -> element, load -> cell), so a rejected parent takes its
   dependants with it, each with its own reason.
"""
from __future__ import annotations

import logging
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from netdiag.data.convert import (
    PARALLEL_ROWS,
    is_in,
    is_missing,
    parses_as_time,
    to_bool,
    to_float,
    to_id,
    to_text,
    to_time,
    to_vocab,
)
from netdiag.data.csv_reader import COLUMNS_READ, GEOMETRY, ROW, UNREADABLE
from netdiag.data.privacy import mask_phone_numbers
from netdiag.data.read import EMPTY_GEOMETRY, NO_GEOMETRY
from netdiag.data.schema import TABLES, Col, TableSpec
from netdiag.errors import InputError

log = logging.getLogger(__name__)

REJECTED_COLUMNS = ["table", "row", "id", "reason", "code"]


# ----------------------------------------------------------------------------- problems
@dataclass
class Problems:
    """Collects (position, code, reason) for the rows of one table."""

    table: str
    parts: list[pd.DataFrame] = field(default_factory=list)

    def add(self, mask, code: str, reason: str | Callable[[np.ndarray], list[str]]) -> None:
        """Record ``reason`` for every row where ``mask`` is true.

        ``reason`` is a fixed text or a function of the failing positions returning one text each.
        """
        pos = np.flatnonzero(np.asarray(mask, dtype=bool))
        if not len(pos):
            return
        reasons = [reason] * len(pos) if isinstance(reason, str) else list(reason(pos))
        self.parts.append(pd.DataFrame({"pos": pos, "code": code, "reason": reasons}))

    def positions(self, n: int, *, codes: tuple[str, ...] | None = None) -> np.ndarray:
        """Boolean mask of the rows with at least one problem (of the given codes, if any)."""
        bad = np.zeros(n, dtype=bool)
        for part in self.parts:
            if codes is None or part["code"].iloc[0] in codes:
                bad[part["pos"].to_numpy()] = True
        return bad

    def frame(self, raw_rows: np.ndarray, ids: pd.Series) -> pd.DataFrame:
        """One row per rejected input row, its reasons joined with '; '."""
        if not self.parts:
            return pd.DataFrame(columns=REJECTED_COLUMNS)
        allp = pd.concat(self.parts, ignore_index=True)
        grouped = allp.groupby("pos", sort=True).agg(code=("code", "first"), reason=("reason", "; ".join))
        pos = grouped.index.to_numpy()
        return pd.DataFrame({
            "table": self.table,
            "row": raw_rows[pos],
            "id": ids.iloc[pos].astype(object).fillna("").to_numpy(dtype=object),
            "reason": grouped["reason"].to_numpy(),
            "code": grouped["code"].to_numpy(),
        })


def _pick(values: pd.Series | np.ndarray, pos: np.ndarray) -> np.ndarray:
    """The values at ``pos`` only (never converts a whole large column)."""
    if isinstance(values, pd.Series):
        return values.iloc[pos].to_numpy(dtype=object)
    return np.asarray(values, dtype=object)[pos]


def _show(values: pd.Series | np.ndarray, pos: np.ndarray, limit: int = 40) -> list[str]:
    """The raw values at ``pos`` as short quoted strings for messages (phone numbers masked)."""
    out = []
    for v in _pick(values, pos):
        text = mask_phone_numbers(str(v))
        out.append(repr(text if len(text) <= limit else text[:limit] + "..."))
    return out


def _fmt_num(x: float) -> str:
    return f"{x:g}"


# ----------------------------------------------------------------------------- one table
def _allowed(vocab: dict[str, str]) -> str:
    return ", ".join(dict.fromkeys(vocab.values()))


def _range_text(col: Col) -> str:
    if col.lo is not None and col.hi is not None:
        return f"{'(' if col.lo_open else '['}{_fmt_num(col.lo)}, {_fmt_num(col.hi)}{')' if col.hi_open else ']'}"
    if col.lo is not None:
        return f"{'>' if col.lo_open else '>='} {_fmt_num(col.lo)}"
    return f"{'<' if col.hi_open else '<='} {_fmt_num(col.hi)}"


def check_columns(spec: TableSpec, frame: pd.DataFrame, source: str) -> None:
    """Raise InputError when a required column is absent."""
    missing = [c for c in spec.required_columns if c not in frame.columns]
    if missing:
        shown, count = frame.attrs.get(COLUMNS_READ) or (None, 0)
        if shown is None:  # a frame not from read_source
            names = [str(c) for c in frame.columns if c not in (ROW, GEOMETRY)]
            shown, count = names[:20], len(names)
        found = ", ".join(shown) + (f" and {count - len(shown)} more" if count > len(shown) else "") or "none"
        raise InputError(f"{source}: missing required column{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(f'`{m}`' for m in missing)} (table `{spec.name}`); columns found: {found}")


def check_table(spec: TableSpec, raw: pd.DataFrame, *, tz: str = "UTC",
                source: str | None = None, parsed: dict | None = None) -> tuple[pd.DataFrame, Problems]:
    """Convert and check the rows of one table (no cross-table references yet).

    Parameters
    ----------
    spec : TableSpec
        The contract of the table (:data:`netdiag.data.schema.TABLES`).
    raw : DataFrame
        As read by :func:`netdiag.data.read.read_source`, with ``_row``.
    tz : str
        Time zone of naive timestamps.
    parsed : dict, optional
        Time columns already parsed, ``{column: (values, bad, dst)}`` as
        :func:`netdiag.data.convert.to_time` gives them (a load table cut to a period is not
        parsed twice).

    Returns
    -------
    (typed, problems)
        ``typed`` has every contract column converted and the same rows as ``raw`` (columns
        outside the contract are left out); ``problems`` says which rows are bad and why.

    Raises
    ------
    InputError
        When a required column is absent.
    """
    check_columns(spec, raw, source or spec.name)
    raw = raw.reset_index(drop=True)
    n = len(raw)
    problems = Problems(spec.name)
    columns = [(col, (raw[col.name] if col.name in raw.columns else pd.Series([None] * n, dtype=object)).reset_index(drop=True))
               for col in spec.columns]

    parsed = parsed or {}

    def convert(item):
        col, series = item
        own = Problems(spec.name)
        missing = None if col.kind in ("float", "int") else is_missing(series)
        values = _convert(col, series, missing, own, tz, parsed.get(col.name))
        if col.nonempty:
            if missing is None:
                missing = pd.isna(values) & ~own.positions(n, codes=(f"non-numeric {col.name}",))
            own.add(missing, f"missing {col.name}", f"missing {col.name}")
        return values, own

    # large tables: columns convert side by side (Arrow and numpy release the GIL)
    if n >= PARALLEL_ROWS and (os.cpu_count() or 1) > 1:
        with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
            converted = list(pool.map(convert, columns))
    else:
        converted = [convert(item) for item in columns]
    # in one step: inserting columns one by one is quadratic in their number
    values = {col.name: v for (col, _), (v, _) in zip(columns, converted)}
    typed = pd.DataFrame({ROW: raw[ROW].to_numpy(dtype=np.int64), **values}, copy=False)
    for _, own in converted:
        problems.parts.extend(own.parts)  # in column order: the same reasons text every run
    if GEOMETRY in raw.columns:
        typed[GEOMETRY] = raw[GEOMETRY].to_numpy(dtype=object)
        notes = typed[GEOMETRY]
        wrong = (notes.notna() & ~notes.isin([NO_GEOMETRY, EMPTY_GEOMETRY])).to_numpy(dtype=bool)
        problems.add(wrong, "not a point", lambda p: list(notes.iloc[p]))
    _TABLE_RULES.get(spec.name, lambda *a: None)(typed, problems)
    if spec.key:
        _check_duplicates(spec.key, typed, problems)
    typed.attrs[UNREADABLE] = list(raw.attrs.get(UNREADABLE, []))
    return typed, problems


def _convert(col: Col, series: pd.Series, missing: np.ndarray, problems: Problems, tz: str, parsed=None):
    name = col.name
    if col.kind == "id":
        return to_id(series, missing)
    if col.kind == "text":
        return to_text(series, missing)
    if col.kind == "vocab":
        values, bad = to_vocab(series, col.vocab, missing)
        problems.add(bad, f"unknown {name}", lambda p: [f"{name} {v} is not one of {_allowed(col.vocab)}" for v in _show(series, p)])
        return values
    if col.kind == "bool":
        values, bad = to_bool(series, missing)
        problems.add(bad, f"bad {name}", lambda p: [f"{name} {v} is not a boolean (true/false, 1/0, yes/no, y/n)" for v in _show(series, p)])
        return values
    if col.kind == "time":
        values, bad, dst = parsed if parsed is not None else to_time(series, tz, missing)
        problems.add(bad, f"bad {name}", lambda p: [
            f"{name} {v} is outside the years 1678-2261" if parses_as_time(raw) else f"{name} {v} is not an ISO 8601 timestamp"
            for v, raw in zip(_show(series, p), _pick(series, p))])
        problems.add(dst, f"{name} in a DST change", lambda p: [
            f"{name} {v} does not exist or is ambiguous in {tz} (daylight-saving change); give it with an offset" for v in _show(series, p)])
        return values
    values, bad = to_float(series, missing)
    problems.add(bad, f"non-numeric {name}", lambda p: [f"{name} {v} is not a number" for v in _show(series, p)])
    ok = ~np.isnan(values)
    out_of_range = np.zeros(len(values), dtype=bool)
    if col.lo is not None:
        out_of_range |= ok & ((values <= col.lo) if col.lo_open else (values < col.lo))
    if col.hi is not None:
        out_of_range |= ok & ((values >= col.hi) if col.hi_open else (values > col.hi))
    problems.add(out_of_range, f"{name} out of range",
                 lambda p: [f"{name} {_fmt_num(v)} is outside {_range_text(col)}" for v in values[p]])
    if col.kind == "int":
        frac = ok & ~out_of_range & (np.floor(values) != values)
        problems.add(frac, f"non-integer {name}", lambda p: [f"{name} {_fmt_num(v)} is not a whole number" for v in values[p]])
        return pd.array(np.where(ok, values, np.nan), dtype="Float64").astype("Int64") if not frac.any() \
            else pd.array(np.where(ok & ~frac, values, np.nan), dtype="Float64").astype("Int64")
    return values


def _check_duplicates(key: str, typed: pd.DataFrame, problems: Problems) -> None:
    ids = typed[key]
    given = ids.notna().to_numpy()
    dup = ids.duplicated(keep="first").to_numpy() & given
    if dup.any():
        first_row = typed.loc[given].drop_duplicates(key).set_index(key)[ROW]
        problems.add(dup, f"duplicate {key}", lambda p: [
            f"duplicate {key} {v!r} (first at row {first_row[v]}); the first row is kept" for v in ids.to_numpy(dtype=object)[p]])


def _position_rules(lat: str, lon: str, *, what: str = "position"):
    def rule(typed: pd.DataFrame, problems: Problems) -> None:
        la, lo = typed[lat].to_numpy(dtype=float), typed[lon].to_numpy(dtype=float)
        problems.add((la == 0) & (lo == 0), f"{what} (0, 0)",
                     f"{what} ({lat}, {lon}) = (0, 0) is a placeholder, not a real place")
        already = problems.positions(len(typed))  # an unreadable value says so itself
        problems.add((np.isnan(la) != np.isnan(lo)) & ~already, f"{what} half given",
                     f"{what} needs both {lat} and {lon}; only one is given")
    return rule


def _rules_sites(typed, problems):
    _position_rules("lat", "lon")(typed, problems)


def _rules_events(typed, problems):
    _position_rules("prev_lat", "prev_lon", what="previous position")(typed, problems)
    start, end = typed["start_time"], typed["end_time"]
    before = (end < start).fillna(False).to_numpy(dtype=bool)
    problems.add(before, "end before start", lambda p: [
        f"end_time {e.isoformat()} is before start_time {s.isoformat()}" for s, e in zip(start.iloc[p], end.iloc[p])])
    reloc = (typed["event_type"] == "relocation").fillna(False).to_numpy(dtype=bool)
    no_prev = reloc & (typed["prev_lat"].isna().to_numpy() | typed["prev_lon"].isna().to_numpy())
    problems.add(no_prev, "relocation without previous position",
                 "relocation needs prev_lat and prev_lon (where the element stood before)")


def _rules_complaints(typed, problems):
    _position_rules("lat", "lon")(typed, problems)
    received, occurred = typed["received_at"], typed["occurred_at"]
    later = (occurred > received).fillna(False).to_numpy(dtype=bool)
    problems.add(later, "occurred after received", lambda p: [
        f"occurred_at {o.isoformat()} is after received_at {r.isoformat()}" for o, r in zip(occurred.iloc[p], received.iloc[p])])
    for col in ("lat", "lon"):
        problems.parts = [_with_advice(part, col) for part in problems.parts]


def _with_advice(part: pd.DataFrame, col: str) -> pd.DataFrame:
    """Complaints without a usable place go back to the customer (DOMAIN.md)."""
    if part["code"].iloc[0] == f"missing {col}":
        part = part.copy()
        part["code"] = "no usable position"
        part["reason"] = f"missing {col}: no usable position; ask the customer for the exact place"
    return part


def _rules_transport(typed, problems):
    _position_rules("lat", "lon")(typed, problems)
    # as plain objects: ids of a table of 200,000+ rows are categories, and two of those do not compare
    parent, node = typed["parent_id"].to_numpy(dtype=object), typed["node_id"].to_numpy(dtype=object)
    self_parent = pd.notna(parent) & (parent == node)
    problems.add(self_parent, "transport cycle", "parent_id is the node itself (a cycle)")


def _rules_repeaters(typed, problems):
    _position_rules("lat", "lon")(typed, problems)


_TABLE_RULES = {
    "sites": _rules_sites,
    "events": _rules_events,
    "complaints": _rules_complaints,
    "transport": _rules_transport,
    "repeaters": _rules_repeaters,
}


# ----------------------------------------------------------------------------- references
def _accepted_ids(typed: pd.DataFrame, key: str, bad: np.ndarray) -> set:
    return set(typed.loc[~bad, key].dropna().tolist())


def _ref_problem(problems: Problems, typed: pd.DataFrame, col: str, target: str, ok_ids: set, rejected_ids: set) -> None:
    """Reject rows whose ``col`` is given but not among the accepted ids of ``target``."""
    values = typed[col]
    mask = values.notna().to_numpy() & ~is_in(values, ok_ids)
    problems.add(mask, f"unknown {col}", lambda p: [
        f"{col} {v!r} is in {target} but that row was rejected" if v in rejected_ids else f"{col} {v!r} is not in {target}"
        for v in _pick(values, p)])


def check_cells(load: pd.DataFrame, problems: Problems, cells_ok: set, cells_rejected: set) -> None:
    """Reject counter rows of cells outside the accepted inventory (a piece of the counters at a time)."""
    _ref_problem(problems, load, "cell_id", "cells", cells_ok, cells_rejected)


def check_references(typed: dict[str, pd.DataFrame], problems: dict[str, Problems]) -> None:
    """Check ids against the accepted rows of the tables they point to (in dependency order).

    Adds to ``problems`` in place. Tables absent from ``typed`` count as empty.
    """
    def bad_of(name):
        return problems[name].positions(len(typed[name])) if name in typed else np.zeros(0, dtype=bool)

    def ids_of(name, key):
        if name not in typed:
            return set(), set()
        bad = bad_of(name)
        col = typed[name][key]
        return set(col[~bad].dropna().tolist()), set(col[bad].dropna().tolist())

    if "transport" in typed:
        _check_transport_graph(typed["transport"], problems["transport"])
    transport_ok, transport_bad = ids_of("transport", "node_id")

    if "sites" in typed:
        sites = typed["sites"]
        _ref_problem(problems["sites"], sites, "transport_id", "transport", transport_ok, transport_bad)
        _check_site_positions(sites, problems["sites"], typed.get("events"))
    site_ok, site_bad = ids_of("sites", "site_id")

    if "cells" in typed:
        cells = typed["cells"]
        _ref_problem(problems["cells"], cells, "site_id", "sites", site_ok, site_bad)
    cell_ok, cell_bad = ids_of("cells", "cell_id")

    if "repeaters" in typed:
        reps = typed["repeaters"]
        _ref_problem(problems["repeaters"], reps, "donor_cell_id", "cells", cell_ok, cell_bad)
    rep_ok, rep_bad = ids_of("repeaters", "repeater_id")

    if "events" in typed:
        ev = typed["events"]
        elements = transport_ok | site_ok | cell_ok | rep_ok
        rejected = (transport_bad | site_bad | cell_bad | rep_bad) - elements
        known = ev["element_id"].isin(elements).to_numpy(dtype=bool)
        # a relocation of an element no longer in the inventory: it was dismantled (CONTRACT.md)
        dismantled = ((ev["event_type"] == "relocation").fillna(False).to_numpy(dtype=bool)
                      & ev["prev_lat"].notna().to_numpy() & ~ev["element_id"].isin(rejected).to_numpy(dtype=bool))
        mask = ev["element_id"].notna().to_numpy() & ~known & ~dismantled
        values = ev["element_id"].to_numpy(dtype=object)
        problems["events"].add(mask, "unknown element_id", lambda p: [
            f"element_id {v!r} is in the inventory but that row was rejected" if v in rejected
            else f"element_id {v!r} is not a site, cell, repeater or transport node" for v in values[p]])

    if "load" in typed:
        _ref_problem(problems["load"], typed["load"], "cell_id", "cells", cell_ok, cell_bad)


def _check_site_positions(sites: pd.DataFrame, problems: Problems, events: pd.DataFrame | None) -> None:
    """A site needs a position, unless a relocation says it was dismantled."""
    no_pos = (sites["lat"].isna() & sites["lon"].isna()).to_numpy()
    relocated = set()
    if events is not None and len(events):
        reloc = events[(events["event_type"] == "relocation") & events["prev_lat"].notna()]
        relocated = set(reloc["element_id"].dropna().tolist())
    dismantled = sites["site_id"].isin(relocated).to_numpy(dtype=bool)
    problems.add(no_pos & ~dismantled, "missing position",
                 "missing lat and lon (only a site with a relocation event may have no position: dismantled)")


def _check_transport_graph(transport: pd.DataFrame, problems: Problems) -> None:
    """Parents must exist; nodes on a parent cycle, and nodes below one, are rejected."""
    import networkx as nx

    bad = problems.positions(len(transport))
    nodes = transport["node_id"].to_numpy(dtype=object)
    parents = transport["parent_id"].to_numpy(dtype=object)
    ok_nodes = {n for n, b in zip(nodes, bad) if not b and n is not None and n == n}
    graph = nx.DiGraph()
    graph.add_edges_from((n, p) for n, p, b in zip(nodes, parents, bad)
                         if not b and isinstance(p, str) and p in ok_nodes and n != p)
    cycle_of: dict[str, str] = {}
    for comp in nx.strongly_connected_components(graph):
        if len(comp) > 1:
            cyc = nx.find_cycle(graph.subgraph(comp), source=min(comp))  # the same text every run
            text = ">".join([cyc[0][0]] + [v for _, v in cyc])
            for node in comp:
                cycle_of[node] = text
    in_cycle = np.array([n in cycle_of for n in nodes], dtype=bool) & ~bad
    ok_nodes -= set(cycle_of)
    problems.add(in_cycle, "transport cycle", lambda p: [f"transport parent cycle {cycle_of[n]}" for n in nodes[p]])
    # nodes whose chain of parents reaches a cycle or an unknown/rejected node
    rejected_nodes = set(nodes[bad | in_cycle]) | (set(nodes) - ok_nodes)
    unknown_parent = np.array([isinstance(p, str) and p not in ok_nodes and n != p for n, p in zip(nodes, parents)],
                              dtype=bool) & ~bad & ~in_cycle
    problems.add(unknown_parent, "unknown parent_id", lambda p: [
        f"parent_id {q!r} is in transport but that row was rejected" if q in rejected_nodes else f"parent_id {q!r} is not in transport"
        for q in parents[p]])
    dead = set(nodes[bad | in_cycle | unknown_parent])
    below = np.zeros(len(nodes), dtype=bool)
    for i, n in enumerate(nodes):
        if bad[i] or in_cycle[i] or unknown_parent[i] or n not in graph:
            continue
        up = nx.descendants(graph, n)
        hit = up & dead
        if hit:
            below[i] = True
    problems.add(below, "upstream rejected", lambda p: [
        f"an upstream transport node ({', '.join(sorted(nx.descendants(graph, n) & dead))}) is rejected" for n in nodes[p]])


# ----------------------------------------------------------------------------- the rest
def unreadable_rows(table: str, typed: pd.DataFrame) -> pd.DataFrame:
    """Rows the reader itself could not use (wrong number of fields, swallowed by an unbalanced quote)."""
    rows = typed.attrs.get(UNREADABLE) or []
    if not rows:
        return pd.DataFrame(columns=REJECTED_COLUMNS)
    row, ids, code, reason = zip(*rows)
    return pd.DataFrame({"table": table, "row": np.asarray(row, dtype=np.int64), "id": list(ids),
                         "reason": list(reason), "code": list(code)})


_POSITION_CODES = ("missing lat", "missing lon", "no usable position", "missing position")
_MISSING_POSITION = re.compile(r"^missing (?:lat and lon|lat|lon)")


def _explain_geometry(typed: pd.DataFrame, problems: Problems) -> None:
    """A position missing because of the row's geometry says so ("no geometry: no usable position; ...").

    The reasons about a missing lat or lon of such a row become one reason naming the geometry;
    a geometry that is not a point already says so itself.
    """
    if GEOMETRY not in typed.columns:
        return
    notes = typed[GEOMETRY].to_numpy(dtype=object)
    noted = pd.notna(notes)
    if not noted.any():
        return
    wrong = noted & ~np.isin(notes, [NO_GEOMETRY, EMPTY_GEOMETRY])
    first_reason = np.full(len(typed), None, dtype=object)
    parts = []
    for part in problems.parts:
        if part["code"].iloc[0] in _POSITION_CODES:
            pos = part["pos"].to_numpy()
            hit = noted[pos]
            for p, reason in zip(pos[hit & ~wrong[pos]], part["reason"].to_numpy()[hit & ~wrong[pos]]):
                if first_reason[p] is None:
                    first_reason[p] = reason
            part = part[~hit]
            if part.empty:
                continue
        parts.append(part)
    problems.parts = parts
    explained = pd.notna(first_reason)
    problems.add(explained, "no point geometry",
                 lambda p: [_MISSING_POSITION.sub(notes[i], first_reason[i]) for i in p])


def split(table: str, typed: pd.DataFrame, problems: Problems) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(accepted rows, rejected rows in contract format)."""
    spec = TABLES[table]
    _explain_geometry(typed, problems)
    bad = problems.positions(len(typed))
    ids = typed[spec.key or spec.columns[0].name]
    rejected = problems.frame(typed[ROW].to_numpy(), ids)
    if typed.attrs.get(UNREADABLE):
        rejected = pd.concat([rejected, unreadable_rows(table, typed)], ignore_index=True)
    accepted = typed.loc[~bad].drop(columns=GEOMETRY, errors="ignore").reset_index(drop=True)
    accepted.attrs = {}
    return accepted, rejected
