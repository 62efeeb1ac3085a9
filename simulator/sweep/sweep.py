"""How bad, how often: a scenario run over many seeds, across a grid of overrides.

``run_sweep`` loads and validates every grid point, then runs ``seeds`` samples of each on
an executor (in this process, a local process pool, or Dask), each sample with a seed
derived from the sweep's seed and its index. Results come back in any order; each grid
point keeps them by index, so the numbers are the same whatever ran them.

Early stopping (``precision``): at fixed checkpoints (20 samples, then about 10% more each
time) a grid point whose headline rates (lost, held, duplicated per 1,000 orders) all have
an interval no wider than ``precision`` stops there. The checkpoints and the samples they
see are fixed by index, never by which sample finished first, so a stopped sweep is as
reproducible as a full one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from houzzflow.simulator.executors import check_jobs, executor_for
from houzzflow.simulator.sweep.grid import (
    PRECISION,
    SAMPLES,
    SEEDS,
    SWEEP_SEED,
    GridPoint,
    Source,
    as_varies,
    load_grid,
)
from houzzflow.simulator.sweep.sample import Sample, Task, run_sample, sample_seed
from houzzflow.simulator.sweep.stats import (
    INTERVALS,
    Distribution,
    bootstrap,
    distribution,
    wilson,
)

HEADLINE = ("lost", "held", "duplicated")  # the rates a sweep reports first and stops on
FIRST_CHECK = 20  # samples before early stopping may stop a grid point
Progress = Callable[[int, int], None]  # (samples done, samples planned)


@dataclass(frozen=True, slots=True)
class Rate:
    """A count per 1,000 orders placed, with its 95% interval."""

    per_1000: float
    low: float
    high: float

    @property
    def width(self) -> float:
        return self.high - self.low

    def to_json(self) -> dict[str, float]:
        return {"per_1000": self.per_1000, "low": self.low, "high": self.high}


def rate_of(events: Sequence[int], placed: Sequence[int], interval: str, seed: int) -> Rate | None:
    """The rate of a count over runs, or None when it is not a share of the orders placed
    (a count larger than its run's orders, such as alerts)."""
    total, orders = sum(events), sum(placed)
    if orders == 0 or any(e > p for e, p in zip(events, placed, strict=True)):
        return None
    if interval == "bootstrap":
        low, high = bootstrap(events, placed, seed)
    else:
        low, high = wilson(total, orders)
    return Rate(1000 * total / orders, 1000 * low, 1000 * high)


@dataclass(frozen=True)
class PointResult:
    """One grid point: its samples in index order, and their statistics."""

    index: int
    values: tuple[tuple[str, str], ...]
    label: str
    samples: tuple[Sample, ...]
    stopped_early: bool
    interval: str
    seed: int  # the sweep's seed (bootstrap resampling is seeded from it)
    counts: dict[str, Distribution] = field(init=False)
    outcomes: dict[str, Distribution] = field(init=False)
    placed: Distribution = field(init=False)
    rates: dict[str, Rate | None] = field(init=False)

    def __post_init__(self) -> None:
        samples = self.samples
        keys = _keys(s.counts for s in samples)
        placed = [s.placed for s in samples]
        counts = {k: [s.counts.get(k, 0) for s in samples] for k in keys}
        outcomes = {
            k: [s.outcomes.get(k, 0) for s in samples] for k in _keys(s.outcomes for s in samples)
        }
        set_ = object.__setattr__  # a frozen dataclass computes its statistics once
        set_(self, "placed", distribution(placed))
        set_(self, "counts", {k: distribution(v) for k, v in counts.items()})
        set_(self, "outcomes", {k: distribution(v) for k, v in outcomes.items()})
        rates = {k: rate_of(v, placed, self.interval, self.seed) for k, v in counts.items()}
        set_(self, "rates", rates)

    @property
    def passed(self) -> int:
        """Samples that met every expectation of the scenario."""
        return sum(s.ok for s in self.samples)


def _keys(dicts: Iterator[dict[str, int]]) -> list[str]:
    """Every key seen, in the order first seen (a key a run lacks counts 0 there)."""
    seen: dict[str, None] = {}
    for d in dicts:
        seen.update(dict.fromkeys(d))
    return list(seen)


@dataclass(frozen=True)
class Sweep:
    """A whole sweep: what was asked, what ran it, and every grid point's results."""

    file: str
    name: str
    description: str
    seed: int
    seeds: int
    overrides: tuple[str, ...]
    vary: tuple[tuple[str, tuple[str, ...]], ...]
    interval: str
    precision: float | None
    executor: dict[str, Any]
    executor_label: str
    version: str
    points: tuple[PointResult, ...]

    @property
    def ok(self) -> bool:
        """Every sample of every grid point met the scenario's expectations."""
        return all(p.passed == len(p.samples) for p in self.points)

    @property
    def exit_code(self) -> int:
        """0 when every sample met the scenario's expectations, else 1 (as the CLI exits)."""
        return 0 if self.ok else 1

    def to_json(self) -> dict[str, Any]:
        """What ``houzzflow sweep --format json`` prints."""
        from houzzflow.simulator.sweep.report import sweep_json

        return sweep_json(self)

    def render(self, fmt: str) -> str:
        """As ``houzzflow sweep --format FMT`` prints it (text, json or csv)."""
        from houzzflow.simulator.sweep.report import render

        return render(self, fmt)


def check_options(
    *, seeds: int, seed: int | None, precision: float | None, interval: str, jobs: int | None
) -> None:
    """Every number within its stated limit; ValueError naming the limit otherwise."""
    for name, value, (low, high) in (("seeds", seeds, SEEDS), ("seed", seed, SWEEP_SEED)):
        if value is None and name == "seed":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name}={value!r}: expected a whole number from {low:,} to {high:,}")
    if precision is not None:
        low_p, high_p = PRECISION
        if isinstance(precision, bool) or not isinstance(precision, int | float):
            raise ValueError(f"precision={precision!r}: expected a number")
        if not low_p <= precision <= high_p:
            raise ValueError(
                f"precision={precision!r}: expected an interval width per 1,000 orders "
                f"from {low_p} to {high_p:g}"
            )
    if interval not in INTERVALS:
        raise ValueError(f"interval={interval!r}: expected one of {', '.join(INTERVALS)}")
    check_jobs(jobs)


def checkpoints(seeds: int) -> list[int]:
    """Where early stopping looks: 20 samples, then about 10% more each time, then all."""
    points = []
    n = FIRST_CHECK
    while n < seeds:
        points.append(n)
        n = max(n + 10, -(-n * 11 // 10))
    return [*points, seeds]


def precise_enough(samples: Sequence[Sample], interval: str, seed: int, precision: float) -> bool:
    """Whether every headline rate's interval is at most ``precision`` wide."""
    placed = [s.placed for s in samples]
    widths = []
    for key in HEADLINE:
        if all(key in s.counts for s in samples):
            rate = rate_of([s.counts[key] for s in samples], placed, interval, seed)
            if rate is not None:
                widths.append(rate.width)
    return bool(widths) and max(widths) <= precision


class _Point:
    """A grid point while its samples come in."""

    def __init__(self, point: GridPoint, seeds: int, precision: float | None) -> None:
        self.point = point
        self.samples: dict[int, Sample] = {}
        self.prefix = 0  # samples 0 .. prefix-1 are all in
        self.checks = checkpoints(seeds) if precision is not None else []
        self.planned = seeds
        self.stopped = False

    def add(self, sample: Sample, interval: str, seed: int, precision: float | None) -> None:
        if sample.index >= self.planned:
            return  # it ran before this point stopped; the point's numbers leave it out
        self.samples[sample.index] = sample
        while self.prefix in self.samples:
            self.prefix += 1
        while precision is not None and self.checks and self.prefix >= self.checks[0]:
            n = self.checks.pop(0)
            if n < self.planned:
                kept = [self.samples[i] for i in range(n)]
                if precise_enough(kept, interval, seed, precision):
                    self.planned, self.stopped = n, True

    @property
    def remaining(self) -> int:
        """Samples still to come (a stopped point has all it keeps)."""
        return 0 if self.stopped else self.planned - len(self.samples)

    def result(self, interval: str, seed: int) -> PointResult:
        kept = tuple(self.samples[i] for i in range(self.planned))
        p = self.point
        return PointResult(p.index, p.values, p.label, kept, self.stopped, interval, seed)


def run_sweep(
    source: Source,
    *,
    seeds: int = 100,
    vary: Sequence[str] | Mapping[str, Sequence[Any]] = (),
    overrides: Sequence[str] | Mapping[str, Any] = (),
    seed: int | None = None,
    jobs: int | None = None,
    scheduler: str | None = None,
    precision: float | None = None,
    interval: str = "wilson",
    progress: Progress | None = None,
) -> Sweep:
    """Run a scenario over ``seeds`` seeds across a grid, as ``houzzflow sweep`` does.

    ``source`` is a scenario file or its content as a mapping. ``vary`` maps dotted keys to
    their values (``{"world.staff.process.probability": [0.1, 0.5]}``) or is ``--vary``
    texts; ``overrides`` are ``--set`` texts or a mapping, for every run; ``seed`` is the
    sweep's seed (default: the scenario's); ``precision`` stops a grid point once its lost,
    held and duplicated rates are known to within that width per 1,000 orders;
    ``interval`` is ``wilson`` or ``bootstrap``; ``jobs`` (processes) and ``scheduler`` (a
    Dask scheduler's address) choose where the runs go; ``progress(done, planned)`` is
    called as runs finish.

    A number past its limit is a ``ValueError``; a scenario, override or grid value that
    cannot be used raises ``InputError`` (every mistake, located) before anything runs; an
    executor that cannot run the samples raises ``ExecutorError``.
    """
    check_options(seeds=seeds, seed=seed, precision=precision, interval=interval, jobs=jobs)
    varies = as_varies(vary)
    grid = load_grid(source, overrides, varies)
    if len(grid) * seeds > SAMPLES:
        raise ValueError(
            f"{len(grid):,} grid points x {seeds:,} seeds = {len(grid) * seeds:,} runs; "
            f"at most {SAMPLES:,}"
        )
    first = grid[0].scenario
    sweep_seed = first.seed if seed is None else seed
    seeds_of = [sample_seed(sweep_seed, i) for i in range(seeds)]
    points = [_Point(p, seeds, precision) for p in grid]

    def tasks() -> Iterator[tuple[tuple[int, int], Task]]:
        for i in range(seeds):  # every point moves forward together
            for p in points:
                if i < p.planned:
                    yield (p.point.index, i), (p.point.scenario, p.point.index, i, seeds_of[i])

    with executor_for(jobs=jobs, scheduler=scheduler, tasks=len(grid) * seeds) as executor:
        remaining = len(grid) * seeds
        for done, (_, sample) in enumerate(executor.imap_unordered(run_sample, tasks()), 1):
            point = points[sample.point]
            before = point.remaining
            point.add(sample, interval, sweep_seed, precision)
            remaining -= before - point.remaining
            if progress is not None:
                progress(done, done + remaining)
        described, label = executor.describe(), executor.label()
    return Sweep(
        file=first.file,
        name=first.name,
        description=first.spec.description,
        seed=sweep_seed,
        seeds=seeds,
        overrides=first.shown_overrides[: len(first.overrides) - len(varies)],
        vary=tuple(varies),
        interval=interval,
        precision=precision,
        executor=described,
        executor_label=label,
        version=_version(),
        points=tuple(p.result(interval, sweep_seed) for p in points),
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("houzzflow")
    except PackageNotFoundError:  # a checkout used without installing
        return "0+unknown"
