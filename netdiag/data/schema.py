"""The data contract (../shared/CONTRACT.md) as data: tables, columns, types, vocabularies.

One place says what each table holds; :mod:`netdiag.data.validate` checks rows against it and the
README's table of columns follows it. Standard library only, so the CLI can import it at once.
"""
from __future__ import annotations

from dataclasses import dataclass, field


def _vocab(*names: str, aliases: dict[str, str] | None = None) -> dict[str, str]:
    out = {n.lower(): n for n in names}
    out.update({k.lower(): v for k, v in (aliases or {}).items()})
    return out


TECHNOLOGIES = _vocab("GSM", "UMTS", "LTE", "NR",
                      aliases={"2G": "GSM", "3G": "UMTS", "WCDMA": "UMTS", "4G": "LTE", "5G": "NR", "5G NR": "NR"})
EVENT_TYPES = _vocab("fault", "interference", "shutdown", "relocation",
                     aliases={"alarm": "fault", "outage": "fault"})
SEVERITIES = _vocab("critical", "major", "minor", "warning")
CATEGORIES = _vocab("no_signal", "weak_signal", "call_drop", "slow_data", "other")
#: spellings accepted for ``coord_system`` (case-insensitive)
COORD_ALIASES = {
    "wgs84": "wgs84", "wgs-84": "wgs84", "wgs 84": "wgs84", "epsg:4326": "wgs84", "4326": "wgs84",
    "gcj02": "gcj02", "gcj-02": "gcj02", "gcj": "gcj02", "mars": "gcj02",
    "bd09": "bd09", "bd-09": "bd09", "bd09ll": "bd09", "baidu": "bd09",
}
#: every accepted spelling -> the canonical name (wgs84, gcj02 or bd09)
COORD_SYSTEMS = dict(COORD_ALIASES)
BOOL_WORDS = {"true": True, "1": True, "yes": True, "y": True, "t": True,
              "false": False, "0": False, "no": False, "n": False, "f": False}

#: outage causes, then the rest, in the contract's order of precedence
CAUSES = ("fault", "shutdown", "relocation", "interference", "congestion", "coverage_hole", "no_fault_found")
#: a cause's place in that order (0 = takes precedence over every other)
CAUSE_RANK = {c: i for i, c in enumerate(CAUSES)}
#: causes that take an element out of service
OUTAGES = ("fault", "shutdown", "relocation")
#: causes that degrade service without taking it away
DEGRADATIONS = ("interference", "congestion")
#: complaint grades (DOMAIN.md), from the least to the most serious
GRADES = ("ordinary", "major", "urgent")
ACTIONS = ("dispatch_repair", "transfer", "dispatch_field_test", "direct_reply")


@dataclass(frozen=True)
class Col:
    """One column of the contract.

    ``kind`` is one of ``id`` (exact string), ``text``, ``float``, ``int``, ``bool``, ``time``,
    ``vocab`` (case-insensitive, mapped to a canonical spelling).
    """

    name: str
    kind: str
    required: bool = False  # the column must be present in the file
    nonempty: bool = False  # every row must give a value
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False  # lo itself is not allowed
    hi_open: bool = False  # hi itself is not allowed
    vocab: dict[str, str] | None = None
    meaning: str = ""


@dataclass(frozen=True)
class TableSpec:
    name: str
    key: str | None
    columns: tuple[Col, ...]
    required: bool = False
    meaning: str = ""
    refs: tuple[tuple[str, str], ...] = field(default=())  # (column, referenced table)

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def col(self, name: str) -> Col:
        return next(c for c in self.columns if c.name == name)


LAT = dict(lo=-90, hi=90)
LON = dict(lo=-180, hi=180)
AZIMUTH = Col("azimuth_deg", "float", lo=0, hi=360, hi_open=True, meaning="main lobe, degrees clockwise from north; empty = omni")
BEAMWIDTH = Col("beamwidth_deg", "float", lo=0, hi=360, lo_open=True, meaning="horizontal half-power beamwidth, default 65")
RADIUS = Col("radius_m", "float", lo=0, lo_open=True, meaning="nominal serving radius; empty = estimated")
INDOOR = Col("indoor", "bool", meaning="indoor distribution system: serves indoor complaints only")

TABLES: dict[str, TableSpec] = {
    "transport": TableSpec("transport", "node_id", (
        Col("node_id", "id", required=True, nonempty=True),
        Col("kind", "text", meaning="hub, aggregation, core, ..."),
        Col("parent_id", "id", meaning="upstream node; empty for a root"),
        Col("lat", "float", **LAT), Col("lon", "float", **LON),
        Col("maintainer", "text"),
    ), meaning="transmission / aggregation topology", refs=(("parent_id", "transport"),)),
    "sites": TableSpec("sites", "site_id", (
        Col("site_id", "id", required=True, nonempty=True),
        Col("name", "text"),
        Col("lat", "float", required=True, **LAT), Col("lon", "float", required=True, **LON),
        Col("transport_id", "id"),
        Col("maintainer", "text"),
        Col("region", "text"),
    ), required=True, meaning="base stations", refs=(("transport_id", "transport"),)),
    "cells": TableSpec("cells", "cell_id", (
        Col("cell_id", "id", required=True, nonempty=True),
        Col("site_id", "id", required=True, nonempty=True),
        Col("technology", "vocab", required=True, nonempty=True, vocab=TECHNOLOGIES),
        Col("band_mhz", "float", required=True, nonempty=True, lo=0, lo_open=True, hi=100000),
        AZIMUTH, BEAMWIDTH, RADIUS, INDOOR,
    ), required=True, meaning="sectors / cells", refs=(("site_id", "sites"),)),
    "repeaters": TableSpec("repeaters", "repeater_id", (
        Col("repeater_id", "id", required=True, nonempty=True),
        Col("donor_cell_id", "id", required=True, nonempty=True),
        Col("lat", "float", required=True, nonempty=True, **LAT), Col("lon", "float", required=True, nonempty=True, **LON),
        AZIMUTH, BEAMWIDTH, RADIUS, INDOOR,
        Col("maintainer", "text"),
    ), meaning="repeaters (直放站)", refs=(("donor_cell_id", "cells"),)),
    "events": TableSpec("events", "event_id", (
        Col("event_id", "id", required=True, nonempty=True),
        Col("element_id", "id", required=True, nonempty=True),
        Col("event_type", "vocab", required=True, nonempty=True, vocab=EVENT_TYPES),
        Col("severity", "vocab", required=True, nonempty=True, vocab=SEVERITIES),
        Col("start_time", "time", required=True, nonempty=True),
        Col("end_time", "time"),
        Col("planned", "bool"),
        Col("prev_lat", "float", **LAT), Col("prev_lon", "float", **LON),
        Col("detail", "text"),
    ), meaning="alarms and status changes"),
    "load": TableSpec("load", None, (
        Col("cell_id", "id", required=True, nonempty=True),
        Col("timestamp", "time", required=True, nonempty=True),
        Col("period_min", "int", lo=0, lo_open=True, hi=24 * 60 * 31),
        Col("prb_dl_pct", "float", required=True, nonempty=True, lo=0, hi=100),
        Col("prb_ul_pct", "float", lo=0, hi=100),
        Col("ul_noise_dbm", "float", lo=-200, hi=0),
        Col("users", "float", lo=0),
    ), meaning="per-cell performance counters", refs=(("cell_id", "cells"),)),
    "complaints": TableSpec("complaints", "complaint_id", (
        Col("complaint_id", "id", required=True, nonempty=True),
        Col("received_at", "time", required=True, nonempty=True),
        Col("occurred_at", "time"),
        Col("lat", "float", required=True, nonempty=True, **LAT), Col("lon", "float", required=True, nonempty=True, **LON),
        Col("coord_system", "vocab", vocab=COORD_SYSTEMS),
        Col("category", "vocab", required=True, nonempty=True, vocab=CATEGORIES),
        Col("indoor", "bool"),
        Col("channel", "text"),
        Col("customer_id", "text"),
        Col("vip", "bool"),
        Col("description", "text"),
    ), meaning="geolocated customer complaints"),
}

#: the order tables are validated in: a table's references come before it
TABLE_ORDER = ("transport", "sites", "cells", "repeaters", "events", "load", "complaints")
INVENTORY_TABLES = ("transport", "sites", "cells", "repeaters")
