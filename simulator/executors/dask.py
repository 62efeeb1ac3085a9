"""Tasks on a Dask distributed cluster (the optional extra: ``pip install 'houzzflow[dask]'``).

The scheduler is reached at an address such as ``tcp://10.0.0.5:8786`` (``--scheduler``, or
``HOUZZFLOW_DASK_SCHEDULER``). Every worker needs the same houzzflow installed: a task is
houzzflow's own function, sent by reference. Results stream back as tasks finish. A worker
that dies takes its running tasks with it; the scheduler gives them to another worker
(``distributed.scheduler.allowed-failures`` times), and a task that raises is retried
``retries`` times before the run stops with the error.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from houzzflow.simulator.executors import Executor, ExecutorError

if TYPE_CHECKING:
    from distributed import Client, Future

K = TypeVar("K")
A = TypeVar("A")
R = TypeVar("R")

CONNECT_TIMEOUT = 10  # seconds to reach the scheduler before giving up
RETRIES = 2  # re-runs of a task that raised (a worker that died is the scheduler's business)
INSTALL = "pip install 'houzzflow[dask]'"


class DaskExecutor(Executor):
    """Tasks on the Dask scheduler at ``address``; ``window`` tasks in flight per worker."""

    kind = "dask"

    def __init__(self, address: str, *, window_per_worker: int = 4) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise ExecutorError(
                f"--scheduler needs Dask distributed, an optional extra: {INSTALL}"
            ) from None
        self.address = address
        try:
            self.client: Client = Client(address, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ExecutorError(
                f"cannot reach the Dask scheduler at {address!r} within {CONNECT_TIMEOUT}s "
                f"({type(exc).__name__}: {exc}); expected an address like tcp://host:8786"
            ) from None
        threads = self.client.nthreads()  # worker address -> its threads
        self.workers = max(1, len(threads))
        self.window = window_per_worker * max(1, sum(threads.values()))

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "scheduler": self.address}

    def label(self) -> str:
        return f"{super().label()} at {self.address}"

    def imap_unordered(
        self, fn: Callable[[A], R], items: Iterable[tuple[K, A]]
    ) -> Iterator[tuple[K, R]]:
        from distributed import as_completed

        run = uuid.uuid4().hex[:12]
        source = iter(items)
        keys: dict[str, K] = {}
        in_flight: list[Future[R]] = []
        numbers = itertools.count()

        def submit() -> Future[R] | None:
            item = next(source, None)
            if item is None:
                return None
            name = f"houzzflow-{run}-{next(numbers)}"
            keys[name] = item[0]
            future: Future[R] = self.client.submit(
                fn, item[1], key=name, pure=False, retries=RETRIES
            )
            in_flight.append(future)
            return future

        while len(in_flight) < self.window and submit() is not None:
            pass
        finished = as_completed(in_flight)
        try:
            for future in finished:
                in_flight.remove(future)
                try:
                    result = future.result()
                except Exception as exc:
                    raise ExecutorError(_failure(exc)) from exc
                yield keys.pop(str(future.key)), result
                more = submit()
                if more is not None:
                    finished.add(more)
        finally:
            if in_flight:
                self.client.cancel(in_flight)

    def close(self) -> None:
        self.client.close()


def _failure(exc: Exception) -> str:
    name = type(exc).__name__
    if name == "KilledWorker":
        return (
            "a task killed every Dask worker it ran on (out of memory?): "
            f"{exc}; give the workers more memory"
        )
    if isinstance(exc, ModuleNotFoundError | ImportError):
        return f"a Dask worker cannot import houzzflow ({exc}): install it on every worker"
    return f"a task failed on the Dask cluster: {name}: {exc}"
