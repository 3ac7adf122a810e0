"""Planted incidents: what fails, where and when, and the events and load periods it raises.

Owns :class:`_Plan` (incidents, events, noisy / congested / sleeping cell-hours, relocations),
:class:`_Planner` (one planting method per kind of incident) and :func:`_plan_incidents`, which
scales the counts to the city (see "Planted incidents" in :mod:`netdiag.sample`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from netdiag.sample._common import (
    AGG,
    CELL,
    CONGESTED_PRB,
    CONGESTION,
    DAY,
    FAULT,
    HOUR,
    HUB,
    INTERFERED_DBM,
    INTERFERENCE,
    LEVELS,
    RELOCATION,
    REP,
    SHUTDOWN,
    SITE,
    _Clock,
    _destination,
    _pick,
    _to_xy,
)
from netdiag.sample.city import _City, _terrain_cap

#: counts of planted incidents for 300 sites (scaled linearly with n_sites, at least 1 each)
INCIDENTS_PER_300 = {
    "hub_fault": 2, "site_fault": 6, "cell_fault": 8, "repeater_fault": 2, "donor_fault": 2,
    "shutdown_planned": 4, "shutdown_unplanned": 4, "relocation": 2, "interference_event": 4,
    "interference_load": 4, "congestion": 8, "sleeping": 3,
}
#: ... but at least this many, so that every variant shows up in a small city
MIN_INCIDENTS = {"shutdown_planned": 2, "shutdown_unplanned": 2}
WARNINGS_PER_300 = 24

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
            self._element_fault("site", s, SITE, hours=(2, 30), until_s=2 * DAY, severities=["critical", "major"],
                                key="site_fault", note="site out of service")

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
            what = "indoor cell" if cells["indoor"].iat[c] else "cell"
            self._element_fault("cell", c, CELL, hours=(1, 48), until_s=2 * DAY, severities=["major", "minor"],
                                key="cell_fault", note=f"{what} out of service")

    def repeater_faults(self, reps) -> None:
        """Faults of the repeaters ``reps`` themselves (6-72 h)."""
        for r in reps:
            self.site_used[self.city.cells["site"].iat[self.city.repeaters["donor"].iat[r]]] = True
            self._element_fault("rep", r, REP, hours=(6, 72), until_s=3 * DAY, severities=["major", "minor"],
                                key="repeater_fault", note="repeater out of service")

    def _element_fault(self, kind: str, index: int, level: int, *, hours: tuple[float, float], until_s: float,
                       severities: list[str], key: str, note: str) -> None:
        """One fault alarm on element ``index`` of ``kind`` and its incident: a start from half a
        day in to ``until_s`` before the end, a length drawn from ``hours``."""
        start = self.start_between(DAY / 2, self.clock.span - until_s)
        end = start + self.rng.uniform(*hours) * HOUR
        node = self.node(kind, index)
        self.event(node, "fault", str(self.rng.choice(severities)), start, end, key)
        self.incident(key, FAULT, node, start, end, target=(level, node), intervals=[(start, end)], note=note)

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
