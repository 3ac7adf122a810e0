"""The time zone people read times in, decided once per command.

Inside netdiag every time is UTC; CSV and JSON carry UTC ISO 8601 (``...Z`` or ``+00:00``). What a
person reads (the check screen, evidence, the customer's reply, dispatch lists, tickets, maps,
reports) is in one *display zone*, chosen in this order:

1. the ``display_tz`` setting (``--set display_tz=...`` or a config file);
2. ``--tz`` (or the ``tz`` setting) when given: the zone of naive timestamps is the data's zone;
3. a ``netdiag.toml`` in the data folder naming ``display_tz`` or ``tz``;
4. a workspace's own record (``netdiag prepare`` keeps the zone of the folder it read);
5. the one offset the data's times carry (the complaints', else the alarms', else the counters':
   their first :data:`SAMPLE_ROWS` rows): ``+08:00`` everywhere gives ``UTC+08:00``;
6. else the zone naive times are read in (``tz``, default UTC), with a warning when nothing
   named it.

:func:`settings_for_data` applies this to a :class:`~netdiag.settings.Settings`, so every view
reads one value, :func:`display_zone`. Formatting is :func:`netdiag.data.times.format_times`
(vectorised, for columns) and :func:`local_text` (one value, standard library only, for the
light client of ``netdiag serve``); :func:`zone_heading` is the line every page starts with.

This module imports only the standard library at its top: ``netdiag check`` may print a
server's answer without the data stack.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import tomllib
from pathlib import Path

log = logging.getLogger(__name__)

#: the settings file a data folder may hold, naming its zone
DATA_SETTINGS = "netdiag.toml"
#: the largest ``netdiag.toml`` read (it names a zone: a bigger one is an error, not read)
MAX_DATA_SETTINGS_BYTES = 64 * 1024
#: what that file may set
DATA_KEYS = ("tz", "display_tz")
#: rows of a table read to find the offset its times carry
SAMPLE_ROWS = 5000
#: the tables and columns whose offsets tell the data's zone, in order
ZONE_COLUMNS = (("complaints", ("received_at", "occurred_at")), ("events", ("start_time", "end_time")),
                ("load", ("timestamp",)))
_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
#: the offset a text time ends with: ``Z``, ``+08:00``, ``+0800`` or ``+08`` (as PostgreSQL writes it)
_TEXT_OFFSET = re.compile(r"\d(Z|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE)
_UTC = ("UTC", "ETC/UTC", "Z", "GMT", "UTC+00:00", "+00:00")
_WARNED: set = set()


# ----------------------------------------------------------------------------- zone names
def check_zone(name: str, *, setting: str = "tz") -> str:
    """A zone name in the form netdiag keeps: an IANA name (``Asia/Shanghai``), ``UTC``, or a
    fixed offset ``UTC+08:00`` (``+08:00``, ``UTC+8`` are accepted).

    Raises
    ------
    ValueError
        Naming ``setting`` and what came.

    Examples
    --------
    >>> check_zone("+08:00"), check_zone("utc"), check_zone("Europe/Dublin")
    ('UTC+08:00', 'UTC', 'Europe/Dublin')
    """
    from zoneinfo import ZoneInfo

    text = str(name).strip()
    if text.upper() in _UTC:
        return "UTC"
    m = _OFFSET.match(text)
    if m:
        hours, minutes = int(m.group(2)), int(m.group(3) or 0)
        if hours * 60 + minutes > 14 * 60 or minutes > 59:
            raise ValueError(f"`{setting}` was {_shown(name)}: an offset is at most 14:00 hours from UTC")
        return "UTC" if hours == minutes == 0 else f"UTC{m.group(1)}{hours:02d}:{minutes:02d}"
    try:
        ZoneInfo(text)
    except Exception:  # noqa: BLE001 - not found, a folder of zones (Asia), a name too long for the file system...
        raise ValueError(f"`{setting}` was {_shown(name)} but is expected to be an IANA time zone such as 'UTC' or "
                         f"'Asia/Shanghai', or an offset such as '+08:00'") from None
    return text


def _shown(value, limit: int = 60) -> str:
    """A value for a one-line message: its repr, cut to ``limit`` characters (a 10 KB value is not echoed whole)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(str(value)):,} characters)"


def tzinfo(name: str) -> dt.tzinfo:
    """The ``datetime.tzinfo`` of a zone name (:func:`check_zone`)."""
    from zoneinfo import ZoneInfo

    name = check_zone(name)
    m = _OFFSET.match(name[3:]) if name.startswith("UTC") and len(name) > 3 else None
    if m:
        sign = -1 if m.group(1) == "-" else 1
        return dt.timezone(sign * dt.timedelta(hours=int(m.group(2)), minutes=int(m.group(3) or 0)))
    return dt.timezone.utc if name == "UTC" else ZoneInfo(name)


def display_zone(settings) -> str:
    """The zone people read times in: ``display_tz`` once decided, else ``tz``."""
    return getattr(settings, "display_tz", "") or settings.tz


def zone_heading(zone: str) -> str:
    """The line a page or screen starts with, naming the zone of every time on it.

    Examples
    --------
    >>> zone_heading("UTC+08:00")
    'Times in UTC+08:00.'
    >>> zone_heading("Europe/Dublin")
    'Times in Europe/Dublin (local clock time, summer time included).'
    """
    if zone == "UTC" or zone.startswith("UTC+") or zone.startswith("UTC-"):
        return f"Times in {zone}."
    if _fixed(zone):
        return f"Times in {zone} ({_offset_text(tzinfo(zone).utcoffset(dt.datetime(2000, 1, 1)))})."
    return f"Times in {zone} (local clock time, summer time included)."


def _fixed(zone: str) -> bool:
    """True when a zone's offset is the same all year (checked on 2000 and the year around now)."""
    z = tzinfo(zone)
    stamps = [dt.datetime(y, m, 15, tzinfo=dt.timezone.utc) for y in (2000, dt.date.today().year) for m in (1, 7)]
    return len({s.astimezone(z).utcoffset() for s in stamps}) == 1


def _offset_text(offset: dt.timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def local_text(value, zone: str) -> str:
    """One time as a person reads it, ``2026-11-05 20:30`` in ``zone`` (``...Z`` in UTC); ``""``
    when missing. ISO 8601 text or a ``datetime``; standard library only, for a handful of
    values (a column goes through :func:`netdiag.data.times.format_times`).

    Examples
    --------
    >>> local_text("2026-11-05T12:30:00+00:00", "UTC+08:00"), local_text("2026-11-05T12:30:00Z", "UTC")
    ('2026-11-05 20:30', '2026-11-05 12:30Z')
    """
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return value
    if not isinstance(value, dt.datetime) or value != value:  # NaT is not equal to itself
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    if zone == "UTC":
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%MZ")
    return value.astimezone(tzinfo(zone)).strftime("%Y-%m-%d %H:%M")


# ----------------------------------------------------------------------------- deciding the zone
def data_file_settings(data_dir: str | Path) -> dict[str, str]:
    """``tz`` and ``display_tz`` from ``DATA/netdiag.toml`` (empty when there is no such file).

    Raises
    ------
    InputError
        When the file is not TOML, sets anything else, or names an unknown zone.
    """
    from netdiag.errors import InputError

    path = Path(data_dir) / DATA_SETTINGS
    if not path.is_file():
        return {}
    try:
        size = path.stat().st_size
        if size > MAX_DATA_SETTINGS_BYTES:
            raise InputError(f"{path} is {size:,} bytes; a {DATA_SETTINGS} names only the data's time zone and may be "
                             f"at most {MAX_DATA_SETTINGS_BYTES // 1024} KB")
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path} is not a readable TOML file: {str(exc)[:200]}") from None
    data = data.get("netdiag", data)
    if not isinstance(data, dict):
        raise InputError(f"{path}: `netdiag` was {_shown(data)} but is expected to be a table ([netdiag]) of "
                         f"{' and '.join(DATA_KEYS)}")
    other = sorted(set(data) - set(DATA_KEYS))
    if other:
        shown = ", ".join(k if len(k) <= 40 else f"{k[:40]}..." for k in other[:5])
        raise InputError(f"{path} may set only {' and '.join(DATA_KEYS)} (the data's time zone); it sets {shown}"
                         + (f" and {len(other) - 5} more" if len(other) > 5 else ""))
    out = {}
    for key, value in data.items():
        if key == "display_tz" and isinstance(value, str) and not value.strip():
            continue  # empty: decided as if not set, like --set display_tz=
        try:
            out[key] = check_zone(value, setting=key)
        except ValueError as exc:
            raise InputError(f"{path}: {exc}") from None
    return out


def data_offset(data_dir: str | Path) -> tuple[str | None, str]:
    """The zone the data's own timestamps speak, and how it was found.

    Reads the first :data:`SAMPLE_ROWS` rows of the complaints (else the alarms, else the
    counters): when their times all carry one offset, that offset (``UTC+08:00``); a typed
    Parquet column keeps its zone. ``(None, why)`` when the times carry no offset (naive) or
    several (a daylight-saving zone: name it), or no table could be read.
    """
    zone, why, _when = _data_offset(data_dir)
    return zone, why


def _data_offset(data_dir: str | Path) -> tuple[str | None, str, dt.datetime | None]:
    """:func:`data_offset` and one of the times sampled (None when none carries an offset)."""
    from netdiag.data.read import find_table

    for table, columns in ZONE_COLUMNS:
        try:
            source = find_table(data_dir, table)
            if source is None:
                continue
            offsets, zones = _sample_offsets(source, columns)
        except Exception as exc:  # the reading that follows reports an unreadable file properly
            log.debug("no time zone from %s: %s", table, exc)
            continue
        if zones:
            return ((zones[0], f"the zone of the {table}' timestamp column", None) if len(zones) == 1 else
                    (None, f"the {table}' timestamp columns have several zones", None))
        if not offsets:
            if table == "complaints":
                return None, "the complaints' times carry no offset", None
            continue
        if len(offsets) == 1:
            zone, when = next(iter(offsets.items()))
            return zone, f"the one offset the {table}' times carry", when
        names = sorted(offsets, key=lambda z: tzinfo(z).utcoffset(None))
        why = f"the {table}' times carry several offsets ({', '.join(names)})"
        if len(names) == 2 and abs(tzinfo(names[1]).utcoffset(None) - tzinfo(names[0]).utcoffset(None)) == dt.timedelta(hours=1):
            why += ", an hour apart as in a zone with summer time"
        return None, why, None
    return None, "the data's times carry no offset", None


def summer_time_zones(zone: str, when: dt.datetime | None = None) -> list[str]:
    """IANA zones on the fixed offset ``zone`` at ``when`` (default now) that use another offset
    within half a year of it (summer time): the zones whose data would be shown an hour off
    after a change if the offset were taken for the zone. Empty for UTC and named zones.

    Examples
    --------
    >>> "Europe/Dublin" in summer_time_zones("UTC+01:00", dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc))
    True
    >>> summer_time_zones("UTC+08:00", dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc))
    []
    """
    from zoneinfo import ZoneInfo, available_timezones

    if zone == "UTC" or not zone.startswith("UTC"):
        return []
    when = (when or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    offset = tzinfo(zone).utcoffset(when)
    probes = [when + dt.timedelta(days=d) for d in range(-183, 184, 7)]
    found = []
    for name in sorted(available_timezones()):
        if "/" not in name or name.split("/")[0] in ("Etc", "SystemV", "US", "posix", "right") or name[0].islower():
            continue
        try:
            z = ZoneInfo(name)
        except Exception:  # noqa: BLE001 - an odd entry of the system's database
            continue
        if when.astimezone(z).utcoffset() == offset and any(p.astimezone(z).utcoffset() != offset for p in probes):
            found.append(name)
    canonical = _zone_tab()
    found = [n for n in found if n in canonical] or found  # Europe/Dublin, not its alias Europe/Belfast
    regions = ("Europe", "America", "Australia", "Asia", "Pacific", "Africa", "Atlantic")
    return sorted(found, key=lambda n: (regions.index(n.split("/")[0]) if n.split("/")[0] in regions else len(regions), n))


def _sample_offsets(source, columns) -> tuple[dict, list[str]]:
    """(offsets of text times, each with the first time that carries it; zones of typed timestamp
    columns) in the first rows of one table."""
    texts: list[str] = []
    zones: list[str] = []
    wanted = {c.lower() for c in columns}
    if source.fmt == "csv":
        import csv
        import itertools

        from netdiag.data.csv_reader import _encoding

        encoding, _ = _encoding(source.path, str(source))
        with open(source.path, newline="", encoding=encoding, errors="replace") as fh:
            rows = csv.reader(fh)
            header = [h.strip().lower().lstrip("\ufeff") for h in next(rows, [])]
            keep = [i for i, h in enumerate(header) if h in wanted]
            for row in itertools.islice(rows, SAMPLE_ROWS):
                texts += [row[i] for i in keep if i < len(row)]
    elif source.fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        f = pq.ParquetFile(source.path)
        names = [n for n in f.schema_arrow.names if n.strip().lower() in wanted]
        for name in names:
            kind = f.schema_arrow.field(name).type
            if pa.types.is_timestamp(kind) and kind.tz:
                zones.append(check_zone(kind.tz))
        text_names = [n for n in names if pa.types.is_string(f.schema_arrow.field(n).type)
                      or pa.types.is_large_string(f.schema_arrow.field(n).type)]
        if text_names:
            batch = next(f.iter_batches(batch_size=SAMPLE_ROWS, columns=text_names), None)
            if batch is not None:
                for col in batch.columns:
                    texts += [t for t in col.to_pylist() if t]
    else:
        import pyogrio

        frame = pyogrio.read_dataframe(source.path, layer=source.layer, read_geometry=False, max_features=SAMPLE_ROWS)
        for name in frame.columns:
            if name.strip().lower() in wanted:
                col = frame[name]
                tz = getattr(col.dtype, "tz", None)
                if tz is not None:
                    zones.append(check_zone(str(tz)))
                else:
                    texts += [str(t) for t in col.dropna()]
    zones = sorted(set(zones))
    offsets: dict[str, dt.datetime | None] = {}
    for t in texts:
        t = t.strip()
        m = _TEXT_OFFSET.search(t) if len(t) > 10 else None
        if m:
            zone = "UTC" if m.group(1).upper() == "Z" else check_zone(m.group(1))
            if zone not in offsets:
                try:
                    offsets[zone] = dt.datetime.fromisoformat(t.replace("Z", "+00:00").replace("z", "+00:00"))
                except ValueError:
                    offsets[zone] = None
    return offsets, zones


def _zone_tab() -> set[str]:
    """The zones of the time-zone database's ``zone.tab`` (one per region, no aliases); empty when absent."""
    from zoneinfo import TZPATH

    paths = [Path(p) / "zone.tab" for p in TZPATH]
    try:
        import importlib.resources

        paths.append(importlib.resources.files("tzdata.zoneinfo") / "zone.tab")
    except Exception:  # noqa: BLE001 - no tzdata package: the system's database only
        pass
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        return {line.split("\t")[2] for line in text.splitlines() if line and not line.startswith("#") and line.count("\t") >= 2}
    return set()


def settings_for_data(settings, data_dir: str | Path | None, *, given=None):
    """``settings`` with the display zone decided for ``data_dir`` (see the module's docstring).

    Parameters
    ----------
    settings : Settings
    data_dir : path or None
        A data folder or a workspace; None: only what the settings say.
    given : set of str, optional
        The settings a person gave (command line, config file); default: those that differ
        from their defaults. A data folder's ``netdiag.toml`` fills the others.

    Returns
    -------
    Settings
        With ``display_tz`` set; ``tz`` from the data folder's file or the workspace when not given.

    Raises
    ------
    InputError
        A data folder's ``netdiag.toml`` that is not usable.
    """
    return decide_zone(settings, data_dir, given=given)[0]


def how_to_name(example: str = "Asia/Shanghai", data_dir: str | Path | None = None) -> str:
    """How a person names the data's zone, the end of every warning about it."""
    where = Path(data_dir) / DATA_SETTINGS if data_dir is not None else f"a {DATA_SETTINGS} in the data folder"
    return f'name the zone with tz = "{example}" (or display_tz) in {where}, --tz ZONE or --set display_tz=ZONE'


def decide_zone(settings, data_dir: str | Path | None, *, given=None) -> tuple:
    """:func:`settings_for_data` and a note for the person reading: ``""`` when the zone was
    named, else what a check screen shows (a fixed offset taken from the data while zones on it
    have summer time; UTC as a fallback). The note is also logged as a warning, once a process."""
    import dataclasses

    from netdiag.data.manifest import is_workspace, read_manifest

    if given is None:
        given = {f.name for f in dataclasses.fields(settings) if getattr(settings, f.name) != f.default}
    if "display_tz" in given and settings.display_tz:
        return settings, ""
    if "tz" in given:
        return dataclasses.replace(settings, display_tz=settings.tz), ""
    if data_dir is None or not Path(data_dir).is_dir():
        return dataclasses.replace(settings, display_tz=settings.display_tz or settings.tz), ""
    changes: dict = {}
    why = note = ""
    if is_workspace(data_dir):
        manifest = read_manifest(data_dir)
        changes["tz"] = manifest["tz"]
        zone = manifest.get("display_tz")
        try:
            if "display_tz" in manifest:
                changes["display_tz"], why = check_zone(zone, setting="display_tz"), "the workspace's record"
        except ValueError:
            note = (f"the workspace's manifest records display_tz {_shown(zone, 40)}, which is not a time zone: times "
                    f"are shown in {check_zone(changes['tz'])}; prepare the workspace again or give --set display_tz=ZONE")
        else:
            recorded = manifest.get("display_tz_note")
            note = recorded[:1000] if isinstance(recorded, str) and "display_tz" in changes else ""
    else:
        found = data_file_settings(data_dir)
        if found:
            changes["tz"] = found.get("tz", settings.tz)
            changes["display_tz"] = found.get("display_tz", changes["tz"])
            why = f"{Path(data_dir) / DATA_SETTINGS}"
        else:
            zone, why, when = _data_offset(data_dir)
            if zone:
                changes["display_tz"] = zone
                summer = summer_time_zones(zone, when)
                if summer:
                    note = (f"times are shown in {zone}, {why}, as a fixed offset; zones on it such as "
                            f"{', '.join(summer[:3])} change it for summer time, and if the data's zone does, times "
                            f"after a change are an hour off: {how_to_name(summer[0], data_dir)}")
            elif settings.tz == "UTC":
                note = (f"times are shown in UTC: {why} and no zone was given, so UTC is a fallback; "
                        f"{how_to_name(data_dir=data_dir)}")
    if note and (str(data_dir), note) not in _WARNED:
        _WARNED.add((str(data_dir), note))
        log.warning("%s", note)
    changes.setdefault("display_tz", changes.get("tz", settings.tz))
    log.info("times shown in %s (%s)", changes["display_tz"], why or "the zone naive times are read in")
    return dataclasses.replace(settings, **changes), note
