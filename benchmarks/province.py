"""Benchmark every job a province NOC runs, at 300, 5,000 and 50,000 sites (issue #10).

Usage::

    python benchmarks/province.py                          # 300 and 5,000 sites
    python benchmarks/province.py --sites 300 5000 50000   # the province too (about 25 min)
    python benchmarks/province.py --sites 50000 --data /big/s50k --work /big/bench

Each size is generated once (``netdiag sample DIR --sites N --seed 7``: 14 days, about 4 cells
and 5 complaints a site, hourly counters in Parquet) into ``benchmarks/data/<sites>-parquet``
(git-ignored). Every job then runs as its own ``netdiag`` process, as a user would run it, and
is measured from outside: wall time and the process's peak resident memory (``wait4``). The
table is appended to ``benchmarks/results.md``.

Jobs: ``prepare`` (a fresh workspace), ``diagnose`` from the data folder and from the
workspace, with and without a ticket store (and the store's second run, a no-op), ``check``
cold (a new process, no server; median of 5 spots) and served (``netdiag serve`` running;
median of 10), ``map`` of the whole period (file size; time to first paint in headless
chromium when it is installed), ``report`` (week and month) and ``dispatch``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NETDIAG = [sys.executable, "-m", "netdiag.cli.main"]


def measure(args: list[str], *, env: dict | None = None) -> dict:
    """Run one netdiag command; wall seconds, peak memory (MB), exit code and output tail.

    The peak comes from GNU time when it is there: a child forked from this process would count
    this process's own memory at the fork in its peak (Linux keeps the larger)."""
    timer = ["/usr/bin/time", "-f", "netdiag-peak-kb %M"] if os.path.exists("/usr/bin/time") else []
    started = time.perf_counter()
    proc = subprocess.Popen([*timer, *NETDIAG, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    text, err = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): netdiag {' '.join(map(str, args))}\n{(text + err)[-3000:]}")
    peaks = [line.split()[1] for line in err.splitlines() if line.startswith("netdiag-peak-kb ")]
    mb = int(peaks[-1]) / 1024 if peaks else resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"s": wall, "mb": mb, "out": text}


def ensure_data(n_sites: int, data: Path | None) -> Path:
    folder = data or HERE / "data" / f"{n_sites}-parquet"
    if not (folder / "complaints.csv").is_file():
        print(f"generating {n_sites:,} sites into {folder}", flush=True)
        measure(["sample", folder, "--sites", n_sites, "--seed", 7, "--overwrite"])
    return folder


def spots(data: Path, n: int) -> list[tuple[float, float, str]]:
    """Positions and times of ``n`` complaints spread over the data set (streamed with the csv
    module: this process stays small, since a child's peak memory starts from its parent's)."""
    import csv

    with open(data / "complaints.csv", encoding="utf-8-sig", newline="") as fh:
        total = sum(1 for _ in fh) - 1
    step, found = max(total // n, 1), []
    with open(data / "complaints.csv", encoding="utf-8-sig", newline="") as fh:
        for i, r in enumerate(csv.DictReader(fh)):
            if i % step == 0 and r["lat"] and r["received_at"][:2] == "20":
                found.append((float(r["lat"]), float(r["lon"]), r["received_at"]))
            if len(found) == n:
                break
    return found


def first_paint_s(page: Path, work: Path) -> float | None:
    """Seconds from navigation until headless chromium has drawn every layer of the map (the page
    records it in ``data-netdiag-painted-ms``), median of 3; None without chromium."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        return None
    sys.path.insert(0, str(HERE.parent / "tests"))
    from chromium import Chromium  # the browser tests' own driver (DevTools protocol on a pipe)

    times = []
    for k in range(3):
        with Chromium(browser, work / f"profile-{k}") as chromium:
            chromium.open(page.as_uri())
            times.append(float(chromium.evaluate("+document.documentElement.getAttribute('data-netdiag-painted-ms')")) / 1000)
    return statistics.median(times)


def bench(n_sites: int, data: Path, work: Path, *, tz: str) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    ws, db = work / "ws", work / "netdiag.db"
    for path in (ws, work / "d1", work / "d2", work / "d3"):
        shutil.rmtree(path, ignore_errors=True)
    db.unlink(missing_ok=True)
    g = ["--tz", tz, "-q"]
    r: dict = {"sites": n_sites}
    manifest_run = measure([*g, "prepare", data, "--workspace", ws])
    manifest = json.loads((ws / "manifest.json").read_text())
    r["cells"] = manifest["tables"]["cells"]["accepted"]
    r["complaints"] = manifest["tables"]["complaints"]["accepted"]
    r["load_rows"] = manifest["tables"]["load"]["accepted"]
    r["prepare"] = manifest_run
    print(f"  prepare {manifest_run['s']:.1f} s", flush=True)
    r["diagnose_data"] = measure([*g, "diagnose", "--data", data, "--out", work / "d1"])
    r["diagnose_ws"] = measure([*g, "diagnose", "--workspace", ws, "--out", work / "d2"])
    r["diagnose_ws_db"] = measure([*g, "diagnose", "--workspace", ws, "--out", work / "d3", "--db", db])
    r["diagnose_ws_db_again"] = measure([*g, "diagnose", "--workspace", ws, "--out", work / "d3", "--db", db, "--overwrite"])
    same = all((work / "d1" / f).read_bytes() == (work / "d2" / f).read_bytes() for f in ("diagnoses.csv", "tickets.csv"))
    r["same_diagnoses"] = same
    print(f"  diagnose {r['diagnose_data']['s']:.1f} s (data) {r['diagnose_ws']['s']:.1f} s (workspace), same: {same}",
          flush=True)

    cold = [measure([*g, "check", "--workspace", ws, "--no-server", "--lat", lat, "--lon", lon, "--at", at])
            for lat, lon, at in spots(data, 5)]
    r["check_cold"] = {"s": statistics.median(c["s"] for c in cold), "mb": max(c["mb"] for c in cold)}
    env = {**os.environ, "NETDIAG_RUNTIME_DIR": str(work / "run")}
    server = subprocess.Popen([*NETDIAG, *g, "serve", "--workspace", str(ws)], env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not any((work / "run").glob("*.sock")) and time.monotonic() < deadline:
            time.sleep(0.1)
        served = [measure([*g, "check", "--workspace", ws, "--lat", lat, "--lon", lon, "--at", at], env=env)
                  for lat, lon, at in spots(data, 10)]
        r["check_served"] = {"s": statistics.median(c["s"] for c in served), "mb": max(c["mb"] for c in served)}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)

    page = work / "map.html"
    r["map"] = measure([*g, "map", "--workspace", ws, "--out", page, "--overwrite"])
    r["map"]["file_mb"] = page.stat().st_size / 1e6
    r["map"]["paint_s"] = first_paint_s(page, work)
    for period in ("week", "month"):
        r[f"report_{period}"] = measure([*g, "report", "--workspace", ws, "--period", period, "--out", work / f"report-{period}",
                                         "--overwrite"])
    import csv
    import io

    listed = measure([*g, "tickets", "list", "--db", db, "--format", "csv", "--kind", "field_test"])["out"]
    visits: dict = {}
    for t in csv.DictReader(io.StringIO(listed)):
        if t["team"].startswith("field"):
            key = (t["team"], t["due_at"][:10])
            visits[key] = visits.get(key, 0) + 1
    if visits:
        (team, day), _ = max(visits.items(), key=lambda kv: kv[1])
        r["dispatch"] = measure([*g, "dispatch", "--team", team, "--date", day, "--db", db, "--out", work / "dispatch",
                                 "--overwrite"])
    return r


def _cell(m: dict | None) -> str:
    return "" if not m else f"{m['s']:.1f} s / {m['mb']:,.0f} MB"


def table(results: list[dict]) -> str:
    head = (f"### {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, Python {platform.python_version()}: "
            "every job as its own process, wall time / peak memory\n\n")
    rows = ["| | " + " | ".join(f"{r['sites']:,} sites" for r in results) + " |",
            "|---|" + "---:|" * len(results)]

    def line(label, values):
        rows.append(f"| {label} | " + " | ".join(values) + " |")

    line("cells / complaints", [f"{r['cells']:,} / {r['complaints']:,}" for r in results])
    line("counter rows", [f"{r['load_rows']:,}" for r in results])
    for key, label in (("prepare", "`prepare` (new workspace)"), ("diagnose_data", "`diagnose --data`"),
                       ("diagnose_ws", "`diagnose --workspace`"), ("diagnose_ws_db", "`diagnose --workspace --db` (new store)"),
                       ("diagnose_ws_db_again", "same again (no-op)"), ("check_cold", "`check`, cold (median of 5)"),
                       ("check_served", "`check` with `serve` (median of 10)"), ("map", "`map` (whole period)"),
                       ("report_week", "`report --period week`"), ("report_month", "`report --period month`"),
                       ("dispatch", "`dispatch` (busiest field team and day)")):
        line(label, [_cell(r.get(key)) for r in results])
    line("map file", [f"{r['map']['file_mb']:.1f} MB" for r in results])
    line("map first paint (chromium)", ["" if r["map"].get("paint_s") is None else f"{r['map']['paint_s']:.1f} s"
                                        for r in results])
    line("diagnoses identical (data, workspace)", ["yes" if r["same_diagnoses"] else "**no**" for r in results])
    return head + "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, nargs="+", default=[300, 5000])
    parser.add_argument("--data", type=Path, help="Use this data folder (one size only) instead of generating one.")
    parser.add_argument("--work", type=Path, default=HERE / "data" / "work", help="Folder for workspaces and outputs.")
    parser.add_argument("--tz", default="Asia/Shanghai")
    parser.add_argument("--no-append", action="store_true", help="Print the table only; do not add it to results.md.")
    args = parser.parse_args()
    if args.data and len(args.sites) != 1:
        parser.error("--data goes with exactly one --sites")
    results = []
    for n in args.sites:
        print(f"{n:,} sites", flush=True)
        results.append(bench(n, ensure_data(n, args.data), args.work / str(n), tz=args.tz))
    text = table(results)
    print(text)
    if not args.no_append:
        with open(HERE / "results.md", "a", encoding="utf-8") as fh:
            fh.write("\n" + text)


if __name__ == "__main__":
    main()
