"""Complaint hotspots on a grid, and repeat complaints.

Hotspots
--------
Every diagnosed complaint is dropped into a grid cell of the data set's metric CRS
(``Dataset.crs``, a UTM zone): a hexagon whose flat-to-flat width is ``hotspot_cell_m``
(default) or a square of that side (``grid="square"``, the grid of the coverage-hole tickets
in :mod:`netdiag.tickets.grouping`). The grid cells are ranked by their number of complaints; each row
says which cause dominates, the network cells that served those complaints (the nearest
serving element of each complaint), the elements blamed, and the *trend*: complaints in the
second half of the period against the first half (``trend_pct``, labelled ``rising`` /
``falling`` when it moves by at least ``hotspot_trend_pct`` percent, else ``steady``).

Repeat complaints
-----------------
A complaint is a *repeat* when an earlier complaint, received at most ``repeat_window_days``
before it, came from the same customer (the unmasked ``customer_id`` of the input; only the
masked number is ever written) or from the same place (within ``repeat_radius_m``). The pairs
come from a groupby (customers) and an STRtree ``dwithin`` query (places); no loop over
complaints.

Periods are ``[start, end)`` in UTC (:func:`netdiag.data.times.period_mask`).
"""
from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from netdiag.data.privacy import mask_series
from netdiag.data.schema import CAUSES
from netdiag.data.times import period_mask
from netdiag.data.values import join_groups
from netdiag.engine.diagnose import first_serving
from netdiag.errors import InputError
from netdiag.settings import Settings

log = logging.getLogger(__name__)

GRIDS = ("hex", "square")
HOTSPOT_COLUMNS = ["rank", "hotspot_id", "complaints", "dominant_cause", "dominant_share", "causes", "first_half",
                   "second_half", "trend", "trend_pct", "cells", "elements", "repeat_complaints", "vip_complaints",
                   "lat", "lon"]
REPEAT_COLUMNS = ["complaint_id", "received_at", "customer", "repeat", "repeat_by", "repeat_of", "days_since",
                  "distance_m"]
_SQRT3 = np.sqrt(3.0)


# ----------------------------------------------------------------------------- grids
def grid_index(x: np.ndarray, y: np.ndarray, size: float, grid: str = "hex") -> tuple[np.ndarray, np.ndarray]:
    """Integer grid coordinates of metric points: axial ``(q, r)`` of pointy-top hexagons, or ``(gx, gy)`` squares.

    A hexagon's flat-to-flat width (the distance between neighbouring centres) is ``size``.

    Examples
    --------
    >>> grid_index(np.array([0.0, 260.0]), np.array([0.0, 0.0]), 500.0)
    (array([0, 1]), array([0, 0]))
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    if grid == "square":
        return np.floor(x / size).astype(np.int64), np.floor(y / size).astype(np.int64)
    if grid != "hex":
        raise InputError(f"`grid` was {grid!r} but is expected to be one of {', '.join(GRIDS)}")
    radius = size / _SQRT3  # centre to corner
    rf = y / (1.5 * radius)
    qf = x / size - rf / 2.0
    # cube rounding: round all three, fix the one with the largest error
    sf = -qf - rf
    q, r, s = np.round(qf), np.round(rf), np.round(sf)
    dq, dr, ds = np.abs(q - qf), np.abs(r - rf), np.abs(s - sf)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    q = np.where(fix_q, -r - s, q)
    r = np.where(fix_r, -q - s, r)
    return q.astype(np.int64), r.astype(np.int64)


def _grid_centres(i: np.ndarray, j: np.ndarray, size: float, grid: str = "hex") -> tuple[np.ndarray, np.ndarray]:
    """Metric centre of each grid cell of :func:`grid_index`."""
    i, j = np.asarray(i, float), np.asarray(j, float)
    if grid == "square":
        return (i + 0.5) * size, (j + 0.5) * size
    radius = size / _SQRT3
    return size * (i + j / 2.0), 1.5 * radius * j


def grid_polygons(i: np.ndarray, j: np.ndarray, size: float, grid: str = "hex") -> np.ndarray:
    """Shapely polygons of the grid cells (metric CRS), vectorised."""
    cx, cy = _grid_centres(i, j, size, grid)
    if grid == "square":
        return shapely.box(cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2)
    radius = size / _SQRT3
    angles = np.radians(30 + 60 * np.arange(7))  # pointy top: corners at 30, 90, ... degrees
    xs = cx[:, None] + radius * np.cos(angles)[None, :]
    ys = cy[:, None] + radius * np.sin(angles)[None, :]
    return shapely.polygons(np.stack([xs, ys], axis=-1))


# ----------------------------------------------------------------------------- helpers
def _metric_xy(result, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    x, y = result.network.to_xy.transform(frame["lon"].to_numpy(float), frame["lat"].to_numpy(float))
    return np.asarray(x, float), np.asarray(y, float)


def _top_counts(keys: pd.Series, values: pd.Series, *, top: int = 3) -> pd.Series:
    """Per key, the ``top`` most frequent values as ``"A (3); B (1)"``."""
    ok = values.notna() & (values.astype("str") != "")
    if not ok.any():
        return pd.Series(dtype=object)
    counts = pd.DataFrame({"k": keys[ok].to_numpy(), "v": values[ok].astype("str").to_numpy()}).value_counts().reset_index()
    counts = counts.sort_values(["k", "count", "v"], ascending=[True, False, True])
    counts = counts[counts.groupby("k").cumcount() < top]
    return join_groups(counts["k"], counts["v"] + " (" + counts["count"].astype(str) + ")", "; ")


def crosstab_counts(index: pd.Series, columns: pd.Series) -> pd.DataFrame:
    """``pd.crosstab(index, columns)``: how many rows have each pair of values, from one groupby (crosstab
    counts with a Python function per cell of the table).

    Examples
    --------
    >>> crosstab_counts(pd.Series(["a", "a", "b"], name="k"), pd.Series(["x", "y", "x"], name="v")).to_dict("index")
    {'a': {'x': 1, 'y': 1}, 'b': {'x': 1, 'y': 0}}
    """
    frame = pd.DataFrame({"i": index.array, "c": columns.array})
    return frame.groupby(["i", "c"]).size().unstack(fill_value=0).rename_axis(index=index.name, columns=columns.name)


def _in_period(result, start, end) -> pd.DataFrame:
    d = result.diagnoses
    return d[period_mask(d["received_at"], start, end)].reset_index(drop=True)


# ----------------------------------------------------------------------------- repeats
def repeat_complaints(result, *, settings: Settings | None = None, start: pd.Timestamp | None = None,
                      end: pd.Timestamp | None = None) -> pd.DataFrame:
    """Flag repeat complaints: same customer, or same place, within ``repeat_window_days``.

    Parameters
    ----------
    result : Result
        From :func:`netdiag.pipeline.diagnose`.
    settings : Settings, optional
        ``repeat_window_days`` and ``repeat_radius_m``; defaults to the network's settings.
    start, end : Timestamp, optional
        Only complaints received in ``[start, end)`` are flagged; earlier complaints (within
        the window) still count as the ones repeated.

    Returns
    -------
    DataFrame
        One row per complaint in the period: ``complaint_id, received_at, customer`` (masked),
        ``repeat`` (bool), ``repeat_by`` (``customer``, ``place`` or ``customer+place``),
        ``repeat_of`` (the customer's previous complaint, else the most recent earlier one at
        the place), ``days_since``,
        ``distance_m`` (to that complaint).

    Examples
    --------
    >>> reps = repeat_complaints(result)                     # doctest: +SKIP
    >>> reps[reps["repeat"]].head()                          # doctest: +SKIP
    """
    settings = settings or result.network.settings
    d = result.diagnoses
    window = pd.Timedelta(days=settings.repeat_window_days)
    raw = result.network.ds["complaints"].drop_duplicates("complaint_id").set_index("complaint_id")["customer_id"]
    t = pd.to_datetime(d["received_at"], utc=True).reset_index(drop=True)
    ids = d["complaint_id"].reset_index(drop=True)
    n = len(d)
    tn = t.astype("int64").to_numpy()
    prev_idx = np.full(n, -1, dtype=np.int64)
    by_customer = np.zeros(n, dtype=bool)
    by_place = np.zeros(n, dtype=bool)
    if n:
        # same customer: the previous complaint of that customer, when recent enough
        customer = ids.map(raw).astype("str").where(ids.map(raw).notna(), "")
        order = pd.DataFrame({"c": customer.to_numpy(), "t": tn, "i": np.arange(n)}).sort_values(["c", "t", "i"])
        order = order[order["c"] != ""]
        prev = order.groupby("c")["i"].shift(1)
        has = prev.notna().to_numpy()
        me = order["i"].to_numpy()[has]
        before = prev.to_numpy()[has].astype(np.int64)
        recent = (tn[me] - tn[before]) <= window.value
        by_customer[me[recent]] = True
        prev_idx[me[recent]] = before[recent]
        # same place: STRtree pairs within the radius, the most recent earlier one
        x, y = _metric_xy(result, d)
        pts = shapely.points(x, y)
        a, b = shapely.STRtree(pts).query(pts, predicate="dwithin", distance=settings.repeat_radius_m)
        earlier = (tn[b] < tn[a]) | ((tn[b] == tn[a]) & (b < a))
        close = earlier & ((tn[a] - tn[b]) <= window.value)
        a, b = a[close], b[close]
        if len(a):
            pairs = pd.DataFrame({"a": a, "b": b, "tb": tn[b]}).sort_values(["a", "tb", "b"]).drop_duplicates("a", keep="last")
            pa, pb = pairs["a"].to_numpy(), pairs["b"].to_numpy()
            by_place[pa] = True
            take = prev_idx[pa] < 0
            prev_idx[pa[take]] = pb[take]
    repeat = by_customer | by_place
    repeat_by = np.select([by_customer & by_place, by_customer, by_place], ["customer+place", "customer", "place"], default="")
    has_prev = prev_idx >= 0
    safe_prev = np.where(has_prev, prev_idx, 0)
    out = pd.DataFrame({
        "complaint_id": ids.to_numpy(dtype=object),
        "received_at": t.to_numpy(),
        "customer": mask_series(ids.map(raw)).to_numpy(dtype=object) if n else np.array([], dtype=object),
        "repeat": repeat,
        "repeat_by": repeat_by,
        "repeat_of": np.where(has_prev, ids.to_numpy(dtype=object)[safe_prev] if n else None, ""),
        "days_since": np.where(has_prev, np.round((tn - tn[safe_prev]) / 8.64e13, 2) if n else np.nan, np.nan),
    })
    if n:
        x, y = _metric_xy(result, d)
        out["distance_m"] = np.where(has_prev, np.round(np.hypot(x - x[safe_prev], y - y[safe_prev]), 0), np.nan)
    else:
        out["distance_m"] = pd.Series(dtype=float)
    out["received_at"] = pd.to_datetime(out["received_at"], utc=True)
    out = out[period_mask(out["received_at"], start, end)].reset_index(drop=True)
    log.info("repeat complaints: %d of %d (customer %d, place %d)", int(out["repeat"].sum()), len(out),
             int(out["repeat_by"].str.startswith("customer").sum()), int(out["repeat_by"].str.endswith("place").sum()))
    return out[REPEAT_COLUMNS]


# ----------------------------------------------------------------------------- hotspots
def hotspots(result, *, settings: Settings | None = None, grid: str = "hex", start: pd.Timestamp | None = None,
             end: pd.Timestamp | None = None, repeats: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """Complaints binned on a grid and ranked by count (see the module docstring).

    Parameters
    ----------
    result : Result
        From :func:`netdiag.pipeline.diagnose`.
    settings : Settings, optional
        ``hotspot_cell_m`` (grid size), ``hotspot_trend_pct``; defaults to the network's settings.
    grid : {"hex", "square"}
        Hexagons of flat-to-flat width ``hotspot_cell_m``, or squares of that side.
    start, end : Timestamp, optional
        The period ``[start, end)``; default the whole span of the complaints. Its halves give
        the trend.
    repeats : DataFrame, optional
        From :func:`repeat_complaints`, to count repeats per grid cell (computed when omitted).

    Returns
    -------
    GeoDataFrame
        One row per grid cell with complaints, best first, in the metric CRS: ``rank,
        hotspot_id, complaints, dominant_cause, dominant_share, causes, first_half,
        second_half, trend, trend_pct, cells, elements, repeat_complaints, vip_complaints, lat,
        lon`` (centre, WGS-84) and the cell ``geometry``.

    Raises
    ------
    InputError
        On an unknown ``grid``.

    Examples
    --------
    >>> hs = hotspots(result, grid="hex")                    # doctest: +SKIP
    >>> hs[["hotspot_id", "complaints", "dominant_cause", "trend"]].head()   # doctest: +SKIP
    """
    settings = settings or result.network.settings
    if grid not in GRIDS:
        raise InputError(f"`grid` was {grid!r} but is expected to be one of {', '.join(GRIDS)}")
    crs = result.network.ds.crs
    d = _in_period(result, start, end)
    if d.empty:
        return gpd.GeoDataFrame({c: [] for c in HOTSPOT_COLUMNS}, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    size = settings.hotspot_cell_m
    x, y = _metric_xy(result, d)
    gi, gj = grid_index(x, y, size, grid)
    prefix = "H" if grid == "hex" else "S"
    key = (prefix + pd.Series(gi).astype(str) + "_" + pd.Series(gj).astype(str)).astype(object)

    t = pd.to_datetime(d["received_at"], utc=True)
    t0 = start if start is not None else t.min()
    t1 = end if end is not None else t.max()
    middle = pd.Timestamp((t0.value + t1.value) // 2, tz="UTC")  # a span of centuries overflows t1 - t0
    second = (t >= middle).to_numpy()

    frame = pd.DataFrame({"hotspot_id": key, "gi": gi, "gj": gj, "cause": d["cause"].astype(str).to_numpy(),
                          "second": second, "vip": d["vip"].fillna(False).astype(bool).to_numpy()})
    g = frame.groupby("hotspot_id", sort=False)
    out = g.agg(gi=("gi", "first"), gj=("gj", "first"), complaints=("cause", "size"),
                second_half=("second", "sum"), vip_complaints=("vip", "sum"))
    out["first_half"] = out["complaints"] - out["second_half"]
    by_cause = frame.groupby(["hotspot_id", "cause"], sort=False).size().unstack(fill_value=0)
    by_cause = by_cause[[c for c in CAUSES if c in by_cause.columns]]
    out["dominant_cause"] = by_cause.idxmax(axis=1)
    out["dominant_share"] = (by_cause.max(axis=1) / by_cause.sum(axis=1)).round(2)
    long = by_cause.stack()
    long = long[long > 0].reset_index(name="n")
    long["rank"] = long["cause"].map({c: i for i, c in enumerate(CAUSES)})
    long = long.sort_values(["hotspot_id", "n", "rank"], ascending=[True, False, True], kind="stable")
    out["causes"] = join_groups(long["hotspot_id"], long["cause"] + " " + long["n"].astype(str), "; ")
    first_cell = first_serving(d["serving_ids"])
    out["cells"] = _top_counts(key, first_cell).reindex(out.index).fillna("")
    out["elements"] = _top_counts(key, d["element_id"]).reindex(out.index).fillna("")
    if repeats is None:
        repeats = repeat_complaints(result, settings=settings, start=start, end=end)
    rep_ids = set(repeats.loc[repeats["repeat"], "complaint_id"])
    out["repeat_complaints"] = pd.Series(d["complaint_id"].isin(rep_ids).to_numpy(), index=key).groupby(level=0).sum()
    change = out["second_half"] - out["first_half"]
    out["trend_pct"] = (100.0 * change / out["first_half"].clip(lower=1)).round(0)
    band = settings.hotspot_trend_pct
    out["trend"] = np.select([out["trend_pct"] >= band, out["trend_pct"] <= -band], ["rising", "falling"], default="steady")
    out = out.reset_index().sort_values(["complaints", "second_half", "hotspot_id"], ascending=[False, False, True])
    out["rank"] = np.arange(1, len(out) + 1)
    cx, cy = _grid_centres(out["gi"].to_numpy(), out["gj"].to_numpy(), size, grid)
    lon, lat = _to_lonlat(result, cx, cy)
    out["lat"], out["lon"] = np.round(lat, 6), np.round(lon, 6)
    geometry = grid_polygons(out["gi"].to_numpy(), out["gj"].to_numpy(), size, grid)
    out = out[HOTSPOT_COLUMNS].astype({"complaints": int, "first_half": int, "second_half": int,
                                       "repeat_complaints": int, "vip_complaints": int})
    log.info("hotspots: %d complaints in %d %s cells of %g m", len(d), len(out), grid, size)
    return gpd.GeoDataFrame(out.reset_index(drop=True), geometry=geometry, crs=crs)


def _to_lonlat(result, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import Transformer

    back = Transformer.from_crs(result.network.ds.crs, "EPSG:4326", always_xy=True)
    lon, lat = back.transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lon, float), np.asarray(lat, float)


def hotspot_table(spots: gpd.GeoDataFrame) -> pd.DataFrame:
    """The CSV form of :func:`hotspots`: no geometry (the centre is in ``lat``/``lon``)."""
    return pd.DataFrame(spots.drop(columns="geometry"))
