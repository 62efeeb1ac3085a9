"""A run and a proof's search pause Python's cyclic garbage collector while they work (it
would only re-scan their millions of live objects) and leave it as the caller had it,
whether the work ends, fails, or the caller had paused it already."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from houzzflow.simulator.proof.explorer import Bounds, explore
from houzzflow.simulator.runs.runner import run_scenario
from houzzflow.simulator.runs.scenario import load_scenario
from houzzflow.simulator.strategies import SAFE_SETUPS, resolved

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "seller-default.yaml"


@pytest.fixture
def collector_as(request: pytest.FixtureRequest) -> Iterator[bool]:
    """The collector on or off as the test asks, and put back afterwards."""
    before = gc.isenabled()
    wanted: bool = request.param
    (gc.enable if wanted else gc.disable)()
    yield wanted
    (gc.enable if before else gc.disable)()


def _explore(progress: Callable[..., None]) -> Any:
    return explore(resolved(SAFE_SETUPS["seller-legacy-default"]), Bounds(2, 0), progress=progress)


def _run(progress: Callable[..., None]) -> Any:
    scenario = load_scenario(SCENARIO, ["world.orders.count=20"])
    return run_scenario(scenario, progress=progress)


WORK = [pytest.param(_explore, id="explore"), pytest.param(_run, id="run_scenario")]


@pytest.mark.parametrize("collector_as", [True, False], indirect=True)
@pytest.mark.parametrize("work", WORK)
def test_the_collector_is_paused_during_the_work_and_left_as_it_was(
    collector_as: bool, work: Callable[[Callable[..., None]], Any]
) -> None:
    seen: list[bool] = []
    work(lambda *_: seen.append(gc.isenabled()))
    assert seen
    assert not any(seen)
    assert gc.isenabled() is collector_as


class _Stop(Exception):
    pass


@pytest.mark.parametrize("collector_as", [True], indirect=True)
@pytest.mark.parametrize("work", WORK)
def test_the_collector_comes_back_when_the_work_fails(
    collector_as: bool, work: Callable[[Callable[..., None]], Any]
) -> None:
    def fail(*_: int) -> None:
        raise _Stop

    with pytest.raises(_Stop):
        work(fail)
    assert gc.isenabled()
