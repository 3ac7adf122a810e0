"""Import profiles: small TOML files that say how one operator's export maps onto the contract.

A profile names the importer it is for (``kind``), and in sections:

``[source]``
    ``encoding`` (``auto``, ``utf-8``, ``gb18030``, ``gbk``), ``sheet`` (xlsx: a sheet name,
    empty = the first), ``header_rows`` (rows above the data; 0 = found from the profile's
    headers in a workbook, 1 for a CSV file).
``[time]``
    ``zone`` of naive times (e.g. ``Asia/Shanghai``) and ``format`` (a ``strftime`` pattern such
    as ``%Y/%m/%d %H:%M:%S``; empty = ISO-like text, Excel dates and ``2026/11/01 08:00`` read as is,
    a day/month-ambiguous ``01/11/2026`` rejected); alarms: ``not_cleared``, the clear times that
    mean "still active" (default :data:`NOT_CLEARED`).
``[columns]``
    contract column = the export's header, or a list of headers tried in order (compared
    without case, blanks or full-width forms). A header may be a merged group and its field,
    ``"天线参数/方位角"``, or the field alone.
``[units]``
    per column, the unit the export uses: ``percent`` or ``fraction``; ``dBm`` or ``mW``;
    ``m`` or ``km``.
``[ids]``
    how ids are built (see :mod:`netdiag.importers.ids`).
``[vocab.COLUMN]``
    the export's words -> the contract's words (``"室内" = true``, ``"紧急" = "critical"``).
``[defaults]``
    a value for a column that the export leaves empty (counted as *defaulted* in the summary).

Every key of every section is checked when the profile is read: an unknown key (a typo) or a
value of the wrong type is an error naming the file, the section and the key.

Starter profiles ship with netdiag (``netdiag import --list-profiles``); a profile is given by
its name (``params_cn``) or by a path to a ``.toml`` file.
"""
from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from netdiag.errors import InputError

#: the sections a profile may have; anything else is a typo worth reporting
SECTIONS = {"kind", "description", "source", "time", "columns", "units", "ids", "vocab", "defaults", "options"}
ENCODINGS = {"auto": "auto", "utf-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8", "gb18030": "gb18030",
             "gbk": "gb18030", "gb2312": "gb18030", "cp936": "gb18030"}
UNITS = {"percent", "fraction", "dbm", "mw", "m", "km"}
_ID_COLUMNS = ("cgi", "eci", "nci", "node_id", "local_cell_id", "cell_text", "cell_id")
#: per kind, the contract (and helper) columns a profile may map: a key outside it is a typo
COLUMNS = {
    "params": ("site_id", "site_name", "cell_name", *_ID_COLUMNS, "technology", "band_mhz", "channel", "lat", "lon",
               "azimuth_deg", "beamwidth_deg", "tilt_deg", "antenna_height_m", "radius_m", "indoor", "maintainer",
               "region", "transport_id"),
    "alarms": ("alarm_id", "alarm_name", "severity", "start_time", "end_time", "element_id", *_ID_COLUMNS,
               "ne_name", "cell_name", "location", "detail", "prev_lat", "prev_lon"),
    "counters": ("timestamp", "period_min", *_ID_COLUMNS, "prb_dl_pct", "prb_ul_pct", "ul_noise_dbm", "users"),
    "opencellid": ("radio", "mcc", "net", "area", "cell", "unit", "lat", "lon", "range", "samples", "changeable",
                   "created", "updated", "averagesignal"),
    "complaints": ("complaint_id", "received_at", "occurred_at", "latlon", "lat", "lon", "address", "coord_system",
                   "category", "indoor", "channel", "customer_id", "vip", "description", "position_accuracy_m"),
}
#: the units each column may be given in
COLUMN_UNITS = {"prb_dl_pct": {"percent", "fraction"}, "prb_ul_pct": {"percent", "fraction"},
                "ul_noise_dbm": {"dbm", "mw"}, "radius_m": {"m", "km"}, "antenna_height_m": {"m", "km"},
                "position_accuracy_m": {"m", "km"}, "range": {"m", "km"}}
#: the words an alarm export writes for "not cleared yet" (an active alarm), by default
NOT_CLEARED = ["", "-", "--", "—", "/", "未清除", "未恢复", "未清除告警", "NULL", "null", "None", "N/A", "NA",
               "1970-01-01 08:00:00", "1970-01-01 00:00:00", "1970/01/01 08:00:00", "1970/01/01 00:00:00",
               "0000-00-00 00:00:00"]
#: keys of the sections other than [columns], [units], [vocab], [defaults]: name -> (kinds, check)
_POSITIVE = ("a number > 0", lambda v: _is_number(v) and v > 0)
_NON_NEGATIVE = ("a number >= 0", lambda v: _is_number(v) and v >= 0)
_TEXT = ("text", lambda v: isinstance(v, str))
_TEXTS = ("a list of texts", lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v))
KEYS = {
    "source": {"encoding": (None, _TEXT), "sheet": (None, _TEXT),
               "header_rows": (None, ("a whole number >= 0", lambda v: type(v) is int and 0 <= v <= 50))},
    "time": {"zone": (None, _TEXT), "format": (None, ("a strftime pattern such as \"%d/%m/%Y %H:%M\"",
                                                      lambda v: isinstance(v, str) and (v == "" or "%" in v))),
             "not_cleared": (("alarms",), _TEXTS)},
    "ids": {"cell": (None, ("one of auto, cgi, eci, nci, node_cell, pattern, column",
                            lambda v: v in ("auto", "cgi", "eci", "nci", "node_cell", "pattern", "column"))),
            "format": (None, ("text holding {node} and {cell}", lambda v: isinstance(v, str) and "{node}" in v and "{cell}" in v)),
            "eci_base": (None, ("one of auto, dec, hex", lambda v: v in ("auto", "dec", "hex"))),
            "gnb_id_bits": (None, ("a whole number 22..32", lambda v: type(v) is int and 22 <= v <= 32)),
            "pattern": (None, _TEXT)},
    "options": {"site_spread_m": (("params",), _POSITIVE), "flap_gap_min": (("alarms",), _NON_NEGATIVE),
                "ne_name_prefixes": (("alarms",), _TEXTS), "ne_name_suffixes": (("alarms",), _TEXTS),
                "location_patterns": (("alarms",), ("a list of regular expressions with groups ne_name, cell_name or cell",
                                                    lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v))),
                "chunk_rows": (("counters", "opencellid"), ("a whole number > 0", lambda v: type(v) is int and v > 0)),
                "latlon_order": (("complaints",), ("one of \"lon,lat\", \"lat,lon\"", lambda v: v in ("lon,lat", "lat,lon"))),
                "min_radius_m": (("opencellid",), _POSITIVE), "max_radius_m": (("opencellid",), _POSITIVE),
                "band_by_radio": (("opencellid",), ("a table of radio = band in MHz", lambda v: isinstance(v, dict) and all(
                    str(k).upper() in ("GSM", "UMTS", "LTE", "NR") and _is_number(b) and b > 0 for k, b in v.items())))},
}
#: vocabularies whose values must be the contract's words
_VOCAB_VALUES = {"technology": ("GSM", "UMTS", "LTE", "NR"), "severity": ("critical", "major", "minor", "warning"),
                 "category": ("no_signal", "weak_signal", "call_drop", "slow_data", "other"),
                 "coord_system": ("wgs84", "gcj02", "bd09")}


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and abs(v) != float("inf")


def norm_header(text) -> str:
    """A header as compared: NFKC (full-width forms), no blanks, lower case.

    Examples
    --------
    >>> norm_header(" 经度（WGS84） "), norm_header("eNodeB ID")
    ('经度(wgs84)', 'enodebid')
    """
    return "".join(unicodedata.normalize("NFKC", str(text)).split()).lower()


@dataclass(frozen=True)
class Profile:
    """A parsed, checked import profile (see the module's docstring for the sections)."""

    name: str
    kind: str
    description: str = ""
    source: dict = field(default_factory=dict)
    time: dict = field(default_factory=dict)
    columns: dict = field(default_factory=dict)    # contract column -> tuple of headers
    units: dict = field(default_factory=dict)
    ids: dict = field(default_factory=dict)
    vocab: dict = field(default_factory=dict)      # contract column -> {normalised word: value}
    defaults: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)

    @property
    def encoding(self) -> str:
        return self.source.get("encoding", "auto")

    @property
    def zone(self) -> str:
        return self.time.get("zone", "UTC")

    @property
    def time_format(self) -> str:
        return self.time.get("format", "")

    def unit(self, column: str, default: str) -> str:
        return self.units.get(column, default).lower()


def starter_profiles() -> dict[str, str]:
    """The profiles that ship with netdiag: name -> first line of their description."""
    out = {}
    for entry in sorted(resources.files("netdiag.importers.profiles").iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".toml") and entry.name != "alarm_dictionary.toml":
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
            out[entry.name[:-5]] = f"[{data.get('kind', '?')}] {data.get('description', '').splitlines()[0] if data.get('description') else ''}"
    return out


def _read_toml(path_or_name: str | Path, *, what: str = "profile") -> tuple[str, dict]:
    """(name, parsed TOML) of a starter profile's name or a file's path."""
    text_name = str(path_or_name)
    path = Path(text_name)
    a_path = text_name.endswith(".toml") or "/" in text_name or "\\" in text_name or path.exists()
    if not a_path:  # a bare name: a starter profile; anything with a folder in it is the user's file
        packaged = resources.files("netdiag.importers.profiles") / f"{text_name}.toml"
        if not packaged.is_file():
            known = ", ".join(starter_profiles()) if what == "profile" else "alarm_dictionary"
            raise InputError(f"`{what}` was {text_name!r}: no such file and no starter {what} of that name "
                             f"(starter {what}s: {known})")
        return text_name, tomllib.loads(packaged.read_text(encoding="utf-8"))
    if not path.is_file():
        raise InputError(f"`{what}` was {text_name!r}: no such file")
    try:
        return path.name, tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise InputError(f"`{what}` {text_name!r} is not UTF-8 text; save the TOML file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"`{what}` {text_name!r} is not valid TOML: {exc}") from None


def load_profile(path_or_name: str | Path, *, kind: str | None = None) -> Profile:
    """Read and check an import profile.

    Parameters
    ----------
    path_or_name : str or Path
        A ``.toml`` file, or the name of a starter profile (``params_cn``, ``alarms_cn``, ...).
    kind : str, optional
        The importer the profile must be for; a profile of another kind is refused.

    Raises
    ------
    InputError
        The file is missing, not TOML, has an unknown section, a column mapping that is not
        text or a list of text, an unknown unit or encoding, or is for another kind.

    Examples
    --------
    >>> p = load_profile("params_cn")
    >>> p.kind, p.columns["lat"][0]
    ('params', '纬度')
    """
    name, data = _read_toml(path_or_name)
    where = f"profile {name}"
    unknown = sorted(set(data) - SECTIONS)
    if unknown:
        raise InputError(f"{where}: unknown section or key {', '.join(unknown)}; expected {', '.join(sorted(SECTIONS))}")
    for section in SECTIONS - {"kind", "description"}:
        if section in data and not isinstance(data[section], dict):
            raise InputError(f"{where}: [{section}] must be a table of key = value, not {type(data[section]).__name__}")
    got_kind = data.get("kind")
    if not isinstance(got_kind, str):
        raise InputError(f"{where}: missing `kind = \"...\"` (which export it reads: params, alarms, counters, "
                         f"opencellid, complaints)")
    if kind is not None and got_kind != kind:
        raise InputError(f"{where} is for kind {got_kind!r}, not {kind!r}; pick a {kind} profile")
    if got_kind not in COLUMNS:
        raise InputError(f"{where}: kind was {got_kind!r} but is expected to be one of {', '.join(COLUMNS)}")
    _check_keys(data, got_kind, where)
    columns = {}
    for col, headers in data.get("columns", {}).items():
        if isinstance(headers, str):
            headers = [headers]
        if not isinstance(headers, list) or not headers or not all(isinstance(h, str) and h.strip() for h in headers):
            raise InputError(f"{where}: [columns] {col} must be a header or a list of headers, got {headers!r}")
        columns[col] = tuple(headers)
    units = {k: str(v) for k, v in data.get("units", {}).items()}
    bad_units = {k: v for k, v in units.items() if v.lower() not in UNITS}
    if bad_units:
        k, v = next(iter(bad_units.items()))
        raise InputError(f"{where}: [units] {k} was {v!r} but is expected to be one of {', '.join(sorted(UNITS))}")
    source = dict(data.get("source", {}))
    enc = str(source.get("encoding", "auto")).lower()
    if enc not in ENCODINGS:
        raise InputError(f"{where}: [source] encoding was {enc!r} but is expected to be one of auto, utf-8, gb18030, gbk")
    source["encoding"] = ENCODINGS[enc]
    time = dict(data.get("time", {}))
    if "zone" in time:
        _check_zone(time["zone"], where)
    vocab = {}
    for col, words in data.get("vocab", {}).items():
        if not isinstance(words, dict):
            raise InputError(f"{where}: [vocab.{col}] must be a table of \"export word\" = value")
        vocab[col] = {norm_header(k): v for k, v in words.items()}
    return Profile(name=name, kind=got_kind, description=str(data.get("description", "")), source=source,
                   time=time, columns=columns, units=units, ids=dict(data.get("ids", {})), vocab=vocab,
                   defaults=dict(data.get("defaults", {})), options=dict(data.get("options", {})))


def _check_keys(data: dict, kind: str, where: str) -> None:
    """Every key of every section known and of the right type (a typo is an error, not ignored)."""
    known_columns = COLUMNS.get(kind, ())

    def unknown(section, key, known):
        raise InputError(f"{where}: [{section}] {key} is not a known key for kind {kind!r}; known keys: {', '.join(known)}")
    for section in ("columns", "defaults", "vocab"):
        for key in data.get(section, {}):
            if key not in known_columns:
                unknown(section, key, known_columns)
    units_known = [c for c in known_columns if c in COLUMN_UNITS]
    for key, unit in data.get("units", {}).items():
        if key not in units_known:
            unknown("units", key, units_known or ["(none for this kind)"])
        if not isinstance(unit, str) or unit.lower() not in COLUMN_UNITS[key]:
            raise InputError(f"{where}: [units] {key} was {unit!r} but is expected to be one of "
                             f"{', '.join(sorted(COLUMN_UNITS[key]))}")
    for section, keys in KEYS.items():
        allowed = {k: v for k, v in keys.items() if v[0] is None or kind in v[0]}
        for key, value in data.get(section, {}).items():
            if key not in allowed:
                unknown(section, key, list(allowed))
            what, ok = allowed[key][1]
            if not ok(value):
                raise InputError(f"{where}: [{section}] {key} was {value!r} but is expected to be {what}")
    opts = data.get("options", {})
    if _is_number(opts.get("min_radius_m")) and _is_number(opts.get("max_radius_m")) and opts["min_radius_m"] > opts["max_radius_m"]:
        raise InputError(f"{where}: [options] min_radius_m ({opts['min_radius_m']}) is above max_radius_m ({opts['max_radius_m']})")
    for col, words in data.get("vocab", {}).items():
        if not isinstance(words, dict):
            raise InputError(f"{where}: [vocab.{col}] must be a table of \"export word\" = value")
        for word, value in words.items():
            if col in ("indoor", "vip"):
                good, what = isinstance(value, bool), "true or false"
            elif col == "band_mhz":
                good, what = _is_number(value) and value > 0, "a band in MHz (a number > 0)"
            elif col in _VOCAB_VALUES:
                good, what = isinstance(value, str) and value in _VOCAB_VALUES[col], "one of " + ", ".join(_VOCAB_VALUES[col])
            else:
                good, what = isinstance(value, (str, int, float)) and not isinstance(value, bool), "text or a number"
            if not good:
                raise InputError(f"{where}: [vocab.{col}] {word!r} was {value!r} but is expected to be {what}")
    for col, value in data.get("defaults", {}).items():
        if not isinstance(value, (str, int, float, bool)):
            raise InputError(f"{where}: [defaults] {col} was {value!r} but is expected to be text, a number or true/false")


def _check_zone(zone, where: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"{where}: [time] zone was {zone!r}, not a time zone such as Asia/Shanghai or UTC") from None


def load_dictionary(path_or_name: str | Path = "alarm_dictionary") -> dict[str, dict]:
    """The alarm dictionary: normalised alarm name -> ``{"name", "event_type", "planned", "severity"}``.

    The file has one ``[[alarm]]`` table per alarm with ``names`` (every spelling, any language),
    ``event_type`` (fault, interference, shutdown, relocation), and optionally ``planned``
    (shutdowns) and ``severity`` (overrides the level); ``event_type = "ignore"`` keeps an alarm
    out of the events on purpose (reported as ignored, not as unknown).

    Raises
    ------
    InputError
        On a malformed entry; the message names it.
    """
    name, data = _read_toml(path_or_name, what="dictionary")
    alarms = data.get("alarm", [])
    if not isinstance(alarms, list) or not alarms:
        raise InputError(f"dictionary {name}: expected [[alarm]] tables with names and event_type")
    out = {}
    allowed = {"fault", "interference", "shutdown", "relocation", "ignore"}
    for i, entry in enumerate(alarms, 1):
        names = entry.get("names")
        kind = entry.get("event_type")
        if (not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names)
                or kind not in allowed):
            raise InputError(f"dictionary {name}: alarm #{i} needs names = [\"...\"] and event_type in "
                             f"{', '.join(sorted(allowed))}; got names={names!r}, event_type={kind!r}")
        for n in names:
            out[norm_header(n)] = {"name": names[0], "event_type": kind, "planned": entry.get("planned"),
                                   "severity": entry.get("severity")}
    return out
