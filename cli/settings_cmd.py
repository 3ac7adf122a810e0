"""``netdiag settings``: every tunable value, its default and meaning."""
from __future__ import annotations

import click

from netdiag.cli.options import engine_errors, format_opt, pass_state


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
    import json

    from netdiag.settings import Settings

    current = state.settings().as_dict()
    rows = [(name, current[name], default, doc) for name, default, doc in Settings.describe()]
    if fmt == "json":
        click.echo(json.dumps({n: {"value": v, "default": d, "meaning": m} for n, v, d, m in rows}, indent=2))
        return
    width = max(len(r[0]) for r in rows)
    for name, value, default, doc in rows:
        mark = "" if value == default else f"  (default {default})"
        click.echo(f"{name:<{width}}  {value!s:<14} {doc}{mark}")
