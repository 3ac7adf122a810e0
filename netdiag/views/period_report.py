"""The weekly or monthly complaint report: what came in, why, who acted, how fast, where, when.

:func:`analyse` takes a diagnosed data set and one calendar period (an ISO week, Monday to
Sunday, or a calendar month, in ``settings.tz``) and builds tables that all add up to the
complaints of the period:

- complaints by category, cause, action, team and grade (the grade of the complaint's ticket),
  each with the previous period and the change;
- response: per ticket grade, tickets created in the period, how many are resolved, the time
  from the ticket's creation (the first complaint) to ``resolved_at`` against ``due_at``, and
  the open tickets already past ``due_at``. The data has no record of when the customer was
  first answered unless the tickets carry a ``first_reply_at`` column: without it, the
  first-reply figures are the deadlines (``first_reply_due``) the desk must meet, not
  measurements;
- top cells (the nearest element serving each complaint) and sites;
- time patterns: complaints by hour of day and day of week, when the problem happened
  (``occurred_at``, or ``received_at`` when the customer gave no time), and by day received;
- hotspots and repeat complaints (:mod:`netdiag.views.hotspots`).

The previous period comes from the same data when it covers it, from an earlier report's
``summary.json``, or from another data directory (``netdiag report --compare PREVIOUS``).
:func:`write_report` writes ``report.md``, ``report.html`` (charts as inline SVG, no network
needed), the charts as SVG files, every table as CSV and ``summary.json``.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from netdiag.errors import InputError
from netdiag.views.writers import prepare_out_dir, write_csv
from netdiag.data.times import parse_time, period_mask
from netdiag.engine.diagnose import first_serving
from netdiag.views.hotspots import hotspot_table, hotspots as find_hotspots, repeat_complaints
from netdiag.views.sanitize import escape_html
from netdiag.data.schema import ACTIONS, CATEGORIES, CAUSES, GRADES
from netdiag.settings import Settings

log = logging.getLogger(__name__)

PERIODS = ("week", "month")
DIMENSIONS = ("category", "cause", "action", "team", "grade")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
NO_VALUE = "(none)"
TOP = 10
SUMMARY_FILE = "summary.json"
_ORDER = {"category": list(dict.fromkeys(CATEGORIES.values())), "cause": list(CAUSES), "action": list(ACTIONS),
          "grade": list(reversed(GRADES))}


# ----------------------------------------------------------------------------- periods
@dataclass(frozen=True)
class Period:
    """A calendar week (Monday to Sunday) or month in the local time zone; ``[start, end)`` in UTC."""

    kind: str
    start: pd.Timestamp
    end: pd.Timestamp
    tz: str

    @property
    def label(self) -> str:
        first = self.start.tz_convert(self.tz)
        last = (self.end - pd.Timedelta(seconds=1)).tz_convert(self.tz)
        if self.kind == "week":
            year, week, _ = first.isocalendar()
            return f"week {year}-W{week:02d} ({first:%Y-%m-%d} to {last:%Y-%m-%d})"
        return f"month {first:%Y-%m} ({first:%Y-%m-%d} to {last:%Y-%m-%d})"

    def previous(self) -> "Period":
        """The period of the same kind just before this one."""
        return period_containing(self.kind, self.start - pd.Timedelta(seconds=1), tz=self.tz)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "start": self.start.isoformat(), "end": self.end.isoformat(), "tz": self.tz,
                "label": self.label}


def period_containing(kind: str, when, *, tz: str = "UTC") -> Period:
    """The calendar week or month (local time ``tz``) that contains ``when``.

    Parameters
    ----------
    kind : {"week", "month"}
    when : str or Timestamp
        Any time or date inside the period.
    tz : str
        The local time zone that defines days, weeks and months.

    Raises
    ------
    InputError
        On an unknown ``kind`` or a bad time.

    Examples
    --------
    >>> period_containing("week", "2026-11-12", tz="Asia/Shanghai").label
    'week 2026-W46 (2026-11-09 to 2026-11-15)'
    """
    if kind not in PERIODS:
        raise InputError(f"`--period` was {kind!r} but is expected to be one of {', '.join(PERIODS)}")
    ts = parse_time(when, tz=tz, name="date")
    if ts is None:
        raise InputError("`--date` is empty")
    local = ts.tz_convert(tz)
    day = pd.Timestamp(local.date()).tz_localize(tz)
    if kind == "week":
        start = day - pd.Timedelta(days=day.weekday())
        end = (start.tz_localize(None) + pd.Timedelta(days=7)).tz_localize(tz)
    else:
        start = day.replace(day=1)
        end = (start.tz_localize(None) + pd.offsets.MonthBegin(1)).tz_localize(tz)
    return Period(kind, start.tz_convert("UTC"), end.tz_convert("UTC"), tz)


# ----------------------------------------------------------------------------- the report
@dataclass
class Report:
    """What :func:`analyse` finds; written by :func:`write_report`.

    Attributes
    ----------
    period, previous : Period
        The period reported and the one it is compared with (``previous`` is None when there
        was nothing to compare with).
    tables : dict of str to DataFrame
        Every table, written as ``NAME.csv``.
    totals : dict
        Headline figures.
    counts : dict
        ``{dimension: {value: complaints}}`` of this period (kept in ``summary.json`` for a
        later ``--compare``).
    notes : list of str
        What is measured and how, and anything the reader must know about the data.
    """

    period: Period
    previous: Period | None
    previous_source: str
    tables: dict[str, pd.DataFrame]
    totals: dict[str, Any]
    counts: dict[str, dict[str, int]]
    notes: list[str] = field(default_factory=list)
    data_dir: str = ""

    def summary(self) -> dict:
        """The JSON-able summary (``summary.json``): period, totals, counts and response times."""
        resp = self.tables["response_times"]
        return {"netdiag_report": 1, "data_dir": self.data_dir, "period": self.period.as_dict(),
                "previous": self.previous.as_dict() if self.previous else None, "totals": self.totals,
                "counts": self.counts,
                "response_times": json.loads(resp.to_json(orient="records"))}


def _local(times: pd.Series, tz: str) -> pd.Series:
    return pd.to_datetime(times, utc=True).dt.tz_convert(tz)


def _grade(result, d: pd.DataFrame) -> pd.Series:
    grade = d["ticket_id"].map(result.tickets.set_index("ticket_id")["grade"]) if len(result.tickets) else \
        pd.Series(index=d.index, dtype=object)
    return grade.fillna(NO_VALUE).astype(str)


def _serving_cell(d: pd.DataFrame) -> pd.Series:
    first = first_serving(d["serving_ids"])
    return first.where(first != "", NO_VALUE)


def _site_of(result, elements: pd.Series) -> pd.Series:
    """The site of each cell or repeater (a repeater's donor's site); NO_VALUE when not served."""
    ds = result.network.ds
    cell_site = ds["cells"].set_index("cell_id")["site_id"]
    donor = ds["repeaters"].set_index("repeater_id")["donor_cell_id"] if len(ds["repeaters"]) else pd.Series(dtype=object)
    site = elements.map(cell_site)
    site = site.fillna(elements.map(donor).map(cell_site))
    return site.fillna(NO_VALUE).astype(str)


def _dimension_values(result, d: pd.DataFrame) -> dict[str, pd.Series]:
    values = {dim: d[dim].fillna(NO_VALUE).astype(str).replace("", NO_VALUE) for dim in ("category", "cause", "action", "team")}
    values["grade"] = _grade(result, d)
    return values


def counts_of(result, d: pd.DataFrame) -> dict[str, dict[str, int]]:
    """``{dimension: {value: complaints}}`` for the complaints ``d`` (diagnoses rows)."""
    return {dim: {str(k): int(v) for k, v in s.value_counts().items()} for dim, s in _dimension_values(result, d).items()}


def _compare_table(dim: str, now: dict[str, int], before: dict[str, int] | None) -> pd.DataFrame:
    keys = list(_ORDER.get(dim, []))
    extra = sorted(set(now) | set(before or {}), key=lambda k: (-now.get(k, 0), -(before or {}).get(k, 0), k))
    keys += [k for k in extra if k not in keys]
    if dim not in _ORDER:
        keys = extra
    total = sum(now.values())
    t = pd.DataFrame({dim: keys, "complaints": [now.get(k, 0) for k in keys]})
    t["share_pct"] = (100.0 * t["complaints"] / total).round(1) if total else 0.0
    if before is not None:
        t["previous"] = [before.get(k, 0) for k in keys]
        t["change"] = t["complaints"] - t["previous"]
        t["change_pct"] = np.where(t["previous"] > 0, (100.0 * t["change"] / t["previous"].where(t["previous"] > 0, 1)).round(1), np.nan)
    return t


def _response_times(result, period: Period, as_of: pd.Timestamp, settings: Settings) -> tuple[pd.DataFrame, list[str]]:
    tk = result.tickets
    tk = tk[period_mask(tk["created_at"], period.start, period.end)] if len(tk) else tk
    notes = []
    created = pd.to_datetime(tk["created_at"], utc=True)
    resolved_at = pd.to_datetime(tk["resolved_at"], utc=True)
    resolved = resolved_at.notna() & (resolved_at <= as_of)
    hours = ((resolved_at - created).dt.total_seconds() / 3600).clip(lower=0)
    on_time = resolved & (resolved_at <= pd.to_datetime(tk["due_at"], utc=True))
    overdue = ~resolved & (pd.to_datetime(tk["due_at"], utc=True) < as_of)
    has_reply = "first_reply_at" in tk.columns
    if has_reply:
        replied_at = pd.to_datetime(tk["first_reply_at"], utc=True)
        reply_h = (replied_at - created).dt.total_seconds() / 3600
        reply_on_time = replied_at.notna() & (replied_at <= pd.to_datetime(tk["first_reply_due"], utc=True))
    frame = pd.DataFrame({"grade": tk["grade"].astype(str), "resolved": resolved, "hours": hours.where(resolved),
                          "on_time": on_time, "overdue": overdue})
    if has_reply:
        frame["reply_h"], frame["reply_on_time"], frame["replied"] = reply_h, reply_on_time, replied_at.notna()
    due_first = {"urgent": settings.first_reply_h_urgent, "major": settings.first_reply_h_major,
                 "ordinary": settings.first_reply_h_ordinary}
    due_close = {"urgent": settings.close_h_urgent, "major": settings.close_h_major, "ordinary": settings.close_h_ordinary}
    rows = []
    for grade in list(reversed(GRADES)) + ["all"]:
        g = frame if grade == "all" else frame[frame["grade"] == grade]
        row = {"grade": grade, "tickets": len(g), "resolved": int(g["resolved"].sum()),
               "resolved_by_due": int(g["on_time"].sum()), "resolved_late": int((g["resolved"] & ~g["on_time"]).sum()),
               "open": int((~g["resolved"]).sum()), "open_past_due": int(g["overdue"].sum()),
               "median_h_to_close": round(float(g["hours"].median()), 1) if g["resolved"].any() else np.nan,
               "p90_h_to_close": round(float(g["hours"].quantile(0.9)), 1) if g["resolved"].any() else np.nan,
               "closure_due_h": due_close.get(grade, np.nan), "first_reply_due_h": due_first.get(grade, np.nan)}
        row["closed_by_due_pct"] = round(100.0 * row["resolved_by_due"] / row["tickets"], 1) if row["tickets"] else np.nan
        if has_reply:
            row["replied"] = int(g["replied"].sum())
            row["median_h_to_first_reply"] = round(float(g["reply_h"].median()), 1) if g["replied"].any() else np.nan
            row["first_reply_by_due"] = int(g["reply_on_time"].sum())
        rows.append(row)
    notes.append(f"Response times are per ticket created in the period (one ticket can hold many complaints). "
                 f"Time to closure runs from the ticket's creation (its first complaint) to `resolved_at`; "
                 f"'open' tickets are those not resolved by {as_of:%Y-%m-%d %H:%M}Z, the end of the period or of the data, "
                 f"whichever is earlier. A restoration before the complaint counts as 0 h.")
    if has_reply:
        notes.append("Time to first reply runs from the ticket's creation to `first_reply_at` in the ticket data.")
    else:
        notes.append("The data holds no record of when the customer was first answered (no `first_reply_at`): "
                     "netdiag drafts the reply at diagnosis, so `first_reply_due_h` is the deadline that applied, "
                     "not a measurement.")
    return pd.DataFrame(rows), notes


def analyse(result, *, period: str = "week", date=None, previous=None, settings: Settings | None = None,
            grid: str = "hex") -> Report:
    """Analyse one week or month of diagnosed complaints (see the module docstring).

    Parameters
    ----------
    result : Result
        From :func:`netdiag.diagnose.diagnose`.
    period : {"week", "month"}
        An ISO week (Monday to Sunday) or a calendar month, in ``settings.tz``.
    date : str or Timestamp, optional
        Any day inside the wanted period; default the day of the latest complaint.
    previous : Result, dict or None
        What to compare with: another diagnosed data set (its period just before this one), the
        ``summary.json`` of an earlier report (as a dict, see :func:`load_previous`), or None
        for the period just before this one in ``result`` itself.
    settings : Settings, optional
        Defaults to the settings of ``result``.
    grid : {"hex", "square"}
        The hotspot grid.

    Returns
    -------
    Report

    Raises
    ------
    InputError
        On a bad ``period`` or ``date``, or when there are no complaints at all.

    Examples
    --------
    >>> rep = analyse(diagnose(load_dataset("sample_data")), period="week")   # doctest: +SKIP
    >>> rep.tables["by_cause"]                                               # doctest: +SKIP
    """
    settings = settings or result.network.settings
    tz = settings.tz
    d_all = result.diagnoses
    if date is None:
        if d_all.empty:
            raise InputError("no diagnosed complaints: nothing to report (give --date to report an empty period)")
        date = pd.Timestamp(d_all["received_at"].max())
    p = period_containing(period, date, tz=tz)
    d = d_all[period_mask(d_all["received_at"], p.start, p.end)].reset_index(drop=True)
    latest = pd.to_datetime(d_all["received_at"], utc=True).max() if len(d_all) else p.end
    as_of = min(p.end, latest) if pd.notna(latest) else p.end
    counts = counts_of(result, d)
    notes: list[str] = []

    # the previous period
    prev_period, prev_counts, prev_total, prev_source = None, None, None, ""
    if previous is None or hasattr(previous, "diagnoses"):
        source = previous if previous is not None else result
        pp = p.previous()
        dp = source.diagnoses[period_mask(source.diagnoses["received_at"], pp.start, pp.end)]
        if len(dp) or previous is not None:
            prev_period, prev_counts, prev_total = pp, counts_of(source, dp), len(dp)
            prev_source = "the same data" if previous is None else "the data given with --compare"
        else:
            notes.append(f"The data holds no complaints in the previous {p.kind} ({pp.label}): no comparison.")
    else:
        info = previous.get("period") or {}
        prev_period = Period(info.get("kind", p.kind), pd.Timestamp(info["start"]).tz_convert("UTC"),
                             pd.Timestamp(info["end"]).tz_convert("UTC"), info.get("tz", tz))
        prev_counts = {k: {str(a): int(b) for a, b in v.items()} for k, v in previous.get("counts", {}).items()}
        prev_total = int(previous.get("totals", {}).get("complaints", 0))
        prev_source = previous.get("_path", "an earlier report")
        if prev_period.kind != p.kind:
            notes.append(f"The comparison is with a {prev_period.kind}, this report is a {p.kind}: compare shares, not counts.")

    tables: dict[str, pd.DataFrame] = {}
    for dim in DIMENSIONS:
        tables[f"by_{dim}"] = _compare_table(dim, counts[dim], prev_counts.get(dim, {}) if prev_counts is not None else None)

    # where: cells and sites (every complaint once: the nearest serving element, or none)
    cell = _serving_cell(d)
    site = _site_of(result, cell)
    cause = d["cause"].astype(str)
    for name, key in (("by_cell", cell), ("by_site", site)):
        col = "cell_id" if name == "by_cell" else "site_id"
        if len(d):
            g = pd.DataFrame({col: key.to_numpy(), "cause": cause.to_numpy()})
            t = g.groupby(col).agg(complaints=("cause", "size"), top_cause=("cause", lambda s: s.value_counts().index[0]))
            causes = pd.crosstab(g[col], g["cause"])
            t = t.join(causes[[c for c in CAUSES if c in causes.columns]])
            t = t.reset_index().sort_values(["complaints", col], ascending=[False, True])
            t["none_last"] = t[col] == NO_VALUE
            t = t.sort_values(["none_last", "complaints", col], ascending=[True, False, True]).drop(columns="none_last")
        else:
            t = pd.DataFrame({col: [], "complaints": [], "top_cause": []})
        if name == "by_site":
            names = result.network.ds["sites"].set_index("site_id")["name"]
            t.insert(1, "name", t["site_id"].map(names).fillna(""))
        tables[name] = t.reset_index(drop=True)

    # when
    problem_time = d["occurred_at"].where(d["occurred_at"].notna(), d["received_at"])
    local = _local(problem_time, tz)
    tables["by_hour"] = pd.DataFrame({"hour": range(24), "complaints": local.dt.hour.value_counts().reindex(range(24), fill_value=0).to_numpy()})
    tables["by_weekday"] = pd.DataFrame({"weekday": WEEKDAYS,
                                         "complaints": local.dt.day_of_week.value_counts().reindex(range(7), fill_value=0).to_numpy()})
    days = pd.date_range(p.start.tz_convert(tz).normalize(), (p.end - pd.Timedelta(seconds=1)).tz_convert(tz).normalize(), freq="D")
    received_day = _local(d["received_at"], tz).dt.strftime("%Y-%m-%d")
    by_day = pd.crosstab(received_day, cause) if len(d) else pd.DataFrame()
    by_day = by_day.reindex(days.strftime("%Y-%m-%d"), fill_value=0)
    by_day = by_day[[c for c in CAUSES if c in by_day.columns]]
    by_day.insert(0, "complaints", by_day.sum(axis=1).astype(int))
    tables["by_day"] = by_day.rename_axis("day").reset_index()

    # how fast
    tables["response_times"], response_notes = _response_times(result, p, as_of, settings)

    # hot spots and repeats
    repeats = repeat_complaints(result, settings=settings, start=p.start, end=p.end)
    spots = find_hotspots(result, settings=settings, grid=grid, start=p.start, end=p.end, repeats=repeats)
    tables["hotspots"] = hotspot_table(spots)
    tables["repeat_complaints"] = repeats[repeats["repeat"]].reset_index(drop=True)

    total = len(d)
    totals = {
        "complaints": total, "previous_complaints": prev_total,
        "change_pct": round(100.0 * (total - prev_total) / prev_total, 1) if prev_total else None,
        "tickets": int(tables["response_times"].iloc[-1]["tickets"]),
        "vip_complaints": int(d["vip"].fillna(False).astype(bool).sum()),
        "repeat_complaints": int(repeats["repeat"].sum()),
        "network_cause": int(cause.isin(["fault", "shutdown", "relocation", "interference", "congestion"]).sum()),
        "no_fault_found": int((cause == "no_fault_found").sum()),
        "coverage_hole": int((cause == "coverage_hole").sum()),
        "hotspots": int((spots["complaints"] >= settings.hotspot_map_min).sum()),
        "as_of": as_of.isoformat(),
    }
    notes += [
        f"Complaints are counted in the period when they were received ({p.label}, time zone {tz}).",
        "Top cells: the nearest element serving each complaint's spot (a repeater counts for its donor's site); "
        f"'{NO_VALUE}' = not served by any cell (coverage holes).",
        "Hour of day and day of week: when the problem happened (`occurred_at`), or when the complaint was received "
        "where the customer gave no time.",
        f"Grade: the grade of the complaint's ticket (ordinary, major, urgent); '{NO_VALUE}' = no ticket.",
        f"Repeat complaints: an earlier complaint from the same customer, or within {settings.repeat_radius_m:g} m, "
        f"in the {settings.repeat_window_days:g} days before.",
    ] + response_notes
    log.info("report %s: %d complaints, %d tickets, previous %s", p.label, total, totals["tickets"],
             prev_period.label if prev_period else "none")
    return Report(p, prev_period, prev_source, tables, totals, counts, notes, str(result.network.ds.data_dir))


def load_previous(path: str | Path, *, settings: Settings | None = None):
    """What ``--compare PREVIOUS`` names: an earlier report folder, or a data directory.

    Returns
    -------
    dict or Result
        The ``summary.json`` of a report folder (with ``_path``), or ``diagnose(load_dataset(path))``.

    Raises
    ------
    InputError
        When ``path`` is neither.
    """
    path = Path(path)
    summary = path / SUMMARY_FILE if path.is_dir() else path
    if summary.is_file() and summary.suffix == ".json":
        try:
            data = json.loads(summary.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"--compare {summary} is not a netdiag report summary: {exc}") from None
        if not isinstance(data, dict) or "netdiag_report" not in data:
            raise InputError(f"--compare {summary} is not a netdiag report summary (no `netdiag_report` key)")
        data["_path"] = str(summary)
        return data
    if path.is_dir():
        from netdiag.data.dataset import load_dataset
        from netdiag.engine.diagnose import diagnose

        ds = load_dataset(path, settings=settings)
        return diagnose(ds, settings=settings)
    raise InputError(f"--compare {path} is neither a report folder (with {SUMMARY_FILE}) nor a data directory")


# ----------------------------------------------------------------------------- charts (SVG)
def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            f'role="img" aria-label="{escape_html(title)}" font-family="DejaVu Sans, Arial, sans-serif" font-size="11">'
            f'<title>{escape_html(title)}</title>'
            f'<text x="4" y="14" font-size="13" font-weight="bold">{escape_html(title)}</text>' + "".join(body) + "</svg>")


def hbar_svg(labels, values, *, title: str, previous=None, color: str = "#1e88e5", width: int = 560) -> str:
    """Horizontal bars (with the previous period as a grey outline when given), as SVG text."""
    labels, values = [str(x) for x in labels], [float(v) for v in values]
    prev = [float(v) for v in previous] if previous is not None else None
    row, left, top = 20, 150, 24
    height = top + row * len(labels) + (22 if prev else 8)
    top_value = max(values + (prev or []) + [1.0])
    scale = (width - left - 60) / top_value
    body = []
    for i, (label, v) in enumerate(zip(labels, values)):
        y = top + i * row
        body.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{escape_html(label)}</text>')
        body.append(f'<rect x="{left}" y="{y + 3}" width="{v * scale:.1f}" height="{row - 6}" fill="{color}"/>')
        if prev:
            body.append(f'<rect x="{left}" y="{y + 1}" width="{prev[i] * scale:.1f}" height="{row - 2}" fill="none" '
                        f'stroke="#757575" stroke-dasharray="3 2"/>')
        body.append(f'<text x="{left + v * scale + 4:.1f}" y="{y + 13}">{v:,.0f}</text>')
    if prev:
        body.append(f'<text x="{left}" y="{height - 6}" fill="#555">dashed: previous period</text>')
    return _svg(width, height, body, title)


def vbar_svg(labels, values, *, title: str, color: str = "#1e88e5", width: int = 560, height: int = 200,
             every: int = 1) -> str:
    """Vertical columns (label every ``every``-th column), as SVG text."""
    labels, values = [str(x) for x in labels], [float(v) for v in values]
    left, top, bottom = 34, 24, 28
    plot_h = height - top - bottom
    n = max(len(values), 1)
    step = (width - left - 8) / n
    top_value = max(values + [1.0])
    body = [f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 4}" y2="{top + plot_h}" stroke="#999"/>',
            f'<text x="{left - 4}" y="{top + 8}" text-anchor="end">{top_value:,.0f}</text>',
            f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end">0</text>']
    for i, (label, v) in enumerate(zip(labels, values)):
        h = plot_h * v / top_value
        x = left + i * step
        body.append(f'<rect x="{x + 1:.1f}" y="{top + plot_h - h:.1f}" width="{max(step - 2, 1):.1f}" height="{h:.1f}" '
                    f'fill="{color}"><title>{escape_html(label)}: {v:,.0f}</title></rect>')
        if i % every == 0:
            body.append(f'<text x="{x + step / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle">{escape_html(label)}</text>')
    return _svg(width, height, body, title)


def charts(report: Report) -> dict[str, str]:
    """The report's charts as SVG text, by file stem."""
    t = report.tables
    out = {}
    for dim, color in (("cause", "#c62828"), ("category", "#1e88e5"), ("action", "#6d4c41")):
        tab = t[f"by_{dim}"]
        out[f"by_{dim}"] = hbar_svg(tab[dim].str.replace("_", " "), tab["complaints"], title=f"Complaints by {dim}",
                                    previous=tab["previous"] if "previous" in tab else None, color=color)
    team = t["by_team"].head(TOP)
    out["by_team"] = hbar_svg(team["team"], team["complaints"], title=f"Complaints by team (top {TOP})",
                              previous=team["previous"] if "previous" in team else None, color="#00897b")
    out["by_hour"] = vbar_svg(t["by_hour"]["hour"], t["by_hour"]["complaints"], title="Complaints by hour of day (problem time)",
                              every=2, color="#5e35b1")
    out["by_weekday"] = vbar_svg(t["by_weekday"]["weekday"], t["by_weekday"]["complaints"],
                                 title="Complaints by day of week (problem time)", color="#5e35b1", width=360)
    days = t["by_day"]
    out["by_day"] = vbar_svg(days["day"].str.slice(5), days["complaints"], title="Complaints by day received",
                             every=max(1, len(days) // 10), color="#3949ab")
    return out


# ----------------------------------------------------------------------------- rendering
def _blocks(report: Report) -> list[tuple]:
    """The report as a list of blocks, rendered to Markdown and to HTML."""
    t, tot = report.tables, report.totals
    prev = report.previous
    change = ""
    if prev is not None and tot["previous_complaints"]:
        change = f" ({tot['change_pct']:+.1f}% against {tot['previous_complaints']:,} in {prev.label})"
    elif prev is not None:
        change = f" (none in {prev.label})"
    resp = t["response_times"].set_index("grade").loc["all"]
    blocks: list[tuple] = [
        ("h1", f"netdiag complaint report: {report.period.label}"),
        ("p", f"Data: {report.data_dir}. Time zone: {report.period.tz}. "
              + (f"Compared with {prev.label} from {report.previous_source}." if prev else "No previous period to compare with.")),
        ("h2", "Summary"),
        ("list", [
            f"{tot['complaints']:,} complaints received{change}",
            f"{tot['network_cause']:,} with a network cause, {tot['no_fault_found']:,} with no fault found, "
            f"{tot['coverage_hole']:,} in coverage holes",
            f"{tot['tickets']:,} tickets created; {int(resp['resolved']):,} resolved, {int(resp['resolved_by_due']):,} by their due time; "
            f"{int(resp['open_past_due']):,} open past due",
            f"{tot['repeat_complaints']:,} repeat complaints, {tot['vip_complaints']:,} from VIP customers",
            f"{tot['hotspots']:,} hotspots",
        ]),
    ]
    for dim in DIMENSIONS:
        blocks += [("h2", f"Complaints by {dim}")]
        if dim in ("cause", "category", "action", "team"):
            blocks.append(("chart", f"by_{dim}"))
        blocks.append(("table", f"by_{dim}", t[f"by_{dim}"]))
    blocks += [
        ("h2", "Response times (tickets created in the period)"),
        ("table", "response_times", t["response_times"]),
        ("h2", f"Top {TOP} cells"),
        ("table", "by_cell", t["by_cell"].head(TOP)),
        ("h2", f"Top {TOP} sites"),
        ("table", "by_site", t["by_site"].head(TOP)),
        ("h2", "Time patterns"),
        ("chart", "by_hour"), ("chart", "by_weekday"), ("chart", "by_day"),
        ("h2", f"Top {TOP} hotspots"),
        ("table", "hotspots", t["hotspots"].head(TOP).drop(columns=["lat", "lon"], errors="ignore")),
        ("h2", "Repeat complaints"),
        ("p", f"{len(t['repeat_complaints']):,} complaints repeat an earlier one (full list in repeat_complaints.csv)."),
        ("table", "repeat_complaints", t["repeat_complaints"].head(TOP)),
        ("h2", "What is measured"),
        ("list", report.notes),
        ("h2", "Files"),
        ("p", "Every table is also a CSV file in this folder (" + ", ".join(f"{n}.csv" for n in t) + "); "
              f"{SUMMARY_FILE} holds the figures for a later `netdiag report --compare`."),
    ]
    return blocks


def _cell_text(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d %H:%M")
    if isinstance(v, float):
        return f"{v:,.1f}" if not v.is_integer() else f"{v:,.0f}"
    return str(v)


def _md_escape(text: str) -> str:
    return escape_html(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(report: Report, *, chart_dir: str = "charts") -> str:
    """The report as Markdown (charts linked as ``charts/NAME.svg``; text from the data escaped)."""
    lines = []
    for block in _blocks(report):
        kind = block[0]
        if kind == "h1":
            lines += [f"# {_md_escape(block[1])}", ""]
        elif kind == "h2":
            lines += [f"## {_md_escape(block[1])}", ""]
        elif kind == "p":
            lines += [_md_escape(block[1]), ""]
        elif kind == "list":
            lines += [f"- {_md_escape(item)}" for item in block[1]] + [""]
        elif kind == "chart":
            lines += [f"![{block[1].replace('_', ' ')}]({chart_dir}/{block[1]}.svg)", ""]
        elif kind == "table":
            frame = block[2]
            if frame.empty:
                lines += ["(none)", ""]
                continue
            cols = list(frame.columns)
            lines.append("| " + " | ".join(_md_escape(str(c)) for c in cols) + " |")
            lines.append("|" + "|".join("---:" if pd.api.types.is_numeric_dtype(frame[c]) else "---" for c in cols) + "|")
            for row in frame.itertuples(index=False):
                lines.append("| " + " | ".join(_md_escape(_cell_text(v)) for v in row) + " |")
            lines.append("")
    return "\n".join(lines)


_CSS = """
body { font-family: "DejaVu Sans", "Noto Sans CJK SC", "Microsoft YaHei", Arial, sans-serif; margin: 24px auto;
       max-width: 1100px; color: #222; padding: 0 16px; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; padding-bottom: 3px; }
table { border-collapse: collapse; font-size: 12px; margin: 6px 0 12px; }
th, td { border: 1px solid #ddd; padding: 3px 7px; } th { background: #f3f4f6; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.chart { margin: 6px 0; }
"""


def render_html(report: Report, svgs: dict[str, str] | None = None) -> str:
    """The report as one self-contained HTML page (charts inline, every text from the data escaped)."""
    svgs = svgs if svgs is not None else charts(report)
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{escape_html('netdiag report: ' + report.period.label)}</title>", f"<style>{_CSS}</style></head><body>"]
    for block in _blocks(report):
        kind = block[0]
        if kind in ("h1", "h2"):
            parts.append(f"<{kind}>{escape_html(block[1])}</{kind}>")
        elif kind == "p":
            parts.append(f"<p>{escape_html(block[1])}</p>")
        elif kind == "list":
            parts.append("<ul>" + "".join(f"<li>{escape_html(i)}</li>" for i in block[1]) + "</ul>")
        elif kind == "chart":
            parts.append(f'<div class="chart">{svgs[block[1]]}</div>')
        elif kind == "table":
            frame = block[2]
            if frame.empty:
                parts.append("<p>(none)</p>")
                continue
            numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
            head = "".join(f"<th>{escape_html(c)}</th>" for c in frame.columns)
            body = "".join("<tr>" + "".join(f'<td{" class=num" if n else ""}>{escape_html(_cell_text(v))}</td>'
                                            for v, n in zip(row, numeric)) + "</tr>"
                           for row in frame.itertuples(index=False))
            parts.append(f'<table id="{escape_html(block[1])}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>')
    parts.append("</body></html>")
    return "\n".join(parts)


def report_files(report: Report) -> list[str]:
    """The names :func:`write_report` writes into its folder."""
    return ["report.md", "report.html", SUMMARY_FILE, "charts"] + [f"{name}.csv" for name in report.tables]


def write_report(report: Report, out_dir: str | Path, *, overwrite: bool = False) -> list[Path]:
    """Write ``report.md``, ``report.html``, ``charts/*.svg``, one CSV per table and ``summary.json``.

    Raises
    ------
    InputError
        When one of these files exists and ``overwrite`` is false.
    """
    out = prepare_out_dir(out_dir, report_files(report), overwrite=overwrite)
    svgs = charts(report)
    (out / "charts").mkdir(exist_ok=True)
    written = []
    for name, svg in svgs.items():
        path = out / "charts" / f"{name}.svg"
        path.write_text(svg, encoding="utf-8")
        written.append(path)
    for name, table in report.tables.items():
        written.append(write_csv(table, out / f"{name}.csv"))
    md = out / "report.md"
    md.write_text(render_markdown(report), encoding="utf-8")
    html = out / "report.html"
    html.write_text(render_html(report, svgs), encoding="utf-8")
    summary = out / SUMMARY_FILE
    summary.write_text(json.dumps(report.summary(), ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    written += [md, html, summary]
    log.info("wrote the report of %s to %s (%d files)", report.period.label, out, len(written))
    return written
