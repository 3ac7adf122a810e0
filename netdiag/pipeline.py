"""The orchestrator: the layers composed into the jobs people run.

- :func:`diagnose`: the network prepared (:mod:`netdiag.engine.network`), every complaint
  diagnosed (:mod:`netdiag.engine.diagnose`), then grouped into tickets, within the run
  (:mod:`netdiag.tickets.grouping`) or across runs in a ticket store (:mod:`netdiag.tickets.store`);
- :func:`run_demo`: what ``make demo`` and ``netdiag demo`` run: read and validate, diagnose
  into a ticket store, a field team's dispatch list, two maps, the weekly and monthly reports,
  each stage's summary reported through ``echo`` as it goes.

This is the one module that may import every layer (except the CLI).
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from netdiag.data.schema import CAUSES
from netdiag.engine.diagnose import DIAGNOSIS_COLUMNS, diagnose_complaints
from netdiag.engine.network import Network, prepare
from netdiag.settings import Settings

log = logging.getLogger(__name__)

#: the maps the demo draws: file name, map time (None = the latest complaint)
DEMO_MAPS = (("netdiag.html", None), ("worst.html", "worst"))
#: the periods the demo reports on
DEMO_PERIODS = ("week", "month")


@dataclass
class Result:
    """What ``netdiag diagnose`` produces."""

    diagnoses: pd.DataFrame  # contract columns first, then detail columns
    tickets: pd.DataFrame
    rejected: pd.DataFrame
    network: Network

    def summary(self) -> dict:
        d = self.diagnoses
        return {
            "complaints": int(len(d)),
            "by_cause": {c: int(v) for c, v in d["cause"].value_counts().reindex(list(CAUSES), fill_value=0).items()},
            "by_action": {a: int(v) for a, v in d["action"].value_counts().items()},
            "tickets": int(len(self.tickets)),
            "rejected_rows": int(len(self.rejected)),
        }


def diagnose(ds, *, settings: Settings | None = None, network: Network | None = None,
             progress: Callable[[str], None] | None = None, store=None, who: str | None = None, engine=None) -> Result:
    """Diagnose every accepted complaint of ``ds`` and group the diagnoses into tickets.

    Parameters
    ----------
    ds : Dataset
        From :func:`netdiag.data.dataset.load_dataset`.
    settings : Settings, optional
        Defaults to ``ds.settings``.
    network : Network, optional
        A prepared network (:func:`netdiag.engine.network.prepare`) to reuse.
    store : netdiag.tickets.store.TicketStore, optional
        Keep the tickets in this store: complaints join the open ticket of their root element
        and cause across runs, ended outages are resolved, and ``ticket_id`` is the store's.
        Without a store, tickets are grouped within this run only.
    who : str, optional
        Recorded in the store's history (default: the login name).
    engine : optional
        Where the counters are read (:mod:`netdiag.engine.engines`); default this process.

    Returns
    -------
    Result
        ``diagnoses`` (one row per diagnosed complaint), ``tickets`` (the tickets of these
        complaints; with a store, ``tickets.attrs["store_run"]`` says what the run changed),
        ``rejected`` (the data set's rejected rows plus complaints outside the network's area).

    Examples
    --------
    >>> from netdiag.data.dataset import load_dataset
    >>> res = diagnose(load_dataset("sample_data"))          # doctest: +SKIP
    >>> res.diagnoses["cause"].value_counts()                # doctest: +SKIP
    """
    from netdiag.engine.actions import replies_by_tickets
    from netdiag.tickets.grouping import build_tickets, data_as_of

    settings = settings or ds.settings
    net = network or prepare(ds, settings=settings, progress=progress, engine=engine)
    # the replies are written once the tickets are known: they promise what each ticket says
    diag, rejected = diagnose_complaints(ds, net, settings=settings, progress=progress, replies=False)
    if progress:
        progress("tickets")
    if store is None:
        diag, tickets = build_tickets(net, diag, settings=settings, as_of=data_as_of(ds))
    else:
        diag, tickets, report = store.record(net, diag, settings=settings, as_of=data_as_of(ds), who=who,
                                             source=os.path.abspath(ds.data_dir))  # found from any folder
        tickets.attrs["store_run"] = {**report.as_dict(), "text": report.text(), "store": str(store.path)}
    diag = replies_by_tickets(net, diag, tickets)
    diag = diag[DIAGNOSIS_COLUMNS + [c for c in diag.columns if c not in DIAGNOSIS_COLUMNS]]
    log.info("diagnosed %d complaints into %d tickets", len(diag), len(tickets))
    return Result(diag, tickets, rejected, net)


def with_store_tickets(result: Result, store) -> Result:
    """``result`` with the lasting tickets of ``store`` in place of the run's own grouping, read only.

    Each complaint's ``ticket_id`` is the store's ticket it is linked to, or empty when no
    ``diagnose --db`` run has linked it yet; ``tickets`` are the store's tickets of the
    result's complaints, as people left them (status, priority, resolution). ``tickets.attrs
    ["store"]`` says which store and how many complaints it has not linked yet. For views
    (``map --db``, ``report --db``) that show what handlers see, without writing anything.
    """
    import dataclasses

    ids = result.diagnoses["complaint_id"].astype(str)
    with store.read() as c:
        links = store.links(ids.tolist(), conn=c)
        tickets = store.tickets(ids=sorted(set(links.values())), conn=c)
    diagnoses = result.diagnoses.assign(ticket_id=ids.map(links).fillna("").to_numpy())
    tickets.attrs["store"] = {"store": str(store.path), "complaints": len(ids), "unlinked": int((diagnoses["ticket_id"] == "").sum())}
    return dataclasses.replace(result, diagnoses=diagnoses, tickets=tickets)


@dataclass
class DemoRun:
    """What :func:`run_demo` wrote."""

    written: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    def text(self) -> str:
        return "\n".join([f"  {path}" for path in self.written] + [f"done in {self.seconds:.1f} s"])


def run_demo(data_dir, out, maps_dir, *, settings: Settings, overwrite: bool = False,
             echo: Callable[[str], None] = print, progress: Callable[[str], None] | None = None) -> DemoRun:
    """Validate, diagnose into a ticket store, plan one field team's day, draw the maps, write the reports.

    Parameters
    ----------
    data_dir : path
        The data directory.
    out : path
        Folder for the diagnosis files, the ticket store ``netdiag.db`` (kept across runs: a
        second run changes nothing in it), the dispatch list and the reports.
    maps_dir : path
        Folder for ``netdiag.html`` (status at the latest complaint) and ``worst.html``.
    settings : Settings
    overwrite : bool
        Replace earlier outputs. Every output is checked before any work starts.
    echo, progress : callable
        Receive the stage summaries (``echo``) and short progress notes (``progress``).

    Returns
    -------
    DemoRun
    """
    from netdiag.data.dataset import load_dataset
    from netdiag.data.display import display_zone, settings_for_data
    from netdiag.tickets.dispatch import busiest_field_day, plan_dispatch
    from netdiag.tickets.store import TicketStore
    from netdiag.views.dispatch_list import write_dispatch
    from netdiag.views.leaflet import save_map
    from netdiag.views.map import build_map
    from netdiag.views.period_report import analyse
    from netdiag.views.report_pages import REPORT_PAGES, write_report
    from netdiag.views.summaries import summary_text, validation_summary
    from netdiag.views.writers import (
        JSON_FILES,
        OUTPUT_FILES,
        ensure_writable,
        prepare_out_dir,
        refuse_existing,
        write_diagnosis,
    )

    say = progress or (lambda _text: None)
    started = time.perf_counter()
    if not settings.display_tz:  # called from Python: the data's own zone, as the command line does
        settings = settings_for_data(settings, data_dir)
    out = prepare_out_dir(out, OUTPUT_FILES + JSON_FILES, overwrite=overwrite)
    maps = Path(maps_dir)
    for name, _at in DEMO_MAPS:
        ensure_writable(maps / name, overwrite=overwrite)
    for period in DEMO_PERIODS:
        refuse_existing(out / f"report-{period}", REPORT_PAGES, overwrite=overwrite)
    run = DemoRun()

    ds = load_dataset(data_dir, settings=settings, load_window="complaints", progress=progress)
    echo("== validation ==")
    echo(validation_summary(ds))
    with TicketStore(out / "netdiag.db", settings=settings) as store:
        result = diagnose(ds, settings=settings, progress=progress, store=store, who="netdiag demo")
        write_diagnosis(result, out, json=True)
        echo("\n== diagnosis ==")
        echo(summary_text(result))
        echo(f"ticket store: {result.tickets.attrs['store_run']['text']}")
        run.written += [out / name for name in OUTPUT_FILES] + [out / "netdiag.db"]
        echo("\n== dispatch ==")
        team, day = busiest_field_day(result.tickets, display_zone(settings))
        if team:
            plan = plan_dispatch(store, team, date=day, settings=settings)
            echo(plan.summary())
            run.written += write_dispatch(plan, out, overwrite=True, route_map=True)
        else:
            echo("no field-test visits")

    echo("\n== maps and reports ==")
    for name, at in DEMO_MAPS:
        say(f"drawing {maps / name}")
        run.written.append(save_map(build_map(ds, result, at=at, title="netdiag demo"), maps / name, overwrite=overwrite))
    if len(result.diagnoses):
        for period in DEMO_PERIODS:
            say(f"{period} report")
            folder = out / f"report-{period}"
            write_report(analyse(result, period=period, settings=settings), folder, overwrite=overwrite)
            run.written.append(folder / "report.html")
    else:
        echo("  no complaints diagnosed: no reports")
    run.seconds = time.perf_counter() - started
    return run
