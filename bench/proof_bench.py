"""Benchmarks of the proof tier: explorer throughput, validate wall time, the matrix, start-up.

* explorer: states and transitions per second over the five documented safe setups, in
  this process, on one core;
* ``houzzflow validate`` of one policy, the whole process (start-up included), median;
* the whole ``houzzflow matrix``, the whole process, on 2 worker processes;
* ``houzzflow --help``: start-up time, median of several.

Each figure is measured, never asserted: ``python -m bench`` prints them against the goals.
A command that exits with an unexpected status is recorded as a problem.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import TypedDict

from houzzflow.simulator.proof.explorer import Bounds, explore
from houzzflow.simulator.strategies import SAFE_SETUPS, resolved

ROOT = Path(__file__).resolve().parent.parent
VALIDATED = ROOT / "scenarios" / "policies" / "seller-legacy-default.yaml"
MATRIX_JOBS = 2


class ExplorerFigures(TypedDict):
    bounds: str
    policies: int
    states: int
    transitions: int
    seconds: float
    states_per_second: float
    transitions_per_second: float


class WallFigures(TypedDict):
    command: str
    runs: int
    seconds: float  # median
    problem: str


def explorer_throughput(*, quick: bool = False) -> ExplorerFigures:
    """States and transitions per second on the safe setups' explorations."""
    bounds = Bounds(orders=2, faults=1) if quick else Bounds(orders=3, faults=2)
    names = ["seller-legacy-manual-process"] if quick else sorted(SAFE_SETUPS)
    states = transitions = 0
    seconds = 0.0
    for name in names:
        policy = resolved(SAFE_SETUPS[name])
        start = time.perf_counter()
        result = explore(policy, bounds)
        seconds += time.perf_counter() - start
        states += result.states
        transitions += result.transitions
    return ExplorerFigures(
        bounds=bounds.describe(),
        policies=len(names),
        states=states,
        transitions=transitions,
        seconds=round(seconds, 3),
        states_per_second=round(states / seconds),
        transitions_per_second=round(transitions / seconds),
    )


def houzzflow_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "houzzflow.simulator.cli", *args]


def _wall(args: list[str], runs: int, expected_status: int = 0) -> WallFigures:
    times = []
    problems = []
    env = {**os.environ, "NO_COLOR": "1"}
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(
            houzzflow_cmd(*args), cwd=ROOT, env=env, capture_output=True, check=False
        )
        times.append(time.perf_counter() - start)
        if done.returncode != expected_status:
            problems.append(f"exited {done.returncode}, expected {expected_status}")
    return WallFigures(
        command="houzzflow " + " ".join(args),
        runs=runs,
        seconds=round(statistics.median(times), 3),
        problem="; ".join(dict.fromkeys(problems)),
    )


def validate_wall(*, quick: bool = False) -> WallFigures:
    """``houzzflow validate`` of CartRover's legacy Seller defaults (proven: exit 0)."""
    return _wall(["validate", str(VALIDATED.relative_to(ROOT))], 1 if quick else 5)


def matrix_wall(*, quick: bool = False) -> WallFigures:
    """The whole settings matrix on ``MATRIX_JOBS`` processes (quick: one world, one job)."""
    args = ["matrix", "--format", "csv", "--jobs", str(1 if quick else MATRIX_JOBS)]
    if quick:
        args += ["--account", "seller", "--era", "legacy"]
    return _wall(args, 1)


def startup_wall(*, quick: bool = False) -> WallFigures:
    return _wall(["--help"], 3 if quick else 10)
