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
from houzzflow.engine.ports import Ack, Package, Shipment
from houzzflow.simulator.kernel.clock import Clock
from houzzflow.simulator.kernel.timeline import Happening, Timeline

# The label of an order's shipment on the clock, with its order id (see
# houzzflow.simulator.kernel.clock).
SHIPMENT = "shipment"

SHIPPING_METHODS = ("UPS Ground", "UPS 2nd Day Air", "UPS Next Day Air")
_METHODS = len(SHIPPING_METHODS)
_METHOD_CODES = tuple(chr(48 + i) for i in range(_METHODS))  # one character each: "0", "1"...
_TRACKING = "1Z%016X"  # UPS-style: 1Z and 16 hex digits (%-formatting is the fastest here)
_ONE_PACKAGE = tuple(";" + code for code in _METHOD_CODES)  # a one-package record's ending
_OK = Ack(True)

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


class ShipmentLog(Mapping[str, Shipment]):
    """Every order the warehouse shipped -> its ``Shipment`` (a read-only mapping).

    Memory: a run keeps every shipment to its end, so each is kept as one string, its
    tracking numbers comma-joined, then ``;`` and one character per package naming its
    shipping method ("0" for the first of ``SHIPPING_METHODS``): about 90 bytes, where a
    Shipment with its tuple, Package objects and numbers takes about 340. The ``Shipment``
    is rebuilt when asked for.
    """

    __slots__ = ("_records",)

    def __init__(self) -> None:
        self._records: dict[str, str] = {}

    def __getitem__(self, order_id: str) -> Shipment:
        numbers, _, methods = self._records[order_id].rpartition(";")
        packages = zip(numbers.split(","), methods, strict=True)
        return Shipment(
            order_id, tuple(Package(n, SHIPPING_METHODS[ord(m) - 48]) for n, m in packages)
        )

    def __iter__(self) -> Iterator[str]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._records

    def tracking(self, order_id: str) -> str | None:
        """The order's tracking numbers, comma-joined (None when it did not ship)."""
        record = self._records.get(order_id)
        return None if record is None else record[: record.rindex(";")]


@mypyc_attr(allow_interpreted_subclasses=True)  # subclassed outside the compiled modules
class Warehouse:
    """A warehouse on the simulated clock; draws delays, package counts and tracking
    numbers from ``rng``. ``ship_delay`` and ``packages`` are inclusive ranges."""

    def __init__(
        self,
        *,
        clock: Clock,
        rng: random.Random,
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
        self.timeline = timeline
        self.ship_delay = ship_delay
        self.packages = packages
        self.refuse_cancel_after_ship = refuse_cancel_after_ship
        # A scripted world (a replayed counterexample) decides when each order ships.
        self.auto_ship = auto_ship
        self.received: dict[str, int] = {}  # order id -> how many times it was received
        self.received_at: dict[str, int] = {}  # order id -> when it was first received
        self.shipped = ShipmentLog()
        self._records = self.shipped._records
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
        times = self.received.get(order_id, 0) + 1
        self.received[order_id] = times
        if times == 1:
            self.received_at[order_id] = now
            if self.auto_ship:
                low, high = self.ship_delay
                delay = low + int(self.rng.random() * (high - low + 1))
                self._schedule(now + delay, order_id)
        if self.timeline is not None:
            detail = f"received again: {times} receipts of this order" if times > 1 else ""
            self.timeline.add(Happening(now, order_id, "backend", "Receive", detail))
        return _OK

    def has_order(self, order_id: str) -> bool:
        """Whether the warehouse ever received this order (cancelled or not)."""
        return order_id in self.received

    def cancel_order(self, order_id: str) -> Ack:
        """Stop an order: accepted before it ships, refused after (see the class doc)."""
        if order_id not in self.received:
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
        """Ship a received order now (unless it was cancelled or already shipped)."""
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
        """Ship the order now; False when it was cancelled or has already shipped."""
        records = self._records
        if order_id in records or order_id in self.cancelled:
            return False
        rng = self.rng
        draw = rng.random
        bits = rng.getrandbits
        low, high = self.packages
        count = low + int(draw() * (high - low + 1))
        if count == 1:  # the draws below, unrolled for the common case
            number = _TRACKING % bits(64)
            method = int(draw() * _METHODS)
            packages: tuple[Package, ...] = (_package(number, SHIPPING_METHODS[method]),)
            records[order_id] = number + _ONE_PACKAGE[method]
        else:
            numbers = []
            methods = []
            for _ in range(count):
                numbers.append(_TRACKING % bits(64))
                methods.append(int(draw() * _METHODS))
            packages = tuple(map(_package, numbers, [SHIPPING_METHODS[m] for m in methods]))
            codes = "".join([_METHOD_CODES[m] for m in methods])
            records[order_id] = f"{','.join(numbers)};{codes}"
        self._unreported.append(_shipment(order_id, packages))
        if self.timeline is not None:
            tracking = ", ".join(p.tracking_number for p in packages)
            self._record(order_id, "Ship", f"{count} package(s): {tracking}")
        return True

    def _record(self, order_id: str, action: str, detail: str) -> None:
        if self.timeline is not None:
            self.timeline.add(Happening(self.clock.now, order_id, "backend", action, detail))
