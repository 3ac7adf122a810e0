"""The period report as files: ``report.md``, ``report.html`` (charts as inline SVG, no network
needed), the charts as SVG files, every table as CSV and ``summary.json``.

The figures come from :func:`netdiag.views.period_report.analyse`; here they only become
pages. Every text from the data is escaped (HTML) or neutralised (Markdown, CSV).
"""
from __future__ import annotations

import logging
import re
from pathlib import Path

import pandas as pd

from netdiag.data.display import zone_heading
from netdiag.data.times import when_text
from netdiag.data.values import plain
from netdiag.views.period_report import DIMENSIONS, SUMMARY_FILE, TOP, Report
from netdiag.views.sanitize import escape_html
from netdiag.views.terminal import terminal_safe
from netdiag.views.writers import prepare_out_dir, write_csv, write_json, write_text

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- charts (SVG)
def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            f'role="img" aria-label="{escape_html(title)}" font-family="DejaVu Sans, Arial, sans-serif" font-size="11">'
            f'<title>{escape_html(title)}</title>'
            f'<text x="4" y="14" font-size="13" font-weight="bold">{escape_html(title)}</text>' + "".join(body) + "</svg>")


def _hbar_svg(labels, values, *, title: str, previous=None, color: str = "#1e88e5", width: int = 560) -> str:
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


def _vbar_svg(labels, values, *, title: str, color: str = "#1e88e5", width: int = 560, height: int = 200,
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
        out[f"by_{dim}"] = _hbar_svg(tab[dim].str.replace("_", " "), tab["complaints"], title=f"Complaints by {dim}",
                                    previous=tab["previous"] if "previous" in tab else None, color=color)
    team = t["by_team"].head(TOP)
    out["by_team"] = _hbar_svg(team["team"], team["complaints"], title=f"Complaints by team (top {TOP})",
                              previous=team["previous"] if "previous" in team else None, color="#00897b")
    out["by_hour"] = _vbar_svg(t["by_hour"]["hour"], t["by_hour"]["complaints"], title="Complaints by hour of day (problem time)",
                              every=2, color="#5e35b1")
    out["by_weekday"] = _vbar_svg(t["by_weekday"]["weekday"], t["by_weekday"]["complaints"],
                                 title="Complaints by day of week (problem time)", color="#5e35b1", width=360)
    days = t["by_day"]
    out["by_day"] = _vbar_svg(days["day"].str.slice(5), days["complaints"], title="Complaints by day received",
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
        ("p", f"{zone_heading(report.period.tz)} Data: {report.data_dir}. "
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


def _cell_text(v, tz: str) -> str:
    """A table cell for people: times in the report's zone, whole floats without decimals."""
    if isinstance(v, pd.Timestamp) and v is not pd.NaT:
        return when_text(v, tz)
    v = plain(v)
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.1f}" if not v.is_integer() else f"{v:,.0f}"
    return str(v)


#: what would start a list item (``- x``, ``1. x``), a rule (``---``) or a heading underline (``===``)
_MD_BLOCK_START = re.compile(r"^(\d{0,9})([-+=.)])(?=[\s\-=]|$)")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|!~&#]|:(?=//)|(?<=www)\.)")


def md_escape(text: str) -> str:
    r"""Text as Markdown that renders exactly as written: the characters that make links, images,
    emphasis, code, HTML tags, entities, headings and table cells are backslash-escaped, and so
    are the ``:`` of ``://`` and the ``.`` of ``www.``, so no bare URL becomes a link; line breaks
    become spaces. Dates, times and ordinary punctuation stay as they are.

    Examples
    --------
    >>> md_escape("[click](http://x) <b> 2026-11-02 (W45)")
    '\\[click\\](http\\://x) \\<b\\> 2026-11-02 (W45)'
    """
    text = _MD_SPECIAL.sub(r"\\\1", terminal_safe(str(text).replace("\r", " ").replace("\n", " ")).lstrip())
    return _MD_BLOCK_START.sub(r"\1\\\2", text)  # not a list item, quote or rule at the start of a line


def render_markdown(report: Report, *, chart_dir: str = "charts") -> str:
    """The report as Markdown (charts linked as ``charts/NAME.svg``; text from the data escaped)."""
    lines = []
    for block in _blocks(report):
        kind = block[0]
        if kind == "h1":
            lines += [f"# {md_escape(block[1])}", ""]
        elif kind == "h2":
            lines += [f"## {md_escape(block[1])}", ""]
        elif kind == "p":
            lines += [md_escape(block[1]), ""]
        elif kind == "list":
            lines += [f"- {md_escape(item)}" for item in block[1]] + [""]
        elif kind == "chart":
            lines += [f"![{block[1].replace('_', ' ')}]({chart_dir}/{block[1]}.svg)", ""]
        elif kind == "table":
            frame = block[2]
            if frame.empty:
                lines += ["(none)", ""]
                continue
            cols = list(frame.columns)
            lines.append("| " + " | ".join(md_escape(str(c)) for c in cols) + " |")
            lines.append("|" + "|".join("---:" if pd.api.types.is_numeric_dtype(frame[c]) else "---" for c in cols) + "|")
            for row in frame.itertuples(index=False):
                lines.append("| " + " | ".join(md_escape(_cell_text(v, report.period.tz)) for v in row) + " |")
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
            body = "".join("<tr>" + "".join(f'<td{" class=num" if n else ""}>{escape_html(_cell_text(v, report.period.tz))}</td>'
                                            for v, n in zip(row, numeric)) + "</tr>"
                           for row in frame.itertuples(index=False))
            parts.append(f'<table id="{escape_html(block[1])}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>')
    parts.append("</body></html>")
    return "\n".join(parts)


#: the files every report has (its CSV tables and charts depend on the data)
REPORT_PAGES = ["report.md", "report.html", SUMMARY_FILE]


def _report_files(report: Report) -> list[str]:
    """The names :func:`write_report` writes into its folder."""
    return REPORT_PAGES + ["charts"] + [f"{name}.csv" for name in report.tables]


def write_report(report: Report, out_dir: str | Path, *, overwrite: bool = False) -> list[Path]:
    """Write ``report.md``, ``report.html``, ``charts/*.svg``, one CSV per table and ``summary.json``.

    Raises
    ------
    InputError
        When one of these files exists and ``overwrite`` is false.
    """
    out = prepare_out_dir(out_dir, _report_files(report), overwrite=overwrite)
    svgs = charts(report)
    (out / "charts").mkdir(exist_ok=True)
    written = []
    for name, svg in svgs.items():
        path = out / "charts" / f"{name}.svg"
        write_text(path, svg)
        written.append(path)
    for name, table in report.tables.items():
        written.append(write_csv(table, out / f"{name}.csv"))
    md = out / "report.md"
    write_text(md, render_markdown(report))
    html = out / "report.html"
    write_text(html, render_html(report, svgs))
    summary = out / SUMMARY_FILE
    write_json(report.summary(), summary)
    written += [md, html, summary]
    log.info("wrote the report of %s to %s (%d files)", report.period.label, out, len(written))
    return written
