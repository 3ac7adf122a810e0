"""Many columns, long and repeated header names: read and checked in seconds, columns outside the
contract left out in one step, messages kept short."""
from __future__ import annotations

import time

import pytest

from conftest import TINY, write_csv, write_dataset
from netdiag.data.dataset import load_dataset
from netdiag.errors import InputError


def test_ten_thousand_extra_columns_are_read_and_checked_in_seconds(tmp_path):
    header, rows = TINY["complaints"]
    extra = [f"extra{i}" for i in range(10_000)]
    folder = write_dataset(tmp_path, {"complaints": (header + extra, [r + [""] * len(extra) for r in rows])})
    assert (folder / "complaints.csv").stat().st_size > 80_000
    start = time.perf_counter()
    ds = load_dataset(folder)
    elapsed = time.perf_counter() - start
    assert elapsed < 20, f"{elapsed:.1f} s"  # about 0.2 s; it took minutes when columns were added one by one
    assert ds.rejected.empty
    assert list(ds["complaints"]["complaint_id"]) == ["K001", "K002"]
    assert "extra0" not in ds["complaints"].columns  # columns outside the contract are left out


def test_a_hundred_thousand_columns_and_a_megabyte_header_cell(tmp_path):
    header, rows = TINY["complaints"]
    extra = [f"x{i}" for i in range(100_000)] + ["y" * 1_000_000]
    folder = write_dataset(tmp_path, {"complaints": (header + extra, [r + ["1"] * len(extra) for r in rows])})
    start = time.perf_counter()
    ds = load_dataset(folder)
    assert time.perf_counter() - start < 60
    assert len(ds["complaints"]) == 2 and ds.rejected.empty


def test_duplicate_columns_outside_the_contract_are_ignored_inside_it_an_error(tmp_path):
    header, rows = TINY["sites"]
    folder = write_dataset(tmp_path, {"sites": (header + ["", "", "note", "NOTE "], [r + ["", "", "a", "b"] for r in rows])})
    assert len(load_dataset(folder)["sites"]) == 3  # Excel's trailing empty columns, a note given twice
    write_csv(folder / "sites.csv", header + ["Lat "], [r + [1] for r in rows])
    with pytest.raises(InputError, match=r"sites.csv has duplicate column names: lat; keep one of each"):
        load_dataset(folder)


def test_a_missing_column_message_stays_short_with_many_columns(tmp_path):
    header, rows = TINY["sites"]
    keep = [h for h in header if h != "lat"]
    extra = [f"x{i}" for i in range(5_000)] + ["z" * 10_000]
    folder = write_dataset(tmp_path, {"sites": (keep + extra, [[v for h, v in zip(header, r) if h != "lat"] + [""] * len(extra)
                                                               for r in rows])})
    with pytest.raises(InputError, match=r"missing required column `lat`.*columns found: site_id, name, lon, transport_id, "
                                         r"maintainer, region, x0, x1, .*, x13 and 4987 more$") as err:
        load_dataset(folder)
    assert len(str(err.value)) < 500
