"""The statistics of a sweep: a distribution per count, and intervals for rates.

- ``Distribution``: mean, median, 95th percentile and maximum of one count over the runs
  (percentiles by linear interpolation between closest ranks, as numpy's default).
- ``wilson``: the Wilson score interval for a proportion, ``k`` events in ``n`` trials. A
  sweep applies it to a count summed over its runs against the orders placed in them, so it
  treats orders as independent: right when each order meets its fate on its own (a staff
  habit, a declined card), too narrow when one event takes many orders at once (a crash).
- ``bootstrap``: a percentile bootstrap over runs (whole runs resampled with replacement,
  seeded), which makes no such assumption; slower.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

Z95 = 1.959963984540054  # the standard normal quantile for a 95% two-sided interval
BOOTSTRAP_RESAMPLES = 1000
INTERVALS = ("wilson", "bootstrap")
INTERVAL_NAMES = {
    "wilson": "95% Wilson score interval over orders placed",
    "bootstrap": f"95% percentile bootstrap over runs ({BOOTSTRAP_RESAMPLES:,} resamples)",
}


@dataclass(frozen=True, slots=True)
class Distribution:
    mean: float
    median: float
    p95: float
    max: int

    def to_json(self) -> dict[str, float]:
        return {"mean": self.mean, "median": self.median, "p95": self.p95, "max": self.max}


def percentile(ordered: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0 to 1) of sorted values, interpolating between closest ranks."""
    if not ordered:
        return 0.0
    at = q * (len(ordered) - 1)
    low = math.floor(at)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def distribution(values: Sequence[int]) -> Distribution:
    ordered = sorted(values)
    if not ordered:
        return Distribution(0.0, 0.0, 0.0, 0)
    return Distribution(
        mean=sum(ordered) / len(ordered),
        median=percentile(ordered, 0.5),
        p95=percentile(ordered, 0.95),
        max=ordered[-1],
    )


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval (low, high) for ``k`` events in ``n`` trials."""
    if n <= 0:
        return (0.0, 1.0)
    if not 0 <= k <= n:
        raise ValueError(f"wilson: {k} events in {n} trials")
    p = k / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # At k = 0 or k = n the exact bound is 0 or 1; floating point may miss it by a hair.
    return (0.0 if k == 0 else max(0.0, centre - half), 1.0 if k == n else min(1.0, centre + half))


def bootstrap(
    events: Sequence[int], trials: Sequence[int], seed: int, resamples: int = BOOTSTRAP_RESAMPLES
) -> tuple[float, float]:
    """A 95% percentile bootstrap interval for sum(events) / sum(trials), resampling runs."""
    n = len(events)
    if n == 0:
        return (0.0, 1.0)
    if not any(events):
        return (0.0, 0.0)  # every resample has none either
    rng = random.Random(f"houzzflow-bootstrap-{seed}")
    runs = range(n)
    ratios = []
    for _ in range(resamples):
        picked = rng.choices(runs, k=n)
        placed = sum(map(trials.__getitem__, picked))
        ratios.append(sum(map(events.__getitem__, picked)) / placed if placed else 0.0)
    ratios.sort()
    return (percentile(ratios, 0.025), percentile(ratios, 0.975))
