"""``netdiag diagnose``: every complaint of a data directory -> diagnoses, tickets, rejections."""
from __future__ import annotations

import click

from netdiag.cli.options import (StorePath, data_dir_option, engine_errors, engine_options, open_engine, out_folder_option,
                                 overwrite_opt, pass_state)


@click.command()
@data_dir_option
@out_folder_option(required=True, help="Folder for diagnoses.csv, tickets.csv and rejected.csv (created if needed).")
@click.option("--json", "as_json", is_flag=True, help="Also write diagnoses.json, tickets.json and summary.json.")
@click.option("--db", type=StorePath(), envvar="NETDIAG_DB", metavar="STORE",
              help="Keep tickets in this store: a SQLite file (created if needed) or postgresql://USER@HOST/DATABASE "
                   "(password in ~/.pgpass); also $NETDIAG_DB. Without it, tickets are grouped within this run only.")
@click.option("--who", help="Recorded in the ticket history (default $NETDIAG_USER or the login name).")
@engine_options
@overwrite_opt
@pass_state
@engine_errors
def diagnose(state, data_dir, out, as_json, db, who, engine, overwrite):
    """Diagnose every complaint of the data directory: root element, cause, evidence, action, ticket.

    Writes FOLDER/diagnoses.csv (one row per accepted complaint), tickets.csv (one per root
    element and cause) and rejected.csv (every input row that could not be used, with the
    reason), then prints a summary by cause, action and ticket priority.

    With --db, tickets last across runs: new complaints join the open ticket of their root
    element and cause, the same data twice changes nothing, tickets whose outage has ended are
    resolved, and ticket_id is the store's. Several people may run it at once on one store.

    \b
    Examples:
      netdiag diagnose --data sample_data --out out/today --json
      netdiag diagnose --data sample_data --out out/today-store --db netdiag.db
      netdiag diagnose --workspace ws --out out/today-dask --engine dask --workers 2
    """
    from netdiag.data.dataset import load_dataset
    from netdiag.pipeline import diagnose as run
    from netdiag.views.summaries import summary_text
    from netdiag.views.writers import JSON_FILES, OUTPUT_FILES, prepare_out_dir, write_diagnosis

    out = prepare_out_dir(out, OUTPUT_FILES + (JSON_FILES if as_json else []), overwrite=overwrite)
    settings = state.settings(data_dir)
    with open_engine(state, engine, data_dir) as running:
        ds = load_dataset(data_dir, settings=settings, load_window="complaints", progress=state.progress())
        if db:
            from netdiag.tickets.store import TicketStore

            with TicketStore(db, settings=settings) as store:
                result = run(ds, settings=settings, progress=state.progress(), store=store, who=who, engine=running)
        else:
            result = run(ds, settings=settings, progress=state.progress(), engine=running)
    write_diagnosis(result, out, json=as_json)
    state.echo(summary_text(result))
    if db:
        stored = result.tickets.attrs["store_run"]
        state.echo(f"\nticket store {stored['store']}: {stored['text']}")
    state.echo(f"\nwrote {out}/diagnoses.csv, tickets.csv, rejected.csv" + (" and JSON" if as_json else ""))
