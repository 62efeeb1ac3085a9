"""Orders judged as they settle (``invariants.Settled``) give the verdict a full pass gives.

A run judges an order confirmed the common way while the world goes on, and the final
``check`` covers only the rest. These tests run random worlds (any policy, faults, crashes,
short or no drains, held orders resolved or not) and judge the same observations twice:
with what settled during the run, and over every order from scratch. Violations (in their
order, with their messages), outcomes, fates and counts must be the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from observed import end_state

from houzzflow.engine.connector import ConnectorState
from houzzflow.engine.ports import Package, Shipment
from houzzflow.simulator.houzz.state import FakeHouzz
from houzzflow.simulator.kernel.clock import Clock
from houzzflow.simulator.runs.invariants import Settled, Verdict, _check, check
from houzzflow.simulator.runs.runner import _Run
from houzzflow.simulator.runs.scenario import load_scenario
from houzzflow.simulator.strategies import fault_plans, policy_files, scenario_text, scenarios

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def _run(scenario: Any, overrides: dict[str, Any] | None = None) -> _Run:
    run = _Run(load_scenario(scenario, overrides or {}), timeline=None)
    run.run(None)
    return run


def _both(run: _Run) -> tuple[Verdict, Verdict]:
    """(the verdict with what settled during the run, the verdict of a pass over all)."""
    observed = run.observations()
    observed.health = run.health()
    return check(observed, run.settled), check(observed)


def _same(incremental: Verdict, full: Verdict) -> None:
    assert incremental.violations == full.violations
    assert list(incremental.outcomes.items()) == list(full.outcomes.items())
    assert list(incremental.fates.items()) == list(full.fates.items())
    assert incremental == full


@st.composite
def _worlds(draw: st.DrawFn) -> dict[str, Any]:
    """Any policy (safe or not) in a world with faults and crashes, a drain that may be
    too short or off, and held orders a person may resolve."""
    policy = policy_files(safe=True) | policy_files(safe=None)  # half of them safe, at least
    scenario = draw(scenarios(policy=policy, faults=fault_plans(max_rate=0.3), max_orders=60))
    scenario["drain"] = draw(st.sampled_from([0, "2h", "1d", scenario["drain"]]))
    resolve = draw(st.sampled_from(["never", "always", "sometimes"]))
    scenario["world"]["staff"]["resolve_errors"] = {"mode": resolve, "delay": ["5m", "3h"]}
    return scenario


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=_worlds())
def test_orders_judged_as_they_settle_give_the_verdict_of_a_full_pass(
    scenario: dict[str, Any],
) -> None:
    note(scenario_text(scenario))
    run = _run(scenario)
    incremental, full = _both(run)
    assert run.settled is not None
    told, failed = run.settled.told, len(run.settled.failed)
    note(f"{told} of {len(run.houzz.orders)} orders told Shipped, {failed} not the common way")
    _same(incremental, full)


def test_most_orders_of_a_plain_run_are_judged_before_the_end() -> None:
    run = _run(SCENARIOS / "seller-default.yaml", {"world.orders.count": 300})
    incremental, full = _both(run)
    _same(incremental, full)
    assert run.settled is not None
    # Every order confirmed the common way before the last poll was judged during the run.
    # Nearly every order was judged when Houzz shipped it, and the end took it as judged.
    assert run.settled.told - len(run.settled.failed) > full.fates["confirmed"] * 0.9
    assert _check(run.observations(), run.settled) == incremental


def test_a_settled_order_received_again_is_judged_again() -> None:
    """A second receipt after an order settled is a duplicate: the final pass must see it."""
    run = _run(SCENARIOS / "seller-default.yaml", {"world.orders.count": 50})
    assert run.settled is not None
    settled = run.settled
    confirmed = (o for o, st in run.state().ledger.items() if st == "Confirmed")
    oid = next(o for o in confirmed if o not in settled.failed)
    run.warehouse.send_order(oid)
    incremental, full = _both(run)
    _same(incremental, full)
    assert [v.order_id for v in incremental.violations["duplicated"]] == [oid]


def test_a_crashing_faulty_run_agrees_too() -> None:
    run = _run(SCENARIOS / "crash-restart.yaml", {"world.orders.count": 400})
    incremental, full = _both(run)
    _same(incremental, full)
    assert run.settled is not None and run.settled.told


def _shipped(houzz: FakeHouzz, received: dict[str, int], shipment: dict[str, Shipment]) -> str:
    """An order the warehouse received and shipped, then CartRover posted its tracking."""
    oid = houzz.place_order()
    for action in ("Process", "Charge"):
        assert houzz.act(oid, action, "connector").ok
    received[oid] = 1
    shipment[oid] = Shipment(oid, (Package("T1", "UPS"),))
    assert houzz.act(oid, "Ship", "connector", tracking_number="T1").ok
    return oid


def test_what_is_judged_when_houzz_ships_an_order_agrees_with_the_end() -> None:
    """Judged when Houzz tells it Shipped, counted at the end once CartRover has it
    Confirmed: an order received again after that (touched), one shipped with other numbers
    (failed) and one CartRover never confirms are judged at the end like any other."""
    houzz = FakeHouzz(program="seller", era="legacy", clock=Clock())
    received: dict[str, int] = {}
    shipment: dict[str, Shipment] = {}
    settled = Settled(received, shipment, {}, {})
    houzz.subscribe(settled.shipped, statuses=("Shipped",))
    shipment["other"] = Shipment("other", (Package("T2", "UPS"),))  # a later one's numbers
    fine, again, never = (_shipped(houzz, received, shipment) for _ in range(3))
    oid = houzz.place_order()
    for action in ("Process", "Charge"):
        assert houzz.act(oid, action, "connector").ok
    received[oid], shipment[oid] = 1, shipment.pop("other")
    assert houzz.act(oid, "Ship", "connector", tracking_number="T1").ok  # not the T2 shipped
    received[again] = 2
    settled.touched(again)
    ledger = dict.fromkeys([fine, again, oid], "Confirmed")
    ledger[never] = "Shipped"
    observed = end_state(
        houzz=houzz, state=ConnectorState(ledger=ledger), received=received, shipped=shipment
    )
    assert settled.told == 4 and settled.failed == {oid}
    incremental = check(observed, settled)
    _same(incremental, check(observed))
    assert incremental.fates == {"confirmed": 2, "unconfirmed": 2}
    assert [v.order_id for v in incremental.violations["duplicated"]] == [again]
    assert [v.order_id for v in incremental.violations["unconfirmed"]] == [never, oid]


def test_an_order_confirmed_that_houzz_never_told_shipped_makes_the_end_look_at_all() -> None:
    """CartRover's ledger says Confirmed, Houzz never shipped it (a world where a reply told
    CartRover more than happened): nothing was judged of it, so the end must look."""
    houzz = FakeHouzz(program="seller", era="legacy", clock=Clock())
    received: dict[str, int] = {}
    shipment: dict[str, Shipment] = {}
    settled = Settled(received, shipment, {}, {})
    houzz.subscribe(settled.shipped, statuses=("Shipped",))
    fine = _shipped(houzz, received, shipment)
    unshipped = houzz.place_order()
    received[unshipped] = 1
    shipment[unshipped] = Shipment(unshipped, (Package("T9", "UPS"),))
    ledger = {fine: "Confirmed", unshipped: "Confirmed"}
    observed = end_state(
        houzz=houzz, state=ConnectorState(ledger=ledger), received=received, shipped=shipment
    )
    incremental = check(observed, settled)
    _same(incremental, check(observed))
    assert [v.order_id for v in incremental.violations["unconfirmed"]] == [unshipped]
