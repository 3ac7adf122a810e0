"""Coordinate systems: GCJ-02 and BD-09 to WGS-84, and the metric CRS for distance work.

Chinese map apps report GCJ-02 (most apps) or BD-09 (Baidu), offset by hundreds of metres
from the WGS-84 positions of the inventory. The forward transforms are the published
GCJ-02 algorithm and Baidu's BD-09 on top of it; the inverses are found by fixed-point
iteration to well under a millimetre. Outside China both systems equal WGS-84.

All functions take and return numpy arrays (or scalars) and work on whole columns at once.

Examples
--------
>>> lon, lat = wgs84_to_gcj02(114.0579, 22.5431)
>>> back = gcj02_to_wgs84(lon, lat)
>>> round(float(back[0]), 6), round(float(back[1]), 6)
(114.0579, 22.5431)
"""
from __future__ import annotations

import numpy as np
from pyproj import CRS

from netdiag.errors import InputError

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0



def in_china(lon, lat) -> np.ndarray:
    """True where GCJ-02 applies (the usual bounding box of mainland China)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return (lon > 73.66) & (lon < 135.05) & (lat > 3.86) & (lat < 53.55)


def _transform_lat(x, y):
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x, y):
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lon, lat):
    """WGS-84 -> GCJ-02 (identity outside China). Returns ``(lon, lat)`` arrays."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def gcj02_to_bd09(lon, lat):
    """GCJ-02 -> BD-09 (identity outside China)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    inside = in_china(lon, lat)
    return (np.where(inside, z * np.cos(theta) + 0.0065, lon),
            np.where(inside, z * np.sin(theta) + 0.006, lat))


def wgs84_to_bd09(lon, lat):
    """WGS-84 -> BD-09 (identity outside China)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def _invert(forward, lon, lat, *, iterations: int = 30, tol_deg: float = 1e-10):
    """Solve ``forward(w) == (lon, lat)`` for ``w`` by fixed-point iteration."""
    tlon = np.asarray(lon, dtype=float)
    tlat = np.asarray(lat, dtype=float)
    wlon, wlat = tlon.copy(), tlat.copy()
    for _ in range(iterations):
        flon, flat = forward(wlon, wlat)
        elon, elat = flon - tlon, flat - tlat
        wlon = wlon - elon
        wlat = wlat - elat
        if np.nanmax(np.abs(np.concatenate([np.ravel(elon), np.ravel(elat)])), initial=0.0) < tol_deg:
            break
    return wlon, wlat


def gcj02_to_wgs84(lon, lat):
    """GCJ-02 -> WGS-84, exact to well under 1 mm inside China; identity outside."""
    return _invert(wgs84_to_gcj02, lon, lat)


def bd09_to_wgs84(lon, lat):
    """BD-09 -> WGS-84, exact to well under 1 mm inside China; identity outside."""
    return _invert(wgs84_to_bd09, lon, lat)


def to_wgs84(lon, lat, systems) -> tuple[np.ndarray, np.ndarray]:
    """Convert each point from its own system (``wgs84``, ``gcj02`` or ``bd09``) to WGS-84.

    Parameters
    ----------
    lon, lat : array-like of float
    systems : array-like of str
        Canonical system names (``wgs84``, ``gcj02``, ``bd09``; see :data:`netdiag.data.schema.COORD_SYSTEMS`), one per point.
    """
    lon = np.array(lon, dtype=float)
    lat = np.array(lat, dtype=float)
    systems = np.asarray(systems, dtype=object)
    for name, inverse in (("gcj02", gcj02_to_wgs84), ("bd09", bd09_to_wgs84)):
        mask = systems == name
        if mask.any():
            lon[mask], lat[mask] = inverse(lon[mask], lat[mask])
    return lon, lat


def utm_crs(lon, lat) -> CRS:
    """The UTM zone CRS that holds the median of the given WGS-84 points.

    Works anywhere (Dublin, Melbourne, Shenzhen): the zone and hemisphere come from the data.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return CRS.from_epsg(3857)
    mlon, mlat = float(np.median(lon[ok])), float(np.median(lat[ok]))
    zone = int((mlon + 180.0) // 6.0) % 60 + 1
    return CRS.from_epsg((32600 if mlat >= 0 else 32700) + zone)


def haversine_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Great-circle distance in metres (vectorised)."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(v, dtype=float)) for v in (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371008.8 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def parse_bbox(text: str, *, name: str = "bbox") -> tuple[float, float, float, float]:
    """``"min_lon,min_lat,max_lon,max_lat"`` -> a tuple of floats.

    Raises
    ------
    InputError
        When the text is not four numbers with min < max inside WGS-84 bounds.

    Examples
    --------
    >>> parse_bbox("113.9,22.5,114.1,22.6")
    (113.9, 22.5, 114.1, 22.6)
    """
    parts = [p.strip() for p in str(text).split(",")]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 4:
        raise InputError(f"`{name}` was {text!r} but is expected to be MIN_LON,MIN_LAT,MAX_LON,MAX_LAT, e.g. 113.9,22.5,114.1,22.6")
    min_lon, min_lat, max_lon, max_lat = values
    if not (-180 <= min_lon < max_lon <= 180 and -90 <= min_lat < max_lat <= 90):
        raise InputError(f"`{name}` was {text!r} but min must be below max and within -180..180 (lon), -90..90 (lat)")
    return values


def parse_latlon(text: str | tuple | None, *, name: str = "start") -> tuple[float, float] | None:
    """``"LAT,LON"`` -> (lat, lon); raises InputError naming what came.

    Examples
    --------
    >>> parse_latlon("22.54,114.05")
    (22.54, 114.05)
    """
    if text is None or isinstance(text, tuple):
        return text
    parts = str(text).split(",")
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError:
        raise InputError(f"`{name}` was {text!r} but is expected to be LAT,LON in WGS-84, e.g. 22.54,114.05") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InputError(f"`{name}` was {text!r}: latitude must be in [-90, 90] and longitude in [-180, 180]")
    return lat, lon
