"""``netdiag evaluate``: score diagnoses against closed tickets."""
from __future__ import annotations

import click

from netdiag.cli.options import echo_text, engine_errors, format_opt, out_folder_option, overwrite_opt, pass_state


@click.command()
@click.argument("diagnoses", type=click.Path(dir_okay=False), metavar="DIAGNOSES")
@click.option("--truth", required=True, type=click.Path(dir_okay=False), metavar="CLOSED.csv",
              help="Closed tickets: complaint_id, cause (the contract's causes), element_id (the confirmed root).")
@click.option("--bins", type=click.IntRange(2, 50), default=10, show_default=True, help="Confidence bins for the reliability table.")
@out_folder_option(help="Folder for evaluation.json, evaluation.html, per_cause.csv, confusion.csv, mismatches.csv.")
@overwrite_opt
@format_opt
@pass_state
@engine_errors
def evaluate(state, diagnoses, truth, bins, out, overwrite, fmt):
    """Score DIAGNOSES (diagnoses.csv of `netdiag diagnose`) against the truth of closed tickets.

    Cause accuracy, per-cause precision and recall, the confusion matrix, element accuracy and
    the reliability of the confidence (per bin: mean confidence against the share of right
    verdicts; expected calibration error). Only complaints in both files are scored.

    \b
    Example:
      netdiag diagnose --data sample_data --out out/run
      netdiag evaluate out/run/diagnoses.csv --truth sample_data/truth/complaints.csv --out out/eval
    """
    from netdiag.evaluate import evaluate as score, evaluation_html, evaluation_text

    result = score(diagnoses, truth, bins=bins)
    if out:
        from netdiag.views.writers import prepare_out_dir, write_csv, write_json, write_text

        names = ["evaluation.json", "evaluation.html", "per_cause.csv", "confusion.csv", "mismatches.csv"]
        folder = prepare_out_dir(out, names, overwrite=overwrite)
        write_json(result.as_dict(), folder / "evaluation.json")
        write_text(folder / "evaluation.html", evaluation_html(result))
        write_csv(result.per_cause, folder / "per_cause.csv")
        write_csv(result.confusion.reset_index(), folder / "confusion.csv")
        write_csv(result.mismatches, folder / "mismatches.csv")
    if fmt == "json":
        from netdiag.views.writers import json_text

        echo_text(json_text(result.as_dict()))
    else:
        state.echo(evaluation_text(result))
        if out:
            state.echo(f"\nwritten to {folder}")
