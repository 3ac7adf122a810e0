"""The ticket store across runs: one open ticket per root element and cause, idempotent runs,
resolution when the outage ends, field tests that grow across runs, schema and safety.

The story (tiny network of conftest.py; S003's sector C005 points east, S001's C002 south-east):

    day 1   08:00 site S003 fails (F1, no end yet)     A1 complains at C005    N1 (nothing wrong) near C002
    day 2   F1 still going                             A2 complains at C005    N2 60 m from N1, N3 1 km away
    day 3   F1 ended day 2 20:00; S003 fails again (F2)  A3 complains          A4 complains late about day 2
"""
from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from conftest import BASE_LAT, BASE_LON, TINY, write_dataset
from netdiag.data.dataset import load_dataset
from netdiag.errors import InputError, TransitionError
from netdiag.pipeline import diagnose
from netdiag.tickets.store import SCHEMA_VERSION, TicketStore
from netdiag.views.writers import export_tickets

SITES = {"S001": (BASE_LAT, BASE_LON), "S003": (BASE_LAT, BASE_LON + 0.04)}


def at(site: str, bearing_deg: float, metres: float) -> tuple[float, float]:
    lat, lon = SITES[site]
    return (lat + metres * math.cos(math.radians(bearing_deg)) / 111_320,
            lon + metres * math.sin(math.radians(bearing_deg)) / (111_320 * math.cos(math.radians(lat))))


def complaint(cid, where, occurred, *, received=None, customer="13800000000", vip="", channel="app", description="test",
              category="no_signal"):
    lat, lon = where
    return [cid, received or occurred, occurred, round(lat, 7), round(lon, 7), "wgs84", category, "", channel, customer, vip,
            description]


EVENT_HEADER = TINY["events"][0]
WARNING = ["E4", "C002", "fault", "warning", "2026-11-02T00:00:00Z", "", "", "", "", "VSWR warning"]


def fault(event_id, element, start, end=""):
    return [event_id, element, "fault", "major", start, end, "", "", "", "board failure"]


COMPLAINTS = {
    "A1": complaint("A1", at("S003", 90, 400), "2026-11-02T09:00:00Z"),
    "N1": complaint("N1", at("S001", 120, 500), "2026-11-02T16:00:00Z"),
    "A2": complaint("A2", at("S003", 90, 450), "2026-11-03T09:00:00Z"),
    "N2": complaint("N2", at("S001", 120, 560), "2026-11-03T10:00:00Z"),
    "N3": complaint("N3", at("S001", 240, 600), "2026-11-03T11:00:00Z"),
    "A3": complaint("A3", at("S003", 90, 420), "2026-11-04T08:00:00Z"),
    "A4": complaint("A4", at("S003", 90, 430), "2026-11-03T15:00:00Z", received="2026-11-04T09:00:00Z"),
}
DAYS = {
    "day1": (["A1", "N1"], [WARNING, fault("F1", "S003", "2026-11-02T08:00:00Z")]),
    "day12": (["A1", "N1", "A2", "N2", "N3"], [WARNING, fault("F1", "S003", "2026-11-02T08:00:00Z")]),
    "day123": (["A1", "N1", "A2", "N2", "N3", "A3", "A4"],
               [WARNING, fault("F1", "S003", "2026-11-02T08:00:00Z", "2026-11-03T20:00:00Z"),
                fault("F2", "S003", "2026-11-04T06:00:00Z")]),
}


def write_day(folder, name: str, *, extra_complaints=(), extra_events=()):
    ids, events = DAYS[name]
    rows = [COMPLAINTS[i] for i in ids] + list(extra_complaints)
    return write_dataset(folder, {"complaints": (TINY["complaints"][0], rows),
                                  "events": (EVENT_HEADER, events + list(extra_events))})


@pytest.fixture(scope="module")
def days(tmp_path_factory):
    base = tmp_path_factory.mktemp("days")
    return {name: write_day(base / name, name) for name in DAYS}


_PREPARED: dict = {}


def prepared(folder):
    """(data set, network) of ``folder``, read once per folder."""
    from netdiag.engine.network import prepare

    if folder not in _PREPARED:
        ds = load_dataset(folder)
        _PREPARED[folder] = (ds, prepare(ds))
    return _PREPARED[folder]


def run(store: TicketStore | None, folder, **kw):
    """Diagnose ``folder`` into ``store`` (or, with None, on its own)."""
    ds, net = prepared(folder)
    if store is None:
        return diagnose(ds, network=net, **kw)
    return diagnose(ds, network=net, store=store, who="tester", **kw)


def ticket_of(result, cid) -> str:
    return result.diagnoses.set_index("complaint_id").loc[cid, "ticket_id"]


def table(store: TicketStore, name: str) -> pd.DataFrame:
    """A whole table of the store, in its key's order (either back end)."""
    columns, rows = store.conn.tuples(f"SELECT * FROM {name} ORDER BY 1")
    return pd.DataFrame.from_records(rows, columns=columns).drop(columns=["geom", "db_role"], errors="ignore")


# ----------------------------------------------------------------------------- runs over days
def test_day1_then_days_1_2_attaches_day2_complaints_to_open_tickets(store_db, days):
    with TicketStore(store_db) as store:
        r1 = run(store, days["day1"])
        r2 = run(store, days["day12"])
        fault_ticket, field_ticket = ticket_of(r1, "A1"), ticket_of(r1, "N1")
        assert ticket_of(r2, "A2") == fault_ticket            # the same outage, the next day
        assert ticket_of(r2, "N2") == field_ticket            # 60 m and 18 h from N1: one visit
        assert ticket_of(r2, "N3") not in (fault_ticket, field_ticket)  # 1 km away: another visit
        t = store.tickets().set_index("ticket_id")
        assert t.loc[fault_ticket, ["cause", "element_id", "status", "complaint_count"]].tolist() == ["fault", "S003", "acknowledged", 2]
        assert t.loc[fault_ticket, "complaint_ids"] == "A1;A2"
        assert t.loc[field_ticket, ["kind", "complaint_count", "team"]].tolist() == ["field_test", 2, "field-West"]
        assert len(t) == 3
        report = r2.tickets.attrs["store_run"]
        assert (report["new_tickets"], report["linked_to_existing"], report["already_linked"]) == (1, 2, 2)


def test_the_same_input_twice_changes_nothing(store_db, days):
    with TicketStore(store_db) as store:
        first = run(store, days["day12"])
        before = {name: table(store, name) for name in ("tickets", "complaints", "history", "id_counters")}
        again = run(store, days["day12"])
        for name, frame in before.items():
            pd.testing.assert_frame_equal(table(store, name), frame, obj=name)
        assert first.diagnoses["ticket_id"].tolist() == again.diagnoses["ticket_id"].tolist()
        assert again.tickets.attrs["store_run"]["already_linked"] == 5


def test_tickets_by_id_takes_more_ids_than_sqlite_takes_parameters(store_db, days):
    # a province's run asks for 100,000+ tickets at once; SQLite allows 32,766 parameters (250,000 in some builds)
    with TicketStore(store_db) as store:
        first = run(store, days["day1"])
        wanted = sorted(set(first.diagnoses["ticket_id"]))
        found = store.tickets(ids=[f"TS-19990101-{i:06d}" for i in range(300_000)] + wanted)
        assert sorted(found["ticket_id"]) == wanted


def test_complaints_of_many_tickets_come_oldest_first(store_db, days):
    with TicketStore(store_db) as store:
        result = run(store, days["day12"])
        later, earlier = ticket_of(result, "N3"), ticket_of(result, "N1")  # N3 on day 2; N1 day 1, N2 day 2
        padding = [f"TS-19990101-{i:04d}" for i in range(499)]           # 500 tickets were read at a time
        linked = store.complaints([later] + padding + [earlier])
        assert linked["complaint_id"].tolist() == ["N1", "N2", "N3"]


def test_ended_outage_is_resolved_and_a_new_outage_opens_a_new_ticket(store_db, days):
    with TicketStore(store_db) as store:
        r1 = run(store, days["day12"])
        old = ticket_of(r1, "A1")
        r3 = run(store, days["day123"])
        new = ticket_of(r3, "A3")
        assert new != old
        t = store.tickets().set_index("ticket_id")
        assert t.loc[old, "status"] == "resolved"
        assert t.loc[old, "resolved_at"] == pd.Timestamp("2026-11-03T20:00:00Z")
        assert "fault on S003 ended at 2026-11-03T20:00:00Z (F1)" in t.loc[old, "resolution"]
        assert t.loc[new, "status"] == "acknowledged"
        # A4 complained late about day 2: it joins the resolved ticket of that outage
        assert ticket_of(r3, "A4") == old and t.loc[old, "complaint_count"] == 3
        open_faults = t[(t["element_id"] == "S003") & t["status"].isin(["acknowledged", "inProgress", "pending", "held"])]
        assert open_faults.index.tolist() == [new]
        changes = [h for h in store.show(old)["history"] if h["event"] == "status"]
        assert [(h["who"], h["from_status"], h["to_status"]) for h in changes] == [("tester", "acknowledged", "resolved")]
        assert "ended at 2026-11-03T20:00:00Z" in changes[0]["why"]


def test_a_complaint_rediagnosed_with_a_real_fault_moves_and_its_field_ticket_is_cancelled(store_db, tmp_path):
    late_alarm = [fault("F9", "C002", "2026-11-02T15:00:00Z", "2026-11-02T23:00:00Z")]
    with TicketStore(store_db) as store:
        r1 = run(store, write_day(tmp_path / "a", "day1"))
        field = ticket_of(r1, "N1")
        r2 = run(store, write_day(tmp_path / "b", "day1", extra_events=late_alarm))  # the OMC reported the alarm late
        moved = ticket_of(r2, "N1")
        assert moved != field
        t = store.tickets().set_index("ticket_id")
        assert t.loc[moved, ["cause", "element_id"]].tolist() == ["fault", "C002"]
        assert t.loc[field, ["status", "complaint_count"]].tolist() == ["cancelled", 0]
        assert f"moved to {moved}" in t.loc[field, "resolution"]
        assert r2.tickets.attrs["store_run"]["relinked"] == 1


def test_ticket_ids_are_readable_and_numbered_per_day_of_the_first_complaint(store_db, days):
    with TicketStore(store_db) as store:
        run(store, days["day1"])
        run(store, days["day123"])
        t = store.tickets()
    assert t["ticket_id"].is_unique
    assert (t["ticket_id"].str.slice(3, 11) == t["created_at"].dt.strftime("%Y%m%d")).all()
    assert sorted(t["ticket_id"]) == ["TS-20261102-0001", "TS-20261102-0002", "TS-20261103-0001", "TS-20261104-0001"]


def test_diagnose_writes_store_ids_in_csv_files(store_db, tmp_path, days):
    from click.testing import CliRunner

    from netdiag.cli.main import cli
    from netdiag.tickets.store import postgres

    db, out = store_db, tmp_path / "out"
    res = CliRunner().invoke(cli, ["diagnose", str(days["day12"]), "--out", str(out), "--db", str(db)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    name = postgres.display(db) if postgres.is_postgres(db) else db  # a server's address without its options
    assert f"ticket store {name}: 3 new tickets" in res.output
    d = pd.read_csv(out / "diagnoses.csv", dtype=str, encoding="utf-8-sig")
    t = pd.read_csv(out / "tickets.csv", dtype=str, encoding="utf-8-sig")
    with TicketStore(db) as store:
        stored = set(store.tickets()["ticket_id"])
    assert set(d["ticket_id"]) == set(t["ticket_id"]) == stored


# ----------------------------------------------------------------------------- grade and priority
def test_grade_rises_with_vip_and_never_falls_and_a_hand_set_priority_stays(store_db, tmp_path, days):
    vip = complaint("V1", at("S003", 90, 410), "2026-11-03T09:30:00Z", vip="yes")
    with TicketStore(store_db) as store:
        r1 = run(store, days["day1"])
        tid = ticket_of(r1, "A1")
        first = store.tickets(ids=[tid]).iloc[0]
        assert (first["grade"], first["priority"]) == ("ordinary", "P2")  # one site down, still going on
        store.update(tid, priority="P3", who="duty", why="customer informed")
        run(store, write_day(tmp_path / "v", "day12", extra_complaints=[vip]))
        t = store.tickets(ids=[tid]).iloc[0]
        assert t["grade"] == "major" and t["vip_count"] == 1
        assert t["due_at"] == t["created_at"] + pd.Timedelta(hours=48)
        assert t["first_reply_due"] == t["created_at"] + pd.Timedelta(hours=4)  # major: report upward within half a day
        assert t["priority"] == "P3"  # set by a person: kept


# ----------------------------------------------------------------------------- people's updates
@pytest.fixture
def stocked(store_db, days):
    store = TicketStore(store_db)
    result = run(store, days["day12"])
    yield store, ticket_of(result, "A1")
    store.close()


def test_update_records_who_and_why_and_bumps_the_revision(stocked):
    store, tid = stocked
    rev = int(store.tickets(ids=[tid]).iloc[0]["revision"])
    shown = store.update(tid, status="inProgress", who="li.wei", why="repair team on site", note="ETA 2 h")
    assert shown["ticket"]["status"] == "inProgress" and shown["ticket"]["revision"] == rev + 1
    change = shown["history"][-1]
    assert (change["who"], change["from_status"], change["to_status"], change["why"]) == \
        ("li.wei", "acknowledged", "inProgress", "repair team on site")
    assert shown["notes"][-1]["text"] == "ETA 2 h"


@pytest.mark.parametrize("path, target, message", [
    ([], "closed", "cannot go from acknowledged to closed (from acknowledged it can go to inProgress, pending, held, "
                   "resolved, cancelled); resolve it first"),
    (["resolved", "closed"], "inProgress", "is closed, which is final; it cannot become inProgress"),
    (["cancelled"], "resolved", "is cancelled, which is final"),
    (["inProgress"], "inProgress", "is already inProgress"),
])
def test_refused_transitions_say_why(stocked, path, target, message):
    store, tid = stocked
    for status in path:
        store.update(tid, status=status, who="x")
    with pytest.raises(TransitionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        store.update(tid, status=target, who="x")


def test_reopening_is_refused_while_another_ticket_is_open_for_the_same_fault(store_db, days):
    with TicketStore(store_db) as store:
        run(store, days["day12"])
        r3 = run(store, days["day123"])
        old, new = ticket_of(r3, "A1"), ticket_of(r3, "A3")
        with pytest.raises(TransitionError, match=f"{old} cannot be re-opened: {new} is already open for fault on S003"):
            store.update(old, status="inProgress", who="x", why="customer unhappy")
        store.update(new, status="resolved", who="x")
        assert store.update(old, status="inProgress", who="x", why="customer unhappy")["ticket"]["resolved_at"] is pd.NaT


def test_stale_revision_and_unknown_ticket_are_refused(stocked):
    store, tid = stocked
    rev = int(store.tickets(ids=[tid]).iloc[0]["revision"])
    store.update(tid, note="first", who="a")
    with pytest.raises(InputError, match=f"ticket {tid} changed since you read it \\(now revision {rev + 1}, you had {rev}\\)"):
        store.update(tid, status="held", who="b", expect_revision=rev)
    with pytest.raises(InputError, match="ticket 'TS-19990101-0001' is not in"):
        store.update("TS-19990101-0001", note="x")
    with pytest.raises(InputError, match="nothing to update"):
        store.update(tid)


# ----------------------------------------------------------------------------- schema and safety
def test_schema_is_versioned_in_wal_mode_with_a_database_enforced_unique_open_ticket(tmp_path, days):
    db = tmp_path / "t.db"
    with TicketStore(db) as store:
        run(store, days["day1"])
    raw = sqlite3.connect(db)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    row = raw.execute("SELECT * FROM tickets WHERE element_id = 'S003'").fetchone()
    cols = [d[1] for d in raw.execute("PRAGMA table_info(tickets)")]
    dup = dict(zip(cols, row), ticket_id="TS-20261102-9999")
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE constraint failed: tickets.cause, tickets.element_id"):
        raw.execute(f"INSERT INTO tickets ({', '.join(dup)}) VALUES ({', '.join('?' * len(dup))})", list(dup.values()))
    raw.execute("UPDATE tickets SET status = 'resolved' WHERE element_id = 'S003'")  # once resolved, a new one may open
    raw.execute(f"INSERT INTO tickets ({', '.join(dup)}) VALUES ({', '.join('?' * len(dup))})", list(dup.values()))
    raw.close()


def test_a_store_of_a_newer_netdiag_or_of_another_application_is_refused(tmp_path):
    newer = tmp_path / "newer.db"
    TicketStore(newer).close()
    raw = sqlite3.connect(newer)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.commit()
    raw.close()
    with pytest.raises(InputError, match=f"has schema version {SCHEMA_VERSION + 1}, but this netdiag knows up to version "
                                         f"{SCHEMA_VERSION}; upgrade netdiag"):
        TicketStore(newer)
    other = tmp_path / "other.db"
    raw = sqlite3.connect(other)
    raw.execute("CREATE TABLE customers (id TEXT)")
    raw.commit()
    raw.close()
    with pytest.raises(InputError, match="is an SQLite database of another application \\(tables customers\\)"):
        TicketStore(other)
    text = tmp_path / "notes.txt"
    text.write_text("hello, this is not a database at all, just some text that is long enough" * 20)
    with pytest.raises(InputError, match="is not an SQLite database"):
        TicketStore(text)
    with pytest.raises(InputError, match="ticket store .*missing.db does not exist; create it with `netdiag diagnose"):
        TicketStore(tmp_path / "missing.db", create=False)


def test_on_postgresql_the_database_enforces_one_open_ticket_and_qgis_finds_points(pg_store, days):
    import psycopg

    with TicketStore(pg_store) as store:
        run(store, days["day1"])
        columns = store.conn.columns("tickets")
    with psycopg.connect(pg_store, autocommit=True) as raw:
        assert raw.execute("SELECT value FROM netdiag_meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
        # a point layer with a spatial index, in WGS-84, for QGIS
        assert raw.execute("SELECT srid, type FROM geometry_columns WHERE f_table_name = 'tickets' "
                           "AND f_table_schema = current_schema()").fetchone() == (4326, "POINT")
        assert raw.execute("SELECT count(*) FROM pg_indexes WHERE indexname IN ('tickets_geom', 'complaints_geom') "
                           "AND schemaname = current_schema() AND indexdef LIKE '%USING gist%'").fetchone()[0] == 2
        lon, lat, x, y = raw.execute("SELECT lon, lat, ST_X(geom), ST_Y(geom) FROM tickets WHERE element_id = 'S003'").fetchone()
        assert (x, y) == (lon, lat)
        dup = ", ".join(c for c in columns if c != "ticket_id")
        with pytest.raises(psycopg.errors.UniqueViolation, match="tickets_one_open_per_element"):
            raw.execute(f"INSERT INTO tickets (ticket_id, {dup}) SELECT 'TS-20261102-9999', {dup} FROM tickets "
                        f"WHERE element_id = 'S003'")
        raw.execute("UPDATE tickets SET status = 'resolved' WHERE element_id = 'S003'")  # once resolved, a new one may open
        raw.execute(f"INSERT INTO tickets (ticket_id, {dup}) SELECT 'TS-20261102-9999', {dup} FROM tickets "
                    f"WHERE element_id = 'S003'")


def test_on_postgresql_a_newer_store_another_applications_table_or_no_store_is_refused(pg_store):
    import psycopg

    with pytest.raises(InputError, match="has no netdiag tickets yet; a run creates them: `netdiag diagnose"):
        TicketStore(pg_store, create=False)
    with psycopg.connect(pg_store, autocommit=True) as raw:
        raw.execute("CREATE TABLE tickets (id TEXT)")
    with pytest.raises(InputError, match="already has a table tickets of another application"):
        TicketStore(pg_store)
    with psycopg.connect(pg_store, autocommit=True) as raw:
        raw.execute("DROP TABLE tickets")
    TicketStore(pg_store).close()
    with psycopg.connect(pg_store, autocommit=True) as raw:
        raw.execute(f"UPDATE netdiag_meta SET value = '{SCHEMA_VERSION + 1}' WHERE key = 'schema_version'")
    with pytest.raises(InputError, match=f"has schema version {SCHEMA_VERSION + 1}, but this netdiag knows up to version "
                                         f"{SCHEMA_VERSION}; upgrade netdiag"):
        TicketStore(pg_store)


def test_an_older_store_is_migrated(store_db, monkeypatch):
    import netdiag.tickets.store as store_mod

    db = store_db
    TicketStore(db).close()
    monkeypatch.setattr(store_mod, "MIGRATIONS", store_mod.MIGRATIONS + [["ALTER TABLE tickets ADD COLUMN sla_breached INTEGER"]])
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with store_mod.TicketStore(db) as store:
        assert store.schema_version() == SCHEMA_VERSION + 1
        assert "sla_breached" in store.conn.columns("tickets")


def test_before_commit_runs_inside_the_transaction_and_its_failure_rolls_the_run_back(store_db, days):
    from netdiag.engine.network import prepare

    ds = load_dataset(days["day1"])
    net = prepare(ds)
    diag = diagnose(ds, network=net).diagnoses
    seen = []

    def fail():
        seen.append(store.conn.tuples("SELECT count(*) FROM tickets")[1][0][0])
        raise RuntimeError("stop")

    with TicketStore(store_db) as store:
        with pytest.raises(RuntimeError, match="stop"):
            store.record(net, diag, who="tester", before_commit=fail)
        assert seen == [2]  # written, not yet committed
        assert table(store, "tickets").empty and table(store, "runs").empty


def test_customer_numbers_never_reach_the_store(store_db, days):
    with TicketStore(store_db) as store:
        run(store, days["day12"])
        stored = " ".join(str(table(store, name).to_dict("records")) for name in ("tickets", "complaints", "history", "notes"))
    assert "13800000000" not in stored and "*******0000" in stored
    if not store_db.startswith("postgresql"):  # nor any page of the file (freed pages, the write-ahead log)
        db = Path(store_db)
        data = db.read_bytes() + (db.with_suffix(".db-wal").read_bytes() if db.with_suffix(".db-wal").exists() else b"")
        assert b"13800000000" not in data and b"*******0000" in data


# ----------------------------------------------------------------------------- export
def test_export_tmf621_json_csv_and_geopackage(store_db, tmp_path, days):
    import json

    import geopandas as gpd

    with TicketStore(store_db) as store:
        r = run(store, days["day12"])
        tid = ticket_of(r, "A1")
        store.update(tid, status="inProgress", who="li.wei", why="on site", note="called the customer")
        assert export_tickets(store, tmp_path / "t.json", fmt="json") == 3
        assert export_tickets(store, tmp_path / "t.csv", fmt="csv", status=["open"], kind="field_test") == 2
        assert export_tickets(store, tmp_path / "t.gpkg", fmt="gpkg") == 3
        with pytest.raises(InputError, match="already exists; pass `overwrite`"):
            export_tickets(store, tmp_path / "t.gpkg", fmt="gpkg")
    tickets = {t["id"]: t for t in json.loads((tmp_path / "t.json").read_text())}
    t = tickets[tid]
    assert (t["@type"], t["status"], t["ticketType"], t["priority"]) == ("TroubleTicket", "inProgress", "networkFault", "P2")
    assert {"id": "S003", "role": "rootElement", "@referredType": "Resource", "name": "site"} in t["relatedEntity"]
    assert [e["id"] for e in t["relatedEntity"] if e["role"] == "complaint"] == ["A1", "A2"]
    assert t["statusChange"][-1] == {"changeDate": t["statusChange"][-1]["changeDate"], "status": "inProgress",
                                     "changeReason": "on site", "author": "li.wei"}
    assert t["note"][0]["text"] == "called the customer"
    layer = gpd.read_file(tmp_path / "t.gpkg", layer="tickets")
    assert layer.crs.to_epsg() == 4326 and (layer.geom_type == "Point").all() and len(layer) == 3
    assert pd.read_csv(tmp_path / "t.csv", encoding="utf-8-sig")["kind"].eq("field_test").all()


def test_map_and_report_with_db_show_the_stores_lasting_tickets_and_write_nothing(store_db, tmp_path, days):
    from click.testing import CliRunner

    from netdiag.cli.main import cli
    from netdiag.pipeline import with_store_tickets
    from netdiag.views.leaflet import layer_features, read_layers

    with TicketStore(store_db) as store:
        tid = ticket_of(run(store, days["day1"]), "A1")
        store.update(tid, status="inProgress", who="li.wei", why="crew on site")
        before = {name: table(store, name) for name in ("tickets", "complaints", "history", "runs")}
        lasting = with_store_tickets(run(None, days["day12"]), store)
    # day 2's complaints are not in the store yet: no lasting ticket, and said so
    assert ticket_of(lasting, "A1") == tid and ticket_of(lasting, "A2") == ""
    assert lasting.tickets.attrs["store"]["unlinked"] == 3
    assert lasting.tickets.set_index("ticket_id").loc[tid, "status"] == "inProgress"
    res = CliRunner().invoke(cli, ["map", "--data", str(days["day12"]), "--db", store_db, "--out", str(tmp_path / "m.html")])
    assert res.exit_code == 0, res.output
    layers = read_layers((tmp_path / "m.html").read_text(encoding="utf-8"))
    shown = layer_features(layers["nd-ticket"], layers)
    assert sorted(shown) == sorted(f"ticket:{t}" for t in before["tickets"]["ticket_id"])  # the day-1 run's two
    assert "inProgress" in shown[f"ticket:{tid}"]["p"]
    res = CliRunner().invoke(cli, ["report", "--data", str(days["day12"]), "--db", store_db, "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    with TicketStore(store_db, create=False) as store:
        for name, frame in before.items():
            pd.testing.assert_frame_equal(table(store, name), frame, obj=name)



# ----------------------------------------------------------------------------- both back ends, and moving a store
#: columns that hold the wall clock of a run or an update (not the data's times)
WALL_CLOCK = {"opened_at", "updated_at", "linked_at", "at", "started_at", "finished_at"}


def comparable(store: TicketStore) -> dict[str, list[tuple]]:
    """Every table without the wall-clock columns, row order aside (history's order is checked per ticket by show)."""
    out = {}
    for name in ("tickets", "complaints", "history", "notes", "runs", "id_counters"):
        frame = table(store, name)
        frame = frame[[c for c in frame.columns if c not in WALL_CLOCK | {"seq"}]]
        out[name] = sorted(map(repr, frame.astype(object).where(frame.notna(), None).itertuples(index=False)))
    return out


def test_sqlite_and_postgresql_keep_the_same_tickets_over_three_days(pg_store, tmp_path, days):
    late_alarm = [fault("F9", "C002", "2026-11-02T15:00:00Z", "2026-11-02T23:00:00Z")]  # a re-diagnosis moves N1
    folders = [days["day1"], days["day12"], write_day(tmp_path / "late", "day12", extra_events=late_alarm), days["day123"]]
    seen = {}
    for db in (str(tmp_path / "t.db"), pg_store):
        with TicketStore(db) as store:
            for folder in folders:
                run(store, folder)
            tid = store.tickets(cause=["fault"], status=["open"]).iloc[0]["ticket_id"]
            store.update(tid, status="inProgress", who="li.wei", why="on site", note="ETA 2 h")
            seen[db] = comparable(store)
    sqlite, postgresql = seen.values()
    for name in sqlite:
        assert postgresql[name] == sqlite[name], name


def test_tickets_migrate_moves_a_store_to_postgresql_and_back_unchanged(pg_store, tmp_path, days):
    from click.testing import CliRunner

    from netdiag.cli.main import cli

    first = str(tmp_path / "first.db")
    with TicketStore(first) as store:
        run(store, days["day12"])
        tid = store.tickets(cause=["fault"]).iloc[0]["ticket_id"]
        store.update(tid, status="inProgress", who="li.wei", why="on site", note="ETA 2 h")
        original = {name: table(store, name) for name in ("tickets", "complaints", "history", "notes", "runs", "id_counters")}
    runner = CliRunner()
    res = runner.invoke(cli, ["tickets", "migrate", "--from", first, "--to", pg_store])
    assert res.exit_code == 0 and "copied 3 tickets, 5 complaints" in res.output and "1 notes and 1 runs" in res.output
    back = str(tmp_path / "back.db")
    res = runner.invoke(cli, ["tickets", "migrate", "--from", pg_store, "--to", back])
    assert res.exit_code == 0, res.output
    with TicketStore(back, create=False) as store:
        for name, frame in original.items():
            pd.testing.assert_frame_equal(table(store, name), frame, obj=name)
        # numbering goes on after the copied ids, on both sides
        assert store.update(tid, note="again", who="x")["notes"][-1]["text"] == "again"
    with TicketStore(pg_store, create=False) as store:
        store.update(tid, note="again", who="x")
        assert table(store, "notes")["seq"].tolist() == [1, 2]
        run(store, days["day123"])
        assert table(store, "runs")["run_id"].tolist() == [1, 2]
    # nothing is merged, a store is not copied onto itself, and a failed copy leaves no new file behind
    res = runner.invoke(cli, ["tickets", "migrate", "--from", first, "--to", pg_store])
    assert res.exit_code == 2 and "already holds 4 tickets and 2 runs; copy into a new, empty store" in res.output
    res = runner.invoke(cli, ["tickets", "migrate", "--from", first, "--to", first])
    assert res.exit_code == 2 and "is the store to copy from" in res.output
    res = runner.invoke(cli, ["tickets", "migrate", "--from", str(tmp_path / "none.db"), "--to", str(tmp_path / "new.db")])
    assert res.exit_code == 2 and "none.db does not exist" in res.output and not (tmp_path / "new.db").exists()


def test_a_failed_copy_leaves_no_new_store_file_behind(tmp_path, days, monkeypatch):
    from click.testing import CliRunner

    from netdiag.cli.main import cli
    from netdiag.errors import StoreFullError
    from netdiag.tickets.store import migrate

    first = str(tmp_path / "first.db")
    with TicketStore(first) as store:
        run(store, days["day1"])

    def full(*_args, **_kwargs):
        raise StoreFullError("the disk is full")
    monkeypatch.setattr(migrate, "copy_store", full)
    res = CliRunner().invoke(cli, ["tickets", "migrate", "--from", first, "--to", str(tmp_path / "copy.db")])
    assert res.exit_code == 2 and "the disk is full" in res.output
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("copy")) == []


# ----------------------------------------------------------------------------- a shared server's rough days
def test_six_processes_creating_one_postgresql_store_at_once_all_succeed(pg_store):
    import subprocess
    import sys

    nd = [sys.executable, "-c", "import sys; from netdiag.cli.main import cli; sys.argv[0] = 'netdiag'; cli()"]
    procs = [subprocess.Popen([*nd, "tickets", "init", "--db", pg_store], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(6)]
    results = [(p.wait(timeout=120), p.stdout.read() + p.stderr.read()) for p in procs]
    assert all(code == 0 for code, _ in results), [out for code, out in results if code]
    assert all("schema version 2, 0 tickets" in out for _, out in results)


def test_text_postgresql_cannot_hold_and_odd_schemas_are_clear(pg_store, tmp_path, days):
    import psycopg

    nul = complaint("Z1", at("S003", 90, 400), "2026-11-02T09:00:00Z", description="bad\x00byte")
    with TicketStore(pg_store) as store:  # a NUL in an untrusted description does not fail the whole run
        run(store, write_day(tmp_path / "nul", "day1", extra_complaints=[nul]))
        assert table(store, "complaints").set_index("complaint_id").loc["Z1", "description"] == "bad\ufffdbyte"
    nowhere = pg_store.replace("search_path%3D", "search_path%3Dno_such_schema_")
    with pytest.raises(InputError, match="no schema of the search path exists"):
        TicketStore(nowhere.split(",public")[0])
    with psycopg.connect(pg_store, autocommit=True) as raw:
        raw.execute("DROP TABLE history, notes, complaints, runs, tickets, id_counters, netdiag_meta CASCADE")
        raw.execute("CREATE TABLE netdiag_meta (name TEXT)")
    with pytest.raises(InputError, match="has a table netdiag_meta that is not a netdiag ticket store's"):
        TicketStore(pg_store, create=False)
    with psycopg.connect(pg_store, autocommit=True) as raw:
        raw.execute("DROP TABLE netdiag_meta")
        raw.execute("CREATE TABLE tickets (id TEXT)")
    with pytest.raises(InputError, match="already has a table tickets of another application"):
        TicketStore(pg_store, create=False)  # not "run diagnose", which would be refused too


def test_a_pooled_connection_the_server_dropped_is_replaced_not_failed(pg_store, pg_server, days):
    import psycopg

    from netdiag.tickets.store import postgres

    postgres.use_pools()
    try:
        with TicketStore(pg_store) as store:
            run(store, days["day1"])
            pid = store.conn.raw.info.backend_pid
        with psycopg.connect(pg_server, autocommit=True) as admin:  # a failover, a restart: the server ends it
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with TicketStore(pg_store, create=False) as store:
            assert len(store.tickets()) == 2 and store.conn.raw.info.backend_pid != pid
        for n in range(postgres.MAX_POOLS + 2):  # a long-lived server keeps a few pools, not one per spelling
            TicketStore(f"{pg_store}&application_name=n{n}", create=False).close()
        assert len(postgres._POOLS) == postgres.MAX_POOLS
    finally:
        postgres.close_pools()
        postgres.use_pools(False)


def test_text_the_terminal_did_not_send_as_utf8_is_one_line(tmp_path, days):
    from click.testing import CliRunner

    from netdiag.cli.main import cli

    with TicketStore(str(tmp_path / "t.db")) as store:
        tid = ticket_of(run(store, days["day1"]), "A1")
    res = CliRunner().invoke(cli, ["tickets", "update", tid, "--db", str(tmp_path / "t.db"), "--note", "bad\udcffutf8"])
    assert res.exit_code == 2 and "--note is not text this terminal sent as UTF-8" in res.output
    assert "Traceback" not in res.output
