"""Nothing lost, nothing crashes: junk in any cell of any table is rejected or used, never fatal."""
from __future__ import annotations

import random

import pytest

from conftest import TINY, write_dataset
from netdiag.data.dataset import load_dataset
from netdiag.engine.diagnose import diagnose

JUNK = ["", " ", "NaN", "nan", "inf", "-inf", "1e999", "-0", "null", "N/A", "#VALUE!", "=cmd|' /C calc'!A0", "∞",
        "２２.５", "0x1F", "1,5", "yes", "2026-02-30T10:00:00Z", "9999-12-31T23:59:59Z", "'; DROP TABLE tickets;--",
        "<script>alert(1)</script>", "x" * 5000, "S001", "C001", "HUB1", "-1", "360", "400", "0", "true"]


def junk_tables(seed: int, share: float = 0.25) -> dict:
    """TINY with about ``share`` of its cells replaced by junk (deterministic per seed)."""
    rng = random.Random(seed)
    tables = {}
    for name, (header, rows) in TINY.items():
        rows = [list(r) for r in rows]
        for row in rows:
            for i in range(len(row)):
                if rng.random() < share:
                    row[i] = rng.choice(JUNK)
        tables[name] = (header, rows)
    return tables


@pytest.mark.parametrize("seed", range(16))
def test_junk_cells_never_crash_and_every_row_is_accounted_for(tmp_path, seed):
    ds = load_dataset(write_dataset(tmp_path, junk_tables(seed)))
    for row in ds.stats.itertuples():
        assert row.read == row.accepted + row.rejected, row.table
    assert ds.rejected["reason"].str.len().gt(0).all()
    result = diagnose(ds)
    complaints = set(ds["complaints"]["complaint_id"])
    rejected = set(result.rejected.loc[result.rejected["table"] == "complaints", "id"])
    assert set(result.diagnoses["complaint_id"]) <= complaints
    assert complaints - set(result.diagnoses["complaint_id"]) <= rejected


@pytest.mark.parametrize("seed", range(6))
def test_junk_flows_through_store_dispatch_map_and_report(tmp_path, seed):
    from netdiag.views.period_report import analyse
    from netdiag.tickets.dispatch import busiest_field_day, plan_dispatch
    from netdiag.views.dispatch_list import write_dispatch
    from netdiag.errors import NetdiagError
    from netdiag.views.leaflet import save_map
    from netdiag.views.map import build_map
    from netdiag.tickets.store import TicketStore

    ds = load_dataset(write_dataset(tmp_path / "data", junk_tables(seed)))
    with TicketStore(tmp_path / "t.db") as store:
        result = diagnose(ds, store=store)
        team, day = busiest_field_day(result.tickets, "UTC")
        if team:
            write_dispatch(plan_dispatch(store, team, date=day), tmp_path / "dispatch", route_map=True)
    try:
        save_map(build_map(ds, result), tmp_path / "map.html")
    except NetdiagError:
        pass  # e.g. nothing left to draw: a clear error, not a crash
    if len(result.diagnoses):
        analyse(result, period="month")
