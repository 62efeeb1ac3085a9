"""Each part of a simulated world draws from its own stream of the seed (kernel.streams).

What a user notices: changing one part of a world (staff habits, the warehouse, the order in
which CartRover sends orders) leaves every other part's choices as they were, so two runs
that differ in one setting differ only by what that setting does.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from houzzflow.simulator.kernel.clock import Clock
from houzzflow.simulator.kernel.streams import COMPONENTS, Keyed, Streams, derive, unit
from houzzflow.simulator.runs.runner import RunResult, run_scenario
from houzzflow.simulator.runs.scenario import load_scenario
from houzzflow.simulator.world.backend import Warehouse

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def run(name: str, *overrides: str) -> RunResult:
    return run_scenario(load_scenario(SCENARIOS / f"{name}.yaml", list(overrides)))


def test_each_component_has_its_own_seed() -> None:
    seeds = {derive(7, name) for name in COMPONENTS}
    assert len(seeds) == len(COMPONENTS)
    assert derive(7, "warehouse") != derive(8, "warehouse")
    assert derive(7, "warehouse") == derive(7, "warehouse")


def test_an_unknown_or_mistyped_stream_is_refused() -> None:
    streams = Streams(1)
    with pytest.raises(ValueError, match="no keyed random stream is named 'arrivals'"):
        streams.keyed("arrivals")
    with pytest.raises(ValueError, match="no sequential random stream is named 'nobody'"):
        streams.sequence("nobody")


def test_keyed_draws_are_uniform_and_differ_by_order_and_slot() -> None:
    keyed = Streams(11).keyed("warehouse")
    ids = [f"1000-0000-0000-{i:04d}" for i in range(4000)]
    draws = [keyed.draw(oid, 0) for oid in ids]
    assert all(0.0 <= d < 1.0 for d in draws)
    assert len(set(draws)) == len(draws)
    # Each tenth of [0, 1) gets its share (400 expected; 5 standard deviations allowed).
    tenths = [0] * 10
    for d in draws:
        tenths[int(d * 10)] += 1
    assert all(300 < n < 500 for n in tenths), tenths
    key = keyed.key(ids[0])
    assert unit(key, 0) != unit(key, 1)
    assert Keyed(keyed.base).draw(ids[0], 3) == keyed.draw(ids[0], 3)


def test_the_warehouse_ships_each_order_the_same_whatever_the_send_order() -> None:
    ids = [f"1656-9927-9120-{i:04d}" for i in range(50)]

    def shipped(order: list[str]) -> dict[str, tuple[int, str]]:
        """Each order's shipping second and tracking numbers, the orders sent in ``order``."""
        clock = Clock()
        warehouse = Warehouse(
            clock=clock, rng=random.Random(5), packages=(1, 3), ship_delay=(60, 7200)
        )
        for oid in order:
            warehouse.send_order(oid)
        seen: dict[str, tuple[int, str]] = {}
        for second in range(7201):
            clock.run(until=second)
            for s in warehouse.shipments():
                seen[s.order_id] = (second, ",".join(p.tracking_number for p in s.packages))
        assert len(seen) == len(order)
        return seen

    forward = shipped(ids)
    assert forward == shipped(list(reversed(ids)))
    assert forward == shipped(ids[::2] + ids[1::2])
    # Tracking numbers are drawn per order: reversing the sends gives each the same ones.
    clock = Clock()
    one = Warehouse(clock=clock, rng=random.Random(5), ship_delay=(0, 0))
    one.send_order(ids[0])
    clock.run(until=1)
    other = Warehouse(clock=Clock(), rng=random.Random(5), ship_delay=(0, 0))
    for oid in reversed(ids):
        other.send_order(oid)
    other.clock.run(until=1)
    assert one.shipped[ids[0]] == other.shipped[ids[0]]


def test_a_given_rng_keeps_its_own_sequence() -> None:
    rng = random.Random(3)
    expected = random.Random(3).random()
    Streams.following(rng)
    assert rng.random() == expected


def test_staff_habits_do_not_move_the_orders_or_the_warehouse() -> None:
    # The same world with staff who charge by hand or not: every order is placed at the same
    # moment with the same id, and each order the warehouse ships goes with the same
    # tracking numbers (the shipments' times differ: staff change when orders are paid).
    without = run("seller-default")
    staffed = run("seller-default", "world.staff.charge={mode: sometimes, probability: 0.5}")
    assert without.houzz is not None and staffed.houzz is not None
    placed = {oid: o.created for oid, o in without.houzz.orders.items()}
    assert placed == {oid: o.created for oid, o in staffed.houzz.orders.items()}
    assert without.warehouse is not None and staffed.warehouse is not None
    both = set(without.warehouse.shipped) & set(staffed.warehouse.shipped)
    assert len(both) > 1000
    for oid in both:
        assert without.warehouse.shipped[oid] == staffed.warehouse.shipped[oid]


def test_the_warehouse_delay_does_not_move_staff_or_customers() -> None:
    # A slower warehouse changes when orders ship, not what staff or customers decide.
    fast = run("loss-legacy-new-staff-process-first")
    slow = run("loss-legacy-new-staff-process-first", "world.backend.ship_delay=[1d, 2d]")
    assert fast.houzz is not None and slow.houzz is not None
    assert list(fast.houzz.orders) == list(slow.houzz.orders)

    def by_staff(result: RunResult) -> dict[str, list[tuple[int, str]]]:
        assert result.houzz is not None
        return {
            oid: [(t, a) for t, actor, a, _ in o.history if actor == "staff" and t < 86400]
            for oid, o in result.houzz.orders.items()
        }

    staff_fast, staff_slow = by_staff(fast), by_staff(slow)
    assert any(staff_fast.values())
    assert staff_fast == staff_slow


@pytest.mark.parametrize(
    "name",
    [
        "seller-default",
        "faults-rate-limit",
        "faults-timeouts-after-write",
        "crash-restart",
        "loss-legacy-new-staff-process-first",
        "safe-vendor",
    ],
)
def test_working_stage_by_stage_moves_no_draw_of_any_other_part(name: str) -> None:
    # CartRover's calls come in another order (every Process, then every Charge, then the
    # sends), yet each order meets the same warehouse, staff, charges and faults, so the
    # whole report is the same. (A fault named by its place among all calls, fail_calls,
    # is the exception by definition: faults-api-errors.)
    by_order = run(name).to_json()
    by_stage = run(name, "world.cartrover.write_order=stage_by_stage").to_json()
    assert by_stage.pop("overrides") == ["world.cartrover.write_order=stage_by_stage"]
    by_order.pop("overrides")
    assert by_stage == by_order
