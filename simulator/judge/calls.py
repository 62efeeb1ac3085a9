"""The Houzz API calls a connector under test made, as the harness answered them.

The harness records every ``getOrders`` / ``updateOrder`` / ``updateInventory`` it answers
(in process, or through ``houzzflow serve``): when, what was asked, what Houzz answered, what
a page listed, and the order's status when a write arrived. The wire-etiquette checks
(``judge.etiquette``) read this log; the HTTP journal keeps the bytes for people.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

# How a call ended.
OK = "ok"  # answered with Success
REFUSED = "refused"  # answered Ack: Error with a reason (Houzz refused it)
FAULT = "fault"  # failed before it had any effect (5xx, 429 with Retry-After)
LOST = "lost"  # the reply was lost (a write may have taken effect)
BAD = "bad request"  # the request itself was wrong (unknown status, bad paging)

CALL_LIMIT = 100_000  # calls kept; older ones are dropped (and counted)


@dataclass(frozen=True, slots=True)
class ListingQuery:
    """What a getOrders asked for: status, the From/To window and the page."""

    status: str
    start_time: int
    end_time: int
    start: int
    count: int


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One API call and its answer."""

    seq: int
    time: int  # simulated seconds
    method: str  # getOrders | updateOrder | updateInventory
    outcome: str  # OK | REFUSED | FAULT | LOST | BAD
    reason: str = ""  # Houzz's reason for a refusal or a fault
    retry_after: int = 0  # a rate limit's Retry-After, in seconds
    query: ListingQuery | None = None  # getOrders only
    listed: tuple[tuple[str, str], ...] = ()  # getOrders: (order id, status) on the page
    total: int = 0  # getOrders: orders matching the query over all pages
    order_id: str = ""  # updateOrder only
    action: str = ""
    details: tuple[tuple[str, str], ...] = ()  # the write's fields (tracking number...)
    status_before: str = ""  # updateOrder: the order's Houzz status when the call arrived

    @property
    def write(self) -> tuple[str, str, tuple[tuple[str, str], ...]]:
        """What a write asked for: the same triple means the same request, unchanged."""
        return (self.order_id, self.action, self.details)


class CallLog:
    """The last ``limit`` calls, oldest first, numbered from 1."""

    def __init__(self, limit: int = CALL_LIMIT) -> None:
        self._calls: deque[ApiCall] = deque(maxlen=max(1, limit))
        self.last = 0
        self.dropped = 0

    def add(self, time: int, method: str, outcome: str, **facts: object) -> ApiCall:
        if len(self._calls) == self._calls.maxlen:
            self.dropped += 1
        self.last += 1
        call = ApiCall(self.last, time, method, outcome, **facts)  # type: ignore[arg-type]
        self._calls.append(call)
        return call

    def __iter__(self) -> Iterator[ApiCall]:
        return iter(tuple(self._calls))

    def __len__(self) -> int:
        return len(self._calls)
