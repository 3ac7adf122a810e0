"""Compact columnar data for the map page: numbers as integers, text joined and deduplicated, all compressed.

A map layer reaches the page as one object of equally long columns (one value per feature),
serialised by :func:`safe_json` (so ``<``, ``>`` and ``&`` are escaped), compressed with zlib
and base64-encoded (:func:`pack`); ``netdiag-map.js`` unpacks it with the browser's own
``DecompressionStream`` and reads values only when it draws or builds a popup. A column is one of:

- ``{"j": "a\\x1fb\\x1fc"}``: text, the values joined by the unit separator ``\\x1f``;
- ``{"d": "x\\x1fy", "i": [0, 1, 0]}``: text with few distinct values, a dictionary and codes;
- ``{"m": [0, 95, null], "b": 29_000_000}``: local times to the minute (``b`` + ``m`` minutes since
  1970-01-01 on the local wall clock, shown as ``2026-11-02 18:00``);
- ``{"m": [60, 1440], "b": 0, "r": 1}``: minutes after the time in popup column ``1`` of the row;
- ``{"n": [0.87, 12]}``: numbers, shown as written;
- ``{"ref": "nd-complaint", "c": 13, "rows": [...], "own": {...}}``: another layer's value
  (:func:`reference_column`).

Coordinates are integers of 1e-5 degree (about a metre, :func:`coord_ints`), sent as the
differences between consecutive rows (:func:`delta_coords`) after the rows are put in a
spatial order (:func:`spatial_order`): neighbours follow each other, so the differences are
small and the text of neighbours (serving cells, evidence) compresses well. Text is never
parsed as markup in the page: popups set it with ``textContent``.
"""
from __future__ import annotations

import base64
import json
import zlib

import numpy as np
import pandas as pd

from netdiag.views.sanitize import safe_json

SEP = "\x1f"
COORD_SCALE = 100_000  # integer coordinates: 1e-5 degree, about 1.1 m
_DICT_SHARE = 0.5  # dictionary-code a text column when at most this share of its values are distinct


def coord_ints(values) -> np.ndarray:
    """Degrees as integers of 1e-5 degree (missing as 0; callers drop unlocated rows first).

    Examples
    --------
    >>> coord_ints([114.123456, -0.000004]).tolist()
    [11412346, 0]
    """
    v = np.asarray(values, dtype=float)
    return np.where(np.isfinite(v), np.round(v * COORD_SCALE), 0).astype(np.int64)


def delta_coords(lon, lat) -> dict:
    """Integer coordinates as differences from the previous row (the first from 0).

    Examples
    --------
    >>> delta_coords([114.0, 114.00002], [22.5, 22.5])
    {'lon': [11400000, 2], 'lat': [2250000, 0]}
    """
    return {"lon": np.diff(coord_ints(lon), prepend=0).tolist(), "lat": np.diff(coord_ints(lat), prepend=0).tolist()}


def spatial_order(lon, lat, *, cell_deg: float = 0.0005) -> np.ndarray:
    """Row order along a Z-order (Morton) curve over a world grid of ``cell_deg`` (about 50 m): near rows
    end up together, and two layers' rows at one place end up in the same order.

    Examples
    --------
    >>> spatial_order([114.0, 120.0, 114.001, 120.001], [22.5, 30.0, 22.5, 30.0]).tolist()
    [0, 2, 1, 3]
    """
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    if len(lon) == 0:
        return np.zeros(0, dtype=np.int64)
    bits = 22  # 360 / 0.0005 = 720,000 cells < 2 ** 22
    x = np.nan_to_num(np.clip((lon + 180.0) / cell_deg, 0, 2 ** bits - 1)).astype(np.uint64)
    y = np.nan_to_num(np.clip((lat + 90.0) / cell_deg, 0, 2 ** bits - 1)).astype(np.uint64)
    key = np.zeros(len(x), dtype=np.uint64)
    for bit in range(bits):
        b = np.uint64(bit)
        key |= ((x >> b) & np.uint64(1)) << np.uint64(2 * bit)
        key |= ((y >> b) & np.uint64(1)) << np.uint64(2 * bit + 1)
    return np.argsort(key, kind="stable")


def _clean(values) -> np.ndarray:
    """Text values, missing as ``""``, with the separator removed."""
    s = pd.Series(values, dtype=object) if not isinstance(values, pd.Series) else values.astype(object)
    s = s.where(s.notna(), "").astype(str).to_numpy(dtype=object)
    if len(s) and SEP in "".join(s):  # one pass in C; rare
        s = pd.Series(s).str.replace(SEP, " ", regex=False).to_numpy(dtype=object)
    return s


def text_column(values) -> dict:
    """One text column: joined, or a dictionary and codes when values repeat.

    Examples
    --------
    >>> text_column(["a", "b", "a", "a"])
    {'d': 'a\\x1fb', 'i': [0, 1, 0, 0]}
    >>> text_column(["x", "y"])
    {'j': 'x\\x1fy'}
    """
    v = _clean(values)
    if len(v) == 0:
        return {"j": "", "n0": True}
    codes, uniques = pd.factorize(v)
    if len(uniques) <= _DICT_SHARE * len(v):
        return {"d": SEP.join(uniques), "i": codes.tolist()}
    return {"j": SEP.join(v)}


def _local_minutes(values, tz: str) -> np.ndarray:
    """Minutes since 1970-01-01 on the local wall clock of ``tz``, NaN when missing."""
    t = pd.to_datetime(pd.Series(values).reset_index(drop=True), utc=True)
    local = t.dt.tz_convert(tz).dt.tz_localize(None).dt.floor("min")
    return ((local - pd.Timestamp("1970-01-01")) // pd.Timedelta(minutes=1)).to_numpy(dtype=float)


def time_column(values, tz: str, *, after: tuple[int, object] | None = None) -> dict:
    """Times to the minute on the local wall clock of ``tz`` (as :func:`netdiag.data.times.format_times`).

    With ``after=(j, times)`` the minutes are counted from ``times``, the values of the popup's
    column ``j`` (``"r": j``): a due time a day after the complaint is ``1440`` in every row,
    which compresses far better than the time itself.

    Examples
    --------
    >>> time_column(pd.Series(["2026-11-02T10:00Z", None]), "Asia/Shanghai")
    {'m': [0, None], 'b': 29894040}
    >>> time_column(pd.Series(["2026-11-02T11:00Z"]), "UTC", after=(1, pd.Series(["2026-11-02T10:00Z"])))
    {'m': [60], 'b': 0, 'r': 1}
    """
    m = _local_minutes(values, tz)
    out = {}
    if after is not None:
        m = m - _local_minutes(after[1], tz)
        base, out = 0, {"r": after[0]}
    ok = ~np.isnan(m)
    if after is None:
        base = int(np.nanmin(m)) if ok.any() else 0
    rel = np.where(ok, m - base, 0).astype(np.int64)
    return {"m": [int(x) if k else None for x, k in zip(rel.tolist(), ok.tolist())], "b": base, **out}


def reference_column(values, *, layer: str, column: str | int, rows, strip_prefix: bool = False) -> dict:
    """Text that, in many rows, is another layer's value: those rows name the other layer's row.

    ``rows`` holds, for each row, the row of ``layer`` whose ``column`` (a popup column's
    number, or ``"id"``; ``strip_prefix`` drops ``complaint:``) has the same text, or -1. Sent as
    ``{"ref": layer, "c": column, "x": strip_prefix, "rows": [...], "own": text column}``: a
    row with its own text has ``null`` in ``rows`` and takes the next value of ``own``; the
    others have the difference from the previous such row (from -1), small when both layers
    are in :func:`spatial_order`. A ticket of one complaint repeats that complaint's evidence:
    this keeps one copy.

    Examples
    --------
    >>> reference_column(["a", "x", "b"], layer="L", column=2, rows=[4, -1, 6])["rows"]
    [5, None, 2]
    """
    rows = np.asarray(rows, dtype=np.int64)
    linked = rows >= 0
    own = np.asarray(_clean(values), dtype=object)[~linked]
    steps = np.diff(rows[linked], prepend=-1).tolist()
    out: list = [None] * len(rows)
    for place, step in zip(np.flatnonzero(linked).tolist(), steps):
        out[place] = step
    return {"ref": layer, "c": column, "x": bool(strip_prefix), "rows": out, "own": text_column(own)}


def number_column(values, *, digits: int | None = None) -> dict:
    """Numbers (missing as ``null``), rounded to ``digits`` decimals; integers stay integers."""
    v = pd.to_numeric(pd.Series(values).reset_index(drop=True), errors="coerce")
    if digits is not None:
        v = v.round(digits)
    ok = v.notna().to_numpy()
    arr = v.to_numpy(dtype=float)
    whole = ok & (arr == np.round(arr))
    out = [int(x) if w else (float(x) if k else None) for x, k, w in zip(arr.tolist(), ok.tolist(), whole.tolist())]
    return {"n": out}


def code_column(values, keys) -> list[int]:
    """Codes of ``values`` in the list ``keys`` (unknown values get the code ``len(keys)``)."""
    lookup = {k: i for i, k in enumerate(keys)}
    return pd.Series(values, dtype=object).map(lookup).fillna(len(keys)).astype(np.int64).tolist()


def pack(obj) -> str:
    """Columns as base64 text of zlib-compressed escaped JSON (no ``<``, ``>`` or ``&`` anywhere)."""
    return base64.b64encode(zlib.compress(safe_json(obj).encode("utf-8"), 6)).decode("ascii")


def unpack(text: str):
    """The object :func:`pack` was given (for tests and notebooks reading a saved map)."""
    return json.loads(zlib.decompress(base64.b64decode(text)).decode("utf-8"))


def column_values(col: dict, *, row_minutes=None, layers: dict | None = None) -> list:
    """A column's values as the page shows them (text; missing and empty as ``""``).

    ``row_minutes`` (the minutes of the column a relative time counts from) and ``layers``
    (every unpacked layer, for reference columns) are needed only by those kinds of column.

    Examples
    --------
    >>> column_values(text_column(["a", "", "a", "a"]))
    ['a', '', 'a', 'a']
    >>> column_values(time_column(pd.Series(["2026-11-02T10:00Z"]), "UTC"))
    ['2026-11-02 10:00']
    """
    if "d" in col:
        words = col["d"].split(SEP)
        return [words[i] for i in col["i"]]
    if "j" in col:
        return [] if col.get("n0") else col["j"].split(SEP)
    if "m" in col:
        minutes = column_minutes(col, row_minutes)
        epoch = pd.Timestamp("1970-01-01")
        return ["" if m is None else (epoch + pd.Timedelta(minutes=m)).strftime("%Y-%m-%d %H:%M") for m in minutes]
    if "ref" in col:
        other = layers[col["ref"]]
        source = other["id"] if col["c"] == "id" else other["p"][col["c"]]
        values = column_values(source)
        if col["x"]:
            values = [v.partition(":")[2] for v in values]
        own = iter(column_values(col["own"]))
        out, row = [], -1
        for step in col["rows"]:
            if step is None:
                out.append(next(own))
            else:
                row += step
                out.append(values[row])
        return out
    return ["" if v is None else str(v) for v in col["n"]]


def column_minutes(col: dict, row_minutes=None) -> list:
    """A time column's minutes since 1970 (None when missing); a relative one needs ``row_minutes``."""
    if "r" in col:
        return [None if m is None or b is None else b + m for m, b in zip(col["m"], row_minutes)]
    return [None if m is None else col["b"] + m for m in col["m"]]
