"""Baseline B: the seller-default scenario as a SimPy model, one process per order.

Each order's life is a SimPy process: it waits until the customer places it, maybe cancels
it, waits until CartRover sends it to the warehouse (an event CartRover triggers) and then
for the warehouse to ship it. CartRover is one more process, polling every interval; like
houzzflow's sliding window, it looks only at orders that changed since its last poll.
Houzz's lifecycle is a small transition table on plain attributes.

SimPy is the optional ``bench`` extra (``pip install -e '.[bench]'``); without it the bench
skips this baseline and says so.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from bench.plan import (
    OrderPlan,
    Outcomes,
    Plan,
    count_baseline,
)

try:
    import simpy
except ImportError:  # the optional bench extra is not installed
    simpy = None  # type: ignore[assignment]

NAME = "simpy"
MOVES = {
    ("New", "Process"): "InProduction",
    ("InProduction", "Charge"): "Charged",
    ("Charged", "Ship"): "Shipped",
    ("New", "Cancel"): "Cancelled",
    ("InProduction", "Cancel"): "Cancelled",
    ("Charged", "Cancel"): "Cancelled",
}


def unavailable() -> str:
    """Why this baseline cannot run here ("" when it can)."""
    if simpy is None:
        return "SimPy is not installed (pip install -e '.[bench]'): baseline B skipped"
    return ""


class Order:
    __slots__ = (
        "cancelled_at_warehouse",
        "cartrover",
        "number",
        "plan",
        "sent",
        "sent_at",
        "shipped",
        "skipped",
        "status",
        "tracking",
    )

    def __init__(self, number: int, plan: OrderPlan, sent: Any) -> None:
        self.number = number
        self.plan = plan
        self.status = "New"  # in Houzz
        self.cartrover = ""  # CartRover's status: "" (not loaded), AtWMS, Canceled, Confirmed
        self.skipped = False
        self.sent = sent  # triggered when CartRover sends it to the warehouse
        self.sent_at = 0.0
        self.shipped = False
        self.cancelled_at_warehouse = False
        self.tracking: list[str] = []


class _World:
    def __init__(self, env: Any, plan: Plan) -> None:
        self.env = env
        self.plan = plan
        self.orders: list[Order] = []
        self.changed: list[Order] = []  # placed or changed in Houzz since the last poll
        self.unreported: list[Order] = []  # shipped, not yet collected by CartRover

    def act(self, order: Order, action: str) -> bool:
        dest = MOVES.get((order.status, action))
        if dest is None:
            return False
        order.status = dest
        return True

    def order_life(self, number: int, plan: OrderPlan) -> Generator[Any, Any, None]:
        env = self.env
        yield env.timeout(plan.placed_at - env.now)
        order = Order(number, plan, env.event())
        self.orders.append(order)
        self.changed.append(order)
        if plan.cancel_at is not None:
            yield env.timeout(plan.cancel_at - plan.placed_at)
            if self.act(order, "Cancel"):
                self.changed.append(order)
        yield order.sent
        if plan.ship_delay is None:
            return  # houzzflow's warehouse never shipped it: nothing to replay
        yield env.timeout(max(0.0, order.sent_at + plan.ship_delay - env.now))
        if not order.cancelled_at_warehouse:
            order.shipped = True
            self.unreported.append(order)

    def cartrover(self) -> Generator[Any, Any, None]:
        env = self.env
        for poll_at in self.plan.polls:
            yield env.timeout(poll_at - env.now)
            self.poll(poll_at)

    def poll(self, now: float) -> None:
        """CartRover's poll: load new orders, Order Cancel Download, then confirmations."""
        changed, self.changed = self.changed, []
        for order in dict.fromkeys(changed):
            if not order.cartrover:
                if order.status == "Cancelled":
                    order.skipped = True
                elif order.status in ("New", "InProduction"):
                    self.act(order, "Process")
                    self.act(order, "Charge")
                    order.cartrover = "AtWMS"
                    order.sent_at = now
                    order.sent.succeed()
            elif order.status == "Cancelled" and order.cartrover == "AtWMS" and not order.shipped:
                order.cancelled_at_warehouse = True  # Order Cancel Download, before it shipped
                order.cartrover = "Canceled"
        shipped, self.unreported = self.unreported, []
        for order in shipped:
            if self.act(order, "Ship"):
                order.tracking = [f"1Z{order.number:010d}{k}" for k in range(order.plan.packages)]
                order.cartrover = "Confirmed"

    def outcomes(self) -> Outcomes:
        return count_baseline(self.orders, len(self.plan.orders))


def run(plan: Plan) -> Outcomes:
    """Replay ``plan`` with one SimPy process per order; the outcomes."""
    if simpy is None:
        raise RuntimeError(unavailable())
    # Half a second before 0: an order placed at second 0 before the first poll ran.
    env = simpy.Environment(initial_time=-1.0)
    world = _World(env, plan)
    for number, order_plan in enumerate(plan.orders):
        env.process(world.order_life(number, order_plan))
    env.process(world.cartrover())
    env.run(until=plan.end + 1)
    return world.outcomes()
