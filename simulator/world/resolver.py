"""A person resolving the orders CartRover holds in Error, so that CartRover resends them.

CartRover's Error status is visible in its UI: someone can look at a held order, fix its
cause where that is possible, and resend it (DOMAIN.md section 7, "Held orders"). How soon
is a fact of the world, a scenario's ``world.staff.resolve_errors`` habit: ``never`` (the
default), ``always`` or ``sometimes`` (decided once per hold), after the habit's delay.

When the person looks at the order:

* cancelled in Houzz meanwhile: nothing to do (CartRover cancels it at its next poll);
* Failed to Charge (the card was declined and the customer has not fixed the payment):
  they wait for the customer, and look again once the order is back In Production;
* already at the warehouse (a refused shipment confirmation): not theirs to fix;
* a Mark step Houzz would still refuse (say, Charge on an order nobody processed): no
  resend can get through, so they leave it held;
* otherwise they resend it: CartRover takes the order up at its first Mark step, counts
  the steps Houzz shows done as done (the re-read it makes after a fault), calls the
  others (the Charge again, once the customer fixed the payment) and sends it on, paid.

The resend is CartRover's ``Resend`` move (Error -> New, by staff) in ``engine/machine.yaml``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from houzzflow.engine.connector import Connector
from houzzflow.engine.decisions import mark_steps, reached, step_target
from houzzflow.engine.ledger import CHECK, TRIES, new_entry
from houzzflow.engine.policy import SETTING_NAMES
from houzzflow.engine.table import Rejection
from houzzflow.simulator.houzz.names import IN_PRODUCTION
from houzzflow.simulator.houzz.state import CANCELLED, CHARGED, FAILED_TO_CHARGE, FakeHouzz
from houzzflow.simulator.kernel.clock import Clock
from houzzflow.simulator.kernel.streams import Streams, unit
from houzzflow.simulator.kernel.timeline import Happening, Timeline
from houzzflow.simulator.world.backend import Warehouse
from houzzflow.simulator.world.staff import Habit

_SETTING_OF_STEP = {"Process": "mark_processed", "Charge": "mark_charged"}


class Resolver:
    """The person who resolves held orders, on one run's clock.

    ``connector`` returns the connector now running (None while it is down after a crash).
    ``pending`` holds the orders they are about to look at; ``waiting`` those whose
    customer must fix the payment first; ``unresolvable`` why they left an order held.
    """

    def __init__(
        self,
        habit: Habit,
        *,
        houzz: FakeHouzz,
        warehouse: Warehouse,
        clock: Clock,
        seed: int,
        timeline: Timeline | None,
        connector: Callable[[], Connector | None],
    ) -> None:
        self.habit = habit
        self.houzz = houzz
        self.warehouse = warehouse
        self.clock = clock
        # Its own stream: turning the habit on does not change anyone else's draws. Keyed by
        # the order and how often it was looked at: the order in which CartRover holds
        # orders does not change what a person does with each.
        self.draws = Streams(seed).keyed("resolver")
        self._drawn: dict[str, int] = {}
        self.timeline = timeline
        self.connector = connector
        self.pending: set[str] = set()
        self.waiting: set[str] = set()
        self.unresolvable: dict[str, str] = {}
        self.resent = 0
        if habit.mode != "never":
            houzz.subscribe(self._on_change, statuses=(IN_PRODUCTION,))

    @property
    def active(self) -> bool:
        return self.habit.mode != "never"

    def held(self, order_id: str) -> None:
        """CartRover has just held this order in Error: will someone resolve it?"""
        self.unresolvable.pop(order_id, None)
        habit = self.habit
        if habit.mode == "always" or (
            habit.mode == "sometimes" and self._draw(order_id) < habit.probability
        ):
            self._look_later(order_id)

    def _draw(self, order_id: str) -> float:
        """The next keyed draw about this order."""
        n = self._drawn.get(order_id, 0)
        self._drawn[order_id] = n + 1
        return unit(self.draws.key(order_id), n)

    def _look_later(self, order_id: str) -> None:
        self.pending.add(order_id)
        wait = self.habit.waited(self._draw(order_id))
        self.clock.after(wait, partial(self._look, order_id))

    def _on_change(self, order: object, action: str) -> None:
        order_id = getattr(order, "order_id", "")
        if order_id in self.waiting:  # the customer fixed the payment: look again
            self.waiting.discard(order_id)
            self._look_later(order_id)

    def _look(self, order_id: str) -> None:
        self.pending.discard(order_id)
        connector = self.connector()
        if connector is None:  # CartRover is down: come back later
            self._look_later(order_id)
            return
        if order_id not in connector.state.held:
            return  # cancelled meanwhile (CartRover let it go), or resolved already
        order = self.houzz.orders[order_id]
        if order.status == CANCELLED:
            return
        if order.status == FAILED_TO_CHARGE:
            self.waiting.add(order_id)
            self._tell(order_id, "the card was declined: waiting for the customer to pay")
            return
        why = self._cannot(connector, order_id, order.status)
        if why:
            self.unresolvable[order_id] = why
            self._tell(order_id, f"cannot resolve it: {why}")
            return
        self._resend(connector, order_id, order.status)

    def _cannot(self, connector: Connector, order_id: str, status: str) -> str:
        """Why resending would not get the order to the warehouse, paid ("" if it would)."""
        if self.warehouse.has_order(order_id):
            return "the warehouse has it already; only its shipment confirmation is held"
        table = self.houzz.table
        for step in mark_steps(connector.policy):
            if reached(table, step_target(table, step), status):
                continue  # done: CartRover's re-read counts it
            result = table.step(status, step, "connector")
            if isinstance(result, Rejection):
                setting = SETTING_NAMES[_SETTING_OF_STEP[step]]
                return f"{setting} would be refused again ({result.reason})"
            status = result
        if status != CHARGED:
            label = table.labels.get(status, status)
            return f"it is {label} in Houzz: resending it would send an unpaid order"
        return ""

    def _resend(self, connector: Connector, order_id: str, status: str) -> None:
        now = self.clock.now
        state = connector.state
        del state.held[order_id]
        self._tell(order_id, "resolved it in CartRover and resent it")
        connector.pipeline.books.move(
            now, order_id, "Resend", "staff", "a person resolved it", status
        )
        entry = new_entry(connector.pipeline.first_stage, now, status)
        # Taken up like a pipeline a fault interrupted: each step the order is already
        # past counts as done, and the warehouse is asked before it is sent.
        entry[TRIES] = 1
        entry[CHECK] = True
        state.work[order_id] = entry
        self.resent += 1

    def _tell(self, order_id: str, detail: str) -> None:
        if self.timeline is not None:
            self.timeline.add(Happening(self.clock.now, order_id, "staff", "Resolve", detail))
