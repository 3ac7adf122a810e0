"""Deterministic sample data: a synthetic mobile network around Shenzhen, with known truth.

:func:`generate` writes a complete netdiag data directory (the tables of CONTRACT.md) plus a
``truth/`` folder that says, for every complaint, what a correct diagnosis must find. The same
arguments always give byte-identical files. Everything is drawn from one
``numpy.random.Generator(seed)``; the load table is drawn day by day from ``(seed, day)``.

The subpackage owns ``netdiag sample``'s generator, from the random city to the files and
their ground truth. Its truth never depends on the diagnosis: besides each other, its modules
may import only :mod:`netdiag.data.coords` and :mod:`netdiag.errors` from netdiag (never :mod:`netdiag.engine`,
:mod:`netdiag.tickets` or :mod:`netdiag.views`), and numpy, pandas, pyarrow and shapely.
Only :func:`generate` and the column lists (``LOAD_COLUMNS``, ``TABLE_COLUMNS``,
``TRUTH_COLUMNS``) are public.

- :mod:`~netdiag.sample._common`: shared constants, the clock, geometry helpers;
- :mod:`~netdiag.sample.city`: site layout, cells, transport and repeaters;
- :mod:`~netdiag.sample.incidents`: the planted incidents and the events they raise;
- :mod:`~netdiag.sample.load`: which counters the incidents change, the hourly load table;
- :mod:`~netdiag.sample.truth`: serving elements, conditions, the judge, the truth files;
- :mod:`~netdiag.sample.complaints`: placing complaints, ids, customers, descriptions;
- :mod:`~netdiag.sample.writing`: value formatting, the inventory and event tables, CSV files;
- :mod:`~netdiag.sample.bad_rows`: the planted contract-breaking rows.

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
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from netdiag.errors import InputError, OutputExistsError
from netdiag.sample._common import LOAD_COLUMNS, TABLE_COLUMNS, TRUTH_COLUMNS, _Clock
from netdiag.sample.bad_rows import _load_bad_rows, _plant_bad_rows, _quiet_sites
from netdiag.sample.city import _build_city, _City
from netdiag.sample.complaints import _complaints_table, _place_complaints
from netdiag.sample.incidents import _Plan, _plan_incidents
from netdiag.sample.load import _load_modifications, _write_load
from netdiag.sample.truth import _conditions, _serving_elements, _write_truth
from netdiag.sample.writing import (
    _cells_table,
    _events_table,
    _repeaters_table,
    _sites_table,
    _transport_table,
    _write_csv,
)

__all__ = ["LOAD_COLUMNS", "TABLE_COLUMNS", "TRUTH_COLUMNS", "generate"]

log = logging.getLogger(__name__)


def generate(out_dir, *, n_sites: int = 300, seed: int = 7, days: int = 14,
             start: str = "2026-11-01T00:00:00+08:00", load_format: str = "parquet",
             complaints_per_site: float = 5.0, bad_rows: bool = True, overwrite: bool = True,
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
    overwrite : bool, default True
        Write into a folder that already holds files; when false such a folder is refused.
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
    OutputExistsError
        When ``out_dir`` holds files and ``overwrite`` is false.

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
    if not overwrite and out.is_dir() and any(out.iterdir()):
        raise OutputExistsError(f"{out} is not empty; pass `overwrite` to write into it")
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
        raise InputError("; ".join(problems))


def _tables(rng, city: _City, plan: _Plan, clock: _Clock, placed: pd.DataFrame) -> dict:
    """Every input table as a frame of strings, in contract column order."""
    tables = {"sites": _sites_table(city), "cells": _cells_table(city), "repeaters": _repeaters_table(city),
              "transport": _transport_table(city), "events": _events_table(city, plan, clock),
              "complaints": _complaints_table(rng, city, clock, placed)}
    return {name: frame[TABLE_COLUMNS[name]] for name, frame in tables.items()}
