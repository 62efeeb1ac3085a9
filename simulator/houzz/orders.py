"""One Houzz order as the marketplace holds it (``HouzzOrder``), and its history.

Memory: a run keeps every order to the end, so an order is one slotted object and its
history one int that packs every change (seconds since the order was created, and a code
standing for one interned (actor, action, resulting status)): about 56 bytes for a whole
life, where a list of ints took 120. Its customer details are derived on demand from its id
(``details.py``), so placing an order costs a few attribute writes. The store is a plain
dict of these by order id (``FakeHouzz.orders``).
"""

from __future__ import annotations

import threading
from decimal import Decimal

from houzzflow.engine.ports import OrderView
from houzzflow.simulator.houzz.details import OrderDetails, OrderItem, order_details
from houzzflow.simulator.houzz.names import CHARGED
from houzzflow.simulator.kernel.ids import order_number
from houzzflow.simulator.kernel.tracking import unpack_tracking

History = list[tuple[int, str, str, str]]

# A packed history: a leading 1 bit, then per change, oldest first, ENTRY_BITS bits: the
# seconds since the order was created (DELTA_BITS) and the change's code (CODE_BITS). A
# change these fields cannot hold (a code past 1,023, a time before ``created`` or more than
# 136 years after it) turns the history into the plain form: a list of (time, code) pairs.
CODE_BITS = 10
DELTA_BITS = 32
ENTRY_BITS = DELTA_BITS + CODE_BITS
CODE_MASK = (1 << CODE_BITS) - 1
DELTA_LIMIT = 1 << DELTA_BITS
_ENTRY_MASK = (1 << ENTRY_BITS) - 1

# (actor, action, resulting status) interned: an order's history is a flat list of ints
# (time, code, time, code...) instead of one tuple per change.
_HAPPENED: list[tuple[str, str, str]] = []
_CODES: dict[tuple[str, str, str], int] = {}
_CODES_LOCK = threading.Lock()
FAULT_ACTOR = "fault"  # the actor of changes an injected fault makes (a page drift)


def history_code(actor: str, action: str, status: str) -> int:
    """The code that stands for (actor, action, resulting status) in an order's history."""
    key = (actor, action, status)
    code = _CODES.get(key)
    if code is None:
        with _CODES_LOCK:  # the HTTP server's threads may meet a new kind of change at once
            code = _CODES.get(key)
            if code is None:
                code = _CODES[key] = len(_HAPPENED)
                _HAPPENED.append(key)
    return code


def record_change(order: HouzzOrder, at: int, code: int) -> None:
    """Append the change ``code`` at second ``at`` to the order's history."""
    packed = order.history_codes
    delta = at - order.created
    if isinstance(packed, int) and 0 <= delta < DELTA_LIMIT and code <= CODE_MASK:
        order.history_codes = (packed << ENTRY_BITS) | (delta << CODE_BITS) | code
    else:
        pairs = history_pairs(order)
        pairs += (at, code)
        order.history_codes = pairs


def history_length(order: HouzzOrder) -> int:
    """How many changes the order's history holds, its placing included: what an order
    counts its keyed random draws by (kernel.streams), whatever else happened meanwhile."""
    packed = order.history_codes
    if isinstance(packed, int):
        return (packed.bit_length() - 1) // ENTRY_BITS
    return len(packed) // 2


def history_pairs(order: HouzzOrder) -> list[int]:
    """The order's history as flat (time, code) pairs, oldest first."""
    packed = order.history_codes
    if not isinstance(packed, int):
        return list(packed)
    created = order.created
    pairs: list[int] = []
    while packed > 1:
        entry = packed & _ENTRY_MASK
        pairs += (entry & CODE_MASK, created + (entry >> CODE_BITS))
        packed >>= ENTRY_BITS
    pairs.reverse()  # read newest first, as (code, time): reversed, (time, code) oldest first
    return pairs


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

    ``history_codes`` is the history as the lifecycle records it (``record_change``), packed
    in one int or, rarely, as flat (time, code) pairs (see ``history_code``); ``charged_at``
    (when the order was last charged) is read from it. A Cancel's ``cancel_code`` and
    ``comments`` are kept together (``cancel_note``), and only when given. ``view`` is how
    getOrders shows the order, made by the listing when first listed after a change and
    dropped (``None``) at every change.
    """

    # Memory: ten slots (112 bytes), a history of about 56 bytes for a whole life, not 400.
    __slots__ = (
        "cancel_note",
        "created",
        "history_codes",
        "item_count",
        "modified",
        "order_id",
        "shipping_method",
        "status",
        "tracking_packed",
        "view",
    )

    def __init__(
        self, order_id: str, status: str, created: int, modified: int, item_count: int = 1
    ) -> None:
        self.order_id = order_id
        self.status = status
        self.created = created
        self.modified = modified
        self.item_count = item_count
        # The last Ship's tracking numbers, comma-joined, or packed (kernel.tracking).
        self.tracking_packed: int | str = ""
        self.shipping_method = ""
        self.cancel_note: tuple[str, str] | None = None  # a Cancel's (code, comments)
        self.view: OrderView | None = None
        self.history_codes: int | list[int] = 1  # packed, no change yet

    def __repr__(self) -> str:
        return (
            f"HouzzOrder(order_id={self.order_id!r}, status={self.status!r}, "
            f"created={self.created}, modified={self.modified}, item_count={self.item_count})"
        )

    @property
    def history(self) -> History:
        h = history_pairs(self)
        happened = _HAPPENED
        return [(h[i], *happened[h[i + 1]]) for i in range(0, len(h), 2)]

    @property
    def charged_at(self) -> int | None:
        """When the order was last charged (None: never): its last change to Charged (or
        placement as Charged) that was not a fault's (a page drift keeps the status)."""
        pairs = history_pairs(self)
        happened = _HAPPENED
        for i in range(len(pairs) - 2, -1, -2):
            actor, _, status = happened[pairs[i + 1]]
            if status == CHARGED and actor != FAULT_ACTOR:
                return pairs[i]
        return None

    @property
    def cancel_code(self) -> str:
        note = self.cancel_note
        return "" if note is None else note[0]

    @property
    def comments(self) -> str:
        note = self.cancel_note
        return "" if note is None else note[1]

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
