"""houzzflow's simulation figures: ``scenarios/seller-default.yaml`` at 10k, 100k and 1M orders.

For each size:

* the whole ``houzzflow run`` process (``python -m houzzflow.simulator.cli run ... --format json``):
  its wall time, start-up and report included, and the outcomes it printed;
* the library run (``run_scenario``) in a fresh process: its time, and its peak resident
  memory (``ru_maxrss``) minus that of an idle interpreter with the same imports and the
  scenario loaded, per order;
* up to ``TRACE_LIMIT`` orders, the tracemalloc peak of another fresh process, per order
  (Python allocations only; tracemalloc slows the run, so it is not timed).

Every run must meet the scenario's expectations and the process and library runs must
reach the same outcomes; a row records what went wrong otherwise. The children are
``python -m bench.simulation {run,idle,trace} N``.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypedDict

from bench.plan import TRACKING_POSTED, canonical, outcomes, skip_label
from houzzflow.simulator.runs.runner import run_scenario
from houzzflow.simulator.runs.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "seller-default.yaml"
TRACE_LIMIT = 100_000

Progress = Callable[[str], None]


class SimulationRow(TypedDict):
    orders: int
    runs: int
    duration: int  # simulated seconds
    process_seconds: float  # median wall time of the whole houzzflow run process
    process_rate: float  # orders per second of that process
    run_seconds: float  # median time of run_scenario in the library
    run_rate: float
    rss_per_order: float  # bytes: peak RSS of the run's process minus an idle one's
    traced_per_order: float | None  # bytes: tracemalloc peak (None above TRACE_LIMIT)
    outcomes: dict[str, int]
    in_flight: int
    problem: str  # "" when every run met its expectations and the outcomes agreed


def overrides(count: int) -> list[str]:
    return [f"world.orders.count={count}"]


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def child(mode: str, count: int) -> dict[str, Any]:
    """One measurement in this fresh process: ``run``, ``idle`` or ``trace``."""
    scenario = load_scenario(SCENARIO, overrides(count))
    if mode == "idle":
        return {"rss": _peak_rss()}
    if mode == "trace":
        tracemalloc.start()
        result = run_scenario(scenario)
        traced = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return {"traced": traced, "placed": result.placed}
    start = time.perf_counter()
    result = run_scenario(scenario)
    seconds = time.perf_counter() - start
    rss = _peak_rss()
    return {
        "seconds": seconds,
        "rss": rss,
        "placed": result.placed,
        "ok": result.ok,
        "in_flight": result.verdict.in_flight,
        "outcomes": dict(outcomes(result)),
    }


def _child(mode: str, count: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.simulation", mode, str(count)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    figures: dict[str, Any] = json.loads(out.stdout)
    return figures


def _process_run(count: int) -> tuple[float, dict[str, Any], int]:
    """The whole ``houzzflow run`` process: (wall seconds, its JSON report, exit status)."""
    cmd = [
        sys.executable,
        "-m",
        "houzzflow.simulator.cli",
        "run",
        str(SCENARIO.relative_to(ROOT)),
        "--set",
        f"world.orders.count={count}",
        "--format",
        "json",
    ]
    env = {**os.environ, "NO_COLOR": "1"}
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    report: dict[str, Any] = json.loads(out.stdout) if out.stdout.strip() else {}
    return seconds, report, out.returncode


def _report_outcomes(report: dict[str, Any], skip_label: str) -> Counter[str]:
    """The outcomes a JSON report printed, in the bench's vocabulary (no tracking count)."""
    scenarios = report.get("scenarios") or [{}]
    labels: dict[str, int] = scenarios[0].get("orders", {}).get("outcomes", {})
    return canonical(labels, skip_label)


def measure(count: int, runs: int, progress: Progress, idle_rss: int) -> SimulationRow:
    """Every figure of one size; ``idle_rss`` is the idle interpreter's peak RSS."""
    scenario = load_scenario(SCENARIO, overrides(count))
    label = skip_label(scenario)
    process_times: list[float] = []
    library: list[dict[str, Any]] = []
    problems: list[str] = []
    for i in range(runs):
        progress(f"simulation: {count:,} orders, run {i + 1}/{runs}: houzzflow run process")
        seconds, report, status = _process_run(count)
        process_times.append(seconds)
        progress(f"simulation: {count:,} orders, run {i + 1}/{runs}: run_scenario")
        figures = _child("run", count)
        library.append(figures)
        if status != 0:
            problems.append(f"houzzflow run exited {status}")
        if not figures["ok"]:
            problems.append("run_scenario: the scenario's expectations did not hold")
        by_library = Counter(figures["outcomes"])
        del by_library[TRACKING_POSTED]
        if _report_outcomes(report, label) != +by_library:
            problems.append("houzzflow run and run_scenario reached different outcomes")
    traced: float | None = None
    if count <= TRACE_LIMIT:
        progress(f"simulation: {count:,} orders: tracemalloc peak")
        traced = _child("trace", count)["traced"] / count
    run_seconds = statistics.median(f["seconds"] for f in library)
    process_seconds = statistics.median(process_times)
    rss = statistics.median(f["rss"] for f in library)
    return SimulationRow(
        orders=count,
        runs=runs,
        duration=scenario.duration,
        process_seconds=round(process_seconds, 3),
        process_rate=round(count / process_seconds),
        run_seconds=round(run_seconds, 3),
        run_rate=round(count / run_seconds),
        rss_per_order=round(max(0, rss - idle_rss) / count),
        traced_per_order=None if traced is None else round(traced),
        outcomes=library[0]["outcomes"],
        in_flight=library[0]["in_flight"],
        problem="; ".join(dict.fromkeys(problems)),
    )


def simulation(
    sizes: list[int], runs: int, largest_runs: int, progress: Progress
) -> dict[str, Any]:
    """The simulation section: one row per size (the largest runs ``largest_runs`` times)."""
    progress("simulation: idle interpreter (memory baseline)")
    idle_rss = _child("idle", sizes[0])["rss"]
    rows = [
        measure(n, largest_runs if n == max(sizes) else runs, progress, idle_rss) for n in sizes
    ]
    return {"scenario": str(SCENARIO.relative_to(ROOT)), "idle_rss": idle_rss, "rows": rows}


def profile(count: int) -> None:
    """Print where a run of ``count`` orders spends its time (cProfile, by own time)."""
    scenario = load_scenario(SCENARIO, overrides(count))
    profiler = cProfile.Profile()
    profiler.runcall(run_scenario, scenario)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    print(json.dumps(child(sys.argv[1], int(sys.argv[2]))))
