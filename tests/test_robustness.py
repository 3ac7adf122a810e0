"""Nothing lost, nothing crashes: junk in any cell of any table is rejected or used, never fatal."""
from __future__ import annotations

import random

import pytest

from conftest import TINY, write_dataset
from netdiag.data.dataset import load_dataset
from netdiag.pipeline import diagnose

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
    import pandas as pd

    from netdiag.errors import InputError
    from netdiag.tickets.dispatch import busiest_field_day, plan_dispatch
    from netdiag.tickets.store import TicketStore
    from netdiag.views.dispatch_list import write_dispatch
    from netdiag.views.leaflet import save_map
    from netdiag.views.map import build_map
    from netdiag.views.period_report import analyse

    ds = load_dataset(write_dataset(tmp_path / "data", junk_tables(seed)))
    with TicketStore(tmp_path / "t.db") as store:
        result = diagnose(ds, store=store)
        # every diagnosed complaint is linked to exactly one stored ticket
        linked = dict(store.conn.execute("SELECT complaint_id, ticket_id FROM complaints").fetchall())
        assert set(linked) == set(result.diagnoses["complaint_id"])
        assert (result.diagnoses["ticket_id"] == result.diagnoses["complaint_id"].map(linked)).all()
        team, day = busiest_field_day(result.tickets, "UTC")
        if team:
            plan = plan_dispatch(store, team, date=day)
            written = write_dispatch(plan, tmp_path / "dispatch", route_map=True)
            assert len(pd.read_csv(written[0], encoding="utf-8-sig")) == len(plan.stops)
            assert all(path.stat().st_size > 0 for path in written)
    located_sites = ds["sites"]["lat"].notna().sum()
    if located_sites or len(result.diagnoses):
        m = build_map(ds, result)
        page = save_map(m, tmp_path / "map.html").read_text(encoding="utf-8")
        assert m.netdiag_summary["complaints"] == len(result.diagnoses)
        assert "<script>alert(1)</script>" not in page  # the junk text is data, never markup
    else:
        with pytest.raises(InputError, match="nothing to draw"):
            build_map(ds, result)
    if len(result.diagnoses):
        report = analyse(result, period="month")
        in_period = result.diagnoses["received_at"].between(report.period.start, report.period.end, inclusive="left")
        assert report.totals["complaints"] == int(in_period.sum())
        assert report.tables["by_cause"]["complaints"].sum() == report.totals["complaints"]
