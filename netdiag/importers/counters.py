"""PM counter exports in the wide layout (one row per cell and period) -> ``load``.

The profile maps each contract column to the export's counter column (``prb_dl_pct`` =
``下行PRB平均利用率``, ``ul_noise_dbm`` = ``上行每PRB平均干扰噪声``, ``users`` =
``平均RRC连接用户数``) with its unit (``[units] prb_dl_pct = "fraction"``, ``ul_noise_dbm =
"mW"``); the cell by the ``[ids]`` rule. The file is read in pieces of
``[options] chunk_rows`` lines (default 200,000), each converted and written before the next is
read, so a province's month of counters does not need to fit in memory.
"""
from __future__ import annotations

import pandas as pd

from netdiag.importers.common import Job
from netdiag.importers.ids import cell_ids

LOAD_COLUMNS = ["cell_id", "timestamp", "period_min", "prb_dl_pct", "prb_ul_pct", "ul_noise_dbm", "users"]


def convert(job: Job) -> tuple[dict, pd.Series]:
    """``{"load": ...}`` of one piece of the export, and the row ids (the cell ids)."""
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
    return {"load": load[~job.bad].reset_index(drop=True)}, cell
