"""The warehouse as the invariants watch it: a ``Warehouse`` that notes, at the moment it
happens, an order received while it was not Charged in Houzz, and one shipped unpaid or
after it was cancelled (``runs.invariants`` judges from these notes), and telling
``touched`` of each (and of a second receipt): what can change the verdict of an order
already judged as it settled (``invariants.Settled``).

Used by scenario runs and by the harness's warehouse for a connector under test.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from houzzflow.engine.native import mypyc_attr
from houzzflow.engine.ports import Ack
from houzzflow.simulator.houzz.state import CANCELLED, CHARGED, FakeHouzz
from houzzflow.simulator.world.backend import Warehouse


@mypyc_attr(allow_interpreted_subclasses=True)  # subclassed outside the compiled modules
class ObservedWarehouse(Warehouse):
    """The world's warehouse, noting what the invariants need at the moment it happens."""

    def __init__(self, houzz: FakeHouzz, moments: itertools.count[int], **options: Any) -> None:
        Warehouse.__init__(self, **options)  # mypyc: super() with **options misroutes them
        self._houzz = houzz
        self._moments = moments
        self.unpaid_at_send: dict[str, tuple[int, str]] = {}
        self.unpaid_at_ship: dict[str, tuple[int, str]] = {}
        self.cancelled_at_ship: dict[str, int] = {}
        self.ship_moments: dict[str, int] = {}
        self.touched: Callable[[str], None] = _untouched

    def send_order(self, order_id: str) -> Ack:
        if order_id not in self._books:  # the receipts themselves: no mapping view between
            status = self._houzz.status_of(order_id)
            if status is not None and status != CHARGED:
                self.unpaid_at_send[order_id] = (self.clock.now, status)
                self.touched(order_id)
        else:
            self.touched(order_id)  # a second receipt
        return Warehouse.send_order(self, order_id)

    def _ship(self, order_id: str) -> bool:
        if not Warehouse._ship(self, order_id):
            return False  # cancelled in time, or shipped already: nothing happened
        # An order Houzz does not hold raises KeyError (``order``), as it always did.
        status = self._houzz.status_of(order_id) or self._houzz.order(order_id).status
        if status == CANCELLED:
            self.cancelled_at_ship[order_id] = self.clock.now
            self.ship_moments[order_id] = next(self._moments)
            self.touched(order_id)
        elif status != CHARGED:
            self.unpaid_at_ship[order_id] = (self.clock.now, status)
            self.touched(order_id)
        return True


def _untouched(order_id: str) -> None:
    """No order is judged as it settles (the harness's warehouse)."""
