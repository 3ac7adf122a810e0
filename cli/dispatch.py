"""``netdiag dispatch``: a field team's visits for the day, in a short route, as CSV and HTML."""
from __future__ import annotations

import click

from netdiag.cli.options import UsageFailure, echo_text, engine_errors, out_folder_option, overwrite_opt, pass_state
from netdiag.cli.tickets import db_opt, who_opt


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
@click.option("--reveal-customers", "reveal_customers", is_flag=True,
              help="Show the complainants' full numbers on this team's list (the CSV and printable page in --out; "
                   "never the map, the screen or JSON), each reveal written to the ticket's history. Refused unless "
                   "the setting dispatch_reveal_customer is true; the numbers come from --data.")
@click.option("--data", "data_dir", metavar="DATA_DIR", type=click.Path(exists=True, file_okay=False),
              help="With --reveal-customers: the data folder the complaints came from (the store keeps masked numbers "
                   "only); only the listed complaints' numbers are kept.")
@who_opt
@overwrite_opt
@pass_state
@engine_errors
def dispatch(state, team, date, start, db, out, tiles, max_stops, fmt, reveal_customers, data_dir, who, overwrite):
    """A field team's visits for the day, ordered into a short route.

    Writes the list as CSV, as a printable HTML page and as an offline map of the route.
    Takes the team's open field-test tickets from the store (the most urgent first, up to
    --max-stops), orders them by a Christofides / nearest-neighbour route improved by 2-opt
    on straight-line distances, and prints each stop with ticket, place, arrival and due
    time, what to test and the evidence, and the route length against the same visits in
    due-time order. Each stop has its position in WGS-84 and GCJ-02 (what Chinese map apps
    show) with a link to a map app, and its nearest site and district. Customer numbers are
    masked unless --reveal-customers is given and the setting dispatch_reveal_customer allows it.

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
    if data_dir and not reveal_customers:
        raise UsageFailure("--data is read only with --reveal-customers (for the customers' numbers)")
    with open_store(state, db) as store:
        settings = state.settings_for_store(store)
        if reveal_customers:
            _check_reveal(settings, out, data_dir)
        plan = plan_dispatch(store, team, date=date, start=start, settings=settings, max_stops=max_stops)
        if reveal_customers:
            from netdiag.tickets.dispatch import read_customer_numbers, reveal_customers as reveal

            numbers = read_customer_numbers(data_dir, _read_by_store(store, plan.complaints, data_dir))
            plan = reveal(plan, numbers, settings=settings)
            if not plan.reveals:
                click.echo("no customer number of this list is in --data: every number stays masked", err=True)
        written = write_dispatch(plan, out, overwrite=overwrite, route_map=True, tiles=tiles, store=store,
                                 who=who) if out else []
    if fmt == "json":
        echo_text(json_text(plan_json(plan, written)))
        return
    echo_text(plan_text(plan))
    far = plan.stops["leg_km"].iloc[0] if start and len(plan.stops) else 0.0
    if far > FAR_START_KM:  # a typo (swapped or wrong coordinates) sends the team across the country
        click.echo(f"Warning: --start is {far:,.0f} km from the first visit; check it (LAT,LON in WGS-84)", err=True)
    for path in written:
        state.echo(f"wrote {path}")
    if plan.reveals:
        state.echo(f"customer numbers shown for {sum(map(len, plan.reveals.values()))} complaint(s) of "
                   f"{len(plan.reveals)} ticket(s), each written to its ticket's history")


#: a start farther than this from the first visit is most likely a typo
FAR_START_KM = 100.0


def _read_by_store(store, complaints, data_dir) -> list[str]:
    """The complaints of the list whose numbers ``data_dir`` may give: those linked by a run that read that
    very folder (the store records each run's folder). Another folder, whose numbers may merely end in
    the same four digits as the masked ones, gives none."""
    import os

    runs = store.run_sources()
    here = os.path.realpath(data_dir)
    same = [bool(runs.get(r)) and os.path.realpath(runs[r]) == here for r in complaints["run_id"]]
    return complaints.loc[same, "complaint_id"].tolist()


def _check_reveal(settings, out, data_dir) -> None:
    """--reveal-customers is allowed by the setting, writes the list (--out) and has the numbers (--data)."""
    from netdiag.tickets.dispatch import check_reveal_allowed

    check_reveal_allowed(settings)  # the engine's InputError names the flag (engine_errors)
    if not out:
        raise UsageFailure("--reveal-customers shows the numbers only on the team's list files: give --out")
    if not data_dir:
        raise UsageFailure("--reveal-customers needs --data DATA_DIR, the data folder the complaints came from: "
                           "the ticket store keeps the customers' numbers masked only")
