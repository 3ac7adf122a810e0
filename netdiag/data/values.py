"""Small column helpers shared by the stages."""
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
