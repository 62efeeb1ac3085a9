"""The warehouse a connector under test reaches: it reports each order it sends to its backend.

A connector under test has a backend of its own, which houzzflow cannot see; so it reports
what it sends (``POST /_houzzflow/warehouse/orders``, or ``HouzzHarness.send_to_warehouse``):
the order id and what it believes about the order (the Houzz status it last saw). The fake
plays the warehouse: with ``ships`` on (the default) it ships each order once, after a
seeded delay, in one or more packages with their tracking numbers, so the connector's
confirmation path is exercised (it collects them from ``GET /_houzzflow/warehouse/shipments``
and posts them with updateOrder Ship). A cancel reaches it through
``POST /_houzzflow/warehouse/cancel``. Everything lands on the harness's timeline, on the
simulated clock, next to what customers, staff, Houzz and the connector did.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

from houzzflow.engine.ports import Ack, Shipment
from houzzflow.simulator.houzz.state import FakeHouzz
from houzzflow.simulator.kernel.clock import Clock
from houzzflow.simulator.kernel.timeline import Happening, Timeline
from houzzflow.simulator.world.observed import ObservedWarehouse

MAX_SHIP_DELAY = 60 * 86400  # the longest delay a warehouse may take to ship (seconds)
MAX_PACKAGES = 20  # packages one order may ship in
MAX_BELIEF = 200  # characters of a connector's belief kept


@dataclass(frozen=True, slots=True)
class WarehouseConfig:
    """How the fake plays the connector's warehouse.

    ``ships``: ship each order received (off: the test ships by hand with
    ``warehouse_ship``); ``ship_delay``: inclusive range of seconds from receipt to shipment;
    ``packages``: inclusive range of packages per order, each with its own tracking number.
    """

    ships: bool = True
    ship_delay: tuple[int, int] = (3600, 6 * 3600)
    packages: tuple[int, int] = (1, 1)

    def __post_init__(self) -> None:
        low, high = self.ship_delay
        if not (_whole(low) and _whole(high) and low <= high <= MAX_SHIP_DELAY):
            raise ValueError(f"ship_delay must be a range of seconds within 0 to {MAX_SHIP_DELAY}")
        low, high = self.packages
        if not (_whole(low) and _whole(high) and 1 <= low <= high <= MAX_PACKAGES):
            raise ValueError(f"packages must be a range within 1 to {MAX_PACKAGES}")


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


@dataclass(frozen=True, slots=True)
class Receipt:
    """One order the connector reported sending: when, what it believed, what Houzz said."""

    seq: int
    time: int
    order_id: str
    believed: str  # the Houzz status the connector believes the order is in ("" unsaid)
    houzz_status: str  # the order's status in Houzz at that moment
    times: int  # receipts of this order so far, this one included


@dataclass(frozen=True, slots=True)
class Shipped:
    """One shipment the warehouse made, numbered for ``shipments(since=...)``."""

    seq: int
    time: int
    shipment: Shipment


class _Stock(ObservedWarehouse):
    """The observed warehouse, numbering each shipment as it is made."""

    def __init__(self, log: list[Shipped], **options: object) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self._log = log

    def _ship(self, order_id: str) -> bool:
        if not ObservedWarehouse._ship(self, order_id):
            return False
        shipment = self.shipments()[-1]
        self._log.append(Shipped(len(self._log) + 1, self.clock.now, shipment))
        return True


class ConnectorWarehouse:
    """The warehouse of the connector under test (see the module doc)."""

    def __init__(
        self,
        fake: FakeHouzz,
        clock: Clock,
        timeline: Timeline,
        *,
        seed: int,
        config: WarehouseConfig | None = None,
    ) -> None:
        self.config = config or WarehouseConfig()
        self._fake = fake
        self._timeline = timeline
        self.receipts: list[Receipt] = []
        self.shipped_log: list[Shipped] = []
        self.stock = _Stock(
            self.shipped_log,
            houzz=fake,
            moments=itertools.count(),
            clock=clock,
            # Its own stream: reporting an order never shifts the harness's draws.
            rng=random.Random(f"houzzflow-warehouse-{seed}"),
            timeline=timeline,
            ship_delay=self.config.ship_delay,
            packages=self.config.packages,
            auto_ship=self.config.ships,
        )

    def receive(self, order_id: str, believed: str = "") -> Receipt:
        """The connector sent ``order_id`` to its backend; raises ``KeyError`` for an order
        Houzz does not have (nothing is recorded then)."""
        order = self._fake.orders.get(order_id)
        if order is None:
            raise KeyError(order_id)
        believed = believed.strip()[:MAX_BELIEF]
        now = self.stock.clock.now
        if believed and believed != order.status:
            self._timeline.add(
                Happening(now, order_id, "client", "Send", f"believing it {believed}")
            )
        self.stock.send_order(order_id)
        times = self.stock.received[order_id]
        receipt = Receipt(len(self.receipts) + 1, now, order_id, believed, order.status, times)
        self.receipts.append(receipt)
        return receipt

    def cancel(self, order_id: str) -> Ack:
        """The connector asks the warehouse to stop the order (refused once it shipped)."""
        return self.stock.cancel_order(order_id)

    def ship(self, order_id: str) -> bool:
        """Ship a received order now (a test playing the warehouse by hand); False when it
        was never received, was cancelled, or has shipped already."""
        if order_id not in self.stock.received:
            return False
        before = len(self.shipped_log)
        self.stock.ship(order_id)
        return len(self.shipped_log) > before

    def shipments(self, since: int = 0) -> list[Shipped]:
        """Shipments made after sequence number ``since``, oldest first."""
        return self.shipped_log[max(0, since) :]
