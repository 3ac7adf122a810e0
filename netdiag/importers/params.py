"""工参表 (engineering parameter table) -> ``cells`` and ``sites``.

One row per cell, as planning tools export it: site number and name, cell name, CGI / ECI /
NCI, position, azimuth, beamwidth, tilt, antenna height, band (频段) or channel number
(EARFCN / NR-ARFCN), coverage type (室内/室外), maintainer (维护单位) and district (区县).
Sites are derived from the accepted cells: one per site id, at the position of its first
accepted cell (a rejected row lends its site nothing; a site whose cells stand more than ``[options] site_spread_m`` apart is counted
in the summary).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from netdiag.data.coords import haversine_m
from netdiag.data.schema import TECHNOLOGIES
from netdiag.importers.bands import band_from_channel, band_from_text
from netdiag.importers.common import Job, quoted
from netdiag.importers.ids import cell_ids, node_text

CELL_COLUMNS = ["cell_id", "site_id", "technology", "band_mhz", "azimuth_deg", "beamwidth_deg", "radius_m", "indoor",
                "name", "tilt_deg", "antenna_height_m", "channel"]
SITE_COLUMNS = ["site_id", "name", "lat", "lon", "transport_id", "maintainer", "region"]


def convert(job: Job) -> dict[str, pd.DataFrame]:
    """The cells (``job.table`` = ``cells``) and the sites derived from them."""
    job.require("lat", "lon")
    cell_id, node = cell_ids(job)
    tech = job.words("technology", allowed=TECHNOLOGIES)
    no_tech = (tech == "").to_numpy()
    tech[no_tech & (job.text("nci") != "").to_numpy()] = "NR"
    tech[(tech == "") & (job.text("eci") != "").to_numpy()] = "LTE"
    job.reject(((tech == "") & ~pd.Series(job.bad)).to_numpy(), f"{job.label('technology')} missing")
    band = _band(job, tech)
    lat, lon = job.position("lat", "lon")
    site = node_text(job, "site_id")
    site = site.where(site != "", node)
    job.reject((site == "").to_numpy(), f"{job.label('site_id')} missing (and no node id to take it from)")
    cells = pd.DataFrame({
        "cell_id": cell_id, "site_id": site, "technology": tech, "band_mhz": band,
        "azimuth_deg": job.azimuth("azimuth_deg"),
        "beamwidth_deg": job.number("beamwidth_deg", lo=1, hi=360),
        "radius_m": job.number("radius_m", lo=1, hi=100000),
        "indoor": job.booleans("indoor"),
        "name": job.text("cell_name"),
        "tilt_deg": job.number("tilt_deg", lo=-90, hi=90),
        "antenna_height_m": job.number("antenna_height_m", lo=0, hi=1000),
        "channel": job.text("channel"),
    })
    _duplicates(job, cells["cell_id"], "cell_id")
    sites = _sites(job, site, lat, lon)
    return {"cells": cells[~job.bad][CELL_COLUMNS].reset_index(drop=True), "sites": sites}, cells["cell_id"]


def _band(job: Job, tech: pd.Series) -> np.ndarray:
    text = job.text("band_mhz")
    extra = {k: float(v) for k, v in job.profile.vocab.get("band_mhz", {}).items()}
    band = band_from_text(text, extra)
    channel = job.number("channel")
    by_channel = band_from_channel(channel, tech.to_numpy(dtype=object))
    band = np.where(np.isnan(band), by_channel, band)
    given_text = (text != "").to_numpy()
    job.reject(given_text & np.isnan(band_from_text(text, extra)) & np.isnan(by_channel),
               job.label("band_mhz") + " " + quoted(text) + " is not a band (add it to [vocab.band_mhz])")
    job.reject(~given_text & np.isfinite(channel) & np.isnan(by_channel),
               job.label("channel") + " " + quoted(job.text("channel")) + " is in no 3GPP band table for " + tech)
    job.reject(~given_text & ~np.isfinite(channel) & ~job.bad, "no band: band and channel number both empty")
    return band


def _duplicates(job: Job, ids: pd.Series, name: str) -> None:
    usable = (ids != "") & ~pd.Series(job.bad, index=ids.index)
    dup = usable & ids.where(usable).duplicated(keep="first")
    if dup.any():
        first_row = job.frame["_row"].groupby(ids.where(usable)).transform("first")
        job.reject(dup.to_numpy(), f"duplicate {name} " + quoted(ids) + " (the later row; first at row " +
                   first_row.astype("Int64").astype(str) + ")")


def _sites(job: Job, site: pd.Series, lat: np.ndarray, lon: np.ndarray) -> pd.DataFrame:
    """One site per site id, from the accepted cell rows only (a rejected row's position, name or
    district is not trusted: a site whose every cell is rejected is not written)."""
    usable = (site != "").to_numpy() & np.isfinite(lat) & np.isfinite(lon) & ~job.bad
    rows = pd.DataFrame({"site_id": site, "name": job.text("site_name"), "lat": lat, "lon": lon,
                         "transport_id": job.text("transport_id"), "maintainer": job.text("maintainer"),
                         "region": job.text("region")})[usable]
    for col in ("name", "transport_id", "maintainer", "region"):
        rows[col] = rows[col].replace("", np.nan)
    sites = rows.groupby("site_id", sort=False).first().reset_index()
    spread = rows.merge(sites[["site_id", "lat", "lon"]], on="site_id", suffixes=("", "_site"))
    far = haversine_m(spread["lon"], spread["lat"], spread["lon_site"], spread["lat_site"]) > float(
        job.profile.options.get("site_spread_m", 100))
    job.summary["sites_with_spread_cells"] = int(spread.loc[far, "site_id"].nunique())
    sites["name"] = sites["name"].fillna(sites["site_id"])
    return sites[SITE_COLUMNS].fillna({"transport_id": "", "maintainer": "", "region": ""})
