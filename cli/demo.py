"""``netdiag demo``: the main job on a data directory, as `make demo` runs it."""
from __future__ import annotations

import click

from netdiag.cli.options import (
    data_dir_option,
    engine_errors,
    out_folder_option,
    overwrite_opt,
    pass_state,
)


@click.command()
@data_dir_option
@out_folder_option(default="out/demo", help="Folder for the tables, the ticket store, the dispatch list and the reports.")
@click.option("--maps", "maps_dir", type=click.Path(file_okay=False), metavar="FOLDER", default="maps", show_default=True,
              help="Folder for the HTML maps.")
@overwrite_opt
@pass_state
@engine_errors
def demo(state, data_dir, out, maps_dir, overwrite):
    """Run the whole job on the data directory once: validate, diagnose, tickets, dispatch, maps, reports.

    Prints the validation and diagnosis summaries and writes, from one diagnosis run:
    --out/diagnoses.csv, tickets.csv, rejected.csv (+ JSON); the ticket store
    --out/netdiag.db (running the demo again changes nothing in it); the dispatch list (CSV,
    printable HTML, route map) of the field team with the most visits on its busiest day;
    the weekly and monthly reports under --out; and two maps under --maps (status at the
    latest complaint, and at the worst moment of the period).

    \b
    Example:
      netdiag --tz Asia/Shanghai demo --data sample_data --out out/demo --overwrite
    """
    import time
    from pathlib import Path

    from netdiag.data.dataset import load_dataset
    from netdiag.engine.diagnose import diagnose
    from netdiag.tickets.dispatch import busiest_field_day, plan_dispatch
    from netdiag.tickets.store import TicketStore
    from netdiag.views.dispatch_list import write_dispatch
    from netdiag.views.leaflet import save_map
    from netdiag.views.map import build_map
    from netdiag.views.period_report import analyse
    from netdiag.views.report_pages import write_report
    from netdiag.views.summaries import summary_text, validation_summary
    from netdiag.views.writers import (
        JSON_FILES,
        OUTPUT_FILES,
        prepare_out_dir,
        write_diagnosis,
    )

    out = prepare_out_dir(out, OUTPUT_FILES + JSON_FILES, overwrite=overwrite)
    maps = Path(maps_dir)
    settings = state.settings()
    say = state.progress() or (lambda _text: None)
    started = time.perf_counter()
    ds = load_dataset(data_dir, settings=settings, load_window="complaints", progress=state.progress())
    state.echo("== validation ==")
    state.echo(validation_summary(ds))
    with TicketStore(out / "netdiag.db", settings=settings) as store:
        result = diagnose(ds, settings=settings, progress=state.progress(), store=store, who="netdiag demo")
        write_diagnosis(result, out, json=True)
        state.echo("\n== diagnosis ==")
        state.echo(summary_text(result))
        written = [out / name for name in OUTPUT_FILES] + [out / "netdiag.db"]

        state.echo("\n== dispatch ==")
        team, day = busiest_field_day(result.tickets, settings.tz)
        if team:
            plan = plan_dispatch(store, team, date=day, settings=settings)
            state.echo(plan.summary())
            written += write_dispatch(plan, out, overwrite=True, route_map=True)
        else:
            state.echo("no field-test visits")

    state.echo("\n== maps and reports ==")
    for name, at in (("netdiag.html", None), ("worst.html", "worst")):
        say(f"drawing {maps / name}")
        written.append(save_map(build_map(ds, result, at=at, title="netdiag demo"), maps / name, overwrite=overwrite))
    for period in ("week", "month") if len(result.diagnoses) else ():
        say(f"{period} report")
        rep = analyse(result, period=period, settings=settings)
        folder = out / f"report-{period}"
        write_report(rep, folder, overwrite=overwrite)
        written.append(folder / "report.html")
    if not len(result.diagnoses):
        state.echo("  no complaints diagnosed: no reports")
    for path in written:
        state.echo(f"  {path}")
    state.echo(f"done in {time.perf_counter() - started:.1f} s")

