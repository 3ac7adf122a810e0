"""Timestamps in and out: one home for parsing times people type and formatting times people read.

Inside netdiag every timestamp is UTC (``datetime64[ns, UTC]``). This module turns what a
person gives (``--at``, ``--from``, ``--date``) into UTC, and UTC back into text:

- :func:`iso_utc`: machine text, ``2026-11-02T10:00:00Z`` (stores, CSV, JSON);
- :func:`format_times` / :func:`when_text`: short text for people, ``2026-11-02 10:00Z`` in
  UTC or ``2026-11-02 18:00`` in a local zone (the display zone of :mod:`netdiag.data.display`,
  named once at the top of each page);
- :func:`parse_time`, :func:`parse_at`, :func:`parse_day`: times and days given as options;
- :func:`period_mask`, :func:`check_period`: ``[start, end)`` periods;
- :func:`hours_since_epoch`, :func:`as_ns`: times as numbers for column work.

Error messages name the parameter in backticks; the CLI shows its own flag in its place.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from netdiag.data.display import tzinfo
from netdiag.errors import InputError

UTC_NAMES = ("UTC", "Etc/UTC")
#: machine text of a UTC timestamp (CSV, JSON, the ticket store)
ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"
#: the first and last instants netdiag handles (pandas' nanosecond timestamps); others are rejected
EARLIEST = pd.Timestamp("1678-01-01", tz="UTC")
LATEST = pd.Timestamp("2261-12-31", tz="UTC")
_NAT = np.iinfo(np.int64).min


# ----------------------------------------------------------------------------- formatting
def iso_utc(value) -> str | None:
    """A timestamp as UTC ISO 8601 text (``2026-11-02T10:00:00Z``); None for missing values.

    Naive values are taken as UTC.

    Examples
    --------
    >>> iso_utc("2026-11-02T18:00+08:00")
    '2026-11-02T10:00:00Z'
    >>> iso_utc(None) is None
    True
    """
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    ts = pd.Timestamp(value)
    if pd.isna(ts):
        return None
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.strftime(ISO_UTC)


def iso_utc_list(values) -> list[str | None]:
    """:func:`iso_utc` over a column at once (naive values are UTC), missing values as None."""
    t = pd.to_datetime(pd.Series(values), utc=True)
    return t.dt.strftime(ISO_UTC).astype(object).where(t.notna(), None).tolist()


def now_iso() -> str:
    """The current moment as :func:`iso_utc` text."""
    return iso_utc(pd.Timestamp.now(tz="UTC"))


def format_times(values, tz: str | None = None) -> pd.Series:
    """Timestamps as short text for people, missing ones as ``""`` (keeps a Series' index).

    Without ``tz`` the text is UTC and says so (``2026-11-02 10:00Z``); with ``tz`` it is the
    local time there (``2026-11-02 18:00``): one pandas conversion for the whole column. ``tz``
    is a zone name of :func:`netdiag.data.display.check_zone` (``UTC+08:00`` too).

    Examples
    --------
    >>> format_times(pd.Series(["2026-11-02T10:00Z", None])).tolist()
    ['2026-11-02 10:00Z', '']
    >>> format_times(pd.Series(["2026-11-02T10:00Z"]), "Asia/Shanghai").tolist()
    ['2026-11-02 18:00']
    """
    s = pd.to_datetime(values if isinstance(values, pd.Series) else pd.Series(values), utc=True)
    if tz:
        return s.dt.tz_convert(tzinfo(tz)).dt.strftime("%Y-%m-%d %H:%M").fillna("")
    return s.dt.strftime("%Y-%m-%d %H:%MZ").fillna("")


def when_text(value, tz: str = "UTC") -> str:
    """One timestamp for a person: ``2026-11-02 10:00Z`` in UTC, ``2026-11-02 18:00`` in local time.

    Examples
    --------
    >>> when_text("2026-11-02T10:00Z"), when_text("2026-11-02T10:00Z", "Asia/Shanghai")
    ('2026-11-02 10:00Z', '2026-11-02 18:00')
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return format_times(pd.Series([value]), None if tz in UTC_NAMES else tz).iloc[0]


# ----------------------------------------------------------------------------- parsing
def parse_time(value, *, tz: str = "UTC", name: str = "time", end: bool = False) -> pd.Timestamp | None:
    """A point in time given by a person, as a UTC timestamp (None when not given).

    Text is read exactly like the data's own timestamps (:func:`netdiag.data.convert.to_time`):
    ISO 8601 only, an offset (``+08:00``, ``Z``) is that instant, a naive time is local to ``tz``.

    Parameters
    ----------
    value : str, datetime, date, Timestamp or None
    tz : str
        Time zone of naive values.
    name : str
        The parameter's name for error messages (``start``, ``at`` ...).
    end : bool
        A date without a time means the *end* of that day (the start of the next one), so that
        ``--to 2026-11-05`` includes the 5th.

    Returns
    -------
    Timestamp or None

    Raises
    ------
    InputError
        When ``value`` is not an ISO 8601 time, is lost to a daylight-saving change in ``tz``,
        or lies outside the years 1678-2261.

    Examples
    --------
    >>> parse_time("2026-11-05", tz="Asia/Shanghai", end=True)
    Timestamp('2026-11-05 16:00:00+0000', tz='UTC')
    """
    from netdiag.data.convert import parses_as_time, to_time

    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    date_only = isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    text = value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else str(value).strip()
    if isinstance(value, str):
        date_only = len(text) == 10 and text[4] == "-" and text[7] == "-"
    if date_only:  # a day: its first moment (midnight, or the first that exists on a daylight-saving day)
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            day = None
        if day is not None and EARLIEST.date() < day < LATEST.date():
            return day_start(day + dt.timedelta(days=1) if end else day, tz)
    values, bad, dst = to_time(pd.Series([text]), tz)
    if dst[0]:
        raise InputError(f"`{name}` was {value!r}, which does not exist or is ambiguous in {tz} "
                         f"(daylight-saving change); give it with an offset")
    if bad[0] or pd.isna(values[0]):
        if parses_as_time(text):
            raise InputError(f"`{name}` was {value!r}, outside the years {EARLIEST.year}-{LATEST.year} that netdiag handles")
        raise InputError(f"`{name}` was {value!r} but is expected to be an ISO 8601 time such as "
                         f"2026-11-05T08:00, 2026-11-05T08:00+08:00 or 2026-11-05")
    return values[0]


def parse_at(text: str | None, tz: str, *, name: str = "at") -> pd.Timestamp:
    """The moment a handler asks about, as UTC (:func:`parse_time`); ``None`` or empty = now."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return pd.Timestamp.now(tz="UTC").floor("s")
    return parse_time(text, tz=tz, name=name)


def parse_day(text: str | dt.date | None, *, name: str = "date") -> dt.date | None:
    """``YYYY-MM-DD`` -> date (None stays None).

    Raises
    ------
    InputError
        Naming what came.

    Examples
    --------
    >>> parse_day("2026-11-03")
    datetime.date(2026, 11, 3)
    """
    if text is None:
        return None
    if isinstance(text, dt.date):
        text = text.isoformat()
    try:
        day = dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise InputError(f"`{name}` was {text!r} but is expected to be a day like 2026-11-03") from None
    if not EARLIEST.date() <= day <= LATEST.date():
        raise InputError(f"`{name}` was {text!r}, outside the years {EARLIEST.year}-{LATEST.year} that netdiag handles")
    return day


# ----------------------------------------------------------------------------- local days
def day_start(day: dt.date, tz: str = "UTC", hours: float = 0.0) -> pd.Timestamp:
    """The first moment of the local day ``day`` in ``tz``, as UTC: its midnight, or the first
    moment that exists when a daylight-saving change skips midnight (America/Santiago on
    2026-09-06 starts at 01:00). With ``hours``, that time of the day by the wall clock
    (``hours=9``: 09:00 local, whatever the day's length).

    Examples
    --------
    >>> day_start(dt.date(2026, 9, 6), "America/Santiago")
    Timestamp('2026-09-06 04:00:00+0000', tz='UTC')
    >>> day_start(dt.date(2026, 11, 5), "Asia/Shanghai")
    Timestamp('2026-11-04 16:00:00+0000', tz='UTC')
    """
    naive = pd.Timestamp(dt.datetime(day.year, day.month, day.day)) + pd.Timedelta(hours=hours)
    return naive.tz_localize(tzinfo(tz), nonexistent="shift_forward", ambiguous=True).tz_convert("UTC")


def local_days(start, end, tz: str = "UTC") -> list[str]:
    """The local days (``YYYY-MM-DD``, in ``tz``) from the one holding ``start`` to the one holding
    ``end``, both included; counted on the calendar, never by localising a midnight."""
    zone = tzinfo(tz)
    first = pd.Timestamp(start).tz_convert(zone).date()
    last = pd.Timestamp(end).tz_convert(zone).date()
    return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


# ----------------------------------------------------------------------------- periods and numbers
def period_mask(times: pd.Series, start: pd.Timestamp | None, end: pd.Timestamp | None) -> np.ndarray:
    """``start <= t < end`` (either bound may be None)."""
    t = pd.to_datetime(times, utc=True)
    keep = np.ones(len(t), dtype=bool)
    if start is not None:
        keep &= (t >= start).to_numpy(dtype=bool, na_value=False)
    if end is not None:
        keep &= (t < end).to_numpy(dtype=bool, na_value=False)
    return keep


def check_period(start: pd.Timestamp | None, end: pd.Timestamp | None, *, names: tuple[str, str] = ("start", "end")) -> None:
    """Raise InputError when ``start`` is not before ``end``."""
    if start is not None and end is not None and start >= end:
        raise InputError(f"`{names[0]}` ({when_text(start)}) must be before `{names[1]}` ({when_text(end)})")


def hours_since_epoch(times: pd.Series) -> np.ndarray:
    """UTC timestamps as hours since 1970 (floats), for distance-in-time work."""
    return pd.to_datetime(times, utc=True).dt.as_unit("ns").astype("int64").to_numpy() / 3.6e12


def _as_ns(values) -> np.ndarray:
    """UTC timestamps as int64 nanoseconds (NaT -> the smallest int64), without object arrays."""
    index = pd.DatetimeIndex(pd.to_datetime(pd.Series(values).reset_index(drop=True), utc=True))
    return index.as_unit("ns").asi8


def overlaps(start, end, w_start, w_end) -> np.ndarray:
    """Interval ``[start, end)`` (end NaT = open) overlaps window ``[w_start, w_end)``, element-wise."""
    e = _as_ns(end)
    e = np.where(e == _NAT, np.iinfo(np.int64).max, e)
    return (_as_ns(start) < _as_ns(w_end)) & (e > _as_ns(w_start))
