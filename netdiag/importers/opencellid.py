"""OpenCelliD exports (``radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,
updated,averageSignal``) -> ``cells`` and ``sites``, for places the operator has nothing better.

Know its limits before trusting a diagnosis built on it:

- positions are the average of where phones measured the cell, not where the mast stands
  (often hundreds of metres off, towards the roads);
- ``range`` is how far from that average the measurements spread, not the serving radius:
  it is used as ``radius_m``, clipped to ``[options] min_radius_m`` .. ``max_radius_m``;
- there is no azimuth, so every cell is omni (a circle), and no band: ``band_mhz`` is the
  profile's default per radio (``[options.band_by_radio]``), counted as defaulted;
- there is no transport, maintainer or district; cells of one eNodeB/gNodeB (LTE ECI >> 8, NR
  NCI >> 36 - gnb_id_bits) make one site at their mean position, a GSM/UMTS cell is its own site;
- the data are crowd-sourced and may be years old (``updated``).

Rows outside ``--mcc``/``--mnc``/``--bbox`` are counted in the summary (``filtered``), not
listed one by one (a country file has millions).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from netdiag.importers.common import Job, quoted
from netdiag.importers.ids import integers
from netdiag.importers.params import CELL_COLUMNS, SITE_COLUMNS

RADIOS = {"gsm": "GSM", "umts": "UMTS", "lte": "LTE", "nr": "NR"}
DEFAULT_BANDS = {"GSM": 900, "UMTS": 2100, "LTE": 1800, "NR": 3500}


def keep_mask(frame: pd.DataFrame, *, mcc: int | None, mnc: int | None, bbox: tuple | None) -> np.ndarray:
    """Rows inside the filters (vectorised over the raw text columns)."""
    keep = np.ones(len(frame), bool)
    if mcc is not None:
        keep &= pd.to_numeric(frame.get("mcc", pd.Series("", index=frame.index)), errors="coerce").to_numpy() == mcc
    if mnc is not None:
        keep &= pd.to_numeric(frame.get("net", pd.Series("", index=frame.index)), errors="coerce").to_numpy() == mnc
    if bbox is not None:
        lon = pd.to_numeric(frame.get("lon", pd.Series("", index=frame.index)), errors="coerce").to_numpy()
        lat = pd.to_numeric(frame.get("lat", pd.Series("", index=frame.index)), errors="coerce").to_numpy()
        w, s, e, n = bbox
        unknown = ~np.isfinite(lon) | ~np.isfinite(lat)  # no position: rejected with a reason, not filtered
        keep &= unknown | ((lon >= w) & (lon <= e) & (lat >= s) & (lat <= n))
    return keep


#: the largest cell id of each radio: GSM CI 16 bits, UMTS (RNC + C-Id) and LTE ECI 28 bits, NR NCI 36 bits
CELL_MAX = {"GSM": (1 << 16) - 1, "UMTS": (1 << 28) - 1, "LTE": (1 << 28) - 1, "NR": (1 << 36) - 1}


def _whole(job: Job, column: str, tech: pd.Series, largest: dict) -> np.ndarray:
    """The column as int64 (-1 where unusable): a whole number >= 0 within its radio's range,
    else the row is rejected with the reason."""
    raw = job.text(column)
    text, not_whole = integers(raw)
    empty = (raw == "").to_numpy()
    job.reject(empty, f"{job.label(column)} missing")
    job.reject(not_whole, job.label(column) + " " + quoted(raw) + " is not a whole number >= 0")
    fits = (text.str.len() <= 15).to_numpy() & (text != "").to_numpy()
    value = np.full(len(raw), -1, dtype="int64")
    value[fits] = pd.to_numeric(text[fits]).to_numpy("int64")
    limit = tech.map(largest).fillna(-1).astype("int64").to_numpy()
    limit = np.where(limit < 0, np.iinfo("int64").max, limit)
    too_big = (text != "").to_numpy() & (~fits | (value > limit))
    job.reject(too_big & (tech != "").to_numpy(), job.label(column) + " " + quoted(raw) + " is beyond the " + tech +
               " range (at most " + pd.Series(limit, index=raw.index).astype(str) + ")")
    return np.where(too_big, -1, value)


def convert(job: Job) -> tuple[dict, pd.DataFrame]:
    """Cells and sites from the (already filtered) rows of ``job``."""
    job.require("radio", "area", "cell", "lat", "lon")
    radio_raw = job.text("radio")
    tech = radio_raw.str.lower().map(RADIOS).fillna("")
    job.reject((tech == "").to_numpy(), job.label("radio") + " " + quoted(radio_raw) +
               " is not GSM, UMTS, LTE or NR")
    mcc, net = job.text("mcc"), job.text("net")
    area = _whole(job, "area", tech, {"GSM": 65535, "UMTS": 65535, "LTE": (1 << 16) - 1, "NR": (1 << 24) - 1})
    cell = _whole(job, "cell", tech, CELL_MAX)
    lat, lon = job.position("lat", "lon")
    rng = job.number("range", lo=0)
    opts = job.profile.options
    radius = np.clip(np.where(np.isfinite(rng) & (rng > 0), rng, np.nan),
                     float(opts.get("min_radius_m", 100)), float(opts.get("max_radius_m", 5000)))
    bits = int(job.profile.ids.get("gnb_id_bits", 24))
    c = np.where(cell >= 0, cell, 0)
    shift = np.where(tech == "NR", 36 - bits, 8)
    node = np.where(tech.isin(["LTE", "NR"]), c >> shift, np.where(area >= 0, area, 0))
    local = np.where(tech.isin(["LTE", "NR"]), c & ((1 << shift) - 1), c)
    prefix = mcc + "-" + net + "-"
    node_s, local_s = pd.Series(node, index=job.frame.index).astype(str), pd.Series(local, index=job.frame.index).astype(str)
    cell_id = (prefix + node_s + "-" + local_s).where(cell >= 0, prefix + job.text("area") + "-" + job.text("cell"))
    site_id = np.where(tech.isin(["LTE", "NR"]), prefix + node_s, cell_id)
    bands = {**DEFAULT_BANDS, **{k.upper(): v for k, v in opts.get("band_by_radio", {}).items()}}
    band = tech.map(bands).astype(float)
    job.summary["defaulted"]["band_mhz"] = int((tech != "").sum())
    cells = pd.DataFrame({"cell_id": cell_id, "site_id": site_id, "technology": tech, "band_mhz": band,
                          "azimuth_deg": np.nan, "beamwidth_deg": np.nan, "radius_m": radius, "indoor": "",
                          "name": "", "tilt_deg": np.nan, "antenna_height_m": np.nan, "channel": ""})
    from netdiag.importers.params import _duplicates

    _duplicates(job, cells["cell_id"], "cell")
    ok = cells[~job.bad].assign(lat=lat[~job.bad], lon=lon[~job.bad])
    sites = ok.groupby("site_id", sort=False).agg(lat=("lat", "mean"), lon=("lon", "mean")).reset_index()
    sites["name"] = "OpenCelliD " + sites["site_id"]
    sites[["transport_id", "maintainer", "region"]] = ""
    return {"cells": ok[CELL_COLUMNS].reset_index(drop=True), "sites": sites[SITE_COLUMNS]}, cell_id
