"""Where the heavy steps run: in this process (the default), or on a Dask cluster (``--engine dask``).

A province's counters are a billion rows a year; a nation's do not fit one machine. The
steps that read them run as one task per piece of the data (a day file of a prepared
workspace, :meth:`netdiag.data.counters.Counters.pieces`), each reducing its piece to the few
rows that matter (congested, interfered or sleeping periods). An engine maps such a task over
the pieces and hands the results back in the pieces' order, so that what follows (topology,
verdicts, tickets) runs here on the same rows in the same order whichever engine read them:

- :class:`LocalEngine` runs the tasks one after the other in this process, holding one piece
  at a time;
- :class:`DaskEngine` sends them to the workers of a Dask cluster, one piece per task: each
  worker holds only its piece (out of core), a task lost with its worker is run again
  elsewhere by the scheduler, and the results come back in order.

Without ``--scheduler``, :class:`DaskEngine` starts a ``LocalCluster`` sized to this machine
(one single-threaded worker process per core), reachable only with the temporary TLS
credentials it makes (``security=True``): other accounts on the machine cannot send it work.
"""
from __future__ import annotations

import logging
import os
from typing import Callable, Iterable, Iterator

from netdiag.errors import InputError

log = logging.getLogger(__name__)

ENGINES = ("local", "dask")
#: how often a task that raised is tried again (a task lost with a killed worker is re-run by the scheduler anyway)
RETRIES = 2


class LocalEngine:
    """Runs each task here, one after the other, keeping only its result."""

    name = "local"

    def map(self, func: Callable, items: Iterable, *args, what: str = "pieces",
            say: Callable[[str], None] | None = None) -> Iterator:
        """``func(item, *args)`` for each item, in order, one at a time (a generator)."""
        for item in items:
            yield func(item, *args)

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


LOCAL = LocalEngine()


def _call(item, task, args):
    return task(item, *args)


def _worker_version() -> str:
    import netdiag

    return netdiag.__version__


class DaskEngine(LocalEngine):
    """Runs each task on a worker of a Dask cluster (see the module docstring).

    Parameters
    ----------
    scheduler : str, optional
        The address of a running scheduler (``tcp://host:8786``, ``tls://...``); default: a
        ``LocalCluster`` on this machine.
    workers : int, optional
        Workers of the ``LocalCluster`` (default: one per core).
    memory_limit : str, optional
        Memory of each ``LocalCluster`` worker, e.g. ``2GB`` (default: this machine's memory shared).

    Raises
    ------
    InputError
        Dask is not installed, no scheduler answers at ``scheduler``, it has no workers, or
        its workers cannot run this netdiag (not installed, or another version).
    """

    name = "dask"

    def __init__(self, scheduler: str | None = None, *, workers: int | None = None, memory_limit: str | None = None,
                 say: Callable[[str], None] | None = None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise InputError("--engine dask needs Dask: pip install 'netdiag[dask]'") from None
        self.cluster = None
        self.say = say = say or (lambda _text: None)
        if log.getEffectiveLevel() > logging.DEBUG:  # Dask's own chatter only with -vv
            logging.getLogger("distributed").setLevel(logging.WARNING)
        if scheduler:
            try:
                self.client = Client(scheduler, timeout="5s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise InputError(f"no Dask scheduler answers at {scheduler} ({' '.join(str(exc).split())[:200]})") from None
        else:
            n = workers or os.cpu_count() or 1
            say(f"starting a Dask LocalCluster of {n} worker{'s' if n != 1 else ''}")
            # no dashboard (a web page any account could open; progress is on stderr), and the scheduler's own
            # HTTP server (health and status routes) on a loopback port of its own, not on every interface
            self.cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, security=True,
                                        memory_limit=memory_limit or "auto", scheduler_kwargs={"dashboard": False},
                                        dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
            self.client = Client(self.cluster, security=self.cluster.security)
        try:
            self._check_workers(scheduler or "the LocalCluster")
        except BaseException:
            self.close()
            raise
        log.info("dask engine: %s, %d workers", self.client.scheduler.address, len(self.client.scheduler_info()["workers"]))

    def _check_workers(self, where: str) -> None:
        """Workers there, each with this netdiag (the tasks are this netdiag's functions)."""
        import netdiag

        try:
            self.client.wait_for_workers(1, timeout=30)
        except TimeoutError:
            raise InputError(f"the Dask scheduler at {where} has no workers (none joined within 30 s)") from None
        try:
            versions = self.client.run(_worker_version)
        except Exception as exc:  # the worker cannot unpickle netdiag's function: netdiag is not installed there
            raise InputError(f"the Dask workers at {where} cannot run netdiag ({type(exc).__name__}: "
                             f"{' '.join(str(exc).split())[:200]}); install netdiag {netdiag.__version__} on them") from None
        wrong = {w: v for w, v in versions.items() if v != netdiag.__version__}
        if wrong:
            worker, version = next(iter(wrong.items()))
            raise InputError(f"{len(wrong)} Dask worker(s) at {where} run netdiag {version} (e.g. {worker}), this is "
                             f"netdiag {netdiag.__version__}; install the same version on every worker")

    def map(self, func, items, *args, what: str = "pieces", say=None):
        """``func(item, *args)`` on the workers, one task per item, the results in the items' order."""
        items = list(items)
        say = say or self.say
        futures = self.client.map(_call, items, task=func, args=args, pure=False, retries=RETRIES)
        try:
            for i, future in enumerate(futures, 1):
                yield future.result()
                future.release()
                if say and i * 4 // len(items) != (i - 1) * 4 // len(items):  # a quarter more done
                    say(f"{what}: {i:,} of {len(items):,} done on the Dask workers")
        except BaseException:  # a task failed for good, or the caller stopped: the rest is not needed
            self.client.cancel(futures)
            raise

    def close(self) -> None:
        client, self.client = getattr(self, "client", None), None
        if client is not None:
            client.close()
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None


def open_engine(name: str = "local", *, scheduler: str | None = None, workers: int | None = None,
                memory_limit: str | None = None, say: Callable[[str], None] | None = None) -> LocalEngine:
    """The engine called ``name`` (:data:`ENGINES`), started; use it as a context manager."""
    if name == "local":
        if scheduler:
            raise InputError("--scheduler is for --engine dask")
        return LocalEngine()
    if name == "dask":
        return DaskEngine(scheduler, workers=workers, memory_limit=memory_limit, say=say)
    raise InputError(f"`engine` was {name!r} but is expected to be one of {', '.join(ENGINES)}")
