"""Column and scalar helpers shared by every layer: texts joined per group, plain Python scalars."""
from __future__ import annotations

import numpy as np
import pandas as pd


def join_groups(keys, values, sep: str = ";") -> pd.Series:
    """Join the text ``values`` of each group of ``keys`` with ``sep``, keeping their order.

    Vectorised (``numpy.add.reduceat`` over object arrays) instead of a Python function per
    group; ``keys`` need not be sorted. Returns a Series indexed by the distinct keys.

    Examples
    --------
    >>> join_groups(["a", "b", "a"], ["1", "2", "3"]).to_dict()
    {'a': '1;3', 'b': '2'}
    """
    keys = pd.Series(keys).reset_index(drop=True)
    values = pd.Series(values).reset_index(drop=True).astype(str).to_numpy(dtype=object)
    if len(keys) == 0:
        return pd.Series(dtype=object)
    codes, uniques = pd.factorize(keys, sort=False)
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    joined = np.add.reduceat(values[order] + sep, starts)
    return pd.Series([j[: -len(sep)] if sep else j for j in joined], index=pd.Index(uniques)[sorted_codes[starts]])


def text_or_empty(values) -> pd.Series:
    """Values as text for people, missing ones as ``""`` (keeps a Series' index).

    Examples
    --------
    >>> text_or_empty(pd.Series(["a", None, float("nan"), 3])).tolist()
    ['a', '', '', '3']
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    return s.astype("str").where(s.notna(), "")


def plain(value):
    """A numpy / pandas scalar as the plain Python value JSON and sqlite3 take.

    Missing values (None, NaN, ``pd.NA``, ``NaT``) become None; numpy integers, floats and
    booleans become ``int``, ``float`` and ``bool``; timestamps become UTC ISO 8601 text
    (:func:`netdiag.data.times.iso_utc`); anything else is returned as it is.

    Examples
    --------
    >>> plain(np.int64(3)), plain(np.float32(0.5)), plain(float("nan")), plain(pd.NaT)
    (3, 0.5, None, None)
    >>> plain(pd.Timestamp("2026-11-02 18:00", tz="Asia/Shanghai"))
    '2026-11-02T10:00:00Z'
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        from netdiag.data.times import iso_utc

        return iso_utc(value)
    return value
