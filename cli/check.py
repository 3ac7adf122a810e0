"""``netdiag check``: what serves one spot and what is wrong with it, for a handler on the phone."""
from __future__ import annotations

import click

from netdiag.cli.options import engine_errors, format_opt, pass_state


@click.command()
@click.option("--data", "data_dir", type=click.Path(file_okay=False), required=True, help="The data directory.")
@click.option("--lat", type=float, required=True, help="Latitude of the spot.")
@click.option("--lon", type=float, required=True, help="Longitude of the spot.")
@click.option("--coord-system", default="wgs84", show_default=True, help="wgs84, gcj02 (most Chinese map apps) or bd09 (Baidu).")
@click.option("--at", "at_text", metavar="TIME", help="When (ISO 8601; naive = --tz). Default: now.")
@click.option("--indoor", is_flag=True, help="The problem is indoors (indoor cells count).")
@click.option("--tickets", "tickets_path", type=click.Path(dir_okay=False), help="tickets.csv of a diagnose run, to find an open ticket.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="en", show_default=True, help="Language of the customer reply.")
@format_opt
@pass_state
@engine_errors
def check(state, data_dir, lat, lon, coord_system, at_text, indoor, tickets_path, lang, fmt):
    """Check one spot: serving cells, their status, alarms, load, verdict and reply.

    \b
    Example:
      netdiag check --data sample_data --lat 22.5431 --lon 114.0579 \\
                    --coord-system gcj02 --at 2026-11-05T20:30+08:00 --lang zh
    """
    import json

    from netdiag.check import check_point, format_check, parse_at, read_tickets
    from netdiag.dataset import load_dataset
    from netdiag.diagnose import prepare

    settings = state.settings()
    at = parse_at(at_text, settings.tz)
    tickets = read_tickets(tickets_path) if tickets_path else None
    ds = load_dataset(data_dir, settings=settings,
                      tables=("transport", "sites", "cells", "repeaters", "events", "load"))
    net = prepare(ds, settings=settings)
    result = check_point(net, lat, lon, coord_system=coord_system, at=at, indoor=indoor, tickets=tickets)
    if fmt == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(format_check(result, lang=lang))
