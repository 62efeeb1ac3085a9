"""The fake Houzz's state and rules: orders, their lifecycle, listing and updates.

moto's lesson: this module holds the marketplace's state and operations as plain Python
and never touches XML or JSON; ``wire.py`` speaks Houzz's format and ``server.py`` serves it
over HTTP. Lifecycle rules come only from the compiled table (``engine.table.houzz_table``);
this module adds Houzz's clocks (the 2021 auto-charge when the cancel window closes, the
7-day authorization), listing with public status spellings and offset paging, and faults.

Speed and memory: an order is one slotted object and its history a flat list of ints; its
customer details (name, address, items, totals) are derived on demand from its id, so
placing an order costs a few attribute writes. Listing uses an index of (time, order)
entries appended as orders change: an entry is current while its time is still the order's,
the orders changed in one second are sorted by id once (not at every listing), stale
entries are dropped when they outnumber the rest, and each order's view is made once per
change. A poll over a sliding window costs about the number of orders in the window.
"""

from __future__ import annotations

import random
import threading
from bisect import bisect_left, bisect_right
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache, partial
from itertools import compress
from operator import attrgetter, eq
from typing import Literal

from houzzflow.engine.machine import Era, MachineDef, Program, default_machine
from houzzflow.engine.ports import Ack, OrderView, Page
from houzzflow.engine.table import Rejection, houzz_table
from houzzflow.simulator.kernel.clock import Clock
from houzzflow.simulator.kernel.faults import FaultInjector, FaultPlan
from houzzflow.simulator.kernel.ids import new_order_id, order_number
from houzzflow.simulator.kernel.timeline import Happening, Timeline

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

# What happened in one history entry, (actor, action, resulting status), interned: an order's
# history is a flat list of ints (time, code, time, code...) instead of one tuple per change.
_HAPPENED: list[tuple[str, str, str]] = []
_CODES: dict[tuple[str, str, str], int] = {}
_CODES_LOCK = threading.Lock()


def _code(actor: str, action: str, status: str) -> int:
    key = (actor, action, status)
    code = _CODES.get(key)
    if code is None:
        with _CODES_LOCK:  # the HTTP server's threads may meet a new kind of change at once
            code = _CODES.get(key)
            if code is None:
                code = _CODES[key] = len(_HAPPENED)
                _HAPPENED.append(key)
    return code


class HouzzOrder:
    """One Houzz order as the marketplace holds it.

    ``status`` is canonical (New, InProduction, Charged, Shipped, Cancelled, FailedToCharge);
    ``created`` and ``modified`` are simulated seconds; ``history`` lists every change as
    (time, actor, action, resulting status). ``tracking_numbers`` are the numbers of the
    last Ship (``tracking``: the same, comma-joined). The customer details
    (``customer_name``, ``address`` with keys Address, Address1, City, State, Zip, Country,
    Phone, ``items``, ``order_total``, ``flat_shipping``) are read-only views derived from the
    order id and ``item_count``: the same order always shows the same details, and 100,000
    orders do not hold 100,000 address dicts.
    """

    # Memory: a run keeps every order to the end, so an order is a few slots and its
    # history a flat list of ints (about 120 bytes for a whole life, not 400).
    __slots__ = (
        "_history",
        "_view",
        "cancel_code",
        "charged_at",
        "comments",
        "created",
        "item_count",
        "modified",
        "order_id",
        "shipping_method",
        "status",
        "tracking",
    )

    def __init__(
        self, order_id: str, status: str, created: int, modified: int, item_count: int = 1
    ) -> None:
        self.order_id = order_id
        self.status = status
        self.created = created
        self.modified = modified
        self.item_count = item_count
        self.tracking = ""  # the last Ship's tracking numbers, comma-joined
        self.shipping_method = ""
        self.charged_at: int | None = None
        self.cancel_code = ""
        self.comments = ""
        self._history: list[int] = []
        self._view: OrderView | None = None  # how getOrders shows it, made when first listed

    def __repr__(self) -> str:
        return (
            f"HouzzOrder(order_id={self.order_id!r}, status={self.status!r}, "
            f"created={self.created}, modified={self.modified}, item_count={self.item_count})"
        )

    @property
    def history(self) -> History:
        h = self._history
        happened = _HAPPENED
        return [(h[i], *happened[h[i + 1]]) for i in range(0, len(h), 2)]

    @property
    def tracking_numbers(self) -> tuple[str, ...]:
        return tuple(self.tracking.split(",")) if self.tracking else ()

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
# The listing index is compacted when more than this many of its entries, and more than
# half of them, are stale (amortised: each compaction at least halves it).
REBUILD_AFTER = 4096
_order_id = attrgetter("order_id")
_modified = attrgetter("modified")

# OrderView is a frozen dataclass: its generated __init__ makes four object.__setattr__ calls.
# A listing makes one view per changed order, so views are filled through the slots directly.
_new_object = object.__new__
_set_view_id = vars(OrderView)["order_id"].__set__
_set_view_status = vars(OrderView)["status"].__set__
_set_view_created = vars(OrderView)["created"].__set__
_set_view_modified = vars(OrderView)["modified"].__set__


def _view_of(order: HouzzOrder) -> OrderView:
    view: OrderView = _new_object(OrderView)
    _set_view_id(view, order.order_id)
    _set_view_status(view, order.status)
    _set_view_created(view, order.created)
    _set_view_modified(view, order.modified)
    order._view = view
    return view


def _tracking_text(tracking: str) -> str:
    """Tracking numbers as Houzz keeps them: comma-joined, blanks and empties dropped."""
    if tracking.isalnum() or (
        tracking.replace(",", "").isalnum()
        and tracking[0] != ","
        and tracking[-1] != ","
        and ",," not in tracking
    ):
        return tracking  # already clean: the common case, kept without a copy
    return ",".join(n for n in (t.strip() for t in tracking.split(",")) if n)


class _Deadlines:
    """Orders due for one of Houzz's clocks (auto-charge, authorization lapse), each
    ``offset`` seconds after the moment stamped on it (its placement, its charge).

    Deadlines nearly always arrive in time order, so they wait in a FIFO with a single clock
    event armed for the head, instead of one clock event per order; one that arrives out of
    order gets its own clock event, and one already past is handled at once, stamped with
    its due time. ``handler(order, stamp, due)`` decides whether anything happens;
    ``alive(order, stamp)`` is False once nothing can happen any more (a shipped order's
    authorization cannot lapse), so such deadlines are dropped before the clock is armed
    for them, and most orders never cost a clock event for it. The FIFO is two deques of
    plain references (stamp, order): 16 bytes a deadline, not a tuple each.
    """

    __slots__ = ("_alive", "_armed", "_clock", "_handler", "_live", "_offset", "_orders", "_stamps")

    def __init__(self, clock: Clock, offset: int, handler: _Due, alive: _Alive) -> None:
        self._clock = clock
        self._offset = offset
        self._handler = handler
        self._alive = alive
        self._stamps: deque[int] = deque()
        self._orders: deque[HouzzOrder] = deque()
        self._armed = False
        self._live = True

    def add(self, order: HouzzOrder, stamp: int) -> None:
        clock = self._clock
        due = stamp + self._offset
        if due < clock.now:
            self._handler(order, stamp, due)
            return
        stamps = self._stamps
        if stamps and stamps[-1] > stamp:
            clock.at(due, partial(self._one, order, stamp, due))
            return
        stamps.append(stamp)
        self._orders.append(order)
        if not self._armed:
            self._armed = True
            clock.at(stamps[0] + self._offset, self._drain)

    def close(self) -> None:
        """Forget every deadline; clock events already armed find nothing to do."""
        self._live = False
        self._stamps.clear()
        self._orders.clear()

    def _drain(self) -> None:
        self._armed = False
        stamps, orders = self._stamps, self._orders
        offset = self._offset
        last = self._clock.now - offset  # due by now: stamped at or before this
        handler = self._handler
        while stamps and stamps[0] <= last:
            stamp = stamps.popleft()
            handler(orders.popleft(), stamp, stamp + offset)
        alive = self._alive
        while stamps and not alive(orders[0], stamps[0]):
            stamps.popleft()
            orders.popleft()
        if stamps and not self._armed and self._live:
            self._armed = True
            self._clock.at(stamps[0] + offset, self._drain)

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


# A step of the lifecycle as the fake applies it: the resulting status, its history code,
# and the subscribers told about it.
_Step = tuple[str, int, tuple[Subscriber, ...]]


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
        # "All" with nothing held back: every indexed order matches, no status test needed.
        self._everything = None if self.table.hidden else self._filters["all"]
        self._by_modified = window_field == "modified"
        self._sort_key = attrgetter(window_field, "order_id")
        self._window_time = attrgetter(window_field)
        # The table's allowed steps, learnt once per (status, action, actor) (a refusal is
        # asked of the table each time). Placing an order records the same history code.
        self._steps: dict[tuple[str, str, str], _Step] = {}
        self._placed = _code("customer", PLACE, self.table.initial)
        self._subscribers: list[tuple[Subscriber, frozenset[str] | None]] = []
        self._heard: dict[str, tuple[Subscriber, ...]] = {state: () for state in self.table.states}
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
        self._settled = 0  # entries before this are in (time, order id) order
        self._unviewed = 0  # entries before this have had their order's view dropped
        # The last listing, until anything changes: (query, orders found).
        self._listing: tuple[tuple[frozenset[str], int, int], list[HouzzOrder]] | None = None
        self._auto_charges = _Deadlines(
            self.clock, self.cancel_window, self._auto_charge_due, _still_new
        )
        self._lapses = _Deadlines(self.clock, self.authorization, self._lapse_due, _still_charged)

    def reset(self) -> None:
        """Forget every order, count and pending Houzz clock; keep configuration, clock and
        subscribers (moto's reset: one cheap call)."""
        self._auto_charges.close()
        self._lapses.close()
        self._begin()

    def subscribe(self, callback: Subscriber, *, statuses: Iterable[str] | None = None) -> None:
        """Call ``callback(order, action)`` after each placement (action ``Place``) and each
        status change (the action's name). The world (staff, customers) reacts through this.
        With ``statuses``, only changes that leave the order in one of them are told (a
        subscriber that cares about few statuses costs nothing on the others)."""
        self._subscribers.append((callback, None if statuses is None else frozenset(statuses)))
        self._heard = {
            state: tuple(cb for cb, only in self._subscribers if only is None or state in only)
            for state in self.table.states
        }
        self._steps.clear()  # the steps learnt so far name the subscribers they tell

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
        """Enter the order in the listing index at its new window time ``at``.

        The index is two parallel lists, times and orders (no tuple per entry). An entry is
        current while its time is still the order's window time; the order's earlier
        entries are stale and skipped. A change right after another of the same order in
        the same second (Process, then Charge) needs no new entry."""
        times, slotted = self._times, self._slotted
        if slotted and slotted[-1] is order and times[-1] == at:
            return
        if times and times[-1] > at:
            self._in_order = False
        times.append(at)
        slotted.append(order)

    def _step(self, key: tuple[str, str, str]) -> _Step | Rejection:
        """The table's answer to (status, action, actor); allowed steps are remembered."""
        step = self._steps.get(key)
        if step is not None:
            return step
        status, action, actor = key
        dest = self.table.step(status, action, actor)
        if isinstance(dest, Rejection):
            return dest
        step = self._steps[key] = (dest, _code(actor, action, dest), self._heard.get(dest, ()))
        return step

    def _change(
        self, order: HouzzOrder, step: _Step, action: str, actor: str, at: int, detail: str = ""
    ) -> None:
        dest, code, told = step
        order.status = dest
        order.modified = at
        order._history += (at, code)
        order._view = None
        if self._by_modified:  # _index, inlined: this is the per-change hot path
            times, slotted = self._times, self._slotted
            if slotted[-1] is not order or times[-1] != at:
                if times[-1] > at:
                    self._in_order = False
                times.append(at)
                slotted.append(order)
        self._listing = None  # a listing read before this change is out of date
        if dest == CHARGED:
            order.charged_at = at
            if self._lapse:
                self._lapses.add(order, at)
        if self.timeline is not None:
            self._tell(at, order.order_id, actor, action, detail, dest)
        for notify in told:
            notify(order, action)

    def _tell(
        self, at: int, order_id: str, actor: str, action: str, detail: str, status: str
    ) -> None:
        timeline = self.timeline
        if timeline is not None and timeline.wants(order_id):
            timeline.add(Happening(at, order_id, actor, action, detail, status))

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
        order = HouzzOrder(order_id, status, when, when, count)
        order._history = [when, self._placed]
        self.orders[order_id] = order
        times = self._times  # _index, inlined
        if times and times[-1] > when:
            self._in_order = False
        times.append(when)
        self._slotted.append(order)
        self._listing = None  # a listing read before this change is out of date
        if self.timeline is not None:
            self._tell(when, order_id, "customer", PLACE, "", status)
        if status == CHARGED:
            order.charged_at = when
        for notify in self._heard[status]:
            notify(order, PLACE)
        # Houzz's clocks last, so subscribers see Place before anything caught up since then.
        if status == CHARGED:
            if self._lapse:
                self._lapses.add(order, when)
        elif self._auto_charge:
            self._auto_charges.add(order, when)
        return order_id

    def _auto_charge_due(self, order: HouzzOrder, stamp: int, due: int) -> None:
        if order.status != NEW:
            return  # cancelled within the window
        action = AUTO_CHARGE
        rate = self.charge_failure_rate
        if rate and self.rng.random() < rate:
            action = CHARGE_FAILS
        step = self._step((NEW, action, "houzz"))
        if not isinstance(step, Rejection):
            self._change(order, step, action, "houzz", due)

    def _lapse_due(self, order: HouzzOrder, stamp: int, due: int) -> None:
        if not _still_charged(order, stamp):
            return  # shipped, cancelled, or charged again since
        step = self._step((CHARGED, AUTHORIZATION_LAPSE, "houzz"))
        if not isinstance(step, Rejection):
            detail = f"not shipped within {self.authorization // 86400} days of the charge"
            self._change(order, step, AUTHORIZATION_LAPSE, "houzz", due, detail)

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
        if not details:
            return self._perform(order, action, actor, "", "", "", "")
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
        key = (order.status, action, actor)
        step = self._steps.get(key)
        if step is None:
            learnt = self._step(key)
            if isinstance(learnt, Rejection):
                return Ack(False, learnt.reason)
            step = learnt
        now = self.clock.now
        if self._declines and action == CHARGE and self.rng.random() < self.charge_failure_rate:
            declined = self._step((order.status, CHARGE_DECLINED, "houzz"))
            if not isinstance(declined, Rejection):
                self._change(order, declined, CHARGE_DECLINED, "houzz", now, "card declined")
                return Ack(False, "the card was declined; the order is Failed to Charge")
        if action == SHIP:
            order.tracking = _tracking_text(tracking)
            order.shipping_method = method
        elif action == CANCEL:
            order.cancel_code = cancel_code
            order.comments = comments
        if self.timeline is None:
            self._change(order, step, action, actor, now)
        else:
            self._change(order, step, action, actor, now, _detail(order, action))
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
        # An order's view is made once per change, however many listings show it.
        return Page([o._view or _view_of(o) for o in found[start : start + count]], len(found))

    def _matching(self, wanted: frozenset[str], start_time: int, end_time: int) -> list[HouzzOrder]:
        key = (wanted, start_time, end_time)
        cached = self._listing
        # Pages of one listing repeat the query with nothing changed in between.
        if cached is not None and cached[0] == key:
            return cached[1]
        times = self._times
        # Every order has one current entry; the rest are stale (the order changed since).
        stale = len(times) - len(self.orders)
        if not self._in_order or (stale > REBUILD_AFTER and stale * 2 > len(times)):
            self._rebuild_index()
            times = self._times
        elif self._settled < len(times):
            self._settle()
        lo = bisect_left(times, start_time)
        hi = bisect_right(times, end_time)
        if lo > self._unviewed:
            self._forget_views(lo)
        entries = self._slotted[lo:hi]
        if self._by_modified:
            current = map(eq, map(_modified, entries), times[lo:hi])
            if wanted is self._everything:
                found = list(compress(entries, current))
            else:
                found = [o for o in compress(entries, current) if o.status in wanted]
        elif wanted is self._everything:
            found = entries  # by created time, every entry is current
        else:
            found = [o for o in entries if o.status in wanted]
        self._listing = (key, found)
        return found

    def _forget_views(self, upto: int) -> None:
        """Drop the cached views of orders last changed before ``upto`` (an index position).

        Listings move forward in time: an order the window has passed is seldom listed
        again, and a run of 100,000 orders need not keep a view of each to its end."""
        start = self._unviewed
        entries = self._slotted[start:upto]
        if self._by_modified:
            current = map(eq, map(_modified, entries), self._times[start:upto])
            entries = list(compress(entries, current))
        for order in entries:
            order._view = None
        self._unviewed = upto

    def _settle(self) -> None:
        """Put the entries added since the last listing in (time, order id) order, once.

        Entries arrive in time order (else the index is rebuilt), but the orders changed in
        one second (a poll's worth of Process calls) arrive in the caller's order: those ties
        are sorted by id here, once per entry, not in every listing that shows them; an
        order entered twice in one second keeps one entry.
        """
        times, slotted = self._times, self._slotted
        first = bisect_left(times, times[self._settled])  # the second straddling the line
        self._settled = len(times)
        stamps = times[first:]
        counts = Counter(stamps)
        if len(counts) == len(stamps):
            return  # no two entries share a second
        self._unviewed = min(self._unviewed, first)  # positions from ``first`` on move
        entries = slotted[first:]
        new_times: list[int] = []
        new_entries: list[HouzzOrder] = []
        done = 0
        for t, n in counts.items():  # seconds in time order
            if n == 1:
                continue
            lo = bisect_left(stamps, t, done)
            new_times += stamps[done:lo]
            new_entries += entries[done:lo]
            tied = sorted(dict.fromkeys(entries[lo : lo + n]), key=_order_id)
            new_times += [t] * len(tied)
            new_entries += tied
            done = lo + n
        new_times += stamps[done:]
        new_entries += entries[done:]
        times[first:] = new_times
        slotted[first:] = new_entries
        self._settled = len(times)

    def _rebuild_index(self) -> None:
        """Drop stale entries and restore (time, order id) order."""
        if self._in_order:
            if self._settled < len(self._times):
                self._settle()  # every tie sorted, every order once per second
            keep = map(eq, map(self._window_time, self._slotted), self._times)
            self._slotted = list(compress(self._slotted, keep))
        else:
            entries = self._slotted
            if self._by_modified:
                entries = list(compress(entries, map(eq, map(_modified, entries), self._times)))
            self._slotted = list(dict.fromkeys(entries))  # changed twice in a second: once
            self._slotted.sort(key=self._sort_key)
            self._in_order = True
        self._times = list(map(self._window_time, self._slotted))
        self._settled = len(self._times)
        self._unviewed = 0

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
        order._history += (now, _code("fault", PAGE_DRIFT, order.status))
        order._view = None
        self._index(order, now)
        self._listing = None  # a listing read before this change is out of date
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


def _detail(order: HouzzOrder, action: str) -> str:
    """What a Ship or a Cancel said, for the timeline."""
    if action == SHIP:
        method = order.shipping_method
        return f"tracking {order.tracking.replace(',', ', ') or 'none'}" + (
            f" via {method}" if method else ""
        )
    if action == CANCEL and (order.cancel_code or order.comments):
        code, comments = order.cancel_code, order.comments
        return f"code {code or '-'}: {comments}" if comments else f"code {code}"
    return ""
