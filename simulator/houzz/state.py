"""The fake Houzz marketplace (``FakeHouzz``): its API over the modules that hold its state.

moto's lesson: the marketplace's state and operations are plain Python and never touch XML
or JSON; ``wire.py`` speaks Houzz's format and ``simulator/http`` serves it over HTTP.
``FakeHouzz`` checks and answers the API calls and applies faults to them; what it holds is
kept by the modules beside it:

* ``orders.py``: the order store (every order an integer handle over columns, its history
  one log) and ``HouzzOrder``, a view of one order; ``catalog.py``: ``FakeHouzz.orders``,
  the orders by id as a read-only mapping of views; ``details.py``: the customer details
  derived from an order's id;
* ``listing.py``: what getOrders lists (status filters, the index by window time, paging);
* ``lifecycle.py``: placing orders and applying actions by the compiled table, with
  Houzz's own clocks (``deadlines.py``), charge failures and the buyer's cancel window;
* ``names.py``: the status and action names.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from typing import cast

from houzzflow.engine.assumptions import answers
from houzzflow.engine.limits import MAX_DELAY, MAX_ITEMS
from houzzflow.engine.machine import Era, Facts, Program, default_machine
from houzzflow.engine.policy import PROGRAM_NAMES
from houzzflow.engine.ports import Ack, AckError, Outcome, Page, Write, make_writes
from houzzflow.engine.table import houzz_table
from houzzflow.simulator.houzz.catalog import Orders
from houzzflow.simulator.houzz.lifecycle import Lifecycle, Subscriber
from houzzflow.simulator.houzz.listing import (
    BadRequest,
    ListingIndex,
    WindowField,
    page_of,
    spelling_key,
    status_filters,
)
from houzzflow.simulator.houzz.names import (
    CANCEL,
    CANCELLED,
    CHARGE,
    CHARGED,
    FAILED_TO_CHARGE,
    PAYMENT_FIXED,
    PLACE,
    PROCESS,
    SHIP,
    SHIPPED,
)
from houzzflow.simulator.houzz.orders import STATUS_BY_CODE, HouzzOrder, OrderStore
from houzzflow.simulator.kernel.clock import Clock
from houzzflow.simulator.kernel.faults import FaultInjector, FaultPlan
from houzzflow.simulator.kernel.ids import new_order_id
from houzzflow.simulator.kernel.streams import Streams
from houzzflow.simulator.kernel.timeline import Happening, Timeline

# What the rest of houzzflow takes from here (the names live beside it).
__all__ = [
    "CANCEL",
    "CANCELLED",
    "CHARGE",
    "CHARGED",
    "FAILED_TO_CHARGE",
    "PLACE",
    "PROCESS",
    "SHIPPED",
    "BadRequest",
    "FakeHouzz",
    "HouzzOrder",
    "WindowField",
]

# updateOrder's actions, looked up case-insensitively (the exact spelling is tried first).
API_ACTIONS = {a.lower(): a for a in (PROCESS, CHARGE, SHIP, CANCEL)}
_EXACT_ACTIONS = {a: a for a in API_ACTIONS.values()}
_DETAIL_KEYS = frozenset({"tracking_number", "shipping_method", "cancel_code", "comments"})
_EMPTY = Page((), 0)


class FakeHouzz:
    """An in-memory Houzz marketplace for one account (implements ``engine.ports.HouzzPort``).

    ``program`` and ``era`` choose the lifecycle (``houzz_table``), and ``facts`` Houzz's
    answers to the register's open questions (engine/assumptions.yaml; a question left out
    takes the register's default): ``window_field`` which time getOrders' From/To filter
    (``modified``: an order that changes is listed again; the ``window_field`` argument, when
    given, wins), ``mark_step_done`` whether a Process or Charge on an order already past it
    is refused or answered Success without a change, ``vendor_lapse`` whether Vendor orders'
    authorization lapses, ``release_2021`` whether a 2021 Seller order is listed as New
    before Houzz charges it, and ``wrong_connection`` what getOrders answers a client
    connected as the other program (``connection``, default: ``program``): Success with no
    orders (``empty``, the silent loss of DOMAIN.md section 6) or ``Ack: Error`` saying why
    (``error``: raises ``AckError``). ``charge_failure_rate`` is the share of
    charges that fail: the 2021 auto-charge (the order is held, hidden, as FailedToCharge)
    and, in the legacy era, a Charge by staff or the connector (refused as declined; the
    order shows FailedToCharge). ``faults`` are applied to API calls only (getOrders,
    updateOrder), never to ``act``/``place_order``. With ``own_clocks=False`` Houzz makes no
    move by itself (no auto-charge, no lapse): a scripted world performs them with ``act``.

    Time comes from ``clock``; order ids from ``rng`` (``random.Random(0)`` by default), in
    the order orders are placed; whether a charge fails from the ``charges`` stream of
    ``streams`` (by default the streams following ``rng``), keyed by the order. Every status
    change updates ``modified``, appends to the order's ``history``, adds a ``Happening`` to
    ``timeline`` when one is given, and calls each subscriber with (order, action).
    """

    def __init__(
        self,
        *,
        program: Program = "seller",
        era: Era = "2021",
        clock: Clock | None = None,
        rng: random.Random | None = None,
        streams: Streams | None = None,
        timeline: Timeline | None = None,
        window_field: WindowField | None = None,
        connection: Program | None = None,
        faults: FaultPlan | None = None,
        charge_failure_rate: float = 0.0,
        own_clocks: bool = True,
        facts: Facts = (),
    ) -> None:
        machine = default_machine()
        if program not in machine.programs:
            raise ValueError(f"program must be one of {', '.join(machine.programs)}")
        if era not in machine.eras:
            raise ValueError(f"era must be one of {', '.join(machine.eras)}")
        if connection is not None and connection not in machine.programs:
            raise ValueError(f"connection must be one of {', '.join(machine.programs)}")
        if window_field not in (None, "modified", "created"):
            raise ValueError("window_field must be 'modified' or 'created'")
        if not 0.0 <= charge_failure_rate <= 1.0:
            raise ValueError("charge_failure_rate must be between 0 and 1")
        said = answers(facts, "houzz")  # ValueError for a name the register lacks
        if window_field is not None:
            said["window_field"] = window_field
        self.facts: Facts = tuple(sorted(said.items()))
        self.program: Program = program
        self.era: Era = era
        self.connection: Program = connection or program
        self.window_field: WindowField = cast(WindowField, said["window_field"])
        # What getOrders answers a connection of the other program: nothing, or this refusal.
        self.connection_refusal = (
            f"this account is in the {PROGRAM_NAMES[program]} program; the connection is "
            f"for {PROGRAM_NAMES[self.connection]}"
            if self.connection != program and said["wrong_connection"] == "error"
            else ""
        )
        self.clock = clock if clock is not None else Clock()
        self.rng = rng if rng is not None else random.Random(0)
        self.streams = streams if streams is not None else Streams.following(self.rng)
        self.timeline = timeline
        self.fault_plan = faults
        self.table = houzz_table(program, era, facts=self.facts)
        self._filters = status_filters(machine, self.table.hidden)
        # "All" with nothing held back: every indexed order matches, no status test needed.
        self._everything = None if self.table.hidden else self._filters["all"]
        self._begin()
        self._rules = Lifecycle(
            self.table,
            machine.timing,
            clock=self.clock,
            charges=self.streams.keyed("charges"),
            timeline=timeline,
            charge_failure_rate=charge_failure_rate,
            own_clocks=own_clocks,
            store=self._store,
            index=self._index,
        )

    @property
    def cancel_window(self) -> int:
        """Seconds after ordering during which the customer may cancel."""
        return self._rules.cancel_window

    @property
    def authorization(self) -> int:
        """Seconds a charge's authorization lasts; a Charged order not shipped by then lapses."""
        return self._rules.authorization

    @property
    def charge_failure_rate(self) -> float:
        """The share of charges that fail."""
        return self._rules.charge_failure_rate

    # --- bookkeeping -----------------------------------------------------------------------

    def _begin(self) -> None:
        self._store = OrderStore()
        self.orders = Orders(self._store)  # read-only: the lifecycle alone changes orders
        self.listing_calls = 0
        self.faults: FaultInjector | None = None
        if self.fault_plan is not None:
            self.faults = FaultInjector(self.fault_plan, clock=self.clock, timeline=self.timeline)
        self._index = ListingIndex(self._store, self.window_field, self._everything)

    def reset(self) -> None:
        """Forget every order, count and pending Houzz clock; keep configuration, clock and
        subscribers (moto's reset: one cheap call)."""
        self._begin()
        self._rules.restart(self._store, self._index)

    def subscribe(self, callback: Subscriber, *, statuses: Iterable[str] | None = None) -> None:
        """Call ``callback(order, action)`` after each placement (action ``Place``) and each
        status change (the action's name). The world (staff, customers) reacts through this.
        With ``statuses``, only changes that leave the order in one of them are told (a
        subscriber that cares about few statuses costs nothing on the others)."""
        self._rules.subscribe(callback, statuses)

    def order(self, order_id: str) -> HouzzOrder:
        """The order with this id (``KeyError`` when there is none)."""
        try:
            return self.orders[order_id]
        except KeyError:
            raise KeyError(f"order {order_id} not found") from None

    def status_of(self, order_id: str) -> str | None:
        """The order's status now (None when there is no such order): what the world's
        observers read on every order, without making a ``HouzzOrder`` view of it."""
        store = self._store
        handle = store.find(order_id)
        return None if handle < 0 else STATUS_BY_CODE[store.status[handle]]

    def happenings_of(self, order_id: str) -> list[Happening]:
        """The order's history as timeline records (for runs that keep no timeline)."""
        return [
            Happening(time, order_id, actor, action, houzz_status=status)
            for time, actor, action, status in self.order(order_id).history
        ]

    # --- the customer and Houzz itself -----------------------------------------------------

    def place_order(self, *, items: int | None = None, created: int | None = None) -> str:
        """Place an order now (or at an earlier ``created`` second) and return its id.

        Seller orders start New, Vendor orders Charged. An order placed in the past has
        already lived through Houzz's clocks up to now (a 2021 Seller order placed an hour
        ago is Charged, stamped at its auto-charge time).
        """
        now = self.clock.now
        when = now if created is None else created
        if when > now:
            raise ValueError(f"created ({when}) is in the future (now is {now})")
        if when < now - MAX_DELAY:
            raise ValueError(
                f"created is more than {MAX_DELAY // 86400} days before now (the limit)"
            )
        count = 1 if items is None else items
        if not 1 <= count <= MAX_ITEMS:
            raise ValueError(f"an order has from 1 to {MAX_ITEMS} items, not {count}")
        order_id = new_order_id(self.rng, self._store)
        self._rules.place(order_id, when, count)
        return order_id

    def act(self, order_id: str, action: str, actor: str, **details: str) -> Ack:
        """``actor`` (customer, staff, houzz) performs ``action`` on the order, by the table.

        ``details`` may carry ``tracking_number`` (comma-separated), ``shipping_method``,
        ``cancel_code`` and ``comments``. The customer may cancel only within the cancel
        window; afterwards the answer is a refusal with the reason.
        """
        if details:
            unknown = set(details) - _DETAIL_KEYS
            if unknown:
                raise TypeError(f"unknown details: {', '.join(sorted(unknown))}")
        handle = self._store.find(order_id)
        if handle < 0:
            return Ack(False, f"order {order_id} not found")
        if not details:
            return self._rules.perform(handle, action, actor, "", "", "", "")
        return self._rules.perform(
            handle,
            action,
            actor,
            details.get("tracking_number", ""),
            details.get("shipping_method", ""),
            details.get("cancel_code", ""),
            details.get("comments", ""),
        )

    def fix_payment(self, order_id: str) -> Ack:
        """The customer fixes a failed payment (PaymentFixed; 2021: the order is Charged)."""
        return self.act(order_id, PAYMENT_FIXED, "customer")

    # --- the API (HouzzPort) ---------------------------------------------------------------

    def get_orders(
        self, status: str, start_time: int, end_time: int, start: int, count: int
    ) -> Page:
        """getOrders: orders in ``status`` whose window time is in [start_time, end_time].

        ``status`` takes the canonical names and every public spelling (``New``/``Placed``,
        ``InProduction``/``Processing``, ``Canceled``...), ``All`` and ``Active`` (neither
        Shipped nor Cancelled). Orders come sorted by (window time, order id); ``start`` is
        the offset and ``count`` the page size; ``total`` counts every match. Statuses
        Houzz holds back in this era (FailedToCharge in 2021) are never listed. A client
        connected as the other program gets no orders, or ``AckError`` (``wrong_connection``).
        Raises ``BadRequest`` for an unknown status or bad paging, ``TransientError`` for a
        fault.
        """
        self.listing_calls += 1
        faults = self.faults
        if faults is not None:
            faults.before_call("getOrders")
        wanted = self._filters.get(spelling_key(status))
        if wanted is None:
            raise BadRequest(f"unknown order status {status!r}")
        if start < 0 or count < 1:
            raise BadRequest("Start must be 0 or more and NumberOfItems 1 or more")
        if self.connection != self.program:
            if self.connection_refusal:
                raise AckError(self.connection_refusal)
            return _EMPTY
        index = self._index
        found = index.matching(wanted, start_time, end_time)
        if (
            faults is not None
            and start > 0
            and faults.page_drifts()
            and index.drift(found, start, end_time, self.clock.now, faults)
        ):
            found = index.matching(wanted, start_time, end_time)
        return page_of(self._store, found, start, count)

    def update_order(
        self,
        order_id: str,
        action: str,
        *,
        shipping_method: str = "",
        tracking_number: str = "",
        cancel_code: str = "",
        comments: str = "",
    ) -> Ack:
        """updateOrder by the connector: Process, Charge, Ship or Cancel (any letter case).

        Ship stores the comma-separated tracking numbers and the shipping method. An unknown
        order or action, a Ship without tracking, or an action the table refuses answers
        ``Ack(False, reason)``. Faults: ``TransientError`` before any effect, ``ReplyLost``
        after Houzz handled the request.
        """
        return self._update(
            order_id, action, tracking_number, shipping_method, cancel_code, comments
        )

    def update_orders(self, writes: Sequence[Write], results: list[Outcome]) -> None:
        """A batch of updateOrder calls (``engine.ports.update_orders``): each is made as
        ``update_order`` makes it, its answer or failure appended to ``results``; a rate
        limit ends the batch."""
        make_writes(self._write, writes, results)

    def _write(self, write: Write) -> Ack:
        return self._update(
            write.order_id, write.action, write.tracking_number, write.shipping_method
        )

    def _update(
        self,
        order_id: str,
        action: str,
        tracking_number: str,
        shipping_method: str,
        cancel_code: str = "",
        comments: str = "",
    ) -> Ack:
        faults = self.faults
        if faults is not None:
            faults.before_call("updateOrder", order_id)
        name = _EXACT_ACTIONS.get(action) or API_ACTIONS.get(action.lower())
        handle = self._store.find(order_id)
        if name is None:
            ack = Ack(False, f"unknown action {action!r}; expected Process, Charge, Ship or Cancel")
        elif handle < 0:
            ack = Ack(False, f"order {order_id} not found")
        elif name == SHIP and not tracking_number.strip(" ,"):
            ack = Ack(False, "Ship needs a TrackingNumber")
        else:
            ack = self._rules.perform(
                handle, name, "connector", tracking_number, shipping_method, cancel_code, comments
            )
        if faults is not None:
            faults.after_write(order_id, name or action, ack.ok)
        return ack
