"""``netdiag tickets``: list, show, update, close and export the tickets of a ticket store."""
from __future__ import annotations

from pathlib import Path

import click

from netdiag.cli.options import StorePath, echo_text, engine_errors, out_file_option, overwrite_opt, pass_state
from netdiag.data.schema import CAUSES
from netdiag.tickets.lifecycle import KINDS, PRIORITIES, STATUSES

STATUS_CHOICES = ["open", *STATUSES]
PRIORITY_CHOICES = list(PRIORITIES)

db_opt = click.option("--db", type=StorePath(), envvar="NETDIAG_DB", metavar="STORE", default="netdiag.db",
                      show_default=True,
                      help="The ticket store: a SQLite file, or postgresql://USER@HOST/DATABASE (password in "
                           "~/.pgpass); also $NETDIAG_DB.")
who_opt = click.option("--who", help="Who acts, recorded in the history (default $NETDIAG_USER or the login name).")
why_opt = click.option("--why", help="Why, recorded in the history.")


def filter_opts(func):
    """--status, --team, --priority, --cause, --kind, --region, --bbox."""
    for opt in reversed([
        click.option("--status", multiple=True, type=click.Choice(STATUS_CHOICES, case_sensitive=False),
                     help="Only these statuses (repeatable); 'open' = acknowledged, inProgress, pending, held."),
        click.option("--team", help="Only this team, e.g. field-West."),
        click.option("--priority", multiple=True, type=click.Choice(PRIORITY_CHOICES, case_sensitive=False), help="Only these priorities (repeatable)."),
        click.option("--cause", multiple=True, type=click.Choice(list(CAUSES), case_sensitive=False), help="Only these causes (repeatable)."),
        click.option("--kind", type=click.Choice(list(KINDS), case_sensitive=False), help="Only this kind of ticket."),
        click.option("--region", help="Only this region (district / grid)."),
        click.option("--bbox", metavar="MIN_LON,MIN_LAT,MAX_LON,MAX_LAT", help="Only tickets inside this box (WGS-84)."),
    ]):
        func = opt(func)
    return func


def _ticket_id(_ctx, _param, value: str) -> str:
    """Ticket ids in any case: ``ts-20261102-0001`` is ``TS-20261102-0001``."""
    return value.strip().upper()


def _filters(status, team, priority, cause, kind, region, bbox) -> dict:
    from netdiag.data.coords import parse_bbox

    return {"status": list(status) or None, "team": team, "priority": list(priority) or None, "cause": list(cause) or None,
            "kind": kind, "region": region, "bbox": parse_bbox(bbox) if bbox else None}


def open_store(state, db: str):
    """The store of ``--db``; it must exist and be a ticket store (only ``diagnose`` and ``demo`` create one).

    A store this user may not write is opened read-only: listing works, and an update is a
    one-line error saying why (the file, its folder, or a -wal / -shm of another user).
    """
    from netdiag.tickets.store import TicketStore

    return TicketStore(db, settings=state.settings(), create=False)


@click.group()
def tickets():
    """Tickets that live: list, show, update, close, export (see `netdiag diagnose --db`).

    A ticket store is one SQLite file, or a PostgreSQL database a NOC shift shares
    (--db postgresql://USER@HOST/DATABASE), written by `netdiag diagnose --data DATA --out FOLDER --db STORE`.
    Statuses follow TM Forum TMF621: acknowledged -> inProgress / pending / held -> resolved
    -> closed; cancelled from any open status; a resolved ticket can be re-opened.

    \b
    Examples:
      netdiag tickets list --db netdiag.db --status open --team field-Nanshan
      netdiag tickets show TS-20261102-0001 --db netdiag.db
      netdiag tickets update TS-20261102-0001 --status pending --who li.wei --why "waiting for site access"
      netdiag tickets export --db netdiag.db --format gpkg --out tickets.gpkg
      netdiag tickets migrate --from netdiag.db --to postgresql://noc@db.noc.local/netdiag
    """


@tickets.command("list")
@db_opt
@filter_opts
@click.option("--limit", type=click.IntRange(1), help="At most this many tickets (the oldest first).")
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "json"]), default="text", show_default=True,
              help="A table for people, or CSV / TMF621 JSON on stdout.")
@pass_state
@engine_errors
def list_cmd(state, db, status, team, priority, cause, kind, region, bbox, limit, fmt):
    """List tickets, oldest first; open tickets past their due time are flagged with '!'.

    \b
    Example:
      netdiag tickets list --db netdiag.db --status open --priority P1 --priority P2
    """
    from netdiag.data.display import display_zone
    from netdiag.tickets.tmf621 import tickets_tmf621
    from netdiag.views.ticket_text import format_table
    from netdiag.views.writers import csv_text, json_text

    with open_store(state, db) as store:
        t = store.tickets(**_filters(status, team, priority, cause, kind, region, bbox))
        zone = display_zone(state.settings_for_store(store))
    if limit:
        t = t.head(limit)
    if fmt == "csv":
        echo_text(csv_text(t), nl=False)
    elif fmt == "json":
        echo_text(json_text(tickets_tmf621(t)))
    else:
        echo_text(format_table(t, tz=zone))
        if len(t):
            state.echo(f"\n{len(t):,} tickets")


@tickets.command()
@click.argument("ticket_id", callback=_ticket_id)
@db_opt
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="For people, or one TMF621 Trouble Ticket as JSON.")
@pass_state
@engine_errors
def show(state, ticket_id, db, fmt):
    """Show one ticket: facts, evidence, complaints (masked), status history and notes.

    \b
    Example:
      netdiag tickets show TS-20261102-0001 --db netdiag.db
    """
    from netdiag.data.display import display_zone
    from netdiag.tickets.tmf621 import shown_tmf621
    from netdiag.views.ticket_text import format_ticket
    from netdiag.views.writers import json_text

    with open_store(state, db) as store:
        shown = store.show(ticket_id)
        zone = display_zone(state.settings_for_store(store))
    if fmt == "json":
        echo_text(json_text(shown_tmf621(shown)))
    else:
        echo_text(format_ticket(shown, tz=zone))


@tickets.command()
@click.argument("ticket_id", callback=_ticket_id)
@db_opt
@click.option("--status", type=click.Choice(STATUS_CHOICES[1:], case_sensitive=False), help="The new status (the move must be allowed).")
@click.option("--priority", type=click.Choice(PRIORITY_CHOICES, case_sensitive=False), help="Set the priority by hand (later runs keep it).")
@click.option("--team", help="Reassign to this team.")
@click.option("--note", help="Add a note.")
@who_opt
@why_opt
@click.option("--expect-revision", type=int, help="Refuse if the ticket changed since you saw this revision.")
@pass_state
@engine_errors
def update(state, ticket_id, db, status, priority, team, note, who, why, expect_revision):
    """Change a ticket's status, priority or team, or add a note; --who/--why go to the history.

    A status change the life cycle does not allow is refused with the reason (exit code 2).

    \b
    Example:
      netdiag tickets update TS-20261102-0001 --db netdiag.db --status inProgress \\
              --who li.wei --why "tester on the way"
    """
    from netdiag.views.ticket_text import change_text

    with open_store(state, db) as store:
        before = store.show(ticket_id)["ticket"]
        after = store.update(ticket_id, status=status, priority=priority, team=team, note=note, who=who, why=why,
                             expect_revision=expect_revision)["ticket"]
    state.echo(change_text(ticket_id, before, after, priority=priority, note=note))


@tickets.command()
@click.argument("ticket_id", callback=_ticket_id)
@db_opt
@who_opt
@why_opt
@pass_state
@engine_errors
def close(state, ticket_id, db, who, why):
    """Close a resolved ticket (after the call-back to the customer).

    \b
    Example:
      netdiag tickets update TS-20261102-0001 --db netdiag.db --status resolved --why "cell reset"
      netdiag tickets close TS-20261102-0001 --db netdiag.db --who li.wei --why "customer satisfied"
    """
    with open_store(state, db) as store:
        store.close_ticket(ticket_id, who=who, why=why)
    state.echo(f"{ticket_id}: closed")


@tickets.command()
@db_opt
@filter_opts
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "geojson", "gpkg"]), default="csv", show_default=True,
              help="csv (Excel), json (TMF621 Trouble Tickets with history and notes), geojson or gpkg (points for QGIS).")
@out_file_option(required=True, help="The file to write (its folders are created).")
@overwrite_opt
@pass_state
@engine_errors
def export(state, db, status, team, priority, cause, kind, region, bbox, fmt, out, overwrite):
    """Export tickets as CSV, TMF621 JSON, GeoJSON or GeoPackage (a point layer for QGIS).

    \b
    Example:
      netdiag tickets export --db netdiag.db --status open --format gpkg --out out/tickets.gpkg
    """
    from netdiag.views.writers import export_tickets

    with open_store(state, db) as store:
        n = export_tickets(store, out, fmt=fmt, overwrite=overwrite, **_filters(status, team, priority, cause, kind, region, bbox))
    state.echo(f"wrote {n:,} tickets to {out}")


@tickets.command()
@click.option("--from", "source", type=StorePath(), required=True, metavar="STORE",
              help="The store to copy: a SQLite file or postgresql://USER@HOST/DATABASE.")
@click.option("--to", "target", type=StorePath(), required=True, metavar="STORE",
              help="The new store: a new SQLite file, or a PostgreSQL database (or schema) without netdiag tickets.")
@pass_state
@engine_errors
def migrate(state, source, target):
    """Copy a ticket store to another back end, with every ticket's complaints, history and notes.

    Ticket ids, run ids and the order of history and notes stay as they are. The source is
    read in one snapshot and the target written in one transaction: a copy that fails leaves
    it as it was. The target must hold no tickets yet; nothing is merged.

    \b
    Examples (a copy of a file; a desk's store moved to the shift's server, and back):
      netdiag tickets migrate --from netdiag.db --to backup/netdiag-copy.db
      netdiag tickets migrate --from netdiag.db --to postgresql://noc@db.noc.local/netdiag
      netdiag tickets migrate --from postgresql://noc@db.noc.local/netdiag --to backup.db
    """
    from netdiag.tickets.store import TicketStore, migrate as moving
    from netdiag.tickets.store.files import siblings, url_scheme

    new_file = None if url_scheme(target) else Path(target)
    new_file = new_file if new_file is not None and not new_file.exists() else None
    with open_store(state, source) as src:
        try:
            with TicketStore(target, settings=state.settings()) as dst:
                copied = moving.copy_store(src, dst, progress=state.progress())
        except BaseException:
            if new_file is not None:  # a file this command made, left empty by the failed copy
                for f in (new_file, *siblings(new_file)):
                    f.unlink(missing_ok=True)
            raise
        state.echo(f"copied {copied['tickets']:,} tickets, {copied['complaints']:,} complaints, "
                   f"{copied['history']:,} history rows, {copied['notes']:,} notes and {copied['runs']:,} runs "
                   f"from {src.path} to {dst.path}")


@tickets.command()
@db_opt
@pass_state
@engine_errors
def init(state, db):
    """Create an empty ticket store (or bring an older one to this netdiag's schema) and say which version it has.

    `netdiag diagnose --db` creates a store by itself; on a shared PostgreSQL server the
    store's owner role runs this once, before the other roles are granted their rights on
    its tables (see the README's "A store for a NOC shift").

    \b
    Examples:
      netdiag tickets init --db netdiag.db
      netdiag tickets init --db postgresql://noc_owner@db.noc.local/noc
    """
    from netdiag.tickets.store import TicketStore

    with TicketStore(db, settings=state.settings()) as store:
        n = store.conn.tuples("SELECT count(*) FROM tickets")[1][0][0]
        state.echo(f"ticket store {store.path}: schema version {store.schema_version()}, {n:,} tickets")
