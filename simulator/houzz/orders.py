"""One Houzz order as the marketplace holds it (``HouzzOrder``), and its history.

Memory: a run keeps every order to the end, so an order is one slotted object and its
history a flat list of ints (time, code, time, code...), each code standing for one interned
(actor, action, resulting status); its customer details are derived on demand from its id
(``details.py``), so placing an order costs a few attribute writes. The store is a plain
dict of these by order id (``FakeHouzz.orders``).
"""

from __future__ import annotations

import threading
from decimal import Decimal

from houzzflow.engine.ports import OrderView
from houzzflow.simulator.houzz.details import OrderDetails, OrderItem, order_details
from houzzflow.simulator.kernel.ids import order_number

History = list[tuple[int, str, str, str]]

# (actor, action, resulting status) interned: an order's history is a flat list of ints
# (time, code, time, code...) instead of one tuple per change.
_HAPPENED: list[tuple[str, str, str]] = []
_CODES: dict[tuple[str, str, str], int] = {}
_CODES_LOCK = threading.Lock()


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

    ``history_codes`` is the history as the lifecycle records it, flat (time, code) pairs
    (see ``history_code``); ``view`` is how getOrders shows the order, made by the listing
    when first listed after a change and dropped (``None``) at every change.
    """

    # Memory: a few slots, and a history of about 120 bytes for a whole life, not 400.
    __slots__ = (
        "cancel_code",
        "charged_at",
        "comments",
        "created",
        "history_codes",
        "item_count",
        "modified",
        "order_id",
        "shipping_method",
        "status",
        "tracking",
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
        self.tracking = ""  # the last Ship's tracking numbers, comma-joined
        self.shipping_method = ""
        self.charged_at: int | None = None
        self.cancel_code = ""
        self.comments = ""
        self.history_codes: list[int] = []
        self.view: OrderView | None = None

    def __repr__(self) -> str:
        return (
            f"HouzzOrder(order_id={self.order_id!r}, status={self.status!r}, "
            f"created={self.created}, modified={self.modified}, item_count={self.item_count})"
        )

    @property
    def history(self) -> History:
        h = self.history_codes
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
