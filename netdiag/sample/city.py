"""The city: site layout, cells, transport (hubs, aggregation nodes) and repeaters.

Owns :class:`_City` and its builders (see "The city" in :mod:`netdiag.sample`): positions from a
thinned Poisson process around the gaps, sectors and indoor cells with their radii and traffic
profile, hubs and aggregation nodes along a Hilbert curve, repeaters near their donors.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from netdiag.sample._common import (
    AGG,
    CELL,
    CORE,
    DEFAULT_BEAMWIDTH,
    HUB,
    REP,
    SITE,
    _destination,
    _hilbert_order,
    _pick,
    _to_latlon,
    _to_xy,
)

ISD_CORE_M, ISD_SUBURB_M = 480.0, 2500.0    # inter-site distance in the centre / the suburbs
RHO_CORE, RHO_SUBURB = 0.25, 0.75           # ... up to / from this fraction of the city radius
MIN_DIST_FACTOR = 0.78                       # thinning distance as a fraction of the local ISD
CANDIDATE_FACTOR = 6.0                       # Poisson candidates per target site
OVERSAMPLE = 1.35                            # candidate sites per requested site
TERRAIN_CAP = 2.2                            # radius cap around gaps: (distance - hole) / this

DISTRICT_TEAM = {
    "Futian": "中通服 ComService", "Luohu": "中通服 ComService", "Yantian": "中通服 ComService",
    "Nanshan": "华星 Huaxing", "Baoan": "华星 Huaxing", "Guangming": "华星 Huaxing",
    "Longhua": "润建 Runjian", "Longgang": "润建 Runjian",
    "Pingshan": "怡创 Yichuang", "Dapeng": "怡创 Yichuang",
}
OUTER_DISTRICTS = ((35, "Longhua"), (75, "Longgang"), (105, "Pingshan"), (140, "Yantian"),
                   (200, "Dapeng"), (265, "Nanshan"), (315, "Baoan"), (360, "Guangming"))


@dataclass
class _City:
    """Inventory as numpy-backed frames (internal columns beside the contract ones)."""

    sites: pd.DataFrame
    cells: pd.DataFrame
    hubs: pd.DataFrame
    aggs: pd.DataFrame
    repeaters: pd.DataFrame
    gaps: pd.DataFrame
    node_id: np.ndarray = field(default=None)
    node_level: np.ndarray = field(default=None)
    offset: dict = field(default_factory=dict)

    def index_nodes(self) -> None:
        """Number every element (core, aggregation, hub, site, cell, repeater) in one index."""
        parts = [("core", np.array(["CORE01"], dtype=object), CORE),
                 ("agg", self.aggs["node_id"].to_numpy(object), AGG),
                 ("hub", self.hubs["node_id"].to_numpy(object), HUB),
                 ("site", self.sites["site_id"].to_numpy(object), SITE),
                 ("cell", self.cells["cell_id"].to_numpy(object), CELL),
                 ("rep", self.repeaters["repeater_id"].to_numpy(object), REP)]
        pos = 0
        for name, ids, _ in parts:
            self.offset[name] = pos
            pos += len(ids)
        self.node_id = np.concatenate([ids for _, ids, _ in parts])
        self.node_level = np.concatenate([np.full(len(ids), lvl) for _, ids, lvl in parts])


def _isd_m(rho) -> np.ndarray:
    """Target inter-site distance (m) at normalised distance ``rho`` from the centre."""
    ramp = np.clip((np.asarray(rho, dtype=float) - RHO_CORE) / (RHO_SUBURB - RHO_CORE), 0.0, 1.0)
    return ISD_CORE_M + (ISD_SUBURB_M - ISD_CORE_M) * ramp


def _density(rho) -> np.ndarray:
    """Target sites per m^2 (a hexagonal grid of the local ISD)."""
    return 1.0 / (math.sqrt(3) / 2 * _isd_m(rho) ** 2)


def _build_city(rng, n_sites: int) -> _City:
    """Sites, cells, transport and repeaters of a city of ``n_sites`` sites."""
    x, y, gaps, radius = _site_layout(rng, n_sites)
    sites = _sites_frame(x, y, gaps, radius)
    cells = _cells_frame(rng, sites)
    hubs, aggs = _transport(sites)
    repeaters = _repeaters(rng, sites, cells, gaps)
    city = _City(sites, cells, hubs, aggs, repeaters, gaps)
    city.index_nodes()
    return city


def _site_layout(rng, n_sites: int):
    """Site positions (local metres), gap discs and the city radius; exactly ``n_sites`` sites."""
    rho = np.linspace(0.0, 1.0, 2001)
    per_r2 = np.trapezoid(2 * np.pi * rho * _density(rho), rho)        # sites per R^2
    radius = math.sqrt(OVERSAMPLE * n_sites / per_r2)
    while True:
        gaps = _gap_discs(rng, radius, n_sites)
        x, y = _candidates(rng, radius)
        inside = np.zeros(len(x), dtype=bool)
        for gx, gy, gr in gaps[["x", "y", "radius_m"]].itertuples(index=False):
            inside |= np.hypot(x - gx, y - gy) < gr
        x, y = x[~inside], y[~inside]
        keep = _thin(rng, x, y, MIN_DIST_FACTOR * _isd_m(np.hypot(x, y) / radius))
        x, y = x[keep], y[keep]
        if len(x) >= n_sites:
            break
        radius *= 1.1
    nearest = np.argsort(np.hypot(x, y), kind="stable")[:n_sites]
    return x[nearest], y[nearest], gaps, radius


def _gap_discs(rng, radius: float, n_sites: int) -> pd.DataFrame:
    """Uncovered patches: centre, radius (no sites) and hole zone (far from every element)."""
    n_gaps = max(2, int(round(2 * math.sqrt(n_sites / 300))))
    bearing = (rng.uniform(0, 360) + 360.0 * np.arange(n_gaps) / n_gaps + rng.uniform(-15, 15, n_gaps)) % 360
    rho = rng.uniform(0.36, 0.52, n_gaps)
    isd = _isd_m(rho)
    hole = 0.3 * isd + 100.0
    gap_r = np.minimum(1.5 * isd + hole, 0.2 * radius)
    dist = rho * radius
    return pd.DataFrame({"x": dist * np.sin(np.radians(bearing)), "y": dist * np.cos(np.radians(bearing)),
                         "radius_m": gap_r, "hole_m": np.minimum(hole, 0.45 * gap_r)})


def _candidates(rng, radius: float):
    """A Poisson process ``CANDIDATE_FACTOR`` x denser than the target density."""
    rho = np.linspace(0.0, 1.0, 4001)
    pdf = 2 * np.pi * rho * _density(rho) * radius ** 2 * CANDIDATE_FACTOR
    cdf = np.concatenate([[0.0], np.cumsum((pdf[1:] + pdf[:-1]) / 2 * np.diff(rho))])
    n = int(round(cdf[-1]))
    r = np.interp(rng.uniform(0, cdf[-1], n), cdf, rho) * radius
    theta = rng.uniform(0, 2 * np.pi, n)
    return r * np.sin(theta), r * np.cos(theta)


def _thin(rng, x, y, dmin) -> np.ndarray:
    """Random sequential thinning: a maximal subset whose pairs are >= their mean ``dmin`` apart."""
    n = len(x)
    pts = shapely.points(x, y)
    i, j = shapely.STRtree(pts).query(pts, predicate="dwithin", distance=dmin)
    close = (i != j) & (np.hypot(x[i] - x[j], y[i] - y[j]) < 0.5 * (dmin[i] + dmin[j]))
    i, j = i[close], j[close]
    mark = rng.permutation(n)
    state = np.zeros(n, dtype=np.int8)          # 0 undecided, 1 kept, -1 dropped
    while (state == 0).any():
        live = (state[i] == 0) & (state[j] == 0)
        best = np.full(n, n)
        np.minimum.at(best, i[live], mark[j[live]])
        win = (state == 0) & (mark < best)
        state[win] = 1
        lose = j[live & win[i]]
        state[lose[state[lose] == 0]] = -1
    return state == 1


def _district(rho, bearing) -> np.ndarray:
    """District name from the normalised distance and the bearing from the centre."""
    outer_bounds = np.array([b for b, _ in OUTER_DISTRICTS])
    outer = np.array([name for _, name in OUTER_DISTRICTS], dtype=object)[
        np.searchsorted(outer_bounds, bearing % 360, side="right").clip(0, len(outer_bounds) - 1)]
    inner = np.where((bearing >= 30) & (bearing < 150), "Luohu",
                     np.where((bearing >= 210) & (bearing < 330), "Nanshan", "Futian")).astype(object)
    return np.where(rho < 0.10, "Futian", np.where(rho < RHO_CORE, inner, outer))


def _terrain_cap(x, y, gaps: pd.DataFrame) -> np.ndarray:
    """Largest radius (m) an element at (x, y) may have so that every hole zone stays a hole."""
    gx, gy, hole = (gaps[c].to_numpy()[None, :] for c in ("x", "y", "hole_m"))
    dist = np.hypot(np.asarray(x, dtype=float)[:, None] - gx, np.asarray(y, dtype=float)[:, None] - gy)
    return ((dist - hole) / TERRAIN_CAP).min(axis=1, initial=np.inf)


def _sites_frame(x, y, gaps, radius: float) -> pd.DataFrame:
    """The sites table (plus internal columns: x, y, isd, zone, terrain cap, nearest-site distance)."""
    n = len(x)
    rho = np.hypot(x, y) / radius
    bearing = np.degrees(np.arctan2(x, y)) % 360
    district = _district(rho, bearing)
    lat, lon = _to_latlon(x, y)
    width = max(5, len(str(n)))
    number = np.arange(1, n + 1)
    isd = _isd_m(rho)
    sites = pd.DataFrame({
        "site_id": [f"S{k:0{width}d}" for k in number],
        "name": [f"SZ-{d}-{k:04d}" for d, k in zip(district, number)],
        "lat": lat, "lon": lon, "region": district,
        "maintainer": [DISTRICT_TEAM[d] for d in district],
        "x": x, "y": y, "isd": isd,
        "zone": np.where(isd < 800, "urban", np.where(isd > 1800, "suburban", "mid")),
        "cap": _terrain_cap(x, y, gaps),
    })
    sites["nearest_m"] = _nearest_other(x, y)
    return sites


def _nearest_other(x, y) -> np.ndarray:
    """Distance (m) from each point to its nearest other point."""
    pts = shapely.points(x, y)
    (src, dst), dist = shapely.STRtree(pts).query_nearest(pts, exclusive=True, return_distance=True,
                                                          all_matches=False)
    out = np.full(len(x), np.inf)
    out[src] = dist
    return out


def _cells_frame(rng, sites: pd.DataFrame) -> pd.DataFrame:
    """3 LTE sectors per site, 3 NR sectors on about a third, an indoor cell on some central sites."""
    n = len(sites)
    zone = sites["zone"].to_numpy()
    has_nr = rng.random(n) < np.select([zone == "urban", zone == "mid"], [0.36, 0.30], 0.20)
    has_indoor = (zone == "urban") & (rng.random(n) < 0.12)
    per_site = 3 + 3 * has_nr + has_indoor
    site = np.repeat(np.arange(n), per_site)
    pos = np.arange(len(site)) - np.repeat(np.cumsum(per_site) - per_site, per_site)
    nr = (pos >= 3) & (pos < 6) & has_nr[site]
    indoor = pos == per_site[site] - 1
    indoor &= has_indoor[site]
    sector = np.where(nr, pos - 3, pos)

    rotation = rng.normal(0, 8, n)
    az = (120.0 * sector + rotation[site] + rng.normal(0, 6, len(site)) + np.where(nr, rng.normal(0, 3, len(site)), 0))
    az = np.round(az) % 360
    lte_band = np.where((zone == "suburban") & (rng.random(n) < 0.5), 900.0,
                        np.where(rng.random(n) < 0.6, 1800.0, 2100.0))
    band = np.where(nr, 3500.0, lte_band[site])
    indoor_band = np.where(rng.random(len(site)) < 0.3, 3500.0, lte_band[site])
    band = np.where(indoor, np.where(lte_band[site] == 900.0, 1800.0, indoor_band), band)

    radius = _cell_radius(rng, sites, site, nr, band)
    beam = np.where((band == 900.0) & (rng.random(len(site)) < 0.3), 90.0, DEFAULT_BEAMWIDTH)
    beam = np.where(rng.random(len(site)) < 0.07, np.nan, beam)
    radius = np.where(indoor, np.round(rng.uniform(60, 100, len(site)) / 5) * 5, radius)
    az = np.where(indoor, np.nan, az)
    beam = np.where(indoor, np.nan, beam)
    cells = pd.DataFrame({
        "cell_id": [f"C{k:06d}" for k in range(1, len(site) + 1)],
        "site": site, "technology": np.where(nr | (indoor & (band == 3500.0)), "NR", "LTE"),
        "band_mhz": band, "azimuth_deg": az, "beamwidth_deg": beam, "radius_m": radius,
        "indoor": indoor,
    })
    _blank_some_radii(rng, cells, sites)
    _traffic_profile(rng, cells, sites)
    return cells


def _cell_radius(rng, sites, site, nr, band) -> np.ndarray:
    """Nominal radius (m): about the local ISD, smaller for NR, capped around gaps."""
    isd = sites["isd"].to_numpy()[site]
    base = isd * rng.uniform(0.75, 1.05, len(sites))[site]
    lte = np.clip(base * np.where(band == 900.0, 1.1, 1.0), 350.0, 2500.0)
    r = np.where(nr, np.clip(base * rng.uniform(0.55, 0.75, len(site)), 200.0, 1500.0), lte)
    r = np.minimum(r, sites["cap"].to_numpy()[site])
    return np.maximum(np.round(r / 10) * 10, 150.0)


def _blank_some_radii(rng, cells, sites) -> None:
    """Leave ``radius_m`` empty on ~3% of outdoor cells (well away from gaps)."""
    site = cells["site"].to_numpy()
    far = sites["cap"].to_numpy()[site] > 1.6 * sites["nearest_m"].to_numpy()[site]
    blank = ~cells["indoor"].to_numpy() & far & (rng.random(len(cells)) < 0.03)
    cells.loc[blank, "radius_m"] = np.nan


def _traffic_profile(rng, cells, sites) -> None:
    """Per-cell busy-hour users, peak PRB and noise floor (internal columns)."""
    zone = sites["zone"].to_numpy()[cells["site"].to_numpy()]
    n = len(cells)
    users = np.select([zone == "urban", zone == "mid"], [rng.uniform(25, 80, n), rng.uniform(12, 45, n)],
                      rng.uniform(6, 25, n))
    users = np.where(cells["technology"].to_numpy() == "NR", users * 0.5, users)
    users = np.where(cells["indoor"].to_numpy(), rng.uniform(6, 25, n), users)
    cells["peak_users"] = np.maximum(users, 5.0)
    cells["peak_prb"] = rng.uniform(30, 62, n)
    cells["noise_mu"] = rng.uniform(-116.5, -113.5, n)


def _transport(sites: pd.DataFrame):
    """Hubs (one per ~12 sites) and aggregation nodes, grouped along a Hilbert curve."""
    n = len(sites)
    x, y = sites["x"].to_numpy(), sites["y"].to_numpy()
    n_hubs = math.ceil(n / 12)
    hub_of = np.empty(n, dtype=int)
    for k, group in enumerate(np.array_split(_hilbert_order(x, y), n_hubs)):
        hub_of[group] = k
    hx = np.bincount(hub_of, x) / np.bincount(hub_of)
    hy = np.bincount(hub_of, y) / np.bincount(hub_of)
    n_aggs = max(3, int(round(n / 80)))
    agg_of = np.empty(n_hubs, dtype=int)
    for k, group in enumerate(np.array_split(_hilbert_order(hx, hy), n_aggs)):
        agg_of[group] = k
    ax = np.bincount(agg_of, hx) / np.bincount(agg_of)
    ay = np.bincount(agg_of, hy) / np.bincount(agg_of)
    hw, aw = max(3, len(str(n_hubs))), max(2, len(str(n_aggs)))
    hub_ids = np.array([f"HUB{k:0{hw}d}" for k in range(1, n_hubs + 1)], dtype=object)
    sites["hub"] = hub_of
    sites["transport_id"] = hub_ids[hub_of]
    hlat, hlon = _to_latlon(hx, hy)
    alat, alon = _to_latlon(ax, ay)
    hubs = pd.DataFrame({"node_id": hub_ids, "agg": agg_of, "lat": hlat, "lon": hlon, "x": hx, "y": hy})
    aggs = pd.DataFrame({"node_id": [f"AGG{k:0{aw}d}" for k in range(1, n_aggs + 1)], "lat": alat, "lon": alon})
    return hubs, aggs


def _repeaters(rng, sites, cells, gaps) -> pd.DataFrame:
    """About one repeater per 20 sites, 300-800 m from its donor's site along the donor's azimuth."""
    site = cells["site"].to_numpy()
    room = sites["cap"].to_numpy()[site] > 1000.0      # 800 m on, a 500 m repeater still clears every gap
    ok = (cells["technology"].to_numpy() == "LTE") & ~cells["indoor"].to_numpy() & cells["radius_m"].notna().to_numpy()
    ok &= room & (sites["zone"].to_numpy()[site] != "urban")
    n_rep = max(2, int(round(len(sites) / 20)))
    donors = _pick(rng, ok, n_rep)
    if len(donors) < n_rep:       # a small city: relax "not urban" and the room around gaps
        relaxed = (cells["technology"].to_numpy() == "LTE") & ~cells["indoor"].to_numpy()
        relaxed &= cells["radius_m"].notna().to_numpy() & ~np.isin(np.arange(len(cells)), donors)
        donors = np.concatenate([donors, _pick(rng, relaxed, n_rep - len(donors))])
    donors = np.sort(donors)
    k = len(donors)
    ds = site[donors]
    bearing = (cells["azimuth_deg"].to_numpy()[donors] + rng.uniform(-30, 30, k)) % 360
    lat, lon = _destination(sites["lat"].to_numpy()[ds], sites["lon"].to_numpy()[ds], bearing,
                            rng.uniform(300, 800, k))
    omni = rng.random(k) < 0.4
    rx, ry = _to_xy(lat, lon)
    radius = np.minimum(np.round(rng.uniform(200, 500, k) / 10) * 10, _terrain_cap(rx, ry, gaps))
    return pd.DataFrame({
        "repeater_id": [f"R{j:04d}" for j in range(1, k + 1)], "donor": donors,
        "lat": lat, "lon": lon,
        "azimuth_deg": np.where(omni, np.nan, np.round((bearing + rng.uniform(-30, 30, k)) % 360) % 360),
        "beamwidth_deg": np.where(omni, np.nan, DEFAULT_BEAMWIDTH),
        "radius_m": np.maximum(radius, 150.0), "indoor": False,
        "maintainer": sites["maintainer"].to_numpy()[ds],
    })
