"""The per-order plan of one houzzflow run, for the baselines to replay with their own mechanism.

A baseline must reach the same outcomes as houzzflow for the same seed, or its speed means
nothing. So houzzflow runs the scenario once on a recording clock (``run_scenario``'s
``clock``), which notes the inputs its world generated, in the order they ran, by the
labels the world schedules them with: when each order was placed, when its customer
cancels it, how long the warehouse takes to ship it, and in how many packages. That plan
is all a baseline gets; the lifecycle (CartRover's polls, Process, Charge, send, ship,
confirm, Order Cancel Download) it works out for itself.

houzzflow's clock counts whole seconds and runs the events of one second in the order they
were scheduled. A customer may act in the very second CartRover polls, before or after the
poll ran. The plan keeps that order as time: an event in a poll's second is put half a
second before or after the poll, as it ran. Baseline times never tie with a poll, so their
own tie rules cannot change an outcome.

Outcomes are counted in one vocabulary for houzzflow and the baselines (``outcomes``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import NamedTuple, Protocol

from houzzflow.engine.decisions import decide
from houzzflow.simulator.kernel.clock import Callback, Clock
from houzzflow.simulator.runs.invariants import CONNECTOR_OUTCOMES
from houzzflow.simulator.runs.runner import CONNECTOR_TICK, RunResult, run_scenario
from houzzflow.simulator.runs.scenario import Scenario
from houzzflow.simulator.world.backend import SHIPMENT
from houzzflow.simulator.world.customers import ARRIVAL, CUSTOMER_CANCEL

# The outcome vocabulary every model counts in.
CONFIRMED = "confirmed"
CANCELLED_AT_WAREHOUSE = "cancelled at the warehouse"
SKIPPED_CANCELLED = "skipped: cancelled before CartRover loaded it"
CANCELLED_BEFORE_SEND = "cancelled before it was sent"
UNFINISHED = "loaded, not finished when the run ended"
NOT_SEEN = "never loaded, not skipped"
TRACKING_POSTED = "tracking numbers posted to Houzz"  # a count of numbers, not orders

Outcomes = Counter[str]

_CONNECTOR_KEYS = {
    CONNECTOR_OUTCOMES["Confirmed"]: CONFIRMED,
    CONNECTOR_OUTCOMES["Canceled"]: CANCELLED_AT_WAREHOUSE,
    CONNECTOR_OUTCOMES["CancelSending"]: CANCELLED_BEFORE_SEND,
    CONNECTOR_OUTCOMES["New"]: UNFINISHED,
    CONNECTOR_OUTCOMES["AtWMS"]: UNFINISHED,
    CONNECTOR_OUTCOMES["Shipped"]: UNFINISHED,
    "placed, not yet seen by CartRover": NOT_SEEN,
    "never seen by CartRover": NOT_SEEN,
}

# The labels of the clock events ``_RecordingClock`` notes; others it only runs.
_RECORDED = frozenset((CONNECTOR_TICK, ARRIVAL, CUSTOMER_CANCEL, SHIPMENT))


class PlanError(RuntimeError):
    """houzzflow's run cannot be replayed by the baselines (the plan would be wrong)."""


class OrderPlan(NamedTuple):
    """One order's inputs, in seconds (see the module doc about half seconds)."""

    placed_at: float
    cancel_at: float | None  # when the customer cancels it; None: never
    ship_delay: float | None  # from its send to its shipping; None: it was never sent
    packages: int  # parcels shipped (tracking numbers); 0 if it never shipped


@dataclass(frozen=True)
class Plan:
    """Everything a baseline replays: the orders in placement order, CartRover's poll
    interval (the first poll at second 0) and the end of the run (inclusive)."""

    orders: tuple[OrderPlan, ...]
    poll_interval: int
    end: int

    @property
    def polls(self) -> range:
        return range(0, self.end + 1, self.poll_interval)


@dataclass
class _Notes:
    ticks: list[int] = field(default_factory=list)
    arrivals: dict[int, bool] = field(default_factory=dict)  # second -> ran after its poll
    cancels: dict[str, int] = field(default_factory=dict)  # order -> due second
    ships: dict[str, tuple[int, int]] = field(default_factory=dict)  # order -> (sent, due)
    after_poll: dict[tuple[str, str], bool] = field(default_factory=dict)  # (label, order)


class _RecordingClock(Clock):
    """houzzflow's own clock, noting the world's inputs as they are scheduled and run (by
    the labels the world gives its events: see ``houzzflow.simulator.kernel.clock``)."""

    def __init__(self) -> None:
        super().__init__()
        self.notes = _Notes()

    def at(
        self, when: int, callback: Callback, priority: int = 0, label: str = "", order_id: str = ""
    ) -> None:
        if label in _RECORDED:
            due = max(when, self.now)  # the clock runs an event due in the past now
            if label == CUSTOMER_CANCEL:
                self.notes.cancels[order_id] = due
            elif label == SHIPMENT:
                self.notes.ships[order_id] = (self.now, due)
            # Wrapped to note when it runs: before or after a poll of the same second.
            callback = partial(self._ran, label, order_id, callback)
        super().at(when, callback, priority, label, order_id)

    def _ran(self, label: str, order_id: str, callback: Callback) -> None:
        notes = self.notes
        now = self.now
        if label == CONNECTOR_TICK:
            notes.ticks.append(now)
        else:
            after = bool(notes.ticks) and notes.ticks[-1] == now
            if label == ARRIVAL:
                notes.arrivals[now] = after
            else:
                notes.after_poll[label, order_id] = after
        callback()


def extract_plan(scenario: Scenario) -> tuple[Plan, Outcomes]:
    """Run ``scenario`` with houzzflow, recording its world; return the plan and the
    outcomes houzzflow reached. Raises ``PlanError`` when the run cannot be replayed."""
    clock = _RecordingClock()
    result = run_scenario(scenario, clock=clock)
    notes = clock.notes
    interval = scenario.policy.poll_interval
    end = scenario.duration
    plan = Plan(_order_plans(result, notes), interval, end)
    if notes.ticks != list(plan.polls):
        raise PlanError(
            f"houzzflow's connector did not poll exactly every {interval} s from 0 to {end} "
            f"({len(notes.ticks)} ticks): the baselines model a connector without faults"
        )
    _check_recorded(result, notes)
    return plan, outcomes(result)


def _check_recorded(result: RunResult, notes: _Notes) -> None:
    """Every placement, customer cancel and shipment of the run was recorded (else the
    world no longer labels them all on the clock)."""
    assert result.houzz is not None and result.warehouse is not None
    orders = result.houzz.orders.values()
    cancelled = sum(
        1 for o in orders if any(h[1] == "customer" and h[2] == "Cancel" for h in o.history)
    )
    missing = [
        what
        for what, seen, happened in (
            ("order arrivals", len(notes.arrivals), len(result.houzz.orders)),
            ("customer cancels", len(notes.cancels), cancelled),
            ("warehouse shipments", len(notes.ships), len(result.warehouse.received)),
        )
        if happened and (not seen or (what != "order arrivals" and seen < happened))
    ]
    if missing:
        raise PlanError(
            f"bench/plan.py did not see houzzflow's {' and '.join(missing)} on its clock: "
            "the world no longer schedules them all with their labels (ARRIVAL, "
            "CUSTOMER_CANCEL, SHIPMENT)"
        )


def _order_plans(result: RunResult, notes: _Notes) -> tuple[OrderPlan, ...]:
    assert result.houzz is not None and result.warehouse is not None
    polls = frozenset(notes.ticks)
    shipped = result.warehouse.shipped

    def as_run(second: int, after: bool | None) -> float:
        if after:
            return second + 0.5
        return second - 0.5 if second in polls else float(second)

    plans = []
    for order_id, order in result.houzz.orders.items():
        if order.created not in notes.arrivals:
            raise PlanError(f"order {order_id} was placed outside the recorded arrivals")
        placed = as_run(order.created, notes.arrivals[order.created])
        due = notes.cancels.get(order_id)
        after = notes.after_poll.get((CUSTOMER_CANCEL, order_id))
        cancel = None if due is None else as_run(due, after)
        delay = None
        if order_id in notes.ships:
            sent, ship_due = notes.ships[order_id]
            delay = as_run(ship_due, notes.after_poll.get((SHIPMENT, order_id))) - sent
        shipment = shipped.get(order_id)
        packages = 0 if shipment is None else len(shipment.packages)
        plans.append(OrderPlan(placed, cancel, delay, packages))
    return tuple(plans)


def outcomes(result: RunResult) -> Outcomes:
    """houzzflow's outcomes of a run, in the common vocabulary, with the tracking numbers
    posted to Houzz."""
    counted = canonical(result.verdict.outcomes, skip_label(result.scenario))
    assert result.houzz is not None
    counted[TRACKING_POSTED] = sum(
        len(o.tracking_numbers) for o in result.houzz.orders.values() if o.status == "Shipped"
    )
    return +counted


def canonical(labels: Mapping[str, int], skipped: str) -> Outcomes:
    """houzzflow's outcome labels (a report's ``orders.outcomes``) in the common vocabulary;
    ``skipped`` is the label of an order cancelled before it was loaded (``skip_label``)."""
    counted: Outcomes = Counter()
    for label, n in labels.items():
        counted[SKIPPED_CANCELLED if label == skipped else _CONNECTOR_KEYS.get(label, label)] += n
    return +counted


def skip_label(scenario: Scenario) -> str:
    """houzzflow's label for an order cancelled in Houzz before CartRover loaded it."""
    seen = decide(scenario.policy, "Cancelled", None, before_earliest=False)
    return f"skipped: {seen.reason}"


def disagreement(expected: Outcomes, got: Outcomes) -> str:
    """How two outcome counts differ, in words; "" when they agree."""
    keys = sorted(set(expected) | set(got))
    return "; ".join(
        f"{key}: houzzflow {expected[key]}, baseline {got[key]}"
        for key in keys
        if expected[key] != got[key]
    )


class BaselineOrder(Protocol):
    """What a baseline knows of one order at the end of its run."""

    cartrover: str  # CartRover's status ("" = never loaded)
    tracking: list[str]
    skipped: bool


def count_baseline(orders: Sequence[BaselineOrder], planned: int) -> Outcomes:
    """A baseline's outcomes, in the vocabulary houzzflow's are counted in."""
    counted: Outcomes = Counter()
    for order in orders:
        if order.cartrover == "Confirmed":
            counted[CONFIRMED] += 1
            counted[TRACKING_POSTED] += len(order.tracking)
        elif order.cartrover == "Canceled":
            counted[CANCELLED_AT_WAREHOUSE] += 1
        elif order.cartrover:
            counted[UNFINISHED] += 1
        else:
            counted[SKIPPED_CANCELLED if order.skipped else NOT_SEEN] += 1
    counted[NOT_SEEN] += planned - len(orders)
    return +counted
