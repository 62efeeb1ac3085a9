"""Where independent tasks run: in this process, a local process pool, or a Dask cluster.

One interface for the settings matrix and for sweeps: ``Executor.imap_unordered(fn, items)``
takes ``(key, argument)`` pairs, runs ``fn(argument)`` for each, and yields ``(key, result)``
as results come back, whatever their order. The same ``fn`` runs everywhere, so a
deterministic task gives the same results whatever the executor; only the order of arrival
differs, and callers put results back in order by their keys.

- ``InProcess``: one task after another, here; for tiny jobs and for ``--jobs 1``.
- ``LocalPool``: a ``ProcessPoolExecutor``; a worker that dies (killed, out of memory) breaks
  the pool, which is started again and the unfinished tasks resubmitted, up to ``RESTARTS``
  times.
- ``DaskExecutor`` (``houzzflow.simulator.executors.dask``): a Dask distributed scheduler at a
  ``tcp://host:port`` address; the optional ``dask`` extra. Dask itself reschedules the
  tasks of a worker that died; a task that raises is retried ``retries`` times.

At most ``window`` tasks are in flight at once and ``items`` is read lazily, so a caller can
stop early: closing the iterator cancels what is still pending.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any, TypeVar

K = TypeVar("K")
A = TypeVar("A")
R = TypeVar("R")

JOBS = (1, 256)  # the limits of --jobs
TINY = 4  # fewer tasks than this run in this process: starting workers would cost more
RESTARTS = 3  # times a broken local pool is started again before the run gives up
SCHEDULER_ENV = "HOUZZFLOW_DASK_SCHEDULER"


class ExecutorError(Exception):
    """The executor could not run the tasks (a scheduler out of reach, workers that keep
    dying, houzzflow missing on a worker); the message says what to do."""


class Executor(ABC):
    """Runs ``fn`` over arguments somewhere; a context manager that frees what it started."""

    kind: str = ""
    workers: int = 1

    def describe(self) -> dict[str, Any]:
        """What ran the tasks, as a report records it."""
        return {"kind": self.kind, "workers": self.workers}

    def label(self) -> str:
        """The same in words, for a text report."""
        many = "s" if self.workers != 1 else ""
        return f"{self.kind}, {self.workers} worker{many}"

    @abstractmethod
    def imap_unordered(
        self, fn: Callable[[A], R], items: Iterable[tuple[K, A]]
    ) -> Iterator[tuple[K, R]]:
        """``(key, fn(argument))`` for every ``(key, argument)``, as each finishes."""

    def close(self) -> None:
        """Free workers and connections (called on leaving a ``with`` block)."""
        return None

    def __enter__(self) -> Executor:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


class InProcess(Executor):
    """Every task here, one after another."""

    kind = "in-process"

    def imap_unordered(
        self, fn: Callable[[A], R], items: Iterable[tuple[K, A]]
    ) -> Iterator[tuple[K, R]]:
        for key, argument in items:
            yield key, fn(argument)


class LocalPool(Executor):
    """A pool of ``workers`` processes on this machine."""

    kind = "local pool"

    def __init__(self, workers: int, *, window: int | None = None) -> None:
        self.workers = workers
        self.window = window or 4 * workers
        self.restarts = 0

    def imap_unordered(
        self, fn: Callable[[A], R], items: Iterable[tuple[K, A]]
    ) -> Iterator[tuple[K, R]]:
        from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
        from concurrent.futures.process import BrokenProcessPool

        source = iter(items)
        pending: dict[Future[R], tuple[K, A]] = {}
        retry: list[tuple[K, A]] = []  # tasks in flight when the pool broke
        pool = ProcessPoolExecutor(max_workers=self.workers)
        try:
            while True:
                while len(pending) < self.window:
                    item = retry.pop() if retry else next(source, None)
                    if item is None:
                        break
                    pending[pool.submit(fn, item[1])] = item
                if not pending:
                    return
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                broken = False
                for future in done:
                    key, argument = pending.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        broken = True
                        retry.append((key, argument))
                        continue
                    yield key, result
                if broken:
                    retry += pending.values()
                    pending.clear()
                    pool.shutdown(wait=True, cancel_futures=True)
                    self.restarts += 1
                    if self.restarts > RESTARTS:
                        raise ExecutorError(
                            f"the local pool's workers died {self.restarts} times (killed, or "
                            "out of memory?); try fewer --jobs"
                        )
                    pool = ProcessPoolExecutor(max_workers=self.workers)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def default_jobs() -> int:
    """One worker per core this process may use."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_jobs(jobs: int | None) -> None:
    low, high = JOBS
    if jobs is not None and (
        isinstance(jobs, bool) or not isinstance(jobs, int) or not low <= jobs <= high
    ):
        raise ValueError(f"jobs={jobs!r}: expected a whole number from {low} to {high}, or None")


def executor_for(*, jobs: int | None = None, scheduler: str | None = None, tasks: int) -> Executor:
    """The executor for ``tasks`` tasks: Dask when a ``scheduler`` address is given; else this
    process for ``jobs=1`` or fewer than ``TINY`` tasks; else a local pool of ``jobs``
    processes (default: one per core), never more than there are tasks."""
    check_jobs(jobs)
    if scheduler:
        from houzzflow.simulator.executors.dask import DaskExecutor

        return DaskExecutor(scheduler)
    workers = min(jobs or default_jobs(), max(tasks, 1))
    if workers <= 1 or tasks < TINY:
        return InProcess()
    return LocalPool(workers)
