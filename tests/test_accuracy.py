"""Accuracy on the sample data against its independent ground truth (sample_data/truth/).

The truth is written by the generator from the incidents it planted (netdiag/sample/),
never by the diagnosis code.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from netdiag.data.dataset import load_dataset
from netdiag.pipeline import diagnose

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"


@pytest.fixture(scope="module")
def scored():
    ds = load_dataset(SAMPLE)
    result = diagnose(ds)
    truth = pd.read_csv(SAMPLE / "truth" / "complaints.csv", dtype=str, keep_default_na=False)
    merged = result.diagnoses.merge(truth, on="complaint_id", how="outer", suffixes=("", "_truth"), indicator=True)
    merged["coord_system"] = merged["complaint_id"].map(ds["complaints"].set_index("complaint_id")["coord_system"])
    return result, merged


def test_every_truth_complaint_is_diagnosed_and_nothing_else(scored):
    _, merged = scored
    assert (merged["_merge"] == "both").all(), merged.loc[merged["_merge"] != "both", ["complaint_id", "_merge"]]


def test_cause_and_root_accuracy(scored):
    _, m = scored
    cause = (m["cause"] == m["cause_truth"]).mean()
    root = (m["element_id"] == m["element_id_truth"]).mean()
    wrong = m.loc[m["cause"] != m["cause_truth"], ["complaint_id", "cause", "cause_truth", "evidence"]].head(10)
    assert cause >= 0.98, wrong
    assert root >= 0.98


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_accuracy_for_chinese_map_positions(scored, system):
    _, m = scored
    sub = m[m["coord_system"] == system]
    assert len(sub) > 100
    assert (sub["cause"] == sub["cause_truth"]).mean() >= 0.97
    assert (sub["element_id"] == sub["element_id_truth"]).mean() >= 0.97


def test_one_ticket_per_planted_incident(scored):
    result, m = scored
    incidents = pd.read_csv(SAMPLE / "truth" / "incidents.csv", dtype=str, keep_default_na=False)
    linked = m[m["incident_id_truth"] != ""]
    tickets_per_incident = linked.groupby("incident_id_truth")["ticket_id"].nunique()
    incidents_per_ticket = linked.groupby("ticket_id")["incident_id_truth"].nunique()
    assert set(tickets_per_incident.index) == set(incidents["incident_id"])
    assert (tickets_per_incident == 1).all()
    assert (incidents_per_ticket == 1).all()
    network = result.tickets[~result.tickets["cause"].isin(["coverage_hole", "no_fault_found"])]
    assert len(network) == len(incidents)


def test_the_planted_bad_rows_are_exactly_the_rejections(scored):
    result, _ = scored
    planted = pd.read_csv(SAMPLE / "truth" / "bad_rows.csv", dtype=str, keep_default_na=False)
    got = result.rejected[["table", "row"]].astype(str)
    assert sorted(map(tuple, got.values.tolist())) == sorted(map(tuple, planted[["table", "row"]].values.tolist()))
