"""``netdiag demo``: the main job on a data directory, as `make demo` runs it."""
from __future__ import annotations

import click

from netdiag.cli.options import data_dir_arg, engine_errors, overwrite_opt, pass_state


@click.command()
@data_dir_arg
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="out/demo", show_default=True,
              help="Folder for the outputs.")
@overwrite_opt
@pass_state
@engine_errors
def demo(state, data_dir, out_dir, overwrite):
    """Run the main job on DATA_DIR: validate, and write the outputs to --out.

    \b
    Example:
      netdiag demo sample_data --out out/demo
    """
    from netdiag.dataset import load_dataset
    from netdiag.export import prepare_out_dir
    from netdiag.report import validation_summary, write_rejected

    out = prepare_out_dir(out_dir, ["rejected.csv"], overwrite=overwrite)
    ds = load_dataset(data_dir, settings=state.settings(), progress=state.progress())
    state.echo(validation_summary(ds))
    write_rejected(ds, out / "rejected.csv")
    state.echo(f"\nwrote {out}/rejected.csv")
