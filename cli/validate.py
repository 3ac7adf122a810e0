"""``netdiag validate``: read and check a data directory, report every rejected row."""
from __future__ import annotations

import click

from netdiag.cli.options import data_dir_arg, engine_errors, format_opt, overwrite_opt, pass_state


@click.command()
@data_dir_arg
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Write rejected.csv (and summary.json) here.")
@overwrite_opt
@format_opt
@pass_state
@engine_errors
def validate(state, data_dir, out_dir, overwrite, fmt):
    """Check every table of DATA_DIR against the data contract.

    Prints, per table, the rows read, accepted and rejected, and the rejection reasons grouped
    with counts. With --out, writes rejected.csv (table, row, id, reason). Exit code 0 when
    the data could be read (even with rejected rows), 2 when it could not.

    \b
    Example:
      netdiag validate sample_data --out out/check
    """
    from netdiag.data.dataset import load_dataset
    from netdiag.views.summaries import validation_summary

    ds = load_dataset(data_dir, settings=state.settings(), progress=state.progress())
    if out_dir:
        from netdiag.views.writers import prepare_out_dir, write_json, write_rejected

        out = prepare_out_dir(out_dir, ["rejected.csv", "summary.json"], overwrite=overwrite)
        write_rejected(ds.rejected, out / "rejected.csv")
        write_json(validation_summary(ds, as_dict=True), out / "summary.json")
    if fmt == "json":
        import json

        click.echo(json.dumps(validation_summary(ds, as_dict=True), ensure_ascii=False, indent=2))
    else:
        state.echo(validation_summary(ds))
        if out_dir:
            state.echo(f"\nrejected rows written to {out_dir}/rejected.csv")
