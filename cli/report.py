"""``netdiag report``: the weekly or monthly complaint analysis, as Markdown, HTML and CSV."""
from __future__ import annotations

import click

from netdiag.cli.options import data_dir_arg, engine_errors, overwrite_opt, pass_state


@click.command()
@data_dir_arg
@click.option("--period", type=click.Choice(["week", "month"]), default="week", show_default=True,
              help="An ISO week (Monday to Sunday) or a calendar month, in --tz.")
@click.option("--date", "date", metavar="DATE",
              help="Any day inside the period to report. Default: the day of the latest complaint.")
@click.option("--compare", "previous", type=click.Path(exists=True), metavar="PREVIOUS",
              help="Compare with an earlier report folder (its summary.json) or another data directory. "
                   "Default: the previous period of DATA_DIR itself, when it holds one.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Folder for report.md, report.html, the CSV tables and charts. Default: reports/PERIOD-START.")
@click.option("--grid", type=click.Choice(["hex", "square"]), default="hex", show_default=True, help="Hotspot grid.")
@overwrite_opt
@pass_state
@engine_errors
def report(state, data_dir, period, date, previous, out_dir, grid, overwrite):
    """Analyse one week or month of DATA_DIR's complaints.

    Complaints by category, cause, action, team and grade; response times against the due
    times; top cells and sites; hotspots and repeat complaints; hour-of-day and day-of-week
    patterns; the change against the previous period. Writes report.md, report.html (charts
    inline, opens with no network), one CSV per table and summary.json (for a later --compare).

    \b
    Examples:
      netdiag report sample_data --period week
      netdiag report sample_data --period month --out out/report-nov --overwrite
      netdiag report this_week/ --compare reports/week-2026-11-02
    """
    from netdiag.views.period_report import analyse, load_previous
    from netdiag.views.report_pages import write_report
    from netdiag.data.dataset import load_dataset
    from netdiag.engine.diagnose import diagnose

    settings = state.settings()
    ds = load_dataset(data_dir, settings=settings, load_window="complaints", progress=state.progress())
    result = diagnose(ds, settings=settings, progress=state.progress())
    before = load_previous(previous, settings=settings) if previous else None
    rep = analyse(result, period=period, date=date, previous=before, settings=settings, grid=grid)
    out = out_dir or f"reports/{period}-{rep.period.start.tz_convert(rep.period.tz):%Y-%m-%d}"
    write_report(rep, out, overwrite=overwrite)
    t = rep.totals
    change = f", {t['change_pct']:+.1f}% against {rep.previous.label}" if t["change_pct"] is not None else ""
    state.echo(f"{rep.period.label}: {t['complaints']:,} complaints{change}; {t['tickets']:,} tickets; "
               f"{t['repeat_complaints']:,} repeat complaints; {t['hotspots']:,} hotspots")
    state.echo(f"wrote {out}/report.md, report.html, summary.json and {len(rep.tables)} CSV tables")
