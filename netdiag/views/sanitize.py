"""Untrusted text on its way out: CSV formula neutralising and HTML escaping.

Text from the data (complaint descriptions, OMC details, names) is untrusted. Every file
netdiag writes goes through these: a CSV cell that starts with ``=``, ``+``, ``-``, ``@`` (or a
tab / carriage return) gets a leading apostrophe so no spreadsheet runs it as a formula, and
text placed in HTML is escaped. Customer numbers are masked earlier, as soon as they are read
into a diagnosis (:mod:`netdiag.data.privacy`).
"""
from __future__ import annotations

import html
import json
import re
from typing import Any

import numpy as np
import pandas as pd

from netdiag.views.terminal import terminal_safe

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: characters written as visible escapes in every output (line breaks and tabs inside a cell stay)
CONTROL = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def csv_cell(value):
    """Neutralise one cell: text that a spreadsheet would run as a formula gets a leading ``'``.

    Plain negative numbers (``-3.5``) are left alone: they are numbers, not formulas.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.match(value):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text columns are safe to open in Excel or LibreOffice, or to ``cat``: a
    formula gets a leading ``'``; a control character (other than a line break or tab inside a
    cell) or a direction override is written as a visible ``\u001b``-style escape."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            text = s.astype("str")
            risky = text.str.startswith(_FORMULA_START).fillna(False) & ~text.str.match(_NUMBER.pattern).fillna(False)
            control = text.str.contains(CONTROL, regex=True).fillna(False) & s.notna()
            if risky.any() or control.any():
                s = s.astype(object)
                s[control] = [terminal_safe(v) for v in s[control]]
                s[risky] = "'" + s[risky].astype(str)
                out[col] = s
    return out


def escape_html(value) -> str:
    """HTML-escape any value (``None``/NaN -> empty)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return html.escape(terminal_safe(str(value)), quote=True)  # a direction override would reorder the page


def safe_json(obj: Any) -> str:
    """JSON that is safe inside ``<script>``: ``<``, ``>``, ``&`` and line separators escaped.

    Examples
    --------
    >>> safe_json({"d": "</script><b>"})
    '{"d":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e"}'
    >>> safe_json({"d": "{{ 7*7 }} {% x %}"})
    '{"d":"\\\\u007b{ 7*7 }} \\\\u007b% x %}"}'
    """
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    text = (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    # branca compiles a layer's rendered script as a Jinja template once more: a "{{", "{%" or "{#"
    # from the data would run there. JSON's own braces are never followed by one of those (a key
    # is a string), so each such "{" is inside a string, where \u007b means the same
    return _JINJA_OPEN.sub(r"\\u007b", text)


_JINJA_OPEN = re.compile(r"\{(?=[{%#])")
