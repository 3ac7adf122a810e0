"""``netdiag check``: what serves one spot and what is wrong with it, for a handler on the phone."""
from __future__ import annotations

import click

from netdiag.cli.options import StorePath, data_dir_option, echo_text, engine_errors, format_opt, pass_state

#: how a query line (LAT,LON[,TIME[,SYSTEM[,indoor]]]) names what the library calls a parameter
QUERY_FIELDS = {"lat": "LAT", "lon": "LON", "at": "TIME", "coord_system": "SYSTEM"}


@click.command()
@data_dir_option
@click.option("--lat", type=float, help="Latitude of the spot (without --lat/--lon: one query per line on stdin).")
@click.option("--lon", type=float, help="Longitude of the spot.")
@click.option("--coord-system", default="wgs84", show_default=True, help="wgs84, gcj02 (most Chinese map apps) or bd09 (Baidu).")
@click.option("--at", "at", metavar="TIME", help="When (ISO 8601; without an offset, on the clock of the display zone, named on the first line). Default: now.")
@click.option("--indoor", is_flag=True, help="The problem is indoors (indoor cells count).")
@click.option("--db", type=StorePath(exists=True), envvar="NETDIAG_DB", metavar="STORE",
              help="The ticket store (a SQLite file or postgresql://USER@HOST/DATABASE; also $NETDIAG_DB), to find "
                   "an open ticket for the same fault.")
@click.option("--tickets", "tickets", type=click.Path(dir_okay=False), help="Or the tickets.csv of a diagnose run.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="en", show_default=True, help="Language of the customer reply.")
@click.option("--no-server", is_flag=True, help="Do not ask a running `netdiag serve`; read the data here.")
@format_opt
@pass_state
@engine_errors
def check(state, data_dir, lat, lon, coord_system, at, indoor, db, tickets, lang, no_server, fmt):
    """Check one spot: serving cells, their status, alarms, load, verdict and reply.

    With --lat and --lon, answers that spot and exits; when `netdiag serve --data DATA` is
    running it answers at once, otherwise this reads the data first (a few seconds). Without
    --lat/--lon, reads the network once and then answers one query per line from stdin,
    LAT,LON[,TIME[,SYSTEM[,indoor]]], each in a fraction of a second.

    \b
    Examples:
      netdiag check --data sample_data --lat 22.5431 --lon 114.0579 \\
                    --coord-system gcj02 --at 2026-11-05T20:30+08:00 --lang zh
      echo "22.5431,114.0579,2026-11-05T20:30+08:00,gcj02" | netdiag check --data sample_data --db netdiag.db
    """
    import os
    import sys
    import time

    from netdiag.cli.options import UsageFailure, as_flags
    from netdiag.errors import UnsafeRuntimeError
    from netdiag.views.terminal import terminal_safe

    def print_result(result: dict, *, indent: int | None = 2) -> None:
        from netdiag.views.check_screen import check_json, format_check

        echo_text(check_json(result, indent=indent) if fmt == "json" else format_check(result, lang=lang))

    if (lat is None) != (lon is None):
        raise UsageFailure("give both --lat and --lon, or neither (then queries come one per line on stdin)")
    if lat is not None and not no_server and not tickets:
        # a running `netdiag serve` for this data and these settings answers without the data stack
        from netdiag.service import ask, socket_path
        from netdiag.tickets.address import url_scheme

        query = {"lat": lat, "lon": lon, "coord_system": coord_system, "at": at, "indoor": indoor,
                 "db": (db if url_scheme(db) else os.path.abspath(db)) if db else None}
        try:
            reply = ask(socket_path(data_dir, state.settings().as_dict()), query)  # the settings as given, as `serve` does
        except UnsafeRuntimeError as exc:  # never shown: a server or socket of another user
            echo_text(f"Warning: not asking netdiag serve: {exc}. Checking here instead.", err=True)
            reply = None
        if reply is None:  # on stderr, silenced by -q
            state.echo("(no netdiag serve runs for this data and these settings: reading the data here, a few "
                       "seconds; `netdiag serve --data ...` answers at once)", err=True)
        if reply is not None:
            if not reply.get("ok"):
                raise UsageFailure(as_flags(terminal_safe(str(reply.get("error") or "the netdiag server could not answer"))))
            print_result(reply["result"])
            return

    from netdiag.data.display import display_zone
    from netdiag.data.times import parse_at
    from netdiag.engine.check import check_point, load_network, parse_query
    from netdiag.errors import InputError

    settings, zone_note = state.zone(data_dir)
    at = parse_at(at, display_zone(settings)) if lat is not None else None
    if tickets:
        from netdiag.tickets.grouping import open_tickets_from_csv

        tickets = open_tickets_from_csv(tickets)
    elif db:
        from netdiag.tickets.store import open_tickets

        tickets = open_tickets(db, settings=settings)
    from netdiag.data.manifest import is_workspace

    started = time.perf_counter()
    # one spot: only the counters around its time; of a workspace, only what may serve the spot
    local = is_workspace(data_dir)
    net = None if local else load_network(data_dir, settings, at=at)

    def answer(query: dict) -> None:
        spot = (query["lat"], query["lon"], query["coord_system"])
        network = load_network(data_dir, settings, at=query["at"], near=spot) if local else net
        result = check_point(network, query["lat"], query["lon"], coord_system=query["coord_system"], at=query["at"],
                             indoor=query["indoor"], tickets=tickets, zone_note=zone_note)
        print_result(result, indent=None if lat is None else 2)

    if lat is not None:
        answer({"lat": lat, "lon": lon, "coord_system": coord_system, "at": at, "indoor": indoor})
        return
    interactive = sys.stdin.isatty()
    if interactive:
        echo_text(f"ready in {time.perf_counter() - started:.1f} s. One query per line: "
                   "LAT,LON[,TIME[,SYSTEM[,indoor]]]; an empty line or Ctrl-D ends.", err=True)
    for line in sys.stdin:
        if not line.strip():
            if interactive:
                break
            continue
        try:
            t = time.perf_counter()
            answer(parse_query(line, tz=display_zone(settings)))
            if interactive:
                echo_text(f"({(time.perf_counter() - t) * 1000:.0f} ms)\n", err=True)
        except InputError as exc:  # the query line's own fields, not the command's flags
            echo_text(f"Error: {as_flags(str(exc), names=QUERY_FIELDS)}", err=True)
