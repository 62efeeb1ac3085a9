"""Customers: the stream of orders placed on Houzz, their cancellations and payment fixes.

An ``OrderStream`` is the scenario's ``world.orders``: a number of orders spread over the
run, a Poisson rate, a burst, or any mix of them. The ``count`` orders arrive within the
first part of the run (``place_within``: 60% by default, or a duration) so that each has time
to be charged, sent and shipped before the run ends; a rate holds for the whole run, as its
name says. Every choice comes from the run's seed through the customers' own streams
(``kernel.streams``): arrival times and item counts are drawn in bulk when the stream is
scheduled (``arrivals``), cancellations one per arrival in arrival order (``customer
cancels``), and payment fixes keyed by the order (``payment fixes``), since when a charge
fails depends on Houzz and CartRover, not on the customers.
"""

from __future__ import annotations

import random
from array import array
from dataclasses import dataclass
from functools import partial

from houzzflow.simulator.houzz.orders import history_length
from houzzflow.simulator.houzz.state import CANCEL, FAILED_TO_CHARGE, FakeHouzz, HouzzOrder
from houzzflow.simulator.kernel.clock import Clock
from houzzflow.simulator.kernel.streams import Keyed, Streams, unit

# The labels of the customers' events on the clock (see houzzflow.simulator.kernel.clock):
# orders placed (one event places every order due by its second; no order id), and an
# order's cancel by its customer (labelled with the order id).
ARRIVAL = "arrival"
CUSTOMER_CANCEL = "customer cancel"


@dataclass(frozen=True)
class Burst:
    """``count`` orders placed all at once, ``at`` seconds after the stream starts."""

    at: int
    count: int

    def __post_init__(self) -> None:
        if self.at < 0 or self.count < 0:
            raise ValueError("a burst needs at >= 0 and count >= 0")


@dataclass(frozen=True)
class OrderStream:
    """How customers place orders: ``count`` orders at uniformly random moments, and/or
    Poisson arrivals at ``rate_per_hour``, and/or one ``burst``.

    ``items``: the range of items per order. ``cancel_probability``: the share of orders the
    customer cancels, at a uniformly random moment inside the cancel window.
    ``fix_payment_probability`` and ``fix_payment_delay`` (seconds, a range): whether and
    when a customer fixes a payment that failed (the order is FailedToCharge).
    ``place_within``: the share of the run's duration (a float, at most 1) or the seconds
    from its start (an int) in which the ``count`` orders arrive. Poisson arrivals at
    ``rate_per_hour`` go on for the whole duration.
    """

    count: int | None = None
    rate_per_hour: float | None = None
    burst: Burst | None = None
    items: tuple[int, int] = (1, 3)
    cancel_probability: float = 0.0
    fix_payment_probability: float = 1.0
    fix_payment_delay: tuple[int, int] = (3600, 86400)
    place_within: float | int = 0.6

    def __post_init__(self) -> None:
        if self.count is not None and self.count < 0:
            raise ValueError("count must be 0 or more")
        if self.rate_per_hour is not None and self.rate_per_hour < 0:
            raise ValueError("rate_per_hour must be 0 or more")
        if not 1 <= self.items[0] <= self.items[1]:
            raise ValueError("items must be a range (low, high) with 1 <= low <= high")
        for name in ("cancel_probability", "fix_payment_probability"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if not 0 <= self.fix_payment_delay[0] <= self.fix_payment_delay[1]:
            raise ValueError("fix_payment_delay must be a range (low, high) with 0 <= low <= high")
        if isinstance(self.place_within, int) and not isinstance(self.place_within, bool):
            if self.place_within <= 0:
                raise ValueError("place_within must be a positive number of seconds")
        elif not 0.0 < self.place_within <= 1.0:
            raise ValueError("place_within must be more than 0 and at most 1")

    def arrival_times(self, rng: random.Random, start: int, duration: int) -> list[int]:
        """When each order is placed (seconds, sorted), drawn from ``rng``."""
        within = self.place_within
        seconds = within if isinstance(within, int) else int(duration * within)
        span = max(1, min(duration, seconds))
        times: list[int] = []
        if self.count:
            draw = rng.random
            times.extend(start + int(draw() * span) for _ in range(self.count))
        if self.rate_per_hour:
            per_second = self.rate_per_hour / 3600
            moment = float(start)
            while True:
                moment += rng.expovariate(per_second)
                if moment >= start + max(1, duration):
                    break
                times.append(int(moment))
        if self.burst is not None:
            times.extend([start + self.burst.at] * self.burst.count)
        times.sort()
        return times

    def schedule(
        self,
        houzz: FakeHouzz,
        clock: Clock,
        rng: random.Random,
        duration: int,
        *,
        streams: Streams | None = None,
    ) -> Customers:
        """Arrange every placement, cancellation and payment fix of this stream on ``clock``,
        starting now and drawing from ``streams`` (by default those following ``rng``). No
        order is placed after ``duration`` (a burst due later never comes); customers still
        cancel and fix payments after it. Returns the customers at work (``fixing``: the
        payments they are about to fix)."""
        if streams is None:
            streams = Streams.following(rng)
        end = clock.now + duration
        arrivals = streams.sequence("arrivals")
        times = [t for t in self.arrival_times(arrivals, clock.now, duration) if t <= end]
        low, high = self.items
        spread = high - low + 1
        draw = arrivals.random
        # 4-byte numbers: item counts (at most 100) and seconds within the cancel window.
        items = array("i", [low + int(draw() * spread) for _ in times] if spread > 1 else [])
        cancels = array("i")
        probability = self.cancel_probability
        if probability:
            # One draw an arrival, and a second for when it is cancelled (-1: never).
            draw = streams.sequence("customer cancels").random
            window = houzz.cancel_window
            cancels.extend(int(draw() * window) if draw() < probability else -1 for _ in times)
        customers = Customers(self, houzz, clock, times, items, cancels, streams)
        houzz.subscribe(customers.on_change, statuses=(FAILED_TO_CHARGE,))
        customers.arm()
        return customers


class Customers:
    """The stream at work: one pending clock event for the next arrival (not one per order,
    which keeps the clock's queue small), and reactions to failed charges. ``cancelling``
    and ``fixing`` hold the orders whose customer has decided to cancel them, or to fix a
    failed payment, and has not done it yet."""

    __slots__ = (
        "_cancels",
        "_clock",
        "_fixes",
        "_houzz",
        "_items",
        "_next",
        "_stream",
        "_times",
        "cancelling",
        "fixing",
    )

    def __init__(
        self,
        stream: OrderStream,
        houzz: FakeHouzz,
        clock: Clock,
        times: list[int],
        items: array[int],
        cancels: array[int],
        streams: Streams,
    ) -> None:
        self._stream = stream
        self._houzz = houzz
        self._clock = clock
        # Kept to the end of the run: plain 8-byte numbers, not an int object each. ``items``
        # (empty when every order has the same count) and ``cancels`` (empty without
        # cancellations; else seconds after placing, -1 for none) run beside ``times``.
        self._times = array("q", times)
        self._items = items
        self._cancels = cancels
        self._fixes: Keyed = streams.keyed("payment fixes")
        self._next = 0
        self.cancelling: set[str] = set()
        self.fixing: set[str] = set()

    def arm(self) -> None:
        if self._next < len(self._times):
            self._clock.at(self._times[self._next], self._arrive, label=ARRIVAL)

    def _arrive(self) -> None:
        times = self._times
        clock = self._clock
        now = clock.now
        items = self._items
        low = self._stream.items[0]
        cancels = self._cancels
        place = self._houzz.place_order
        i = self._next
        end = len(times)
        while i < end and times[i] <= now:
            order_id = place(items=items[i] if items else low)
            if cancels and cancels[i] >= 0:
                self.cancelling.add(order_id)
                cancel = partial(self._cancel, order_id)
                clock.at(now + cancels[i], cancel, label=CUSTOMER_CANCEL, order_id=order_id)
            i += 1
        self._next = i
        if i < end:
            clock.at(times[i], self._arrive, label=ARRIVAL)

    def _cancel(self, order_id: str) -> None:
        self.cancelling.discard(order_id)
        self._houzz.act(order_id, CANCEL, "customer")

    def on_change(self, order: HouzzOrder, action: str) -> None:
        if order.status != FAILED_TO_CHARGE:
            return
        stream = self._stream
        # Keyed by the order and its history's length: this failure of this order.
        key = self._fixes.key(order.order_id)
        n = 2 * history_length(order)
        probability = stream.fix_payment_probability
        if probability < 1.0 and unit(key, n) >= probability:
            return
        low, high = stream.fix_payment_delay
        delay = low + int(unit(key, n + 1) * (high - low + 1))
        self.fixing.add(order.order_id)
        self._clock.after(delay, partial(self._fix, order.order_id))

    def _fix(self, order_id: str) -> None:
        self.fixing.discard(order_id)
        self._houzz.fix_payment(order_id)


def place_backlog(
    houzz: FakeHouzz, rng: random.Random, *, count: int, within: int, items: int = 1
) -> None:
    """Place ``count`` orders created at random moments in the ``within`` seconds before 0:
    what is already on Houzz when CartRover is switched on."""
    for created in sorted(-1 - int(rng.random() * within) for _ in range(count)):
        houzz.place_order(items=items, created=created)
