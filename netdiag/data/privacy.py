"""Personal data: customer numbers are masked wherever they leave the raw input.

A complaint's ``customer_id`` is personal data (DOMAIN.md: always desensitised). netdiag masks
it as soon as a diagnosis is built, so no output, map, log or store ever holds it whole.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def mask_customer(value) -> str:
    """``13812345678`` -> ``138****5678``; short ids keep only their last character visible.

    Examples
    --------
    >>> mask_customer("13812345678")
    '138****5678'
    >>> mask_customer("")
    ''
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    text = str(value).strip()
    if len(text) >= 7:
        return text[:3] + "****" + text[-4:]
    if len(text) > 1:
        return "*" * (len(text) - 1) + text[-1]
    return "*" * len(text)


def mask_series(series: pd.Series) -> pd.Series:
    """:func:`mask_customer` over a column (keeps the index)."""
    text = series.astype("str").where(series.notna(), "")
    masked = text.str.slice(0, 3) + "****" + text.str.slice(-4)
    short = text.str.len() < 7
    if short.any():
        masked[short] = text[short].map(mask_customer)
    return masked.where(text != "", "")
