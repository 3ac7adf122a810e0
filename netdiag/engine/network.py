"""The network prepared once: footprints, topology, element state and the element table.

:func:`prepare` builds a :class:`Network` from a validated dataset; diagnosis, the handler's
check, tickets and maps all read from it. Building it costs most of a run's preparation time
(about 75 us per cell), so ``netdiag serve`` keeps one between queries.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from netdiag.engine.footprints import build_footprints
from netdiag.engine.status import interference_events, merge_intervals, outages, scan_counters
from netdiag.engine.topology import Topology, build_topology
from netdiag.settings import Settings


@dataclass
class Network:
    """Everything about the network that diagnosis needs, prepared once."""

    ds: object
    settings: Settings
    footprints: gpd.GeoDataFrame
    topology: Topology
    outages: pd.DataFrame
    interference: pd.DataFrame
    anomalies: pd.DataFrame
    elements: pd.DataFrame  # element_id -> kind, name, maintainer, region, lat, lon
    site_xy: pd.DataFrame
    to_xy: Transformer = field(repr=False)
    _site_tree: shapely.STRtree | None = field(default=None, repr=False)
    _fp_attributes: pd.DataFrame | None = field(default=None, repr=False)
    _incidents_by_element: dict | None = field(default=None, repr=False)
    _until: tuple | None = field(default=None, repr=False)

    @property
    def footprint_attributes(self) -> pd.DataFrame:
        """What the serving join needs of each footprint, indexed by ``fp_id`` (kept once made)."""
        if self._fp_attributes is None:
            cols = ["element_id", "kind", "variant", "event_id", "valid_from", "valid_to"]
            self._fp_attributes = pd.DataFrame(self.footprints[["fp_id"] + cols]).set_index("fp_id")
        return self._fp_attributes

    def incidents(self, cause: str, element_id: str) -> list[tuple[pd.Timestamp, pd.Timestamp, list]]:
        """The incidents of one element and cause (``fault``, ``shutdown`` or ``interference``):
        its overlapping intervals merged (:func:`~netdiag.engine.status.merge_intervals`), earliest
        first, as ``(first start, last end or NaT while still going on, event ids)``.

        Made once per network for every element, so a ticket store can look up one element per
        open ticket without a pandas call each time.
        """
        if self._incidents_by_element is None:
            self._incidents_by_element = _incident_index(self.outages, self.interference)
        return self._incidents_by_element.get((cause, element_id), [])

    def data_until(self) -> pd.Timestamp | None:
        """The end of what the data has seen: the last counter period's end or the last alarm's start,
        whichever is later (None when it holds neither). A window from then on has nothing to judge by."""
        if self._until is None:
            found = []
            latest = self.ds.counters.latest()
            if latest is not None:
                found.append(pd.Timestamp(latest) + pd.Timedelta(minutes=self.settings.period_min))
            alarm = self.ds.last_alarm()
            if alarm is not None:
                found.append(alarm)
            self._until = (max(found) if found else None,)
        return self._until[0]

    def nearest_site(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """(site_id, distance_m) of the nearest located site to each point."""
        if self._site_tree is None:
            self._site_tree = shapely.STRtree(shapely.points(self.site_xy["x"].to_numpy(), self.site_xy["y"].to_numpy()))
        if not len(self.site_xy):
            n = len(np.atleast_1d(x))
            return np.full(n, None, dtype=object), np.full(n, np.inf)
        (_, idx), dist = self._site_tree.query_nearest(shapely.points(x, y), return_distance=True, all_matches=False)
        return self.site_xy["site_id"].to_numpy(dtype=object)[idx], dist


def _incident_index(outage_rows: pd.DataFrame, interference: pd.DataFrame) -> dict:
    """(cause, element_id) -> incidents, for :meth:`Network.incidents`."""
    cols = ["cause", "element_id", "start", "end", "event_id"]
    iv = pd.concat([outage_rows[cols], interference.assign(cause="interference")[cols]], ignore_index=True)
    if iv.empty:
        return {}
    iv["start"], iv["end"] = pd.to_datetime(iv["start"], utc=True), pd.to_datetime(iv["end"], utc=True)
    iv["_group"] = merge_intervals(iv, ["cause", "element_id"])
    iv = iv.sort_values(["_group", "start"], kind="stable")
    g = iv.groupby("_group", sort=True)
    merged = pd.DataFrame({"cause": g["cause"].first(), "element_id": g["element_id"].first(), "first": g["start"].min(),
                           "last": g["end"].max().where(~iv["end"].isna().groupby(iv["_group"]).any()),
                           "events": g["event_id"].agg(list)})
    index: dict = {}
    for r in merged.itertuples(index=False):  # once per incident, when the network is prepared
        index.setdefault((r.cause, r.element_id), []).append((r.first, r.last, r.events))
    return index


def prepare(ds, *, settings: Settings | None = None, progress: Callable[[str], None] | None = None,
            engine=None) -> Network:
    """Footprints, topology and state of the network of ``ds`` (see :class:`Network`); the counters
    are read by ``engine`` (:mod:`netdiag.engine.engines`, default this process)."""
    settings = settings or ds.settings
    say = progress or (lambda _t: None)
    say("footprints")
    fp = ds.footprints if ds.footprints is not None else build_footprints(ds, settings=settings)
    say("topology")
    topo = build_topology(ds)
    say("status from alarms and counters")
    transport_ids = ds["transport"]["node_id"].tolist()
    anomalies, sleeping = scan_counters(ds.counters, settings=settings, engine=engine)
    out = outages(ds, settings=settings, transport_ids=transport_ids, sleeping=sleeping)
    inter = interference_events(ds)
    to_xy = Transformer.from_crs(CRS.from_epsg(4326), ds.crs, always_xy=True)
    sites = ds["sites"].dropna(subset=["lat", "lon"])
    sx, sy = to_xy.transform(sites["lon"].to_numpy(float), sites["lat"].to_numpy(float))
    site_xy = pd.DataFrame({"site_id": sites["site_id"].to_numpy(dtype=object), "x": np.asarray(sx, float),
                            "y": np.asarray(sy, float)})
    return Network(ds, settings, fp, topo, out, inter, anomalies, _element_table(ds), site_xy, to_xy)


def _element_table(ds) -> pd.DataFrame:
    """One row per element: kind, name, maintainer, region and position (cells at their site)."""
    sites = ds["sites"].set_index("site_id")
    cells = ds["cells"]
    parts = [
        pd.DataFrame({"element_id": sites.index.to_numpy(dtype=object), "kind": "site", "name": sites["name"].to_numpy(dtype=object),
                      "maintainer": sites["maintainer"].to_numpy(dtype=object), "region": sites["region"].to_numpy(dtype=object),
                      "lat": sites["lat"].to_numpy(float), "lon": sites["lon"].to_numpy(float)}),
        pd.DataFrame({"element_id": cells["cell_id"].to_numpy(dtype=object), "kind": "cell",
                      "name": cells["site_id"].map(sites["name"]).to_numpy(dtype=object),
                      "maintainer": cells["site_id"].map(sites["maintainer"]).to_numpy(dtype=object),
                      "region": cells["site_id"].map(sites["region"]).to_numpy(dtype=object),
                      "lat": cells["site_id"].map(sites["lat"]).to_numpy(float),
                      "lon": cells["site_id"].map(sites["lon"]).to_numpy(float)}),
    ]
    reps = ds["repeaters"]
    if len(reps):
        donor_site = reps["donor_cell_id"].map(cells.set_index("cell_id")["site_id"])
        parts.append(pd.DataFrame({
            "element_id": reps["repeater_id"].to_numpy(dtype=object), "kind": "repeater", "name": reps["repeater_id"].to_numpy(dtype=object),
            "maintainer": reps["maintainer"].fillna(donor_site.map(sites["maintainer"])).to_numpy(dtype=object),
            "region": donor_site.map(sites["region"]).to_numpy(dtype=object),
            "lat": reps["lat"].to_numpy(float), "lon": reps["lon"].to_numpy(float)}))
    tr = ds["transport"]
    if len(tr):
        parts.append(pd.DataFrame({
            "element_id": tr["node_id"].to_numpy(dtype=object), "kind": "transport", "name": tr["kind"].to_numpy(dtype=object),
            "maintainer": tr["maintainer"].to_numpy(dtype=object), "region": None,
            "lat": tr["lat"].to_numpy(float), "lon": tr["lon"].to_numpy(float)}))
    return pd.concat(parts, ignore_index=True).drop_duplicates("element_id").set_index("element_id")
