"""The files of ``netdiag diagnose``: diagnoses.csv, tickets.csv, rejected.csv (+ JSON)."""
from __future__ import annotations

from pathlib import Path

from netdiag.export import to_jsonable, write_csv, write_json
from netdiag.report import REJECTED_OUT

OUTPUT_FILES = ["diagnoses.csv", "tickets.csv", "rejected.csv"]
JSON_FILES = ["diagnoses.json", "tickets.json", "summary.json"]


def write_diagnosis(result, out_dir: str | Path, *, json: bool = False) -> list[Path]:
    """Write the contract's three CSV files (and, with ``json``, the same as JSON)."""
    out = Path(out_dir)
    written = [
        write_csv(result.diagnoses, out / "diagnoses.csv"),
        write_csv(result.tickets, out / "tickets.csv"),
        write_csv(result.rejected[REJECTED_OUT], out / "rejected.csv"),
    ]
    if json:
        written += [
            write_json(to_jsonable(result.diagnoses), out / "diagnoses.json"),
            write_json(to_jsonable(result.tickets), out / "tickets.json"),
            write_json(result.summary(), out / "summary.json"),
        ]
    return written


def summary_text(result) -> str:
    s = result.summary()
    lines = [f"{s['complaints']:,} complaints diagnosed, {s['tickets']:,} tickets, {s['rejected_rows']:,} input rows rejected", "",
             "by cause:"]
    lines += [f"  {cause:<16} {n:>7,}" for cause, n in s["by_cause"].items()]
    lines += ["", "by action:"]
    lines += [f"  {action:<20} {n:>7,}" for action, n in s["by_action"].items()]
    t = result.tickets
    if len(t):
        lines += ["", "tickets by cause and priority:"]
        table = t.groupby(["cause", "priority"]).size().unstack(fill_value=0)
        lines += ["  " + line for line in table.to_string().splitlines()]
    return "\n".join(lines)
