"""What every importer shares: finding the profile's columns, converting them column-wise, and
keeping account of every row (converted, or rejected with a reason) and every column (mapped,
defaulted, not used).
"""
from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from netdiag.data.csv_reader import ROW, UNREADABLE
from netdiag.errors import InputError
from netdiag.importers.profile import Profile, norm_header
from netdiag.importers.source import ALIASES

log = logging.getLogger(__name__)

REJECTED_COLUMNS = ["table", "row", "id", "reason"]
ISO = "%Y-%m-%dT%H:%M:%SZ"


def quoted(values: pd.Series, limit: int = 40) -> pd.Series:
    """Values cut for a reason text, in quotes."""
    text = values.astype(str)
    return "'" + text.where(text.str.len() <= limit, text.str.slice(0, limit) + "...") + "'"


@dataclass
class Job:
    """One piece of an export on its way to contract tables.

    ``frame`` holds the export's text columns and ``_row``; ``reasons`` is, per row, what is
    wrong with it (empty = fine so far); ``summary`` counts what was mapped and defaulted.
    """

    frame: pd.DataFrame
    profile: Profile
    table: str
    reasons: pd.Series = None
    summary: dict = field(default_factory=lambda: {"mapped": {}, "defaulted": {}, "unit_converted": {}})

    def __post_init__(self):
        self.frame = self.frame.reset_index(drop=True)
        self.reasons = pd.Series("", index=self.frame.index, dtype=object)
        aliases = self.frame.attrs.get(ALIASES) or {c: [c] for c in self.frame.columns}
        self._lookup = {}
        for col, names in aliases.items():
            for n in [col, *names]:
                self._lookup.setdefault(norm_header(n), col)

    # ----------------------------------------------------------------------------- columns
    def header(self, column: str) -> str | None:
        """The export's header that the profile maps ``column`` to (None when absent)."""
        for candidate in self.profile.columns.get(column, ()):
            found = self._lookup.get(norm_header(candidate))
            if found is not None:
                self.summary["mapped"][column] = found
                return found
        return None

    def require(self, *columns: str) -> None:
        """Refuse the file when one of ``columns`` is not found (a bad file, not bad rows)."""
        missing = [c for c in columns if self.header(c) is None]
        if missing:
            unmapped = [c for c in missing if not self.profile.columns.get(c)]
            if unmapped:
                c = unmapped[0]
                raise InputError(f"profile {self.profile.name} maps no header to `{c}`; add {c} = \"...\" to [columns]")
            found = [h for h in self.frame.columns if h != ROW][:25]
            wanted = "; ".join(f"[columns] {c} = " + " or ".join(repr(w) for w in self.profile.columns[c]) for c in missing)
            raise InputError(f"the export has no column {wanted} (profile {self.profile.name}); its columns are: "
                             f"{', '.join(found)}. If the header is not the export's first row, set [source] "
                             f"header_rows to the number of rows above the data; else add the export's name to "
                             f"[columns]")

    def text(self, column: str) -> pd.Series:
        """The column as stripped text, ``""`` where empty or not in the export."""
        header = self.header(column)
        if header is None:
            return pd.Series("", index=self.frame.index, dtype=object)
        return self.frame[header].fillna("").astype(str).str.strip()

    def label(self, column: str) -> str:
        header = self.header(column)
        return f"{header} ({column})" if header and header != column else column

    # ----------------------------------------------------------------------------- rows
    def reject(self, mask, reason) -> None:
        """Mark rows as rejected; ``reason`` is text or a Series of texts aligned with the frame."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        text = reason[mask] if isinstance(reason, pd.Series) else reason
        current = self.reasons[mask]
        self.reasons[mask] = np.where(current == "", text, current + "; " + text)

    @property
    def bad(self) -> np.ndarray:
        return (self.reasons != "").to_numpy()

    def rejected(self, ids: pd.Series) -> pd.DataFrame:
        """The rejected rows in the contract's format, plus the rows the reader could not read."""
        bad = self.bad
        out = pd.DataFrame({"table": self.table, "row": self.frame[ROW].to_numpy()[bad],
                            "id": ids.to_numpy()[bad], "reason": self.reasons.to_numpy()[bad]})
        unreadable = self.frame.attrs.get(UNREADABLE) or []
        if unreadable:
            extra = pd.DataFrame([{"table": self.table, "row": r, "id": i or "", "reason": reason}
                                  for r, i, _code, reason in unreadable])
            out = pd.concat([out, extra], ignore_index=True)
        return out

    def default(self, column: str, values: pd.Series, missing: np.ndarray) -> pd.Series:
        """Fill the profile's ``[defaults]`` value where ``missing``; count it."""
        if column not in self.profile.defaults or not missing.any():
            return values
        self.summary["defaulted"][column] = self.summary["defaulted"].get(column, 0) + int(missing.sum())
        out = values.astype(object).copy()
        out[missing] = self.profile.defaults[column]
        return out

    # ----------------------------------------------------------------------------- values
    def number(self, column: str, *, required: bool = False, lo: float | None = None,
               hi: float | None = None, below_hi: bool = False) -> np.ndarray:
        """The column as floats (NaN = empty), in the contract's unit; bad values reject their row.

        Full-width digits (``１０４.０５``) and degrees-minutes-seconds (``104°04'31.2"``) are
        read as numbers. A value that is not a number or is outside ``lo..hi`` rejects its row
        and is NaN in the result, so that nothing derived from the row (a site's position) uses it.
        """
        raw = self.text(column)
        empty = (raw == "").to_numpy()
        if empty.any() and column in self.profile.defaults:
            raw = raw.where(~empty, str(self.profile.defaults[column]))
            self.summary["defaulted"][column] = self.summary["defaulted"].get(column, 0) + int(empty.sum())
            empty = np.zeros(len(raw), bool)
        values = to_numbers(raw)
        bad = ~empty & ~np.isfinite(values)
        self.reject(bad, self.label(column) + " " + quoted(raw) + " is not a number")
        if required:
            self.reject(empty, f"{self.label(column)} missing")
        values = self._unit(column, values)
        not_power = ~empty & ~bad & np.isneginf(values)
        self.reject(not_power, self.label(column) + " " + quoted(raw) + " is not a positive power in mW")
        values = np.where(not_power, np.nan, values)
        ok = np.isfinite(values)
        if lo is not None or hi is not None:
            out = ok & ((values < lo) if lo is not None else False)
            if hi is not None:
                out |= ok & ((values >= hi) if below_hi else (values > hi))
            span = f"{lo:g}..{hi:g}" if lo is not None and hi is not None else (f">= {lo:g}" if lo is not None else f"<= {hi:g}")
            self.reject(out, self.label(column) + " " + quoted(raw) + f" outside {span}")
            values = np.where(out, np.nan, values)
        values = np.where(bad, np.nan, values)
        return values

    def azimuth(self, column: str = "azimuth_deg") -> np.ndarray:
        """Azimuths in 0..360 (360 excluded): ``360`` is ``0`` and ``-360 <= x < 0`` is ``x + 360``,
        counted in the summary's ``converted``; anything else outside 0..360 rejects its row."""
        values = self.number(column, lo=-360, hi=360)
        wrap = np.isfinite(values) & ((values < 0) | (values == 360))
        if wrap.any():
            values = np.where(wrap, np.mod(values, 360.0), values)
            self.note(column, int(wrap.sum()), "wrapped into 0..360 (360 -> 0, -10 -> 350)")
        return values

    def position(self, lat_col: str = "lat", lon_col: str = "lon", *, required: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(lat, lon) from two columns: a pair written the other way round (latitude beyond 90
        where the longitude fits one) is swapped and counted; ``0, 0`` (a placeholder, not a
        place) rejects its row."""
        lat = self.number(lat_col, required=required)
        lon = self.number(lon_col, required=required)
        shown = quoted(self.text(lat_col) + ", " + self.text(lon_col))
        return self.fix_position(lat, lon, self.label(lat_col) + " / " + self.label(lon_col), shown)

    def fix_position(self, lat: np.ndarray, lon: np.ndarray, label: str, shown: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """The checks of :meth:`position` on two arrays of numbers (NaN = not given); ``shown`` is
        the quoted text of each row for the reasons."""
        lat, lon = np.asarray(lat, float), np.asarray(lon, float)
        swapped = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) > 90) & (np.abs(lat) <= 180) & (np.abs(lon) <= 90)
        if swapped.any():
            lat, lon = np.where(swapped, lon, lat), np.where(swapped, lat, lon)
            self.note("lat/lon", int(swapped.sum()), "swapped (latitude and longitude written the other way round)")
        out = (np.isfinite(lat) & (np.abs(lat) > 90)) | (np.isfinite(lon) & (np.abs(lon) > 180))
        self.reject(out, f"{label} " + shown + " outside -90..90 / -180..180")
        zero = (lat == 0) & (lon == 0)
        self.reject(zero, f"{label} " + shown + " is a placeholder position (0,0), not a place")
        unusable = out | zero
        return np.where(unusable, np.nan, lat), np.where(unusable, np.nan, lon)

    def note(self, column: str, count: int, what: str) -> None:
        """Count a conversion of values (not of units) for the summary's ``converted``."""
        key = f"{column}: {what}"
        self.summary.setdefault("converted", {})
        self.summary["converted"][key] = self.summary["converted"].get(key, 0) + count

    def _unit(self, column: str, values: np.ndarray) -> np.ndarray:
        unit = self.profile.units.get(column, "").lower()
        if not unit:
            return values
        self.summary["unit_converted"][column] = unit
        if unit == "fraction":
            return values * 100.0
        if unit == "mw":
            with np.errstate(divide="ignore", invalid="ignore"):
                out = 10.0 * np.log10(values)
            return np.where(values > 0, out, -np.inf)  # not a power: rejected by the caller
        if unit == "km":
            return values * 1000.0
        return values

    def words(self, column: str, *, allowed: dict | None = None, required: bool = False) -> pd.Series:
        """The column through the profile's ``[vocab.column]`` (then ``allowed``, the contract's own
        spellings); an unknown word rejects its row. ``""`` where empty."""
        raw = self.text(column)
        key = raw.map(word_key)
        table = {word_key(k): v for k, v in (allowed or {}).items()}
        table.update({word_key(k): v for k, v in self.profile.vocab.get(column, {}).items()})
        mapped = key.map(table)
        empty = (raw == "").to_numpy()
        if empty.any() and column in self.profile.defaults:
            mapped = mapped.where(~empty, self.profile.defaults[column])
            self.summary["defaulted"][column] = self.summary["defaulted"].get(column, 0) + int(empty.sum())
            empty = np.zeros(len(raw), bool)
        unknown = ~empty & mapped.isna().to_numpy()
        if unknown.any():
            self.reject(unknown, self.label(column) + " " + quoted(raw) +
                        f" is not a known value (add it to [vocab.{column}] of the profile)")
        if required:
            self.reject(empty, f"{self.label(column)} missing")
        return mapped.where(mapped.notna(), "").astype(object)

    def times(self, column: str, *, required: bool = False) -> pd.Series:
        """The column as UTC ISO 8601 text (``""`` where empty); naive times are in the profile's zone."""
        raw = self.text(column)
        empty = (raw == "").to_numpy()
        if required:
            self.reject(empty, f"{self.label(column)} missing")
        parsed = parse_times(raw, self.profile.time_format, self.profile.zone)
        if not self.profile.time_format:
            unclear = ambiguous_dates(raw).to_numpy()
            self.reject(unclear, self.label(column) + " " + quoted(raw) + " is ambiguous: day/month or month/day? "
                        "Set [time] format in the profile, e.g. \"%d/%m/%Y %H:%M\" or \"%m/%d/%Y %H:%M\"")
            empty = empty | unclear  # one reason is enough
        bad = ~empty & parsed.isna().to_numpy()
        fmt = self.profile.time_format or "an ISO-like date and time"
        self.reject(bad, self.label(column) + " " + quoted(raw) +
                    f" is not a time in {fmt} (or does not exist in {self.profile.zone})")
        return parsed.dt.strftime(ISO).where(parsed.notna(), "").astype(object)

    def booleans(self, column: str) -> pd.Series:
        """``true``/``false``/``""`` through ``[vocab.column]`` and the contract's words."""
        from netdiag.data.schema import BOOL_WORDS

        allowed = {k: v for k, v in BOOL_WORDS.items()}
        allowed.update({"是": True, "否": False, "室内": True, "室外": False})
        out = self.words(column, allowed=allowed)
        return out.map(lambda v: "" if v == "" else ("true" if v is True or str(v).lower() == "true" else "false"))


_DMS = re.compile(r"""^\s*([NSEW]?)\s*(\d+(?:\.\d+)?)\s*°\s*(?:(\d+(?:\.\d+)?)\s*['′]\s*)?(?:(\d+(?:\.\d+)?)\s*(?:"|″|'')\s*)?([NSEW]?)\s*$""",
                  re.IGNORECASE)


def _dms(text: str) -> float:
    m = _DMS.match(text)
    if not m or (m.group(1) and m.group(5)):
        return np.nan
    deg, minutes, seconds = float(m.group(2)), float(m.group(3) or 0), float(m.group(4) or 0)
    if minutes >= 60 or seconds >= 60:
        return np.nan
    value = deg + minutes / 60 + seconds / 3600
    return -value if (m.group(1) or m.group(5)).upper() in ("S", "W") else value


def word_key(text) -> str:
    """A word as compared with a vocabulary: :func:`norm_header` without ``_`` and ``-``, so
    that ``Weak Signal``, ``weak_signal`` and ``WEAK-SIGNAL`` are one word.

    Examples
    --------
    >>> word_key("Weak Signal"), word_key("weak_signal"), word_key("BD-09")
    ('weaksignal', 'weaksignal', 'bd09')
    """
    return norm_header(text).replace("_", "").replace("-", "")


def to_numbers(raw: pd.Series) -> np.ndarray:
    """Text -> floats (NaN where not a number): thousands commas and ``%`` dropped, full-width
    forms read as ASCII, degrees-minutes-seconds read as decimal degrees.

    Examples
    --------
    >>> to_numbers(pd.Series(["1,234", "１０４.０５", "104°04'31.2\\"", "30°39'12.5\\"N", "95%", "x"])).round(4).tolist()
    [1234.0, 104.05, 104.0753, 30.6535, 95.0, nan]
    """
    text = raw.fillna("").astype(str)
    wide = text.str.contains(r"[\uff01-\uff5e\u3000]", regex=True)
    if wide.any():
        text = text.where(~wide, text[wide].map(lambda v: unicodedata.normalize("NFKC", v)))
    cleaned = text.str.replace(",", "", regex=False).str.strip().str.rstrip("%")
    values = pd.to_numeric(cleaned, errors="coerce").to_numpy(float, copy=True)
    dms = text.str.contains("°", regex=False).to_numpy() & ~np.isfinite(values)
    if dms.any():
        values[dms] = text[dms].map(_dms).to_numpy(float)
    return values


_DMY = r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(.*)$"


def ambiguous_dates(raw: pd.Series) -> pd.Series:
    """Text whose date could be day/month or month/day (``01/11/2026 08:00``).

    Examples
    --------
    >>> ambiguous_dates(pd.Series(["01/11/2026 08:00", "13/11/2026", "11/11/2026", "2026/01/11"])).tolist()
    [True, False, False, False]
    """
    parts = raw.fillna("").astype(str).str.strip().str.extract(_DMY)
    a = pd.to_numeric(parts[0], errors="coerce")
    b = pd.to_numeric(parts[1], errors="coerce")
    return ((a <= 12) & (b <= 12) & (a != b)).fillna(False).astype(bool)


def parse_times(raw: pd.Series, fmt: str, zone: str) -> pd.Series:
    """Text -> UTC timestamps (NaT where it cannot be read); naive text is local to ``zone``.

    Examples
    --------
    >>> parse_times(pd.Series(["2026/11/01 08:00:00", "2026-11-01T08:00+00:00", "x"]), "", "Asia/Shanghai").tolist()
    [Timestamp('2026-11-01 00:00:00+0000', tz='UTC'), Timestamp('2026-11-01 08:00:00+0000', tz='UTC'), NaT]
    """
    text = raw.fillna("").astype(str).str.strip()
    if not fmt:  # 13/11/2026 is day first, 11/13/2026 month first; 01/11/2026 is refused (ambiguous_dates)
        parts = text.str.extract(_DMY)
        found = parts[0].notna()
        if found.any():
            a, b = parts.loc[found, 0].astype(int), parts.loc[found, 1].astype(int)
            day, month = a.where(a > 12, b.where(b > 12, a)), b.where(a > 12, a.where(b > 12, b))
            ok = (a > 12) | (b > 12) | (a == b)
            iso = parts.loc[found, 2] + "-" + month.astype(str).str.zfill(2) + "-" + day.astype(str).str.zfill(2) + parts.loc[found, 3]
            text = text.copy()
            text[found] = iso.where(ok, "")
    has_offset = text.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True)
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
    naive = text[~has_offset & (text != "")]
    if len(naive):
        if fmt:
            local = pd.to_datetime(naive, format=fmt, errors="coerce")
        else:
            local = pd.to_datetime(naive.str.replace("/", "-", regex=False), format="ISO8601", errors="coerce")
            retry = local.isna()
            if retry.any():
                local[retry] = pd.to_datetime(naive[retry], format="mixed", errors="coerce")
        local = pd.to_datetime(local, errors="coerce")
        out[naive.index] = local.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    aware = text[has_offset]
    if len(aware):
        out[aware.index] = pd.to_datetime(aware, format="ISO8601", utc=True, errors="coerce")
    return out


def unused_columns(job: Job) -> list[str]:
    """Headers of the export that no contract column took (reported as *not used*)."""
    used = set(job.summary["mapped"].values())
    return [c for c in job.frame.columns if c != ROW and c not in used]
