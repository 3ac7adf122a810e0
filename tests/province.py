"""A synthetic province for the map's scale test: 50,000 sites, 200,000 sectors, 250,000 diagnosed complaints.

Diagnosing a quarter of a million complaints takes minutes; the map does not need the
diagnosis to be right, only to be there. So the inventory and the complaints go through the
real reading and validation (:func:`netdiag.data.dataset.load_dataset`) and the real network
preparation (:func:`netdiag.engine.network.prepare`: footprints, topology, outages from the
events), and the diagnoses are made up from where each complaint is: a complaint whose nearest
site has a fault (2,000 sites, down at the map time ``AT``) is blamed on it, the others get a
field test. Tickets: one per faulty site, one per field-tested complaint.
"""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from netdiag.data.dataset import load_dataset
from netdiag.data.privacy import mask_series
from netdiag.data.values import join_groups
from netdiag.engine.network import prepare

SITES = 50_000
CELLS_PER_SITE = 4  # three sectors and one omni cell
COMPLAINTS = 250_000
FAULTY_SITES = 2_000
AT = pd.Timestamp("2026-11-20T12:00Z")


def write_province(folder: Path, *, seed: int = 3, hostile: dict[int, str] | None = None) -> Path:
    """CSV files of the province into ``folder``; ``hostile`` puts text into some complaints' descriptions."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    cities = rng.uniform([111.0, 21.5], [116.0, 25.0], size=(14, 2))
    city = rng.integers(0, len(cities), SITES)
    urban = rng.random(SITES) < 0.75
    spread = np.where(urban, 0.06, 0.6)
    lon = np.round(cities[city, 0] + rng.normal(0, 1, SITES) * spread, 6)
    lat = np.round(cities[city, 1] + rng.normal(0, 1, SITES) * spread, 6)
    site_ids = np.char.add("S", np.char.zfill(np.arange(SITES).astype(str), 5))
    pd.DataFrame({"site_id": site_ids, "name": np.char.add("site ", site_ids), "lat": lat, "lon": lon,
                  "maintainer": np.char.add("team-", city.astype(str)),
                  "region": np.char.add("city-", city.astype(str))}).to_csv(folder / "sites.csv", index=False)
    k = np.tile(np.arange(CELLS_PER_SITE), SITES)
    owner = np.repeat(np.arange(SITES), CELLS_PER_SITE)
    pd.DataFrame({"cell_id": np.char.add("C", np.char.zfill(np.arange(SITES * CELLS_PER_SITE).astype(str), 6)),
                  "site_id": site_ids[owner], "technology": np.where(k == 3, "NR", "LTE"),
                  "band_mhz": np.where(k == 3, 3500, 1800),
                  "azimuth_deg": np.where(k == 3, np.nan, 120.0 * k),
                  "beamwidth_deg": 65, "radius_m": np.where(urban[owner], 350, 2500) * np.where(k == 3, 0.5, 1.0),
                  }).to_csv(folder / "cells.csv", index=False)
    faulty = rng.choice(SITES, FAULTY_SITES, replace=False)
    pd.DataFrame({"event_id": [f"E{i:05d}" for i in range(FAULTY_SITES)], "element_id": site_ids[faulty],
                  "event_type": "fault", "severity": "major", "start_time": "2026-11-20T08:00:00Z",
                  "end_time": "2026-11-20T18:00:00Z", "detail": "power failure"}).to_csv(folder / "events.csv", index=False)
    near = rng.integers(0, SITES, COMPLAINTS)
    received = pd.Timestamp("2026-11-01T00:00Z") + pd.to_timedelta(rng.uniform(0, 20 * 86400, COMPLAINTS), unit="s")
    description = np.array(["no signal at home", "calls drop in the lift", "slow data in the evening",
                            "weak signal in the office"], dtype=object)[rng.integers(0, 4, COMPLAINTS)]
    for row, text in (hostile or {}).items():
        description[row] = text
    pd.DataFrame({
        "complaint_id": np.char.add("K", np.char.zfill(np.arange(COMPLAINTS).astype(str), 6)),
        "received_at": received.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "lat": np.round(lat[near] + rng.normal(0, 0.003, COMPLAINTS), 6),
        "lon": np.round(lon[near] + rng.normal(0, 0.003, COMPLAINTS), 6),
        "category": np.array(["no_signal", "weak_signal", "call_drop", "slow_data"])[rng.integers(0, 4, COMPLAINTS)],
        "channel": "hotline", "customer_id": (13800000000 + rng.integers(0, 10**8, COMPLAINTS)).astype(str),
        "description": description,
    }).to_csv(folder / "complaints.csv", index=False)
    return folder


def province_result(folder: Path):
    """``(ds, result)`` of the province: read, validated and prepared for real; diagnoses made up (see the module)."""
    ds = load_dataset(folder)
    net = prepare(ds)
    c = ds["complaints"].reset_index(drop=True)
    site, _ = net.nearest_site(*net.to_xy.transform(c["lon"].to_numpy(float), c["lat"].to_numpy(float)))
    down = set(ds["events"]["element_id"])
    fault = pd.Series(site).isin(down).to_numpy()
    cells = ds["cells"].groupby("site_id")["cell_id"].agg(";".join)
    serving = pd.Series(site).map(cells).to_numpy(dtype=object)
    ticket = np.where(fault, "TF-" + pd.Series(site).astype(str), "TT-" + c["complaint_id"].astype(str))
    window = c["received_at"].dt.strftime("%Y-%m-%d %H:%MZ")
    diagnoses = pd.DataFrame({
        "complaint_id": c["complaint_id"], "cause": np.where(fault, "fault", "no_fault_found"),
        "element_id": np.where(fault, site, None), "via": None, "serving_ids": serving,
        "action": np.where(fault, "dispatch_repair", "dispatch_field_test"),
        "team": np.where(fault, "repair", "field"), "ticket_id": ticket,
        "confidence": np.where(fault, 0.9, 0.6),
        "evidence": np.where(fault, "fault alarm on " + pd.Series(site).astype(str) + " (major): power failure",
                             "served by " + pd.Series(serving).str.replace(";", ", ") + "; no alarm in the window to "
                             + window),
        "received_at": c["received_at"], "occurred_at": c["occurred_at"], "lat": c["lat"], "lon": c["lon"],
        "category": c["category"], "indoor": c["indoor"], "vip": c["vip"], "channel": c["channel"],
        "customer": mask_series(c["customer_id"]), "description": c["description"], "nearest_site": site,
    })
    g = diagnoses.groupby("ticket_id", sort=False)
    tickets = g.agg(cause=("cause", "first"), element_id=("element_id", "first"), action=("action", "first"),
                    team=("team", "first"), created_at=("received_at", "min"), complaint_count=("complaint_id", "size"),
                    lat=("lat", "mean"), lon=("lon", "mean"), evidence=("evidence", "first")).reset_index()
    tickets["complaint_ids"] = tickets["ticket_id"].map(join_groups(diagnoses["ticket_id"], diagnoses["complaint_id"]))
    tickets["priority"] = np.where(tickets["cause"] == "fault", "P2", "P4")
    tickets["grade"] = "ordinary"
    tickets["status"] = "open"
    tickets["first_reply_due"] = tickets["created_at"] + pd.Timedelta(hours=24)
    tickets["due_at"] = tickets["created_at"] + pd.Timedelta(hours=48)
    tickets["resolved_at"] = pd.NaT
    tickets["via"] = None
    tickets["sites_affected"] = np.where(tickets["cause"] == "fault", 1, 0)
    return ds, SimpleNamespace(diagnoses=diagnoses, tickets=tickets, network=net, rejected=ds.rejected)
