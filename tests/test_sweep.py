"""Sweeps: how bad, how often, over seeds and a grid of overrides, on any executor.

What a user relies on: the same numbers whatever ran the sweep (this process, a local pool,
a Dask cluster); any run of a sweep rerun alone with ``houzzflow run --seed``; a grid that
is every combination; intervals that are the textbook ones; early stopping that stops and
stays reproducible; bad input stopped before anything runs, located, exit 2.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import houzzflow
from houzzflow.engine.diagnostics import InputError
from houzzflow.simulator import cli
from houzzflow.simulator.cli import main
from houzzflow.simulator.executors import InProcess, LocalPool, executor_for
from houzzflow.simulator.sweep import grid
from houzzflow.simulator.sweep.grid import expand, parse_vary, split_values
from houzzflow.simulator.sweep.sample import SEED_BITS, Sample, sample_seed
from houzzflow.simulator.sweep.stats import distribution, percentile, wilson
from houzzflow.simulator.sweep.sweep import HEADLINE, checkpoints, rate_of

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "sweeps" / "staff-sometimes.yaml"
SMALL = {"world.orders.count": 40}  # a few hundredths of a second a run
VARY = {"world.staff.process.probability": [0.1, 0.5]}
# Dask clusters in tests listen on loopback only, on free ports.
LOOPBACK = {
    "host": "127.0.0.1",
    "dashboard_address": "127.0.0.1:0",
    "worker_dashboard_address": "127.0.0.1:0",
}


def small_sweep(**options: Any) -> houzzflow.Sweep:
    options = {"seeds": 6, "vary": VARY, "overrides": SMALL, "jobs": 1, **options}
    return houzzflow.sweep(SCENARIO, **options)


def per_seed(sweep: houzzflow.Sweep) -> list[list[Sample]]:
    return [list(point.samples) for point in sweep.points]


def cli_run(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, args)
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(autouse=True)
def _in_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


# -- seeds and the grid ----------------------------------------------------------------------


def test_each_run_seed_comes_from_the_sweep_seed_and_the_index() -> None:
    seeds = [sample_seed(7, i) for i in range(1000)]
    assert seeds == [sample_seed(7, i) for i in range(1000)]  # a function of (seed, index)
    assert len(set(seeds)) == 1000
    assert all(0 <= s < 2**SEED_BITS for s in seeds)
    # Neighbouring sweeps share no run: sweep 8 is not sweep 7 shifted by one.
    assert not set(seeds) & {sample_seed(8, i) for i in range(1000)}


def test_every_grid_point_runs_the_same_seeds() -> None:
    sweep = small_sweep(seeds=3)
    seeds = [[s.seed for s in p.samples] for p in sweep.points]
    assert seeds == [[sample_seed(sweep.seed, i) for i in range(3)]] * 2
    assert sweep.seed == 16  # the scenario's own seed, by default
    assert small_sweep(seeds=3, seed=5).points[0].samples[0].seed == sample_seed(5, 0)


def test_the_grid_is_every_combination_the_first_vary_slowest() -> None:
    varies = [parse_vary("a=1,2"), parse_vary("b=x,[1h, 2h],{k: 1}")]
    assert varies[1] == ("b", ("x", "[1h, 2h]", "{k: 1}"))
    points = expand(varies)
    assert len(points) == 6
    assert points[0] == (("a", "1"), ("b", "x"))
    assert points[3] == (("a", "2"), ("b", "x"))
    assert expand([]) == [()]
    assert split_values("'a,b',c") == ["'a,b'", "c"]


def test_a_sweep_varies_scenario_and_policy_keys() -> None:
    sweep = small_sweep(
        seeds=2,
        vary={"world.staff.process.probability": [0.5], "policy.poll_interval": ["5m", "1h"]},
    )
    assert [p.label for p in sweep.points] == [
        "world.staff.process.probability=0.5, policy.poll_interval=5m",
        "world.staff.process.probability=0.5, policy.poll_interval=1h",
    ]
    assert sweep.points[1].samples[0].counts != sweep.points[0].samples[0].counts


# -- statistics --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        # Newcombe (1998), Statistics in Medicine 17:857, table I, method 3 (Wilson score)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        # and the symmetric textbook cases
        (5, 10, 0.2366, 0.7634),
        (20, 20, 0.8389, 1.0),
    ],
)
def test_the_wilson_interval_is_the_textbook_one(k: int, n: int, low: float, high: float) -> None:
    assert wilson(k, n) == pytest.approx((low, high), abs=5e-5)


def test_distributions_interpolate_between_ranks() -> None:
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    d = distribution(list(range(101)))
    assert (d.mean, d.median, d.p95, d.max) == (50.0, 50.0, 95.0, 100)
    assert distribution([3]).p95 == 3


def test_rates_are_per_1000_orders_placed() -> None:
    rate = rate_of([5, 0], [5, 5], "wilson", 0)
    assert rate is not None and rate.per_1000 == 500.0
    assert (rate.low, rate.high) == pytest.approx((236.5931, 763.4069), abs=1e-3)
    assert rate_of([7], [5], "wilson", 0) is None  # more than the orders: not a share of them
    boot = rate_of([1, 2, 0, 3], [10, 10, 10, 10], "bootstrap", 1)
    assert boot is not None and boot.low <= 150 <= boot.high
    assert boot == rate_of([1, 2, 0, 3], [10, 10, 10, 10], "bootstrap", 1)  # seeded


def test_every_count_key_is_aggregated_and_missing_keys_degrade() -> None:
    sweep = small_sweep(seeds=2)
    point = sweep.points[0]
    keys = set(point.samples[0].counts)
    assert set(point.counts) == keys and set(point.rates) == keys
    assert set(HEADLINE) <= keys
    # A count a newer houzzflow adds (or an older one lacks) is aggregated all the same.
    from houzzflow.simulator.sweep.sweep import PointResult

    extra = {**point.samples[0].counts, "stuck": 3}
    del extra["held"]
    samples = (point.samples[0].__class__(**{**_fields(point.samples[0]), "counts": extra}),)
    made = PointResult(0, (), "x", samples, False, "wilson", 0)
    assert made.counts["stuck"].max == 3 and "held" not in made.rates


def _fields(sample: Sample) -> dict[str, Any]:
    return {name: getattr(sample, name) for name in Sample.__slots__}


# -- the same numbers whatever ran them ---------------------------------------------------------


def test_in_process_and_the_local_pool_give_identical_runs() -> None:
    alone = small_sweep()
    pooled = small_sweep(jobs=2)
    assert alone.executor == {"kind": "in-process", "workers": 1}
    assert pooled.executor == {"kind": "local pool", "workers": 2}
    assert per_seed(alone) == per_seed(pooled)
    alone_json, pooled_json = alone.to_json(), pooled.to_json()
    del alone_json["executor"], pooled_json["executor"]
    assert alone_json == pooled_json


@pytest.fixture(scope="module")
def dask_scheduler() -> Iterator[str]:
    """A Dask LocalCluster on loopback: two single-threaded workers in this process."""
    pytest.importorskip("distributed")
    import dask
    from distributed import LocalCluster

    settings = {"distributed.comm.timeouts.connect": "10s", "distributed.admin.tick.limit": "30s"}
    with (
        dask.config.set(settings),
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            protocol="tcp",
            **LOOPBACK,
        ) as cluster,
    ):
        yield cluster.scheduler_address


def test_a_dask_cluster_gives_the_local_pool_s_runs(dask_scheduler: str) -> None:
    pooled = small_sweep(jobs=2)
    on_dask = small_sweep(scheduler=dask_scheduler)
    assert on_dask.executor == {"kind": "dask", "workers": 2, "scheduler": dask_scheduler}
    assert per_seed(on_dask) == per_seed(pooled)


def test_the_cli_runs_on_the_scheduler_named_in_the_environment(dask_scheduler: str) -> None:
    os.environ["HOUZZFLOW_DASK_SCHEDULER"] = dask_scheduler
    try:
        status, out, _ = cli_run(
            [
                "sweep",
                str(SCENARIO),
                "--seeds",
                "3",
                "--set",
                "world.orders.count=40",
                "--format",
                "json",
            ]
        )
    finally:
        del os.environ["HOUZZFLOW_DASK_SCHEDULER"]
    assert status == 0
    assert json.loads(out)["executor"]["scheduler"] == dask_scheduler


def test_the_matrix_runs_on_every_executor(dask_scheduler: str) -> None:
    from houzzflow.simulator.proof.explorer import Bounds
    from houzzflow.simulator.proof.matrix import WORLDS, run_matrix

    worlds = WORLDS[:4]
    bounds = Bounds(orders=1, faults=0)
    alone = run_matrix(bounds, worlds=worlds, jobs=1)
    assert [c.world for c in alone[::32]] == list(worlds)
    assert run_matrix(bounds, worlds=worlds, jobs=2) == alone
    assert run_matrix(bounds, worlds=worlds, scheduler=dask_scheduler) == alone


def _crash_once(marker: str) -> int:
    """Kill the worker process the first time it is called (a worker lost mid-task)."""
    if not os.path.exists(marker):
        Path(marker).write_text("crashed", encoding="utf-8")
        os._exit(1)
    return os.getpid()


def test_the_local_pool_restarts_a_dead_worker_and_reruns_its_task(tmp_path: Path) -> None:
    marker = str(tmp_path / "crashed")
    pool = LocalPool(2)
    with pool:
        results = dict(pool.imap_unordered(_crash_once, [(k, marker) for k in range(6)]))
    assert sorted(results) == list(range(6))
    assert pool.restarts == 1


def test_a_dask_worker_crash_is_retried(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    from houzzflow.simulator.executors.dask import DaskExecutor

    marker = str(tmp_path / "crashed")
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        **LOOPBACK,
    ) as cluster:
        executor = DaskExecutor(cluster.scheduler_address)
        with executor:
            results = dict(executor.imap_unordered(_crash_once, [(k, marker) for k in range(4)]))
    assert sorted(results) == list(range(4))
    assert Path(marker).exists()


def test_tiny_jobs_run_in_this_process() -> None:
    assert isinstance(executor_for(tasks=2), InProcess)
    assert isinstance(executor_for(jobs=1, tasks=100), InProcess)
    assert isinstance(executor_for(jobs=2, tasks=100), LocalPool)


# -- one run of a sweep, again -----------------------------------------------------------------


def test_houzzflow_run_seed_reproduces_any_run_of_a_sweep() -> None:
    sweep = small_sweep(seeds=4)
    point = sweep.points[1]
    sample = point.samples[3]
    sets = [f"--set={k}={v}" for k, v in SMALL.items()] + [
        f"--set={k}={v}" for k, v in point.values
    ]
    status, out, _ = cli_run(
        ["run", str(SCENARIO), *sets, "--seed", str(sample.seed), "--format", "json"]
    )
    (run,) = json.loads(out)["scenarios"]
    assert run["counts"] == sample.counts
    assert run["orders"]["outcomes"] == sample.outcomes
    assert run["seed"] == sample.seed
    assert status == (0 if sample.ok else 1)
    # --seed N is --set seed=N
    _, same, _ = cli_run(
        ["run", str(SCENARIO), *sets, f"--set=seed={sample.seed}", "--format=json"]
    )
    assert json.loads(same)["scenarios"][0]["counts"] == sample.counts


def test_houzzflow_run_states_the_limit_of_its_seed() -> None:
    status, _, err = cli_run(["run", str(SCENARIO), "--seed", "-1"])
    assert status == 2 and "0<=x<=9223372036854775807" in err
    assert "Traceback" not in err


def test_the_text_report_says_how_to_rerun_a_run() -> None:
    sweep = small_sweep(seeds=2)
    text = sweep.render("text")
    seed = sweep.points[0].samples[0].seed
    assert (
        f"houzzflow run {sweep.file} --set world.orders.count=40 "
        f"--set world.staff.process.probability=0.1 --seed {seed}"
    ) in text


# -- early stopping ------------------------------------------------------------------------------


def test_checkpoints_are_fixed_by_index() -> None:
    assert checkpoints(20) == [20]
    assert checkpoints(100)[:4] == [20, 30, 40, 50]
    assert checkpoints(1000)[-1] == 1000
    steps = checkpoints(100_000)
    assert steps == sorted(set(steps)) and len(steps) < 100


class Backwards(InProcess):
    """An executor whose results arrive in the reverse order of the tasks."""

    def imap_unordered(self, fn: Any, items: Any) -> Any:
        return reversed(list(super().imap_unordered(fn, items)))


def test_early_stopping_stops_and_stays_reproducible(monkeypatch: pytest.MonkeyPatch) -> None:
    loose = small_sweep(seeds=60, precision=200.0, vary={"world.staff.process.probability": [0.5]})
    (point,) = loose.points
    assert point.stopped_early and len(point.samples) == 20
    assert [s.index for s in point.samples] == list(range(20))
    assert all(r is None or r.width <= 200 for k, r in point.rates.items() if k in HEADLINE)
    pooled = small_sweep(
        seeds=60, precision=200.0, vary={"world.staff.process.probability": [0.5]}, jobs=2
    )
    assert per_seed(pooled) == per_seed(loose)
    # Runs that come back last-first (as a busy cluster may send them) change nothing.
    monkeypatch.setattr("houzzflow.simulator.sweep.sweep.executor_for", lambda **_: Backwards())
    backwards = small_sweep(
        seeds=60, precision=200.0, vary={"world.staff.process.probability": [0.5]}
    )
    assert per_seed(backwards) == per_seed(loose)
    tight = small_sweep(seeds=25, precision=0.001, vary={"world.staff.process.probability": [0.5]})
    assert not tight.points[0].stopped_early and len(tight.points[0].samples) == 25


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ["--vary", "world.staff.process.probability=0.1,2"],
            "--vary world.staff.process.probability=2",
        ),
        (
            ["--vary", "world.nope=1,2"],
            "--vary world.nope=1: error SCHEMA001 unknown setting 'nope'",
        ),
        (
            ["--vary", "policy.poll_interval=15m,xx"],
            "--vary policy.poll_interval=xx: error SCHEMA003",
        ),
        (["--vary", "novalue"], "error VARY001 'novalue' is not dotted.key=v1,v2,..."),
        (["--vary", "seed=1,2"], "a sweep draws each run's seed itself"),
        (["--vary", "world.orders.count=1,,2"], "an empty value"),
        (["--vary", "a=1", "--vary", "a=2"], "a is varied twice"),
        (["--set", "world.orders.count=5", "--vary", "world.orders.count=1,2"], "both set"),
        (["--vary", "world.orders.count=" + ",".join(map(str, range(101)))], "at most 100"),
        (
            [
                "--vary",
                "world.orders.count=" + ",".join(map(str, range(40))),
                "--vary",
                "world.orders.items=" + ",".join(map(str, range(1, 40))),
            ],
            "the grid has 1,560 points; at most 1,000",
        ),
        (["--seeds", "0"], "0 is not in the range 1<=x<=100000"),
        (["--seeds", "100001"], "1<=x<=100000"),
        (["--seed", "-1"], "-1 is not in the range"),
        (["--precision", "0"], "0.001<=x<=1000"),
        (["--jobs", "0"], "1<=x<=256"),
        (["--interval", "exact"], "'exact' is not one of"),
        (
            ["--seeds", "100000", "--vary", "world.orders.count=" + ",".join(map(str, range(11)))],
            "11 grid points x 100,000 seeds = 1,100,000 runs; at most 1,000,000",
        ),
    ],
)
def test_bad_input_is_located_and_exits_2_before_anything_runs(
    args: list[str], says: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[Any] = []
    monkeypatch.setattr("houzzflow.simulator.sweep.sweep.executor_for", ran.append)
    status, out, err = cli_run(["sweep", str(SCENARIO), *args])
    assert status == 2
    assert says in err, err
    assert "Traceback" not in err and not out
    assert not ran


def test_a_missing_scenario_and_an_unreachable_scheduler_exit_2(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    status, _, err = cli_run(["sweep", "no-such-file.yaml"])
    assert status == 2 and "no-such-file.yaml" in err
    pytest.importorskip("distributed")
    monkeypatch.setattr("houzzflow.simulator.executors.dask.CONNECT_TIMEOUT", 1)
    status, _, err = cli_run(["sweep", str(SCENARIO), "--scheduler", "tcp://127.0.0.1:1"])
    assert status == 2 and "cannot reach the Dask scheduler at 'tcp://127.0.0.1:1'" in err


def test_the_python_api_checks_its_limits() -> None:
    for bad in ({"seeds": 0}, {"seed": -1}, {"precision": 0.0}, {"jobs": 0}, {"interval": "x"}):
        with pytest.raises(ValueError, match="expected"):
            small_sweep(**bad)
    with pytest.raises(InputError) as caught:
        small_sweep(vary={"world.staff.process.probability": [2]})
    assert str(caught.value.diagnostics[0].location) == "--vary world.staff.process.probability=2"


def test_the_cli_states_the_same_limits_as_the_library() -> None:
    assert cli.SWEEP_SEEDS == grid.SEEDS
    assert cli.SWEEP_PRECISION == grid.PRECISION
    assert (0, cli.SEED_MAX) == grid.SWEEP_SEED


# -- what it prints ------------------------------------------------------------------------------


def test_json_is_the_api_s_and_records_version_and_executor() -> None:
    status, out, _ = cli_run(
        [
            "sweep",
            str(SCENARIO),
            "--seeds",
            "6",
            "--jobs",
            "1",
            "--format",
            "json",
            "--set",
            "world.orders.count=40",
            "--vary",
            "world.staff.process.probability=0.1,0.5",
        ]
    )
    data = json.loads(out)
    assert status == 0 and data["ok"]
    assert data == small_sweep().to_json()
    assert data["houzzflow"] == houzzflow.__version__
    assert data["executor"] == {"kind": "in-process", "workers": 1}
    assert data["vary"] == {"world.staff.process.probability": ["0.1", "0.5"]}
    point = data["points"][1]
    assert point["runs"] == 6 and len(point["samples"]) == 6
    assert set(point["rates_per_1000"]["lost"]) == {"per_1000", "low", "high"}
    assert set(point["counts"]["lost"]) == {"mean", "median", "p95", "max"}


def test_csv_has_one_row_per_grid_point_and_measure() -> None:
    sweep = small_sweep(seeds=3)
    rows = list(csv.DictReader(io.StringIO(sweep.render("csv"))))
    assert list(rows[0]) == [
        "point", "world.staff.process.probability", "runs", "measure", "key",
        "mean", "median", "p95", "max", "per_1000", "low", "high",
    ]  # fmt: skip
    for point in sweep.points:
        mine = [r for r in rows if r["point"] == str(point.index)]
        assert len(mine) == 1 + len(point.counts) + len(point.outcomes)
        lost = next(r for r in mine if r["key"] == "lost")
        rate = point.rates["lost"]
        assert rate is not None and float(lost["per_1000"]) == pytest.approx(rate.per_1000)
        assert mine[0]["measure"] == "placed"


def test_the_text_report_gives_rates_with_the_interval_named() -> None:
    text = small_sweep(seeds=3).render("text")
    assert "Per 1,000 orders placed (95% Wilson score interval over orders placed)" in text
    boot = small_sweep(seeds=3, interval="bootstrap").render("text")
    assert "95% percentile bootstrap over runs" in boot
    assert "ran on: in-process, 1 worker" in text


def test_a_sweep_exits_1_when_a_run_misses_the_scenario_s_expectations() -> None:
    status, out, _ = cli_run(
        [
            "sweep",
            str(SCENARIO),
            "--seeds",
            "2",
            "--jobs",
            "1",
            "--set",
            "world.orders.count=40",
            "--set",
            "expect.lost=0",
            "--vary",
            "world.staff.process.probability=0.9",
        ]
    )
    assert status == 1
    assert "0 of 2 runs met the scenario's expectations" in out


def test_progress_counts_up_to_the_runs_kept() -> None:
    seen: list[tuple[int, int]] = []
    sweep = small_sweep(seeds=4, progress=lambda done, total: seen.append((done, total)))
    assert [done for done, _ in seen] == list(range(1, 9))
    assert seen[-1] == (8, 8) and all(total == 8 for _, total in seen)
    assert sum(len(p.samples) for p in sweep.points) == 8


def test_the_bundled_sweep_scenario_is_valid_and_meets_its_expectations() -> None:
    from houzzflow.simulator.runs.runner import run_scenario
    from houzzflow.simulator.runs.scenario import load_scenario
    from houzzflow.simulator.validate import json_schema

    jsonschema = pytest.importorskip("jsonschema")
    for path in sorted((ROOT / "scenarios" / "sweeps").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert text.startswith("#")
        jsonschema.validate(yaml.safe_load(text), json_schema("scenario"))
        assert run_scenario(load_scenario(path)).ok
