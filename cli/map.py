"""``netdiag map``: one self-contained HTML map of the network, complaints, tickets and hotspots."""
from __future__ import annotations

import click

from netdiag.cli.options import (data_dir_option, engine_errors, engine_options, lasting_tickets, open_engine,
                                 out_file_option, overwrite_opt, pass_state, read_store_option)


@click.command("map")
@data_dir_option
@out_file_option(default="maps/netdiag.html", help="The HTML file to write (its folders are created).")
@click.option("--at", "at", metavar="TIME",
              help="Time of the sector status (ISO 8601; without an offset, in the display zone), or 'worst' for the moment with the most "
                   "sectors out of service. Default: the latest complaint of the period.")
@click.option("--from", "start", metavar="TIME", help="Only complaints received from this time (ISO 8601 or a date).")
@click.option("--to", "end", metavar="TIME", help="... and before this time; a date includes that whole day.")
@click.option("--tiles", metavar="URL",
              help="XYZ tile URL of an internal tile server, e.g. http://tiles.noc.local/{z}/{x}/{y}.png. "
                   "Default: no base map, a plain background (works with no network).")
@click.option("--grid", type=click.Choice(["hex", "square"]), default="hex", show_default=True,
              help="Hotspot grid (cell size: setting hotspot_cell_m).")
@click.option("--title", default="netdiag", show_default=True, help="Page title.")
@read_store_option
@engine_options
@overwrite_opt
@pass_state
@engine_errors
def map_command(state, data_dir, out, at, start, end, tiles, grid, title, db, engine, overwrite):
    """Draw the data directory on one HTML map that works offline.

    Layers: sector wedges coloured by status at --at (fault, shutdown, interference,
    congested, in service), sites, repeaters, failed transport nodes with the sites behind
    them, complaints coloured by cause (clustered), tickets, hotspots, a heatmap and a
    heatmap by day. With --db, the tickets are the store's lasting ones, as handlers see
    them. Popups hold the evidence and the ticket; open one directly with
    FILE.html#complaint:ID (or #ticket:ID, #cell:ID, #site:ID).

    \b
    Examples:
      netdiag map --data sample_data
      netdiag map --data sample_data --at worst --out maps/worst.html
      netdiag map --data sample_data --from 2026-11-05 --to 2026-11-07 --out maps/nov5-7.html
      netdiag map --data sample_data --db netdiag.db --out maps/store.html
    """
    import time

    from netdiag.data.dataset import load_dataset
    from netdiag.data.display import display_zone
    from netdiag.pipeline import diagnose
    from netdiag.views.leaflet import save_map
    from netdiag.views.map import build_map, check_map_options, map_summary_text
    from netdiag.views.writers import ensure_writable

    started = time.perf_counter()
    settings = state.settings(data_dir)
    check_map_options(at=at, start=start, end=end, tiles=tiles, tz=display_zone(settings))  # before the long work
    path = ensure_writable(out, overwrite=overwrite)
    ds = load_dataset(data_dir, settings=settings, load_window="complaints", progress=state.progress())
    with open_engine(state, engine, data_dir) as running:
        result = diagnose(ds, settings=settings, progress=state.progress(), engine=running)
    result = lasting_tickets(result, db, settings)
    say = state.progress() or (lambda _text: None)
    say("drawing the map")
    m = build_map(ds, result, at=at, start=start, end=end, tiles=tiles, grid=grid, title=title)
    path = save_map(m, path, overwrite=overwrite)
    state.echo(map_summary_text(m, path, time.perf_counter() - started))
