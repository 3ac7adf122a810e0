"""Tests of netdiag.sample: the sample-data generator, its tables and its truth."""
from __future__ import annotations

import re

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from netdiag.data.coords import haversine_m, to_wgs84
from netdiag.sample import LOAD_COLUMNS, TABLE_COLUMNS, TRUTH_COLUMNS, generate

ID_COLUMN = {"sites": "site_id", "cells": "cell_id", "repeaters": "repeater_id", "transport": "node_id",
             "events": "event_id", "complaints": "complaint_id", "load": "cell_id"}


@pytest.fixture(scope="module")
def parquet_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth_parquet")
    return out, generate(out, n_sites=90, seed=5)


@pytest.fixture(scope="module")
def csv_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth_csv")
    return out, generate(out, n_sites=60, seed=9, load_format="csv")


def read(folder, name: str) -> pd.DataFrame:
    """A CSV file exactly as written: every value a string, empty stays ''."""
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


def good_rows(folder, table: str) -> pd.DataFrame:
    """A table without the rows listed in truth/bad_rows.csv."""
    frame = read(folder, f"{table}.csv")
    bad = read(folder, "truth/bad_rows.csv")
    rows = bad.loc[bad["table"] == table, "row"].astype(int) - 1
    return frame.drop(index=rows.tolist()).reset_index(drop=True)


def load_frame(folder) -> pd.DataFrame:
    """The load table with numeric counters and UTC timestamps (bad rows coerced to NaN)."""
    if (folder / "load.parquet").exists():
        frame = pq.read_table(folder / "load.parquet").to_pandas()
    else:
        frame = read(folder, "load.csv")
        for col in ("prb_dl_pct", "prb_ul_pct", "ul_noise_dbm", "users"):
            frame[col] = pd.to_numeric(frame[col], errors="coerce")
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    return frame


def utc(values) -> pd.Series:
    return pd.to_datetime(pd.Series(values).replace("", None), utc=True, format="ISO8601")


# ----------------------------------------------------------------------------- files and columns
def test_same_arguments_give_identical_files(tmp_path):
    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(first, n_sites=40, seed=3)
    generate(second, n_sites=40, seed=3)
    generate(other, n_sites=40, seed=4)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert len(files) == 10
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert (first / "complaints.csv").read_bytes() != (other / "complaints.csv").read_bytes()


def test_every_table_has_the_contract_columns(parquet_dir):
    folder, _ = parquet_dir
    for name, columns in TABLE_COLUMNS.items():
        assert list(read(folder, f"{name}.csv").columns) == columns, name
    for name, columns in TRUTH_COLUMNS.items():
        assert list(read(folder, f"truth/{name}.csv").columns) == columns, name
    schema = pq.read_schema(folder / "load.parquet")
    assert schema.names == LOAD_COLUMNS
    assert schema.field("timestamp").type == pa.timestamp("ms", tz="UTC")


def test_counts_are_the_data_rows_written(parquet_dir):
    folder, counts = parquet_dir
    for name in TABLE_COLUMNS:
        assert counts[name] == len(read(folder, f"{name}.csv")), name
    for name in TRUTH_COLUMNS:
        assert counts[f"truth/{name}"] == len(read(folder, f"truth/{name}.csv")), name
    assert counts["load"] == pq.read_metadata(folder / "load.parquet").num_rows


def test_csv_load_has_iso_utc_timestamps(csv_dir):
    folder, counts = csv_dir
    frame = read(folder, "load.csv")
    assert list(frame.columns) == LOAD_COLUMNS
    assert len(frame) == counts["load"]
    assert frame["timestamp"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:00:00Z").all()
    assert set(frame["period_min"]) == {"60"}


def test_timestamps_use_the_documented_offsets(parquet_dir):
    folder, _ = parquet_dir
    complaints = good_rows(folder, "complaints")
    assert complaints["received_at"].str.endswith("+08:00").all()
    occurred = complaints["occurred_at"][complaints["occurred_at"] != ""]
    assert occurred.str.endswith("+08:00").all()
    events = good_rows(folder, "events")
    assert events["start_time"].str.endswith("Z").all()


def test_ids_keep_their_leading_zeros(parquet_dir):
    folder, _ = parquet_dir
    sites, cells = good_rows(folder, "sites"), good_rows(folder, "cells")
    assert sites["site_id"].str.fullmatch(r"S\d{5}").all()
    assert cells["cell_id"].str.fullmatch(r"C\d{6}").all()
    assert good_rows(folder, "complaints")["complaint_id"].str.fullmatch(r"CP\d{10}").all()
    assert good_rows(folder, "complaints")["customer_id"].str.fullmatch(r"1\d{10}").all()


# ----------------------------------------------------------------------------- the network
def test_cells_look_like_a_real_network(parquet_dir):
    folder, _ = parquet_dir
    cells = good_rows(folder, "cells")
    per_site = cells.groupby("site_id").size()
    assert 3.5 <= per_site.mean() <= 4.6
    assert {"LTE", "NR"} <= set(cells["technology"])
    assert (cells["indoor"] == "true").any()
    indoor = cells[cells["indoor"] == "true"]
    assert (indoor["azimuth_deg"] == "").all()
    assert indoor["radius_m"].astype(float).between(60, 100).all()
    outdoor = cells[cells["indoor"] == "false"]
    assert (outdoor["radius_m"] == "").any() and (outdoor["radius_m"] == "").mean() < 0.08
    assert (outdoor["beamwidth_deg"] == "65").mean() > 0.8


def test_transport_is_a_tree_below_one_core(parquet_dir):
    folder, _ = parquet_dir
    transport = good_rows(folder, "transport")
    parent = dict(zip(transport["node_id"], transport["parent_id"]))
    roots = [node for node, up in parent.items() if up == ""]
    assert roots == ["CORE01"]
    for node in parent:
        seen = set()
        while parent[node]:
            assert node not in seen
            seen.add(node)
            node = parent[node]
        assert node == "CORE01"
    sites = good_rows(folder, "sites")
    assert set(sites["transport_id"]) <= set(transport.loc[transport["kind"] == "hub", "node_id"])


def test_repeaters_stand_near_their_donor_site(parquet_dir):
    folder, _ = parquet_dir
    reps = good_rows(folder, "repeaters")
    cells, sites = good_rows(folder, "cells"), good_rows(folder, "sites")
    donor_site = reps.merge(cells[["cell_id", "site_id"]], left_on="donor_cell_id", right_on="cell_id")
    donor_site = donor_site.merge(sites[["site_id", "lat", "lon"]], on="site_id", suffixes=("", "_site"))
    assert len(donor_site) == len(reps)
    d = haversine_m(donor_site["lon"].astype(float), donor_site["lat"].astype(float),
                    donor_site["lon_site"].astype(float), donor_site["lat_site"].astype(float))
    assert ((d > 290) & (d < 810)).all()


# ----------------------------------------------------------------------------- events and load
def test_every_event_type_and_severity_is_present(parquet_dir):
    folder, _ = parquet_dir
    events = good_rows(folder, "events")
    assert set(events["event_type"]) == {"fault", "interference", "shutdown", "relocation"}
    assert set(events["severity"]) == {"critical", "major", "minor", "warning"}
    shutdowns = events[events["event_type"] == "shutdown"]
    assert {"true", "false"} <= set(shutdowns["planned"])
    assert (shutdowns["end_time"] == "").any()             # an unplanned shutdown still going on
    moves = events[events["event_type"] == "relocation"]
    assert (moves["prev_lat"] != "").all() and (moves["prev_lon"] != "").all()


def test_a_failed_hub_raises_symptoms_on_every_site_below(parquet_dir):
    folder, _ = parquet_dir
    incidents = read(folder, "truth/incidents.csv")
    hub_faults = incidents[incidents["element_id"].str.startswith("HUB")]
    assert len(hub_faults)
    sites, events = good_rows(folder, "sites"), good_rows(folder, "events")
    events["start"], events["end"] = utc(events["start_time"]), utc(events["end_time"])
    for hub, start in zip(hub_faults["element_id"], utc(hub_faults["start_time"])):
        below = set(sites.loc[sites["transport_id"] == hub, "site_id"])
        symptoms = events[(events["event_type"] == "fault") & (events["severity"] == "major")
                          & events["element_id"].isin(below)
                          & (events["start"] > start) & (events["start"] <= start + pd.Timedelta(minutes=5))]
        assert set(symptoms["element_id"]) == below
        assert symptoms["detail"].str.contains("NE disconnected").all()


def test_no_load_rows_while_a_site_is_down(parquet_dir):
    folder, _ = parquet_dir
    incidents = read(folder, "truth/incidents.csv")
    down = incidents[(incidents["cause"] == "fault") & incidents["element_id"].str.fullmatch(r"S\d+")]
    assert len(down)
    cells, load = good_rows(folder, "cells"), load_frame(folder)
    for site, start, end in zip(down["element_id"], utc(down["start_time"]), utc(down["end_time"])):
        mine = load[load["cell_id"].isin(cells.loc[cells["site_id"] == site, "cell_id"])]
        during = mine[(mine["timestamp"] + pd.Timedelta(hours=1) > start) & (mine["timestamp"] < end)]
        assert during.empty, site
        assert len(mine), site                           # ... but the cells do report otherwise


def test_load_counters_show_exactly_the_planted_conditions(parquet_dir):
    folder, _ = parquet_dir
    incidents = read(folder, "truth/incidents.csv")
    load = load_frame(folder)
    load = load[load["prb_dl_pct"].between(0, 100)]
    by_cause = {cause: set(incidents.loc[(incidents["cause"] == cause) & incidents["element_id"].str.startswith("C"),
                                         "element_id"]) for cause in ("congestion", "interference", "fault")}
    congested = set(load.loc[load["prb_dl_pct"] >= 85, "cell_id"])
    assert by_cause["congestion"] and congested == by_cause["congestion"]
    noisy = set(load.loc[load["ul_noise_dbm"] >= -105, "cell_id"])
    assert noisy == by_cause["interference"]
    asleep = set(load.loc[(load["users"] == 0) & (load["prb_dl_pct"] < 1), "cell_id"])
    assert asleep and asleep <= by_cause["fault"]
    busy_hours = load.loc[load["prb_dl_pct"] >= 85, "timestamp"].dt.tz_convert("Asia/Shanghai").dt.hour
    assert busy_hours.between(19, 21).all()
    normal = load[~load["cell_id"].isin(noisy)]
    assert normal["ul_noise_dbm"].max() < -107


# ----------------------------------------------------------------------------- complaints and truth
def test_every_cause_is_in_the_truth(parquet_dir):
    folder, _ = parquet_dir
    truth = read(folder, "truth/complaints.csv")
    assert set(truth["cause"]) == {"fault", "shutdown", "relocation", "interference", "congestion",
                                   "coverage_hole", "no_fault_found"}
    network = truth["cause"].isin(["fault", "shutdown", "relocation", "interference", "congestion"])
    assert (truth.loc[network, "element_id"] != "").all() and (truth.loc[network, "incident_id"] != "").all()
    assert (truth.loc[~network, "element_id"] == "").all()
    assert 0.3 < network.mean() < 0.5


def test_truth_covers_exactly_the_accepted_complaints(parquet_dir):
    folder, _ = parquet_dir
    truth = read(folder, "truth/complaints.csv")
    accepted = good_rows(folder, "complaints")
    assert truth["complaint_id"].is_unique
    assert list(truth["complaint_id"]) == list(accepted["complaint_id"])
    incidents = read(folder, "truth/incidents.csv")
    assert set(truth["incident_id"]) - {""} <= set(incidents["incident_id"])


def test_positions_come_in_every_coordinate_system(parquet_dir):
    folder, _ = parquet_dir
    systems = good_rows(folder, "complaints")["coord_system"].value_counts(normalize=True)
    assert 0.12 < systems["gcj02"] < 0.28
    assert 0.05 < systems["bd09"] < 0.16
    assert systems["wgs84"] > 0.5 and "" in systems.index


def test_some_complaints_have_no_occurred_at(parquet_dir):
    folder, _ = parquet_dir
    complaints = good_rows(folder, "complaints")
    assert 0.1 < (complaints["occurred_at"] == "").mean() < 0.3
    received, occurred = utc(complaints["received_at"]), utc(complaints["occurred_at"])
    delay = (received - occurred).dropna()
    assert (delay >= pd.Timedelta(minutes=29)).all() and (delay <= pd.Timedelta(hours=24, minutes=1)).all()


def test_network_causes_fall_inside_their_incident(parquet_dir):
    folder, _ = parquet_dir
    truth = read(folder, "truth/complaints.csv").merge(good_rows(folder, "complaints"), on="complaint_id")
    incidents = read(folder, "truth/incidents.csv")
    tied = truth[truth["incident_id"] != ""].merge(incidents, on="incident_id", suffixes=("", "_inc"))
    assert (tied["cause"] == tied["cause_inc"]).all() and (tied["element_id"] == tied["element_id_inc"]).all()
    occurred = utc(tied["occurred_at"])
    hour = occurred.dt.floor("h")
    start, end = utc(tied["start_time"]), utc(tied["end_time"])
    known = occurred.notna()
    assert ((start[known] < hour[known] + pd.Timedelta(hours=1))
            & (end[known].isna() | (end[known] > hour[known]))).all()


def test_coverage_holes_are_far_from_every_element(parquet_dir):
    folder, _ = parquet_dir
    truth = read(folder, "truth/complaints.csv").merge(good_rows(folder, "complaints"), on="complaint_id")
    holes = truth[truth["cause"] == "coverage_hole"]
    assert len(holes)
    lon, lat = to_wgs84(holes["lon"].astype(float), holes["lat"].astype(float),
                        holes["coord_system"].replace("", "wgs84"))
    cells, sites = good_rows(folder, "cells"), good_rows(folder, "sites")
    cells = cells.merge(sites[["site_id", "lat", "lon"]], on="site_id")
    reps = good_rows(folder, "repeaters")
    where = pd.concat([cells[["lat", "lon", "radius_m"]], reps[["lat", "lon", "radius_m"]]])
    where = where[where["radius_m"] != ""].astype(float)
    d = haversine_m(where["lon"].to_numpy()[None, :], where["lat"].to_numpy()[None, :], lon[:, None], lat[:, None])
    assert (d > 2 * where["radius_m"].to_numpy()[None, :]).all()


def test_complaint_categories_follow_the_cause(parquet_dir):
    folder, _ = parquet_dir
    truth = read(folder, "truth/complaints.csv").merge(good_rows(folder, "complaints"), on="complaint_id")
    share = truth.groupby("cause")["category"].agg(lambda c: c.value_counts(normalize=True).index[0])
    assert share["fault"] == "no_signal"
    assert share["congestion"] == "slow_data"
    assert set(truth.loc[truth["cause"] == "coverage_hole", "category"]) <= {"no_signal", "weak_signal"}


def test_descriptions_carry_hostile_text_and_customers_repeat(parquet_dir):
    folder, _ = parquet_dir
    complaints = good_rows(folder, "complaints")
    assert (complaints["description"] == "<img src=x onerror=alert(1)>").sum() == 1
    assert complaints["description"].str.startswith("=HYPERLINK(").sum() == 1
    assert complaints["customer_id"].duplicated().any()
    assert (complaints["indoor"] == "true").any() and (complaints["vip"] == "true").any()


# ----------------------------------------------------------------------------- bad rows
@pytest.mark.parametrize("which", ["parquet_dir", "csv_dir"])
def test_bad_rows_are_listed_with_their_row_numbers(which, request):
    folder, _ = request.getfixturevalue(which)
    bad = read(folder, "truth/bad_rows.csv")
    assert set(bad["table"]) == {"sites", "cells", "repeaters", "transport", "events", "complaints", "load"}
    assert bad.groupby("table").size().to_dict() == {"cells": 5, "complaints": 7, "events": 4, "load": 3,
                                                     "repeaters": 1, "sites": 2, "transport": 2}
    for table, rows in bad.groupby("table"):
        frame = load_frame(folder) if table == "load" else read(folder, f"{table}.csv")
        listed = frame[ID_COLUMN[table]].iloc[rows["row"].astype(int) - 1].astype(str)
        assert list(listed) == list(rows["id"]), table


def test_bad_rows_really_break_the_contract(csv_dir):
    folder, _ = csv_dir
    bad = read(folder, "truth/bad_rows.csv").set_index(["table", "what_is_wrong"])["row"].astype(int)
    complaints, sites, cells = read(folder, "complaints.csv"), read(folder, "sites.csv"), read(folder, "cells.csv")
    assert complaints.at[bad[("complaints", "lat 95 outside -90..90")] - 1, "lat"] == "95.000000"
    assert complaints.at[bad[("complaints", "received_at 'yesterday' is not a timestamp")] - 1,
                         "received_at"] == "yesterday"
    dup = bad[("complaints", "duplicate complaint_id (the later row)")] - 1
    assert complaints["complaint_id"].iloc[:dup].eq(complaints.at[dup, "complaint_id"]).any()
    assert not re.fullmatch(r"-?\d+(\.\d+)?", sites.at[bad[("sites", "lat is not a number")] - 1, "lat"])
    assert cells.at[bad[("cells", "unknown technology 6G")] - 1, "technology"] == "6G"
    load = read(folder, "load.csv")
    assert load.at[bad[("load", "prb_dl_pct '#VALUE!' is not a number")] - 1, "prb_dl_pct"] == "#VALUE!"


def test_without_bad_rows_nothing_is_planted(tmp_path):
    counts = generate(tmp_path, n_sites=40, seed=2, bad_rows=False, complaints_per_site=2)
    assert counts["truth/bad_rows"] == 0
    assert counts["truth/complaints"] == counts["complaints"]


# ----------------------------------------------------------------------------- arguments
def test_progress_is_reported(tmp_path):
    messages = []
    generate(tmp_path, n_sites=30, seed=1, days=4, complaints_per_site=1, progress=messages.append)
    assert messages[0].startswith("building") and messages[-1] == "done"
    assert "load day 4/4" in messages


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"load_format": "xlsx"}, "`load_format` was \"xlsx\""),
    ({"n_sites": 5}, "`n_sites` was 5"),
    ({"days": 2}, "`days` was 2"),
    ({"start": "2026-11-01T00:30:00+08:00"}, "whole hour"),
    ({"start": "next monday"}, "ISO 8601"),
])
def test_bad_arguments_are_refused(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        generate(tmp_path, **kwargs)
