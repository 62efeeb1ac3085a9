"""One sample of a sweep: the scenario of one grid point, run with one derived seed.

``run_sample`` is the task every executor runs (in this process, in a pool worker, on a Dask
worker), so a sample's result depends on its scenario and seed alone. A sample's seed comes
from the sweep's seed and the sample's index, the same for every grid point (so points are
compared on the same worlds); ``houzzflow run FILE --seed SEED`` with that point's overrides
runs the same world again and gives the same counts.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass

from houzzflow.simulator.runs.runner import run_scenario
from houzzflow.simulator.runs.scenario import Scenario

SEED_BITS = 48  # derived seeds are below 2**48: short enough to type, no collision in practice


def sample_seed(sweep_seed: int, index: int) -> int:
    """The seed of sample ``index`` of a sweep seeded ``sweep_seed`` (a hash of both, so
    sweeps with neighbouring seeds share no samples)."""
    digest = hashlib.blake2b(f"houzzflow-sweep/{sweep_seed}/{index}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big") >> (64 - SEED_BITS)


@dataclass(frozen=True, slots=True)
class Sample:
    """What one run of the sweep showed: its counts and outcomes, and whether it met the
    scenario's expectations."""

    point: int
    index: int
    seed: int
    placed: int
    ok: bool
    counts: dict[str, int]
    outcomes: dict[str, int]


Task = tuple[Scenario, int, int, int]  # (the grid point's scenario, point, index, seed)


def run_sample(task: Task) -> Sample:
    """Run one sample (the task function of every executor)."""
    scenario, point, index, seed = task
    seeded = dataclasses.replace(scenario, spec=scenario.spec.model_copy(update={"seed": seed}))
    result = run_scenario(seeded)
    return Sample(
        point=point,
        index=index,
        seed=seed,
        placed=result.placed,
        ok=result.ok,
        counts=dict(result.counts),
        outcomes=dict(sorted(result.verdict.outcomes.items())),
    )
