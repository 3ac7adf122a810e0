"""Reading tables from CSV, Parquet, GeoJSON and GeoPackage; time zones; odd files."""
from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from conftest import TINY, write_csv, write_dataset
from netdiag.data.dataset import load_dataset
from netdiag.errors import InputError


def test_parquet_geojson_and_gpkg_give_the_same_tables(tmp_path):
    csv_ds = load_dataset(write_dataset(tmp_path / "csv"))
    mixed = write_dataset(tmp_path / "mixed", skip=("sites", "cells", "load", "transport"))
    header, rows = TINY["load"]
    pd.DataFrame(rows, columns=header).replace("", None).astype({"cell_id": str, "timestamp": str}).to_parquet(mixed / "load.parquet")
    header, rows = TINY["sites"]
    sites = pd.DataFrame(rows, columns=header)
    gpd.GeoDataFrame(sites.drop(columns=["lat", "lon"]), geometry=[Point(r[3], r[2]) for r in rows],
                     crs=4326).to_file(mixed / "sites.geojson", driver="GeoJSON")
    header, rows = TINY["cells"]
    cells = pd.DataFrame(rows, columns=header).astype(str)
    gpd.GeoDataFrame(cells, geometry=[None] * len(cells), crs=4326).to_file(mixed / "network.gpkg", layer="cells", driver="GPKG")
    header, rows = TINY["transport"]
    tr = pd.DataFrame(rows, columns=header).astype(str)
    gpd.GeoDataFrame(tr, geometry=[None] * len(tr), crs=4326).to_file(mixed / "network.gpkg", layer="transport", driver="GPKG")
    ds = load_dataset(mixed)
    assert ds.rejected.empty, ds.rejected
    assert dict(zip(ds.stats["table"], ds.stats["source"]))["cells"] == "network.gpkg:cells"
    for table in ("sites", "cells", "load", "transport"):
        a = csv_ds[table].drop(columns="_row").reset_index(drop=True)
        b = ds[table].drop(columns="_row")[a.columns].reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, check_dtype=False, check_exact=False, rtol=1e-9)


def test_table_given_twice_is_an_error(tmp_path):
    folder = write_dataset(tmp_path)
    header, rows = TINY["sites"]
    pd.DataFrame(rows, columns=header).to_parquet(folder / "sites.parquet")
    with pytest.raises(InputError, match=r"table `sites` is given 2 times .*sites.csv, sites.parquet"):
        load_dataset(folder)


def test_offsets_are_exact_instants_and_naive_times_use_tz(tmp_path):
    ds = load_dataset(write_dataset(tmp_path))
    ev = ds["events"].set_index("event_id")
    assert ev.loc["E3", "start_time"] == pd.Timestamp("2026-11-02T17:00:00Z")  # 01:00+08:00
    load = ds["load"].set_index("cell_id")
    assert load.loc["C005", "timestamp"] == pd.Timestamp("2026-11-02T09:00:00Z")  # naive, default UTC
    from netdiag.settings import Settings
    ds_sh = load_dataset(tmp_path, settings=Settings(tz="Asia/Shanghai"))
    assert ds_sh["load"].set_index("cell_id").loc["C005", "timestamp"] == pd.Timestamp("2026-11-02T01:00:00Z")
    assert ds_sh["events"].set_index("event_id").loc["E3", "start_time"] == pd.Timestamp("2026-11-02T17:00:00Z")


def test_nonexistent_local_time_is_rejected_with_reason(tmp_path):
    header, rows = TINY["load"]
    data = {"load": (header, rows + [["C001", "2026-03-29T01:30:00", 60, 10, 5, -115, 3]])}
    from netdiag.settings import Settings
    ds = load_dataset(write_dataset(tmp_path, data), settings=Settings(tz="Europe/Dublin"))
    assert ds.rejected["reason"].tolist() == [
        "timestamp '2026-03-29T01:30:00' does not exist or is ambiguous in Europe/Dublin (daylight-saving change); give it with an offset"]


def test_gb18030_csv_from_excel_is_read(tmp_path):
    folder = write_dataset(tmp_path)
    header, rows = TINY["sites"]
    rows = [r[:] for r in rows]
    rows[0][1] = "福田中心站"
    pd.DataFrame(rows, columns=header).to_csv(folder / "sites.csv", index=False, encoding="gb18030")
    ds = load_dataset(folder)
    assert ds["sites"].loc[0, "name"] == "福田中心站"


def test_malformed_csv_row_is_rejected_and_row_numbers_stay_true(tmp_path):
    folder = write_dataset(tmp_path)
    text = (folder / "complaints.csv").read_text()
    lines = text.splitlines()
    lines.insert(2, "K999,broken")  # becomes data row 2
    (folder / "complaints.csv").write_text("\n".join(lines) + "\n")
    ds = load_dataset(folder)
    rej = ds.rejected
    assert rej[["table", "row", "id"]].values.tolist() == [["complaints", 2, "K999"]]
    assert rej["reason"].iloc[0] == "row does not have the 12 fields of the header (it has 2; unbalanced quotes or commas?)"
    assert ds["complaints"].set_index("complaint_id")["_row"].to_dict() == {"K001": 1, "K002": 3}


@pytest.mark.parametrize("content, message", [
    ("", r"sites.csv is empty: expected a header row"),
])
def test_unreadable_file_is_an_input_error(tmp_path, content, message):
    folder = write_dataset(tmp_path)
    (folder / "sites.csv").write_text(content)
    with pytest.raises(InputError, match=message):
        load_dataset(folder)


def test_broken_parquet_is_an_input_error(tmp_path):
    folder = write_dataset(tmp_path, skip=("load",))
    (folder / "load.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(InputError, match=r"cannot read load.parquet"):
        load_dataset(folder)


def test_missing_folder_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match=r"data directory .*nope does not exist"):
        load_dataset(tmp_path / "nope")


def test_header_names_are_case_and_space_insensitive(tmp_path):
    header, rows = TINY["sites"]
    folder = write_dataset(tmp_path)
    write_csv(folder / "sites.csv", [h.upper() + " " for h in header], rows)
    assert len(load_dataset(folder)["sites"]) == 3


def _load_with_old_rows(folder, fmt):
    """TINY's load plus a month-old row per cell (outside any complaint's period) and one bad row."""
    header, rows = TINY["load"]
    old = [["C001", "2026-10-01T09:00:00Z", 60, 95, 20, -100, 30], ["C004", "2026-10-01T10:00:00Z", 60, 10, 20, -115, 3]]
    bad = [["C999", "2026-11-02T10:00:00Z", 60, 50, 20, -115, 30]]
    frame = pd.DataFrame(old + rows + bad, columns=header)
    if fmt == "parquet":
        frame = frame.replace("", None).astype({"timestamp": str})
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601")
        frame.to_parquet(folder / "load.parquet", row_group_size=2)
    else:
        write_csv(folder / "load.csv", header, old + rows + bad)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_load_window_reads_only_the_period_and_counts_the_rest(tmp_path, fmt):
    from netdiag.pipeline import diagnose

    folder = write_dataset(tmp_path, skip=("load",))
    _load_with_old_rows(folder, fmt)
    full = load_dataset(folder)
    windowed = load_dataset(folder, load_window="complaints")
    stats = windowed.stats.set_index("table").loc["load"]
    assert (stats["read"], stats["accepted"], stats["rejected"], stats["skipped"]) == (6, 3, 1, 2)
    assert full.stats.set_index("table").loc["load", "skipped"] == 0
    # the bad row keeps its true row number in the file
    assert windowed.rejected.set_index("table").loc["load", "row"] == 6
    a, b = diagnose(full).diagnoses, diagnose(windowed).diagnoses
    pd.testing.assert_frame_equal(a[["complaint_id", "cause", "element_id"]], b[["complaint_id", "cause", "element_id"]])
