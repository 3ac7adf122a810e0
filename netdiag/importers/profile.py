"""Import profiles: small TOML files that say how one operator's export maps onto the contract.

A profile names the importer it is for (``kind``), and in sections:

``[source]``
    ``encoding`` (``auto``, ``utf-8``, ``gb18030``, ``gbk``), ``sheet`` (xlsx: a sheet name,
    empty = the first), ``header_rows`` (xlsx: rows of header, 0 = found from merged cells).
``[time]``
    ``zone`` of naive times (e.g. ``Asia/Shanghai``) and ``format`` (a ``strftime`` pattern such
    as ``%Y/%m/%d %H:%M:%S``; empty = ISO-like text, Excel dates and ``2026/11/01 08:00`` read as is).
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
    if not text_name.endswith(".toml") and not path.exists():
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
