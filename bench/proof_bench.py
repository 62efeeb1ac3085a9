"""Benchmarks of the proof tier: explorer throughput, validate wall time, the matrix, start-up.

Each figure is measured, never asserted: ``python -m bench`` prints them against the goals.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from simulator.proof.explorer import Bounds, explore
from simulator.strategies import SAFE_SETUPS, resolved

ROOT = Path(__file__).resolve().parent.parent


def explorer_throughput(*, quick: bool = False) -> dict[str, Any]:
    """States and transitions per second on the largest safe-setup explorations."""
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
    return {
        "bounds": bounds.describe(),
        "policies": len(names),
        "states": states,
        "transitions": transitions,
        "seconds": round(seconds, 3),
        "states_per_second": round(states / seconds),
        "transitions_per_second": round(transitions / seconds),
    }


def _wall(cmd: list[str], repeat: int) -> float:
    times = []
    env = {**os.environ, "NO_COLOR": "1"}
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def houzzflow_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "simulator.cli", *args]


def validate_wall(*, quick: bool = False) -> dict[str, Any]:
    policy = ROOT / "scenarios" / "policies" / "seller-legacy-default.yaml"
    seconds = _wall(houzzflow_cmd("validate", str(policy)), 1 if quick else 5)
    return {"policy": policy.name, "seconds": round(seconds, 3)}


def matrix_wall(*, quick: bool = False) -> dict[str, Any]:
    args = ["matrix", "--format", "csv"]
    if quick:
        args += ["--jobs", "1", "--account", "seller", "--era", "legacy"]
    seconds = _wall(houzzflow_cmd(*args), 1)
    return {"seconds": round(seconds, 3), "jobs": 1 if quick else os.cpu_count()}


def startup_wall(*, quick: bool = False) -> dict[str, Any]:
    seconds = _wall(houzzflow_cmd("--help"), 3 if quick else 10)
    return {"seconds": round(seconds, 3)}
