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

from bench.compiled import child_command, child_env, pure_env
from bench.plan import TRACKING_POSTED, canonical, outcomes, skip_label
from houzzflow.engine.native import build_name
from houzzflow.simulator.runs.runner import run_scenario
from houzzflow.simulator.runs.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "seller-default.yaml"
TRACE_LIMIT = 100_000

Progress = Callable[[str], None]


class CompiledFigures(TypedDict):
    """The same size on the compiled copy (``bench/compiled.py``), measured alternately."""

    process_seconds: float
    process_rate: float
    run_seconds: float
    run_rate: float
    rss_per_order: float


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
    compiled: CompiledFigures | None  # None: the compiled copy was not measured


def overrides(count: int) -> list[str]:
    return [f"world.orders.count={count}"]


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def child(mode: str, count: int) -> dict[str, Any]:
    """One measurement in this fresh process: ``run``, ``idle`` or ``trace``."""
    scenario = load_scenario(SCENARIO, overrides(count))
    if mode == "idle":
        return {"rss": _peak_rss(), "build": build_name()}
    if mode == "trace":
        tracemalloc.start()
        result = run_scenario(scenario)
        traced = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return {"traced": traced, "placed": result.placed, "build": build_name()}
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
        "build": build_name(),
    }


def _command(compiled: bool, *args: str) -> tuple[list[str], dict[str, str]]:
    """A child's command line and environment: the pure checkout, or the compiled copy."""
    if compiled:
        return child_command(*args), child_env()
    return [sys.executable, *args], pure_env()


def _child(mode: str, count: int, compiled: bool = False) -> dict[str, Any]:
    cmd, env = _command(compiled, "-m", "bench.simulation", mode, str(count))
    out = subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    figures: dict[str, Any] = json.loads(out.stdout)
    if figures["build"] != ("compiled" if compiled else "pure Python"):
        raise RuntimeError(f"a {'compiled' if compiled else 'pure'} run ran {figures['build']}")
    return figures


def _process_run(count: int, compiled: bool = False) -> tuple[float, dict[str, Any], int]:
    """The whole ``houzzflow run`` process: (wall seconds, its JSON report, exit status)."""
    cmd, env = _command(
        compiled,
        "-m",
        "houzzflow.simulator.cli",
        "run",
        str(SCENARIO.relative_to(ROOT)),
        "--set",
        f"world.orders.count={count}",
        "--format",
        "json",
    )
    env["NO_COLOR"] = "1"
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


def _check(
    label: str, report: dict[str, Any], status: int, figures: dict[str, Any], skip: str
) -> list[str]:
    """What went wrong in one run: its exit, its expectations, the two outcomes' agreement."""
    problems = []
    if status != 0:
        problems.append(f"houzzflow run{label} exited {status}")
    if not figures["ok"]:
        problems.append(f"run_scenario{label}: the scenario's expectations did not hold")
    by_library = Counter(figures["outcomes"])
    del by_library[TRACKING_POSTED]
    if _report_outcomes(report, skip) != +by_library:
        problems.append(f"houzzflow run and run_scenario{label} reached different outcomes")
    return problems


def measure(
    count: int, runs: int, progress: Progress, idle_rss: int, compiled_idle_rss: int | None = None
) -> SimulationRow:
    """Every figure of one size; ``idle_rss`` is the idle interpreter's peak RSS. With
    ``compiled_idle_rss`` (the compiled copy's idle RSS) the compiled copy runs too, each of
    its runs right after the pure one, so both see the same moment of a shared machine."""
    scenario = load_scenario(SCENARIO, overrides(count))
    label = skip_label(scenario)
    builds = [False] if compiled_idle_rss is None else [False, True]
    process_times: dict[bool, list[float]] = {b: [] for b in builds}
    library: dict[bool, list[dict[str, Any]]] = {b: [] for b in builds}
    problems: list[str] = []
    for i in range(runs):
        for compiled in builds:
            name = ", compiled" if compiled else ""
            progress(f"simulation: {count:,} orders, run {i + 1}/{runs}: houzzflow run{name}")
            seconds, report, status = _process_run(count, compiled)
            process_times[compiled].append(seconds)
            progress(f"simulation: {count:,} orders, run {i + 1}/{runs}: run_scenario{name}")
            figures = _child("run", count, compiled)
            library[compiled].append(figures)
            problems += _check(name, report, status, figures, label)
            if compiled and figures["outcomes"] != library[False][0]["outcomes"]:
                problems.append("the compiled copy reached other outcomes than pure Python")
    traced: float | None = None
    if count <= TRACE_LIMIT:
        progress(f"simulation: {count:,} orders: tracemalloc peak")
        traced = _child("trace", count)["traced"] / count

    def figures_of(compiled: bool, idle: int) -> CompiledFigures:
        run_seconds = statistics.median(f["seconds"] for f in library[compiled])
        process_seconds = statistics.median(process_times[compiled])
        rss = statistics.median(f["rss"] for f in library[compiled])
        return CompiledFigures(
            process_seconds=round(process_seconds, 3),
            process_rate=round(count / process_seconds),
            run_seconds=round(run_seconds, 3),
            run_rate=round(count / run_seconds),
            rss_per_order=round(max(0, rss - idle) / count),
        )

    pure = figures_of(False, idle_rss)
    return SimulationRow(
        orders=count,
        runs=runs,
        duration=scenario.duration,
        **pure,
        traced_per_order=None if traced is None else round(traced),
        outcomes=library[False][0]["outcomes"],
        in_flight=library[False][0]["in_flight"],
        problem="; ".join(dict.fromkeys(problems)),
        compiled=None if compiled_idle_rss is None else figures_of(True, compiled_idle_rss),
    )


def simulation(
    sizes: list[int], runs: int, largest_runs: int, progress: Progress, compiled: str = ""
) -> dict[str, Any]:
    """The simulation section: one row per size (the largest runs ``largest_runs`` times).
    ``compiled``: "" to measure the compiled copy beside pure Python (it must be built), else
    why it is not measured."""
    progress("simulation: idle interpreter (memory baseline)")
    idle_rss = _child("idle", sizes[0])["rss"]
    compiled_idle = None if compiled else _child("idle", sizes[0], compiled=True)["rss"]
    rows = [
        measure(n, largest_runs if n == max(sizes) else runs, progress, idle_rss, compiled_idle)
        for n in sizes
    ]
    section = {"scenario": str(SCENARIO.relative_to(ROOT)), "idle_rss": idle_rss, "rows": rows}
    if compiled:
        section["compiled_skipped"] = compiled
    return section


def profile(count: int) -> None:
    """Print where a run of ``count`` orders spends its time (cProfile, by own time)."""
    scenario = load_scenario(SCENARIO, overrides(count))
    profiler = cProfile.Profile()
    profiler.runcall(run_scenario, scenario)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    print(json.dumps(child(sys.argv[1], int(sys.argv[2]))))
