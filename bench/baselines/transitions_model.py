"""Baseline A: the seller-default scenario written the obvious way with ``transitions``.

One ``transitions.Machine`` holds Houzz's order lifecycle; every order is a model added to
it with ``machine.add_model(order)`` when the customer places it, and moves by a trigger per
step (``process``, ``charge``, ``ship``, ``cancel``). A heap of timed events drives the
customers, the warehouse and CartRover's polls, and CartRover only looks at orders that
changed since its last poll, as houzzflow's sliding window does: the only extra cost is
the state machine library's.

That cost grows with the square of the number of orders: ``add_model`` checks
``model not in self.models`` (a list) for every new order. The bench shows the curve.
"""

from __future__ import annotations

import heapq
from typing import Any

from transitions import Machine, MachineError

from bench.plan import (
    OrderPlan,
    Outcomes,
    Plan,
    count_baseline,
)

NAME = "transitions"
STATES = ["New", "InProduction", "Charged", "Shipped", "Cancelled"]
TRIGGERS: list[dict[str, Any]] = [
    {"trigger": "process", "source": "New", "dest": "InProduction"},
    {"trigger": "charge", "source": "InProduction", "dest": "Charged"},
    {"trigger": "ship", "source": "Charged", "dest": "Shipped", "before": "note_tracking"},
    {"trigger": "cancel", "source": ["New", "InProduction", "Charged"], "dest": "Cancelled"},
]
PLACE, CANCEL, SHIP, POLL = range(4)


class Order:
    """A Houzz order: a model of the machine (``state``, and one method per trigger)."""

    state: str

    def __init__(self, number: int, plan: OrderPlan) -> None:
        self.number = number
        self.plan = plan
        self.cartrover = ""  # CartRover's status: "" (not loaded), AtWMS, Canceled, Confirmed
        self.skipped = False
        self.shipped = False  # by the warehouse
        self.cancelled_at_warehouse = False
        self.tracking: list[str] = []

    def note_tracking(self, tracking: str) -> None:
        self.tracking = tracking.split(",")

    # Triggers, added by the machine.
    process: Any
    charge: Any
    ship: Any
    cancel: Any


class _World:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.machine = Machine(
            model=[], states=STATES, transitions=TRIGGERS, initial="New", auto_transitions=False
        )
        self.orders: list[Order] = []
        self.changed: list[Order] = []  # placed or changed in Houzz since the last poll
        self.unreported: list[Order] = []  # shipped, not yet collected by CartRover
        self.events: list[tuple[float, int, int, int]] = []
        self.sequence = 0

    def schedule(self, time: float, kind: int, number: int) -> None:
        self.sequence += 1
        heapq.heappush(self.events, (time, self.sequence, kind, number))

    def run(self) -> None:
        for number, order_plan in enumerate(self.plan.orders):
            self.schedule(order_plan.placed_at, PLACE, number)
        self.schedule(0, POLL, -1)
        end = self.plan.end + 0.5
        events = self.events
        while events and events[0][0] <= end:
            now, _, kind, number = heapq.heappop(events)
            if kind == PLACE:
                self.place(now, number)
            elif kind == CANCEL:
                self.customer_cancel(self.orders[number])
            elif kind == SHIP:
                self.warehouse_ship(self.orders[number])
            else:
                self.poll(now)
                self.schedule(now + self.plan.poll_interval, POLL, -1)

    def place(self, now: float, number: int) -> None:
        order = Order(number, self.plan.orders[number])
        self.machine.add_model(order)
        self.orders.append(order)
        self.changed.append(order)
        if order.plan.cancel_at is not None:
            self.schedule(order.plan.cancel_at, CANCEL, number)

    def customer_cancel(self, order: Order) -> None:
        try:
            order.cancel()
        except MachineError:
            return  # too late: Houzz refuses it
        self.changed.append(order)

    def warehouse_ship(self, order: Order) -> None:
        if not order.cancelled_at_warehouse:
            order.shipped = True
            self.unreported.append(order)

    def poll(self, now: float) -> None:
        """CartRover's poll: load new orders, Order Cancel Download, then confirmations."""
        changed, self.changed = self.changed, []
        for order in dict.fromkeys(changed):
            if not order.cartrover:
                if order.state == "Cancelled":
                    order.skipped = True
                elif order.state in ("New", "InProduction"):
                    self.load_and_send(now, order)
            elif order.state == "Cancelled" and order.cartrover == "AtWMS" and not order.shipped:
                order.cancelled_at_warehouse = True  # Order Cancel Download, before it shipped
                order.cartrover = "Canceled"
        shipped, self.unreported = self.unreported, []
        for order in shipped:
            numbers = [f"1Z{order.number:010d}{k}" for k in range(order.plan.packages)]
            order.ship(",".join(numbers))
            order.cartrover = "Confirmed"

    def load_and_send(self, now: float, order: Order) -> None:
        order.process()
        order.charge()
        order.cartrover = "AtWMS"
        if order.plan.ship_delay is not None:
            self.schedule(now + order.plan.ship_delay, SHIP, order.number)

    def outcomes(self) -> Outcomes:
        return count_baseline(self.orders, len(self.plan.orders))


def run(plan: Plan) -> Outcomes:
    """Replay ``plan`` with one ``transitions`` model per order; the outcomes."""
    world = _World(plan)
    world.run()
    return world.outcomes()
