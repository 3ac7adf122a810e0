"""Deterministic sample data: a synthetic mobile network around Shenzhen, with known truth.

:func:`generate` writes a complete netdiag data directory (the tables of CONTRACT.md) plus a
``truth/`` folder that says, for every complaint, what a correct diagnosis must find. The same
arguments always give byte-identical files. Everything is drawn from one
``numpy.random.Generator(seed)``; the load table is drawn day by day from ``(seed, day)``.

The city
--------
* Sites are centred on Shenzhen (22.543 N, 114.058 E; inside China, so GCJ-02 matters).
  The inter-site distance (ISD) grows with the distance from the centre: about 480 m in the
  centre (inner quarter of the city radius), rising linearly to 2.5 km in the suburbs (outer
  quarter). Positions come from a random-sequential min-distance thinning of a dense Poisson
  process (minimum distance 0.78 x the local ISD), and the city radius is chosen so that
  exactly ``n_sites`` sites are kept (the nearest to the centre).
* A few *gaps* (mountain parks, reservoirs) hold no sites. Sites around a gap have their
  cells' radii capped by the terrain, so that the middle of each gap (its *hole zone*) is
  farther than twice the radius of every element from it: a real coverage hole.
* Every site has 3 LTE sectors (azimuths about 0/120/240, band 1800/2100, 900 in some suburban
  sites); about a third also have 3 NR sectors (3500 MHz, smaller radius); some central sites
  have one indoor cell (omni, radius 60-100 m). ``radius_m`` is about 0.75-1.05 x the local ISD
  (urban 350-600 m, suburban 1.2-2.5 km), left empty for ~3% of outdoor cells;
  ``beamwidth_deg`` is 65 (sometimes 90 at 900 MHz) or empty.
* Transport: one core, aggregation nodes (about one per 80 sites, at least 3) and one hub per
  ~12 sites; sites are grouped into hubs, and hubs into aggregation nodes, along a Hilbert
  curve, so every site hangs off a nearby hub. Repeaters (one per ~20 sites) stand 300-800 m
  from their donor cell's site, roughly along the donor's azimuth.

Planted incidents (counts for 300 sites, scaled with ``n_sites``)
----------------------------------------------------------------
Hub fibre cuts (with "NE disconnected" symptom faults on every site below, a minute or two
later), one aggregation-node fault (symptoms on its hubs and sites), site faults, cell faults
(some on indoor cells), repeater faults, donor-cell faults felt in the repeater's footprint,
planned shutdowns (night-time cutover on sites, energy saving on NR cells), unplanned
shutdowns (power cuts; property disputes still active), relocations (1-2 km, the old footprint
left uncovered), interference (with an ``interference`` event and raised ``ul_noise_dbm``, or
only in the counters), congestion (``prb_dl_pct`` >= 85 at local 19:00-22:00 on several days),
sleeping cells (users 0, PRB < 1, no alarm) and ``warning`` events that are never a cause.
At most one site-level incident touches a site. Cells that are out of service (their own, their
site's or an upstream fault or shutdown, or a relocation's move) report no load rows for the
hours that overlap the outage. Normal cells never look congested (PRB <= 70), interfered
(noise <= -108 dBm) or asleep (users >= 1, PRB >= 1.5).

Truth rules (what :func:`generate` assumes a correct diagnosis does)
--------------------------------------------------------------------
* A cell stands at its site. A sector serves points within ``radius_m`` whose bearing from the
  mast is within +/- ``beamwidth_deg`` (default 65) of the azimuth, plus every point within
  min(100 m, radius/4) of the mast; an omni element serves the circle; an indoor cell serves
  indoor complaints only. A repeater is a footprint of its own. A relocation's old footprint is
  the site's cells (same azimuths and radii) at ``prev_lat/prev_lon``, from the event's start.
* A complaint's window is the clock hour holding ``occurred_at``, or the 72 h before
  ``received_at`` when ``occurred_at`` is empty. An event or a load period counts when its
  interval overlaps the window (an empty end is still active).
* For every element serving the spot: outage (a non-warning ``fault``/``shutdown``/
  ``relocation`` event on it or upstream along repeater > donor cell > site > hub > aggregation >
  core, or a sleeping-cell period = ``fault`` of the cell) > ``interference`` (non-warning
  interference event, or ``ul_noise_dbm`` >= -105) > ``congestion`` (``prb_dl_pct`` >= 85).
  Within one element's chain the blamed root is the most upstream element whose own event
  overlaps the window. A condition on *any* serving element applies. No serving element:
  ``coverage_hole``; served and nothing wrong: ``no_fault_found``.

Every complaint is drawn for an intended truth (an incident, a gap, or "nothing wrong") and
kept only if these rules give exactly that truth, with one root, under both strict and
inclusive readings of "overlap", with margins of max(15 m, 4% of the radius) and 3 degrees
around every footprint edge (and a wide band for cells whose radius must be estimated);
otherwise its position and time are drawn again. Coverage-hole complaints are farther than
twice every element's radius from it. The truth files are written from the planted incidents,
never by running netdiag's own diagnosis.

Bad rows
--------
With ``bad_rows=True`` a few contract-breaking rows are inserted into every table (at random
places, never replacing a good row) and listed in ``truth/bad_rows.csv`` with their 1-based
data row number: sites (non-numeric lat, duplicate site_id: the later row), cells (unknown
site, azimuth 360, negative radius, technology 6G, beamwidth 0), repeaters (unknown donor),
transport (two hubs forming a parent cycle: both rows), events (end before start, unknown
element, event_type, severity; dated a week before the period), load (unknown cell_id,
non-numeric prb_dl_pct in CSV / null in parquet, prb_dl_pct -5) and complaints (missing lat,
lat 95, position (0, 0), received_at ``yesterday``, unknown category, unknown coord_system,
duplicate complaint_id: the later row). Even read leniently none of them changes any truth:
they sit on sites without incidents, outside every window, or carry harmless values.

Examples
--------
>>> counts = generate("sample_data", n_sites=300, seed=7)   # doctest: +SKIP
>>> counts["complaints"], counts["truth/complaints"]          # doctest: +SKIP
(1507, 1500)
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import shapely

from netdiag.data.coords import haversine_m, wgs84_to_bd09, wgs84_to_gcj02

log = logging.getLogger(__name__)

# ----------------------------------------------------------------------------- constants
CENTRE_LAT, CENTRE_LON = 22.543, 114.058
LOCAL_OFFSET_H = 8                      # Shenzhen local time, UTC+08:00, no daylight saving
HOUR, DAY = 3600, 86400
EARTH_R = 6371008.8
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(CENTRE_LAT))

ISD_CORE_M, ISD_SUBURB_M = 480.0, 2500.0    # inter-site distance in the centre / the suburbs
RHO_CORE, RHO_SUBURB = 0.25, 0.75           # ... up to / from this fraction of the city radius
MIN_DIST_FACTOR = 0.78                       # thinning distance as a fraction of the local ISD
CANDIDATE_FACTOR = 6.0                       # Poisson candidates per target site
OVERSAMPLE = 1.35                            # candidate sites per requested site

# footprint semantics (CONTRACT.md / netdiag.settings defaults)
DEFAULT_BEAMWIDTH = 65.0
MAST_ZONE_M = 100.0
CONGESTED_PRB = 85.0
INTERFERED_DBM = -105.0
SLEEPING_PRB = 1.0
# normal counters stay clear of every threshold
NORMAL_PRB_RANGE = (1.5, 70.0)
NORMAL_NOISE_RANGE = (-119.5, -108.0)
NORMAL_MIN_USERS = 1.0
LOOKBACK_S = 72 * HOUR
# margins that keep the truth clear of footprint edges
EDGE_MIN_M, EDGE_FRAC, EDGE_DEG, MAST_EDGE_M = 15.0, 0.04, 3.0, 10.0
HOLE_CLEARANCE = 2.0                         # a hole is farther than this x every radius
TERRAIN_CAP = 2.2                            # radius cap around gaps: (distance - hole) / this

LEVELS = ("repeater", "cell", "site", "hub", "aggregation", "core")
REP, CELL, SITE, HUB, AGG, CORE = range(6)
CAUSES = ("fault", "shutdown", "relocation", "interference", "congestion", "coverage_hole", "no_fault_found")
FAULT, SHUTDOWN, RELOCATION, INTERFERENCE, CONGESTION, HOLE, NFF = range(7)
IN, EDGE, OUT = 0, 1, 2
SE_CELL, SE_REPEATER, SE_OLD = 0, 1, 2

#: counts of planted incidents for 300 sites (scaled linearly with n_sites, at least 1 each)
INCIDENTS_PER_300 = {
    "hub_fault": 2, "site_fault": 6, "cell_fault": 8, "repeater_fault": 2, "donor_fault": 2,
    "shutdown_planned": 4, "shutdown_unplanned": 4, "relocation": 2, "interference_event": 4,
    "interference_load": 4, "congestion": 8, "sleeping": 3,
}
#: ... but at least this many, so that every variant shows up in a small city
MIN_INCIDENTS = {"shutdown_planned": 2, "shutdown_unplanned": 2}
WARNINGS_PER_300 = 24
#: share of the incident-tied complaints per incident kind
TIED_SHARE = {
    "hub_fault": 0.12, "agg_fault": 0.06, "site_fault": 0.14, "cell_fault": 0.10, "repeater_fault": 0.04,
    "donor_fault": 0.04, "shutdown_planned": 0.05, "shutdown_unplanned": 0.08, "relocation": 0.06,
    "interference_event": 0.08, "interference_load": 0.06, "congestion": 0.12, "sleeping": 0.05,
}
TIED_FRACTION, HOLE_FRACTION = 0.40, 0.05
NO_OCCURRED_FRACTION = 0.20
MAX_ROUNDS = 30

#: hourly activity by local hour (users, PRB and when people complain)
ACTIVITY = np.array([0.30, 0.20, 0.14, 0.11, 0.10, 0.13, 0.25, 0.45, 0.65, 0.72, 0.75, 0.78,
                     0.80, 0.78, 0.76, 0.78, 0.80, 0.85, 0.90, 0.97, 1.00, 0.98, 0.80, 0.50])

DISTRICT_TEAM = {
    "Futian": "中通服 ComService", "Luohu": "中通服 ComService", "Yantian": "中通服 ComService",
    "Nanshan": "华星 Huaxing", "Baoan": "华星 Huaxing", "Guangming": "华星 Huaxing",
    "Longhua": "润建 Runjian", "Longgang": "润建 Runjian",
    "Pingshan": "怡创 Yichuang", "Dapeng": "怡创 Yichuang",
}
OUTER_DISTRICTS = ((35, "Longhua"), (75, "Longgang"), (105, "Pingshan"), (140, "Yantian"),
                   (200, "Dapeng"), (265, "Nanshan"), (315, "Baoan"), (360, "Guangming"))
TRANSPORT_TEAM = "传输代维 TransNet O&M"

DETAIL = {
    "hub_fault": ["传输光缆中断 optical fibre cut (LOS)", "传输链路中断 transmission link down"],
    "agg_fault": ["汇聚节点掉电 aggregation node power failure", "汇聚环断 aggregation ring broken"],
    "symptom_site": ["NE disconnected", "网元断链 NE disconnected"],
    "symptom_hub": ["上联中断 uplink lost", "uplink LOS from aggregation"],
    "site_fault": ["基站退服 site out of service", "BBU故障 BBU board fault", "电源模块故障 power module failure"],
    "cell_fault": ["小区退服 cell out of service", "RRU故障 RRU fault", "驻波比过高 VSWR alarm, cell blocked"],
    "repeater_fault": ["直放站故障 repeater fault", "直放站掉电 repeater power loss"],
    "cutover": ["割接 planned cutover works"],
    "energy": ["节能关断 energy-saving shutdown (planned)"],
    "power_cut": ["市电停电 mains power failure", "停电 power cut, battery exhausted"],
    "dispute": ["业主纠纷断电 property owner cut power (dispute)", "物业纠纷 site access dispute, power off"],
    "relocation": ["基站搬迁 site relocated to a new address"],
    "interference": ["上行干扰 uplink interference detected", "外部干扰 external interference (suspected booster)"],
    "warning_fault": ["门禁告警 door open", "温度过高 high temperature (warning)", "风扇告警 fan warning",
                      "驻波比告警 VSWR warning"],
    "warning_interference": ["干扰监测 noise rise (warning)", "底噪抬升 noise floor slightly raised"],
}

CATEGORY_BY_CAUSE = {   # (categories, probabilities)
    FAULT: (("no_signal", "call_drop", "weak_signal", "slow_data"), (0.70, 0.14, 0.11, 0.05)),
    SHUTDOWN: (("no_signal", "call_drop", "weak_signal", "slow_data"), (0.70, 0.14, 0.11, 0.05)),
    RELOCATION: (("no_signal", "weak_signal", "call_drop"), (0.55, 0.35, 0.10)),
    INTERFERENCE: (("call_drop", "weak_signal", "slow_data"), (0.45, 0.35, 0.20)),
    CONGESTION: (("slow_data", "call_drop", "other"), (0.75, 0.10, 0.15)),
    HOLE: (("no_signal", "weak_signal"), (0.60, 0.40)),
    NFF: (("weak_signal", "slow_data", "call_drop", "no_signal", "other"), (0.35, 0.25, 0.20, 0.10, 0.10)),
}
DESCRIPTIONS = {
    "no_signal": ["家里完全没有信号，手机显示无服务", "小区附近一格信号都没有，打不了电话", "公司楼下突然没信号了",
                  "No service at all at home since this morning", "Phone shows 'No service' near the office"],
    "weak_signal": ["信号很弱，经常只有一格", "室内信号差，要到阳台才能打电话", "最近信号时有时无",
                    "Signal is very weak indoors, 1 bar only", "Weak coverage on my street"],
    "call_drop": ["通话经常掉线", "打电话说几句就断", "开车经过这里总是掉话",
                  "Calls keep dropping on the way home", "Call dropped three times today"],
    "slow_data": ["晚上上网特别慢，视频卡顿", "网速很慢，网页打不开", "5G显示满格但是网速很慢",
                  "Mobile data extremely slow in the evening", "Video keeps buffering, data very slow"],
    "other": ["网络不好，请处理", "手机有时候不能上网", "Please check the network here", "Network problem, please call me"],
}
MALICIOUS = ["<img src=x onerror=alert(1)>", '=HYPERLINK("http://evil.example/x","点击查看详情")']
CHANNELS = (("hotline", "app", "wechat", "store", "social"), (0.45, 0.25, 0.15, 0.10, 0.05))
PHONE_PREFIXES = np.array([130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 157, 158, 159,
                           166, 176, 177, 180, 181, 182, 183, 186, 187, 188, 189, 198, 199])

LOAD_COLUMNS = ["cell_id", "timestamp", "period_min", "prb_dl_pct", "prb_ul_pct", "ul_noise_dbm", "users"]
TABLE_COLUMNS = {
    "sites": ["site_id", "name", "lat", "lon", "transport_id", "maintainer", "region"],
    "cells": ["cell_id", "site_id", "technology", "band_mhz", "azimuth_deg", "beamwidth_deg", "radius_m", "indoor"],
    "repeaters": ["repeater_id", "donor_cell_id", "lat", "lon", "azimuth_deg", "beamwidth_deg", "radius_m",
                  "indoor", "maintainer"],
    "transport": ["node_id", "kind", "parent_id", "lat", "lon", "maintainer"],
    "events": ["event_id", "element_id", "event_type", "severity", "start_time", "end_time", "planned",
               "prev_lat", "prev_lon", "detail"],
    "complaints": ["complaint_id", "received_at", "occurred_at", "lat", "lon", "coord_system", "category",
                   "indoor", "channel", "customer_id", "vip", "description"],
}
TRUTH_COLUMNS = {
    "complaints": ["complaint_id", "cause", "element_id", "incident_id"],
    "incidents": ["incident_id", "cause", "element_id", "start_time", "end_time", "planned", "note"],
    "bad_rows": ["table", "row", "id", "what_is_wrong"],
}


# ============================================================================= public API
def generate(out_dir, *, n_sites: int = 300, seed: int = 7, days: int = 14,
             start: str = "2026-11-01T00:00:00+08:00", load_format: str = "parquet",
             complaints_per_site: float = 5.0, bad_rows: bool = True,
             progress: Callable[[str], None] | None = None) -> dict:
    """Write a synthetic data directory with known truth.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write into (created with its parents). Files of the same names are replaced;
        a load file of the *other* format is left alone, so use an empty folder.
    n_sites : int, default 300
        Number of sites (at least 30). Cells, repeaters, hubs, incidents and complaints scale
        with it.
    seed : int, default 7
        Seed of the random generator; the same arguments give byte-identical files.
    days : int, default 14
        Length of the period covered by events, load and complaints (at least 4).
    start : str, default "2026-11-01T00:00:00+08:00"
        First hour of the period, ISO 8601 on a whole hour; a naive time is Shenzhen local time.
    load_format : {"parquet", "csv"}, default "parquet"
        Format of the hourly load table (parquet timestamps are UTC-aware; CSV uses ``Z``).
    complaints_per_site : float, default 5.0
        Complaints to draw per site (about 40% tied to incidents, 5% coverage holes, the rest
        with nothing wrong).
    bad_rows : bool, default True
        Plant a few contract-breaking rows in every table, listed in ``truth/bad_rows.csv``.
    progress : callable, optional
        Called with a short message at each stage.

    Returns
    -------
    dict
        Data rows written per file: ``sites``, ``cells``, ``repeaters``, ``transport``,
        ``events``, ``load``, ``complaints``, ``truth/complaints``, ``truth/incidents``,
        ``truth/bad_rows``.

    Raises
    ------
    ValueError
        When an argument is out of range.

    Examples
    --------
    >>> counts = generate("/tmp/nd_sample", n_sites=60, seed=1)   # doctest: +SKIP
    >>> sorted(counts)                                              # doctest: +SKIP
    ['cells', 'complaints', 'events', 'load', 'repeaters', 'sites', 'transport', ...]
    """
    _check_args(n_sites, days, load_format, complaints_per_site)
    clock = _Clock.parse(start, days)
    say = progress or (lambda message: None)
    out = Path(out_dir)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)

    say(f"building a city of {n_sites} sites")
    city = _build_city(rng, n_sites)
    say("planting incidents")
    plan = _plan_incidents(rng, city, clock)
    serving = _serving_elements(city, plan)
    mods = _load_modifications(city, plan, clock)
    conds = _conditions(serving, city, plan, mods)
    n_complaints = int(round(complaints_per_site * n_sites))
    say(f"placing {n_complaints} complaints")
    placed = _place_complaints(rng, city, clock, plan, serving, conds, n_complaints)
    log.info("synth: %d sites, %d cells, %d incidents, %d events, %d complaints",
             len(city.sites), len(city.cells), len(plan.incidents), len(plan.events), len(placed))

    say("writing tables")
    tables = _tables(rng, city, plan, clock, placed)
    bad = _plant_bad_rows(rng, tables, city, clock, _quiet_sites(city, plan)) if bad_rows else []
    counts = {name: _write_csv(frame, out / f"{name}.csv") for name, frame in tables.items()}
    load_bad = _load_bad_rows(city, clock, load_format) if bad_rows else []
    counts["load"], listed = _write_load(out, city, clock, mods, seed, load_format, load_bad, say)
    say("writing truth")
    counts.update(_write_truth(out, city, plan, clock, placed, tables["complaints"], bad + listed))
    say("done")
    return counts


def _check_args(n_sites, days, load_format, complaints_per_site) -> None:
    """Raise ValueError naming every argument out of range."""
    problems = []
    if int(n_sites) != n_sites or n_sites < 30:
        problems.append(f"`n_sites` was {n_sites!r} but is expected to be an integer >= 30")
    if int(days) != days or days < 4:
        problems.append(f"`days` was {days!r} but is expected to be an integer >= 4")
    if load_format not in ("parquet", "csv"):
        problems.append(f'`load_format` was "{load_format}" but is expected to be in (\'parquet\', \'csv\')')
    if not complaints_per_site >= 0:
        problems.append(f"`complaints_per_site` was {complaints_per_site!r} but is expected to be >= 0")
    if problems:
        raise ValueError("; ".join(problems))


# ============================================================================= time
@dataclass(frozen=True)
class _Clock:
    """The period: times are seconds since its start (float; ``inf`` = still active)."""

    epoch0: int
    days: int

    @classmethod
    def parse(cls, start: str, days: int) -> "_Clock":
        """The clock of ``days`` days from ``start`` (ISO 8601 on a whole hour)."""
        try:
            ts = pd.Timestamp(start)
        except (TypeError, ValueError):
            raise ValueError(f"`start` was {start!r} but is expected to be an ISO 8601 timestamp") from None
        if ts.tzinfo is None:
            ts = ts.tz_localize(f"Etc/GMT-{LOCAL_OFFSET_H}")
        if ts.minute or ts.second or ts.microsecond or ts.nanosecond or ts.timestamp() % HOUR:
            raise ValueError(f"`start` was {start!r} but is expected to be on a whole hour")
        return cls(int(ts.timestamp()), int(days))

    @property
    def span(self) -> int:
        return self.days * DAY

    @property
    def hours(self) -> int:
        return self.days * 24

    def local_hour(self, t) -> np.ndarray:
        """Local (UTC+08:00) hour of day at times ``t``."""
        return ((np.floor(np.asarray(t, dtype=float)) + self.epoch0 + LOCAL_OFFSET_H * HOUR) // HOUR % 24).astype(int)

    def local_midnight(self, day: int) -> int:
        """Seconds from the start to the local midnight that begins local day ``day`` (0-based)."""
        return (-(self.epoch0 + LOCAL_OFFSET_H * HOUR)) % DAY + day * DAY

    @property
    def local_days(self) -> int:
        """Number of whole local days inside the period."""
        return (self.span - self.local_midnight(0)) // DAY

    def iso(self, t, *, offset_h: int) -> np.ndarray:
        """ISO 8601 strings (``Z`` or ``+08:00``) of times ``t``; ``''`` where not finite."""
        t = np.asarray(t, dtype=float)
        out = np.full(t.shape, "", dtype=object)
        ok = np.isfinite(t)
        if ok.any():
            stamps = (np.floor(t[ok]).astype(np.int64) + self.epoch0 + offset_h * HOUR).astype("datetime64[s]")
            suffix = "Z" if offset_h == 0 else f"{offset_h:+03d}:00"
            out[ok] = np.char.add(np.datetime_as_string(stamps, unit="s"), suffix).astype(object)
        return out


# ============================================================================= geometry helpers
def _to_latlon(x, y):
    """Local metres around the centre -> (lat, lon)."""
    return CENTRE_LAT + np.asarray(y) / M_PER_DEG_LAT, CENTRE_LON + np.asarray(x) / M_PER_DEG_LON


def _to_xy(lat, lon):
    """(lat, lon) -> local metres around the centre (equirectangular; for indexing only)."""
    return (np.asarray(lon) - CENTRE_LON) * M_PER_DEG_LON, (np.asarray(lat) - CENTRE_LAT) * M_PER_DEG_LAT


def _bearing_deg(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Initial great-circle bearing from point 1 to point 2, degrees clockwise from north."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    x = np.sin(dl) * np.cos(p2)
    y = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)
    return np.degrees(np.arctan2(x, y)) % 360.0


def _destination(lat, lon, bearing_deg, dist_m):
    """The point ``dist_m`` from (lat, lon) along ``bearing_deg`` on the sphere."""
    p1, l1 = np.radians(lat), np.radians(lon)
    b, a = np.radians(bearing_deg), np.asarray(dist_m) / EARTH_R
    p2 = np.arcsin(np.sin(p1) * np.cos(a) + np.cos(p1) * np.sin(a) * np.cos(b))
    l2 = l1 + np.arctan2(np.sin(b) * np.sin(a) * np.cos(p1), np.cos(a) - np.sin(p1) * np.sin(p2))
    return np.degrees(p2), np.degrees(l2)


def _hilbert_order(x, y, bits: int = 16) -> np.ndarray:
    """Indices that sort points along a Hilbert curve (spatially compact runs)."""
    n = 1 << bits
    span = max(float(np.ptp(x)), float(np.ptp(y)), 1.0)
    xi = ((np.asarray(x) - np.min(x)) / span * (n - 1)).astype(np.int64)
    yi = ((np.asarray(y) - np.min(y)) / span * (n - 1)).astype(np.int64)
    d = np.zeros(len(xi), dtype=np.int64)
    s = n >> 1
    while s > 0:
        rx = (xi & s) > 0
        ry = (yi & s) > 0
        d += s * s * ((3 * rx.astype(np.int64)) ^ ry.astype(np.int64))
        flip = ~ry & rx
        xi[flip], yi[flip] = n - 1 - xi[flip], n - 1 - yi[flip]
        swap = ~ry
        xi[swap], yi[swap] = yi[swap], xi[swap].copy()
        s >>= 1
    return np.argsort(d, kind="stable")


def _pick(rng, mask, k: int) -> np.ndarray:
    """Up to ``k`` distinct random indices where ``mask`` is true, in random order."""
    idx = np.flatnonzero(mask)
    return rng.permutation(idx)[:k] if len(idx) else idx


def _choice(rng, options, probs, size):
    """Vectorised weighted choice returning an object array."""
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=size, p=probs)]


# ============================================================================= the city
@dataclass
class _City:
    """Inventory as numpy-backed frames (internal columns beside the contract ones)."""

    sites: pd.DataFrame
    cells: pd.DataFrame
    hubs: pd.DataFrame
    aggs: pd.DataFrame
    repeaters: pd.DataFrame
    gaps: pd.DataFrame
    node_id: np.ndarray = field(default=None)
    node_level: np.ndarray = field(default=None)
    offset: dict = field(default_factory=dict)

    def index_nodes(self) -> None:
        """Number every element (core, aggregation, hub, site, cell, repeater) in one index."""
        parts = [("core", np.array(["CORE01"], dtype=object), CORE),
                 ("agg", self.aggs["node_id"].to_numpy(object), AGG),
                 ("hub", self.hubs["node_id"].to_numpy(object), HUB),
                 ("site", self.sites["site_id"].to_numpy(object), SITE),
                 ("cell", self.cells["cell_id"].to_numpy(object), CELL),
                 ("rep", self.repeaters["repeater_id"].to_numpy(object), REP)]
        pos = 0
        for name, ids, _ in parts:
            self.offset[name] = pos
            pos += len(ids)
        self.node_id = np.concatenate([ids for _, ids, _ in parts])
        self.node_level = np.concatenate([np.full(len(ids), lvl) for _, ids, lvl in parts])


def _isd_m(rho) -> np.ndarray:
    """Target inter-site distance (m) at normalised distance ``rho`` from the centre."""
    ramp = np.clip((np.asarray(rho, dtype=float) - RHO_CORE) / (RHO_SUBURB - RHO_CORE), 0.0, 1.0)
    return ISD_CORE_M + (ISD_SUBURB_M - ISD_CORE_M) * ramp


def _density(rho) -> np.ndarray:
    """Target sites per m^2 (a hexagonal grid of the local ISD)."""
    return 1.0 / (math.sqrt(3) / 2 * _isd_m(rho) ** 2)


def _build_city(rng, n_sites: int) -> _City:
    """Sites, cells, transport and repeaters of a city of ``n_sites`` sites."""
    x, y, gaps, radius = _site_layout(rng, n_sites)
    sites = _sites_frame(x, y, gaps, radius)
    cells = _cells_frame(rng, sites)
    hubs, aggs = _transport(sites)
    repeaters = _repeaters(rng, sites, cells, gaps)
    city = _City(sites, cells, hubs, aggs, repeaters, gaps)
    city.index_nodes()
    return city


def _site_layout(rng, n_sites: int):
    """Site positions (local metres), gap discs and the city radius; exactly ``n_sites`` sites."""
    rho = np.linspace(0.0, 1.0, 2001)
    per_r2 = np.trapezoid(2 * np.pi * rho * _density(rho), rho)        # sites per R^2
    radius = math.sqrt(OVERSAMPLE * n_sites / per_r2)
    while True:
        gaps = _gap_discs(rng, radius, n_sites)
        x, y = _candidates(rng, radius)
        inside = np.zeros(len(x), dtype=bool)
        for gx, gy, gr in gaps[["x", "y", "radius_m"]].itertuples(index=False):
            inside |= np.hypot(x - gx, y - gy) < gr
        x, y = x[~inside], y[~inside]
        keep = _thin(rng, x, y, MIN_DIST_FACTOR * _isd_m(np.hypot(x, y) / radius))
        x, y = x[keep], y[keep]
        if len(x) >= n_sites:
            break
        radius *= 1.1
    nearest = np.argsort(np.hypot(x, y), kind="stable")[:n_sites]
    return x[nearest], y[nearest], gaps, radius


def _gap_discs(rng, radius: float, n_sites: int) -> pd.DataFrame:
    """Uncovered patches: centre, radius (no sites) and hole zone (far from every element)."""
    n_gaps = max(2, int(round(2 * math.sqrt(n_sites / 300))))
    bearing = (rng.uniform(0, 360) + 360.0 * np.arange(n_gaps) / n_gaps + rng.uniform(-15, 15, n_gaps)) % 360
    rho = rng.uniform(0.36, 0.52, n_gaps)
    isd = _isd_m(rho)
    hole = 0.3 * isd + 100.0
    gap_r = np.minimum(1.5 * isd + hole, 0.2 * radius)
    dist = rho * radius
    return pd.DataFrame({"x": dist * np.sin(np.radians(bearing)), "y": dist * np.cos(np.radians(bearing)),
                         "radius_m": gap_r, "hole_m": np.minimum(hole, 0.45 * gap_r)})


def _candidates(rng, radius: float):
    """A Poisson process ``CANDIDATE_FACTOR`` x denser than the target density."""
    rho = np.linspace(0.0, 1.0, 4001)
    pdf = 2 * np.pi * rho * _density(rho) * radius ** 2 * CANDIDATE_FACTOR
    cdf = np.concatenate([[0.0], np.cumsum((pdf[1:] + pdf[:-1]) / 2 * np.diff(rho))])
    n = int(round(cdf[-1]))
    r = np.interp(rng.uniform(0, cdf[-1], n), cdf, rho) * radius
    theta = rng.uniform(0, 2 * np.pi, n)
    return r * np.sin(theta), r * np.cos(theta)


def _thin(rng, x, y, dmin) -> np.ndarray:
    """Random sequential thinning: a maximal subset whose pairs are >= their mean ``dmin`` apart."""
    n = len(x)
    pts = shapely.points(x, y)
    i, j = shapely.STRtree(pts).query(pts, predicate="dwithin", distance=dmin)
    close = (i != j) & (np.hypot(x[i] - x[j], y[i] - y[j]) < 0.5 * (dmin[i] + dmin[j]))
    i, j = i[close], j[close]
    mark = rng.permutation(n)
    state = np.zeros(n, dtype=np.int8)          # 0 undecided, 1 kept, -1 dropped
    while (state == 0).any():
        live = (state[i] == 0) & (state[j] == 0)
        best = np.full(n, n)
        np.minimum.at(best, i[live], mark[j[live]])
        win = (state == 0) & (mark < best)
        state[win] = 1
        lose = j[live & win[i]]
        state[lose[state[lose] == 0]] = -1
    return state == 1


def _district(rho, bearing) -> np.ndarray:
    """District name from the normalised distance and the bearing from the centre."""
    outer_bounds = np.array([b for b, _ in OUTER_DISTRICTS])
    outer = np.array([name for _, name in OUTER_DISTRICTS], dtype=object)[
        np.searchsorted(outer_bounds, bearing % 360, side="right").clip(0, len(outer_bounds) - 1)]
    inner = np.where((bearing >= 30) & (bearing < 150), "Luohu",
                     np.where((bearing >= 210) & (bearing < 330), "Nanshan", "Futian")).astype(object)
    return np.where(rho < 0.10, "Futian", np.where(rho < RHO_CORE, inner, outer))


def _terrain_cap(x, y, gaps: pd.DataFrame) -> np.ndarray:
    """Largest radius (m) an element at (x, y) may have so that every hole zone stays a hole."""
    gx, gy, hole = (gaps[c].to_numpy()[None, :] for c in ("x", "y", "hole_m"))
    dist = np.hypot(np.asarray(x, dtype=float)[:, None] - gx, np.asarray(y, dtype=float)[:, None] - gy)
    return ((dist - hole) / TERRAIN_CAP).min(axis=1, initial=np.inf)


def _sites_frame(x, y, gaps, radius: float) -> pd.DataFrame:
    """The sites table (plus internal columns: x, y, isd, zone, terrain cap, nearest-site distance)."""
    n = len(x)
    rho = np.hypot(x, y) / radius
    bearing = np.degrees(np.arctan2(x, y)) % 360
    district = _district(rho, bearing)
    lat, lon = _to_latlon(x, y)
    width = max(5, len(str(n)))
    number = np.arange(1, n + 1)
    isd = _isd_m(rho)
    sites = pd.DataFrame({
        "site_id": [f"S{k:0{width}d}" for k in number],
        "name": [f"SZ-{d}-{k:04d}" for d, k in zip(district, number)],
        "lat": lat, "lon": lon, "region": district,
        "maintainer": [DISTRICT_TEAM[d] for d in district],
        "x": x, "y": y, "isd": isd,
        "zone": np.where(isd < 800, "urban", np.where(isd > 1800, "suburban", "mid")),
        "cap": _terrain_cap(x, y, gaps),
    })
    sites["nearest_m"] = _nearest_other(x, y)
    return sites


def _nearest_other(x, y) -> np.ndarray:
    """Distance (m) from each point to its nearest other point."""
    pts = shapely.points(x, y)
    (src, dst), dist = shapely.STRtree(pts).query_nearest(pts, exclusive=True, return_distance=True,
                                                          all_matches=False)
    out = np.full(len(x), np.inf)
    out[src] = dist
    return out


def _cells_frame(rng, sites: pd.DataFrame) -> pd.DataFrame:
    """3 LTE sectors per site, 3 NR sectors on about a third, an indoor cell on some central sites."""
    n = len(sites)
    zone = sites["zone"].to_numpy()
    has_nr = rng.random(n) < np.select([zone == "urban", zone == "mid"], [0.36, 0.30], 0.20)
    has_indoor = (zone == "urban") & (rng.random(n) < 0.12)
    per_site = 3 + 3 * has_nr + has_indoor
    site = np.repeat(np.arange(n), per_site)
    pos = np.arange(len(site)) - np.repeat(np.cumsum(per_site) - per_site, per_site)
    nr = (pos >= 3) & (pos < 6) & has_nr[site]
    indoor = pos == per_site[site] - 1
    indoor &= has_indoor[site]
    sector = np.where(nr, pos - 3, pos)

    rotation = rng.normal(0, 8, n)
    az = (120.0 * sector + rotation[site] + rng.normal(0, 6, len(site)) + np.where(nr, rng.normal(0, 3, len(site)), 0))
    az = np.round(az) % 360
    lte_band = np.where((zone == "suburban") & (rng.random(n) < 0.5), 900.0,
                        np.where(rng.random(n) < 0.6, 1800.0, 2100.0))
    band = np.where(nr, 3500.0, lte_band[site])
    indoor_band = np.where(rng.random(len(site)) < 0.3, 3500.0, lte_band[site])
    band = np.where(indoor, np.where(lte_band[site] == 900.0, 1800.0, indoor_band), band)

    radius = _cell_radius(rng, sites, site, nr, band)
    beam = np.where((band == 900.0) & (rng.random(len(site)) < 0.3), 90.0, DEFAULT_BEAMWIDTH)
    beam = np.where(rng.random(len(site)) < 0.07, np.nan, beam)
    radius = np.where(indoor, np.round(rng.uniform(60, 100, len(site)) / 5) * 5, radius)
    az = np.where(indoor, np.nan, az)
    beam = np.where(indoor, np.nan, beam)
    cells = pd.DataFrame({
        "cell_id": [f"C{k:06d}" for k in range(1, len(site) + 1)],
        "site": site, "technology": np.where(nr | (indoor & (band == 3500.0)), "NR", "LTE"),
        "band_mhz": band, "azimuth_deg": az, "beamwidth_deg": beam, "radius_m": radius,
        "indoor": indoor,
    })
    _blank_some_radii(rng, cells, sites)
    _traffic_profile(rng, cells, sites)
    return cells


def _cell_radius(rng, sites, site, nr, band) -> np.ndarray:
    """Nominal radius (m): about the local ISD, smaller for NR, capped around gaps."""
    isd = sites["isd"].to_numpy()[site]
    base = isd * rng.uniform(0.75, 1.05, len(sites))[site]
    lte = np.clip(base * np.where(band == 900.0, 1.1, 1.0), 350.0, 2500.0)
    r = np.where(nr, np.clip(base * rng.uniform(0.55, 0.75, len(site)), 200.0, 1500.0), lte)
    r = np.minimum(r, sites["cap"].to_numpy()[site])
    return np.maximum(np.round(r / 10) * 10, 150.0)


def _blank_some_radii(rng, cells, sites) -> None:
    """Leave ``radius_m`` empty on ~3% of outdoor cells (well away from gaps)."""
    site = cells["site"].to_numpy()
    far = sites["cap"].to_numpy()[site] > 1.6 * sites["nearest_m"].to_numpy()[site]
    blank = ~cells["indoor"].to_numpy() & far & (rng.random(len(cells)) < 0.03)
    cells.loc[blank, "radius_m"] = np.nan


def _traffic_profile(rng, cells, sites) -> None:
    """Per-cell busy-hour users, peak PRB and noise floor (internal columns)."""
    zone = sites["zone"].to_numpy()[cells["site"].to_numpy()]
    n = len(cells)
    users = np.select([zone == "urban", zone == "mid"], [rng.uniform(25, 80, n), rng.uniform(12, 45, n)],
                      rng.uniform(6, 25, n))
    users = np.where(cells["technology"].to_numpy() == "NR", users * 0.5, users)
    users = np.where(cells["indoor"].to_numpy(), rng.uniform(6, 25, n), users)
    cells["peak_users"] = np.maximum(users, 5.0)
    cells["peak_prb"] = rng.uniform(30, 62, n)
    cells["noise_mu"] = rng.uniform(-116.5, -113.5, n)


def _transport(sites: pd.DataFrame):
    """Hubs (one per ~12 sites) and aggregation nodes, grouped along a Hilbert curve."""
    n = len(sites)
    x, y = sites["x"].to_numpy(), sites["y"].to_numpy()
    n_hubs = math.ceil(n / 12)
    hub_of = np.empty(n, dtype=int)
    for k, group in enumerate(np.array_split(_hilbert_order(x, y), n_hubs)):
        hub_of[group] = k
    hx = np.bincount(hub_of, x) / np.bincount(hub_of)
    hy = np.bincount(hub_of, y) / np.bincount(hub_of)
    n_aggs = max(3, int(round(n / 80)))
    agg_of = np.empty(n_hubs, dtype=int)
    for k, group in enumerate(np.array_split(_hilbert_order(hx, hy), n_aggs)):
        agg_of[group] = k
    ax = np.bincount(agg_of, hx) / np.bincount(agg_of)
    ay = np.bincount(agg_of, hy) / np.bincount(agg_of)
    hw, aw = max(3, len(str(n_hubs))), max(2, len(str(n_aggs)))
    hub_ids = np.array([f"HUB{k:0{hw}d}" for k in range(1, n_hubs + 1)], dtype=object)
    sites["hub"] = hub_of
    sites["transport_id"] = hub_ids[hub_of]
    hlat, hlon = _to_latlon(hx, hy)
    alat, alon = _to_latlon(ax, ay)
    hubs = pd.DataFrame({"node_id": hub_ids, "agg": agg_of, "lat": hlat, "lon": hlon, "x": hx, "y": hy})
    aggs = pd.DataFrame({"node_id": [f"AGG{k:0{aw}d}" for k in range(1, n_aggs + 1)], "lat": alat, "lon": alon})
    return hubs, aggs


def _repeaters(rng, sites, cells, gaps) -> pd.DataFrame:
    """About one repeater per 20 sites, 300-800 m from its donor's site along the donor's azimuth."""
    site = cells["site"].to_numpy()
    room = sites["cap"].to_numpy()[site] > 1000.0      # 800 m on, a 500 m repeater still clears every gap
    ok = (cells["technology"].to_numpy() == "LTE") & ~cells["indoor"].to_numpy() & cells["radius_m"].notna().to_numpy()
    ok &= room & (sites["zone"].to_numpy()[site] != "urban")
    n_rep = max(2, int(round(len(sites) / 20)))
    donors = _pick(rng, ok, n_rep)
    if len(donors) < n_rep:       # a small city: relax "not urban" and the room around gaps
        relaxed = (cells["technology"].to_numpy() == "LTE") & ~cells["indoor"].to_numpy()
        relaxed &= cells["radius_m"].notna().to_numpy() & ~np.isin(np.arange(len(cells)), donors)
        donors = np.concatenate([donors, _pick(rng, relaxed, n_rep - len(donors))])
    donors = np.sort(donors)
    k = len(donors)
    ds = site[donors]
    bearing = (cells["azimuth_deg"].to_numpy()[donors] + rng.uniform(-30, 30, k)) % 360
    lat, lon = _destination(sites["lat"].to_numpy()[ds], sites["lon"].to_numpy()[ds], bearing,
                            rng.uniform(300, 800, k))
    omni = rng.random(k) < 0.4
    rx, ry = _to_xy(lat, lon)
    radius = np.minimum(np.round(rng.uniform(200, 500, k) / 10) * 10, _terrain_cap(rx, ry, gaps))
    return pd.DataFrame({
        "repeater_id": [f"R{j:04d}" for j in range(1, k + 1)], "donor": donors,
        "lat": lat, "lon": lon,
        "azimuth_deg": np.where(omni, np.nan, np.round((bearing + rng.uniform(-30, 30, k)) % 360) % 360),
        "beamwidth_deg": np.where(omni, np.nan, DEFAULT_BEAMWIDTH),
        "radius_m": np.maximum(radius, 150.0), "indoor": False,
        "maintainer": sites["maintainer"].to_numpy()[ds],
    })


# ============================================================================= incidents
@dataclass
class _Plan:
    """Planted incidents, the events they raise and the load periods they shape."""

    incidents: list = field(default_factory=list)    # dicts, see _Planner.incident
    events: list = field(default_factory=list)       # dicts: node, type, severity, start, end, ...
    noisy: list = field(default_factory=list)        # (cell, hour, ul_noise_dbm) arrays
    congested: list = field(default_factory=list)    # (cell, hour, prb_dl_pct) arrays
    sleeping: list = field(default_factory=list)     # (cell, hour) arrays
    moves: list = field(default_factory=list)        # relocations: dicts site, start, move_end, prev


class _Planner:
    """Plants every kind of incident; each planting method is one kind."""

    def __init__(self, rng, city: _City, clock: _Clock):
        self.rng, self.city, self.clock = rng, city, clock
        self.plan = _Plan()
        self.site_used = np.zeros(len(city.sites), dtype=bool)
        self.failed_transport = np.zeros(len(city.sites), dtype=bool)
        cells = city.cells
        self.donor = np.isin(np.arange(len(cells)), city.repeaters["donor"].to_numpy())
        self.outdoor = ~cells["indoor"].to_numpy() & cells["radius_m"].notna().to_numpy()

    # ----------------------------------------------------------------- helpers
    def node(self, kind: str, index) -> int:
        """Node index of element ``index`` of a kind (``"site"``, ``"cell"``, ...)."""
        return self.city.offset[kind] + int(index)

    def start_between(self, lo_s: float, hi_s: float) -> float:
        """A random start time, to the second, never on a whole hour."""
        t = float(np.floor(self.rng.uniform(lo_s, hi_s)))
        return t + 7 if t % HOUR == 0 else t

    def event(self, node, etype, severity, start, end, detail_key, *, planned=None, prev=None, detail=None):
        """Record an event; ``detail`` defaults to a random OMC text of ``DETAIL[detail_key]``."""
        self.plan.events.append({"node": int(node), "type": etype, "severity": severity, "start": float(start),
                                 "end": float(end), "planned": planned, "prev": prev,
                                 "detail": detail or str(self.rng.choice(DETAIL[detail_key]))})

    def incident(self, kind, cause, node, start, end, *, target, intervals, note, planned=None):
        """Record an incident; ``target`` = (level, node) whose footprints complaints are drawn in."""
        self.plan.incidents.append({"kind": kind, "cause": cause, "node": int(node),
                                    "element_id": self.city.node_id[node], "start": float(start),
                                    "end": float(end), "planned": planned, "target": target,
                                    "intervals": [(float(a), float(b)) for a, b in intervals], "note": note})

    def free_sites(self, extra=True) -> np.ndarray:
        """Sites no site-level incident uses yet (and ``extra``)."""
        return ~self.site_used & extra

    def free_cells(self, mask) -> np.ndarray:
        """Cells in ``mask`` on free sites, never a repeater's donor."""
        site = self.city.cells["site"].to_numpy()
        return mask & ~self.site_used[site] & ~self.donor

    def sites_below(self, level: int, index: int) -> np.ndarray:
        """Sites behind hub or aggregation node ``index``."""
        sites = self.city.sites
        if level == HUB:
            return np.flatnonzero(sites["hub"].to_numpy() == index)
        hubs = np.flatnonzero(self.city.hubs["agg"].to_numpy() == index)
        return np.flatnonzero(np.isin(sites["hub"].to_numpy(), hubs))

    # ----------------------------------------------------------------- transport
    def transport_fault(self, level: int, index: int, start: float, duration: float) -> None:
        """A hub or aggregation fault with symptom alarms on everything below it."""
        kind, key = ("hub", "hub_fault") if level == HUB else ("agg", "agg_fault")
        end = start + duration
        node = self.node(kind, index)
        self.event(node, "fault", "critical", start, end, key)
        if level == AGG:
            for hub in np.flatnonzero(self.city.hubs["agg"].to_numpy() == index):
                self.event(self.node("hub", hub), "fault", "major", start + self.rng.integers(20, 60),
                           end + self.rng.integers(10, 90), "symptom_hub")
        below = self.sites_below(level, index)
        for s in below:
            self.event(self.node("site", s), "fault", "major", start + self.rng.integers(60, 150),
                       end + self.rng.integers(30, 180), "symptom_site")
        self.failed_transport[below] = True
        note = f"{LEVELS[level]} {self.city.node_id[node]} down: {len(below)} sites raise 'NE disconnected'"
        self.incident(key, FAULT, node, start, end, target=(level, node), intervals=[(start, end)], note=note)

    def hub_faults(self, k: int) -> None:
        """``k`` hub fibre cuts of 1-5 h."""
        for hub in _pick(self.rng, np.ones(len(self.city.hubs), bool), k):
            start = self.start_between(DAY, self.clock.span - DAY)
            self.transport_fault(HUB, hub, start, self.rng.uniform(1, 5) * HOUR)

    def agg_faults(self, k: int) -> None:
        """``k`` aggregation-node faults of 30-90 min."""
        for agg in _pick(self.rng, np.ones(len(self.city.aggs), bool), k):
            start = self.start_between(DAY, self.clock.span - DAY)
            self.transport_fault(AGG, agg, start, self.rng.uniform(30, 90) * 60)

    # ----------------------------------------------------------------- sites and cells
    def site_faults(self, k: int) -> None:
        """``k`` site faults of 2-30 h on free sites."""
        for s in _pick(self.rng, self.free_sites(), k):
            self.site_used[s] = True
            start = self.start_between(DAY / 2, self.clock.span - 2 * DAY)
            end = start + self.rng.uniform(2, 30) * HOUR
            node = self.node("site", s)
            self.event(node, "fault", str(self.rng.choice(["critical", "major"])), start, end, "site_fault")
            self.incident("site_fault", FAULT, node, start, end, target=(SITE, node), intervals=[(start, end)],
                          note="site out of service")

    def cell_faults(self, k: int) -> None:
        """``k`` cell faults of 1-48 h (one on an indoor cell when k >= 3)."""
        cells = self.city.cells
        chosen = []
        for mask, wanted in ((cells["indoor"].to_numpy(), 1 if k >= 3 else 0), (self.outdoor, k)):
            for c in _pick(self.rng, self.free_cells(mask), k):
                if len(chosen) >= wanted or self.site_used[cells["site"].iat[c]]:
                    continue
                chosen.append(c)
                self.site_used[cells["site"].iat[c]] = True
        for c in chosen:
            start = self.start_between(DAY / 2, self.clock.span - 2 * DAY)
            end = start + self.rng.uniform(1, 48) * HOUR
            node = self.node("cell", c)
            self.event(node, "fault", str(self.rng.choice(["major", "minor"])), start, end, "cell_fault")
            what = "indoor cell" if cells["indoor"].iat[c] else "cell"
            self.incident("cell_fault", FAULT, node, start, end, target=(CELL, node), intervals=[(start, end)],
                          note=f"{what} out of service")

    def repeater_faults(self, reps) -> None:
        """Faults of the repeaters ``reps`` themselves (6-72 h)."""
        for r in reps:
            self.site_used[self.city.cells["site"].iat[self.city.repeaters["donor"].iat[r]]] = True
            start = self.start_between(DAY / 2, self.clock.span - 3 * DAY)
            end = start + self.rng.uniform(6, 72) * HOUR
            node = self.node("rep", r)
            self.event(node, "fault", str(self.rng.choice(["major", "minor"])), start, end, "repeater_fault")
            self.incident("repeater_fault", FAULT, node, start, end, target=(REP, node), intervals=[(start, end)],
                          note="repeater out of service")

    def donor_faults(self, reps) -> None:
        """A donor cell's fault, complaints drawn in its repeater's footprint."""
        for r in reps:
            donor = self.city.repeaters["donor"].iat[r]
            self.site_used[self.city.cells["site"].iat[donor]] = True
            start = self.start_between(DAY / 2, self.clock.span - 2 * DAY)
            end = start + self.rng.uniform(2, 12) * HOUR
            node = self.node("cell", donor)
            self.event(node, "fault", "major", start, end, "cell_fault")
            rep_node = self.node("rep", r)
            self.incident("donor_fault", FAULT, node, start, end, target=(REP, rep_node), intervals=[(start, end)],
                          note=f"donor cell down, felt through repeater {self.city.node_id[rep_node]}")

    # ----------------------------------------------------------------- shutdowns and relocations
    def shutdowns_planned(self, k: int) -> None:
        """Night-time cutovers on sites and energy-saving shutdowns of NR cells (planned, with an end)."""
        cells = self.city.cells
        n_energy = k // 2
        nr = self.free_cells(self.outdoor & (cells["technology"].to_numpy() == "NR"))
        targets = [("cell", c) for c in _pick(self.rng, nr, n_energy)]
        targets += [("site", s) for s in _pick(self.rng, self.free_sites(), k - len(targets))]
        for kind, idx in targets:
            site = cells["site"].iat[idx] if kind == "cell" else idx
            if self.site_used[site]:
                continue
            self.site_used[site] = True
            day = int(self.rng.integers(1, self.clock.local_days - 1))
            begin = 0.5 if kind == "site" else 1.0
            start = self.clock.local_midnight(day) + (begin + self.rng.uniform(0, 0.4)) * HOUR
            start += self.rng.integers(1, 59)
            end = start + self.rng.uniform(3.5, 4.8) * HOUR
            node = self.node(kind, idx)
            key, level = ("cutover", SITE) if kind == "site" else ("energy", CELL)
            self.event(node, "shutdown", "minor", start, end, key, planned=True)
            self.incident("shutdown_planned", SHUTDOWN, node, start, end, planned=True, target=(level, node),
                          intervals=[(start, end)], note=DETAIL[key][0])

    def shutdowns_unplanned(self, k: int) -> None:
        """Power cuts (with an end) and property disputes (still active: empty end)."""
        for n, s in enumerate(_pick(self.rng, self.free_sites(), k)):
            self.site_used[s] = True
            node = self.node("site", s)
            if n % 2 == 0:
                start = self.start_between(DAY / 2, self.clock.span - 2 * DAY)
                end = start + self.rng.uniform(2, 10) * HOUR
                key = "power_cut"
            else:
                start = self.start_between(self.clock.span - 4 * DAY, self.clock.span - DAY / 2)
                end = np.inf
                key = "dispute"
            self.event(node, "shutdown", str(self.rng.choice(["critical", "major"])), start, end, key,
                       planned=False)
            self.incident("shutdown_unplanned", SHUTDOWN, node, start, end, planned=False, target=(SITE, node),
                          intervals=[(start, min(end, self.clock.span))], note=DETAIL[key][0])

    def relocations(self, k: int) -> None:
        """Move sites 1-2 km; the inventory holds the new position, the event the old one."""
        sites, cells = self.city.sites, self.city.cells
        site = cells["site"].to_numpy()
        blank = np.bincount(site, weights=cells["radius_m"].isna().to_numpy(), minlength=len(sites))
        reach = np.zeros(len(sites))
        np.maximum.at(reach, site, cells["radius_m"].fillna(0.0).to_numpy())
        ok = self.free_sites(~self.failed_transport & (blank == 0) & (sites["zone"].to_numpy() != "suburban"))
        for s in _pick(self.rng, ok, 4 * k):
            if len(self.plan.moves) >= k:
                break
            new = self._new_position(s, reach[s])
            if new is None:
                continue
            self._relocate(s, new)

    def _new_position(self, s: int, reach: float):
        """A free spot 1-2 km away, clear of other sites and of the gaps (for cells reaching ``reach``), or None."""
        sites, gaps = self.city.sites, self.city.gaps
        for _ in range(12):
            lat, lon = _destination(sites["lat"].iat[s], sites["lon"].iat[s], self.rng.uniform(0, 360),
                                    self.rng.uniform(1000, 2000))
            x, y = _to_xy(lat, lon)
            others = np.hypot(sites["x"].to_numpy() - x, sites["y"].to_numpy() - y)
            others[s] = np.inf
            in_gap = (np.hypot(gaps["x"].to_numpy() - x, gaps["y"].to_numpy() - y) < gaps["radius_m"].to_numpy()).any()
            cap = _terrain_cap(np.atleast_1d(x), np.atleast_1d(y), gaps)[0]
            if others.min() > 0.6 * sites["isd"].iat[s] and not in_gap and cap >= reach:
                return float(lat), float(lon), float(x), float(y)
        return None

    def _relocate(self, s: int, new) -> None:
        """Move site ``s`` to ``new`` and plant the relocation event and incident."""
        sites = self.city.sites
        self.site_used[s] = True
        prev = (float(sites["lat"].iat[s]), float(sites["lon"].iat[s]))
        for col, value in zip(("lat", "lon", "x", "y"), new):
            sites.iat[s, sites.columns.get_loc(col)] = value
        start = self.start_between(DAY, self.clock.span / 2)
        move_end = start + self.rng.uniform(4, 10) * HOUR
        node = self.node("site", s)
        self.plan.moves.append({"site": s, "start": start, "move_end": move_end, "prev": prev})
        self.event(node, "relocation", "major", start, np.inf, "relocation", prev=prev)
        self.incident("relocation", RELOCATION, node, start, np.inf, target=("old", node),
                      intervals=[(start, self.clock.span)], note="old footprint left uncovered after the move")

    # ----------------------------------------------------------------- load-based conditions
    def cell_hours(self, day: int, local_hours) -> np.ndarray:
        """Hour indices of given local hours on local day ``day`` (inside the period)."""
        h = self.clock.local_midnight(day) // HOUR + np.asarray(local_hours)
        return h[(h >= 0) & (h < self.clock.hours)]

    def blocks(self, hours: np.ndarray):
        """Runs of consecutive hours as (start_s, end_s) intervals."""
        hours = np.sort(hours)
        breaks = np.flatnonzero(np.diff(hours) != 1) + 1
        return [(run[0] * HOUR, (run[-1] + 1) * HOUR) for run in np.split(hours, breaks) if len(run)]

    def pick_cell(self, mask) -> int | None:
        """One random free outdoor cell in ``mask`` (its site becomes used), or None."""
        free = _pick(self.rng, self.free_cells(mask), 1)
        if not len(free):
            return None
        self.site_used[self.city.cells["site"].iat[free[0]]] = True
        return int(free[0])

    def interference_events(self, k: int) -> None:
        """``k`` cells with an interference alarm and raised uplink noise for 4-72 h."""
        for _ in range(k):
            c = self.pick_cell(self.outdoor)
            if c is None:
                return
            start = self.start_between(DAY / 2, self.clock.span - 3 * DAY)
            end = start + self.rng.uniform(4, 72) * HOUR
            hours = np.arange(int(start // HOUR), int(math.ceil(end / HOUR)))
            noise = self.rng.uniform(INTERFERED_DBM + 0.6, -93.0, len(hours))
            self.plan.noisy.append((np.full(len(hours), c), hours, noise))
            node = self.node("cell", c)
            self.event(node, "interference", str(self.rng.choice(["major", "minor"])), start, end, "interference")
            self.incident("interference_event", INTERFERENCE, node, start, end, target=(CELL, node),
                          intervals=[(start, end)], note="external interference, alarm and raised uplink noise")

    def interference_load(self, k: int) -> None:
        """``k`` cells whose uplink noise is raised on some days, without an alarm."""
        for _ in range(k):
            c = self.pick_cell(self.outdoor)
            if c is None:
                return
            days = self.rng.choice(self.clock.local_days, size=min(int(self.rng.integers(2, 6)),
                                                                    self.clock.local_days), replace=False)
            hours = np.concatenate([self.cell_hours(d, np.arange(h0, h0 + n)) for d, h0, n in
                                    zip(days, self.rng.integers(8, 14, len(days)), self.rng.integers(3, 8, len(days)))])
            self._load_incident("interference_load", INTERFERENCE, c, hours,
                                f"ul_noise_dbm >= -105 on {len(days)} days, no alarm")
            noise = self.rng.uniform(INTERFERED_DBM + 0.6, -96.0, len(hours))
            self.plan.noisy.append((np.full(len(hours), c), hours, noise))

    def congestion(self, k: int) -> None:
        """``k`` cells with PRB >= 85 at local 19:00-22:00 on several days."""
        busy = self.outdoor & (self.city.sites["zone"].to_numpy()[self.city.cells["site"].to_numpy()] != "suburban")
        for _ in range(k):
            c = self.pick_cell(busy)
            if c is None:
                return
            days = self.rng.choice(self.clock.local_days, size=min(int(self.rng.integers(3, 7)),
                                                                    self.clock.local_days), replace=False)
            hours = np.concatenate([self.cell_hours(d, [19, 20, 21] if self.rng.random() < 0.7 else [19, 20])
                                    for d in days])
            self._load_incident("congestion", CONGESTION, c, hours,
                                f"prb_dl_pct >= 85 at 19:00-22:00 local on {len(days)} days")
            prb = self.rng.uniform(CONGESTED_PRB + 0.5, 99.5, len(hours))
            self.plan.congested.append((np.full(len(hours), c), hours, prb))

    def sleeping(self, k: int) -> None:
        """``k`` sleeping cells: users 0 and PRB < 1 for 6-48 h, no alarm."""
        for _ in range(k):
            c = self.pick_cell(self.outdoor)
            if c is None:
                return
            h0 = int(self.rng.integers(24, self.clock.hours - 48))
            hours = np.arange(h0, h0 + int(self.rng.integers(6, 49)))
            self._load_incident("sleeping", FAULT, c, hours, "sleeping cell: users 0 and PRB < 1, no alarm")
            self.plan.sleeping.append((np.full(len(hours), c), hours))

    def _load_incident(self, kind, cause, c, hours, note) -> None:
        """Record a load-only incident over the runs of ``hours``."""
        node = self.node("cell", c)
        blocks = self.blocks(hours)
        self.incident(kind, cause, node, blocks[0][0], blocks[-1][1], target=(CELL, node), intervals=blocks,
                      note=note)

    # ----------------------------------------------------------------- noise
    def warnings(self, k: int) -> None:
        """``warning`` events (fault or interference) on random elements: never a cause."""
        city = self.city
        pool = np.arange(city.offset["hub"], len(city.node_id))
        for node in self.rng.choice(pool, size=k):
            on_cell = city.node_level[node] == CELL
            etype = "interference" if on_cell and self.rng.random() < 0.4 else "fault"
            start = self.start_between(0, self.clock.span - HOUR)
            end = np.inf if self.rng.random() < 0.1 else start + self.rng.uniform(0.1, 8) * HOUR
            self.event(node, etype, "warning", start, end, f"warning_{etype}")


def _plan_incidents(rng, city: _City, clock: _Clock) -> _Plan:
    """Plant every kind of incident, scaled to the size of the city."""
    planner = _Planner(rng, city, clock)
    scale = len(city.sites) / 300.0
    count = {kind: max(MIN_INCIDENTS.get(kind, 1), int(round(base * scale)))
             for kind, base in INCIDENTS_PER_300.items()}
    planner.hub_faults(count["hub_fault"])
    planner.agg_faults(max(1, int(round(len(city.sites) / 1000))))
    planner.relocations(count["relocation"])
    reps = rng.permutation(len(city.repeaters))
    n_rep = min(count["repeater_fault"], len(reps) // 2)
    n_donor = min(count["donor_fault"], len(reps) - n_rep)
    planner.donor_faults(reps[n_rep:n_rep + n_donor])
    planner.repeater_faults(reps[:n_rep])
    planner.site_faults(count["site_fault"])
    planner.cell_faults(count["cell_fault"])
    planner.shutdowns_planned(count["shutdown_planned"])
    planner.shutdowns_unplanned(count["shutdown_unplanned"])
    planner.interference_events(count["interference_event"])
    planner.interference_load(count["interference_load"])
    planner.congestion(count["congestion"])
    planner.sleeping(count["sleeping"])
    planner.warnings(max(4, int(round(WARNINGS_PER_300 * scale))))
    return planner.plan


# ============================================================================= serving elements
@dataclass
class _Serving:
    """Every footprint that can serve a complaint: cells, repeaters, relocated cells' old places.

    ``r_in``/``r_out`` and ``mz_in``/``mz_out`` bound the radius and mast zone with margins:
    a point is IN (served under any reasonable reading), OUT, or on the EDGE.
    """

    kind: np.ndarray
    ref: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    az: np.ndarray
    half: np.ndarray
    r_in: np.ndarray
    r_out: np.ndarray
    mz_in: np.ndarray
    mz_out: np.ndarray
    clear: np.ndarray        # a coverage hole is farther than this from the element
    indoor: np.ndarray
    chain: np.ndarray        # (n, 6) node per level, -1 where none
    reloc_site: np.ndarray   # old footprints: the relocated site's node
    tree: shapely.STRtree = None
    clear_tree: shapely.STRtree = None
    index: dict = field(default_factory=dict)   # level (or "old") -> (element order, sorted node keys)

    def __len__(self) -> int:
        return len(self.kind)

    def build_index(self) -> None:
        """Sort elements by their node at each level, for :func:`_elements_below`."""
        columns = {level: self.chain[:, level] for level in range(6)}
        columns["old"] = self.reloc_site
        for level, keys in columns.items():
            order = np.argsort(keys, kind="stable")
            self.index[level] = (order, keys[order])


def _serving_elements(city: _City, plan: _Plan) -> _Serving:
    """Build the serving elements and their spatial indexes (after relocations moved sites)."""
    sites, cells, reps = city.sites, city.cells, city.repeaters
    sites["nearest_m"] = _nearest_other(sites["x"].to_numpy(), sites["y"].to_numpy())
    site = cells["site"].to_numpy()
    moved = [m["site"] for m in plan.moves]
    old = np.flatnonzero(np.isin(site, moved))
    prev = {m["site"]: m["prev"] for m in plan.moves}
    kind = np.concatenate([np.full(len(cells), SE_CELL), np.full(len(reps), SE_REPEATER), np.full(len(old), SE_OLD)])
    ref = np.concatenate([np.arange(len(cells)), np.arange(len(reps)), old])
    lat = np.concatenate([sites["lat"].to_numpy()[site], reps["lat"].to_numpy(),
                          [prev[s][0] for s in site[old]]]).astype(float)
    lon = np.concatenate([sites["lon"].to_numpy()[site], reps["lon"].to_numpy(),
                          [prev[s][1] for s in site[old]]]).astype(float)
    az = np.concatenate([cells["azimuth_deg"].to_numpy(), reps["azimuth_deg"].to_numpy(),
                         cells["azimuth_deg"].to_numpy()[old]]).astype(float)
    beam = np.concatenate([cells["beamwidth_deg"].to_numpy(), reps["beamwidth_deg"].to_numpy(),
                           cells["beamwidth_deg"].to_numpy()[old]]).astype(float)
    radius = np.concatenate([cells["radius_m"].to_numpy(), reps["radius_m"].to_numpy(),
                             cells["radius_m"].to_numpy()[old]]).astype(float)
    indoor = np.concatenate([cells["indoor"].to_numpy(), np.zeros(len(reps), bool), cells["indoor"].to_numpy()[old]])
    nearest = np.concatenate([sites["nearest_m"].to_numpy()[site], np.full(len(reps), np.inf),
                              np.full(len(old), np.inf)])
    half = np.where(np.isnan(az), 180.0, np.nan_to_num(beam, nan=DEFAULT_BEAMWIDTH))
    se = _Serving(kind, ref, lat, lon, az, half, *_margins(radius, nearest), indoor,
                  _chains(city, kind, ref), np.full(len(kind), -1))
    se.reloc_site[kind == SE_OLD] = city.offset["site"] + site[old]
    se.build_index()
    se.tree = _box_tree(se, np.maximum(se.r_out, se.mz_out) * 1.03 + 30.0)
    se.clear_tree = _box_tree(se, se.clear * 1.03 + 30.0)
    return se


def _margins(radius, nearest):
    """IN/OUT bounds of radius and mast zone, and the hole clearance, for each element."""
    given = np.isfinite(radius)
    margin = np.maximum(EDGE_MIN_M, EDGE_FRAC * radius)
    est_hi = 1.05 * np.maximum(np.where(np.isfinite(nearest), nearest, 1500.0), 150.0)
    r_in = np.where(given, radius - margin, np.minimum(140.0, 0.9 * nearest))
    r_out = np.where(given, radius + margin, est_hi + EDGE_MIN_M)
    mast = np.minimum(MAST_ZONE_M, np.where(given, radius, est_hi) / 4.0)
    mz_in = np.where(given, mast - MAST_EDGE_M, 25.0)
    mz_out = mast + MAST_EDGE_M
    clear = HOLE_CLEARANCE * np.where(given, radius, est_hi) + 30.0
    return r_in, r_out, mz_in, mz_out, clear


def _chains(city: _City, kind, ref) -> np.ndarray:
    """Dependency chain (node per level) of each serving element; old footprints have none."""
    cells, sites = city.cells, city.sites
    chain = np.full((len(kind), 6), -1, dtype=np.int64)
    cell = np.full(len(kind), -1)
    cell[kind == SE_CELL] = ref[kind == SE_CELL]
    rep = kind == SE_REPEATER
    cell[rep] = city.repeaters["donor"].to_numpy()[ref[rep]]
    live = kind != SE_OLD
    site = cells["site"].to_numpy()[cell[live]]
    hub = sites["hub"].to_numpy()[site]
    chain[live, CELL] = city.offset["cell"] + cell[live]
    chain[live, SITE] = city.offset["site"] + site
    chain[live, HUB] = city.offset["hub"] + hub
    chain[live, AGG] = city.offset["agg"] + city.hubs["agg"].to_numpy()[hub]
    chain[live, CORE] = city.offset["core"]
    chain[rep, REP] = city.offset["rep"] + ref[rep]
    return chain


def _box_tree(se: _Serving, half_size) -> shapely.STRtree:
    """STRtree of squares of half-size ``half_size`` (m) around each element, in local metres."""
    x, y = _to_xy(se.lat, se.lon)
    return shapely.STRtree(shapely.box(x - half_size, y - half_size, x + half_size, y + half_size))


def _elements_below(se: _Serving, level, node) -> np.ndarray:
    """Serving elements (not old footprints) whose chain passes through ``node``; ``"old"``: old ones."""
    order, keys = se.index[level]
    return np.sort(order[np.searchsorted(keys, node):np.searchsorted(keys, node, side="right")])


def _classify(se: _Serving, idx, lat, lon, indoor) -> np.ndarray:
    """IN / EDGE / OUT of each (element, point) pair, with the margins of :func:`_margins`."""
    d = haversine_m(se.lon[idx], se.lat[idx], lon, lat)
    off = np.abs((_bearing_deg(se.lat[idx], se.lon[idx], lat, lon) - se.az[idx] + 180.0) % 360.0 - 180.0)
    half = se.half[idx]
    wide = half >= 180.0 - EDGE_DEG
    ang_in = wide | (off < half - EDGE_DEG)
    ang_out = ~wide & (off > half + EDGE_DEG)
    inside = ((d < se.r_in[idx]) & ang_in) | (d < se.mz_in[idx])
    outside = (d > se.r_out[idx]) | (ang_out & (d > se.mz_out[idx])) | (se.indoor[idx] & ~indoor)
    return np.where(outside, OUT, np.where(inside, IN, EDGE))


# ============================================================================= conditions
@dataclass
class _Mods:
    """Load-table changes as sorted keys ``hour * n_cells + cell`` (one array per kind)."""

    n_cells: int
    off: np.ndarray
    congested: np.ndarray
    congested_prb: np.ndarray
    noisy: np.ndarray
    noisy_dbm: np.ndarray
    sleeping: np.ndarray


def _load_modifications(city: _City, plan: _Plan, clock: _Clock) -> _Mods:
    """Which (cell, hour) rows are missing, congested, interfered or asleep."""
    n_cells = len(city.cells)
    off = _off_hours(city, plan, clock)

    def keyed(parts, with_value=True):
        if not parts:
            return np.zeros(0, np.int64), np.zeros(0)
        cell = np.concatenate([p[0] for p in parts]).astype(np.int64)
        hour = np.concatenate([p[1] for p in parts]).astype(np.int64)
        value = np.concatenate([p[2] for p in parts]) if with_value else np.zeros(len(cell))
        key = hour * n_cells + cell
        key, first = np.unique(key, return_index=True)
        keep = ~np.isin(key, off)
        return key[keep], np.round(value[first][keep], 1)

    cong, cong_prb = keyed(plan.congested)
    noisy, noisy_dbm = keyed(plan.noisy)
    sleep, _ = keyed(plan.sleeping, with_value=False)
    return _Mods(n_cells, off, cong, cong_prb, noisy, noisy_dbm, sleep)


def _off_hours(city: _City, plan: _Plan, clock: _Clock) -> np.ndarray:
    """Keys of (cell, hour) rows dropped because the cell is out of service in that hour."""
    cells_of_site = city.cells.groupby("site").indices
    hub_of_site = city.sites["hub"].to_numpy()
    agg_of_hub = city.hubs["agg"].to_numpy()
    keys = []
    outages = [(e["node"], e["start"], e["end"]) for e in plan.events
               if e["severity"] != "warning" and e["type"] in ("fault", "shutdown")]
    outages += [(city.offset["site"] + m["site"], m["start"], m["move_end"]) for m in plan.moves]
    for node, start, end in outages:
        level = city.node_level[node]
        local = node - city.offset[("rep", "cell", "site", "hub", "agg", "core")[level]]
        if level == REP:
            continue
        if level == CELL:
            cells = np.array([local])
        elif level == SITE:
            cells = cells_of_site.get(local, np.zeros(0, int))
        else:
            sites = np.flatnonzero(hub_of_site == local) if level == HUB else \
                np.flatnonzero(np.isin(hub_of_site, np.flatnonzero(agg_of_hub == local)))
            cells = np.concatenate([cells_of_site.get(s, np.zeros(0, int)) for s in sites] or [np.zeros(0, int)])
        hours = np.arange(int(start // HOUR), min(int(math.ceil(min(end, clock.span) / HOUR)), clock.hours))
        keys.append((hours[:, None] * len(city.cells) + cells[None, :]).ravel())
    return np.unique(np.concatenate(keys)) if keys else np.zeros(0, np.int64)


@dataclass
class _Conditions:
    """Every planted condition per serving element, sorted by element (``offsets`` index it)."""

    se: np.ndarray
    t0: np.ndarray
    t1: np.ndarray
    cls: np.ndarray
    level: np.ndarray
    root: np.ndarray
    cause: np.ndarray
    offsets: np.ndarray


def _conditions(se: _Serving, city: _City, plan: _Plan, mods: _Mods) -> _Conditions:
    """Outage, interference and congestion intervals of each serving element, from the data written."""
    rows = []
    for e in plan.events:
        if e["severity"] == "warning":
            continue
        level = int(city.node_level[e["node"]])
        if e["type"] == "interference":
            affected = _elements_below(se, CELL, e["node"]) if level == CELL else np.zeros(0, int)
            affected = affected[se.kind[affected] == SE_CELL]
            rows.append(_cond_rows(affected, e["start"], e["end"], 1, CELL, e["node"], INTERFERENCE))
            continue
        cause = {"fault": FAULT, "shutdown": SHUTDOWN, "relocation": RELOCATION}[e["type"]]
        affected = _elements_below(se, "old" if cause == RELOCATION else level, e["node"])
        rows.append(_cond_rows(affected, e["start"], e["end"], 0, level, e["node"], cause))
    offset = city.offset["cell"]
    for keys, cls, cause in ((mods.noisy, 1, INTERFERENCE), (mods.congested, 2, CONGESTION), (mods.sleeping, 0, FAULT)):
        cell, hour = keys % mods.n_cells, keys // mods.n_cells
        rows.append(_cond_rows(cell, hour * HOUR, (hour + 1) * HOUR, cls, CELL, offset + cell, cause))
    table = {k: np.concatenate([r[k] for r in rows]) for k in rows[0]}
    order = np.argsort(table["se"], kind="stable")
    table = {k: v[order] for k, v in table.items()}
    offsets = np.searchsorted(table["se"], np.arange(len(se) + 1))
    return _Conditions(**table, offsets=offsets)


def _cond_rows(se_idx, t0, t1, cls, level, root, cause) -> dict:
    """Condition rows for elements ``se_idx`` (scalars are broadcast)."""
    n = len(se_idx)
    return {"se": np.asarray(se_idx, dtype=np.int64), "t0": np.broadcast_to(np.asarray(t0, float), n).copy(),
            "t1": np.broadcast_to(np.asarray(t1, float), n).copy(), "cls": np.full(n, cls),
            "level": np.full(n, level), "root": np.broadcast_to(np.asarray(root, np.int64), n).copy(),
            "cause": np.full(n, cause)}


# ============================================================================= the truth check
def _judge(se: _Serving, conds: _Conditions, lat, lon, indoor, w0, w1, *, inclusive: bool):
    """The truth the semantics give at each point and window: ``(cause, root)``, cause -1 if ambiguous.

    ``inclusive`` reads "overlap" as touching intervals counting too (``<=``) instead of strict.
    """
    n = len(lat)
    x, y = _to_xy(lat, lon)
    pt, el = se.tree.query(shapely.points(x, y), predicate="intersects")
    status = _classify(se, el, lat[pt], lon[pt], indoor[pt])
    keep = status != OUT
    pt, el, status = pt[keep], el[keep], status[keep]

    cnt = conds.offsets[el + 1] - conds.offsets[el]
    pair = np.repeat(np.arange(len(pt)), cnt)
    ci = conds.offsets[el][pair] + np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    a, b = w0[pt[pair]], w1[pt[pair]]
    live = (conds.t0[ci] <= b) & (conds.t1[ci] >= a) if inclusive else (conds.t0[ci] < b) & (conds.t1[ci] > a)
    pair, ci = pair[live], ci[live]

    # an old footprint serves only while its relocation is in the window
    has_cond = np.zeros(len(pt), bool)
    has_cond[pair] = True
    status = np.where((se.kind[el] == SE_OLD) & ~has_cond, EDGE, status)
    has_in = np.bincount(pt[status == IN], minlength=n) > 0
    has_edge = np.bincount(pt[status == EDGE], minlength=n) > 0
    edge_cond = np.bincount(pt[pair][status[pair] == EDGE], minlength=n) > 0
    cause, root = _reduce(n, pt[pair], pair, conds, ci, status[pair] == IN)

    ambiguous = edge_cond | (cause == -2) | ((cause == -1) & ~has_in & has_edge)
    cause = np.where(cause >= 0, cause, np.where(has_in, NFF, HOLE))
    cause = np.where(ambiguous, -1, cause)
    return cause, np.where(cause >= 0, root, -1)


def _reduce(n, p, pair, conds: _Conditions, ci, usable):
    """Top-precedence cause and its single root per point: -1 none, -2 more than one root."""
    p, pair, ci = p[usable], pair[usable], ci[usable]
    cls = conds.cls[ci]
    top = np.full(n, 9)
    np.minimum.at(top, p, cls)
    sel = cls == top[p]
    level = np.where(sel & (cls == 0), conds.level[ci], -1)
    upstream = np.full(pair.max() + 1 if len(pair) else 0, -1)
    np.maximum.at(upstream, pair, level)
    sel &= (cls != 0) | (level == upstream[pair])
    key = conds.root[ci] * 8 + conds.cause[ci]
    lo = np.full(n, np.iinfo(np.int64).max)
    hi = np.full(n, -1, dtype=np.int64)
    np.minimum.at(lo, p[sel], key[sel])
    np.maximum.at(hi, p[sel], key[sel])
    found = hi >= 0
    cause = np.where(found, np.where(lo == hi, lo % 8, -2), -1)
    return cause, np.where(found & (lo == hi), lo // 8, -1)


def _clear_of_everything(se: _Serving, lat, lon) -> np.ndarray:
    """True where a point is farther than twice every element's radius (a clear coverage hole)."""
    x, y = _to_xy(lat, lon)
    pt, el = se.clear_tree.query(shapely.points(x, y), predicate="intersects")
    near = haversine_m(se.lon[el], se.lat[el], lon[pt], lat[pt]) < se.clear[el]
    return np.bincount(pt[near], minlength=len(lat)) == 0


# ============================================================================= complaints
@dataclass
class _Groups:
    """What complaint slots aim at: incidents, the gaps, or 'served with nothing wrong'.

    Targets are serving-element indices (gap indices for the hole group) in one flat array;
    intervals likewise. ``*_off``/``*_cnt`` slice them per group.
    """

    cause: np.ndarray
    root: np.ndarray
    incident: np.ndarray
    is_gap: np.ndarray
    targets: np.ndarray
    tgt_off: np.ndarray
    tgt_cnt: np.ndarray
    iv_a: np.ndarray
    iv_b: np.ndarray
    iv_off: np.ndarray
    iv_cnt: np.ndarray


def _groups(plan: _Plan, se: _Serving, city: _City, clock: _Clock) -> _Groups:
    """One group per incident, one for the gaps, one for 'nothing wrong'."""
    rows = []
    last = clock.span - HOUR
    for k, inc in enumerate(plan.incidents):
        level, node = inc["target"]
        targets = _elements_below(se, level, node)
        if level == REP:
            targets = targets[se.kind[targets] == SE_REPEATER]
        intervals = [(a, min(b, last)) for a, b in inc["intervals"] if min(b, last) > a]
        if len(targets) and intervals:
            rows.append((inc["cause"], inc["node"], k, False, targets, intervals))
    rows.append((HOLE, -1, -1, True, np.arange(len(city.gaps)), [(0.0, float(last))]))
    rows.append((NFF, -1, -1, False, np.flatnonzero(se.kind != SE_OLD), [(0.0, float(last))]))
    tgt_cnt = np.array([len(r[4]) for r in rows])
    iv_cnt = np.array([len(r[5]) for r in rows])
    ivs = np.array([iv for r in rows for iv in r[5]], dtype=float)
    return _Groups(np.array([r[0] for r in rows]), np.array([r[1] for r in rows]), np.array([r[2] for r in rows]),
                   np.array([r[3] for r in rows]), np.concatenate([r[4] for r in rows]).astype(np.int64),
                   np.cumsum(tgt_cnt) - tgt_cnt, tgt_cnt, ivs[:, 0], ivs[:, 1], np.cumsum(iv_cnt) - iv_cnt, iv_cnt)


def _slot_groups(rng, groups: _Groups, plan: _Plan, n_total: int) -> np.ndarray:
    """The group of each complaint slot: incident shares, ~5% holes, the rest 'nothing wrong'."""
    n_tied = int(round(TIED_FRACTION * n_total))
    n_hole = int(round(HOLE_FRACTION * n_total))
    incident_groups = np.flatnonzero(groups.incident >= 0)
    kinds = np.array([plan.incidents[i]["kind"] for i in groups.incident[incident_groups]])
    weight = np.array([TIED_SHARE[k] / np.sum(kinds == k) for k in kinds]) if len(kinds) else np.zeros(0)
    per_group = rng.multinomial(n_tied, weight / weight.sum()) if len(kinds) and n_tied else np.zeros(len(kinds), int)
    if n_tied >= len(kinds):
        per_group = np.maximum(per_group, 1)
    hole_group, nff_group = len(groups.cause) - 2, len(groups.cause) - 1
    n_nff = max(n_total - int(per_group.sum()) - n_hole, 0)
    slots = np.concatenate([np.repeat(incident_groups, per_group), np.full(n_hole, hole_group),
                            np.full(n_nff, nff_group)])
    return slots


@dataclass
class _Draw:
    """Candidate complaints: true WGS-84 position, indoor flag, times and window."""

    target: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    indoor: np.ndarray
    occurred: np.ndarray
    received: np.ndarray
    w0: np.ndarray
    w1: np.ndarray


def _draw(rng, groups: _Groups, se: _Serving, city: _City, clock: _Clock, group, has_occ) -> _Draw:
    """Draw a position inside the target's footprint (or a gap's hole zone) and a time."""
    k = len(group)
    target = groups.targets[groups.tgt_off[group] + (rng.random(k) * groups.tgt_cnt[group]).astype(np.int64)]
    gap = groups.is_gap[group]
    lat, lon = np.empty(k), np.empty(k)
    lat[~gap], lon[~gap] = _point_in_footprint(rng, se, target[~gap])
    lat[gap], lon[gap] = _point_in_gap(rng, city.gaps, target[gap])
    indoor = np.where(gap, rng.random(k) < 0.3, se.indoor[np.where(gap, 0, target)] | (rng.random(k) < 0.25))
    occurred = _time_in_intervals(rng, groups, clock, group)
    occurred = np.floor(occurred / 60) * 60
    delay = np.minimum(0.5 * HOUR + rng.exponential(4 * HOUR, k), 24 * HOUR)
    received = np.floor(np.minimum(occurred + delay, clock.span - 60))
    w0 = np.where(has_occ, np.floor(occurred / HOUR) * HOUR, received - LOOKBACK_S)
    w1 = np.where(has_occ, np.floor(occurred / HOUR) * HOUR + HOUR, received)
    return _Draw(target, lat, lon, indoor, occurred, received, w0, w1)


def _point_in_footprint(rng, se: _Serving, idx):
    """Uniform points well inside each element's footprint (inside the IN margins)."""
    k = len(idx)
    wide = se.half[idx] >= 180.0 - EDGE_DEG
    spread = np.where(wide, 180.0, se.half[idx] - EDGE_DEG - 1.0)
    bearing = np.where(wide, 0.0, se.az[idx]) + rng.uniform(-1, 1, k) * spread
    dist = np.maximum(se.r_in[idx], 1.0) * np.sqrt(rng.uniform(0.003, 0.97, k))
    return _destination(se.lat[idx], se.lon[idx], bearing % 360, dist)


def _point_in_gap(rng, gaps: pd.DataFrame, idx):
    """Uniform points in the hole zone of each gap."""
    k = len(idx)
    r = gaps["hole_m"].to_numpy()[idx] * np.sqrt(rng.random(k))
    theta = rng.uniform(0, 2 * np.pi, k)
    return _to_latlon(gaps["x"].to_numpy()[idx] + r * np.sin(theta), gaps["y"].to_numpy()[idx] + r * np.cos(theta))


def _time_in_intervals(rng, groups: _Groups, clock: _Clock, group) -> np.ndarray:
    """A time in one of the group's intervals, favouring busy hours (4 tries by activity)."""
    k = len(group)
    length = groups.iv_b - groups.iv_a
    cum = np.cumsum(length)
    base = cum[groups.iv_off[group]] - length[groups.iv_off[group]]
    total = cum[groups.iv_off[group] + groups.iv_cnt[group] - 1] - base
    u = base[:, None] + rng.random((k, 4)) * total[:, None]
    iv = np.searchsorted(cum, u, side="right").clip(0, len(cum) - 1)
    t = groups.iv_a[iv] + (u - (cum[iv] - length[iv]))
    t = np.clip(t, groups.iv_a[iv], groups.iv_b[iv])
    accept = rng.random((k, 4)) < ACTIVITY[clock.local_hour(t)]
    accept[:, -1] = True
    return t[np.arange(k), accept.argmax(axis=1)]


def _place_complaints(rng, city, clock, plan, se, conds, n_total: int) -> pd.DataFrame:
    """Draw complaint slots until the semantics give each its intended truth (or give up).

    A slot without ``occurred_at`` whose 72 h look-back keeps catching another incident gets an
    ``occurred_at`` after half the rounds; a slot still ambiguous after ``MAX_ROUNDS`` is dropped.
    """
    groups = _groups(plan, se, city, clock)
    slot_group = _slot_groups(rng, groups, plan, n_total)
    has_occ = rng.random(len(slot_group)) >= NO_OCCURRED_FRACTION
    accepted = []
    pending = np.arange(len(slot_group))
    for round_no in range(MAX_ROUNDS):
        if not len(pending):
            break
        if round_no == MAX_ROUNDS // 2:
            has_occ[pending] = True
        g = slot_group[pending]
        d = _draw(rng, groups, se, city, clock, g, has_occ[pending])
        ok = _truth_holds(se, conds, d, groups.cause[g], groups.root[g])
        accepted.append(pd.DataFrame({"slot": pending[ok], "group": g[ok], "target": d.target[ok],
                                      "lat": d.lat[ok], "lon": d.lon[ok], "indoor": d.indoor[ok],
                                      "occurred": np.where(has_occ[pending], d.occurred, np.nan)[ok],
                                      "received": d.received[ok]}))
        pending = pending[~ok]
    if len(pending):
        log.info("synth: %d complaint slots found no unambiguous spot and were dropped", len(pending))
    placed = pd.concat(accepted, ignore_index=True).sort_values(["received", "slot"], kind="stable")
    placed["cause"] = groups.cause[placed["group"].to_numpy()]
    placed["root"] = groups.root[placed["group"].to_numpy()]
    placed["incident"] = groups.incident[placed["group"].to_numpy()]
    return placed.reset_index(drop=True)


def _truth_holds(se, conds, d: _Draw, cause, root) -> np.ndarray:
    """Both readings of overlap give the intended cause and root (and holes are clear holes)."""
    ok = np.ones(len(cause), bool)
    for inclusive in (False, True):
        got, got_root = _judge(se, conds, d.lat, d.lon, d.indoor, d.w0, d.w1, inclusive=inclusive)
        ok &= (got == cause) & (got_root == root)
    hole = cause == HOLE
    if hole.any():
        ok[hole] &= _clear_of_everything(se, d.lat[hole], d.lon[hole])
    return ok


# ============================================================================= tables
def _fmt(values, spec: str) -> np.ndarray:
    """Format numbers with ``spec`` (e.g. ``'%.6f'``); NaN -> ''."""
    v = np.asarray(values, dtype=float)
    out = np.full(v.shape, "", dtype=object)
    ok = np.isfinite(v)
    if ok.any():
        out[ok] = np.char.mod(spec, v[ok]).astype(object)
    return out


def _bool(values) -> np.ndarray:
    return np.where(np.asarray(values, dtype=bool), "true", "false").astype(object)


def _tables(rng, city: _City, plan: _Plan, clock: _Clock, placed: pd.DataFrame) -> dict:
    """Every input table as a frame of strings, in contract column order."""
    tables = {"sites": _sites_table(city), "cells": _cells_table(city), "repeaters": _repeaters_table(city),
              "transport": _transport_table(city), "events": _events_table(city, plan, clock),
              "complaints": _complaints_table(rng, city, clock, placed)}
    return {name: frame[TABLE_COLUMNS[name]] for name, frame in tables.items()}


def _sites_table(city: _City) -> pd.DataFrame:
    s = city.sites
    return pd.DataFrame({"site_id": s["site_id"], "name": s["name"], "lat": _fmt(s["lat"], "%.6f"),
                         "lon": _fmt(s["lon"], "%.6f"), "transport_id": s["transport_id"],
                         "maintainer": s["maintainer"], "region": s["region"]}).astype(object)


def _cells_table(city: _City) -> pd.DataFrame:
    c = city.cells
    return pd.DataFrame({"cell_id": c["cell_id"], "site_id": city.sites["site_id"].to_numpy()[c["site"].to_numpy()],
                         "technology": c["technology"], "band_mhz": _fmt(c["band_mhz"], "%.0f"),
                         "azimuth_deg": _fmt(c["azimuth_deg"], "%.0f"),
                         "beamwidth_deg": _fmt(c["beamwidth_deg"], "%.0f"),
                         "radius_m": _fmt(c["radius_m"], "%.0f"), "indoor": _bool(c["indoor"])}).astype(object)


def _repeaters_table(city: _City) -> pd.DataFrame:
    r = city.repeaters
    return pd.DataFrame({"repeater_id": r["repeater_id"],
                         "donor_cell_id": city.cells["cell_id"].to_numpy()[r["donor"].to_numpy()],
                         "lat": _fmt(r["lat"], "%.6f"), "lon": _fmt(r["lon"], "%.6f"),
                         "azimuth_deg": _fmt(r["azimuth_deg"], "%.0f"),
                         "beamwidth_deg": _fmt(r["beamwidth_deg"], "%.0f"),
                         "radius_m": _fmt(r["radius_m"], "%.0f"), "indoor": _bool(r["indoor"]),
                         "maintainer": r["maintainer"]}).astype(object)


def _transport_table(city: _City) -> pd.DataFrame:
    hubs, aggs = city.hubs, city.aggs
    ids = ["CORE01", *aggs["node_id"], *hubs["node_id"]]
    parent = ["", *["CORE01"] * len(aggs), *aggs["node_id"].to_numpy()[hubs["agg"].to_numpy()]]
    lat = np.concatenate([[CENTRE_LAT], aggs["lat"], hubs["lat"]])
    lon = np.concatenate([[CENTRE_LON], aggs["lon"], hubs["lon"]])
    kind = ["core", *["aggregation"] * len(aggs), *["hub"] * len(hubs)]
    return pd.DataFrame({"node_id": ids, "kind": kind, "parent_id": parent, "lat": _fmt(lat, "%.6f"),
                         "lon": _fmt(lon, "%.6f"), "maintainer": TRANSPORT_TEAM}).astype(object)


def _events_table(city: _City, plan: _Plan, clock: _Clock) -> pd.DataFrame:
    ev = pd.DataFrame(plan.events)
    ev["element_id"] = city.node_id[ev["node"].to_numpy()]
    ev = ev.sort_values(["start", "element_id"], kind="stable").reset_index(drop=True)
    prev = ev["prev"].apply(lambda p: p if p else (np.nan, np.nan))
    planned = ev["planned"].map({True: "true", False: "false"}).fillna("").astype(object)
    return pd.DataFrame({
        "event_id": [f"EV{k:06d}" for k in range(1, len(ev) + 1)], "element_id": ev["element_id"],
        "event_type": ev["type"], "severity": ev["severity"],
        "start_time": clock.iso(ev["start"], offset_h=0), "end_time": clock.iso(ev["end"], offset_h=0),
        "planned": planned, "prev_lat": _fmt([p[0] for p in prev], "%.6f"),
        "prev_lon": _fmt([p[1] for p in prev], "%.6f"), "detail": ev["detail"]}).astype(object)


def _complaints_table(rng, city: _City, clock: _Clock, placed: pd.DataFrame) -> pd.DataFrame:
    """The complaints file: ids by day of receipt, converted positions, categories, people."""
    n = len(placed)
    lat, lon, system = _convert_positions(rng, placed["lat"].to_numpy(), placed["lon"].to_numpy())
    category = np.empty(n, dtype=object)
    for cause, (options, probs) in CATEGORY_BY_CAUSE.items():
        mask = placed["cause"].to_numpy() == cause
        category[mask] = _choice(rng, options, probs, int(mask.sum()))
    description = np.array([DESCRIPTIONS[c][i % len(DESCRIPTIONS[c])] for c, i in
                            zip(category, rng.integers(0, 1000, n))], dtype=object)
    if n >= 10:
        description[rng.choice(n, size=2, replace=False)] = MALICIOUS
    return pd.DataFrame({
        "complaint_id": _complaint_ids(clock, placed["received"].to_numpy()),
        "received_at": clock.iso(placed["received"], offset_h=LOCAL_OFFSET_H),
        "occurred_at": clock.iso(placed["occurred"], offset_h=LOCAL_OFFSET_H),
        "lat": lat, "lon": lon, "coord_system": system, "category": category,
        "indoor": _bool(placed["indoor"]), "channel": _choice(rng, *CHANNELS, n),
        "customer_id": _customers(rng, placed), "vip": _bool(rng.random(n) < 0.04),
        "description": description}).astype(object)


def _convert_positions(rng, lat, lon):
    """~20% GCJ-02, ~10% BD-09, the rest WGS-84 (some with an empty coord_system); 6 decimals."""
    u = rng.random(len(lat))
    system = np.select([u < 0.2, u < 0.3, u < 0.95], ["gcj02", "bd09", "wgs84"], "").astype(object)
    out_lon, out_lat = lon.copy(), lat.copy()
    for name, forward in (("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)):
        m = system == name
        if m.any():
            out_lon[m], out_lat[m] = forward(lon[m], lat[m])
    return _fmt(out_lat, "%.6f"), _fmt(out_lon, "%.6f"), system


def _complaint_ids(clock: _Clock, received) -> np.ndarray:
    """``CP`` + local yymmdd of receipt + a per-day sequence (4 digits, more when needed)."""
    local = (np.floor(received).astype(np.int64) + clock.epoch0 + LOCAL_OFFSET_H * HOUR).astype("datetime64[s]")
    day = pd.Series(pd.to_datetime(local).strftime("%y%m%d"))
    seq = day.groupby(day).cumcount().to_numpy() + 1
    width = max(4, len(str(int(seq.max())))) if len(seq) else 4
    return np.array([f"CP{d}{k:0{width}d}" for d, k in zip(day, seq)], dtype=object)


def _customers(rng, placed: pd.DataFrame) -> np.ndarray:
    """11-digit mobile numbers; ~15% of complaints repeat an earlier customer of the same place/issue."""
    n = len(placed)
    prefix = rng.choice(PHONE_PREFIXES, n)
    numbers = np.array([f"{p}{r:08d}" for p, r in zip(prefix, rng.integers(0, 10 ** 8, n))], dtype=object)
    key = np.where(placed["incident"].to_numpy() >= 0, placed["incident"].to_numpy(),
                   -1 - placed["target"].to_numpy())
    order = np.lexsort((placed["received"].to_numpy(), key))
    repeat = rng.random(n) < 0.15
    for prev, cur in zip(order[:-1], order[1:]):
        if key[prev] == key[cur] and repeat[cur]:
            numbers[cur] = numbers[prev]
    return numbers


# ============================================================================= bad rows
def _insert(frame: pd.DataFrame, rows: list) -> tuple[pd.DataFrame, list]:
    """Insert ``(position, row dict, id, what)`` before good row ``position``; return 1-based row numbers."""
    if not rows:
        return frame, []
    bad = pd.DataFrame([r[1] for r in rows], columns=frame.columns).fillna("").astype(object)
    order, where = _merge_order(len(frame), [r[0] for r in rows])
    merged = pd.concat([frame, bad], ignore_index=True).iloc[order].reset_index(drop=True)
    return merged, [(int(w) + 1, r[2], r[3]) for w, r in zip(where, rows)]


def _quiet_sites(city: _City, plan: _Plan) -> np.ndarray:
    """Sites no planted incident touches (directly or upstream): hosts for bad rows."""
    touched = np.zeros(len(city.node_id), dtype=bool)
    touched[[e["node"] for e in plan.events]] = True
    site = np.arange(len(city.sites))
    hub = city.sites["hub"].to_numpy()
    quiet = ~touched[city.offset["site"] + site] & ~touched[city.offset["hub"] + hub]
    quiet &= ~touched[city.offset["agg"] + city.hubs["agg"].to_numpy()[hub]]
    cell_touched = touched[city.offset["cell"]:city.offset["cell"] + len(city.cells)]
    busy = np.bincount(city.cells["site"].to_numpy(), weights=cell_touched, minlength=len(site)) > 0
    return quiet & ~busy


def _plant_bad_rows(rng, tables: dict, city: _City, clock: _Clock, quiet) -> list:
    """A few contract-breaking rows per table; returns ``(table, row, id, what)`` entries."""
    planted = []
    for name, rows in _bad_row_specs(rng, tables, city, clock, quiet).items():
        tables[name], listed = _insert(tables[name], rows)
        planted += [(name, row, rid, what) for row, rid, what in listed]
    return planted


def _bad_row_specs(rng, tables, city: _City, clock: _Clock, quiet) -> dict:
    """The planted rows of every table, as ``_insert`` wants them."""
    hosts = _central_sites(city, quiet, 5, rng)
    return {"sites": _bad_sites(rng, tables["sites"]), "cells": _bad_cells(rng, tables["cells"], city, hosts[:4]),
            "repeaters": _bad_repeaters(rng, tables["repeaters"], city, hosts[4]),
            "transport": _bad_transport(rng, tables["transport"]),
            "events": _bad_events(rng, tables["events"], city, clock),
            "complaints": _bad_complaints(rng, tables["complaints"], clock)}


def _central_sites(city: _City, quiet, k: int, rng) -> np.ndarray:
    """``k`` quiet sites among the most central fifth (any sites if too few are quiet)."""
    order = np.argsort(np.hypot(city.sites["x"], city.sites["y"]).to_numpy(), kind="stable")
    central = order[:max(k, len(order) // 5)]
    pool = central[quiet[central]] if quiet[central].sum() >= k else central
    return rng.choice(pool, size=k, replace=False)


def _bad_sites(rng, sites: pd.DataFrame) -> list:
    """A site with a non-numeric latitude and a duplicated site_id."""
    n = len(sites)
    width = len(sites["site_id"].iat[0]) - 1
    new_id = f"S{n + 901:0{width}d}"
    dup = int(rng.integers(0, n // 2))
    first = sites.iloc[0]
    return [
        (int(rng.integers(1, n)), {**first.to_dict(), "site_id": new_id, "name": f"SZ-Futian-{n + 901:04d}",
                                   "lat": "22°32'N"}, new_id, "lat is not a number"),
        (int(rng.integers(dup + 1, n + 1)), {**sites.iloc[dup].to_dict(), "name": sites["name"].iat[dup] + "-dup"},
         sites["site_id"].iat[dup], "duplicate site_id (the later row)"),
    ]


def _bad_cells(rng, cells: pd.DataFrame, city: _City, hosts) -> list:
    """Cells with an unknown site, azimuth 360, a negative radius, technology 6G, beamwidth 0."""
    n = len(cells)
    host = city.sites["site_id"].to_numpy()[hosts]
    base = {"technology": "LTE", "band_mhz": "1800", "azimuth_deg": "60", "beamwidth_deg": "65",
            "radius_m": "400", "indoor": "false"}
    width = len(city.sites["site_id"].iat[0]) - 1
    specs = [({"site_id": f"S{len(city.sites) + 950:0{width}d}"}, "site_id not in sites"),
             ({"site_id": host[0], "azimuth_deg": "360"}, "azimuth_deg 360 outside 0 <= x < 360"),
             ({"site_id": host[1], "radius_m": "-300"}, "negative radius_m"),
             ({"site_id": host[2], "technology": "6G"}, "unknown technology 6G"),
             ({"site_id": host[3], "beamwidth_deg": "0"}, "beamwidth_deg 0")]
    rows = []
    for k, (change, what) in enumerate(specs):
        cid = f"C{n + 1 + k:06d}"
        rows.append((int(rng.integers(1, n)), {"cell_id": cid, **base, **change}, cid, what))
    return rows


def _bad_repeaters(rng, reps: pd.DataFrame, city: _City, s: int) -> list:
    """A repeater whose donor cell does not exist."""
    rid = f"R{len(reps) + 1:04d}"
    row = {"repeater_id": rid, "donor_cell_id": "C999999", "lat": f"{city.sites['lat'].iat[s] + 0.002:.6f}",
           "lon": f"{city.sites['lon'].iat[s]:.6f}", "azimuth_deg": "", "beamwidth_deg": "", "radius_m": "300",
           "indoor": "false", "maintainer": city.sites["maintainer"].iat[s]}
    return [(int(rng.integers(0, len(reps) + 1)), row, rid, "donor_cell_id not in cells")]


def _bad_transport(rng, transport: pd.DataFrame) -> list:
    """Two hubs that are each other's parent."""
    n_hubs = int((transport["kind"] == "hub").sum())
    width = len(transport["node_id"].iat[-1]) - 3
    a, b = (f"HUB{n_hubs + k:0{width}d}" for k in (1, 2))
    base = {"kind": "hub", "lat": f"{CENTRE_LAT + 0.01:.6f}", "lon": f"{CENTRE_LON + 0.01:.6f}",
            "maintainer": TRANSPORT_TEAM}
    n = len(transport)
    return [(int(rng.integers(5, n)), {**base, "node_id": a, "parent_id": b}, a, f"parent cycle {a} > {b} > {a}"),
            (n, {**base, "node_id": b, "parent_id": a}, b, f"parent cycle {b} > {a} > {b}")]


def _bad_events(rng, events: pd.DataFrame, city: _City, clock: _Clock) -> list:
    """Bad events dated a week before the period, so that none could touch a complaint window."""
    n = len(events)
    t = -7 * DAY + 3 * HOUR + 1234.0
    start, end, before = (clock.iso([v], offset_h=0)[0] for v in (t, t + HOUR, t - HOUR))
    site = city.sites["site_id"].iat[int(rng.integers(0, len(city.sites)))]
    width = len(city.sites["site_id"].iat[0]) - 1
    base = {"element_id": site, "event_type": "fault", "severity": "major", "start_time": start,
            "end_time": end, "planned": "", "prev_lat": "", "prev_lon": "", "detail": "基站退服 site out of service"}
    specs = [({"end_time": before}, "end_time before start_time"),
             ({"element_id": f"S{len(city.sites) + 970:0{width}d}"}, "element_id not in the inventory"),
             ({"event_type": "maintenance"}, "unknown event_type maintenance"),
             ({"severity": "P1"}, "unknown severity P1")]
    rows = []
    for k, (change, what) in enumerate(specs):
        eid = f"EV{n + 1 + k:06d}"
        rows.append((int(rng.integers(0, n + 1)), {**base, "event_id": eid, **change}, eid, what))
    return rows


def _bad_complaints(rng, complaints: pd.DataFrame, clock: _Clock) -> list:
    """Complaints without a usable place, time, category or coordinate system, and a duplicate id."""
    n = len(complaints)
    template = complaints.iloc[n // 2].to_dict()
    day = template["complaint_id"][2:8]
    taken = set(complaints["complaint_id"])
    fresh = (cid for cid in (f"CP{day}9{k:03d}" for k in range(1, 1000)) if cid not in taken)
    specs = [({"lat": ""}, "lat missing"), ({"lat": "95.000000"}, "lat 95 outside -90..90"),
             ({"lat": "0.000000", "lon": "0.000000"}, "position (0, 0)"),
             ({"received_at": "yesterday"}, "received_at 'yesterday' is not a timestamp"),
             ({"category": "billing_dispute"}, "unknown category billing_dispute"),
             ({"coord_system": "utm50n"}, "unknown coord_system utm50n")]
    rows = []
    for change, what in specs:
        cid = next(fresh)
        rows.append((int(rng.integers(0, n + 1)), {**template, "complaint_id": cid, "coord_system": "wgs84",
                                                   "occurred_at": "", **change}, cid, what))
    dup = int(rng.integers(0, n // 2))
    other = complaints.iloc[int(rng.integers(n // 2, n))].to_dict()
    rows.append((int(rng.integers(dup + 1, n + 1)), {**other, "complaint_id": complaints["complaint_id"].iat[dup]},
                 complaints["complaint_id"].iat[dup], "duplicate complaint_id (the later row)"))
    return rows


# ============================================================================= writing
def _write_csv(frame: pd.DataFrame, path: Path) -> int:
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return len(frame)


def _merge_order(n_good: int, positions) -> tuple[np.ndarray, np.ndarray]:
    """Order that puts extra rows (appended after ``n_good`` good rows) before good row ``position``.

    Returns ``(order, where)``: ``rows[order]`` is the merged table and ``where[k]`` the 0-based
    merged position of appended row ``k`` (ties keep their listed order).
    """
    keys = np.concatenate([np.arange(n_good) * 2 + 1, np.asarray(positions, dtype=np.int64) * 2])
    order = np.argsort(keys, kind="stable")
    where = np.empty(len(keys), dtype=np.int64)
    where[order] = np.arange(len(keys))
    return order, where[n_good:]


def _load_bad_rows(city: _City, clock: _Clock, load_format: str) -> list:
    """Planted load rows: ``(day, position in that day's chunk, cell_id, prb_dl_pct, what)``.

    Even read leniently they change nothing: no congestion, no sleeping cell.
    """
    day = min(2, clock.days - 1)
    good = city.cells["cell_id"].iat[0]
    if load_format == "csv":
        text = ("#VALUE!", "prb_dl_pct '#VALUE!' is not a number")
    else:
        text = (None, "prb_dl_pct missing (null)")
    return [(day, 17, "C999998", 40.0, "cell_id not in cells"),
            (day, 4242, good, text[0], text[1]),
            (day, 9001, good, -5.0, "prb_dl_pct -5 outside 0..100")]


def _day_frame(city: _City, clock: _Clock, mods: _Mods, seed: int, day: int) -> dict:
    """One day of hourly counters as columns (rows ordered by hour, then cell)."""
    cells = city.cells
    rng = np.random.default_rng([seed, 1000 + day])
    n = len(cells)
    hours = np.arange(day * 24, day * 24 + 24)
    act = ACTIVITY[clock.local_hour(hours * HOUR)][:, None]
    users = cells["peak_users"].to_numpy()[None, :] * act * np.exp(rng.normal(0, 0.15, (24, n)))
    prb = np.clip(cells["peak_prb"].to_numpy()[None, :] * act * np.exp(rng.normal(0, 0.10, (24, n))),
                  *NORMAL_PRB_RANGE)
    noise = np.clip(cells["noise_mu"].to_numpy()[None, :] + rng.normal(0, 0.8, (24, n)), *NORMAL_NOISE_RANGE)
    cols = {"prb_dl_pct": prb.ravel(), "ul_noise_dbm": noise.ravel(),
            "users": np.maximum(users, NORMAL_MIN_USERS).ravel()}
    cols["prb_ul_pct"] = cols["prb_dl_pct"] * rng.uniform(0.25, 0.6, 24 * n)
    lo, hi = day * 24 * n, (day + 1) * 24 * n
    _apply(cols, mods.congested, mods.congested_prb, lo, hi, "prb_dl_pct")
    _apply(cols, mods.noisy, mods.noisy_dbm, lo, hi, "ul_noise_dbm")
    sleep = _slice(mods.sleeping, lo, hi) - lo
    cols["users"][sleep] = 0.0
    cols["prb_dl_pct"][sleep] = rng.uniform(0.0, SLEEPING_PRB - 0.2, len(sleep))
    cols["prb_ul_pct"][sleep] = rng.uniform(0.0, 0.3, len(sleep))
    keep = np.ones(24 * n, bool)
    keep[_slice(mods.off, lo, hi) - lo] = False
    out = {k: np.round(v[keep], 1) for k, v in cols.items()}
    out["cell"] = np.tile(np.arange(n), 24)[keep]
    out["hour"] = np.repeat(hours, n)[keep]
    return out


def _slice(keys: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """The sorted keys in ``[lo, hi)``."""
    return keys[np.searchsorted(keys, lo):np.searchsorted(keys, hi)]


def _apply(cols, keys, values, lo, hi, column) -> None:
    """Overwrite ``column`` where ``keys`` fall in ``[lo, hi)`` with ``values``."""
    a, b = np.searchsorted(keys, lo), np.searchsorted(keys, hi)
    cols[column][keys[a:b] - lo] = values[a:b]


def _day_table(city: _City, clock: _Clock, day: dict, load_format: str, bad: list) -> tuple[pa.Table, list]:
    """A day's rows as an Arrow table with any planted rows spliced in; ``(table, [(row, id, what)])``."""
    n_good = len(day["cell"])
    cols = {"cell_id": city.cells["cell_id"].to_numpy(object)[day["cell"]], "hour": day["hour"],
            "prb_dl_pct": day["prb_dl_pct"], "prb_ul_pct": day["prb_ul_pct"],
            "ul_noise_dbm": day["ul_noise_dbm"], "users": day["users"]}
    text = np.zeros(n_good, dtype=object)      # prb_dl_pct replaced by text (CSV) or None (null)
    replaced = np.zeros(n_good, dtype=bool)
    listed = []
    if bad and n_good:
        positions = [min(b[1], n_good) for b in bad]
        order, where = _merge_order(n_good, positions)
        like = np.minimum(positions, n_good - 1)
        extra = {k: v[like].copy() for k, v in cols.items()}
        extra["cell_id"] = np.array([b[2] for b in bad], dtype=object)
        numeric = np.array([isinstance(b[3], float) for b in bad])
        extra["prb_dl_pct"] = np.where(numeric, [b[3] if isinstance(b[3], float) else 0.0 for b in bad], 0.0)
        cols = {k: np.concatenate([v, extra[k]])[order] for k, v in cols.items()}
        text = np.concatenate([text, np.array([b[3] for b in bad], dtype=object)])[order]
        replaced = np.concatenate([replaced, ~numeric])[order]
        listed = [(int(w) + 1, b[2], b[4]) for w, b in zip(where, bad)]
    return _arrow_load(cols, clock, load_format, text, replaced), listed


def _arrow_load(cols: dict, clock: _Clock, load_format: str, text, replaced) -> pa.Table:
    """Arrow columns: UTC-aware timestamps (parquet) or ISO ``Z`` strings (CSV)."""
    hours = cols["hour"].astype(np.int64)
    if load_format == "csv":
        first = int(hours.min()) if len(hours) else 0
        labels = clock.iso(np.arange(first, int(hours.max(initial=first)) + 1) * HOUR, offset_h=0)
        stamp = pa.DictionaryArray.from_arrays(pa.array((hours - first).astype(np.int32)), pa.array(list(labels)))
    else:
        stamp = pa.array((hours * HOUR + clock.epoch0) * 1000, type=pa.int64()).cast(pa.timestamp("ms", tz="UTC"))
    prb = pa.array(cols["prb_dl_pct"], type=pa.float64(), mask=replaced & (load_format != "csv"))
    if load_format == "csv" and replaced.any():
        as_text = pc.cast(prb, pa.string()).to_numpy(zero_copy_only=False).astype(object)
        as_text[replaced] = text[replaced]
        prb = pa.array(as_text, type=pa.string())
    arrays = {"cell_id": pa.array(cols["cell_id"], type=pa.string()), "timestamp": stamp,
              "period_min": pa.array(np.full(len(hours), 60, np.int32)), "prb_dl_pct": prb,
              "prb_ul_pct": pa.array(cols["prb_ul_pct"], type=pa.float64()),
              "ul_noise_dbm": pa.array(cols["ul_noise_dbm"], type=pa.float64()),
              "users": pa.array(cols["users"], type=pa.float64())}
    return pa.table({name: arrays[name] for name in LOAD_COLUMNS})


def _write_load(out: Path, city, clock, mods, seed, load_format, bad, say) -> tuple[int, list]:
    """Write the load table day by day (parquet row groups, or appended CSV chunks).

    Returns the number of data rows and the planted rows as ``(table, row, id, what)``.
    """
    path = out / f"load.{load_format}"
    total, listed, writer = 0, [], None
    with open(path, "wb") as sink:
        for d in range(clock.days):
            say(f"load day {d + 1}/{clock.days}")
            table, rows = _day_table(city, clock, _day_frame(city, clock, mods, seed, d), load_format,
                                     [b for b in bad if b[0] == d])
            listed += [("load", total + row, cid, what) for row, cid, what in rows]
            total += table.num_rows
            if load_format == "csv":
                pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=d == 0, quoting_style="none"))
                continue
            if writer is None:
                writer = pq.ParquetWriter(sink, table.schema, compression="snappy")
            writer.write_table(table)
        if writer is not None:
            writer.close()
    return total, listed


def _write_truth(out: Path, city: _City, plan: _Plan, clock: _Clock, placed: pd.DataFrame,
                 complaints: pd.DataFrame, bad: list) -> dict:
    """truth/complaints.csv, truth/incidents.csv and truth/bad_rows.csv."""
    incidents = _incidents_table(plan, clock)
    order = np.argsort([inc["start"] for inc in plan.incidents], kind="stable")
    incident_id = np.empty(len(order), dtype=object)
    incident_id[order] = incidents["incident_id"].to_numpy(object)
    bad_complaints = [row for table, row, _, _ in bad if table == "complaints"]
    good = ~np.isin(np.arange(1, len(complaints) + 1), bad_complaints)
    root = placed["root"].to_numpy()
    inc = placed["incident"].to_numpy()
    truth = pd.DataFrame({
        "complaint_id": complaints["complaint_id"].to_numpy(object)[good],
        "cause": np.array(CAUSES, dtype=object)[placed["cause"].to_numpy()],
        "element_id": np.where(root >= 0, city.node_id[np.maximum(root, 0)], ""),
        "incident_id": np.where(inc >= 0, incident_id[np.maximum(inc, 0)] if len(incident_id) else "", ""),
    }).astype(object)
    bad_frame = pd.DataFrame(sorted(bad, key=lambda b: (b[0], b[1])), columns=TRUTH_COLUMNS["bad_rows"])
    return {"truth/complaints": _write_csv(truth, out / "truth" / "complaints.csv"),
            "truth/incidents": _write_csv(incidents, out / "truth" / "incidents.csv"),
            "truth/bad_rows": _write_csv(bad_frame, out / "truth" / "bad_rows.csv")}


def _incidents_table(plan: _Plan, clock: _Clock) -> pd.DataFrame:
    """truth/incidents.csv rows, ordered by start time."""
    inc = pd.DataFrame(plan.incidents).sort_values("start", kind="stable").reset_index(drop=True)
    planned = inc["planned"].map({True: "true", False: "false"}).fillna("").astype(object)
    return pd.DataFrame({
        "incident_id": [f"INC{k:04d}" for k in range(1, len(inc) + 1)],
        "cause": np.array(CAUSES, dtype=object)[inc["cause"].to_numpy()],
        "element_id": inc["element_id"], "start_time": clock.iso(inc["start"], offset_h=0),
        "end_time": clock.iso(inc["end"], offset_h=0), "planned": planned, "note": inc["note"]}).astype(object)
