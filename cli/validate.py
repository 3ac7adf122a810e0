"""``netdiag validate``: read and check a data directory, report every rejected row."""
from __future__ import annotations

import click

from netdiag.cli.options import (
    data_dir_option,
    echo_text,
    engine_errors,
    format_opt,
    out_folder_option,
    overwrite_opt,
    pass_state,
)


@click.command()
@data_dir_option
@out_folder_option(help="Folder for rejected.csv and summary.json (created if needed).")
@overwrite_opt
@format_opt
@pass_state
@engine_errors
def validate(state, data_dir, out, overwrite, fmt):
    """Check every table of the data directory against the data contract.

    Prints, per table, the rows read, accepted and rejected, and the rejection reasons grouped
    with counts. With --out, writes FOLDER/rejected.csv (table, row, id, reason). Exit code 0 when
    the data could be read (even with rejected rows), 2 when it could not.

    \b
    Example:
      netdiag validate --data sample_data --out out/check
    """
    from netdiag.data.dataset import load_dataset
    from netdiag.views.summaries import validation_summary

    ds = load_dataset(data_dir, settings=state.settings(data_dir), progress=state.progress())
    if out:
        from netdiag.views.writers import prepare_out_dir, write_json, write_rejected

        folder = prepare_out_dir(out, ["rejected.csv", "summary.json"], overwrite=overwrite)
        write_rejected(ds.rejected, folder / "rejected.csv")
        write_json(validation_summary(ds, as_dict=True), folder / "summary.json")
    if fmt == "json":
        from netdiag.views.writers import json_text

        echo_text(json_text(validation_summary(ds, as_dict=True)))
    else:
        state.echo(validation_summary(ds))
        if out:
            state.echo(f"\nrejected rows written to {folder / 'rejected.csv'}")
