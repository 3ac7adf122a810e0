"""The weekly or monthly complaint report: what came in, why, who acted, how fast, where, when.

:func:`analyse` takes a diagnosed data set and one calendar period (an ISO week, Monday to
Sunday, or a calendar month, on the local clock of the display zone) and builds tables that all add up to the
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
The pages (``report.md``, ``report.html`` with inline SVG charts, the CSV tables and
``summary.json``) are written by :mod:`netdiag.views.report_pages`.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from netdiag.data.schema import ACTIONS, CATEGORIES, CAUSES, DEGRADATIONS, GRADES, OUTAGES
from netdiag.data.display import display_zone, tzinfo
from netdiag.data.times import day_start, local_days, parse_time, period_mask, when_text
from netdiag.engine.diagnose import first_serving
from netdiag.errors import InputError
from netdiag.settings import Settings
from netdiag.views.hotspots import crosstab_counts, hotspot_table, repeat_complaints
from netdiag.views.hotspots import hotspots as find_hotspots

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
        raise InputError(f"`period` was {kind!r} but is expected to be one of {', '.join(PERIODS)}")
    ts = parse_time(when, tz=tz, name="date")
    if ts is None:
        raise InputError("`date` is empty")
    day = ts.tz_convert(tzinfo(tz)).date()
    if kind == "week":  # counted in calendar days: a day may start at 01:00 (midnight skipped by summer time)
        first = day - dt.timedelta(days=day.weekday())
        after = first + dt.timedelta(days=7)
    else:
        first = day.replace(day=1)
        after = (first + dt.timedelta(days=32)).replace(day=1)
    return Period(kind, day_start(first, tz), day_start(after, tz), tz)


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

    def default_folder(self) -> str:
        """``reports/week-2026-11-02``: where a report goes when no folder is given."""
        return f"reports/{self.period.kind}-{self.period.start.tz_convert(self.period.tz):%Y-%m-%d}"

    def headline(self) -> str:
        """The report in one line: complaints and their change, tickets, repeat complaints, hotspots."""
        t = self.totals
        change = f", {t['change_pct']:+.1f}% against {self.previous.label}" if t["change_pct"] is not None else ""
        return (f"{self.period.label}: {t['complaints']:,} complaints{change}; {t['tickets']:,} tickets; "
                f"{t['repeat_complaints']:,} repeat complaints; {t['hotspots']:,} hotspots")

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
    # as objects: a table of 200,000+ rows holds its ids as categories (netdiag.data.convert.to_id)
    cell_site = ds["cells"].set_index("cell_id")["site_id"].astype(object)
    donor = ds["repeaters"].set_index("repeater_id")["donor_cell_id"].astype(object) if len(ds["repeaters"]) else \
        pd.Series(dtype=object)
    site = elements.map(cell_site)
    site = site.fillna(elements.map(donor).map(cell_site))
    return site.fillna(NO_VALUE).astype(str)


def _top_value(keys: pd.Series, values: pd.Series) -> pd.Series:
    """The most frequent value per key, a tie going to the value seen first (what ``value_counts().index[0]``
    per group gives), from one groupby instead of a Python function per key."""
    frame = pd.DataFrame({"k": keys.array, "v": values.array, "first": np.arange(len(keys))})
    counts = frame.groupby(["k", "v"], sort=False)["first"].agg(["size", "min"]).reset_index()
    counts = counts.sort_values(["k", "size", "min"], ascending=[True, False, True]).drop_duplicates("k")
    return counts.set_index("k")["v"].rename_axis(keys.name)


def _dimension_values(result, d: pd.DataFrame) -> dict[str, pd.Series]:
    values = {dim: d[dim].fillna(NO_VALUE).astype(str).replace("", NO_VALUE) for dim in ("category", "cause", "action", "team")}
    values["grade"] = _grade(result, d)
    return values


def _counts_of(result, d: pd.DataFrame) -> dict[str, dict[str, int]]:
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
    due_first = {g: settings.due_hours(g)[0] for g in GRADES}
    due_close = {g: settings.due_hours(g)[1] for g in GRADES}
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
                 f"'open' tickets are those not resolved by {when_text(as_of, period.tz)}, the end of the period or of the data, "
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
        From :func:`netdiag.pipeline.diagnose`.
    period : {"week", "month"}
        An ISO week (Monday to Sunday) or a calendar month, with days, weeks and months on the
        local clock of the display zone (:func:`~netdiag.data.display.display_zone`).
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
    tz = display_zone(settings)
    d_all = result.diagnoses
    if date is None:
        if d_all.empty:
            raise InputError("no diagnosed complaints: nothing to report (give `date` to report an empty period)")
        date = pd.Timestamp(d_all["received_at"].max())
    p = period_containing(period, date, tz=tz)
    d = d_all[period_mask(d_all["received_at"], p.start, p.end)].reset_index(drop=True)
    latest = pd.to_datetime(d_all["received_at"], utc=True).max() if len(d_all) else p.end
    as_of = min(p.end, latest) if pd.notna(latest) else p.end
    counts = _counts_of(result, d)
    notes: list[str] = []

    # the previous period
    prev_period, prev_counts, prev_total, prev_source = None, None, None, ""
    if previous is None or hasattr(previous, "diagnoses"):
        source = previous if previous is not None else result
        pp = p.previous()
        dp = source.diagnoses[period_mask(source.diagnoses["received_at"], pp.start, pp.end)]
        if len(dp) or previous is not None:
            prev_period, prev_counts, prev_total = pp, _counts_of(source, dp), len(dp)
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
            t = g.groupby(col).agg(complaints=("cause", "size"))
            t["top_cause"] = _top_value(g[col], g["cause"])
            causes = crosstab_counts(g[col], g["cause"])
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
    days = pd.Index(local_days(p.start, p.end - pd.Timedelta(seconds=1), tz))
    received_day = _local(d["received_at"], tz).dt.strftime("%Y-%m-%d")
    by_day = crosstab_counts(received_day, cause) if len(d) else pd.DataFrame()
    by_day = by_day.reindex(days, fill_value=0)
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
        "network_cause": int(cause.isin(OUTAGES + DEGRADATIONS).sum()),
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
            raise InputError(f"`previous` {summary} is not a netdiag report summary: {exc}") from None
        if not isinstance(data, dict) or "netdiag_report" not in data:
            raise InputError(f"`previous` {summary} is not a netdiag report summary (no 'netdiag_report' key)")
        data["_path"] = str(summary)
        return data
    if path.is_dir():
        from netdiag.data.dataset import load_dataset
        from netdiag.pipeline import diagnose

        ds = load_dataset(path, settings=settings)
        return diagnose(ds, settings=settings)
    raise InputError(f"`previous` {path} is neither a report folder (with {SUMMARY_FILE}) nor a data directory")
