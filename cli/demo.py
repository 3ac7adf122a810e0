"""``netdiag demo``: the main job on a data directory, as `make demo` runs it."""
from __future__ import annotations

import click

from netdiag.cli.options import data_dir_option, engine_errors, out_folder_option, overwrite_opt, pass_state


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
      netdiag demo --data sample_data --out out/demo --overwrite
    """
    from netdiag.pipeline import run_demo

    run = run_demo(data_dir, out, maps_dir, settings=state.settings(data_dir), overwrite=overwrite, echo=state.echo,
                   progress=state.progress())
    state.echo(run.text())
