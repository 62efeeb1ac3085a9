"""The backend: a warehouse (WMS) that receives orders, ships them and may accept a cancel.

It implements ``engine.ports.BackendPort``. Every receipt is counted per order id, so an
order sent twice is visible (``received``); the warehouse ships each order once, after a
random delay, in one or more packages, each with its own UPS-style tracking number. A
cancel is accepted until the order ships and refused afterwards (or, with
``refuse_cancel_after_ship=False``, acknowledged although the parcel has left).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from functools import partial

from engine.ports import Ack, Package, Shipment
from simulator.runs.timeline import Happening, Timeline
from simulator.world.clock import Clock

SHIPPING_METHODS = ("UPS Ground", "UPS 2nd Day Air", "UPS Next Day Air")
_OK = Ack(True)


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
        self.shipped: dict[str, Shipment] = {}
        self.cancelled: set[str] = set()
        self._unreported: list[Shipment] = []

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
                self.clock.at(now + delay, partial(self._ship, order_id))
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
        shipment = self.shipped.get(order_id)
        if shipment is not None and self.refuse_cancel_after_ship:
            tracking = ", ".join(p.tracking_number for p in shipment.packages)
            self._record(order_id, "CancelRefused", f"already shipped ({tracking})")
            return Ack(False, f"order {order_id} has already shipped ({tracking})")
        self.cancelled.add(order_id)
        detail = "after shipping: the parcel has already left" if shipment is not None else ""
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

    def _ship(self, order_id: str) -> None:
        if order_id in self.cancelled or order_id in self.shipped:
            return
        rng = self.rng
        low, high = self.packages
        count = low + int(rng.random() * (high - low + 1))
        packages = tuple(
            Package(
                f"1Z{rng.getrandbits(64):016X}",
                SHIPPING_METHODS[int(rng.random() * len(SHIPPING_METHODS))],
            )
            for _ in range(count)
        )
        shipment = Shipment(order_id, packages)
        self.shipped[order_id] = shipment
        self._unreported.append(shipment)
        if self.timeline is not None:
            tracking = ", ".join(p.tracking_number for p in packages)
            self._record(order_id, "Ship", f"{count} package(s): {tracking}")

    def _record(self, order_id: str, action: str, detail: str) -> None:
        if self.timeline is not None:
            self.timeline.add(Happening(self.clock.now, order_id, "backend", action, detail))
