"""Scripted worlds: a scenario's ``world.script`` played event by event.

A script is how a counterexample found by the explorer becomes a run (``houzzflow validate
--save-counterexample``): orders are placed, staff and the customer act, Houzz makes its own
moves, the warehouse ships and CartRover polls or confirms exactly where the script says,
and a fault hits exactly the write it names. Nothing else happens: no order stream, no
staff habits, no Houzz clocks, no poll schedule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import TypeVar, cast

from houzzflow.engine.connector import Connector
from houzzflow.engine.ports import Ack, ReplyLost, TransientError
from houzzflow.simulator.houzz.state import FakeHouzz
from houzzflow.simulator.kernel.clock import Clock
from houzzflow.simulator.kernel.timeline import Happening, Timeline
from houzzflow.simulator.runs.scenario import ScriptStep
from houzzflow.simulator.world.backend import Warehouse

T = TypeVar("T")


class ArmedFaults:
    """One-shot faults waiting for a write: (order id, write) -> transient | lost | declined.

    ``declined`` is the customer's card declined at CartRover's Charge: ``decline`` (set by
    the script's player) makes Houzz decline it and answers as Houzz does.
    """

    def __init__(self) -> None:
        self.armed: dict[tuple[str, str], str] = {}
        self.fired = 0
        self.decline: Callable[[str], object] | None = None

    def write(self, order_id: str, action: str, call: Callable[[], T]) -> T:
        """CartRover's write, failed or with its reply lost when the script armed a fault."""
        kind = self.armed.pop((order_id, action), "")
        if kind == "declined" and self.decline is not None:
            return cast(T, self.decline(order_id))
        self.fired += bool(kind)
        if kind == "transient":
            raise TransientError(f"scripted fault: {action} failed")
        result = call()
        if kind == "lost":
            raise ReplyLost(f"scripted fault: {action}'s reply was lost")
        return result


class ScriptPlayer:
    """Schedules every script step on the clock and performs it when its time comes."""

    def __init__(
        self,
        script: Sequence[ScriptStep],
        *,
        clock: Clock,
        houzz: FakeHouzz,
        warehouse: Warehouse,
        faults: ArmedFaults,
        timeline: Timeline | None,
        polled: Callable[[int], None] | None = None,
    ) -> None:
        self.script = script
        self.clock = clock
        self.houzz = houzz
        self.warehouse = warehouse
        self.faults = faults
        self.timeline = timeline
        self.ids: dict[int, str] = {}  # order number in the script -> Houzz order id
        self.polls: list[int] = []
        self.polled = polled  # told of each poll, after it
        self.refused: list[str] = []  # steps the world would not perform: the replay diverged
        self.connector: Connector | None = None
        faults.decline = self._decline

    def _decline(self, order_id: str) -> Ack:
        """The customer's card is declined at CartRover's Charge: Houzz makes the order Failed
        to Charge and answers the Charge with an error, as the fake does for a failed charge."""
        ack = self.houzz.act(order_id, "ChargeDeclined", "houzz")
        if not ack.ok:  # the order is past charging: Houzz answers the Charge itself
            return self.houzz.update_order(order_id, "Charge")
        return Ack(False, "the card was declined; the order is Failed to Charge")

    def start(self, connector: Connector) -> None:
        self.connector = connector
        for step in self.script:
            self.clock.at(step.at, partial(self._perform, step))

    def _perform(self, step: ScriptStep) -> None:
        now = self.clock.now
        if step.fault is not None:
            f = step.fault
            self.faults.armed[(self.ids[f.order], f.write)] = f.kind
        if step.actor == "connector":
            assert self.connector is not None
            poll = step.action == "Poll"
            self.connector.drive(now, poll=poll, collect=not poll)
            if poll:
                self.polls.append(now)
                if self.polled is not None:
                    self.polled(now)
            return
        assert step.order is not None
        if step.action == "Place":
            self.ids[step.order] = self.houzz.place_order()
            return
        order_id = self.ids[step.order]
        if step.actor == "backend":
            self.warehouse.ship(order_id)
            return
        ack = self.houzz.act(order_id, step.action, step.actor)
        if not ack.ok:
            text = f"script step at {step.at}s: {step.actor} {step.action} refused: {ack.reason}"
            self.refused.append(text)
            if self.timeline is not None:
                self.timeline.add(Happening(now, order_id, step.actor, step.action, text))
