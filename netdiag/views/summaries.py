"""Summaries for people: what validation found and what a diagnosis run concluded."""
from __future__ import annotations


def validation_summary(ds, *, as_dict: bool = False):
    """Per table rows read / accepted / rejected and the reasons grouped with counts."""
    reasons = ds.reasons()
    if as_dict:
        return {
            "data_dir": str(ds.data_dir),
            "crs": ds.crs.to_string(),
            "tables": [
                {**{k: (int(v) if k in ("read", "accepted", "rejected", "skipped") else v) for k, v in row.items()},
                 "reasons": [{"reason": r.code, "count": int(r.count), "example": r.example}
                             for r in reasons[reasons["table"] == row["table"]].itertuples()]}
                for row in ds.stats.to_dict("records")
            ],
        }
    lines = [f"data: {ds.data_dir}   metric CRS: {ds.crs.to_string()} ({ds.crs.name})", ""]
    skipped = "skipped" in ds.stats and ds.stats["skipped"].sum() > 0
    head = f"{'table':<11} {'source':<24} {'read':>9} {'accepted':>9} {'rejected':>9}" + (f" {'outside period':>15}" if skipped else "")
    lines += [head, "-" * len(head)]
    for row in ds.stats.itertuples():
        source = row.source or "(absent)"
        lines.append(f"{row.table:<11} {source:<24} {row.read:>9,} {row.accepted:>9,} {row.rejected:>9,}"
                     + (f" {row.skipped:>15,}" if skipped else ""))
    total = ds.stats[["read", "accepted", "rejected"] + (["skipped"] if skipped else [])].sum()
    lines.append("-" * len(head))
    lines.append(f"{'total':<11} {'':<24} {total['read']:>9,} {total['accepted']:>9,} {total['rejected']:>9,}"
                 + (f" {total['skipped']:>15,}" if skipped else ""))
    if skipped:
        lines.append("(outside period: load counters outside the period the complaints need; not read or not used)")
    if len(reasons):
        lines += ["", "rejections by reason:"]
        for r in reasons.itertuples():
            lines.append(f"  {r.table:<11} {r.count:>6,}  {r.code:<32} e.g. {r.example}")
    else:
        lines += ["", "no rows rejected"]
    return "\n".join(lines)


def summary_text(result) -> str:
    """A diagnosis run in a few lines: complaints, tickets and rejections, by cause, action and priority."""
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


def _settings_rows(current) -> list[tuple]:
    """``(name, value, default, meaning)`` for every setting of ``current`` (a :class:`~netdiag.settings.Settings`)."""
    values = current.as_dict()
    return [(name, values[name], default, doc) for name, default, doc in type(current).describe()]


def settings_text(current) -> str:
    """Every setting with its value and meaning; values changed from the default say so."""
    rows = _settings_rows(current)
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{name:<{width}}  {value!s:<14} {doc}" + ("" if value == default else f"  (default {default})")
                     for name, value, default, doc in rows)


def settings_json(current) -> dict:
    """Every setting as ``{name: {value, default, meaning}}``."""
    return {n: {"value": v, "default": d, "meaning": m} for n, v, d, m in _settings_rows(current)}


def sample_text(out, counts: dict[str, int]) -> str:
    """What ``netdiag sample`` wrote: rows per table."""
    return "\n".join([f"wrote {out}:"] + [f"  {table:<12} {count:>10,} rows" for table, count in counts.items()])
