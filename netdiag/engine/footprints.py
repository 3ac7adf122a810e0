"""Footprints: where each cell and repeater serves.

A sector (``azimuth_deg`` given) serves a wedge centred on its azimuth, ``wedge_factor`` x
``beamwidth_deg`` wide (the half-power beamwidth is where the main lobe is 3 dB down; a sector
serves usefully to about its 10 dB points, roughly twice that: 130 degrees for a 65-degree
antenna), out to its radius, plus a small zone around the mast (``mast_zone_m``, at most a
quarter of the radius) where every sector of the site serves. An omni cell serves a circle.
Indoor cells (室分) serve indoor complaints only.

Radius model, when ``radius_m`` is empty
-----------------------------------------
1. The link budget allows ``mapl_db`` of path loss (default 135 dB).
2. Path loss follows Okumura-Hata below 1500 MHz and COST-231 Hata from 1500 MHz
   (extrapolated above 2000 MHz), with base height ``bs_height_m`` and handset height
   ``ms_height_m``; a site whose nearest neighbour is closer than ``urban_isd_m`` is urban
   (COST-231's +3 dB metropolitan term), otherwise suburban (Hata's suburban correction
   ``-2 log10(f/28)^2 - 5.4``).
3. The radius is the distance where the path loss reaches the budget, capped at
   ``isd_factor`` x the distance to the nearest other site (cells of a dense grid do not reach
   past their neighbours), and clipped to [``radius_min_m``, ``radius_max_m``]. Indoor cells
   without a radius get ``indoor_radius_m``.

A relocated element keeps its current footprint and also gets its *old* footprint at
``prev_lat/prev_lon``, valid from the relocation's start to its end (empty end: for good).
All geometry is in the data set's metric CRS (:func:`netdiag.data.coords.utm_crs`).
"""
from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from netdiag.settings import Settings

log = logging.getLogger(__name__)

ARC_SEGMENTS = 32  # vertices on a full circle; a wedge gets a proportional share (at least 8)

FOOTPRINT_COLUMNS = ["fp_id", "element_id", "kind", "site_id", "variant", "event_id", "indoor", "x", "y",
                     "azimuth_deg", "half_angle_deg", "radius_m", "radius_source", "valid_from", "valid_to", "geometry"]


# ----------------------------------------------------------------------------- radius model
def hata_path_loss_db(band_mhz, distance_km, *, urban, bs_height_m: float = 30.0, ms_height_m: float = 1.5):
    """Path loss (dB): Okumura-Hata below 1500 MHz, COST-231 Hata from 1500 MHz.

    Examples
    --------
    >>> round(float(hata_path_loss_db(1800, 1.0, urban=True)), 1)
    139.2
    """
    f = np.asarray(band_mhz, dtype=float)
    d = np.asarray(distance_km, dtype=float)
    urban = np.asarray(urban, dtype=bool)
    lf, lhb = np.log10(f), np.log10(bs_height_m)
    a_hm = (1.1 * lf - 0.7) * ms_height_m - (1.56 * lf - 0.8)
    slope = 44.9 - 6.55 * lhb
    okumura = 69.55 + 26.16 * lf - 13.82 * lhb - a_hm + slope * np.log10(d)
    cost231 = 46.3 + 33.9 * lf - 13.82 * lhb - a_hm + slope * np.log10(d) + np.where(urban, 3.0, 0.0)
    loss = np.where(f < 1500, okumura, cost231)
    suburban = -2.0 * np.log10(f / 28.0) ** 2 - 5.4
    return loss + np.where(urban, 0.0, suburban)


def hata_radius_m(band_mhz, *, urban, settings: Settings) -> np.ndarray:
    """Distance (m) at which the Hata path loss reaches the link budget ``settings.mapl_db``."""
    at_1km = hata_path_loss_db(band_mhz, 1.0, urban=urban, bs_height_m=settings.bs_height_m,
                               ms_height_m=settings.ms_height_m)
    slope = 44.9 - 6.55 * np.log10(settings.bs_height_m)
    return 1000.0 * 10 ** ((settings.mapl_db - at_1km) / slope)


def nearest_site_distance_m(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Distance from each site to its nearest other site (inter-site distance), via an STRtree."""
    n = len(x)
    if n < 2:
        return np.full(n, np.inf)
    points = shapely.points(x, y)
    tree = shapely.STRtree(points)
    (src, _), dist = tree.query_nearest(points, exclusive=True, return_distance=True, all_matches=False)
    out = np.full(n, np.inf)
    out[src] = dist
    return out


def estimate_radius_m(band_mhz, isd_m, *, indoor, settings: Settings) -> np.ndarray:
    """The documented radius model (module docstring), vectorised."""
    isd = np.asarray(isd_m, dtype=float)
    urban = isd < settings.urban_isd_m
    r = hata_radius_m(band_mhz, urban=urban, settings=settings)
    r = np.minimum(r, np.where(np.isfinite(isd), settings.isd_factor * isd, np.inf))
    r = np.clip(r, settings.radius_min_m, settings.radius_max_m)
    return np.where(np.asarray(indoor, dtype=bool), settings.indoor_radius_m, r)


# ----------------------------------------------------------------------------- geometry
def footprint_polygons(x, y, azimuth_deg, half_angle_deg, radius_m, mast_m) -> np.ndarray:
    """Wedges (azimuth given) or circles (azimuth NaN), united with a mast zone; vectorised.

    Azimuths are clockwise from north; ``half_angle_deg`` >= 180 gives a circle. A wedge with a
    mast zone is drawn as one ring: the outer arc from ``az - half`` to ``az + half``, then the
    mast circle round the back from ``az + half`` to ``az + 360 - half``.
    """
    x, y, az, half, r, mast = (np.asarray(v, dtype=float) for v in (x, y, azimuth_deg, half_angle_deg, radius_m, mast_m))
    n = len(x)
    out = np.empty(n, dtype=object)
    omni = np.isnan(az) | (half >= 180)
    if omni.any():
        out[omni] = shapely.buffer(shapely.points(x[omni], y[omni]), r[omni], quad_segs=ARC_SEGMENTS // 4)
    sector = ~omni
    if sector.any():
        xs, ys, azs, hs, rs = x[sector], y[sector], az[sector], half[sector], r[sector]
        ms = np.minimum(mast[sector], rs)
        k = max(8, int(np.ceil(ARC_SEGMENTS * float(np.max(hs)) / 180.0)))
        t = np.linspace(-1.0, 1.0, k + 1)[None, :]
        outer = np.radians(azs[:, None] + t * hs[:, None])
        back = np.radians(azs[:, None] + hs[:, None] + (t + 1.0) / 2.0 * (360.0 - 2.0 * hs[:, None]))
        angles = np.hstack([outer, back])
        radii = np.hstack([np.repeat(rs[:, None], k + 1, axis=1), np.repeat(ms[:, None], k + 1, axis=1)])
        px = xs[:, None] + radii * np.sin(angles)
        py = ys[:, None] + radii * np.cos(angles)
        ring = np.stack([np.hstack([px, px[:, :1]]), np.hstack([py, py[:, :1]])], axis=-1)
        no_mast = ms <= 0
        if no_mast.any():
            # a bare wedge: the back arc collapses onto the mast
            ring[no_mast, k + 1:-1, 0] = xs[no_mast, None]
            ring[no_mast, k + 1:-1, 1] = ys[no_mast, None]
        out[sector] = shapely.make_valid(shapely.polygons(ring)) if no_mast.any() else shapely.polygons(ring)
    return out


def _site_frame(ds, to_xy: Transformer) -> pd.DataFrame:
    sites = ds["sites"]
    located = sites["lat"].notna().to_numpy()
    x = np.full(len(sites), np.nan)
    y = np.full(len(sites), np.nan)
    if located.any():
        x[located], y[located] = to_xy.transform(sites["lon"].to_numpy()[located], sites["lat"].to_numpy()[located])
    out = pd.DataFrame({"site_id": sites["site_id"].to_numpy(dtype=object), "x": x, "y": y})
    isd = np.full(len(sites), np.inf)
    if located.any():
        isd[located] = nearest_site_distance_m(x[located], y[located])
    out["isd_m"] = isd
    return out


def build_footprints(ds, *, settings: Settings | None = None) -> gpd.GeoDataFrame:
    """Footprints of every cell and repeater (and old footprints of relocated ones).

    Parameters
    ----------
    ds : Dataset
        Validated tables (:func:`netdiag.data.dataset.load_dataset`).

    Returns
    -------
    GeoDataFrame
        One row per footprint in ``ds.crs``: ``fp_id, element_id, kind (cell|repeater),
        site_id, variant (current|old), event_id (the relocation, for old ones), indoor, x, y,
        azimuth_deg, half_angle_deg, radius_m, radius_source (given|estimated), valid_from,
        valid_to`` (NaT = unbounded) and ``geometry``.
    """
    settings = settings or ds.settings
    to_xy = Transformer.from_crs(CRS.from_epsg(4326), ds.crs, always_xy=True)
    sites = _site_frame(ds, to_xy)
    cells = ds["cells"].merge(sites, on="site_id", how="left")
    cell_fp = pd.DataFrame({
        "element_id": cells["cell_id"].to_numpy(dtype=object), "kind": "cell",
        "site_id": cells["site_id"].to_numpy(dtype=object), "band_mhz": cells["band_mhz"].to_numpy(float),
        "x": cells["x"].to_numpy(float), "y": cells["y"].to_numpy(float), "isd_m": cells["isd_m"].to_numpy(float),
        "azimuth_deg": cells["azimuth_deg"].to_numpy(float), "beamwidth_deg": cells["beamwidth_deg"].to_numpy(float),
        "radius_m": cells["radius_m"].to_numpy(float), "indoor": cells["indoor"].fillna(False).to_numpy(bool),
    })
    reps = ds["repeaters"]
    rx, ry = to_xy.transform(reps["lon"].to_numpy(float), reps["lat"].to_numpy(float)) if len(reps) else (np.zeros(0), np.zeros(0))
    donor_band = reps["donor_cell_id"].map(ds["cells"].set_index("cell_id")["band_mhz"]) if len(reps) else pd.Series(dtype=float)
    rep_fp = pd.DataFrame({
        "element_id": reps["repeater_id"].to_numpy(dtype=object), "kind": "repeater", "site_id": None,
        "band_mhz": donor_band.to_numpy(float), "x": np.asarray(rx, float), "y": np.asarray(ry, float),
        "isd_m": np.nan,
        "azimuth_deg": reps["azimuth_deg"].to_numpy(float), "beamwidth_deg": reps["beamwidth_deg"].to_numpy(float),
        "radius_m": reps["radius_m"].to_numpy(float), "indoor": reps["indoor"].fillna(False).to_numpy(bool),
    })
    if len(rep_fp):
        # a repeater's own neighbourhood: distance to the nearest site
        site_xy = sites.dropna(subset=["x"])
        if len(site_xy):
            tree = shapely.STRtree(shapely.points(site_xy["x"].to_numpy(), site_xy["y"].to_numpy()))
            _, dist = tree.query_nearest(shapely.points(rep_fp["x"].to_numpy(), rep_fp["y"].to_numpy()), return_distance=True,
                                         all_matches=False)
            rep_fp["isd_m"] = dist
    current = pd.concat([cell_fp, rep_fp], ignore_index=True)
    current["variant"] = "current"
    current["event_id"] = None
    current["valid_from"] = pd.NaT
    current["valid_to"] = pd.NaT
    old = _old_footprints(ds, current, to_xy)
    fp = pd.concat([current, old], ignore_index=True) if len(old) else current
    fp = fp[np.isfinite(fp["x"].to_numpy(float))].reset_index(drop=True)
    return _finish(fp, settings, ds.crs)


def _old_footprints(ds, current: pd.DataFrame, to_xy: Transformer) -> pd.DataFrame:
    """Footprints at ``prev_lat/prev_lon`` for every non-warning relocation event."""
    ev = ds["events"]
    reloc = ev[(ev["event_type"] == "relocation") & (ev["severity"] != "warning") & ev["prev_lat"].notna()]
    if reloc.empty:
        return pd.DataFrame()
    px, py = to_xy.transform(reloc["prev_lon"].to_numpy(float), reloc["prev_lat"].to_numpy(float))
    moves = pd.DataFrame({"moved_id": reloc["element_id"].to_numpy(dtype=object), "px": px, "py": py,
                          "event_id": reloc["event_id"].to_numpy(dtype=object),
                          "valid_from": reloc["start_time"].to_numpy(), "valid_to": reloc["end_time"].to_numpy()})
    base = current.drop(columns=["event_id", "valid_from", "valid_to"])
    by_site = moves.merge(base[base["kind"] == "cell"], left_on="moved_id", right_on="site_id")
    by_element = moves.merge(base, left_on="moved_id", right_on="element_id")
    parts = [by_site, by_element]
    known = set(by_site["moved_id"]) | set(by_element["moved_id"])
    gone = moves[~moves["moved_id"].isin(known)]
    if len(gone):
        # a dismantled element we know nothing else of: an omni footprint of estimated radius
        parts.append(gone.assign(element_id=gone["moved_id"], kind="dismantled", site_id=gone["moved_id"],
                                 band_mhz=1800.0, azimuth_deg=np.nan, beamwidth_deg=np.nan, radius_m=np.nan,
                                 indoor=False, isd_m=np.nan))
    old = pd.concat(parts, ignore_index=True)
    old["x"], old["y"] = old["px"], old["py"]
    old["variant"] = "old"
    return old.drop(columns=["moved_id", "px", "py"])


def _finish(fp: pd.DataFrame, settings: Settings, crs) -> gpd.GeoDataFrame:
    given = np.isfinite(fp["radius_m"].to_numpy(float))
    isd = fp["isd_m"].to_numpy(float)
    if (~given).any():
        # dismantled elements and repeaters: the local density around their own position
        missing_isd = ~np.isfinite(isd) & ~given
        if missing_isd.any():
            isd = isd.copy()
            isd[missing_isd] = settings.urban_isd_m
    est = estimate_radius_m(fp["band_mhz"].fillna(1800.0).to_numpy(float), isd, indoor=fp["indoor"].to_numpy(bool),
                            settings=settings)
    fp["radius_m"] = np.where(given, fp["radius_m"].to_numpy(float), est)
    fp["radius_source"] = np.where(given, "given", "estimated")
    beam = fp["beamwidth_deg"].fillna(settings.beamwidth_deg).to_numpy(float)
    fp["half_angle_deg"] = np.where(fp["azimuth_deg"].isna(), 180.0, np.minimum(180.0, beam * settings.wedge_factor / 2.0))
    mast = np.minimum(settings.mast_zone_m, fp["radius_m"].to_numpy(float) / 4.0)
    geometry = footprint_polygons(fp["x"], fp["y"], fp["azimuth_deg"], fp["half_angle_deg"], fp["radius_m"], mast)
    fp["fp_id"] = np.arange(len(fp))
    fp["valid_from"] = pd.to_datetime(fp["valid_from"], utc=True)
    fp["valid_to"] = pd.to_datetime(fp["valid_to"], utc=True)
    gdf = gpd.GeoDataFrame(fp[[c for c in FOOTPRINT_COLUMNS if c != "geometry"]], geometry=geometry, crs=crs)
    n_est = int((~given).sum())
    log.info("footprints: %d (%d old, %d radii estimated)", len(gdf), int((fp["variant"] == "old").sum()), n_est)
    return gdf


def serving_pairs(footprints: gpd.GeoDataFrame, x, y, *, indoor) -> pd.DataFrame:
    """Which footprints contain which points, through the STRtree of the footprints.

    Indoor footprints serve indoor points only. Returns ``point, fp_id, distance_m``
    (distance from the mast), by point and then ``fp_id``.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    indoor = np.asarray(indoor, dtype=bool)
    if len(footprints) == 0 or len(x) == 0:
        return pd.DataFrame({"point": np.zeros(0, int), "fp_id": np.zeros(0, int), "distance_m": np.zeros(0)})
    # the GeoDataFrame keeps its STRtree (sindex) between calls: a handler's check reuses it
    pts, fps = footprints.sindex.query(shapely.points(x, y), predicate="intersects")
    # the tree's own order depends on every footprint in it: put each point's in footprint order, so a
    # check against the few footprints around a spot (a workspace) lists co-sited cells as the whole network does
    order = np.lexsort((footprints["fp_id"].to_numpy()[fps], pts))
    pts, fps = pts[order], fps[order]
    fp_indoor = footprints["indoor"].to_numpy(bool)[fps]
    keep = ~fp_indoor | indoor[pts]
    pts, fps = pts[keep], fps[keep]
    dx = x[pts] - footprints["x"].to_numpy(float)[fps]
    dy = y[pts] - footprints["y"].to_numpy(float)[fps]
    return pd.DataFrame({"point": pts, "fp_id": footprints["fp_id"].to_numpy()[fps], "distance_m": np.hypot(dx, dy)})
