"""``netdiag settings``: every tunable value, its default and meaning."""
from __future__ import annotations

import click

from netdiag.cli.options import echo_text, engine_errors, format_opt, pass_state


@click.command()
@format_opt
@pass_state
@engine_errors
def settings(state, fmt):
    """List every setting with its current value and meaning.

    Override any of them with `--set NAME=VALUE` or a TOML file given to `--config`.

    \b
    Example:
      netdiag --set congestion_prb_pct=90 settings
    """
    from netdiag.views.summaries import settings_json, settings_text
    from netdiag.views.writers import json_text

    current = state.settings()
    echo_text(json_text(settings_json(current)) if fmt == "json" else settings_text(current))
