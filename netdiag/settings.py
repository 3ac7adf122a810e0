"""Every threshold, window and time limit netdiag uses, in one documented place.

Defaults follow ../shared/CONTRACT.md and the operators' own figures in DOMAIN.md. Each value
can be overridden from a TOML config file (``netdiag --config netdiag.toml ...``) or on the
command line (``--set congestion_prb_pct=90``). Every value is validated.

Examples
--------
>>> s = Settings().with_overrides({"lookback_h": "48"})
>>> s.lookback_h
48.0
"""
from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from netdiag.data.display import check_zone
from netdiag.errors import InputError


def _opt(default, doc: str, *, lo: float | None = None, hi: float | None = None):
    return field(default=default, metadata={"doc": doc, "lo": lo, "hi": hi})


_BOOLEANS = {"true": True, "1": True, "yes": True, "y": True, "false": False, "0": False, "no": False, "n": False}


def _boolean(raw) -> bool:
    """A yes/no setting from TOML (a real boolean) or ``--set`` (``true/false``, ``1/0``, ``yes/no``, ``y/n``):
    ``bool("false")`` would be true, so text is read by the contract's words, and anything else refused."""
    if isinstance(raw, bool):
        return raw
    word = _BOOLEANS.get(str(raw).strip().lower())
    if word is None:
        raise ValueError(raw)
    return word


@dataclass(frozen=True)
class Settings:
    """netdiag's tunable values. Construct with keywords, or use :meth:`from_file`."""

    # --- time ---
    tz: str = _opt("UTC", "time zone of naive timestamps and of the data (IANA name, e.g. Asia/Shanghai, or an offset, +08:00)")
    display_tz: str = _opt("", "time zone of every time people read (screens, replies, lists, maps, reports); empty: --tz "
                               "when given, else the data's own zone (a netdiag.toml in the data folder, or the one offset "
                               "its times carry), else tz")
    lookback_h: float = _opt(72.0, "window before received_at when a complaint has no occurred_at (hours)", lo=1, hi=24 * 31)
    load_baseline_days: float = _opt(7.0, "with a load window, days of counters read before the complaints (sleeping-cell baseline)", lo=0)
    period_min: float = _opt(60.0, "load counter period when period_min is empty (minutes)", lo=1, hi=24 * 60)
    # --- load thresholds (CONTRACT.md) ---
    congestion_prb_pct: float = _opt(85.0, "downlink PRB utilisation at or above which a cell is congested (%)", lo=0, hi=100)
    interference_noise_dbm: float = _opt(-105.0, "uplink noise at or above which a cell is interfered (dBm)", lo=-140, hi=-60)
    sleeping_prb_pct: float = _opt(1.0, "PRB below which a cell with 0 users is sleeping (%)", lo=0, hi=100)
    sleeping_normal_users: float = _opt(1.0, "median users at or above which a cell 'normally carries traffic'", lo=0)
    # --- footprints (footprints.py) ---
    beamwidth_deg: float = _opt(65.0, "default horizontal half-power beamwidth when beamwidth_deg is empty", lo=1, hi=360)
    wedge_factor: float = _opt(2.0, "serving wedge width as a multiple of the half-power beamwidth", lo=0.5, hi=6)
    mast_zone_m: float = _opt(100.0, "radius around the mast where every sector serves (m, capped at a quarter of the radius)", lo=0)
    mapl_db: float = _opt(135.0, "maximum allowed path loss of the link budget used to estimate radius (dB)", lo=90, hi=180)
    bs_height_m: float = _opt(30.0, "base-station antenna height in the radius model (m)", lo=1, hi=300)
    ms_height_m: float = _opt(1.5, "handset height in the radius model (m)", lo=0.5, hi=20)
    urban_isd_m: float = _opt(1500.0, "nearest-site distance below which a site is urban in the radius model (m)", lo=0)
    isd_factor: float = _opt(1.0, "an estimated radius never exceeds this multiple of the nearest-site distance", lo=0.1, hi=10)
    radius_min_m: float = _opt(150.0, "smallest estimated radius (m)", lo=1)
    radius_max_m: float = _opt(10000.0, "largest estimated radius (m)", lo=1)
    indoor_radius_m: float = _opt(80.0, "radius of an indoor cell when radius_m is empty (m)", lo=1)
    # --- diagnosis ---
    max_complaint_distance_km: float = _opt(50.0, "a complaint farther than this from every site is outside the network's area (km)", lo=0.1)
    # --- tickets and due times (DOMAIN.md) ---
    first_reply_h_ordinary: float = _opt(24.0, "ordinary complaint: first reply due (hours)", lo=0)
    close_h_ordinary: float = _opt(48.0, "ordinary complaint: closure due (hours)", lo=0)
    first_reply_h_major: float = _opt(4.0, "major complaint: report upward within half a working day (hours)", lo=0)
    close_h_major: float = _opt(48.0, "major complaint: closure due (hours)", lo=0)
    first_reply_h_urgent: float = _opt(2.0, "urgent complaint (e.g. large outage): first result due (hours)", lo=0)
    close_h_urgent: float = _opt(24.0, "urgent complaint: closure due (hours)", lo=0)
    major_complaint_count: int = _opt(5, "complaints on one ticket that make it major", lo=1)
    urgent_site_count: int = _opt(5, "sites out of service behind one root that make it urgent (large-area outage)", lo=1)
    field_test_radius_m: float = _opt(300.0, "no-fault-found complaints this close together share one field test (m)", lo=0)
    field_test_window_h: float = _opt(24.0, "... and this close in time (hours)", lo=0)
    urgent_cell_count: int = _opt(15, "cells out of service behind one root that give the ticket the highest impact", lo=1)
    major_channels: str = _opt("social,media", "complaint channels (comma-separated) that make a ticket major (public exposure)")
    # --- ticket store and dispatch (netdiag.tickets.store, netdiag.tickets.dispatch) ---
    store_busy_timeout_s: float = _opt(60.0, "how long a writer waits for another one to finish with the ticket store (s)", lo=0.1)
    store_pool_size: int = _opt(8, "most connections one netdiag process keeps open to a PostgreSQL ticket store", lo=1, hi=100)
    dispatch_max_stops: int = _opt(12, "most field-test visits on one team's dispatch list for a day", lo=1)
    dispatch_day_start_h: float = _opt(9.0, "local hour at which a field team starts its route", lo=0, hi=23.99)
    dispatch_speed_kmh: float = _opt(25.0, "average travel speed between visits, straight-line distance (km/h)", lo=1)
    dispatch_visit_min: float = _opt(30.0, "time spent testing at each visit (minutes)", lo=0)
    dispatch_reveal_customer: bool = _opt(False, "allow `netdiag dispatch --reveal-customers` to print the complainants' full "
                                                 "numbers on a team's own dispatch list (CSV and printable page only; each "
                                                 "reveal is written to the ticket's history); everywhere else they stay masked")
    # --- analysis ---
    repeat_window_days: float = _opt(30.0, "a complaint repeats one from the same customer or place within this many days", lo=0)
    repeat_radius_m: float = _opt(100.0, "'the same place' for repeat complaints (m)", lo=0)
    hotspot_cell_m: float = _opt(500.0, "hotspot grid cell size (m)", lo=10)
    hotspot_trend_pct: float = _opt(25.0, "a hotspot is rising/falling when its second-half count moves by this much (%)", lo=0)
    hotspot_map_min: int = _opt(3, "complaints a hotspot needs to be drawn on the map", lo=1)
    map_max_complaints: int = _opt(300000, "most complaints drawn as points on one map, the latest kept (the heatmaps and hotspots "
                                   "keep all); about 60 bytes of map file each", lo=1)
    map_sectors_all_zooms: int = _opt(5000, "a map of at most this many sectors draws every sector at every zoom", lo=0)
    map_sector_zoom: int = _opt(0, "on a larger map, the zoom from which in-service sectors are drawn (those with a problem "
                                   "always are); 0: where the median sector is 24 pixels in radius", lo=0, hi=19)

    def __post_init__(self) -> None:
        problems = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
            if isinstance(value, float) and not math.isfinite(value):
                problems.append(f"`{f.name}` was {value} but must be a finite number")
                continue
            if lo is not None and value < lo:
                problems.append(f"`{f.name}` was {value} but must be >= {lo}")
            if hi is not None and value > hi:
                problems.append(f"`{f.name}` was {value} but must be <= {hi}")
        for name in ("tz", "display_tz"):
            value = getattr(self, name)
            if name == "display_tz" and not value:
                continue  # decided from the data (netdiag.data.display)
            try:
                object.__setattr__(self, name, check_zone(value, setting=name))
            except ValueError as exc:
                problems.append(str(exc))
        if self.radius_min_m > self.radius_max_m:
            problems.append("`radius_min_m` must not exceed `radius_max_m`")
        if problems:
            raise InputError("invalid settings: " + "; ".join(problems))

    # ------------------------------------------------------------------ construction
    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def describe(cls) -> list[tuple[str, Any, str]]:
        """(name, default, doc) for every setting, for ``netdiag settings`` and the docs."""
        return [(f.name, f.default, f.metadata["doc"]) for f in dataclasses.fields(cls)]

    def with_overrides(self, overrides: Mapping[str, Any]) -> "Settings":
        """A copy with some values replaced; strings are converted to each field's type.

        Raises
        ------
        InputError
            On an unknown name or a value of the wrong type or range.
        """
        types = {f.name: type(f.default) for f in dataclasses.fields(self)}
        values = {}
        for name, raw in overrides.items():
            if name not in types:
                raise InputError(f"unknown setting `{name}`; known settings are: {', '.join(sorted(types))}")
            kind = types[name]
            try:
                values[name] = _boolean(raw) if kind is bool else kind(raw)
            except (TypeError, ValueError):
                expected = {"int": "whole number", "float": "number", "str": "text",
                            "bool": "boolean (true or false)"}.get(kind.__name__, kind.__name__)
                raise InputError(f"setting `{name}` was {raw!r} but is expected to be a {expected}") from None
        return dataclasses.replace(self, **values)

    @classmethod
    def from_file(cls, path: str | Path, **overrides: Any) -> "Settings":
        """Read a TOML file of ``name = value`` pairs (a ``[netdiag]`` table is also accepted)."""
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"config file {path} does not exist") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"config file {path} is not valid TOML: {exc}") from None
        data = data.get("netdiag", data)
        if not isinstance(data, dict):
            raise InputError(f"config file {path}: `netdiag` was {str(data)[:60]!r} but is expected to be a table of settings")
        return cls().with_overrides({**data, **overrides})

    def due_hours(self, grade: str) -> tuple[float, float]:
        """(first reply, closure) due after the first complaint, in hours, for a complaint grade.

        Examples
        --------
        >>> Settings().due_hours("urgent")
        (2.0, 24.0)
        """
        return getattr(self, f"first_reply_h_{grade}"), getattr(self, f"close_h_{grade}")

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

