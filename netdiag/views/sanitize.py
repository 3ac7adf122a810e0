"""Untrusted text on its way out: CSV formula neutralising and HTML escaping.

Text from the data (complaint descriptions, OMC details, names) is untrusted. Every file
netdiag writes goes through these: a CSV cell that starts with ``=``, ``+``, ``-``, ``@`` (or a
tab / carriage return) gets a leading apostrophe so no spreadsheet runs it as a formula, and
text placed in HTML is escaped. Customer numbers are masked earlier, as soon as they are read
into a diagnosis (:mod:`netdiag.data.privacy`).
"""
from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def csv_cell(value):
    """Neutralise one cell: text that a spreadsheet would run as a formula gets a leading ``'``.

    Plain negative numbers (``-3.5``) are left alone: they are numbers, not formulas.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.match(value):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text columns are safe to open in Excel or LibreOffice."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            text = s.astype("str")
            risky = text.str.startswith(_FORMULA_START).fillna(False) & ~text.str.match(_NUMBER.pattern).fillna(False)
            if risky.any():
                s = s.astype(object)
                s[risky] = "'" + text[risky]
                out[col] = s
    return out


def escape_html(value) -> str:
    """HTML-escape any value (``None``/NaN -> empty)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return html.escape(str(value), quote=True)
