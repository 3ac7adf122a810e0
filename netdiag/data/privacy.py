"""Personal data: customer numbers are masked wherever they leave the raw input.

A complaint's ``customer_id`` is personal data (DOMAIN.md: always desensitised). netdiag masks
it as soon as a diagnosis is built, so no output, map, log or store ever holds it whole; phone
numbers that customers or operators typed into free text (complaint descriptions) are masked
the same way.

The rule
--------
Of a number, at most its last 4 characters stay readable, and never more than half of them:
``13812345678`` -> ``*******5678``, ``12345678`` -> ``****5678``, ``1234567`` -> ``****567``,
``12345`` -> ``***45``, ``7`` -> ``*``. The length stays visible, so a handler can still confirm
"the number ending in 5678" with the customer. In free text, a run of at least 7 digits (spaces,
dashes, dots and brackets between them allowed, a leading ``+`` too) is a phone number, unless
it reads as a date (``2026-11-02 18``): its digits are masked by the same rule and the
separators kept (``+86 138-1234-5678`` -> ``+** ***-****-5678``).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

#: at most this many characters of a number stay readable (and never more than half)
VISIBLE = 4
#: the shortest digit run in free text taken for a phone number
PHONE_DIGITS = 7
#: what people type between the digits of a phone number: spaces (also the ideographic one),
#: dashes and dashes of other widths, dots, slashes, underscores, commas, brackets
_SEPARATORS = " \u3000().\\-/_,\u2010-\u2015\uff0d"
_PHONE = re.compile(r"(?<!\d)\+?\d(?:[%s]{0,3}\d){%d,}(?!\d)" % (_SEPARATORS, PHONE_DIGITS - 1))
_GROUPS = re.compile(r"\d+")


def visible_count(length: int) -> int:
    """How many trailing characters of a ``length``-character number stay readable."""
    return min(VISIBLE, length // 2)


def mask_customer(value) -> str:
    """One customer number, masked by the rule above; missing -> ``""``.

    Examples
    --------
    >>> mask_customer("13812345678"), mask_customer("1234567"), mask_customer("42"), mask_customer(None)
    ('*******5678', '****567', '*2', '')
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    text = str(value).strip()
    keep = visible_count(len(text))
    return "*" * (len(text) - keep) + (text[len(text) - keep:] if keep else "")


def mask_series(series: pd.Series) -> pd.Series:
    """:func:`mask_customer` over a column (keeps the index); one string operation per distinct length."""
    text = series.astype("str").where(series.notna(), "").str.strip()
    lengths = text.str.len()
    out = pd.Series("", index=series.index, dtype=object)
    for length in pd.unique(lengths[lengths > 0]):
        rows = lengths == length
        keep = visible_count(int(length))
        tail = text[rows].str.slice(int(length) - keep) if keep else ""
        out[rows] = "*" * (int(length) - keep) + tail
    return out


def _looks_like_a_date(run: str) -> bool:
    """``2026-11-02``, ``2026/11/02 18``, ``9999-12-31``: a four-digit year written with date
    punctuation (``-``, ``/``, ``.``), then groups of at most two digits; not a phone number.
    Spaced groups (``1381 23 45 67``) or a leading zero (``0612 34 56 78``) read as a number."""
    groups = _GROUPS.findall(run)
    if not 2 <= len(groups) <= 6 or len(groups[0]) != 4 or groups[0][0] == "0":
        return False
    after_year = run[run.index(groups[0]) + 4:run.index(groups[1], run.index(groups[0]) + 4)]
    return after_year in ("-", "/", ".") and all(len(g) <= 2 for g in groups[1:])


def _mask_digits(match: re.Match) -> str:
    run = match.group(0)
    if _looks_like_a_date(run):
        return run
    digits = sum(ch.isdigit() for ch in run)
    hide = digits - visible_count(digits)
    out = []
    for ch in run:
        if ch.isdigit() and hide > 0:
            out.append("*")
            hide -= 1
        else:
            out.append(ch)
    return "".join(out)


def mask_phone_numbers(text):
    """Free text with every phone-like number masked (see the module docstring); non-text passes through.

    Examples
    --------
    >>> mask_phone_numbers("call me on 138 1234 5678 after 6pm, room 1203")
    'call me on *** **** 5678 after 6pm, room 1203'
    """
    if not isinstance(text, str) or not any(ch.isdigit() for ch in text):
        return text
    return _PHONE.sub(_mask_digits, text)


def mask_text_series(series: pd.Series) -> pd.Series:
    """:func:`mask_phone_numbers` over a column of free text (keeps the index and missing values)."""
    has_digits = series.astype("str").str.contains(r"\d", regex=True, na=False) & series.notna()
    if not has_digits.any():
        return series
    out = series.astype(object).copy()
    out[has_digits] = [mask_phone_numbers(v) for v in series[has_digits]]
    return out
