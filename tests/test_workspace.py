"""A prepared workspace (``netdiag prepare``): the same answers as the data directory, new days
added without touching the old ones, counters read by day, clear errors."""
from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from netdiag.cli.main import cli
from netdiag.data import workspace as wsmod
from netdiag.data.dataset import load_dataset
from netdiag.engine.check import check_point, load_network
from netdiag.errors import OutsideNetworkError
from netdiag.pipeline import diagnose
from netdiag.prepare import prepare_workspace
from netdiag.settings import Settings

SETTINGS = Settings(tz="Asia/Shanghai")


def run(*args):
    return CliRunner().invoke(cli, ["--tz", "Asia/Shanghai", *map(str, args)], catch_exceptions=False)


@pytest.fixture(scope="module")
def sample_ws(sample_dir, tmp_path_factory):
    ws = tmp_path_factory.mktemp("ws") / "ws"
    prepare_workspace(sample_dir, ws, settings=SETTINGS)
    return ws


def _same_result(a, b):
    for name in ("diagnoses", "tickets"):
        x, y = getattr(a, name), getattr(b, name)
        pd.testing.assert_frame_equal(x.reset_index(drop=True), y.reset_index(drop=True), check_dtype=False)
    assert a.rejected[["table", "row", "id", "reason"]].astype(str).values.tolist() == \
        b.rejected[["table", "row", "id", "reason"]].astype(str).values.tolist()


def test_diagnose_from_workspace_equals_data_dir(sample_dir, sample_ws):
    from_data = diagnose(load_dataset(sample_dir, settings=SETTINGS, load_window="complaints"))
    from_ws = diagnose(load_dataset(sample_ws, settings=SETTINGS, load_window="complaints"))
    _same_result(from_data, from_ws)
    assert len(from_ws.diagnoses) == 1500


def test_cli_diagnose_workspace_writes_the_same_files(sample_dir, sample_ws, tmp_path):
    assert run("diagnose", "--data", sample_dir, "--out", tmp_path / "a").exit_code == 0
    res = run("diagnose", "--workspace", sample_ws, "--out", tmp_path / "b")
    assert res.exit_code == 0, res.output
    for name in ("diagnoses.csv", "tickets.csv", "rejected.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_manifest_names_every_source_with_hash_and_counts(sample_dir, sample_ws):
    manifest = json.loads((sample_ws / "manifest.json").read_text())
    assert set(manifest["sources"]) == {"transport", "sites", "cells", "repeaters", "events", "load", "complaints"}
    load = manifest["sources"]["load"]
    assert load["bytes"] == (sample_dir / "load.parquet").stat().st_size and len(load["sha256"]) == 64
    assert manifest["tables"]["complaints"]["accepted"] == 1500
    total = manifest["tables"]["load"]
    assert total["read"] == total["accepted"] + total["rejected"] and total["rejected"] == 3
    days = manifest["load"]["days"]
    assert sum(d["rows"] for d in days.values()) == total["accepted"]
    assert all((sample_ws / "load" / f"day={d}").is_dir() for d in days)
    assert "pandas" in manifest["versions"] and manifest["tz"] == "Asia/Shanghai"
    # the rejection list: the 24 planted bad rows, each with its file
    rejected = pd.read_csv(sample_ws / "rejected.csv", encoding="utf-8-sig")
    assert len(rejected) == 24 and set(rejected.columns) >= {"table", "row", "id", "reason", "source"}


def test_other_tools_open_the_workspace(sample_ws):
    import geopandas as gpd
    import pyarrow.dataset as pads

    fp = gpd.read_parquet(sample_ws / "footprints.parquet")
    assert fp.crs is not None and fp.crs.is_projected and len(fp) > 1000
    load = pads.dataset(sample_ws / "load", format="parquet", partitioning="hive")
    assert "day" in load.schema.names and load.count_rows() > 300_000
    assert set(wsmod.LOAD_COLUMNS) <= set(load.schema.names) and "prb_ul_pct" not in load.schema.names


def test_second_prepare_of_the_same_data_adds_nothing(sample_dir, tmp_path):
    ws = tmp_path / "ws"
    prepare_workspace(sample_dir, ws, settings=SETTINGS)
    before = {p: p.stat().st_mtime_ns for p in ws.rglob("*.parquet")}
    again = prepare_workspace(sample_dir, ws, settings=SETTINGS)
    assert again.complaints_added == 0 and again.load_added == 0 and not again.changed
    assert {p: p.stat().st_mtime_ns for p in ws.rglob("*.parquet") if p.name != "rejected.parquet"} == \
        {p: t for p, t in before.items() if p.name != "rejected.parquet"}


def test_new_days_are_added_without_rewriting_old_ones(sample_dir, tmp_path):
    """Counters and complaints exported in two goes (cut mid-day) give the workspace of one go."""
    load = pd.read_parquet(sample_dir / "load.parquet")
    complaints = pd.read_csv(sample_dir / "complaints.csv", dtype=str, keep_default_na=False)
    cut = pd.Timestamp("2026-11-08T09:00Z")
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
        for f in sample_dir.glob("*.csv"):
            if f.name != "complaints.csv":
                shutil.copy(f, folder / f.name)
    early = pd.to_datetime(load["timestamp"], utc=True) < cut
    load[early].to_parquet(first / "load.parquet", index=False)
    load[~early].to_parquet(second / "load.parquet", index=False)
    received = pd.to_datetime(complaints["received_at"], utc=True, format="ISO8601", errors="coerce")
    complaints[~(received >= cut)].to_csv(first / "complaints.csv", index=False)
    complaints.to_csv(second / "complaints.csv", index=False)  # the whole month again: known ids are kept

    ws = tmp_path / "ws"
    before = prepare_workspace(first, ws, settings=SETTINGS)
    old = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (ws / "load").rglob("*.parquet")}
    more = prepare_workspace(second, ws, settings=SETTINGS)
    assert {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in old} == old  # no old file rewritten
    assert more.days_extended == ["2026-11-08"] and more.days_added[-1] == "2026-11-14"
    assert (ws / "load" / "day=2026-11-08" / "part-0001.parquet").is_file()
    assert more.complaints_known == before.complaints_added and before.complaints_added + more.complaints_added == 1500

    whole = tmp_path / "whole"
    prepare_workspace(sample_dir, whole, settings=SETTINGS)
    a = diagnose(load_dataset(ws, settings=SETTINGS, load_window="complaints"))
    b = diagnose(load_dataset(whole, settings=SETTINGS, load_window="complaints"))
    pd.testing.assert_frame_equal(a.diagnoses.sort_values("complaint_id").reset_index(drop=True),
                                  b.diagnoses.sort_values("complaint_id").reset_index(drop=True), check_dtype=False)


def test_diagnose_reads_only_the_days_it_needs(sample_ws, monkeypatch):
    read = []
    real = wsmod.WorkspaceReader.parquet
    monkeypatch.setattr(wsmod.WorkspaceReader, "parquet", lambda self, path: read.append(path.parent.name) or real(self, path))
    ds = load_dataset(sample_ws, settings=SETTINGS, load_window=("2026-11-05T00:00Z", "2026-11-06T00:00Z"))
    list(ds.counters.chunks())
    assert set(read) == {"day=2026-11-05"}
    assert ds["load"].empty  # nothing holds the whole counter table


def test_check_against_workspace_answers_as_the_whole_network(sample_dir, sample_ws):
    complaints = pd.read_csv(sample_dir / "complaints.csv").sample(25, random_state=3)
    rng = np.random.default_rng(3)
    at = pd.Timestamp("2026-11-05T12:30Z")
    whole = load_network(sample_dir, SETTINGS, at=at)
    for r in complaints.itertuples():
        lat, lon = r.lat + rng.normal(0, 0.003), r.lon + rng.normal(0, 0.003)
        system = r.coord_system if isinstance(r.coord_system, str) else "wgs84"
        indoor = bool(rng.random() < 0.3)
        try:
            expected = check_point(whole, lat, lon, coord_system=system, at=at, indoor=indoor)
        except OutsideNetworkError:
            with pytest.raises(OutsideNetworkError):
                check_point(load_network(sample_ws, SETTINGS, at=at, near=(lat, lon, system)), lat, lon,
                            coord_system=system, at=at, indoor=indoor)
            continue
        local = load_network(sample_ws, SETTINGS, at=at, near=(lat, lon, system))
        assert len(local.ds["cells"]) < 60  # only what may serve the spot was read
        got = check_point(local, lat, lon, coord_system=system, at=at, indoor=indoor)
        assert json.dumps(got, default=str) == json.dumps(expected, default=str)


def test_cli_check_with_workspace(sample_dir, sample_ws):
    args = ["--lat", "22.5431", "--lon", "114.0579", "--coord-system", "gcj02", "--at", "2026-11-05T20:30+08:00",
            "--no-server", "--format", "json"]
    a = run("check", "--data", sample_dir, *args)
    b = run("check", "--workspace", sample_ws, *args)
    assert a.exit_code == 0 and b.exit_code == 0, b.output
    assert json.loads(a.output) == json.loads(b.output)


def test_clear_errors(sample_dir, tmp_path):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    res = run("prepare", sample_dir, "--workspace", busy)
    assert res.exit_code == 2 and "not a netdiag workspace" in res.output
    assert (busy / "notes.txt").read_text() == "mine" and len(os.listdir(busy)) == 1
    res = run("diagnose", "--workspace", tmp_path / "nothing", "--out", tmp_path / "o")
    assert res.exit_code == 2 and "not a netdiag workspace" in res.output and "Traceback" not in res.output
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{not json")
    res = run("diagnose", "--workspace", broken, "--out", tmp_path / "o")
    assert res.exit_code == 2 and "manifest.json" in res.output
    res = run("diagnose", "--data", sample_dir, "--workspace", tmp_path / "ws", "--out", tmp_path / "o")
    assert res.exit_code == 2 and "given twice" in res.output


def _copy(sample_dir, folder):
    folder.mkdir()
    for f in sample_dir.iterdir():
        if f.is_file():
            shutil.copy(f, folder / f.name)
    return folder


def test_a_hand_edited_or_foreign_manifest_is_a_clear_error(sample_dir, sample_ws, tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(sample_ws, ws)
    manifest = json.loads((ws / "manifest.json").read_text())
    for key, value in (("complaints", {"parts": ["../../../../etc/passwd"]}), ("load", {"days": []}),
                       ("crs", "EPSG:99999"), ("format", "1"), ("tables", [])):
        (ws / "manifest.json").write_text(json.dumps({**manifest, key: value}))
        res = run("diagnose", "--workspace", ws, "--out", tmp_path / "o")
        assert res.exit_code == 2 and "manifest.json" in res.output and "Traceback" not in res.output, (key, res.output)
    # an export folder with a manifest.json of its own is still a data folder
    data = _copy(sample_dir, tmp_path / "export")
    (data / "manifest.json").write_text('{"export": "OSS nightly"}')
    assert run("validate", "--data", data).exit_code == 0


def test_prepare_refuses_what_would_spoil_the_workspace(sample_dir, tmp_path):
    ws = tmp_path / "ws"
    prepare_workspace(sample_dir, ws, settings=SETTINGS)
    res = CliRunner().invoke(cli, ["--tz", "UTC", "prepare", str(sample_dir), "--workspace", str(ws)])
    assert res.exit_code == 2 and "--tz Asia/Shanghai" in res.output
    only_new = tmp_path / "only-new"
    only_new.mkdir()
    for name in ("complaints.csv", "load.parquet", "sites.csv", "cells.csv"):
        shutil.copy(sample_dir / name, only_new / name)
    res = run("prepare", only_new, "--workspace", ws)
    assert res.exit_code == 2 and "transport" in res.output
    assert len(pd.read_parquet(ws / "tables" / "transport.parquet")) > 0  # untouched
    res = run("prepare", ws, "--workspace", tmp_path / "ws2")
    assert res.exit_code == 2 and "is a workspace" in res.output


def test_the_workspace_is_for_its_user_alone(sample_dir, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir(mode=0o755)
    os.chmod(mine, 0o755)
    prepare_workspace(sample_dir, mine, settings=SETTINGS)
    assert os.stat(mine).st_mode & 0o777 == 0o700  # customer numbers are in it, unmasked
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "link")
    res = run("prepare", sample_dir, "--workspace", tmp_path / "link")
    assert res.exit_code == 2 and "symbolic link" in res.output


def test_a_complaint_sent_again_with_other_values_is_reported(sample_dir, tmp_path):
    data = _copy(sample_dir, tmp_path / "data")
    ws = tmp_path / "ws"
    prepare_workspace(data, ws, settings=SETTINGS)
    text = (data / "complaints.csv").read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    first = lines[1].split(",")
    first[6] = "no_signal" if first[6] != "no_signal" else "weak_signal"  # the category
    lines[1] = ",".join(first)
    (data / "complaints.csv").write_text("".join(lines), encoding="utf-8")
    again = prepare_workspace(data, ws, settings=SETTINGS)
    assert again.complaints_added == 0
    rejected = pd.read_csv(ws / "rejected.csv", encoding="utf-8-sig", dtype=str)
    changed = rejected[rejected["reason"].str.contains("already in the workspace with other values")]
    assert changed["id"].tolist() == [first[0]] and changed["row"].tolist() == ["1"]
    counts = json.loads((ws / "manifest.json").read_text())["tables"]["complaints"]
    assert counts["read"] == counts["accepted"] + counts["rejected"] and counts["accepted"] == 1500


def test_the_data_time_is_that_of_the_complaints_period(sample_dir, tmp_path):
    """Tickets end by the data's "now": the workspace's is the data folder's, whatever later days it holds."""
    from netdiag.tickets.grouping import data_as_of

    data = _copy(sample_dir, tmp_path / "data")
    complaints = pd.read_csv(data / "complaints.csv", dtype=str, keep_default_na=False)
    complaints.head(300).to_csv(data / "complaints.csv", index=False)
    ws = tmp_path / "ws"
    prepare_workspace(data, ws, settings=SETTINGS)
    expected = data_as_of(load_dataset(data, settings=SETTINGS, load_window="complaints"))
    assert data_as_of(load_dataset(ws, settings=SETTINGS, load_window="complaints")) == expected


def test_counters_of_a_cell_added_to_the_inventory_later_are_not_lost(sample_dir, tmp_path):
    """An export of counters that came before the cell reached the inventory: the rows wait, rejected,
    and join their days once the inventory holds the cell; the answers are then the data folder's."""
    data = _copy(sample_dir, tmp_path / "data")
    cells = (data / "cells.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    ws = tmp_path / "ws"
    (data / "cells.csv").write_text("".join(c for c in cells if not c.startswith("C000768,")), encoding="utf-8")
    first = prepare_workspace(data, ws, settings=SETTINGS)
    assert first.load_rejected > 300
    (data / "cells.csv").write_text("".join(cells), encoding="utf-8")
    second = prepare_workspace(data, ws, settings=SETTINGS)
    assert second.load_unparked == first.load_rejected - 3 and second.rejected == 24
    _same_result(diagnose(load_dataset(data, settings=SETTINGS, load_window="complaints")),
                 diagnose(load_dataset(ws, settings=SETTINGS, load_window="complaints")))


def test_a_killed_prepare_leaves_nothing_other_tools_would_read(sample_dir, tmp_path):
    ws = tmp_path / "ws"
    prepare_workspace(sample_dir, ws, settings=SETTINGS)
    stray = [ws / "load" / "day=2026-11-20" / "part-0000.parquet", ws / "complaints" / "part-0007.parquet",
             ws / ".staging-1-abcd" / "day=2026-11-20" / "piece-00000.parquet"]
    for path in stray:
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ws / "complaints" / "part-0000.parquet", path)
    prepare_workspace(sample_dir, ws, settings=SETTINGS)
    assert not any(p.exists() for p in stray)

