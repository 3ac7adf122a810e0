"""``netdiag sample``: write a synthetic city in the contract's format."""
from __future__ import annotations

import click

from netdiag.cli.options import engine_errors, overwrite_opt, pass_state


@click.command()
@click.argument("out_dir", type=click.Path(file_okay=False), metavar="OUT_DIR")
@click.option("--sites", "n_sites", type=click.IntRange(30, 200000), default=300, show_default=True, help="Number of sites.")
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed (same seed, same files).")
@click.option("--days", type=click.IntRange(4, 366), default=14, show_default=True, help="Days of events, load and complaints.")
@click.option("--load-format", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True,
              help="File format of the (large) load table.")
@click.option("--no-bad-rows", is_flag=True, help="Do not plant bad rows.")
@overwrite_opt
@pass_state
@engine_errors
def sample(state, out_dir, n_sites, seed, days, load_format, no_bad_rows, overwrite):
    """Write a realistic synthetic data set (a city with incidents) into OUT_DIR.

    Dense centre and sparse suburbs, LTE and NR sectors, indoor cells, repeaters, transport
    hubs, hourly load, planted faults, shutdowns, a relocation, interference, congestion,
    sleeping cells and complaints (some in GCJ-02 / BD-09), plus a few bad rows. The ground
    truth of every planted incident goes to OUT_DIR/truth/.

    \b
    Example:
      netdiag sample my_city --sites 300 --seed 7
    """
    from netdiag.sample import generate
    from netdiag.views.summaries import sample_text

    counts = generate(out_dir, n_sites=n_sites, seed=seed, days=days, load_format=load_format,
                      bad_rows=not no_bad_rows, overwrite=overwrite, progress=state.progress())
    state.echo(sample_text(out_dir, counts))
