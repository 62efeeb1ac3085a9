"""Faults the fake Houzz API can inject: errors, lost replies, rate limits, shifting pages.

A scenario declares a ``FaultPlan``; the fake Houzz asks its ``FaultInjector`` on every API
call whether to fail it. Faults draw from their own seeded random streams (one per kind), so
adding a fault never changes the order stream, and adding one kind never changes which calls
another kind hits. A call about an order (updateOrder) draws keyed by the order and how many
calls about it came before (``kernel.streams``): the order in which CartRover works through
different orders does not move which of their calls fail. getOrders calls, which only
CartRover's poller makes and in its own order, draw from one sequential stream per kind.
``fail_calls`` counts every call, so it names calls by their place in the whole sequence.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

from houzzflow.engine.native import mypyc_attr
from houzzflow.engine.ports import ReplyLost, TransientError
from houzzflow.simulator.kernel.clock import Clock
from houzzflow.simulator.kernel.streams import Streams, unit
from houzzflow.simulator.kernel.timeline import Happening, Timeline

# Fault kinds, as counted in ``FaultInjector.injected`` and named in the timeline.
ERROR = "error"
FAIL_CALL = "fail_call"
RATE_LIMIT = "rate_limit"
REPLY_LOST = "reply_lost"
PAGE_DRIFT = "page_drift"
KINDS = (ERROR, FAIL_CALL, RATE_LIMIT, REPLY_LOST, PAGE_DRIFT)
_KEYED = (ERROR, RATE_LIMIT, REPLY_LOST)  # drawn per order for calls about an order
# How each kind reads as an action on the timeline.
_ACTIONS = {
    ERROR: "ApiError",
    FAIL_CALL: "ApiError",
    RATE_LIMIT: "RateLimited",
    REPLY_LOST: "ReplyLost",
    PAGE_DRIFT: "PageDrift",
}


@dataclass(frozen=True)
class FaultPlan:
    """The faults a scenario declares, each seeded and off by default.

    ``error_rate``: share of API calls that fail with a transient error before any effect.
    ``fail_calls``: the Nth API calls (1-based, counting every getOrders and updateOrder)
    fail the same way. ``timeout_after_write_rate``: share of updateOrder calls whose reply
    is lost after Houzz handled the request (``ReplyLost``; the write may have taken effect).
    ``rate_limit_rate`` with ``retry_after``: share of calls answered 429 with a retry-after.
    ``page_drift_rate``: share of continuation pages (``start > 0``) before which an order
    already listed on an earlier page is modified, so later pages shift by one.
    ``crash_every_polls``: read by the scenario runner (the connector restarts from its saved
    state); the fake Houzz does not apply it. ``seed``: the faults' own random seed.
    """

    error_rate: float = 0.0
    fail_calls: tuple[int, ...] = ()
    timeout_after_write_rate: float = 0.0
    rate_limit_rate: float = 0.0
    retry_after: int = 60
    page_drift_rate: float = 0.0
    crash_every_polls: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        for name in (
            "error_rate",
            "timeout_after_write_rate",
            "rate_limit_rate",
            "page_drift_rate",
        ):
            _check_rate(name, getattr(self, name))
        if any(n < 1 for n in self.fail_calls):
            raise ValueError("fail_calls counts API calls from 1")
        if self.retry_after < 0:
            raise ValueError("retry_after must be 0 or more seconds")
        if self.crash_every_polls is not None and self.crash_every_polls < 1:
            raise ValueError("crash_every_polls must be 1 or more")

    @property
    def any_api_fault(self) -> bool:
        """Whether this plan injects anything into API calls (crashes are not API faults)."""
        return bool(
            self.error_rate
            or self.fail_calls
            or self.timeout_after_write_rate
            or self.rate_limit_rate
            or self.page_drift_rate
        )


def _check_rate(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1, not {value}")


@mypyc_attr(allow_interpreted_subclasses=True)  # subclassed outside the compiled modules
class FaultInjector:
    """Decides, call by call, which faults a ``FaultPlan`` injects, and counts them.

    ``calls`` counts every API call seen; ``injected`` counts faults by kind (see ``KINDS``).
    Each injected fault is also recorded on the timeline with actor ``fault``.
    """

    def __init__(self, plan: FaultPlan, *, clock: Clock, timeline: Timeline | None = None) -> None:
        self.plan = plan
        self.clock = clock
        self.timeline = timeline
        self.calls = 0
        self.injected: Counter[str] = Counter()
        self._fail_calls = frozenset(plan.fail_calls)
        # One stream per kind: enabling one kind leaves the others' choices unchanged.
        self._rngs = {kind: random.Random(f"houzzflow-fault-{kind}-{plan.seed}") for kind in KINDS}
        streams = Streams(plan.seed)
        self._keyed = {kind: streams.keyed(f"fault {kind}") for kind in _KEYED}
        self._order_calls: dict[str, int] = {}  # order id -> calls about it so far

    def _hits(self, kind: str, rate: float, order_id: str) -> bool:
        """Whether a fault of ``kind`` hits this call (about ``order_id``, or a listing)."""
        if not order_id:
            return self._rngs[kind].random() < rate
        return unit(self._keyed[kind].key(order_id), self._order_calls.get(order_id, 0)) < rate

    def before_call(self, method: str, order_id: str = "") -> None:
        """Count one API call; raise ``TransientError`` if it fails before any effect."""
        self.calls += 1
        if order_id:
            calls = self._order_calls
            calls[order_id] = calls.get(order_id, 0) + 1
        plan = self.plan
        if self.calls in self._fail_calls:
            self.record(FAIL_CALL, order_id, f"{method}: API call {self.calls} failed (HTTP 503)")
            raise TransientError(f"{method} failed: Houzz answered HTTP 503 Service Unavailable")
        if plan.error_rate and self._hits(ERROR, plan.error_rate, order_id):
            self.record(ERROR, order_id, f"{method}: HTTP 503 before any effect")
            raise TransientError(f"{method} failed: Houzz answered HTTP 503 Service Unavailable")
        if plan.rate_limit_rate and self._hits(RATE_LIMIT, plan.rate_limit_rate, order_id):
            wait = plan.retry_after
            self.record(RATE_LIMIT, order_id, f"{method}: HTTP 429, retry after {wait} s")
            raise TransientError(f"{method} rate limited: HTTP 429, retry after {wait} s", wait)

    def after_write(self, order_id: str, action: str, took_effect: bool) -> None:
        """Raise ``ReplyLost`` if the reply to a handled updateOrder is lost on the way back.

        Replies are lost whatever Houzz answered: a lost reply says nothing about whether
        the write took effect, so a connector has to find out.
        """
        rate = self.plan.timeout_after_write_rate
        if rate and self._hits(REPLY_LOST, rate, order_id):
            effect = "took effect" if took_effect else "was refused"
            self.record(REPLY_LOST, order_id, f"updateOrder {action} {effect}; the reply was lost")
            raise ReplyLost(f"updateOrder {action} timed out; the write may have taken effect")

    def page_drifts(self) -> bool:
        """Whether an order changes before this continuation page is served."""
        rate = self.plan.page_drift_rate
        return bool(rate) and self._rngs[PAGE_DRIFT].random() < rate

    def choose(self, count: int) -> int:
        """A seeded choice of one of ``count`` candidates for a page drift."""
        return self._rngs[PAGE_DRIFT].randrange(count)

    def record_drift(self, order_id: str, detail: str) -> None:
        """Count and record a page drift applied to ``order_id``."""
        self.record(PAGE_DRIFT, order_id, detail)

    def record(self, kind: str, order_id: str, detail: str) -> None:
        self.injected[kind] += 1
        if self.timeline is not None:
            self.timeline.add(Happening(self.clock.now, order_id, "fault", _ACTIONS[kind], detail))
