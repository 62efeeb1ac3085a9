"""The connector's ports: anything that answers these can drive the engine.

The fake Houzz in the simulator implements ``HouzzPort``; so could a real HTTP client.
Replies are plain data; a call whose reply is lost raises ``ReplyLost`` (the write may
have taken effect), any other transient failure raises ``TransientError``. A getOrders that
Houzz answers with ``Ack: Error`` raises ``AckError`` (an updateOrder refusal is an ``Ack``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


class TransientError(Exception):
    """The call failed and had no effect (HTTP 5xx, rate limited); retry later."""

    def __init__(self, message: str, retry_after: int = 0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ReplyLost(TransientError):
    """The call timed out: the write may or may not have taken effect."""


class AckError(Exception):
    """Houzz answered ``Ack: Error`` with a reason: a refusal, not a failure. Asking again
    gets the same answer until someone changes what Houzz refuses (a connection of the
    wrong program, for one)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class OrderView:
    """An order as Houzz's getOrders lists it (canonical status names)."""

    order_id: str
    status: str
    created: int  # simulated seconds
    modified: int


@dataclass(frozen=True, slots=True)
class Page:
    orders: Sequence[OrderView]
    total: int  # orders matching the query, over all pages


@dataclass(frozen=True, slots=True)
class Ack:
    ok: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Package:
    tracking_number: str
    shipping_method: str


@dataclass(frozen=True, slots=True)
class Shipment:
    order_id: str
    packages: tuple[Package, ...] = field(default_factory=tuple)


class HouzzPort(Protocol):
    def get_orders(
        self, status: str, start_time: int, end_time: int, start: int, count: int
    ) -> Page: ...

    def update_order(
        self,
        order_id: str,
        action: str,
        *,
        shipping_method: str = "",
        tracking_number: str = "",
        cancel_code: str = "",
        comments: str = "",
    ) -> Ack: ...


class BackendPort(Protocol):
    def send_order(self, order_id: str) -> Ack: ...

    def has_order(self, order_id: str) -> bool: ...

    def cancel_order(self, order_id: str) -> Ack: ...

    def shipments(self) -> Sequence[Shipment]:
        """Shipments not yet reported to the connector (tracking to post to Houzz)."""
        ...
