"""The connector's ports: anything that answers these can drive the engine.

The fake Houzz in the simulator implements ``HouzzPort``; so could a real HTTP client.
Replies are plain data; a call whose reply is lost raises ``ReplyLost`` (the write may
have taken effect), any other transient failure raises ``TransientError``. A getOrders that
Houzz answers with ``Ack: Error`` raises ``AckError`` (an updateOrder refusal is an ``Ack``).

**Batches.** When CartRover works through a poll stage by stage (every Process, then every
Charge, then the sends: ``write_order`` in engine/assumptions.yaml), it hands each stage's
calls to ``update_orders`` and ``send_orders`` here. A port may implement the batch itself
(a method of the same name, one loop and no per-call overhead, like the fake Houzz and the
simulated warehouse); any other port, an HTTP client that has only the single-order
methods, is called once per order by these functions. Either way the results are the same,
call by call, and each is appended to ``results`` as it is made, so a caller that is
interrupted mid-batch still knows every call that was made.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol


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


class Write(NamedTuple):
    """One updateOrder call of a batch (a Ship carries its tracking and method). A tuple:
    made once per call, it costs a third of a frozen dataclass."""

    order_id: str
    action: str
    tracking_number: str = ""
    shipping_method: str = ""


# What one call of a batch came to: Houzz's or the warehouse's answer, or the failure.
Outcome = Ack | TransientError


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


def update_orders(houzz: HouzzPort, writes: Sequence[Write], results: list[Outcome]) -> None:
    """Make ``writes`` in order, appending each one's ``Ack`` or ``TransientError`` to
    ``results`` as it is made. A rate limit (``retry_after`` > 0) ends the batch: Houzz takes
    no call before then, so the writes after it are not made (``len(results)`` says how far
    it got). ``houzz.update_orders`` does it when the port has one."""
    batch = getattr(houzz, "update_orders", None)
    if batch is not None:
        batch(writes, results)
        return
    update = houzz.update_order

    def one(write: Write) -> Ack:
        if write.tracking_number:
            return update(
                write.order_id,
                write.action,
                shipping_method=write.shipping_method,
                tracking_number=write.tracking_number,
            )
        return update(write.order_id, write.action)

    make_writes(one, writes, results)


def make_writes(
    update: Callable[[Write], Ack], writes: Sequence[Write], results: list[Outcome]
) -> None:
    """``update_orders``'s loop, for a port that makes one write with ``update``: each
    answer or failure appended to ``results``; a rate limit ends the batch."""
    for write in writes:
        try:
            ack = update(write)
        except TransientError as exc:
            results.append(exc)
            if exc.retry_after > 0:
                return
            continue
        results.append(ack)


def send_orders(backend: BackendPort, order_ids: Sequence[str], results: list[Outcome]) -> None:
    """Send every order in ``order_ids`` to the backend, in order, appending each one's
    ``Ack`` or ``TransientError`` to ``results`` as it is made (a failure holds back only
    its own order). ``backend.send_orders`` does it when the port has one."""
    batch = getattr(backend, "send_orders", None)
    if batch is not None:
        batch(order_ids, results)
        return
    send = backend.send_order
    for order_id in order_ids:
        try:
            results.append(send(order_id))
        except TransientError as exc:
            results.append(exc)
