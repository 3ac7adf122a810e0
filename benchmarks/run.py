"""Benchmark ``netdiag diagnose`` end to end on generated data sets of growing size.

Usage::

    python benchmarks/run.py                      # 300, 3,000 and 5,000 sites
    python benchmarks/run.py --sites 300 3000 5000 30000
    python benchmarks/run.py --load-format parquet
    python benchmarks/run.py --sites 5000 --repeat 3      # median of three runs

Each size is generated once into ``benchmarks/data/<sites>-<format>/`` (git-ignored) with
``netdiag.sample.generate`` (14 days, ~4 cells per site, ~5 complaints per site, hourly load),
then diagnosed in a fresh process (``python benchmarks/run.py --one DATA``) so that the wall
time includes interpreter start-up and imports and the peak memory is that process's own
maximum resident set. Results are appended to ``benchmarks/results.md`` as a Markdown table.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def one(data_dir: str) -> dict:
    """Diagnose ``data_dir`` in this process; stage timings and peak memory."""
    t0 = time.perf_counter()
    from netdiag.data.dataset import load_dataset
    from netdiag.engine.network import prepare
    from netdiag.pipeline import diagnose
    from netdiag.views.writers import write_diagnosis

    t_import = time.perf_counter()
    ds = load_dataset(data_dir)
    t_load = time.perf_counter()
    net = prepare(ds)
    t_prep = time.perf_counter()
    res = diagnose(ds, network=net)
    t_diag = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        write_diagnosis(res, out)
    t_write = time.perf_counter()
    return {
        "sites": int(len(ds["sites"])), "cells": int(len(ds["cells"])), "complaints": int(len(ds["complaints"])),
        "load_rows": int(len(ds["load"])), "tickets": int(len(res.tickets)),
        "import_s": t_import - t0, "load_s": t_load - t_import, "prepare_s": t_prep - t_load,
        "diagnose_s": t_diag - t_prep, "write_s": t_write - t_diag,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def ensure_data(n_sites: int, load_format: str) -> Path:
    from netdiag.sample import generate

    folder = HERE / "data" / f"{n_sites}-{load_format}"
    if not (folder / "complaints.csv").exists():
        print(f"generating {n_sites:,} sites into {folder} ...", flush=True)
        t = time.perf_counter()
        generate(folder, n_sites=n_sites, seed=11, load_format=load_format)
        print(f"  generated in {time.perf_counter() - t:.0f} s", flush=True)
    return folder


def size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.glob("*.*")) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, nargs="+", default=[300, 3000, 5000])
    parser.add_argument("--load-format", choices=["csv", "parquet"], default="csv")
    parser.add_argument("--repeat", type=int, default=1, help="runs per size; the table shows the median run")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return
    rows = []
    for n in args.sites:
        folder = ensure_data(n, args.load_format)
        runs = []
        for _ in range(max(1, args.repeat)):
            t = time.perf_counter()
            proc = subprocess.run([sys.executable, __file__, "--one", str(folder)], capture_output=True, text=True)
            wall = time.perf_counter() - t
            if proc.returncode:
                sys.exit(proc.stderr)
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            r.update(wall_s=wall, input_mb=size_mb(folder), per_s=r["complaints"] / wall)
            runs.append(r)
            print(f"{n:>6} sites: {wall:6.1f} s wall, {r['peak_mb']:7.0f} MB peak", flush=True)
        runs.sort(key=lambda r: r["wall_s"])
        median = runs[len(runs) // 2]
        median["range"] = f" ({runs[0]['wall_s']:.1f}-{runs[-1]['wall_s']:.1f})" if len(runs) > 1 else ""
        rows.append(median)
    header = ("| sites | cells | complaints | load rows | input | wall (end to end) | load+validate | prepare | diagnose "
              "| peak memory | complaints/s |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    lines = [f"| {r['sites']:,} | {r['cells']:,} | {r['complaints']:,} | {r['load_rows']:,} | {r['input_mb']:,.0f} MB "
             f"| {r['wall_s']:.1f} s{r['range']} | {r['load_s']:.1f} s | {r['prepare_s']:.1f} s | {r['diagnose_s']:.1f} s "
             f"| {r['peak_mb']:,.0f} MB | {r['per_s']:,.0f} |" for r in rows]
    stamp = time.strftime("%Y-%m-%d")
    runs_note = f", median of {args.repeat} runs (range)" if args.repeat > 1 else ""
    text = (f"\n### {stamp}, {os.cpu_count()} cores, Python {platform.python_version()}, load as {args.load_format}{runs_note}\n\n"
            + header + "\n" + "\n".join(lines) + "\n")
    with open(HERE / "results.md", "a", encoding="utf-8") as fh:
        fh.write(text)
    print(text)


if __name__ == "__main__":
    main()
