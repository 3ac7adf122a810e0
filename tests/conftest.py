"""Tiny hand-built data sets whose expected answers are obvious by inspection.

The network (WGS-84, a few km west of Dublin so no Chinese offsets apply unless asked):

    core CORE1 <- hub HUB1 <- sites S001, S002        hub HUB2 <- site S003
    S001: cells C001 (az 0), C002 (az 120), C003 (az 240)      repeater R01 (donor C001)
    S002: cell C004 (omni)        S003: cell C005 (az 90), indoor cell C006
"""
from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

BASE_LAT, BASE_LON = 53.35, -6.40


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


TINY = {
    "transport": (["node_id", "kind", "parent_id", "lat", "lon", "maintainer"], [
        ["CORE1", "core", "", "", "", "Transport NOC"],
        ["HUB1", "hub", "CORE1", BASE_LAT, BASE_LON, "Transport NOC"],
        ["HUB2", "hub", "CORE1", "", "", "Transport NOC"],
    ]),
    "sites": (["site_id", "name", "lat", "lon", "transport_id", "maintainer", "region"], [
        ["S001", "Lucan North", BASE_LAT, BASE_LON, "HUB1", "TeamA", "West"],
        ["S002", "Lucan South", BASE_LAT - 0.02, BASE_LON, "HUB1", "TeamA", "West"],
        ["S003", "Clondalkin", BASE_LAT, BASE_LON + 0.04, "HUB2", "TeamB", "South"],
    ]),
    "cells": (["cell_id", "site_id", "technology", "band_mhz", "azimuth_deg", "beamwidth_deg", "radius_m", "indoor"], [
        ["C001", "S001", "LTE", 1800, 0, 65, 1000, "false"],
        ["C002", "S001", "LTE", 1800, 120, 65, 1000, "false"],
        ["C003", "S001", "LTE", 1800, 240, "", 1000, ""],
        ["C004", "S002", "NR", 3500, "", "", 800, "no"],
        ["C005", "S003", "LTE", 2100, 90, 65, "", "0"],
        ["C006", "S003", "LTE", 2100, "", "", 80, "yes"],
    ]),
    "repeaters": (["repeater_id", "donor_cell_id", "lat", "lon", "azimuth_deg", "beamwidth_deg", "radius_m", "indoor", "maintainer"], [
        ["R01", "C001", BASE_LAT + 0.02, BASE_LON, "", "", 400, "", "TeamA"],
    ]),
    "events": (["event_id", "element_id", "event_type", "severity", "start_time", "end_time", "planned", "prev_lat", "prev_lon", "detail"], [
        ["E1", "HUB1", "fault", "critical", "2026-11-02T10:00:00Z", "2026-11-02T14:00:00Z", "", "", "", "fibre cut"],
        ["E2", "S001", "fault", "major", "2026-11-02T10:01:00Z", "2026-11-02T14:00:00Z", "", "", "", "NE disconnected"],
        ["E3", "C005", "shutdown", "major", "2026-11-03T01:00:00+08:00", "2026-11-03T05:00:00+08:00", "true", "", "", "cutover 割接"],
        ["E4", "C002", "fault", "warning", "2026-11-02T00:00:00Z", "", "", "", "", "VSWR warning"],
    ]),
    "load": (["cell_id", "timestamp", "period_min", "prb_dl_pct", "prb_ul_pct", "ul_noise_dbm", "users"], [
        ["C001", "2026-11-02T09:00:00Z", 60, 40, 20, -115, 30],
        ["C004", "2026-11-02T09:00:00Z", 60, 92, 40, -114, 80],
        ["C005", "2026-11-02T09:00:00", "", 30, 10, -100, 20],
    ]),
    "complaints": (["complaint_id", "received_at", "occurred_at", "lat", "lon", "coord_system", "category", "indoor",
                    "channel", "customer_id", "vip", "description"], [
        ["K001", "2026-11-02T13:00:00Z", "2026-11-02T11:30:00Z", BASE_LAT + 0.005, BASE_LON, "wgs84", "no_signal", "", "hotline",
         "13812345678", "", "no signal at home"],
        ["K002", "2026-11-02T15:00:00+08:00", "", BASE_LAT - 0.02, BASE_LON + 0.001, "", "slow_data", "false", "app",
         "13900001111", "true", "=HYPERLINK(\"http://x\")"],
    ]),
}


def write_dataset(folder: Path, tables: dict | None = None, *, skip: tuple[str, ...] = ()) -> Path:
    """Write TINY (with replacements from ``tables``) as CSV files into ``folder``."""
    data = {**TINY, **(tables or {})}
    for name, (header, rows) in data.items():
        if name not in skip:
            write_csv(folder / f"{name}.csv", header, rows)
    return folder


@pytest.fixture
def tiny_dir(tmp_path) -> Path:
    return write_dataset(tmp_path / "data")


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The committed sample data set (``sample_data/``), read only."""
    return Path(__file__).resolve().parent.parent / "sample_data"


# ----------------------------------------------------------------------------- ticket stores on both back ends
#: the throw-away PostgreSQL server `.ci/postgres start` gave (address without password; PGPASSFILE has it)
PG = os.environ.get("NETDIAG_TEST_PG", "")
_PG_SKIPPED: list[str] = []


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The test server's address; skips (and says so at the end of the run) when there is none."""
    why = None
    if not PG:
        why = "NETDIAG_TEST_PG is not set (`.ci/run` starts a server with .ci/postgres)"
    else:
        try:
            import psycopg

            psycopg.connect(PG, connect_timeout=5).close()
        except Exception as exc:  # ImportError (no psycopg) or the server's refusal
            why = f"the PostgreSQL server at NETDIAG_TEST_PG cannot be reached: {' '.join(str(exc).split())}"
    if why:
        _PG_SKIPPED.append(why)
        pytest.skip(f"PostgreSQL store tests skipped: {why}")
    return PG


@pytest.fixture
def pg_store(pg_server, request) -> str:
    """The address of an empty schema of its own on the test server (dropped afterwards)."""
    import uuid

    import psycopg

    from netdiag.tickets.store import postgres

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    address = f"{pg_server}?options=-csearch_path%3D{schema},public"
    yield address
    postgres.close_pool(address)
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_db(request, tmp_path) -> str:
    """A new ticket store's ``--db``: a SQLite file, then a PostgreSQL schema (the store tests run on both)."""
    if request.param == "sqlite":
        return str(tmp_path / "t.db")
    return request.getfixturevalue("pg_store")


def pytest_terminal_summary(terminalreporter):
    """Say loudly, at the end of the run, that the PostgreSQL store tests did not run."""
    if _PG_SKIPPED:
        terminalreporter.write_sep("!", "PostgreSQL store tests SKIPPED", red=True, bold=True)
        terminalreporter.write_line(_PG_SKIPPED[0])


def copied_store(source, request, tmp_path) -> str:
    """A copy of the ticket store file ``source`` for one test: a file, or (``request.param`` "postgresql")
    a PostgreSQL schema of its own, filled by `netdiag tickets migrate`'s copy."""
    if request.param == "sqlite":
        copy = tmp_path / "t.db"
        copy.write_bytes(Path(source).read_bytes())
        return str(copy)
    from netdiag.tickets.store import TicketStore
    from netdiag.tickets.store.migrate import copy_store

    address = request.getfixturevalue("pg_store")
    with TicketStore(source, create=False) as src, TicketStore(address) as dst:
        copy_store(src, dst)
    return address
