"""Shared constants, the clock and the geometry helpers of the sample generator.

Owns what more than one module of :mod:`netdiag.sample` needs: the centre and the time zone, the
footprint semantics and edge margins, element levels and causes, the hourly activity curve, the
contract's column lists, :class:`_Clock` (seconds since the period's start) and the local-metre
and great-circle helpers. Imports nothing from netdiag.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from netdiag.errors import InputError

CENTRE_LAT, CENTRE_LON = 22.543, 114.058
LOCAL_OFFSET_H = 8                      # Shenzhen local time, UTC+08:00, no daylight saving
HOUR, DAY = 3600, 86400
EARTH_R = 6371008.8
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(CENTRE_LAT))

# footprint semantics (CONTRACT.md / netdiag.settings defaults)
DEFAULT_BEAMWIDTH = 65.0
MAST_ZONE_M = 100.0
CONGESTED_PRB = 85.0
INTERFERED_DBM = -105.0
SLEEPING_PRB = 1.0
LOOKBACK_S = 72 * HOUR
# margins that keep the truth clear of footprint edges
EDGE_MIN_M, EDGE_FRAC, EDGE_DEG, MAST_EDGE_M = 15.0, 0.04, 3.0, 10.0
HOLE_CLEARANCE = 2.0                         # a hole is farther than this x every radius

# element levels (upstream last), causes (as written to truth/) and kinds of serving element
LEVELS = ("repeater", "cell", "site", "hub", "aggregation", "core")
REP, CELL, SITE, HUB, AGG, CORE = range(6)
CAUSES = ("fault", "shutdown", "relocation", "interference", "congestion", "coverage_hole", "no_fault_found")
FAULT, SHUTDOWN, RELOCATION, INTERFERENCE, CONGESTION, HOLE, NFF = range(7)
SE_CELL, SE_REPEATER, SE_OLD = 0, 1, 2

#: hourly activity by local hour (users, PRB and when people complain)
ACTIVITY = np.array([0.30, 0.20, 0.14, 0.11, 0.10, 0.13, 0.25, 0.45, 0.65, 0.72, 0.75, 0.78,
                     0.80, 0.78, 0.76, 0.78, 0.80, 0.85, 0.90, 0.97, 1.00, 0.98, 0.80, 0.50])

TRANSPORT_TEAM = "传输代维 TransNet O&M"

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
            raise InputError(f"`start` was {start!r} but is expected to be an ISO 8601 timestamp") from None
        if ts.tzinfo is None:
            ts = ts.tz_localize(f"Etc/GMT-{LOCAL_OFFSET_H}")
        if ts.minute or ts.second or ts.microsecond or ts.nanosecond or ts.timestamp() % HOUR:
            raise InputError(f"`start` was {start!r} but is expected to be on a whole hour")
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
