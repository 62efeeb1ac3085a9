"""Ports with a guard around every write: how a run injects what happens *to* CartRover.

A crashing connector (``crash_every_polls``) and a script's one-shot faults both decide,
write by write, whether CartRover's call fails, takes effect with its reply lost, or kills
the connector; ``GuardedHouzz`` and ``GuardedBackend`` pass every call through such a guard
and every read straight on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from houzzflow.engine.ports import Ack, BackendPort, HouzzPort, Page, Shipment

T = TypeVar("T")


class WriteGuard(Protocol):
    def write(self, order_id: str, action: str, call: Callable[[], T]) -> T:
        """Make one write (``call``) for CartRover: or fail it, or lose its reply."""
        ...


class GuardedHouzz:
    """The Houzz port with ``guard`` around updateOrder."""

    def __init__(self, inner: HouzzPort, guard: WriteGuard) -> None:
        self.inner = inner
        self.guard = guard

    def get_orders(
        self, status: str, start_time: int, end_time: int, start: int, count: int
    ) -> Page:
        return self.inner.get_orders(status, start_time, end_time, start, count)

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
        def write() -> Ack:
            return self.inner.update_order(
                order_id,
                action,
                shipping_method=shipping_method,
                tracking_number=tracking_number,
                cancel_code=cancel_code,
                comments=comments,
            )

        return self.guard.write(order_id, action, write)


class GuardedBackend:
    """The warehouse port with ``guard`` around sending (``Send``) and cancelling."""

    def __init__(self, inner: BackendPort, guard: WriteGuard) -> None:
        self.inner = inner
        self.guard = guard

    def send_order(self, order_id: str) -> Ack:
        return self.guard.write(order_id, "Send", lambda: self.inner.send_order(order_id))

    def has_order(self, order_id: str) -> bool:
        return self.inner.has_order(order_id)

    def cancel_order(self, order_id: str) -> Ack:
        return self.guard.write(
            order_id, "CancelAtBackend", lambda: self.inner.cancel_order(order_id)
        )

    def shipments(self) -> Sequence[Shipment]:
        return self.inner.shipments()
