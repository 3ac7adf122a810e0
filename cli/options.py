"""Shared options and helpers of the netdiag commands (like rasterio's ``rio/options.py``)."""
from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass, field
from functools import wraps

import click


@dataclass
class State:
    """What the group passes to every command."""

    verbosity: int = 0
    quiet: bool = False
    config: str | None = None
    overrides: dict = field(default_factory=dict)

    def settings(self, data_dir=None):
        """The settings of this run as given; with ``data_dir`` (a data folder or workspace), with the
        display zone decided for that data (:func:`netdiag.data.display.settings_for_data`)."""
        return self.zone(data_dir)[0]

    def zone(self, data_dir=None):
        """(:meth:`settings`, a note when the display zone is a guess or a fallback), as
        :func:`netdiag.data.display.decide_zone`."""
        from netdiag.settings import Settings

        if self.config:
            settings = Settings.from_file(self.config, **self.overrides)
        else:
            settings = Settings().with_overrides(self.overrides)
        if data_dir is None:
            return settings, ""
        from netdiag.data.display import decide_zone

        return decide_zone(settings, data_dir, given=self.given())

    def settings_for_store(self, store):
        """The settings of a command that reads only the ticket store: the display zone of the
        data its latest ``diagnose`` run read, when that folder is still there; when it is not
        (moved, or recorded relative to another folder by an older netdiag), a one-line warning
        on stderr names the zone used and how to give one."""
        from netdiag.data.display import display_zone, settings_for_data

        source = _latest_source(store)
        if not source or os.path.isdir(source):
            return self.settings(source)
        settings = settings_for_data(self.settings(), None)
        if not {"tz", "display_tz"} & self.given():
            echo_text(f"Warning: the data folder of the store's latest run ({source[:80]}) is not found from here, "
                      f"so times are shown in {display_zone(settings)}; give the zone with "
                      f"--set display_tz=ZONE (e.g. Asia/Shanghai)", err=True)
        return settings

    def given(self) -> set[str]:
        """The settings a person gave: ``--set``, ``--tz`` and the config file's."""
        names = set(self.overrides)
        if self.config:
            import tomllib

            try:
                with open(self.config, "rb") as fh:
                    data = tomllib.load(fh)
                names |= set(data.get("netdiag", data))
            except (OSError, tomllib.TOMLDecodeError):
                pass  # Settings.from_file has said what is wrong
        return names

    def echo(self, message: str = "", **kwargs) -> None:
        """Human output on stdout (silenced by --quiet); data never becomes a terminal escape."""
        if not self.quiet:
            echo_text(message, **kwargs)

    def progress(self):
        """A callable that reports stages on stderr (silenced by --quiet)."""
        if self.quiet:
            return None
        return lambda text: echo_text(f"  .. {text}", err=True)


pass_state = click.make_pass_decorator(State, ensure=True)


def _latest_source(store) -> str | None:
    """The data folder the store's latest ``diagnose`` run read (None when unknown)."""
    sources = {run: source for run, source in store.run_sources().items() if source}
    return sources[max(sources)] if sources else None


def echo_text(text: str = "", **kwargs) -> None:
    """``click.echo`` for text that holds data: control characters and direction overrides are
    shown as escapes (:func:`netdiag.views.terminal.terminal_safe`), never sent to the terminal."""
    from netdiag.views.terminal import terminal_safe

    click.echo(terminal_safe(text), **kwargs)


def as_flags(message: str, ctx: click.Context | None = None, *, names: dict[str, str] | None = None) -> str:
    """The library names parameters in backticks (```at``` was ...); show the command's flags instead.

    A parameter of the running command is shown as its longest flag (``--at``), an argument as
    its metavar; ``names`` maps any others (e.g. the fields of a query line); other backticked
    names (settings, columns) stay as they are.
    """
    import re

    ctx = ctx or click.get_current_context(silent=True)
    names = dict(names or {})
    for param in ctx.command.params if ctx is not None else ():
        if isinstance(param, click.Option):
            names.setdefault(param.name, max(param.opts, key=len))
        elif isinstance(param, click.Argument):
            names.setdefault(param.name, param.human_readable_name)
    return re.sub(r"`([A-Za-z_][A-Za-z0-9_]*)`", lambda m: names.get(m.group(1), m.group(0)), message)


def os_error_text(exc: OSError) -> str:
    """An operating-system error in one line: the path and the reason (``out/x.csv: No space left on device``)."""
    from netdiag.views.terminal import terminal_safe

    reason = exc.strerror or str(exc) or type(exc).__name__
    paths = [str(p) for p in (exc.filename, exc.filename2) if p]
    return terminal_safe(f"{' -> '.join(paths)}: {reason}" if paths else f"{reason}")


def engine_errors(func):
    """Turn the engine's NetdiagError into a one-line click error with exit code 2."""
    @wraps(func)
    def wrapper(*args, **kwargs):
        from netdiag.errors import NetdiagError

        _refuse_undecodable(kwargs)
        try:
            return func(*args, **kwargs)
        except NetdiagError as exc:
            from netdiag.views.terminal import terminal_safe

            raise UsageFailure(as_flags(terminal_safe(str(exc)))) from None
        except OSError as exc:  # the file system said no: permission, disk full, a folder where a file should be
            raise UsageFailure(os_error_text(exc)) from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except MemoryError:
            raise UsageFailure("out of memory; try a shorter period of data or a machine with more memory") from None
    return wrapper


def _refuse_undecodable(options: dict) -> None:
    """An option's text that the terminal did not send as UTF-8 (Python keeps such bytes as lone surrogates,
    which no file, store or page can hold) is a one-line error naming the option, not a traceback later."""
    for name, value in options.items():
        for text in (value if isinstance(value, (tuple, list)) else (value,)):
            if isinstance(text, str) and any("\ud800" <= ch <= "\udfff" for ch in text):
                flag = "--" + name.replace("_", "-")
                raise UsageFailure(f"{flag} is not text this terminal sent as UTF-8; set the terminal to UTF-8 "
                                   f"(e.g. LANG=zh_CN.UTF-8) and type it again")


class UsageFailure(click.ClickException):
    """A clear error and exit code 2 (bad data, file or option)."""

    exit_code = 2


class _SafeFormatter(logging.Formatter):
    """Log lines on stderr never carry a terminal escape from the data."""

    def format(self, record: logging.LogRecord) -> str:
        from netdiag.views.terminal import terminal_safe

        return terminal_safe(super().format(record))


def configure_logging(verbosity: int, quiet: bool) -> None:
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbosity, 2)]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_SafeFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)


def data_dir_option(func):
    """``--data DATA_DIR`` or ``--workspace WS``, the same in every command; the first argument is accepted too.

    Before 0.2 five commands took the folder as their first argument (``netdiag diagnose
    sample_data``); that spelling keeps working. Giving both, differently, is an error. A
    workspace (``netdiag prepare``) is read without validating again; ``--data`` given a
    workspace reads it too.
    """
    @wraps(func)
    def wrapper(*args, data_dir=None, data_dir_arg=None, workspace=None, **kwargs):
        given = [(name, value) for name, value in (("DATA_DIR", data_dir_arg), ("--data", data_dir), ("--workspace", workspace))
                 if value]
        if len({os.path.abspath(v) for _, v in given}) > 1:
            raise UsageFailure(f"the data is given twice ({' and '.join(f'{n} {v}' for n, v in given)}); give it once")
        if not given:
            raise UsageFailure("missing the data: give --data DATA_DIR (a folder with one file per table) or "
                               "--workspace WS (made by `netdiag prepare`)")
        if workspace:
            from netdiag.data.manifest import read_manifest
            from netdiag.errors import NetdiagError

            try:
                read_manifest(workspace)
            except NetdiagError as exc:
                from netdiag.views.terminal import terminal_safe

                raise UsageFailure(terminal_safe(str(exc))) from None
        return func(*args, data_dir=given[0][1], **kwargs)

    wrapper = click.argument("data_dir_arg", required=False, metavar="[DATA_DIR]", type=click.Path(file_okay=False))(wrapper)
    wrapper = click.option("--workspace", "workspace", type=click.Path(file_okay=False), metavar="WS",
                           help="A workspace made by `netdiag prepare`, instead of --data: read without "
                                "validating again, counters by day, quick checks at province scale.")(wrapper)
    return click.option("--data", "data_dir", type=click.Path(file_okay=False), metavar="DATA_DIR",
                        help="The data directory: one file per table (sites, cells, ..., complaints) as CSV, "
                             "Parquet, GeoJSON or layers of network.gpkg. May also be given as the first argument.")(wrapper)


def engine_options(func):
    """``--engine local|dask``, ``--scheduler ADDRESS``, ``--workers N`` and ``--worker-memory SIZE``: where the
    heavy steps run; the command gets ``engine``, an engine to open with :func:`open_engine`."""
    @wraps(func)
    def wrapper(*args, engine="local", scheduler=None, workers=None, worker_memory=None, **kwargs):
        if engine != "dask" and (scheduler or workers or worker_memory):
            given = "--scheduler" if scheduler else "--workers" if workers else "--worker-memory"
            raise UsageFailure(f"{given} is for --engine dask")
        if scheduler and (workers or worker_memory):
            raise UsageFailure("--workers and --worker-memory size the LocalCluster netdiag starts; with --scheduler the "
                               "cluster's own workers run the tasks")
        return func(*args, engine={"name": engine, "scheduler": scheduler, "workers": workers,
                                   "memory_limit": worker_memory}, **kwargs)

    for option in reversed([
        click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True,
                     help="Where the counters are read and reduced: in this process, or on a Dask cluster (a prepared "
                          "--workspace that the workers can read; pip install 'netdiag[dask]')."),
        click.option("--scheduler", metavar="ADDRESS",
                     help="The Dask scheduler, e.g. tls://dask.noc.local:8786; default: a LocalCluster on this machine."),
        click.option("--workers", type=click.IntRange(1, 256), help="Workers of the LocalCluster (default: one per core)."),
        click.option("--worker-memory", "worker_memory", metavar="SIZE",
                     help="Memory of each LocalCluster worker, e.g. 2GB (default: this machine's, shared)."),
    ]):
        wrapper = option(wrapper)
    return wrapper


def open_engine(state, engine: dict, data_dir):
    """The engine of :func:`engine_options`, started (a context manager); Dask needs a prepared workspace."""
    from netdiag.engine.engines import open_engine as start

    if engine["name"] == "dask":
        from netdiag.data.manifest import is_workspace

        if not is_workspace(data_dir):
            raise UsageFailure(f"--engine dask reads a prepared workspace, which {data_dir} is not: run "
                               f"`netdiag prepare {data_dir} --workspace WS` once, then give --workspace WS")
    return start(engine["name"], scheduler=engine["scheduler"], workers=engine["workers"],
                 memory_limit=engine["memory_limit"], say=state.progress())


def _out_option(kind: click.Path, metavar: str, *, required: bool, default: str | None, help: str):
    # a default of None must not be passed: click would then stop enforcing `required`
    extra = {"default": default, "show_default": True} if default is not None else {}
    return click.option("--out", "out", type=kind, metavar=metavar, required=required, help=help, **extra)


def out_folder_option(*, required: bool = False, default: str | None = None, help: str):
    """``--out FOLDER``: a folder that receives several files (created if needed)."""
    return _out_option(click.Path(file_okay=False), "FOLDER", required=required, default=default, help=help)


def out_file_option(*, required: bool = False, default: str | None = None, help: str):
    """``--out FILE``: one file (its folders are created)."""
    return _out_option(click.Path(dir_okay=False), "FILE", required=required, default=default, help=help)


class StorePath(click.Path):
    """The ticket store's ``--db``: a SQLite file, or a PostgreSQL server's ``postgresql://USER@HOST/DATABASE``.
    Another server address is a clear error, never a file name, and an address is never repeated
    (it may hold a password, which is refused: libpq reads it from ``~/.pgpass``)."""

    name = "store"

    def __init__(self, **kwargs):
        super().__init__(dir_okay=False, **kwargs)

    def convert(self, value, param, ctx):
        from netdiag.errors import InputError
        from netdiag.tickets.address import check_address, url_scheme

        try:
            check_address(value)
        except InputError as exc:
            self.fail(str(exc), param, ctx)
        if url_scheme(value):
            return str(value)
        return super().convert(value, param, ctx)


def read_store_option(func):
    """``--db STORE`` of a command that shows tickets: the store's lasting tickets instead of the run's own
    grouping, read only (:func:`netdiag.pipeline.with_store_tickets`)."""
    return click.option("--db", type=StorePath(exists=True), envvar="NETDIAG_DB", metavar="STORE",
                        help="Show the lasting tickets of this store (a SQLite file or postgresql://USER@HOST/DATABASE; "
                             "also $NETDIAG_DB), as handlers see them, instead of this run's own grouping; nothing "
                             "is written to it.")(func)


def lasting_tickets(result, db, settings):
    """``result`` with the lasting tickets of the store ``--db`` (when given), read only."""
    if not db:
        return result
    from netdiag.pipeline import with_store_tickets
    from netdiag.tickets.store import TicketStore

    with TicketStore(db, settings=settings, create=False) as store:
        return with_store_tickets(result, store)


overwrite_opt = click.option("--overwrite", is_flag=True, help="Replace existing output files.")
format_opt = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
                          help="Human text or machine-readable JSON on stdout.")


def parse_assignments(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``["a=1", "b=x"]`` -> ``{"a": "1", "b": "x"}``; raises UsageFailure on a pair without ``=``."""
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageFailure(f"`--set` was {pair!r} but is expected to look like name=value")
        out[name.strip()] = value.strip()
    return out
