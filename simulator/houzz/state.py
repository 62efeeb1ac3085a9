"""The fake Houzz's state and rules: orders, their lifecycle, listing and updates.

moto's lesson: this module holds the marketplace's state and operations as plain Python
and never touches XML or JSON; ``wire.py`` speaks Houzz's format and ``server.py`` serves it
over HTTP. Lifecycle rules come only from the compiled table (``engine.table.houzz_table``);
this module adds Houzz's clocks (the 2021 auto-charge when the cancel window closes, the
7-day authorization), listing with public status spellings and offset paging, and faults.

Speed: an order is one slotted object; its customer details (name, address, items, totals)
are derived on demand from its id, so placing an order costs a few attribute writes. Listing
uses an index of (time, order) entries appended as orders change, with lazy invalidation,
so a poll over a sliding window costs about the number of orders in the window.
"""

from __future__ import annotations

import random
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache, partial
from operator import attrgetter, itemgetter
from typing import Literal

from engine.machine import Era, MachineDef, Program, default_machine
from engine.ports import Ack, OrderView, Page
from engine.table import Rejection, houzz_table
from simulator.houzz.ids import new_order_id, order_number
from simulator.runs.timeline import Happening, Timeline
from simulator.world.clock import Clock
from simulator.world.faults import FaultInjector, FaultPlan

WindowField = Literal["modified", "created"]

# Canonical Houzz statuses (machine.yaml names).
NEW = "New"
IN_PRODUCTION = "InProduction"
CHARGED = "Charged"
SHIPPED = "Shipped"
CANCELLED = "Cancelled"
FAILED_TO_CHARGE = "FailedToCharge"

# Actions (machine.yaml names), plus Place and the PageDrift touch, which are not lifecycle
# transitions but appear in an order's history.
PLACE = "Place"
PROCESS = "Process"
CHARGE = "Charge"
SHIP = "Ship"
CANCEL = "Cancel"
AUTO_CHARGE = "AutoCharge"
CHARGE_FAILS = "ChargeFails"
CHARGE_DECLINED = "ChargeDeclined"
PAYMENT_FIXED = "PaymentFixed"
AUTHORIZATION_LAPSE = "AuthorizationLapse"
PAGE_DRIFT = "PageDrift"

# updateOrder's actions, looked up case-insensitively (the exact spelling is tried first).
API_ACTIONS = {a.lower(): a for a in (PROCESS, CHARGE, SHIP, CANCEL)}
_EXACT_ACTIONS = {a: a for a in API_ACTIONS.values()}
_DETAIL_KEYS = frozenset({"tracking_number", "shipping_method", "cancel_code", "comments"})


class BadRequest(ValueError):
    """A getOrders request Houzz answers with ``Ack: Error`` (unknown status, bad paging)."""


# --- an order ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderItem:
    """One line of an order; Houzz's ``OrderItems`` fields Type, SKU, Quantity, Price,
    Shipping and Tax, in snake case."""

    type: str
    sku: str
    quantity: int
    price: Decimal
    shipping: Decimal
    tax: Decimal


@dataclass(frozen=True, slots=True)
class OrderDetails:
    """What the customer ordered and where it goes (derived from the order id, see below)."""

    customer_name: str
    address: tuple[tuple[str, str], ...]
    items: tuple[OrderItem, ...]
    order_total: Decimal
    flat_shipping: Decimal


_FIRST = ("Ava", "Ben", "Chloe", "Diego", "Emma", "Farid", "Grace", "Hiro", "Isla", "Jonah")
_LAST = ("Nguyen", "Smith", "Garcia", "Okafor", "Kowalski", "Patel", "Rossi", "Berg", "Kim")
_STREETS = ("Oak St", "Maple Ave", "Pine Rd", "Cedar Ln", "Elm St", "Lakeview Dr", "Hill Ct")
_PLACES = (
    ("Portland", "OR", "97201"),
    ("Austin", "TX", "73301"),
    ("Denver", "CO", "80202"),
    ("Raleigh", "NC", "27601"),
    ("Madison", "WI", "53703"),
    ("Boise", "ID", "83702"),
)
_PRODUCTS = (
    ("LAMP-ARC-BRS", Decimal("189.00")),
    ("RUG-5X8-IVY", Decimal("249.50")),
    ("STOOL-OAK-24", Decimal("129.99")),
    ("MIRROR-RND-30", Decimal("159.00")),
    ("VASE-CER-LG", Decimal("45.25")),
    ("SCONCE-BLK-2", Decimal("98.40")),
)
_CENT = Decimal("0.01")
_TAX_RATE = Decimal("0.0725")


@lru_cache(maxsize=4096)
def order_details(number: int, item_count: int) -> OrderDetails:
    """The customer, address and items of the order with this id number (deterministic)."""
    rng = random.Random(number)
    city, state, zip_code = rng.choice(_PLACES)
    address = (
        ("Address", f"{rng.randrange(1, 9999)} {rng.choice(_STREETS)}"),
        ("Address1", f"Apt {rng.randrange(1, 400)}" if rng.random() < 0.3 else ""),
        ("City", city),
        ("State", state),
        ("Zip", zip_code),
        ("Country", "US"),
        ("Phone", f"555-{rng.randrange(100, 1000)}-{rng.randrange(1000, 10000)}"),
    )
    items = []
    for _ in range(item_count):
        sku, price = rng.choice(_PRODUCTS)
        quantity = rng.randrange(1, 4)
        shipping = Decimal(rng.choice((0, 0, 995, 1495))) / 100
        tax = (price * quantity * _TAX_RATE).quantize(_CENT)
        items.append(OrderItem("Product", sku, quantity, price, shipping, tax))
    flat_shipping = Decimal(rng.choice((0, 0, 0, 2500))) / 100
    total = sum((i.price * i.quantity + i.shipping + i.tax for i in items), Decimal(0))
    return OrderDetails(
        customer_name=f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
        address=address,
        items=tuple(items),
        order_total=(total + flat_shipping).quantize(_CENT),
        flat_shipping=flat_shipping.quantize(_CENT),
    )


History = list[tuple[int, str, str, str]]


@dataclass(slots=True)
class HouzzOrder:
    """One Houzz order as the marketplace holds it.

    ``status`` is canonical (New, InProduction, Charged, Shipped, Cancelled, FailedToCharge);
    ``created`` and ``modified`` are simulated seconds; ``history`` lists every change as
    (time, actor, action, resulting status). The customer details (``customer_name``,
    ``address`` with keys Address, Address1, City, State, Zip, Country, Phone, ``items``,
    ``order_total``, ``flat_shipping``) are read-only views derived from the order id and
    ``item_count``: the same order always shows the same details, and 100,000 orders do not
    hold 100,000 address dicts.
    """

    order_id: str
    status: str
    created: int
    modified: int
    item_count: int = 1
    tracking_numbers: tuple[str, ...] = ()
    shipping_method: str = ""
    charged_at: int | None = None
    cancel_code: str = ""
    comments: str = ""
    history: History = field(default_factory=list)
    # The position of this order's current entry in the listing index, and its cached view.
    _slot: int = field(default=-1, init=False, repr=False, compare=False)
    _view: OrderView | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def details(self) -> OrderDetails:
        return order_details(order_number(self.order_id), self.item_count)

    @property
    def customer_name(self) -> str:
        return self.details.customer_name

    @property
    def address(self) -> dict[str, str]:
        return dict(self.details.address)

    @property
    def items(self) -> list[OrderItem]:
        return list(self.details.items)

    @property
    def order_total(self) -> Decimal:
        return self.details.order_total

    @property
    def flat_shipping(self) -> Decimal:
        return self.details.flat_shipping


Subscriber = Callable[[HouzzOrder, str], None]
_Due = Callable[[HouzzOrder, int, int], None]
_Alive = Callable[[HouzzOrder, int], bool]
_OK = Ack(True)
_EMPTY = Page((), 0)
_entry_time = itemgetter(0)


class _Deadlines:
    """Orders due for one of Houzz's clocks (auto-charge, authorization lapse).

    Deadlines nearly always arrive in time order, so they wait in a FIFO with a single clock
    event armed for the head, instead of one clock event per order; one that arrives out of
    order gets its own clock event, and one already past is handled at once, stamped with
    its due time. ``handler(order, stamp, due)`` decides whether anything happens;
    ``alive(order, stamp)`` is False once nothing can happen any more (a shipped order's
    authorization cannot lapse), so such deadlines are dropped before the clock is armed
    for them, and most orders never cost a clock event for it.
    """

    __slots__ = ("_alive", "_armed", "_clock", "_handler", "_live", "_queue")

    def __init__(self, clock: Clock, handler: _Due, alive: _Alive) -> None:
        self._clock = clock
        self._handler = handler
        self._alive = alive
        self._queue: deque[tuple[int, HouzzOrder, int]] = deque()
        self._armed = False
        self._live = True

    def add(self, due: int, order: HouzzOrder, stamp: int) -> None:
        clock = self._clock
        if due < clock.now:
            self._handler(order, stamp, due)
            return
        queue = self._queue
        if queue and queue[-1][0] > due:
            clock.at(due, partial(self._one, order, stamp, due))
            return
        queue.append((due, order, stamp))
        if not self._armed:
            self._armed = True
            clock.at(queue[0][0], self._drain)

    def close(self) -> None:
        """Forget every deadline; clock events already armed find nothing to do."""
        self._live = False
        self._queue.clear()

    def _drain(self) -> None:
        self._armed = False
        queue = self._queue
        now = self._clock.now
        handler = self._handler
        while queue and queue[0][0] <= now:
            due, order, stamp = queue.popleft()
            handler(order, stamp, due)
        alive = self._alive
        while queue and not alive(queue[0][1], queue[0][2]):
            queue.popleft()
        if queue and not self._armed and self._live:
            self._armed = True
            self._clock.at(queue[0][0], self._drain)

    def _one(self, order: HouzzOrder, stamp: int, due: int) -> None:
        if self._live:
            self._handler(order, stamp, due)


def _still_new(order: HouzzOrder, stamp: int) -> bool:
    return order.status == NEW


def _still_charged(order: HouzzOrder, stamp: int) -> bool:
    # Charged leads only to Shipped, Cancelled or a lapse: once it left, this charge is over.
    return order.status == CHARGED and order.charged_at == stamp


def _spelling_key(status: str) -> str:
    return status.replace(" ", "").replace("_", "").lower()


def _status_filters(machine: MachineDef, hidden: frozenset[str]) -> dict[str, frozenset[str]]:
    """Every public status spelling (normalised) -> the canonical statuses it lists."""
    states = machine.houzz.states
    every = frozenset(states) - hidden
    terminal = frozenset(n for n, s in states.items() if s.terminal)
    filters = {"all": every, "active": every - terminal}
    for name, state in states.items():
        for spelling in (name, state.api, *state.accepts):
            if spelling:
                filters[_spelling_key(spelling)] = frozenset({name}) - hidden
    return filters


class FakeHouzz:
    """An in-memory Houzz marketplace for one account (implements ``engine.ports.HouzzPort``).

    ``program`` and ``era`` choose the lifecycle (``houzz_table``). ``window_field`` says
    which time getOrders' From/To filter (the public API does not say; default ``modified``,
    so an order that changes is listed again). ``connection`` is the program the API client
    connected as (default: ``program``); when it differs, getOrders answers success with no
    orders, the silent loss of DOMAIN.md section 6. ``charge_failure_rate`` is the share of
    charges that fail: the 2021 auto-charge (the order is held, hidden, as FailedToCharge)
    and, in the legacy era, a Charge by staff or the connector (refused as declined; the
    order shows FailedToCharge). ``faults`` are applied to API calls only (getOrders,
    updateOrder), never to ``act``/``place_order``. With ``own_clocks=False`` Houzz makes no
    move by itself (no auto-charge, no lapse): a scripted world performs them with ``act``.

    Time comes from ``clock``; every random choice (order ids, charge failures) from ``rng``
    (``random.Random(0)`` by default). Every status change updates ``modified``, appends to
    the order's ``history``, adds a ``Happening`` to ``timeline`` when one is given, and
    calls each subscriber with (order, action).
    """

    def __init__(
        self,
        *,
        program: Program = "seller",
        era: Era = "2021",
        clock: Clock | None = None,
        rng: random.Random | None = None,
        timeline: Timeline | None = None,
        window_field: WindowField = "modified",
        connection: Program | None = None,
        faults: FaultPlan | None = None,
        charge_failure_rate: float = 0.0,
        own_clocks: bool = True,
    ) -> None:
        machine = default_machine()
        if program not in machine.programs:
            raise ValueError(f"program must be one of {', '.join(machine.programs)}")
        if era not in machine.eras:
            raise ValueError(f"era must be one of {', '.join(machine.eras)}")
        if connection is not None and connection not in machine.programs:
            raise ValueError(f"connection must be one of {', '.join(machine.programs)}")
        if window_field not in ("modified", "created"):
            raise ValueError("window_field must be 'modified' or 'created'")
        if not 0.0 <= charge_failure_rate <= 1.0:
            raise ValueError("charge_failure_rate must be between 0 and 1")
        self.program: Program = program
        self.era: Era = era
        self.connection: Program = connection or program
        self.window_field: WindowField = window_field
        self.clock = clock if clock is not None else Clock()
        self.rng = rng if rng is not None else random.Random(0)
        self.timeline = timeline
        self.fault_plan = faults
        self.charge_failure_rate = charge_failure_rate
        self.table = houzz_table(program, era)
        timing = machine.timing
        self.cancel_window = timing.cancel_window
        self.authorization = timing.authorization
        self._cancel_action = timing.cancel_action
        self._window_actors = frozenset(timing.cancel_window_actors)
        moves = self.table.moves
        # A scripted world (a replayed counterexample) makes Houzz's own moves itself.
        self._auto_charge = own_clocks and (self.table.initial, AUTO_CHARGE) in moves
        self._lapse = own_clocks and (CHARGED, AUTHORIZATION_LAPSE) in moves
        self._declines = charge_failure_rate > 0 and (IN_PRODUCTION, CHARGE_DECLINED) in moves
        self._filters = _status_filters(machine, self.table.hidden)
        self._by_modified = window_field == "modified"
        self._sort_key = attrgetter(window_field, "order_id")
        self._subscribers: list[Subscriber] = []
        self._begin()

    # --- bookkeeping -----------------------------------------------------------------------

    def _begin(self) -> None:
        self.orders: dict[str, HouzzOrder] = {}
        self.listing_calls = 0
        self.faults: FaultInjector | None = None
        if self.fault_plan is not None:
            self.faults = FaultInjector(self.fault_plan, clock=self.clock, timeline=self.timeline)
        self._times: list[int] = []
        self._slotted: list[HouzzOrder] = []
        self._in_order = True
        self._stale = 0
        self._version = 0
        self._listing: tuple[tuple[frozenset[str], int, int], int, list[HouzzOrder]] | None = None
        self._auto_charges = _Deadlines(self.clock, self._auto_charge_due, _still_new)
        self._lapses = _Deadlines(self.clock, self._lapse_due, _still_charged)

    def reset(self) -> None:
        """Forget every order, count and pending Houzz clock; keep configuration, clock and
        subscribers (moto's reset: one cheap call)."""
        self._auto_charges.close()
        self._lapses.close()
        self._begin()

    def subscribe(self, callback: Subscriber) -> None:
        """Call ``callback(order, action)`` after each placement (action ``Place``) and each
        status change (the action's name). The world (staff, customers) reacts through this."""
        self._subscribers.append(callback)

    def order(self, order_id: str) -> HouzzOrder:
        """The order with this id (``KeyError`` when there is none)."""
        try:
            return self.orders[order_id]
        except KeyError:
            raise KeyError(f"order {order_id} not found") from None

    def happenings_of(self, order_id: str) -> list[Happening]:
        """The order's history as timeline records (for runs that keep no timeline)."""
        return [
            Happening(time, order_id, actor, action, houzz_status=status)
            for time, actor, action, status in self.order(order_id).history
        ]

    def _index(self, order: HouzzOrder, at: int) -> None:
        # Parallel lists of plain ints and orders (no tuple per entry: fewer objects for the
        # garbage collector to trace); an entry is current while the order's slot points to it.
        times = self._times
        if order._slot >= 0:
            self._stale += 1
        order._slot = len(times)
        if times and times[-1] > at:
            self._in_order = False
        times.append(at)
        self._slotted.append(order)

    def _change(
        self, order: HouzzOrder, action: str, actor: str, dest: str, at: int, detail: str = ""
    ) -> None:
        order.status = dest
        order.modified = at
        order.history.append((at, actor, action, dest))
        order._view = None
        if self._by_modified:  # _index, inlined: this is the per-change hot path
            times = self._times
            if order._slot >= 0:
                self._stale += 1
            order._slot = len(times)
            if times and times[-1] > at:
                self._in_order = False
            times.append(at)
            self._slotted.append(order)
        self._version += 1
        if dest == CHARGED:
            order.charged_at = at
            if self._lapse:
                self._lapses.add(at + self.authorization, order, at)
        if self.timeline is not None:
            self.timeline.add(Happening(at, order.order_id, actor, action, detail, dest))
        for notify in self._subscribers:
            notify(order, action)

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
        count = 1 if items is None else items
        if count < 1:
            raise ValueError("an order has at least one item")
        status = self.table.initial
        order_id = new_order_id(self.rng, self.orders)
        order = HouzzOrder(
            order_id, status, when, when, count, history=[(when, "customer", PLACE, status)]
        )
        self.orders[order_id] = order
        self._index(order, when)
        self._version += 1
        if self.timeline is not None:
            self.timeline.add(Happening(when, order_id, "customer", PLACE, "", status))
        if status == CHARGED:
            order.charged_at = when
        for notify in self._subscribers:
            notify(order, PLACE)
        # Houzz's clocks last, so subscribers see Place before anything caught up since then.
        if status == CHARGED:
            if self._lapse:
                self._lapses.add(when + self.authorization, order, when)
        elif self._auto_charge:
            self._auto_charges.add(when + self.cancel_window, order, when)
        return order_id

    def _auto_charge_due(self, order: HouzzOrder, stamp: int, due: int) -> None:
        if order.status != NEW:
            return  # cancelled within the window
        action = AUTO_CHARGE
        rate = self.charge_failure_rate
        if rate and self.rng.random() < rate:
            action = CHARGE_FAILS
        dest = self.table.step(order.status, action, "houzz")
        if isinstance(dest, str):
            self._change(order, action, "houzz", dest, due)

    def _lapse_due(self, order: HouzzOrder, stamp: int, due: int) -> None:
        if not _still_charged(order, stamp):
            return  # shipped, cancelled, or charged again since
        dest = self.table.step(CHARGED, AUTHORIZATION_LAPSE, "houzz")
        if isinstance(dest, str):
            detail = f"not shipped within {self.authorization // 86400} days of the charge"
            self._change(order, AUTHORIZATION_LAPSE, "houzz", dest, due, detail)

    def act(self, order_id: str, action: str, actor: str, **details: str) -> Ack:
        """``actor`` (customer, staff, houzz) performs ``action`` on the order, by the table.

        ``details`` may carry ``tracking_number`` (comma-separated), ``shipping_method``,
        ``cancel_code`` and ``comments``. The customer may cancel only within the cancel
        window; afterwards the answer is a refusal with the reason.
        """
        unknown = set(details) - _DETAIL_KEYS
        if unknown:
            raise TypeError(f"unknown details: {', '.join(sorted(unknown))}")
        order = self.orders.get(order_id)
        if order is None:
            return Ack(False, f"order {order_id} not found")
        if (
            action == self._cancel_action
            and actor in self._window_actors
            and self.clock.now - order.created >= self.cancel_window
        ):
            minutes = self.cancel_window // 60
            return Ack(False, f"the {actor} may cancel only within {minutes} minutes of ordering")
        return self._perform(
            order,
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

    def _perform(
        self,
        order: HouzzOrder,
        action: str,
        actor: str,
        tracking: str,
        method: str,
        cancel_code: str,
        comments: str,
    ) -> Ack:
        dest = self.table.step(order.status, action, actor)
        if isinstance(dest, Rejection):
            return Ack(False, dest.reason)
        now = self.clock.now
        if self._declines and action == CHARGE and self.rng.random() < self.charge_failure_rate:
            declined = self.table.step(order.status, CHARGE_DECLINED, "houzz")
            if isinstance(declined, str):
                self._change(order, CHARGE_DECLINED, "houzz", declined, now, "card declined")
                return Ack(False, "the card was declined; the order is Failed to Charge")
        detail = ""
        if action == SHIP:
            numbers = tuple(n for n in (t.strip() for t in tracking.split(",")) if n)
            order.tracking_numbers = numbers
            order.shipping_method = method
            detail = f"tracking {', '.join(numbers) or 'none'}" + (
                f" via {method}" if method else ""
            )
        elif action == CANCEL:
            order.cancel_code = cancel_code
            order.comments = comments
            if cancel_code or comments:
                detail = (
                    f"code {cancel_code or '-'}: {comments}" if comments else f"code {cancel_code}"
                )
        self._change(order, action, actor, dest, now, detail)
        return _OK

    # --- the API (HouzzPort) ---------------------------------------------------------------

    def get_orders(
        self, status: str, start_time: int, end_time: int, start: int, count: int
    ) -> Page:
        """getOrders: orders in ``status`` whose window time is in [start_time, end_time].

        ``status`` takes the canonical names and every public spelling (``New``/``Placed``,
        ``InProduction``/``Processing``, ``Canceled``...), ``All`` and ``Active`` (neither
        Shipped nor Cancelled). Orders come sorted by (window time, order id); ``start`` is
        the offset and ``count`` the page size; ``total`` counts every match. Statuses
        Houzz holds back in this era (FailedToCharge in 2021) are never listed. Raises
        ``BadRequest`` for an unknown status or bad paging, ``TransientError`` for a fault.
        """
        self.listing_calls += 1
        faults = self.faults
        if faults is not None:
            faults.before_call("getOrders")
        wanted = self._filters.get(_spelling_key(status))
        if wanted is None:
            raise BadRequest(f"unknown order status {status!r}")
        if start < 0 or count < 1:
            raise BadRequest("Start must be 0 or more and NumberOfItems 1 or more")
        if self.connection != self.program:
            return _EMPTY
        found = self._matching(wanted, start_time, end_time)
        if (
            faults is not None
            and start > 0
            and faults.page_drifts()
            and self._drift(found, start, end_time, faults)
        ):
            found = self._matching(wanted, start_time, end_time)
        views = []
        for order in found[start : start + count]:
            view = order._view
            if view is None:
                view = order._view = OrderView(
                    order.order_id, order.status, order.created, order.modified
                )
            views.append(view)
        return Page(views, len(found))

    def _matching(self, wanted: frozenset[str], start_time: int, end_time: int) -> list[HouzzOrder]:
        key = (wanted, start_time, end_time)
        cached = self._listing
        # Pages of one listing repeat the query with nothing changed in between.
        if cached is not None and cached[1] == self._version and cached[0] == key:
            return cached[2]
        times = self._times
        if not self._in_order or (self._stale > 4096 and self._stale * 2 > len(times)):
            self._rebuild_index()
            times = self._times
        slotted = self._slotted
        lo = bisect_left(times, start_time)
        hi = bisect_right(times, end_time)
        found = [o for i, o in enumerate(slotted[lo:hi], lo) if o._slot == i and o.status in wanted]
        found.sort(key=self._sort_key)
        self._listing = (key, self._version, found)
        return found

    def _rebuild_index(self) -> None:
        """Drop stale entries and restore time order (stable: ties keep their order)."""
        pairs = enumerate(zip(self._times, self._slotted, strict=True))
        live = [(t, o) for i, (t, o) in pairs if o._slot == i]
        if not self._in_order:
            live.sort(key=_entry_time)
        self._times = [t for t, _ in live]
        self._slotted = [o for _, o in live]
        for i, order in enumerate(self._slotted):
            order._slot = i
        self._in_order = True
        self._stale = 0

    def _drift(
        self, found: list[HouzzOrder], start: int, end_time: int, faults: FaultInjector
    ) -> bool:
        """Modify one order already listed before ``start`` so the rest move up one place.

        A pager that simply asks for the next offset then misses the order that moved up
        onto the page it already read. Only the modified time can drift; with
        ``window_field="created"`` pages never shift and nothing is injected.
        """
        if not self._by_modified or start >= len(found):
            return False
        now = self.clock.now
        first_unread = found[start]
        bar = (first_unread.modified, first_unread.order_id)
        candidates = [
            o
            for o in found[:start]
            if o.modified < now and (end_time < now or (now, o.order_id) > bar)
        ]
        if not candidates:
            return False
        order = candidates[faults.choose(len(candidates))]
        order.modified = now
        order.history.append((now, "fault", PAGE_DRIFT, order.status))
        order._view = None
        self._index(order, now)
        self._version += 1
        faults.record_drift(
            order.order_id,
            f"modified while a listing was read; every order after it moved up one place "
            f"({first_unread.order_id} moved onto the page already read)",
        )
        return True

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
        faults = self.faults
        if faults is not None:
            faults.before_call("updateOrder", order_id)
        name = _EXACT_ACTIONS.get(action) or API_ACTIONS.get(action.lower())
        order = self.orders.get(order_id)
        if name is None:
            ack = Ack(False, f"unknown action {action!r}; expected Process, Charge, Ship or Cancel")
        elif order is None:
            ack = Ack(False, f"order {order_id} not found")
        elif name == SHIP and not tracking_number.strip(" ,"):
            ack = Ack(False, "Ship needs a TrackingNumber")
        else:
            ack = self._perform(
                order, name, "connector", tracking_number, shipping_method, cancel_code, comments
            )
        if faults is not None:
            faults.after_write(order_id, name or action, ack.ok)
        return ack
