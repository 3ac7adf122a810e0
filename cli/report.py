"""``netdiag report``: the weekly or monthly complaint analysis, as Markdown, HTML and CSV."""
from __future__ import annotations

import click

from netdiag.cli.options import (data_dir_option, engine_errors, engine_options, lasting_tickets, open_engine,
                                 out_folder_option, overwrite_opt, pass_state, read_store_option)


@click.command()
@data_dir_option
@click.option("--period", type=click.Choice(["week", "month"]), default="week", show_default=True,
              help="An ISO week (Monday to Sunday) or a calendar month, of local days in the display zone (see README, Time zones).")
@click.option("--date", "date", metavar="DATE",
              help="Any day inside the period to report. Default: the day of the latest complaint.")
@click.option("--compare", "previous", type=click.Path(exists=True), metavar="PREVIOUS",
              help="Compare with an earlier report folder (its summary.json) or another data directory. "
                   "Default: the previous period of the same data directory, when it holds one.")
@out_folder_option(help="Folder for report.md, report.html, the CSV tables and charts. Default: reports/PERIOD-START.")
@click.option("--grid", type=click.Choice(["hex", "square"]), default="hex", show_default=True, help="Hotspot grid.")
@read_store_option
@engine_options
@overwrite_opt
@pass_state
@engine_errors
def report(state, data_dir, period, date, previous, out, grid, db, engine, overwrite):
    """Analyse one week or month of the data directory's complaints.

    Complaints by category, cause, action, team and grade; response times against the due
    times; top cells and sites; hotspots and repeat complaints; hour-of-day and day-of-week
    patterns; the change against the previous period. With --db, the tickets and their
    response times are the store's, as people left them (statuses, resolutions). Writes report.md, report.html (charts
    inline, opens with no network), one CSV per table and summary.json (for a later --compare).

    \b
    Examples:
      netdiag report --data sample_data --period week --date 2026-11-03
      netdiag report --data sample_data --period week --compare reports/week-2026-11-02
      netdiag report --data sample_data --period month --out out/report-nov --overwrite
      netdiag report --data sample_data --period month --db netdiag.db --out out/report-nov-store
    """
    from netdiag.data.dataset import load_dataset
    from netdiag.data.display import display_zone
    from netdiag.data.times import parse_time
    from netdiag.pipeline import diagnose
    from netdiag.views.period_report import analyse, load_previous
    from netdiag.views.report_pages import REPORT_PAGES, write_report
    from netdiag.views.writers import refuse_existing

    settings = state.settings(data_dir)
    parse_time(date, tz=display_zone(settings), name="date")  # before the long work
    if out:
        refuse_existing(out, REPORT_PAGES, overwrite=overwrite)
    before = load_previous(previous, settings=settings) if previous else None
    ds = load_dataset(data_dir, settings=settings, load_window="complaints", progress=state.progress())
    with open_engine(state, engine, data_dir) as running:
        result = diagnose(ds, settings=settings, progress=state.progress(), engine=running)
    result = lasting_tickets(result, db, settings)
    rep = analyse(result, period=period, date=date, previous=before, settings=settings, grid=grid)
    out = out or rep.default_folder()
    write_report(rep, out, overwrite=overwrite)
    state.echo(rep.headline())
    state.echo(f"wrote {out}/report.md, report.html, summary.json and {len(rep.tables)} CSV tables")
