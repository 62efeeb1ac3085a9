"""Houzz's order store: every order an integer handle over columns (``OrderStore``), and
``HouzzOrder``, a view of one order built on demand.

Memory: a run keeps every order to its end, so an order is a row of arrays, not an object:
its id (the one string it has, found through an open-addressing table of handles), status,
created and modified seconds, item count, the last Ship's shipping method and tracking
numbers (one log of 64-bit numbers), and the position of its latest change in the history
log, one append-only log of every order's changes, each entry chained to the same order's
previous one. No object is kept per order but its id: about 110 bytes an order beside the
id (tracemalloc, 100,000 orders), where the object, its dict entry and its history and
tracking ints took about 240. A
``HouzzOrder`` holds only the store and the handle: the lifecycle makes one for the
subscribers of a change, ``FakeHouzz.orders`` one for each order it is asked for. The
customer details are derived from the id (``details.py``), never stored.
"""

from __future__ import annotations

import threading
from array import array
from decimal import Decimal

from houzzflow.engine.limits import MAX_ITEMS
from houzzflow.engine.ports import OrderView
from houzzflow.simulator.houzz.details import OrderDetails, OrderItem, order_details
from houzzflow.simulator.houzz.names import CHARGED
from houzzflow.simulator.kernel.ids import order_number
from houzzflow.simulator.kernel.tracking import (
    NUMBER_BITS,
    pack_tracking,
    unpack_tracking,
    ups_numbers,
)

History = list[tuple[int, str, str, str]]

# A history log entry: the change's second, then its code (CODE_BITS), in one signed 64-bit
# int. Entries hold seconds within TIME_LIMIT of the epoch (4.4 million years); codes stand
# for an interned (actor, action, resulting status), of which there are a few dozen.
CODE_BITS = 16
CODE_MASK = (1 << CODE_BITS) - 1
TIME_LIMIT = 1 << (63 - CODE_BITS)
_PACKED = 255  # the tracking count of an order whose tracking is kept in ``tracking_other``
_MORE = 0xFFFF  # the method column's code for a method kept in ``method_more``
_ITEMS_FIT = MAX_ITEMS < 256  # item counts are kept one byte each
assert _ITEMS_FIT, "the item-count column is a bytearray"

# (actor, action, resulting status) interned, for the history log, and status names
# interned, for the status column. Both are shared by every store: they name the machine's
# statuses and the few kinds of change its actors make, not anything a user writes.
_HAPPENED: list[tuple[str, str, str]] = []
_CODES: dict[tuple[str, str, str], int] = {}
STATUS_BY_CODE: list[str] = []  # a status code's name: STATUS_BY_CODE[status_code(name)]
_STATUS_CODES: dict[str, int] = {}
_INTERN_LOCK = threading.Lock()  # the HTTP server's threads may meet a new name at once
FAULT_ACTOR = "fault"  # the actor of changes an injected fault makes (a page drift)


def history_code(actor: str, action: str, status: str) -> int:
    """The code that stands for (actor, action, resulting status) in the history log."""
    key = (actor, action, status)
    code = _CODES.get(key)
    if code is None:
        with _INTERN_LOCK:
            code = _CODES.get(key)
            if code is None:
                if len(_HAPPENED) > CODE_MASK:
                    raise ValueError(f"more than {CODE_MASK + 1} kinds of change to an order")
                code = _CODES[key] = len(_HAPPENED)
                _HAPPENED.append(key)
    return code


def status_code(status: str) -> int:
    """The code that stands for the status ``status`` in the status column."""
    code = _STATUS_CODES.get(status)
    if code is None:
        with _INTERN_LOCK:
            code = _STATUS_CODES.get(status)
            if code is None:
                if len(STATUS_BY_CODE) > 255:
                    raise ValueError("more than 256 order statuses")
                code = _STATUS_CODES[status] = len(STATUS_BY_CODE)
                STATUS_BY_CODE.append(status)
    return code


def status_name(code: int) -> str:
    """The status a status code stands for."""
    return STATUS_BY_CODE[code]


# OrderView is a frozen dataclass: its generated __init__ makes four object.__setattr__ calls.
# A listing makes one view per changed order, so views are filled through the slots directly.
_new_object = object.__new__
_set_view_id = vars(OrderView)["order_id"].__set__
_set_view_status = vars(OrderView)["status"].__set__
_set_view_created = vars(OrderView)["created"].__set__
_set_view_modified = vars(OrderView)["modified"].__set__


def _free_slot(slots: array[int], order_id: str) -> int:
    """The first empty slot (-1) of the id table ``slots`` on ``order_id``'s probe
    sequence (linear probing from its hash)."""
    mask = len(slots) - 1
    i = hash(order_id) & mask
    while slots[i] >= 0:
        i = (i + 1) & mask
    return i


class OrderStore:
    """Every order Houzz holds: handles 0, 1, 2... in the order they were placed, over
    columns. ``ids`` maps a handle to its order id and ``find`` an id to its handle;
    ``status`` (status codes, ``status_code``), ``created``, ``modified``, ``items``,
    ``method`` and ``tracking`` are the columns; ``log`` and ``prev`` the history log
    (``record``) and ``last`` each order's latest entry in it. ``views`` holds the
    getOrders view of orders listed since their last change, else None (the listing drops
    them as its window moves on, ``listing.py``; a list, as every change drops one);
    ``notes`` a Cancel's (code, comments) when it gave any. The lifecycle writes the
    columns itself on its hot path; everything else reads through the methods or a
    ``HouzzOrder``."""

    __slots__ = (
        "created",
        "ids",
        "items",
        "last",
        "log",
        "method",
        "method_codes",
        "method_more",
        "methods",
        "modified",
        "notes",
        "numbers",
        "prev",
        "slots",
        "status",
        "tracking",
        "tracking_count",
        "tracking_other",
        "views",
    )

    def __init__(self) -> None:
        self.ids: list[str] = []
        # An open-addressing hash table from id to handle (linear probing, at most half
        # full, -1: empty): 4-8 bytes an order, where a dict and an int object per handle
        # took 66, and nothing but arrays holds a handle for long (no int object each).
        self.slots: array[int] = array("i", [-1]) * 1024
        self.status = bytearray()
        self.created: array[int] = array("q")
        self.modified: array[int] = array("q")
        self.items = bytearray()
        # The last Ship's method, as a code into ``methods`` (0: none), and its tracking:
        # UPS-style numbers (kernel.tracking), the warehouse's kind, are appended to
        # ``numbers`` as 64-bit values, ``tracking_count`` of them from ``tracking`` (0:
        # none); any other text, or more numbers than a byte counts, is kept packed
        # (``pack_tracking``: an int or the text) in ``tracking_other`` (count 255).
        self.method: array[int] = array("H")
        self.methods: list[str] = [""]
        self.method_codes: dict[str, int] = {"": 0}
        self.method_more: dict[int, str] = {}  # past 65,534 distinct methods, by handle
        self.numbers: array[int] = array("Q")
        self.tracking: array[int] = array("i")
        self.tracking_count = bytearray()
        self.tracking_other: dict[int, int | str] = {}
        self.last: array[int] = array("i")
        self.log: array[int] = array("q")
        self.prev: array[int] = array("i")  # the same order's previous entry; -1: none
        self.views: list[OrderView | None] = []
        self.notes: dict[int, tuple[str, str]] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, order_id: str, status: str, when: int, items: int) -> int:
        """Store a new order (no history yet) and return its handle."""
        if not 1 <= items <= MAX_ITEMS:
            raise ValueError(f"an order has from 1 to {MAX_ITEMS} items, not {items}")
        if self.find(order_id) >= 0:
            raise ValueError(f"order {order_id} is already stored")
        handle = len(self.ids)
        if 2 * (handle + 1) > len(self.slots):
            self._grow()
        slots = self.slots
        slots[_free_slot(slots, order_id)] = handle
        self.status.append(status_code(status))
        self.created.append(when)
        self.modified.append(when)
        self.items.append(items)
        self.method.append(0)
        self.tracking.append(0)
        self.tracking_count.append(0)
        self.last.append(-1)
        self.views.append(None)
        self.ids.append(order_id)
        return handle

    def _grow(self) -> None:
        slots = array("i", [-1]) * (len(self.slots) * 2)
        for handle, order_id in enumerate(self.ids):
            slots[_free_slot(slots, order_id)] = handle
        self.slots = slots

    def find(self, order_id: str) -> int:
        """The handle of the order ``order_id``; -1 when there is none."""
        slots = self.slots
        mask = len(slots) - 1
        ids = self.ids
        i = hash(order_id) & mask
        handle = slots[i]
        while handle >= 0:
            if ids[handle] == order_id:
                return handle
            i = (i + 1) & mask
            handle = slots[i]
        return -1

    def __contains__(self, order_id: object) -> bool:
        return isinstance(order_id, str) and self.find(order_id) >= 0

    def record(self, handle: int, at: int, code: int) -> None:
        """Append the change ``code`` at second ``at`` to the order's history."""
        if not -TIME_LIMIT <= at < TIME_LIMIT:
            raise ValueError(f"second {at} is out of the history's range (+-{TIME_LIMIT})")
        log = self.log
        self.prev.append(self.last[handle])
        self.last[handle] = len(log)
        log.append((at << CODE_BITS) | code)

    def history_entries(self, handle: int) -> list[int]:
        """The order's history log entries, newest first."""
        log, prev = self.log, self.prev
        entries = []
        at = self.last[handle]
        while at >= 0:
            entries.append(log[at])
            at = prev[at]
        return entries

    def history_length(self, handle: int) -> int:
        """How many changes the order's history holds, its placing included: what an order
        counts its keyed random draws by (kernel.streams), whatever else happened meanwhile."""
        prev = self.prev
        n = 0
        at = self.last[handle]
        while at >= 0:
            n += 1
            at = prev[at]
        return n

    def charged_at(self, handle: int) -> int | None:
        """When the order was last charged (None: never): its last change to Charged (or
        placement as Charged) that was not a fault's (a page drift keeps the status)."""
        log, prev = self.log, self.prev
        at = self.last[handle]
        while at >= 0:
            entry = log[at]
            actor, _, status = _HAPPENED[entry & CODE_MASK]
            if status == CHARGED and actor != FAULT_ACTOR:
                return entry >> CODE_BITS
            at = prev[at]
        return None

    def history(self, handle: int) -> History:
        """The order's history: (time, actor, action, resulting status), oldest first."""
        changes = [
            (e >> CODE_BITS, *_HAPPENED[e & CODE_MASK]) for e in self.history_entries(handle)
        ]
        changes.reverse()
        return changes

    def set_shipped(self, handle: int, tracking: str, method: str) -> None:
        """Keep a Ship's tracking numbers (comma-joined, clean) and shipping method."""
        if self.tracking_other:  # a Ship again after one kept there (seldom)
            self.tracking_other.pop(handle, None)
        numbers = ups_numbers(tracking) if tracking else None
        if numbers is not None and len(numbers) < _PACKED:
            self.tracking[handle] = len(self.numbers)
            self.tracking_count[handle] = len(numbers)
            self.numbers.extend(numbers)
        else:
            self.tracking_count[handle] = _PACKED if tracking else 0
            if tracking:
                self.tracking_other[handle] = pack_tracking(tracking)
        code = self.method_codes.get(method)
        if code is None:
            code = self._method_code(method)
        if self.method_more:
            self.method_more.pop(handle, None)
        if code == _MORE:
            self.method_more[handle] = method
        self.method[handle] = code

    def _method_code(self, method: str) -> int:
        """A code for a shipping method not seen yet: the next, or ``_MORE`` when the
        column's codes are all taken (the method is then kept by order)."""
        if len(self.methods) >= _MORE:
            return _MORE
        code = self.method_codes[method] = len(self.methods)
        self.methods.append(method)
        return code

    def tracking_packed(self, handle: int) -> int | str:
        """The last Ship's tracking numbers packed as ``kernel.tracking.pack_tracking``
        packs them (an int, or the text itself); "" when none."""
        count = self.tracking_count[handle]
        if count == _PACKED:
            return self.tracking_other[handle]
        if not count:
            return ""
        packed = 1
        start = self.tracking[handle]
        for number in self.numbers[start : start + count]:
            packed = (packed << NUMBER_BITS) | number
        return packed

    def shipping_method(self, handle: int) -> str:
        """The last Ship's shipping method; "" when none."""
        code = self.method[handle]
        if code == _MORE:
            return self.method_more[handle]
        return self.methods[code]

    def view(self, handle: int) -> OrderView:
        """How getOrders shows the order now: made once per change, however many listings
        show it (the lifecycle drops it at every change)."""
        view = self.views[handle]
        if view is None:
            view = _new_object(OrderView)
            _set_view_id(view, self.ids[handle])
            _set_view_status(view, STATUS_BY_CODE[self.status[handle]])
            _set_view_created(view, self.created[handle])
            _set_view_modified(view, self.modified[handle])
            self.views[handle] = view
        return view


class HouzzOrder:
    """One Houzz order as the marketplace holds it: a view of its row in an ``OrderStore``,
    reading the store at each attribute (so it always shows the order as it is now).

    ``status`` is canonical (New, InProduction, Charged, Shipped, Cancelled, FailedToCharge);
    ``created`` and ``modified`` are simulated seconds; ``history`` lists every change as
    (time, actor, action, resulting status); ``charged_at`` is when it was last charged.
    ``tracking_numbers`` are the numbers of the last Ship (``tracking``: the same,
    comma-joined; ``tracking_packed``: packed, kernel.tracking). The customer details
    (``customer_name``, ``address`` with keys Address, Address1, City, State, Zip, Country,
    Phone, ``items``, ``order_total``, ``flat_shipping``) are derived from the order id and
    ``item_count``: the same order always shows the same details. Two views of the same
    order in the same store are equal.
    """

    __slots__ = ("handle", "store")

    def __init__(self, store: OrderStore, handle: int) -> None:
        self.store = store
        self.handle = handle

    def __repr__(self) -> str:
        return (
            f"HouzzOrder(order_id={self.order_id!r}, status={self.status!r}, "
            f"created={self.created}, modified={self.modified}, item_count={self.item_count})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HouzzOrder):
            return NotImplemented
        return self.store is other.store and self.handle == other.handle

    def __hash__(self) -> int:
        return hash((id(self.store), self.handle))

    @property
    def order_id(self) -> str:
        return self.store.ids[self.handle]

    @property
    def status(self) -> str:
        return STATUS_BY_CODE[self.store.status[self.handle]]

    @property
    def created(self) -> int:
        return self.store.created[self.handle]

    @property
    def modified(self) -> int:
        return self.store.modified[self.handle]

    @property
    def item_count(self) -> int:
        return self.store.items[self.handle]

    @property
    def history(self) -> History:
        return self.store.history(self.handle)

    @property
    def charged_at(self) -> int | None:
        """When the order was last charged (None: never), by its history."""
        return self.store.charged_at(self.handle)

    @property
    def cancel_note(self) -> tuple[str, str] | None:
        """A Cancel's (code, comments), when it gave either."""
        return self.store.notes.get(self.handle)

    @property
    def cancel_code(self) -> str:
        note = self.cancel_note
        return "" if note is None else note[0]

    @property
    def comments(self) -> str:
        note = self.cancel_note
        return "" if note is None else note[1]

    @property
    def shipping_method(self) -> str:
        return self.store.shipping_method(self.handle)

    @property
    def tracking_packed(self) -> int | str:
        return self.store.tracking_packed(self.handle)

    @property
    def tracking(self) -> str:
        return unpack_tracking(self.tracking_packed)

    @property
    def tracking_numbers(self) -> tuple[str, ...]:
        tracking = self.tracking
        return tuple(tracking.split(",")) if tracking else ()

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


def history_length(order: HouzzOrder) -> int:
    """How many changes the order's history holds, its placing included."""
    return order.store.history_length(order.handle)
