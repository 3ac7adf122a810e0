"""PM counter exports in the wide layout (one row per cell and period) -> ``load``.

The profile maps each contract column to the export's counter column (``prb_dl_pct`` =
``下行PRB平均利用率``, ``ul_noise_dbm`` = ``上行每PRB平均干扰噪声``, ``users`` =
``平均RRC连接用户数``) with its unit (``[units] prb_dl_pct = "fraction"``, ``ul_noise_dbm =
"mW"``); the cell by the ``[ids]`` rule. The file is read in pieces of
``[options] chunk_rows`` lines (default 200,000), each converted and written before the next is
read, so a province's month of counters does not need to fit in memory. A cell's counters for
one period given twice (in any piece) keep the first row; the others are rejected with its row.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from netdiag.data.csv_reader import ROW
from netdiag.importers.common import Job, quoted
from netdiag.importers.ids import cell_ids

LOAD_COLUMNS = ["cell_id", "timestamp", "period_min", "prb_dl_pct", "prb_ul_pct", "ul_noise_dbm", "users"]


class Seen:
    """The (cell, period) pairs of the pieces read so far, as 64-bit hashes with their first row,
    so that a repeated pair is found in any later piece (16 bytes a row)."""

    def __init__(self):
        self.keys: list[np.ndarray] = []   # sorted per piece
        self.rows: list[np.ndarray] = []

    def first_rows(self, keys: np.ndarray) -> np.ndarray:
        """For each key, the row it was first seen at (0 = not seen)."""
        out = np.zeros(len(keys), dtype="int64")
        for k, r in zip(self.keys, self.rows):
            pos = np.minimum(np.searchsorted(k, keys), len(k) - 1)
            hit = (k[pos] == keys) & (out == 0)
            out[hit] = r[pos[hit]]
        return out

    def add(self, keys: np.ndarray, rows: np.ndarray) -> None:
        if len(keys):
            order = np.argsort(keys, kind="stable")
            self.keys.append(keys[order])
            self.rows.append(rows[order])


def reject_repeats(job: Job, cell: pd.Series, timestamp: pd.Series, seen: Seen) -> None:
    """A cell's counters for one period given twice: the first row is kept, the others rejected."""
    usable = ~job.bad & (cell != "").to_numpy() & (timestamp != "").to_numpy()
    if not usable.any():
        return
    keys = pd.util.hash_pandas_object(pd.DataFrame({"c": cell[usable], "t": timestamp[usable]}), index=False).to_numpy("uint64")
    rows = job.frame[ROW].to_numpy("int64")[usable]
    earlier = seen.first_rows(keys)
    local = pd.Series(rows).groupby(keys).transform("first").to_numpy("int64")
    first = np.where(earlier > 0, earlier, local)
    repeat = first != rows
    seen.add(keys[~repeat], rows[~repeat])
    mask = np.zeros(len(cell), bool)
    mask[np.flatnonzero(usable)[repeat]] = True
    reason = pd.Series("", index=cell.index, dtype=object)
    reason[mask] = ("duplicate counters of cell " + quoted(cell[mask]) + " at " + timestamp[mask] +
                    " (the later row; first at row " + pd.Series(first[repeat], index=cell.index[mask]).astype(str) + ")")
    job.reject(mask, reason)


def convert(job: Job, seen: Seen | None = None) -> tuple[dict, pd.Series]:
    """``{"load": ...}`` of one piece of the export, and the row ids (the cell ids); a (cell,
    period) pair already in ``seen`` (earlier pieces) or earlier in this piece is rejected."""
    job.require("timestamp", "prb_dl_pct")
    cell, _ = cell_ids(job)
    period_header = job.header("period_min")
    if period_header is not None:  # "60", "60分钟", "60 min"
        job.frame[period_header] = job.frame[period_header].astype(str).str.extract(r"^\s*(\d+(?:\.\d+)?)", expand=False).fillna(
            job.frame[period_header])
    load = pd.DataFrame({
        "cell_id": cell,
        "timestamp": job.times("timestamp", required=True),
        "period_min": job.number("period_min", lo=1, hi=1440),
        "prb_dl_pct": job.number("prb_dl_pct", required=True, lo=0, hi=100),
        "prb_ul_pct": job.number("prb_ul_pct", lo=0, hi=100),
        "ul_noise_dbm": job.number("ul_noise_dbm", lo=-150, hi=-30),
        "users": job.number("users", lo=0),
    })
    reject_repeats(job, cell, load["timestamp"], seen if seen is not None else Seen())
    return {"load": load[~job.bad].reset_index(drop=True)}, cell
