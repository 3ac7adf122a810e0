"""``netdiag dispatch``: a field team's visits for the day, in a short route, as CSV and HTML."""
from __future__ import annotations

import click

from netdiag.cli.options import echo_text, engine_errors, out_folder_option, overwrite_opt, pass_state
from netdiag.cli.tickets import db_opt


@click.command()
@click.option("--team", required=True, help="The field team, e.g. field-Nanshan (as in the tickets' team).")
@click.option("--date", "date", metavar="YYYY-MM-DD", help="The local day (display zone: --tz, else the zone of the data the store was filled from): tickets opened by then, arrival times from "
              "dispatch_day_start_h. Default: every open visit, no clock times.")
@click.option("--start", metavar="LAT,LON", help="Where the team sets off (WGS-84). Default: the route's best first stop.")
@db_opt
@out_folder_option(help="Folder for dispatch_TEAM_DATE.csv, .html (printable) and _map.html (the route, offline). "
                        "Without it, only the list on stdout.")
@click.option("--tiles", metavar="URL", help="XYZ tile URL of an internal tile server for the route map.")
@click.option("--max-stops", type=click.IntRange(1), help="Most visits on the list (default setting dispatch_max_stops).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="The list for people, or the stops as JSON.")
@overwrite_opt
@pass_state
@engine_errors
def dispatch(state, team, date, start, db, out, tiles, max_stops, fmt, overwrite):
    """A field team's visits for the day, ordered into a short route.

    Writes the list as CSV, as a printable HTML page and as an offline map of the route.
    Takes the team's open field-test tickets from the store (the most urgent first, up to
    --max-stops), orders them by a Christofides / nearest-neighbour route improved by 2-opt
    on straight-line distances, and prints each stop with ticket, place, arrival and due
    time, what to test and the evidence, and the route length against the same visits in
    due-time order.

    \b
    Example:
      netdiag dispatch --team field-Nanshan --date 2026-11-03 \\
              --start 22.5329,113.9305 --db netdiag.db --out out/dispatch
    """
    from netdiag.cli.tickets import open_store
    from netdiag.tickets.dispatch import plan_dispatch
    from netdiag.views.dispatch_list import plan_json, plan_text, write_dispatch
    from netdiag.views.writers import json_text

    if out:
        from netdiag.views.leaflet import check_tiles

        check_tiles(tiles)
    with open_store(state, db) as store:
        plan = plan_dispatch(store, team, date=date, start=start, settings=state.settings_for_store(store), max_stops=max_stops)
    written = write_dispatch(plan, out, overwrite=overwrite, route_map=True, tiles=tiles) if out else []
    if fmt == "json":
        echo_text(json_text(plan_json(plan, written)))
        return
    echo_text(plan_text(plan))
    for path in written:
        state.echo(f"wrote {path}")
