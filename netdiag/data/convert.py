"""Column converters: raw columns in, typed columns and masks of unusable values out.

Each converter takes one column as read (text from CSV, or typed from Parquet / GeoPackage)
and returns the values in the contract's type plus a mask of the values given but unusable,
working on whole columns through Arrow kernels and numpy (never row by row).
:mod:`netdiag.data.validate` turns the masks into rejections with reasons.
"""
from __future__ import annotations

import re
from netdiag.data.display import tzinfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from netdiag.data.schema import BOOL_WORDS

PARALLEL_ROWS = 200_000  # tables at least this long convert their columns in threads
_NUMBER = r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$"
#: an offset after a time of day (``...T18:30+08:00``, ``... 18:30Z``); a date's ``-05`` is not one
_OFFSET = re.compile(r"[T ]\d{1,2}(?::?\d{2}){0,2}(?:[.,]\d+)?\s*(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$")


def arrow_strings(series: pd.Series) -> pa.ChunkedArray | None:
    """The Arrow string data behind a column, when there is one (zero copy)."""
    arr = series.array
    if hasattr(arr, "__arrow_array__") and pd.api.types.is_string_dtype(series.dtype):
        data = arr.__arrow_array__()
        return data if isinstance(data, pa.ChunkedArray) else pa.chunked_array([data])
    return None


def is_missing(series: pd.Series) -> np.ndarray:
    """True where a value is not given (null, empty, or only blanks)."""
    data = arrow_strings(series)
    if data is not None:
        blank = pc.or_kleene(pc.equal(pc.utf8_length(data), 0), pc.utf8_is_space(data))
        return pc.fill_null(pc.or_kleene(pc.is_null(data), blank), True).to_numpy(zero_copy_only=False).astype(bool)
    missing = series.isna().to_numpy()
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        text = series.astype("str").str.strip()
        missing = missing | (text == "").to_numpy()
    return missing


def to_float(series: pd.Series, missing: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(float values, mask of given-but-not-numeric). Fast path through Arrow for clean columns."""
    if pd.api.types.is_bool_dtype(series.dtype):
        series = series.astype(float)
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype=float, na_value=np.nan), np.zeros(len(series), dtype=bool)
    data = arrow_strings(series)
    if data is None:
        data = pa.chunked_array([pa.array(series.to_numpy(dtype=object, na_value=None), type=pa.string(), from_pandas=True)])
    try:
        # a clean column casts in one pass; blanks would have failed the cast, so missing = null
        values = pc.fill_null(pc.cast(data, pa.float64()), np.nan).to_numpy().astype(float)
        return values, np.zeros(len(series), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        pass
    if missing is None:
        missing = is_missing(series)
    # some values are not numbers: find them with one regular expression pass, cast the rest
    trimmed = pc.utf8_trim_whitespace(data)
    numeric = pc.fill_null(pc.match_substring_regex(trimmed, _NUMBER), False).to_numpy(zero_copy_only=False).astype(bool)
    only_numbers = pc.if_else(pa.array(numeric), trimmed.combine_chunks(), None)
    values = np.asarray(pc.fill_null(pc.cast(only_numbers, pa.float64()), np.nan).to_numpy(zero_copy_only=False), dtype=float)
    bad = ~missing & ~numeric
    # 'nan', 'inf' typed by a person are not numbers we can use either
    bad |= ~missing & ~np.isfinite(np.where(np.isnan(values), 0.0, values))
    values = np.where(bad, np.nan, values)
    return values, bad


def to_bool(series: pd.Series, missing: np.ndarray | None = None) -> tuple[pd.Series, np.ndarray]:
    """(nullable boolean Series, mask of given-but-not-boolean)."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("boolean").reset_index(drop=True), np.zeros(len(series), dtype=bool)
    if missing is None:
        missing = is_missing(series)
    text = series.astype("str").str.strip().str.lower()
    if pd.api.types.is_numeric_dtype(series.dtype):
        text = series.map(lambda v: "1" if v == 1 else "0" if v == 0 else str(v)).astype("str")
    mapped = text.map(BOOL_WORDS)
    bad = ~missing & mapped.isna().to_numpy()
    out = pd.Series(pd.array(mapped.where(~missing & ~bad).tolist(), dtype="boolean"))
    return out, bad


_EXCEL_TEXT = r'^="(.*)"$'


def _unwrap_excel(data: pa.ChunkedArray) -> pa.ChunkedArray:
    """``="001"`` (Excel's way to keep a text's leading zeros) is the id ``001``."""
    if not pc.any(pc.starts_with(data, '="')).as_py():
        return data
    return pc.replace_substring_regex(data, _EXCEL_TEXT, r"\1")


def to_id(series: pd.Series, missing: np.ndarray | None = None) -> pd.Series:
    """Ids as exact strings; missing stays missing. Integers from typed files lose no digits;
    Excel's ``="001"`` is ``001``."""
    if pd.api.types.is_integer_dtype(series.dtype) or pd.api.types.is_float_dtype(series.dtype):
        def conv(v):
            if pd.isna(v):
                return None
            return str(int(v)) if float(v).is_integer() else str(v)
        series = series.map(conv)
    if missing is None:
        missing = is_missing(series)
    series = series.reset_index(drop=True)
    data = arrow_strings(series)
    if data is not None and len(series) >= PARALLEL_ROWS:
        # millions of rows, thousands of ids (load's cell_id): codes, not strings, from here on
        enc = pc.dictionary_encode(data).combine_chunks()
        codes = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        names, codes_of_names = enc.dictionary, np.arange(len(enc.dictionary))
        unwrapped = _unwrap_excel(pa.chunked_array([names]))
        if unwrapped is not names and not unwrapped.equals(pa.chunked_array([names])):
            codes_of_names, uniques = pd.factorize(pd.Series(unwrapped.to_pylist(), dtype=object))
            names = pa.array(list(uniques), type=pa.string())
        codes = np.where(codes < 0, -1, codes_of_names[np.maximum(codes, 0)])
        codes[missing] = -1
        categories = pd.Index(names.to_pylist(), dtype=object)
        return pd.Series(pd.Categorical.from_codes(codes, categories=categories))
    if data is None:
        series = series.astype("str")
        data = arrow_strings(series.astype(pd.StringDtype("pyarrow", na_value=np.nan)))
    unwrapped = _unwrap_excel(data)
    if unwrapped is not data:
        series = pd.Series(pd.array(unwrapped, dtype=pd.StringDtype("pyarrow", na_value=np.nan)))
    out = series.astype(pd.StringDtype("pyarrow", na_value=np.nan))
    return out.where(~missing) if missing.any() else out


def to_time(series: pd.Series, tz: str, missing: np.ndarray | None = None) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """ISO 8601 text -> UTC timestamps.

    A timestamp with an offset (``+08:00``, ``Z``) is exactly that instant; a naive one is read
    in ``tz``. Parses each distinct value once (load tables repeat a few hundred timestamps).

    Returns
    -------
    (values, bad, dst) : (Series[datetime64[ns, UTC]], ndarray, ndarray)
        ``bad``: given but not ISO 8601; ``dst``: a local time that does not exist or is
        ambiguous in ``tz`` (a daylight-saving change).
    """
    n = len(series)
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return (series.dt.tz_convert("UTC").dt.as_unit("ns").reset_index(drop=True),
                np.zeros(n, dtype=bool), np.zeros(n, dtype=bool))
    if pd.api.types.is_datetime64_dtype(series.dtype):
        local = series.dt.tz_localize(tzinfo(tz), ambiguous="NaT", nonexistent="NaT")
        dst = local.isna().to_numpy() & ~series.isna().to_numpy()
        return local.dt.tz_convert("UTC").dt.as_unit("ns").reset_index(drop=True), np.zeros(n, dtype=bool), dst
    if missing is None:
        missing = is_missing(series)
    data = arrow_strings(series)
    if data is not None:
        # each distinct text once: load tables repeat a few hundred timestamps millions of times
        enc = pc.dictionary_encode(pc.if_else(pa.array(missing), None, data)).combine_chunks()
        codes = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        u = pd.Series(enc.dictionary.to_pylist(), dtype="str").str.strip()
    else:
        codes, uniques = pd.factorize(series.astype("str").str.strip().where(~missing), use_na_sentinel=True)
        u = pd.Series(uniques, dtype="str")
    aware = u.str.contains(_OFFSET).fillna(False).to_numpy(dtype=bool)
    parsed = pd.Series(pd.NaT, index=u.index, dtype="datetime64[ns, UTC]")
    if aware.any():
        parsed[aware] = _in_range(pd.to_datetime(u[aware], format="ISO8601", errors="coerce", utc=True))
    dst_u = np.zeros(len(u), dtype=bool)
    if (~aware).any():
        naive = _in_range(pd.to_datetime(u[~aware], format="ISO8601", errors="coerce"), naive=True)
        local = naive.dt.tz_localize(tzinfo(tz), ambiguous="NaT", nonexistent="NaT")
        dst_u[~aware] = (local.isna() & naive.notna()).to_numpy()
        parsed[~aware] = local.dt.tz_convert("UTC").dt.as_unit("ns")
    bad_u = parsed.isna().to_numpy() & ~dst_u
    take = np.where(codes < 0, 0, codes)
    if len(u):
        values = pd.Series(pd.DatetimeIndex(parsed).take(take))
        if (codes < 0).any():
            values[codes < 0] = pd.NaT
        bad = np.where(codes < 0, False, bad_u[take])
        dst = np.where(codes < 0, False, dst_u[take])
    else:
        values = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns, UTC]")
        bad = np.zeros(n, dtype=bool)
        dst = np.zeros(n, dtype=bool)
    return values.astype("datetime64[ns, UTC]"), bad, dst


def parses_as_time(text) -> bool:
    """True when ``text`` is an ISO 8601 timestamp, whatever its year (for the message only)."""
    try:
        return pd.notna(pd.to_datetime(str(text).strip(), format="ISO8601", utc=True))
    except (ValueError, OverflowError, pd.errors.OutOfBoundsDatetime):
        return False


def _in_range(values: pd.Series, *, naive: bool = False) -> pd.Series:
    """Parsed timestamps as nanoseconds; years outside 1678-2261 (e.g. ``9999-12-31``) become NaT."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("UTC") if not naive else values.dt.tz_convert(None)
    low = pd.Timestamp("1678-01-01", tz=None if naive else "UTC")
    high = pd.Timestamp("2261-12-31", tz=None if naive else "UTC")
    ok = values.notna() & (values >= low) & (values <= high)
    return values.where(ok).astype("datetime64[ns]" if naive else "datetime64[ns, UTC]")


def to_vocab(series: pd.Series, vocab: dict[str, str], missing: np.ndarray | None = None) -> tuple[pd.Series, np.ndarray]:
    """Canonical spellings; mask of given values outside the vocabulary."""
    if missing is None:
        missing = is_missing(series)
    key = series.astype("str").str.strip().str.lower()
    mapped = key.map(vocab)
    bad = ~missing & mapped.isna().to_numpy()
    return mapped.where(~missing & ~bad).reset_index(drop=True), bad


def to_text(series: pd.Series, missing: np.ndarray | None = None) -> pd.Series:
    missing = is_missing(series) if missing is None else missing
    out = series.astype("str").reset_index(drop=True).where(~missing, None)
    return out.astype("str") if len(out) else out


def is_in(series: pd.Series, values: set) -> np.ndarray:
    """``series.isin(values)`` through Arrow for large string columns."""
    data = arrow_strings(series)
    if data is None:
        return series.isin(list(values)).to_numpy(dtype=bool)
    found = pc.is_in(data, value_set=pa.array(sorted(values), type=pa.string()))
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False).astype(bool)
