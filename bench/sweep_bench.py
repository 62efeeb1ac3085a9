"""Benchmark of ``houzzflow sweep``: one sweep on every executor, timed, and compared.

The sweep is ``scenarios/sweeps/staff-sometimes.yaml`` with 1,000-order runs, 1,000 seeds
(``--quick``: 100-order runs, 8 seeds). It runs in this process, on the local pool with 2
processes, and on a Dask ``LocalCluster`` (worker processes on loopback) with 1 and then 2
workers, when the ``dask`` extra is installed. Every executor must give the same runs
(every run's counts, seed by seed), or the bench reports a problem. The speed-up per added
worker is the one-worker time over the two-worker time of the same kind of executor.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import houzzflow

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "sweeps" / "staff-sometimes.yaml"
SIZES = {"full": (1000, 1000), "quick": (8, 100)}  # (seeds, orders per run)


def _digest(sweep: houzzflow.Sweep) -> str:
    """Every run's seed and counts, as one hash: equal digests, equal runs."""
    runs = [(s.point, s.index, s.seed, s.counts) for p in sweep.points for s in p.samples]
    return hashlib.sha256(json.dumps(runs, sort_keys=True).encode()).hexdigest()[:16]


@contextmanager
def _dask(workers: int) -> Iterator[str | None]:
    try:
        from distributed import LocalCluster
    except ImportError:
        yield None
        return
    with LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        worker_dashboard_address="127.0.0.1:0",
    ) as cluster:
        yield cluster.scheduler_address


def _burn(loops: int) -> float:
    """Seconds of a pure-Python loop: CPU work that nothing else slows."""
    start = time.perf_counter()
    total = 0
    for k in range(loops):
        total += k
    return time.perf_counter() - start


def headroom(loops: int) -> float:
    """How many cores' worth of work two processes get done at once, now (2.0 on an idle
    2-core machine; about 1.0 when other work holds a core): what a speed-up can reach."""
    from concurrent.futures import ProcessPoolExecutor

    alone = _burn(loops)
    with ProcessPoolExecutor(max_workers=2) as pool:
        start = time.perf_counter()
        list(pool.map(_burn, [loops, loops]))
        together = time.perf_counter() - start
    return 2 * alone / together


def sweep_bench(*, quick: bool, progress: Callable[[str], None]) -> dict[str, Any]:
    seeds, orders = SIZES["quick" if quick else "full"]
    loops = 2_000_000 if quick else 20_000_000
    section: dict[str, Any] = {
        "scenario": str(SCENARIO.relative_to(ROOT)),
        "seeds": seeds,
        "orders": orders,
        "rows": [],
        "problem": "",
        "headroom_before": headroom(loops),
    }

    def timed(executor: str, workers: int, **where: Any) -> None:
        progress(f"sweep of {seeds:,} x {orders:,} orders: {executor}, {workers} worker(s)")
        start = time.perf_counter()
        sweep = houzzflow.sweep(
            SCENARIO, seeds=seeds, overrides={"world.orders.count": orders}, **where
        )
        seconds = time.perf_counter() - start
        runs = sum(len(p.samples) for p in sweep.points)
        lost = sweep.points[0].rates.get("lost")
        section["rows"].append(
            {
                "executor": executor,
                "workers": workers,
                "seconds": seconds,
                "runs": runs,
                "runs_per_second": runs / seconds,
                "digest": _digest(sweep),
                "lost_per_1000": lost.per_1000 if lost else None,
            }
        )

    timed("in-process", 1, jobs=1)
    timed("local pool", 2, jobs=2)
    for workers in (1, 2):
        with _dask(workers) as address:
            if address is None:
                section["skipped_dask"] = "Dask is not installed: pip install -e '.[dask]'"
                break
            timed("dask LocalCluster", workers, scheduler=address)
    section["headroom_after"] = headroom(loops)
    digests = {row["digest"] for row in section["rows"]}
    if len(digests) != 1:
        section["problem"] = "the executors gave different runs: " + ", ".join(sorted(digests))
    _speedups(section["rows"])
    return section


def _speedups(rows: list[dict[str, Any]]) -> None:
    """Each row's speed-up over the one-worker row of its kind (in-process for the pool)."""
    one = {
        "in-process": "in-process",
        "local pool": "in-process",
        "dask LocalCluster": "dask LocalCluster",
    }
    for row in rows:
        base = next(
            (r for r in rows if r["executor"] == one.get(row["executor"]) and r["workers"] == 1),
            None,
        )
        row["speedup"] = base["seconds"] / row["seconds"] if base else None
