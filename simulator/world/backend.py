"""The backend: a warehouse (WMS) that receives orders, ships them and may accept a cancel.

It implements ``houzzflow.engine.ports.BackendPort``. Every receipt is counted per order id, so an
order sent twice is visible (``received``); the warehouse ships each order once, after a
random delay, in one or more packages, each with its own UPS-style tracking number. A
cancel is accepted until the order ships and refused afterwards (or, with
``refuse_cancel_after_ship=False``, acknowledged although the parcel has left).

Shipments wait in a calendar by second, one clock event per busy second, each order shipped
in the place its own clock event would have had (see kernel.clock, "Calendars").
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from typing import cast

from houzzflow.engine.native import mypyc_attr
from houzzflow.engine.ports import Ack, Outcome, Package, Shipment
from houzzflow.simulator.kernel.clock import Clock
from houzzflow.simulator.kernel.streams import Keyed, Streams, bits, unit
from houzzflow.simulator.kernel.timeline import Happening, Timeline
from houzzflow.simulator.kernel.tracking import NUMBER_BITS, unpack_tracking
from houzzflow.simulator.kernel.tracking import UPS_TRACKING as _TRACKING

# The label of an order's shipment on the clock, with its order id (see
# houzzflow.simulator.kernel.clock).
SHIPMENT = "shipment"

SHIPPING_METHODS = ("UPS Ground", "UPS 2nd Day Air", "UPS Next Day Air")
_METHODS = len(SHIPPING_METHODS)
_OK = Ack(True)
# The slots of an order's keyed draws: its delay, its package count, then two a package
# (tracking number, shipping method). An order is received once and ships once.
_DELAY, _COUNT, _PACKAGE = 0, 1, 2

# Package and Shipment are frozen dataclasses, whose generated __init__ makes one
# object.__setattr__ call per field; every order ships once, so they are filled through
# their slots directly (the same objects, a third of the cost).
_new = object.__new__
_set_tracking = vars(Package)["tracking_number"].__set__
_set_method = vars(Package)["shipping_method"].__set__
_set_shipment_order = vars(Shipment)["order_id"].__set__
_set_packages = vars(Shipment)["packages"].__set__


def _package(tracking_number: str, shipping_method: str) -> Package:
    package: Package = _new(Package)
    _set_tracking(package, tracking_number)
    _set_method(package, shipping_method)
    return package


def _shipment(order_id: str, packages: tuple[Package, ...]) -> Shipment:
    shipment: Shipment = _new(Shipment)
    _set_shipment_order(shipment, order_id)
    _set_packages(shipment, packages)
    return shipment


# A shipment record packs every package in one int: its tracking numbers as
# ``kernel.tracking.pack_tracking`` packs them (a leading 1 bit, then 64 bits a number),
# followed by METHOD_BITS a package, first package first: the index of its shipping method
# in SHIPPING_METHODS.
_METHOD_BITS = 2
_PACKAGE_BITS = NUMBER_BITS + _METHOD_BITS
_METHOD_MASK = (1 << _METHOD_BITS) - 1


def _split(record: int) -> tuple[int, int, int]:
    """(package count, packed tracking numbers, packed method indexes) of a record."""
    count = (record.bit_length() - 1) // _PACKAGE_BITS
    shift = count * _METHOD_BITS
    return count, record >> shift, record & ((1 << shift) - 1)


def _packages_of(record: int) -> list[tuple[str, str]]:
    """(tracking number, shipping method) of each package of a shipment record, in order."""
    count, numbers, methods = _split(record)
    return [
        (number, SHIPPING_METHODS[(methods >> (_METHOD_BITS * (count - 1 - i))) & _METHOD_MASK])
        for i, number in enumerate(unpack_tracking(numbers).split(","))
    ]


# The warehouse keeps one int an order it received (``Warehouse._books``): the shipment
# record above (0 until it ships) shifted left AT_BITS, and the second of its first receipt
# counted from the warehouse's start. One dict entry an order, where a dict of receipts and
# another of shipments took two.
_AT_BITS = 48  # 8.9 million years of seconds: far past any run (engine.limits)
_AT_MASK = (1 << _AT_BITS) - 1


class ShipmentLog(Mapping[str, Shipment]):
    """Every order the warehouse shipped -> its ``Shipment`` (a read-only mapping, in the
    order the orders were received).

    Memory: a run keeps every shipment to its end, so each is kept as one int packing its
    packages' tracking numbers (64 bits each: the warehouse's numbers are 1Z and 16 hex
    digits) and shipping methods, beside the order's receipt (``_books``): 48 to 64 bytes,
    where a string of the numbers took 70 to 110 and a Shipment with its tuple, Package
    objects and numbers about 340. The ``Shipment`` is rebuilt when asked for.
    """

    __slots__ = ("_books", "count")

    def __init__(self, books: dict[str, int]) -> None:
        self._books = books
        self.count = 0  # the orders shipped (the warehouse counts them as it ships)

    def __getitem__(self, order_id: str) -> Shipment:
        record = self._books.get(order_id, 0) >> _AT_BITS
        if not record:
            raise KeyError(order_id)
        packages = _packages_of(record)
        return Shipment(order_id, tuple(Package(n, m) for n, m in packages))

    def __iter__(self) -> Iterator[str]:
        return (order_id for order_id, book in self._books.items() if book > _AT_MASK)

    def __len__(self) -> int:
        return self.count

    def __contains__(self, order_id: object) -> bool:
        return isinstance(order_id, str) and self._books.get(order_id, 0) > _AT_MASK

    def tracking_packed(self, order_id: str) -> int | None:
        """The order's tracking numbers as ``kernel.tracking.pack_tracking`` packs them (None
        when it did not ship): equal to ``HouzzOrder.tracking_packed`` when Houzz was given
        the same numbers, compared without writing either out."""
        record = self._books.get(order_id, 0) >> _AT_BITS
        if not record:
            return None
        if record >> _PACKAGE_BITS == 1:  # one package: the common case
            return record >> _METHOD_BITS
        return _split(record)[1]

    def tracking(self, order_id: str) -> str | None:
        """The order's tracking numbers, comma-joined (None when it did not ship)."""
        packed = self.tracking_packed(order_id)
        return None if packed is None else unpack_tracking(packed)


class _Received(Mapping[str, int]):
    """A read-only view of every order the warehouse received (the keys of its books)."""

    __slots__ = ("_books",)

    def __init__(self, books: dict[str, int]) -> None:
        self._books = books

    # __getitem__ stays abstract (Mapping's): each view says what it maps an order to.

    def __iter__(self) -> Iterator[str]:
        return iter(self._books)

    def __len__(self) -> int:
        return len(self._books)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._books


class Receipts(_Received):
    """Every order the warehouse received -> how many times (a read-only mapping).

    Memory: every order is received, nearly always once, so the count is not kept per order:
    an order in ``books`` was received once, or as often as ``repeats`` says (order id ->
    receipts, only for orders received more than once).
    """

    __slots__ = ("_repeats",)

    def __init__(self, books: dict[str, int], repeats: dict[str, int]) -> None:
        super().__init__(books)
        self._repeats = repeats

    def __getitem__(self, order_id: str) -> int:
        if order_id not in self._books:
            raise KeyError(order_id)
        return self._repeats.get(order_id, 1)


class ReceiptTimes(_Received):
    """Every order the warehouse received -> the second it was first received (read-only)."""

    __slots__ = ("_start",)

    def __init__(self, books: dict[str, int], start: int) -> None:
        super().__init__(books)
        self._start = start

    def __getitem__(self, order_id: str) -> int:
        return (self._books[order_id] & _AT_MASK) + self._start


@mypyc_attr(allow_interpreted_subclasses=True)  # subclassed outside the compiled modules
class Warehouse:
    """A warehouse on the simulated clock. ``ship_delay`` and ``packages`` are inclusive
    ranges. Its draws (an order's delay, package count, tracking numbers and shipping
    methods) are keyed by the order (``kernel.streams``): ``draws``, or the ``warehouse``
    stream of ``Streams.following(rng)``. So an order's shipment does not depend on the
    order in which CartRover sends orders or on which other orders it sends."""

    def __init__(
        self,
        *,
        clock: Clock,
        rng: random.Random,
        draws: Keyed | None = None,
        timeline: Timeline | None = None,
        ship_delay: tuple[int, int] = (3600, 2 * 86400),
        packages: tuple[int, int] = (1, 1),
        refuse_cancel_after_ship: bool = True,
        auto_ship: bool = True,
    ) -> None:
        if not 0 <= ship_delay[0] <= ship_delay[1]:
            raise ValueError("ship_delay must be a range (low, high) with 0 <= low <= high")
        if not 1 <= packages[0] <= packages[1]:
            raise ValueError("packages must be a range (low, high) with 1 <= low <= high")
        self.clock = clock
        self.rng = rng
        self.draws = draws if draws is not None else Streams.following(rng).keyed("warehouse")
        self.timeline = timeline
        self.ship_delay = ship_delay
        self.packages = packages
        self.refuse_cancel_after_ship = refuse_cancel_after_ship
        # A scripted world (a replayed counterexample) decides when each order ships.
        self.auto_ship = auto_ship
        # order id -> (shipment record << _AT_BITS) | (first receipt - _start): see above.
        self._books: dict[str, int] = {}
        self._start = clock.now
        self._repeats: dict[str, int] = {}  # order id -> receipts, when more than one
        self.received = Receipts(self._books, self._repeats)  # order id -> receipts
        self.received_at = ReceiptTimes(self._books, self._start)  # order id -> first receipt
        self.shipped = ShipmentLog(self._books)
        self.cancelled: set[str] = set()
        self._unreported: list[Shipment] = []
        # The shipping calendar: second -> the orders due to ship then, in the order their
        # shipments were scheduled, as one flat list (clock ticket, order id, ticket, id...);
        # one clock event a busy second, not one an order (at a million orders, ten share a
        # second). A clock that watches its events (a subclass overriding ``at``: see
        # kernel.clock) gets one labelled event an order instead, as before.
        self._calendar: dict[int, list[int | str]] = {}
        self._watched = type(clock).at is not Clock.at

    def send_order(self, order_id: str) -> Ack:
        """Receive an order; the first receipt schedules its shipment, a repeat is counted."""
        now = self.clock.now
        books = self._books
        if order_id in books:
            times = self._repeats.get(order_id, 1) + 1
            self._repeats[order_id] = times
        else:
            times = 1
            since = now - self._start
            if since > _AT_MASK:
                raise ValueError(f"the warehouse counts receipts up to {_AT_MASK} seconds")
            books[order_id] = since
            if self.auto_ship:
                low, high = self.ship_delay
                key = self.draws.key(order_id)
                delay = low + int(unit(key, _DELAY) * (high - low + 1))
                self._schedule(now + delay, order_id)
        if self.timeline is not None:
            detail = f"received again: {times} receipts of this order" if times > 1 else ""
            self.timeline.add(Happening(now, order_id, "backend", "Receive", detail))
        return _OK

    def send_orders(self, order_ids: Sequence[str], results: list[Outcome]) -> None:
        """Receive a batch of orders (``engine.ports.send_orders``), each as ``send_order``
        receives it, its answer appended to ``results``."""
        send = self.send_order
        for order_id in order_ids:
            results.append(send(order_id))

    def has_order(self, order_id: str) -> bool:
        """Whether the warehouse ever received this order (cancelled or not)."""
        return order_id in self._books

    def cancel_order(self, order_id: str) -> Ack:
        """Stop an order: accepted before it ships, refused after (see the class doc)."""
        if order_id not in self._books:
            return Ack(False, f"order {order_id} was never received")
        if order_id in self.cancelled:
            return _OK
        tracking = self.shipped.tracking(order_id)
        if tracking is not None and self.refuse_cancel_after_ship:
            tracking = tracking.replace(",", ", ")
            self._record(order_id, "CancelRefused", f"already shipped ({tracking})")
            return Ack(False, f"order {order_id} has already shipped ({tracking})")
        self.cancelled.add(order_id)
        detail = "after shipping: the parcel has already left" if tracking is not None else ""
        self._record(order_id, "Cancel", detail)
        return _OK

    def shipments(self) -> Sequence[Shipment]:
        """Shipments not yet reported, in shipping order; each is reported once."""
        reported = self._unreported
        self._unreported = []
        return reported

    def ship(self, order_id: str) -> None:
        """Ship a received order now (unless it was cancelled or already shipped; an order
        never received is not shipped)."""
        self._ship(order_id)

    def _schedule(self, when: int, order_id: str) -> None:
        """Ship the order at ``when`` (a second from now on), in scheduling order."""
        clock = self.clock
        if self._watched:
            clock.at(when, partial(self._ship, order_id), label=SHIPMENT, order_id=order_id)
            return
        ticket = clock.ticket()
        due = self._calendar.get(when)
        if due is None:
            self._calendar[when] = [ticket, order_id]
            clock.at_ticket(when, ticket, self._ship_due)
        else:
            due += (ticket, order_id)

    def _ship_due(self) -> None:
        """Ship the orders due now, each in the place its own clock event would have had:
        when another event is due between two of them, the rest wait behind it."""
        clock = self.clock
        now = clock.now
        due = self._calendar.pop(now)
        ship = self._ship
        ship(cast(str, due[1]))
        for i in range(2, len(due), 2):
            ticket = cast(int, due[i])
            if clock.waits_before(ticket):
                self._calendar[now] = due[i:]
                clock.at_ticket(now, ticket, self._ship_due)
                return
            ship(cast(str, due[i + 1]))

    def _ship(self, order_id: str) -> bool:
        """Ship the order now; False when it was never received, was cancelled or has
        already shipped."""
        books = self._books
        book = books.get(order_id)
        if book is None or book > _AT_MASK or order_id in self.cancelled:
            return False
        key = self.draws.key(order_id)
        low, high = self.packages
        count = low if low == high else low + int(unit(key, _COUNT) * (high - low + 1))
        if count == 1:  # the draws below, unrolled for the common case
            bits64 = bits(key, _PACKAGE)
            method = int(unit(key, _PACKAGE + 1) * _METHODS)
            packages: tuple[Package, ...] = (
                _package(_TRACKING % bits64, SHIPPING_METHODS[method]),
            )
            record = (((1 << NUMBER_BITS) | bits64) << _METHOD_BITS) | method
        else:
            numbers = methods = 1
            made = []
            for slot in range(_PACKAGE, _PACKAGE + 2 * count, 2):
                bits64 = bits(key, slot)
                method = int(unit(key, slot + 1) * _METHODS)
                numbers = (numbers << NUMBER_BITS) | bits64
                methods = (methods << _METHOD_BITS) | method
                made.append(_package(_TRACKING % bits64, SHIPPING_METHODS[method]))
            packages = tuple(made)
            shift = count * _METHOD_BITS
            record = (numbers << shift) | (methods & ((1 << shift) - 1))
        books[order_id] = (record << _AT_BITS) | book
        self.shipped.count += 1
        self._unreported.append(_shipment(order_id, packages))
        if self.timeline is not None:
            tracking = ", ".join(p.tracking_number for p in packages)
            self._record(order_id, "Ship", f"{count} package(s): {tracking}")
        return True

    def _record(self, order_id: str, action: str, detail: str) -> None:
        if self.timeline is not None:
            self.timeline.add(Happening(self.clock.now, order_id, "backend", action, detail))
