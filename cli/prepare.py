"""``netdiag prepare``: validate a data directory once into a workspace the other commands read."""
from __future__ import annotations

import click

from netdiag.cli.options import UsageFailure, engine_errors, pass_state


@click.command()
@click.argument("data_dir", metavar="DATA_DIR", type=click.Path(file_okay=False))
@click.option("--workspace", "workspace", type=click.Path(file_okay=False), metavar="WS", required=True,
              help="The workspace folder (created; a later run adds what is new to it).")
@pass_state
@engine_errors
def prepare(state, data_dir, workspace):
    """Validate DATA_DIR once into a workspace that every other command reads with --workspace WS.

    The workspace holds the typed inventory, the footprints (GeoParquet with a spatial index),
    the events by element, the complaints, the load counters by day (Parquet, only the columns
    netdiag reads), every rejected row (rejected.csv) and a manifest of the sources (sizes,
    SHA-256, row counts). Run it again on new exports: unchanged files are not read again,
    new complaints and new days of counters are added, old days are never rewritten.

    \b
    Examples:
      netdiag prepare sample_data --workspace ws
      netdiag diagnose --workspace ws --out out/diag --db netdiag.db
      netdiag check --workspace ws --lat 22.5431 --lon 114.0579 --at 2026-11-05T20:30+08:00
    """
    import os

    from netdiag.prepare import prepare_workspace

    if os.path.abspath(data_dir) == os.path.abspath(workspace):
        raise UsageFailure("--workspace must be another folder than DATA_DIR")
    done = prepare_workspace(data_dir, workspace, settings=state.settings(data_dir), progress=state.progress())
    state.echo(done.text())
