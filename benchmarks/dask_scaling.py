"""The counters on a Dask cluster (issue #12): out of core, 1 against 2 workers, and the same answers.

Usage::

    python benchmarks/dask_scaling.py WORKSPACE [--memory 2GB] [--equal WORKSPACE_5K] [--out FILE.json]

For WORKSPACE (made by ``netdiag prepare``), each variant runs in a process of its own:

- ``local``: the counters step (:func:`netdiag.engine.status.scan_counters`) in this process;
- ``dask-1`` and ``dask-2``: the same step on a LocalCluster of 1 and 2 workers, each limited
  to ``--memory``: the time, and each worker's peak memory (its process's maximum RSS).

It reports the counters' rows, their bytes on disk and their size as one pandas table (one day
file read and scaled to all rows), which is what a worker would need to hold them whole, and
checks that the three variants found the same anomalies and sleeping cells. With ``--equal``,
it runs ``netdiag diagnose`` on that workspace with both engines and compares diagnoses.csv
and tickets.csv byte for byte.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NETDIAG = [sys.executable, "-c", "import sys; from netdiag.cli.main import cli; sys.argv[0] = 'netdiag'; cli()"]


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def variant(ws: str, name: str, memory: str, out: str) -> dict:
    """One variant, in this process: its time, its memory, and a digest of what it found."""
    import pandas as pd

    from netdiag.data.workspace import open_workspace
    from netdiag.engine.engines import DaskEngine, LocalEngine
    from netdiag.engine.status import scan_counters
    from netdiag.settings import Settings

    settings = Settings()
    counters = open_workspace(ws, settings=settings, tables=("load",)).counters
    engine = LocalEngine() if name == "local" else DaskEngine(workers=int(name.split("-")[1]), memory_limit=memory)
    with engine:
        t0 = time.perf_counter()
        anomalies, sleeping = scan_counters(counters, settings=settings, engine=engine)
        seconds = time.perf_counter() - t0
        workers = (sorted(v / 1024 for v in engine.client.run(_worker_maxrss_kb).values())
                   if name != "local" else [])
    pd.concat([anomalies.astype(str), sleeping.astype(str)], keys=["a", "s"]).to_parquet(out)
    return {"variant": name, "seconds": round(seconds, 1), "pieces": len(counters.pieces()),
            "anomalies": len(anomalies), "sleeping": len(sleeping), "this_process_peak_mb": round(_maxrss_mb()),
            "worker_peak_mb": [round(w) for w in workers]}


def _worker_maxrss_kb() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def facts(ws: Path) -> dict:
    """Rows, bytes on disk and the size as one pandas table of a workspace's counters."""
    import pyarrow.parquet as pq

    manifest = json.loads((ws / "manifest.json").read_text())
    days = manifest["load"]["days"]
    rows = sum(int(v["rows"]) for v in days.values())
    files = sorted(f for day in (ws / "load").iterdir() for f in day.glob("*.parquet"))  # (day folders may be links)
    one = pq.read_table(files[0]).to_pandas()
    per_row = one.memory_usage(deep=True).sum() / max(len(one), 1)
    return {"rows": rows, "days": len(days), "files": len(files), "disk_mb": round(sum(f.stat().st_size for f in files) / 2**20),
            "in_memory_gb": round(rows * per_row / 2**30, 1), "bytes_per_row_in_memory": round(per_row)}


def equal(ws: str, work: Path) -> dict:
    """``netdiag diagnose`` on both engines: are diagnoses.csv and tickets.csv the same bytes? And how long?"""
    out = {}
    for engine in ("local", "dask"):
        t0 = time.perf_counter()
        extra = ["--engine", "dask", "--workers", "2"] if engine == "dask" else []
        subprocess.run([*NETDIAG, "-q", "diagnose", "--workspace", ws, "--out", str(work / engine), "--overwrite", *extra],
                       check=True)
        out[f"{engine}_seconds"] = round(time.perf_counter() - t0, 1)
    for name in ("diagnoses.csv", "tickets.csv"):
        out[name] = "identical" if (work / "local" / name).read_bytes() == (work / "dask" / name).read_bytes() else "DIFFERENT"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workspace")
    parser.add_argument("--memory", default="2GB", help="memory limit of each Dask worker")
    parser.add_argument("--equal", help="a (5,000-site) workspace to diagnose with both engines and compare")
    parser.add_argument("--out", help="write the results as JSON here")
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--digest", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:  # a child process
        print(json.dumps(variant(args.workspace, args.variant, args.memory, args.digest)))
        return
    ws = Path(args.workspace)
    result = {"workspace": str(ws), "memory_limit": args.memory, "counters": facts(ws), "runs": []}
    print(json.dumps(result["counters"]), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        digests = []
        for name in ("local", "dask-1", "dask-2"):
            digest = Path(tmp) / f"{name}.parquet"
            run = subprocess.run([sys.executable, __file__, str(ws), "--variant", name, "--memory", args.memory,
                                  "--digest", str(digest)], check=True, capture_output=True, text=True)
            result["runs"].append(json.loads(run.stdout.strip().splitlines()[-1]))
            print(json.dumps(result["runs"][-1]), flush=True)
            digests.append(digest.read_bytes())
        result["same_answers"] = len(set(digests)) == 1
        if args.equal:
            result["diagnose_equal"] = {"workspace": args.equal, **equal(args.equal, Path(tmp))}
    print(json.dumps({k: v for k, v in result.items() if k not in ("counters", "runs")}), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
