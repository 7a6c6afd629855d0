"""Processes that parse mail beside a sync, so a big import uses every core.

Parsing is pure Python: in one process it holds the interpreter lock, and a sync of a long
history spent about as much time parsing as writing. A sync with several batches to fetch
hands them to a few forked processes instead, and writes while they parse the next batch.

The processes are forked at once, before the sync starts its reader thread (forking a process
that has threads can copy a lock another thread holds), and die with the process that forked
them, even when it is killed outright. If one of them dies (a message that exhausts memory, say),
the sync goes on parsing in its own thread: it is slower, and it loses nothing.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import signal
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

from mail.services import IncomingEmail, PreparedEmail, prepare_email

logger = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent() -> None:
    """Runs first in each parsing process: killed when the sync's process dies, and deaf to
    the signals meant for the worker (Celery's handlers, inherited by the fork, would act as
    if this were the worker itself)."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    for handled in (signal.SIGTERM, signal.SIGQUIT, signal.SIGUSR1, signal.SIGHUP):
        signal.signal(handled, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal is for the worker


@contextmanager
def parsing_processes(count: int) -> Iterator[Parsers]:
    """Parsers with `count` processes to parse in; with none (count 0, or the fork failed)
    they parse in the calling thread."""
    if count <= 0:
        yield Parsers(None)
        return
    current = multiprocessing.current_process()
    # Celery's prefork children are flagged daemonic, and multiprocessing refuses to start a
    # daemonic process's children because it could not stop them when it exits. These die
    # with their parent (PR_SET_PDEATHSIG) and are shut down below, so the flag is lifted
    # while they are forked.
    daemonic = current._config.pop("daemon", None)  # type: ignore[attr-defined]
    pool = ProcessPoolExecutor(
        count, mp_context=multiprocessing.get_context("fork"), initializer=_die_with_parent
    )
    try:
        pool.submit(int).result()  # forks them all now, from this thread
        started = True
    except (OSError, BrokenProcessPool) as error:
        logger.warning("parsing in the sync's own thread: cannot start processes: %s", error)
        started = False
    finally:
        if daemonic is not None:
            current._config["daemon"] = daemonic  # type: ignore[attr-defined]
    if started:
        logger.info("parsing in %d processes beside the sync", count)
    try:
        yield Parsers(pool if started else None, count)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class Parsers:
    def __init__(self, pool: ProcessPoolExecutor | None, count: int = 0) -> None:
        self.pool, self.count = pool, count

    @property
    def pids(self) -> list[int]:
        """The processes' ids (for tests that check none outlives its sync)."""
        return list(self.pool._processes) if self.pool else []  # type: ignore[attr-defined]

    def prepare(self, items: list[IncomingEmail]) -> list[PreparedEmail]:
        """Each email prepared, in order: in a parsing process, or in this thread when there
        are none (or they died)."""
        if self.pool is not None:
            try:
                # Large chunks: each costs a round trip, and the raw bytes travel anyway.
                chunk = max(1, len(items) // (self.count * 4))
                return list(self.pool.map(prepare_email, items, chunksize=chunk))
            except BrokenProcessPool as error:
                logger.warning("a parsing process died (%s): parsing in the sync's thread", error)
                self.pool = None
        return [prepare_email(item) for item in items]
