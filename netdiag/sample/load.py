"""The hourly load table: which counters the incidents change, day frames, Arrow tables, the file.

Owns :class:`_Mods` (missing, congested, interfered and sleeping cell-hours as sorted keys), the
outage hours that drop rows, one day's counters drawn from ``(seed, day)``, the splicing of
planted bad rows and the Parquet / CSV writer.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from netdiag.sample._common import ACTIVITY, CELL, HOUR, HUB, LOAD_COLUMNS, REP, SITE, SLEEPING_PRB, _Clock
from netdiag.sample.city import _City
from netdiag.sample.incidents import _Plan
from netdiag.sample.writing import _merge_order

# normal counters stay clear of every threshold
NORMAL_PRB_RANGE = (1.5, 70.0)
NORMAL_NOISE_RANGE = (-119.5, -108.0)
NORMAL_MIN_USERS = 1.0


@dataclass
class _Mods:
    """Load-table changes as sorted keys ``hour * n_cells + cell`` (one array per kind)."""

    n_cells: int
    off: np.ndarray
    congested: np.ndarray
    congested_prb: np.ndarray
    noisy: np.ndarray
    noisy_dbm: np.ndarray
    sleeping: np.ndarray


def _load_modifications(city: _City, plan: _Plan, clock: _Clock) -> _Mods:
    """Which (cell, hour) rows are missing, congested, interfered or asleep."""
    n_cells = len(city.cells)
    off = _off_hours(city, plan, clock)

    def keyed(parts, with_value=True):
        if not parts:
            return np.zeros(0, np.int64), np.zeros(0)
        cell = np.concatenate([p[0] for p in parts]).astype(np.int64)
        hour = np.concatenate([p[1] for p in parts]).astype(np.int64)
        value = np.concatenate([p[2] for p in parts]) if with_value else np.zeros(len(cell))
        key = hour * n_cells + cell
        key, first = np.unique(key, return_index=True)
        keep = ~np.isin(key, off)
        return key[keep], np.round(value[first][keep], 1)

    cong, cong_prb = keyed(plan.congested)
    noisy, noisy_dbm = keyed(plan.noisy)
    sleep, _ = keyed(plan.sleeping, with_value=False)
    return _Mods(n_cells, off, cong, cong_prb, noisy, noisy_dbm, sleep)


def _off_hours(city: _City, plan: _Plan, clock: _Clock) -> np.ndarray:
    """Keys of (cell, hour) rows dropped because the cell is out of service in that hour."""
    cells_of_site = city.cells.groupby("site").indices
    hub_of_site = city.sites["hub"].to_numpy()
    agg_of_hub = city.hubs["agg"].to_numpy()
    keys = []
    outages = [(e["node"], e["start"], e["end"]) for e in plan.events
               if e["severity"] != "warning" and e["type"] in ("fault", "shutdown")]
    outages += [(city.offset["site"] + m["site"], m["start"], m["move_end"]) for m in plan.moves]
    for node, start, end in outages:
        level = city.node_level[node]
        local = node - city.offset[("rep", "cell", "site", "hub", "agg", "core")[level]]
        if level == REP:
            continue
        if level == CELL:
            cells = np.array([local])
        elif level == SITE:
            cells = cells_of_site.get(local, np.zeros(0, int))
        else:
            sites = np.flatnonzero(hub_of_site == local) if level == HUB else \
                np.flatnonzero(np.isin(hub_of_site, np.flatnonzero(agg_of_hub == local)))
            cells = np.concatenate([cells_of_site.get(s, np.zeros(0, int)) for s in sites] or [np.zeros(0, int)])
        hours = np.arange(int(start // HOUR), min(int(math.ceil(min(end, clock.span) / HOUR)), clock.hours))
        keys.append((hours[:, None] * len(city.cells) + cells[None, :]).ravel())
    return np.unique(np.concatenate(keys)) if keys else np.zeros(0, np.int64)


def _day_frame(city: _City, clock: _Clock, mods: _Mods, seed: int, day: int) -> dict:
    """One day of hourly counters as columns (rows ordered by hour, then cell)."""
    cells = city.cells
    rng = np.random.default_rng([seed, 1000 + day])
    n = len(cells)
    hours = np.arange(day * 24, day * 24 + 24)
    act = ACTIVITY[clock.local_hour(hours * HOUR)][:, None]
    users = cells["peak_users"].to_numpy()[None, :] * act * np.exp(rng.normal(0, 0.15, (24, n)))
    prb = np.clip(cells["peak_prb"].to_numpy()[None, :] * act * np.exp(rng.normal(0, 0.10, (24, n))),
                  *NORMAL_PRB_RANGE)
    noise = np.clip(cells["noise_mu"].to_numpy()[None, :] + rng.normal(0, 0.8, (24, n)), *NORMAL_NOISE_RANGE)
    cols = {"prb_dl_pct": prb.ravel(), "ul_noise_dbm": noise.ravel(),
            "users": np.maximum(users, NORMAL_MIN_USERS).ravel()}
    cols["prb_ul_pct"] = cols["prb_dl_pct"] * rng.uniform(0.25, 0.6, 24 * n)
    lo, hi = day * 24 * n, (day + 1) * 24 * n
    _apply(cols, mods.congested, mods.congested_prb, lo, hi, "prb_dl_pct")
    _apply(cols, mods.noisy, mods.noisy_dbm, lo, hi, "ul_noise_dbm")
    sleep = _slice(mods.sleeping, lo, hi) - lo
    cols["users"][sleep] = 0.0
    cols["prb_dl_pct"][sleep] = rng.uniform(0.0, SLEEPING_PRB - 0.2, len(sleep))
    cols["prb_ul_pct"][sleep] = rng.uniform(0.0, 0.3, len(sleep))
    keep = np.ones(24 * n, bool)
    keep[_slice(mods.off, lo, hi) - lo] = False
    out = {k: np.round(v[keep], 1) for k, v in cols.items()}
    out["cell"] = np.tile(np.arange(n), 24)[keep]
    out["hour"] = np.repeat(hours, n)[keep]
    return out


def _slice(keys: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """The sorted keys in ``[lo, hi)``."""
    return keys[np.searchsorted(keys, lo):np.searchsorted(keys, hi)]


def _apply(cols, keys, values, lo, hi, column) -> None:
    """Overwrite ``column`` where ``keys`` fall in ``[lo, hi)`` with ``values``."""
    a, b = np.searchsorted(keys, lo), np.searchsorted(keys, hi)
    cols[column][keys[a:b] - lo] = values[a:b]


def _day_table(city: _City, clock: _Clock, day: dict, load_format: str, bad: list) -> tuple[pa.Table, list]:
    """A day's rows as an Arrow table with any planted rows spliced in; ``(table, [(row, id, what)])``."""
    n_good = len(day["cell"])
    cols = {"cell_id": city.cells["cell_id"].to_numpy(object)[day["cell"]], "hour": day["hour"],
            "prb_dl_pct": day["prb_dl_pct"], "prb_ul_pct": day["prb_ul_pct"],
            "ul_noise_dbm": day["ul_noise_dbm"], "users": day["users"]}
    text = np.zeros(n_good, dtype=object)      # prb_dl_pct replaced by text (CSV) or None (null)
    replaced = np.zeros(n_good, dtype=bool)
    listed = []
    if bad and n_good:
        positions = [min(b[1], n_good) for b in bad]
        order, where = _merge_order(n_good, positions)
        like = np.minimum(positions, n_good - 1)
        extra = {k: v[like].copy() for k, v in cols.items()}
        extra["cell_id"] = np.array([b[2] for b in bad], dtype=object)
        numeric = np.array([isinstance(b[3], float) for b in bad])
        extra["prb_dl_pct"] = np.where(numeric, [b[3] if isinstance(b[3], float) else 0.0 for b in bad], 0.0)
        cols = {k: np.concatenate([v, extra[k]])[order] for k, v in cols.items()}
        text = np.concatenate([text, np.array([b[3] for b in bad], dtype=object)])[order]
        replaced = np.concatenate([replaced, ~numeric])[order]
        listed = [(int(w) + 1, b[2], b[4]) for w, b in zip(where, bad)]
    return _arrow_load(cols, clock, load_format, text, replaced), listed


def _arrow_load(cols: dict, clock: _Clock, load_format: str, text, replaced) -> pa.Table:
    """Arrow columns: UTC-aware timestamps (parquet) or ISO ``Z`` strings (CSV)."""
    hours = cols["hour"].astype(np.int64)
    if load_format == "csv":
        first = int(hours.min()) if len(hours) else 0
        labels = clock.iso(np.arange(first, int(hours.max(initial=first)) + 1) * HOUR, offset_h=0)
        stamp = pa.DictionaryArray.from_arrays(pa.array((hours - first).astype(np.int32)), pa.array(list(labels)))
    else:
        stamp = pa.array((hours * HOUR + clock.epoch0) * 1000, type=pa.int64()).cast(pa.timestamp("ms", tz="UTC"))
    prb = pa.array(cols["prb_dl_pct"], type=pa.float64(), mask=replaced & (load_format != "csv"))
    if load_format == "csv" and replaced.any():
        as_text = pc.cast(prb, pa.string()).to_numpy(zero_copy_only=False).astype(object)
        as_text[replaced] = text[replaced]
        prb = pa.array(as_text, type=pa.string())
    arrays = {"cell_id": pa.array(cols["cell_id"], type=pa.string()), "timestamp": stamp,
              "period_min": pa.array(np.full(len(hours), 60, np.int32)), "prb_dl_pct": prb,
              "prb_ul_pct": pa.array(cols["prb_ul_pct"], type=pa.float64()),
              "ul_noise_dbm": pa.array(cols["ul_noise_dbm"], type=pa.float64()),
              "users": pa.array(cols["users"], type=pa.float64())}
    return pa.table({name: arrays[name] for name in LOAD_COLUMNS})


def _write_load(out: Path, city, clock, mods, seed, load_format, bad, say) -> tuple[int, list]:
    """Write the load table day by day (parquet row groups, or appended CSV chunks).

    Returns the number of data rows and the planted rows as ``(table, row, id, what)``.
    """
    path = out / f"load.{load_format}"
    total, listed, writer = 0, [], None
    with open(path, "wb") as sink:
        for d in range(clock.days):
            say(f"load day {d + 1}/{clock.days}")
            table, rows = _day_table(city, clock, _day_frame(city, clock, mods, seed, d), load_format,
                                     [b for b in bad if b[0] == d])
            listed += [("load", total + row, cid, what) for row, cid, what in rows]
            total += table.num_rows
            if load_format == "csv":
                pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=d == 0, quoting_style="none"))
                continue
            if writer is None:
                writer = pq.ParquetWriter(sink, table.schema, compression="snappy")
            writer.write_table(table)
        if writer is not None:
            writer.close()
    return total, listed
