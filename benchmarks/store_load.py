"""Load test of one ticket store: a NOC shift of handlers and diagnosis runs at once (issue #11, point 5).

Usage::

    python benchmarks/store_load.py --db /tmp/shift.db                        # SQLite
    python benchmarks/store_load.py --db postgresql://noc@127.0.0.1:5432/netdiag --schema load_1
    python benchmarks/store_load.py --db ... --handlers 20 --runs 2 --seconds 60 --out result.json

What it does:

1. **Data**: ``--data DIR``, or a synthetic city made once by :func:`netdiag.sample.generate`
   (``--sites 800 --days 8``: about 3,200 cells and 4,000 complaints; a ``diagnose --db`` of it
   takes about 3 s alone) in ``--work``. Its complaints are cut into overlapping slices of two
   days over the same network, alarms and counters (days 1-2, 2-3, ... 7-8).
2. **Seed**: one ``diagnose --db`` of the first slice, so that the store has open tickets.
3. **The shift**, for ``--seconds``: ``--handlers`` handler processes and ``--runs`` diagnose
   processes start at the same moment (each has imported netdiag and read its spots first,
   then waits for the start). A handler loops, picking at random
   (``check`` 40 %, ``tickets update`` 40 %, ``tickets show`` 20 %, no pause between them):

   - ``netdiag check --data DATA --lat .. --lon .. --at .. --db STORE --no-server`` at a random
     complaint's spot and time: what serves the spot and the open ticket of its fault;
   - ``netdiag tickets update`` of one of the open tickets its last check saw: a note (40 %),
     a new team (25 %) or a status move the life cycle allows from the status it saw (35 %;
     a third of them close or re-open a ticket this handler resolved); 30 % of the updates
     carry ``--expect-revision`` with the revision it saw;
   - ``netdiag tickets show`` of one of those tickets.

   A diagnose process loops over the slices (the two processes take turns, so neighbouring
   slices overlap) with ``diagnose --data SLICE --out .. --db STORE``, until the time is up.
4. **Integrity**, with SQL on the store afterwards: open tickets per (cause, element_id) and per
   (cause, area_key); every complaint of every run linked once, to the ticket the last run
   that diagnosed it reported in its ``diagnoses.csv`` (earlier runs' tickets differ only when
   a later run moved the complaint, which leaves an ``unlinked`` history row); every update a
   handler saw succeed has its history row or note, none it saw refused left one, each ticket's
   status and team are those of its last history row, and each ticket's revision is what its
   history and notes account for.

Every command runs **inside its process** (``cli.main([...], standalone_mode=False)``; the
check as said below), so Python's start-up and imports are not measured. Latency is measured there, around the one call:

- ``check``: what ``netdiag check --db STORE`` does for one spot, on a network the handler read
  once at its start (as ``netdiag serve`` keeps it for a desk): the store's open tickets, read
  again at every check (:func:`netdiag.tickets.store.open_tickets`, reported alone as
  ``check: store``), the verdict (:func:`netdiag.engine.check.check_point`) and its JSON. Reading
  the data is not in it: a fresh check reads it in about 0.5 s at this size (0.2-0.3 s from a
  workspace), and 20 processes doing that on 2 cores would measure pandas, not the store. With
  ``--check-reads-data`` each check is the whole ``netdiag check --data DATA ... --db STORE
  --no-server`` command instead, and ``check: data`` its data reading
  (:func:`netdiag.engine.check.load_network`).
- ``update`` and ``show``: the whole command (open the store, one transaction, print).
- ``diagnose``: the whole run (read, validate, diagnose, store, write the CSV files) and
  ``diagnose: store``, the store's step (:meth:`TicketStore.record`, one write transaction).

A PostgreSQL process keeps its connection pool between commands (a desk that stays open); a
SQLite one opens the file at every command.

Outcomes: ``ok``; ``stale`` (``--expect-revision`` refused: someone changed the ticket since
the handler saw it; expected, not an error); ``refused`` (a status move the life cycle no
longer allows, the ticket having moved on since the handler saw it; expected); ``error``
(anything else: a busy store, a failed connection) and ``crash`` (an exception that is not
netdiag's one-line error, with its traceback), both counted and listed.

A PostgreSQL address gets a schema of its own with ``--schema NAME`` (created here, refused if it
exists; the password comes from ``~/.pgpass`` or ``PGPASSFILE``, never the address). A SQLite
file must not exist yet. The result is printed and written as JSON to ``--out``.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
TZ = "Asia/Shanghai"
OPEN = ("acknowledged", "inProgress", "pending", "held")
#: the handler's mix of operations, and of updates
OPS = {"check": 0.4, "update": 0.4, "show": 0.2}
UPDATES = {"note": 0.4, "team": 0.25, "status": 0.35}
#: status moves a handler makes from each status (weights); the life cycle allows each of them
MOVES = {
    "acknowledged": {"inProgress": 4, "pending": 2, "held": 1, "resolved": 2, "cancelled": 0.5},
    "inProgress": {"pending": 2, "held": 1, "resolved": 3, "cancelled": 0.5},
    "pending": {"inProgress": 3, "held": 1, "resolved": 2, "cancelled": 0.5},
    "held": {"inProgress": 3, "pending": 1, "resolved": 2, "cancelled": 0.5},
    "resolved": {"closed": 2, "inProgress": 1},
}
EXPECT_REVISION_SHARE = 0.3


# ----------------------------------------------------------------------------- stores
def is_pg(db: str) -> bool:
    return str(db).startswith(("postgresql://", "postgres://"))


def query(db: str, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows of ``sql`` (``?`` parameters) on the store ``db``: a SQLite file or a PostgreSQL address."""
    from netdiag.tickets.store.connection import raw_rows

    return raw_rows(db, sql, params)


def new_store(db: str, schema: str | None) -> str:
    """The address or file the shift writes to: a new schema on the server, or a new SQLite file."""
    if is_pg(db):
        if not schema:
            return db
        if "?" in db:
            raise SystemExit("--schema goes with an address without parameters")
        import psycopg

        with psycopg.connect(db, autocommit=True) as con:
            con.execute(f'CREATE SCHEMA "{schema}"')
        return f"{db}?options=-csearch_path%3D{schema},public"
    if Path(db).exists():
        raise SystemExit(f"{db} exists: give the name of a new SQLite file")
    return db


# ----------------------------------------------------------------------------- data
def ensure_data(args) -> Path:
    if args.data:
        return args.data
    folder = args.work / f"data-{args.sites}s-{args.days}d"
    if not (folder / "complaints.csv").is_file():
        from netdiag.sample import generate

        print(f"generating {args.sites} sites over {args.days} days into {folder}", flush=True)
        generate(folder, n_sites=args.sites, seed=11, days=args.days, load_format="parquet", bad_rows=False)
    return folder


def make_slices(data: Path, work: Path) -> list[Path]:
    """Overlapping two-day slices of the complaints (days 1-2, 2-3, ...), each with the whole network."""
    import pandas as pd

    complaints = pd.read_csv(data / "complaints.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    received = pd.to_datetime(complaints["received_at"], utc=True, format="ISO8601", errors="coerce")
    day0 = received.min().tz_convert(TZ).normalize()
    day = ((received - day0) / pd.Timedelta(days=1)).fillna(-1).astype(int)
    n_days = int(day.max()) + 1
    slices = []
    for lo in range(max(n_days - 1, 1)):
        folder = work / "slices" / f"days{lo + 1}-{lo + 2}"
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for f in data.iterdir():
            if f.is_file() and f.name != "complaints.csv":
                shutil.copy(f, folder / f.name)
        complaints[(day >= lo) & (day < lo + 2)].to_csv(folder / "complaints.csv", index=False)
        slices.append(folder)
    return slices


def spots(data: Path) -> list[tuple[str, str, str, str]]:
    """(lat, lon, received_at, coord_system) of every complaint with a position."""
    with open(data / "complaints.csv", encoding="utf-8-sig", newline="") as fh:
        return [(r["lat"], r["lon"], r["received_at"], r.get("coord_system") or "wgs84") for r in csv.DictReader(fh)
                if r["lat"] and r["lon"] and r["received_at"][:2] == "20"]


# ----------------------------------------------------------------------------- inside a worker process
class Timed:
    """Seconds spent in a function, added up per call (the parts of one command)."""

    def __init__(self) -> None:
        self.seconds, self.result = 0.0, None

    def wrap(self, func):
        def timed(*args, **kwargs):
            t = time.perf_counter()
            try:
                self.result = func(*args, **kwargs)
                return self.result
            finally:
                self.seconds += time.perf_counter() - t
        return timed


def run_cli(args: list[str]) -> tuple[str, str]:
    """Run one netdiag command in this process: (outcome, message)."""
    import click

    from netdiag.cli.main import cli

    try:
        cli.main(["-q", "--tz", TZ, *args], prog_name="netdiag", standalone_mode=False)
        return "ok", ""
    except click.ClickException as exc:
        text = exc.format_message()
        if "changed since you read it" in text:
            return "stale", text
        if any(s in text for s in ("cannot go from", "is final", "cannot be re-opened", "is already")):
            return "refused", text
        return "error", text
    except SystemExit as exc:  # click's exit codes
        return ("ok", "") if not exc.code else ("error", f"exit {exc.code}")
    except Exception:  # noqa: BLE001 - a traceback is a finding, kept whole
        return "crash", traceback.format_exc()


def kept_check(net, settings, check_point, open_tickets, db, lat, lon, at, system) -> tuple[str, str]:
    """What `netdiag check --db` does for one spot, on a network read once: the store's open tickets
    (read again at every check), the verdict, and its JSON."""
    from netdiag.data.times import parse_at
    from netdiag.errors import NetdiagError
    from netdiag.views.check_screen import check_json

    try:
        tickets = open_tickets(db, settings=settings)
        check_json(check_point(net, float(lat), float(lon), coord_system=system, at=parse_at(at, settings.tz),
                               tickets=tickets))
        return "ok", ""
    except NetdiagError as exc:
        return "error", str(exc)
    except Exception:  # noqa: BLE001 - a traceback is a finding, kept whole
        return "crash", traceback.format_exc()


def wait_for_start(cfg: dict, name: str) -> float:
    """Say ready, wait for the common start; the deadline."""
    (Path(cfg["sync"]) / f"ready-{name}").write_text("")
    go = Path(cfg["sync"]) / "go"
    while not go.exists():
        time.sleep(0.01)
    return float(go.read_text())


def handler(cfg: dict, n: int) -> dict:
    import netdiag.engine.check as engine_check
    import netdiag.tickets.store as store_module
    from netdiag.tickets.store import TicketStore

    rng = random.Random(1000 + n)
    db, data = cfg["db"], cfg["data"]
    places = spots(Path(data))
    store_part, data_part, shown, updated = Timed(), Timed(), Timed(), Timed()
    store_module.open_tickets = store_part.wrap(store_module.open_tickets)  # what `check --db` calls, looked up per call
    engine_check.load_network = data_part.wrap(engine_check.load_network)
    TicketStore.show = shown.wrap(TicketStore.show)
    TicketStore.update = updated.wrap(TicketStore.update)
    seen: dict[str, tuple[str, int]] = {}  # ticket -> (status, revision) as this handler last saw it
    open_ids: list[str] = []
    resolved_by_me: list[str] = []

    kept = None
    if not cfg["check_reads_data"]:  # the desk keeps the network, as `netdiag serve` does
        from netdiag.engine.check import check_point
        from netdiag.settings import Settings

        settings = Settings().with_overrides({"tz": TZ})
        kept = engine_check.load_network(data, settings)

    def check(lat, lon, at, system) -> tuple[str, str]:
        store_part.seconds = data_part.seconds = 0.0
        store_part.result = None
        if kept is None:
            outcome = run_cli(["check", "--data", data, "--lat", lat, "--lon", lon, "--at", at, "--coord-system", system,
                               "--db", db, "--no-server", "--format", "json"])
        else:
            outcome = kept_check(kept, settings, check_point, store_module.open_tickets, db, lat, lon, at, system)
        if store_part.result is not None:
            t = store_part.result
            open_ids[:] = t["ticket_id"].tolist()
            seen.update(zip(t["ticket_id"], zip(t["status"], t["revision"].astype(int))))
        return outcome

    # warm up (not measured): imports, one check and one show, as a handler whose desk is open
    check(*rng.choice(places))
    if open_ids:
        run_cli(["tickets", "show", open_ids[0], "--db", db])
    ops, updates = [], []
    deadline = wait_for_start(cfg, f"h{n}")
    i = 0
    while time.time() < deadline:
        i += 1
        op = rng.choices(list(OPS), weights=list(OPS.values()))[0]
        if op != "check" and not open_ids:
            op = "check"
        if op == "check":
            t = time.perf_counter()
            outcome, message = check(*rng.choice(places))
            ops.append({"op": "check", "s": time.perf_counter() - t, "store_s": store_part.seconds,
                        "data_s": data_part.seconds, "outcome": outcome, "message": message[:2000]})
            continue
        if op == "show":
            ticket = rng.choice(open_ids)
            shown.result = None
            t = time.perf_counter()
            outcome, message = run_cli(["tickets", "show", ticket, "--db", db])
            ops.append({"op": "show", "s": time.perf_counter() - t, "outcome": outcome, "message": message[:2000]})
            if shown.result is not None:
                row = shown.result["ticket"]
                seen[ticket] = (row["status"], int(row["revision"]))
            continue
        who = f"desk{n:02d}-{i}"
        what = rng.choices(list(UPDATES), weights=list(UPDATES.values()))[0]
        ticket = rng.choice(open_ids)
        if what == "status" and resolved_by_me and rng.random() < 1 / 3:
            ticket = rng.choice(resolved_by_me)
        status, revision = seen.get(ticket, ("acknowledged", 1))
        args = ["tickets", "update", ticket, "--db", db, "--who", who]
        if what == "note":
            value = f"called the customer back ({who})"
            args += ["--note", value]
        elif what == "team":
            value = f"team-{who}"
            args += ["--team", value, "--why", "reassigned"]
        else:
            moves = MOVES.get(status)
            if not moves:
                what, value = "note", f"nothing to move ({who})"
                args += ["--note", value]
            else:
                value = rng.choices(list(moves), weights=list(moves.values()))[0]
                args += ["--status", value, "--why", "load test"]
        expect = rng.random() < EXPECT_REVISION_SHARE
        if expect:
            args += ["--expect-revision", str(revision)]
        updated.result = None
        t = time.perf_counter()
        outcome, message = run_cli(args)
        seconds = time.perf_counter() - t
        ops.append({"op": "update", "s": seconds, "outcome": outcome, "message": message[:2000]})
        updates.append({"ticket": ticket, "who": who, "what": what, "value": value, "from": status,
                        "expect_revision": revision if expect else None, "outcome": outcome})
        if updated.result is not None:
            row = updated.result["ticket"]
            seen[ticket] = (row["status"], int(row["revision"]))
            if what == "status" and value == "resolved":
                resolved_by_me.append(ticket)
            if what == "status" and ticket in resolved_by_me and value != "resolved":
                resolved_by_me.remove(ticket)
        elif what == "status" and outcome == "refused" and ticket in resolved_by_me:
            resolved_by_me.remove(ticket)
    return {"ops": ops, "updates": updates}


def diagnoser(cfg: dict, k: int) -> dict:
    import netdiag.pipeline  # noqa: F401 - imported before the start, as the handlers' are
    import netdiag.views.writers  # noqa: F401
    from netdiag.tickets.store import TicketStore

    recorded = Timed()
    TicketStore.record = recorded.wrap(TicketStore.record)
    slices, runs = cfg["slices"], cfg["runs"]
    done = []
    deadline = wait_for_start(cfg, f"d{k}")
    i = 0
    while time.time() < deadline:
        folder = slices[(1 + k + runs * i) % len(slices)]
        who, out = f"run{k}-{i}", Path(cfg["work"]) / "runs" / f"run{k}-{i}"
        recorded.seconds, recorded.result = 0.0, None
        t = time.perf_counter()
        outcome, message = run_cli(["diagnose", "--data", folder, "--out", str(out), "--db", cfg["db"], "--who", who,
                                    "--overwrite"])
        seconds = time.perf_counter() - t
        report = recorded.result[2].as_dict() if recorded.result is not None and outcome == "ok" else None
        done.append({"who": who, "slice": Path(folder).name, "out": str(out), "s": seconds, "store_s": recorded.seconds,
                     "outcome": outcome, "message": message[:4000], "report": report})
        i += 1
    return {"runs": done}


def worker_main(kind: str, config: Path, n: int) -> None:
    cfg = json.loads(config.read_text())
    result = handler(cfg, n) if kind == "handler" else diagnoser(cfg, n)
    (Path(cfg["sync"]) / f"result-{kind}-{n}.json").write_text(json.dumps(result))


# ----------------------------------------------------------------------------- the shift
def shift(db: str, data: Path, slices: list[Path], work: Path, *, handlers: int, runs: int, seconds: float,
          check_reads_data: bool) -> dict:
    sync = work / "sync"
    shutil.rmtree(sync, ignore_errors=True)
    shutil.rmtree(work / "runs", ignore_errors=True)
    sync.mkdir(parents=True)
    config = sync / "config.json"
    config.write_text(json.dumps({"db": db, "data": str(data), "slices": [str(s) for s in slices], "runs": runs,
                                  "work": str(work), "sync": str(sync), "check_reads_data": check_reads_data}))
    me = [sys.executable, str(Path(__file__).resolve()), "--worker"]
    procs = {}
    for n in range(handlers):
        procs[f"handler-{n}"] = subprocess.Popen([*me, "handler", str(config), str(n)], stdout=subprocess.DEVNULL,
                                                 stderr=open(sync / f"handler-{n}.err", "w"))
    for k in range(runs):
        procs[f"diagnose-{k}"] = subprocess.Popen([*me, "diagnose", str(config), str(k)], stdout=subprocess.DEVNULL,
                                                  stderr=open(sync / f"diagnose-{k}.err", "w"))
    while len(list(sync.glob("ready-*"))) < handlers + runs:
        dead = [name for name, p in procs.items() if p.poll() is not None]
        if dead:
            raise SystemExit(f"{dead[0]} ended before the start: {(sync / f'{dead[0]}.err').read_text()[-3000:]}")
        time.sleep(0.1)
    started = time.time()
    (sync / "go").write_text(str(started + seconds))
    print(f"{handlers} handlers and {runs} diagnose processes started; {seconds:g} s", flush=True)
    for name, p in procs.items():
        p.wait()
        if p.returncode != 0:
            raise SystemExit(f"{name} failed ({p.returncode}): {(sync / f'{name}.err').read_text()[-3000:]}")
    wall = time.time() - started
    ops, updates, diag_runs = [], [], []
    for n in range(handlers):
        r = json.loads((sync / f"result-handler-{n}.json").read_text())
        ops += r["ops"]
        updates += r["updates"]
    for k in range(runs):
        diag_runs += json.loads((sync / f"result-diagnose-{k}.json").read_text())["runs"]
    return {"wall_s": wall, "ops": ops, "updates": updates, "runs": diag_runs}


# ----------------------------------------------------------------------------- integrity
def integrity(db: str, updates: list[dict], runs: list[dict]) -> dict:
    """The store after the shift, checked with SQL against what every process saw."""
    import pandas as pd

    out: dict = {}
    for col in ("element_id", "area_key"):
        dup = query(db, f"SELECT cause, {col}, count(*) FROM tickets WHERE {col} IS NOT NULL AND status IN {OPEN} "
                        f"GROUP BY cause, {col} HAVING count(*) > 1")
        out[f"duplicate_open_per_cause_{col}"] = len(dup)
        out[f"duplicate_open_per_cause_{col}_examples"] = [list(d) for d in dup[:5]]
    out["complaint_count_out_of_step"] = len(query(
        db, "SELECT t.ticket_id FROM tickets t LEFT JOIN complaints c USING (ticket_id) GROUP BY t.ticket_id "
            "HAVING t.complaint_count != count(c.complaint_id)"))

    # links: every complaint of every run once, on the ticket the last run that diagnosed it reported
    run_ids = dict(query(db, "SELECT who, run_id FROM runs WHERE finished_at IS NOT NULL"))
    linked = dict(query(db, "SELECT complaint_id, ticket_id FROM complaints"))
    unlinked = {}
    for ticket, why in query(db, "SELECT ticket_id, why FROM history WHERE event = 'unlinked'"):
        for part in why.split("; "):
            unlinked.setdefault(part.split(" ")[0], set()).add(ticket)
    reported: dict[str, list[tuple[int, str]]] = {}
    ok_runs = [r for r in runs if r["outcome"] == "ok"]
    missing_runs = [r["who"] for r in ok_runs if r["who"] not in run_ids]
    for r in ok_runs:
        if r["who"] not in run_ids:
            continue
        d = pd.read_csv(Path(r["out"]) / "diagnoses.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
        for cid, tid in zip(d["complaint_id"], d["ticket_id"]):
            reported.setdefault(cid, []).append((run_ids[r["who"]], tid))
    lost, wrong, moved, moved_unexplained = [], [], 0, []
    for cid, seen in reported.items():
        seen.sort()
        if cid not in linked:
            lost.append(cid)
            continue
        if seen[-1][1] != linked[cid]:
            wrong.append((cid, seen[-1], linked[cid]))
        for _, tid in seen[:-1]:
            if tid != linked[cid]:
                moved += 1
                if tid not in unlinked.get(cid, set()):
                    moved_unexplained.append((cid, tid, linked[cid]))
    out["runs_checked"] = len(ok_runs) - len(missing_runs)
    out["runs_reported_ok_but_not_in_store"] = missing_runs
    out["complaints_checked"] = len(reported)
    out["complaints_lost"] = len(lost)
    out["complaints_on_another_ticket_than_last_run_reported"] = len(wrong)
    out["complaints_in_store_no_run_reported"] = len(set(linked) - set(reported))
    out["complaints_moved_by_a_later_run"] = moved
    out["complaints_moved_without_history"] = len(moved_unexplained)
    out["link_examples"] = [list(map(str, x)) for x in (lost[:3] + wrong[:3] + moved_unexplained[:3])]

    # updates: every one a handler saw succeed is in the store, none it saw fail is
    hist = query(db, "SELECT ticket_id, who, event, to_status, why FROM history WHERE who LIKE 'desk%'")
    notes = query(db, "SELECT ticket_id, who, text FROM notes WHERE who LIKE 'desk%'")
    rows: dict[str, list] = {}
    for ticket, who, event, to_status, why in hist:
        rows.setdefault(who, []).append((ticket, event, to_status or (why or "").split(" -> ")[-1].split(":")[0]))
    for ticket, who, text in notes:
        rows.setdefault(who, []).append((ticket, "note", text))
    event = {"status": "status", "team": "team", "note": "note"}
    lost_updates, phantom = [], []
    for u in updates:
        found = rows.get(u["who"], [])
        want = (u["ticket"], event[u["what"]], u["value"])
        if u["outcome"] == "ok" and found != [want]:
            lost_updates.append({**u, "found": found})
        if u["outcome"] != "ok" and found:
            phantom.append({**u, "found": found})
    known = {u["who"] for u in updates}
    phantom += [{"who": w, "found": f} for w, f in rows.items() if w not in known]
    out["updates_ok"] = sum(u["outcome"] == "ok" for u in updates)
    out["updates_lost"] = len(lost_updates)
    out["updates_refused_but_written"] = len(phantom)
    out["update_examples"] = (lost_updates + phantom)[:5]
    # each ticket's status and team are those of its last history row
    out["status_not_last_written"] = len(query(db, """
        SELECT t.ticket_id FROM tickets t JOIN history h ON h.ticket_id = t.ticket_id AND h.event = 'status'
        WHERE h.seq = (SELECT max(seq) FROM history WHERE ticket_id = t.ticket_id AND event = 'status')
          AND h.to_status != t.status"""))
    out["team_not_last_written"] = len(query(db, """
        SELECT t.ticket_id FROM tickets t JOIN history h ON h.ticket_id = t.ticket_id AND h.event = 'team'
        WHERE h.seq = (SELECT max(seq) FROM history WHERE ticket_id = t.ticket_id AND event = 'team')
          AND h.why NOT LIKE '% -> ' || t.team || '%'"""))
    # every revision accounted for: one per run that linked to (or moved from) the ticket, one per status change
    # (a run's or a person's), one per team or priority change, one per note
    wrong_rev = query(db, """
        SELECT * FROM (
            SELECT t.ticket_id, t.revision,
                   1 + (SELECT count(DISTINCT h.who) FROM history h WHERE h.ticket_id = t.ticket_id
                        AND h.event IN ('linked', 'unlinked'))
                   + (SELECT count(*) FROM history h WHERE h.ticket_id = t.ticket_id
                      AND h.event IN ('status', 'team', 'priority'))
                   + (SELECT count(*) FROM notes n WHERE n.ticket_id = t.ticket_id) AS expected
            FROM tickets t) AS counted
        WHERE revision != expected""")
    out["revisions_not_accounted_for"] = len(wrong_rev)
    out["revision_examples"] = [list(r) for r in wrong_rev[:5]]
    out["tickets"] = dict(query(db, "SELECT status, count(*) FROM tickets GROUP BY status ORDER BY status"))
    out["ok"] = not any(out[k] for k in (
        "duplicate_open_per_cause_element_id", "duplicate_open_per_cause_area_key", "complaint_count_out_of_step",
        "runs_reported_ok_but_not_in_store", "complaints_lost", "complaints_on_another_ticket_than_last_run_reported",
        "complaints_in_store_no_run_reported", "complaints_moved_without_history", "updates_lost",
        "updates_refused_but_written", "status_not_last_written", "team_not_last_written",
        "revisions_not_accounted_for"))
    return out


# ----------------------------------------------------------------------------- figures
def latencies(values: list[float]) -> dict:
    import numpy as np

    if not values:
        return {"count": 0}
    v = np.asarray(values) * 1000
    p50, p95, p99 = np.percentile(v, [50, 95, 99])
    return {"count": len(v), "p50_ms": round(float(p50), 1), "p95_ms": round(float(p95), 1),
            "p99_ms": round(float(p99), 1), "max_ms": round(float(v.max()), 1)}


def summarise(r: dict, seconds: float) -> dict:
    ops, runs = r["ops"], r["runs"]
    table = {}
    for op in ("check", "update", "show"):
        mine = [o for o in ops if o["op"] == op]
        good = [o for o in mine if o["outcome"] in ("ok", "stale", "refused")]
        table[op] = latencies([o["s"] for o in good])
        if op == "check":
            table["check: store"] = latencies([o["store_s"] for o in good])
            if any(o["data_s"] for o in good):
                table["check: data"] = latencies([o["data_s"] for o in good])
    good_runs = [x for x in runs if x["outcome"] == "ok"]
    table["diagnose"] = latencies([x["s"] for x in good_runs])
    table["diagnose: store"] = latencies([x["store_s"] for x in good_runs])
    outcomes: dict = {}
    for o in ops:
        outcomes.setdefault(o["op"], {}).setdefault(o["outcome"], 0)
        outcomes[o["op"]][o["outcome"]] += 1
    for x in runs:
        outcomes.setdefault("diagnose", {}).setdefault(x["outcome"], 0)
        outcomes["diagnose"][x["outcome"]] += 1
    errors = [{"op": o["op"], "outcome": o["outcome"], "message": o["message"]} for o in ops
              if o["outcome"] in ("error", "crash")]
    errors += [{"op": "diagnose", "outcome": x["outcome"], "message": x["message"]} for x in runs
               if x["outcome"] in ("error", "crash")]
    stale = [u for u in r["updates"] if u["outcome"] == "stale"]
    return {
        "latency": table,
        "throughput_per_s": {op: round(sum(o["op"] == op for o in ops) / seconds, 1) for op in OPS}
        | {"diagnose": round(len(runs) / seconds, 2), "all handler ops": round(len(ops) / seconds, 1)},
        "outcomes": outcomes,
        "updates_with_expect_revision": sum(u["expect_revision"] is not None for u in r["updates"]),
        "stale_refused": len(stale),
        "errors": len(errors),
        "error_examples": errors[:10],
        "runs": [{k: x[k] for k in ("who", "slice", "s", "store_s", "outcome", "report")} for x in runs],
    }


def print_result(res: dict) -> None:
    s = res["summary"]
    print(f"\n{res['store_kind']}, {res['handlers']} handlers + {res['runs']} diagnose processes, "
          f"{res['seconds']:g} s (wall {res['wall_s']:.1f} s), {res['machine']}, "
          f"load average before: {res['load_average_before']:.1f}\ncheck: {res['check']}")
    print(f"{'operation':<18}{'count':>7}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for op, v in s["latency"].items():
        if v["count"]:
            print(f"{op:<18}{v['count']:>7}{v['p50_ms']:>10.1f}{v['p95_ms']:>10.1f}{v['p99_ms']:>10.1f}{v['max_ms']:>10.1f}")
    print("throughput /s:", json.dumps(s["throughput_per_s"]))
    print("outcomes:", json.dumps(s["outcomes"]))
    print(f"updates with --expect-revision: {s['updates_with_expect_revision']}, refused as stale: {s['stale_refused']}")
    print(f"errors: {s['errors']}" + "".join(f"\n  {e['op']} {e['outcome']}: {e['message'][:300]}" for e in s["error_examples"]))
    i = res["integrity"]
    print("integrity:", "OK" if i["ok"] else "FAILED")
    for k, v in i.items():
        if not k.endswith("examples") and k != "ok":
            print(f"  {k}: {v}")
    for k, v in i.items():
        if k.endswith("examples") and v:
            print(f"  {k}: {v}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="A new SQLite file, or postgresql://USER@HOST[:PORT]/DB (password in ~/.pgpass).")
    parser.add_argument("--schema", help="PostgreSQL: create this schema and keep the store in it.")
    parser.add_argument("--data", type=Path, help="A data folder (default: a synthetic city made in --work).")
    parser.add_argument("--sites", type=int, default=800, help="Sites of the synthetic city.")
    parser.add_argument("--days", type=int, default=8, help="Days of the synthetic city.")
    parser.add_argument("--handlers", type=int, default=20)
    parser.add_argument("--runs", type=int, default=2, help="Diagnose processes.")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--work", type=Path, default=HERE / "data" / "store-load", help="Folder for data, slices and runs.")
    parser.add_argument("--out", type=Path, help="Write the result here as JSON.")
    parser.add_argument("--check-reads-data", action="store_true",
                        help="Each check is the whole `netdiag check --data ... --db ...` command, reading the data "
                             "(default: each handler keeps the network, as `netdiag serve` does).")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, config, n = args.worker
        worker_main(kind, Path(config), int(n))
        return
    if not args.db:
        parser.error("--db is required")
    args.work.mkdir(parents=True, exist_ok=True)
    data = ensure_data(args)
    work = args.work / ("pg" if is_pg(args.db) else "sqlite")
    slices = make_slices(data, work)
    db = new_store(args.db, args.schema)
    print(f"seeding the store with {slices[0].name}", flush=True)
    seed = {"who": "seed", "slice": slices[0].name, "out": str(work / "seed"), "s": 0.0, "store_s": 0.0}
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "netdiag.cli.main", "-q", "--tz", TZ, "diagnose", "--data", str(slices[0]),
                           "--out", seed["out"], "--db", db, "--who", "seed", "--overwrite"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"the seed run failed: {proc.stderr[-3000:]}")
    seed.update(s=time.perf_counter() - t, outcome="ok", message="")
    load_before = os.getloadavg()[0]
    r = shift(db, data, slices, work, handlers=args.handlers, runs=args.runs, seconds=args.seconds,
              check_reads_data=args.check_reads_data)
    import netdiag

    res = {
        "store_kind": "postgresql" if is_pg(db) else "sqlite",
        "store": db.split("?")[0] if is_pg(db) else str(db),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}, netdiag {getattr(netdiag, '__version__', '?')}",
        "data": str(data), "slices": [s.name for s in slices],
        "handlers": args.handlers, "runs": args.runs, "seconds": args.seconds, "wall_s": r["wall_s"],
        "load_average_before": load_before, "seed_s": seed["s"],
        "check": "netdiag check --data ... --db ... (reads the data)" if args.check_reads_data else
                 "open tickets read from the store + verdict on a network the handler keeps (as netdiag serve)",
        "summary": summarise(r, args.seconds),
        "integrity": integrity(db, r["updates"], [seed, *r["runs"]]),
        "updates": r["updates"], "seed": seed,
    }
    if is_pg(db):
        res["server"] = query(db, "SELECT version()")[0][0].split(",")[0]
        res["server_settings"] = dict(query(db, "SELECT name, setting FROM pg_settings WHERE name IN "
                                                "('fsync', 'synchronous_commit', 'shared_buffers', 'max_connections')"))
    print_result(res)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(res, indent=1, default=str))
        print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
