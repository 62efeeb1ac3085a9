"""houzzflow and a baseline side by side: one plan, interleaved runs, the same outcomes.

For each size, houzzflow runs the scenario once with a recording clock (``bench.plan``) to
get the plan and its outcomes; then houzzflow (``run_scenario``) and the baseline run in
turn, H B H B ..., in this process, and every run's outcomes must equal the plan's. The
speed-up is the median over the pairs of baseline time / houzzflow time, so both sides of a
pair share whatever else the machine was doing at that moment.

Both sides run with the cyclic garbage collector off, as houzzflow's runner runs itself:
the ratio compares the mechanisms, not a collector setting any user could copy.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from typing import TypedDict

from bench.plan import Outcomes, Plan, disagreement, extract_plan, outcomes
from bench.simulation import SCENARIO, overrides
from houzzflow.simulator.runs.runner import run_scenario
from houzzflow.simulator.runs.scenario import load_scenario

Baseline = Callable[[Plan], Outcomes]
Progress = Callable[[str], None]


class SideBySideRow(TypedDict):
    orders: int
    runs: int
    houzzflow_seconds: float  # median
    baseline_seconds: float  # median
    houzzflow_us_per_order: float
    baseline_us_per_order: float
    speedup: float  # median over the pairs of baseline seconds / houzzflow seconds
    outcomes: dict[str, int]  # what houzzflow reached (and the baseline must)
    problem: str  # "" when every run of both reached the plan's outcomes


def _timed_baseline(baseline: Baseline, plan: Plan) -> tuple[float, Outcomes]:
    gc.collect()
    collecting = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        got = baseline(plan)
        return time.perf_counter() - start, got
    finally:
        if collecting:
            gc.enable()


def side_by_side(
    name: str, baseline: Baseline, sizes: list[int], runs: int, progress: Progress
) -> list[SideBySideRow]:
    rows = []
    for count in sizes:
        scenario = load_scenario(SCENARIO, overrides(count))
        progress(f"{name}: {count:,} orders: recording houzzflow's plan")
        plan, expected = extract_plan(scenario)
        houzzflow_times: list[float] = []
        baseline_times: list[float] = []
        problems: list[str] = []
        for i in range(runs):
            progress(f"{name}: {count:,} orders, pair {i + 1}/{runs}")
            gc.collect()
            start = time.perf_counter()
            result = run_scenario(scenario)  # turns the collector off itself
            houzzflow_times.append(time.perf_counter() - start)
            differs = disagreement(expected, outcomes(result))
            if differs:
                problems.append(f"houzzflow differs from its own recorded run: {differs}")
            del result
            seconds, got = _timed_baseline(baseline, plan)
            baseline_times.append(seconds)
            differs = disagreement(expected, got)
            if differs:
                problems.append(f"{name} reached other outcomes: {differs}")
        ratios = [b / h for h, b in zip(houzzflow_times, baseline_times, strict=True)]
        houzzflow_seconds = statistics.median(houzzflow_times)
        baseline_seconds = statistics.median(baseline_times)
        rows.append(
            SideBySideRow(
                orders=count,
                runs=runs,
                houzzflow_seconds=round(houzzflow_seconds, 4),
                baseline_seconds=round(baseline_seconds, 4),
                houzzflow_us_per_order=round(houzzflow_seconds / count * 1e6, 2),
                baseline_us_per_order=round(baseline_seconds / count * 1e6, 2),
                speedup=round(statistics.median(ratios), 2),
                outcomes=dict(expected),
                problem="; ".join(dict.fromkeys(problems)),
            )
        )
    return rows


def baseline_named(name: str) -> Baseline:
    """The baseline ``python -m bench`` calls ``name``: ``transitions`` or ``simpy``."""
    if name == "simpy":
        from bench.baselines import simpy_model

        return simpy_model.run
    from bench.baselines import transitions_model

    return transitions_model.run


if __name__ == "__main__":
    # ``python -m bench.interleave NAME RUNS SIZE...``: the rows as JSON, for a child process
    # that imports the compiled copy (``bench/compiled.py``); progress goes to stderr.
    import json
    import sys

    from houzzflow.engine.native import build_name

    name, runs, *sizes = sys.argv[1:]
    found = side_by_side(
        name,
        baseline_named(name),
        [int(size) for size in sizes],
        int(runs),
        lambda message: print(f"bench: {message}", file=sys.stderr, flush=True),
    )
    print(json.dumps({"build": build_name(), "rows": found}))
