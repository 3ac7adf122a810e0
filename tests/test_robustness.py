"""Nothing lost, nothing crashes: junk in any cell of any table is rejected or used, never fatal."""
from __future__ import annotations

import random

import pytest

from conftest import TINY, write_dataset
from netdiag.dataset import load_dataset
from netdiag.diagnose import diagnose

JUNK = ["", " ", "NaN", "nan", "inf", "-inf", "1e999", "-0", "null", "N/A", "#VALUE!", "=cmd|' /C calc'!A0", "∞",
        "２２.５", "0x1F", "1,5", "yes", "2026-02-30T10:00:00Z", "9999-12-31T23:59:59Z", "'; DROP TABLE tickets;--",
        "<script>alert(1)</script>", "x" * 5000, "S001", "C001", "HUB1", "-1", "360", "400", "0", "true"]


@pytest.mark.parametrize("seed", range(16))
def test_junk_cells_never_crash_and_every_row_is_accounted_for(tmp_path, seed):
    rng = random.Random(seed)
    tables = {}
    for name, (header, rows) in TINY.items():
        rows = [list(r) for r in rows]
        for row in rows:
            for i in range(len(row)):
                if rng.random() < 0.25:
                    row[i] = rng.choice(JUNK)
        tables[name] = (header, rows)
    ds = load_dataset(write_dataset(tmp_path, tables))
    for row in ds.stats.itertuples():
        assert row.read == row.accepted + row.rejected, row.table
    assert ds.rejected["reason"].str.len().gt(0).all()
    result = diagnose(ds)
    complaints = set(ds["complaints"]["complaint_id"])
    rejected = set(result.rejected.loc[result.rejected["table"] == "complaints", "id"])
    assert set(result.diagnoses["complaint_id"]) <= complaints
    assert complaints - set(result.diagnoses["complaint_id"]) <= rejected
