"""Shipments the warehouse reports, and the Ship call each becomes.

Each shipment becomes one Ship call per order (through the pipeline), its tracking numbers
joined by commas and the first package's shipping method. A shipment of an order whose send
reply was lost is the warehouse's answer that the send got through.
"""

from __future__ import annotations

from houzzflow.engine.ledger import (
    ALERT_CANCEL,
    ALERT_UNKNOWN,
    CANCEL,
    CHECK,
    SHIP,
    ST,
    Books,
    Clerk,
    new_entry,
)
from houzzflow.engine.ports import BackendPort, Shipment, TransientError
from houzzflow.engine.recovery import SEND, WITHDRAW, Resume, warehouse_answer


class Shipments(Clerk):
    """Collects one connector's shipments from the warehouse."""

    def __init__(self, backend: BackendPort, books: Books) -> None:
        super().__init__(books)
        self.backend = backend

    def collect(self, now: int) -> None:
        try:
            shipments = self.backend.shipments()
        except TransientError:
            return  # the backend keeps them until they are collected
        for shipment in shipments:
            self._shipped(now, shipment)

    def _shipped(self, now: int, shipment: Shipment) -> None:
        s = self.state
        books = self.books
        oid = shipment.order_id
        known = s.ledger.get(oid)
        pending = s.work.get(oid) if s.work else None
        if (
            pending is not None
            and known == books.initial
            and pending[CHECK]
            and pending[ST] in (SEND, WITHDRAW)
        ):
            # A send whose reply was lost (or a crash mid-send) did get through.
            books.move(now, oid, "Send", "connector", "the warehouse had it after all")
            known = "AtWMS"
            if warehouse_answer(True, cancelled=pending[ST] == WITHDRAW) is Resume.SENT:
                del s.work[oid]
                pending = None
            else:
                pending[ST] = CANCEL
        if known != "AtWMS":
            books.alert(
                now,
                oid,
                ALERT_UNKNOWN,
                f"the warehouse shipped an order CartRover has as {known or 'not loaded'}",
            )
            return
        packages = shipment.packages
        if len(packages) == 1:
            tracking, method = packages[0].tracking_number, packages[0].shipping_method
        else:
            tracking = ",".join([p.tracking_number for p in packages])
            method = packages[0].shipping_method if packages else ""
        if pending is not None and pending[ST] == CANCEL:
            books.alert(
                now,
                oid,
                ALERT_CANCEL,
                "cancelled in Houzz, but the warehouse shipped it before the cancellation was seen",
            )
        told = f"shipped: {tracking} ({method})" if self.sink is not None else ""
        books.move(now, oid, "ShipFromBackend", "backend", told)
        s.work[oid] = new_entry(SHIP, now, "Charged", (tracking, method))
