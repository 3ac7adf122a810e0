"""``netdiag import``: convert an operator's own export into the contract's tables."""
from __future__ import annotations

import click

from netdiag.cli.options import UsageFailure, echo_text, engine_errors, format_opt, overwrite_opt, pass_state

KIND_NAMES = ["params", "alarms", "counters", "opencellid", "complaints"]


def _list_profiles(ctx, _param, value):
    if not value or ctx.resilient_parsing:
        return
    from netdiag.importers.profile import starter_profiles

    for name, text in starter_profiles().items():
        click.echo(f"{name:16s} {text}")
    click.echo("alarm_dictionary  the starter alarm dictionary (--dictionary)")
    ctx.exit()


@click.command("import")
@click.argument("kind", type=click.Choice(KIND_NAMES), metavar="KIND")
@click.argument("source", type=click.Path(dir_okay=False), metavar="SOURCE")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), metavar="DATA_DIR",
              help="The data directory to write the contract tables into (created if needed).")
@click.option("--profile", metavar="PROFILE",
              help="A profile .toml file, or a starter profile's name (see --list-profiles); "
                   "default: the kind's starter profile (params_cn, alarms_cn, counters_cn, opencellid, complaints_cn).")
@click.option("--sheet", metavar="NAME", help="The sheet of an .xlsx workbook (default: the first).")
@click.option("--dictionary", metavar="FILE", help="alarms: the alarm dictionary .toml (default: the starter one).")
@click.option("--inventory", type=click.Path(file_okay=False), metavar="OTHER_DATA_DIR",
              help="alarms: the data directory whose sites.csv/cells.csv resolve alarms that name their network "
                   "element (网元名称, cell name, local cell id) instead of giving its id; default DATA_DIR.")
@click.option("--mcc", type=click.IntRange(0, 999), help="opencellid: keep this mobile country code only (460 = China).")
@click.option("--mnc", type=click.IntRange(0, 999), help="opencellid: keep this network code only (0 = China Mobile).")
@click.option("--bbox", metavar="W,S,E,N", help="opencellid: keep cells inside this lon/lat box.")
@click.option("--list-profiles", is_flag=True, expose_value=False, is_eager=True, callback=_list_profiles,
              help="List the starter profiles and exit.")
@click.option("--append", is_flag=True,
              help="params, alarms, complaints: add the rows to the tables already in DATA_DIR (e.g. a second OMC "
                   "vendor's alarms into the same events.csv); a row whose id is already there is rejected.")
@overwrite_opt
@format_opt
@pass_state
@engine_errors
def import_command(state, kind, source, out, profile, sheet, dictionary, inventory, mcc, mnc, bbox, append, overwrite,
                   fmt):
    """Convert an operator's export (KIND) in SOURCE into contract tables in DATA_DIR.

    \b
    KIND is one of:
      params      工参表 (engineering parameters)  -> cells.csv, sites.csv
      alarms      OMC 告警流水 + alarm dictionary  -> events.csv
      counters    PM counters, wide layout         -> load.csv (streamed)
      opencellid  OpenCelliD cells (--mcc/--mnc/--bbox) -> cells.csv, sites.csv
      complaints  complaint export (工单号, 受理时间, ...) -> complaints.csv

    SOURCE is CSV (UTF-8, UTF-16, GB18030/GBK) or .xlsx (merged header cells understood). A
    profile (TOML) maps the export's columns, units, id rules, time zone and words onto the
    contract. Every row is converted or listed with a reason in DATA_DIR/import/KIND-rejected.csv;
    DATA_DIR/import/KIND-summary.json says what was mapped, defaulted and dropped.

    \b
    A first day with an operator's exports:
      netdiag import params 工参表.xlsx --out mydata
      netdiag import alarms 告警流水.csv --out mydata
      netdiag import counters pm_hourly.csv --out mydata
      netdiag import complaints 投诉工单.xlsx --out mydata
      netdiag import alarms zte_alarms.csv --profile zte.toml --out mydata --append   # a second vendor
      netdiag import alarms 告警流水.csv --out alarms_only --inventory mydata   # NE names -> mydata's ids

    \b
    Example (the starter complaint profile reads the contract's own names too):
      netdiag import complaints sample_data/complaints.csv --out mydata
    """
    from netdiag.importers import import_export, summary_text

    box = None
    if bbox:
        if kind != "opencellid":
            raise UsageFailure("--bbox filters OpenCelliD exports only (KIND opencellid)")
        from netdiag.data.coords import parse_bbox

        box = parse_bbox(bbox)
    if (mcc is not None or mnc is not None) and kind != "opencellid":
        raise UsageFailure("--mcc/--mnc filter OpenCelliD exports only (KIND opencellid)")
    if dictionary and kind != "alarms":
        raise UsageFailure("--dictionary is for alarm exports only (KIND alarms)")
    if inventory and kind != "alarms":
        raise UsageFailure("--inventory resolves the NE names of alarm exports only (KIND alarms)")
    result = import_export(kind, source, out, profile=profile, sheet=sheet, dictionary=dictionary,
                           mcc=mcc, mnc=mnc, bbox=box, overwrite=overwrite, append=append,
                           inventory=inventory or None)
    if fmt == "json":
        from netdiag.views.writers import json_text

        echo_text(json_text(result.summary))
    else:
        state.echo(summary_text(result))
        state.echo(f"  report: {', '.join(str(p) for p in result.report_files)}")
