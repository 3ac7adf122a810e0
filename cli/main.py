"""The ``netdiag`` command group."""
from __future__ import annotations

import click

from netdiag import __version__
from netdiag.cli.options import State, configure_logging

COMMANDS = {
    "validate": "netdiag.cli.validate:validate",
    "prepare": "netdiag.cli.prepare:prepare",
    "diagnose": "netdiag.cli.diagnose:diagnose",
    "check": "netdiag.cli.check:check",
    "serve": "netdiag.cli.serve:serve",
    "sample": "netdiag.cli.sample:sample",
    "demo": "netdiag.cli.demo:demo",
    "settings": "netdiag.cli.settings_cmd:settings",
    "map": "netdiag.cli.map:map_command",
    "report": "netdiag.cli.report:report",
    "tickets": "netdiag.cli.tickets:tickets",
    "dispatch": "netdiag.cli.dispatch:dispatch",
    "import": "netdiag.cli.import_cmd:import_command",
    "evaluate": "netdiag.cli.evaluate:evaluate",
}


class LazyGroup(click.Group):
    """Imports a command's module only when it runs, so ``netdiag --help`` is instant."""

    def resolve_command(self, ctx, args):
        name = args[0] if args else None
        if name is not None and not name.startswith("-") and name not in COMMANDS:
            import difflib

            close = difflib.get_close_matches(name, list(COMMANDS), n=1, cutoff=0.6)
            hint = f" Did you mean '{close[0]}'?" if close else f" Commands: {', '.join(sorted(COMMANDS))}."
            ctx.fail(f"No such command '{name}'.{hint}")
        return super().resolve_command(ctx, args)

    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None  # resolve_command below says what was meant
        import importlib

        module, attr = COMMANDS[name].split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="netdiag")
@click.option("-v", "--verbose", count=True, help="More log detail on stderr (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors; no progress or summaries.")
@click.option("--config", type=click.Path(dir_okay=False, exists=True), help="TOML file of settings (see `netdiag settings`).")
@click.option("--set", "assignments", multiple=True, metavar="NAME=VALUE", help="Override one setting, e.g. --set lookback_h=48. Repeatable.")
@click.option("--tz", metavar="ZONE", help="Time zone of the data's naive timestamps and of every time shown, e.g. "
              "Asia/Shanghai or +08:00. Default: the data's own zone (a netdiag.toml in the data folder, or the one "
              "offset its times carry), else UTC. --set display_tz=ZONE changes only the times shown.")
@click.pass_context
def cli(ctx, verbose, quiet, config, assignments, tz):
    """netdiag: which network element is to blame for a coverage complaint, and what to do.

    \b
    Quick start:
      netdiag validate --data sample_data              check a data directory
      netdiag demo --data sample_data --out out/demo   the whole job on the sample data
      netdiag sample my_city --sites 300               write a synthetic data set

    A data directory holds one file per table (sites, cells, repeaters, transport, events,
    load, complaints) as .csv, .parquet, .geojson or layers of network.gpkg; see README.md.
    """
    from netdiag.cli.options import UsageFailure, parse_assignments
    from netdiag.errors import InputError

    configure_logging(verbose, quiet)
    overrides = parse_assignments(assignments)
    if tz:
        overrides["tz"] = tz
    state = State(verbosity=verbose, quiet=quiet, config=config, overrides=overrides)
    try:
        state.settings()  # validate early: a bad --set fails before any work
    except InputError as exc:
        raise UsageFailure(str(exc)) from None
    ctx.obj = state


def main():  # pragma: no cover - console entry point
    cli()


if __name__ == "__main__":  # python -m netdiag.cli.main
    main()
