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
    """Run the main job on DATA_DIR: validate, diagnose and write every output to --out.

    Prints the validation summary and the diagnosis summary; writes diagnoses.csv,
    tickets.csv and rejected.csv (and their JSON) into --out.

    \b
    Example:
      netdiag demo sample_data --out out/demo
    """
    import time

    from netdiag.dataset import load_dataset
    from netdiag.diagnose import diagnose
    from netdiag.export import prepare_out_dir
    from netdiag.outputs import JSON_FILES, OUTPUT_FILES, summary_text, write_diagnosis
    from netdiag.report import validation_summary

    out = prepare_out_dir(out_dir, OUTPUT_FILES + JSON_FILES, overwrite=overwrite)
    settings = state.settings()
    started = time.perf_counter()
    ds = load_dataset(data_dir, settings=settings, progress=state.progress())
    state.echo("== validation ==")
    state.echo(validation_summary(ds))
    result = diagnose(ds, settings=settings, progress=state.progress())
    write_diagnosis(result, out, json=True)
    state.echo("\n== diagnosis ==")
    state.echo(summary_text(result))
    state.echo(f"\nwrote {out}/diagnoses.csv, tickets.csv, rejected.csv (+ JSON) in {time.perf_counter() - started:.1f} s")
