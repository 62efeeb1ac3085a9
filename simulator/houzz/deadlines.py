"""Deadlines for Houzz's own clocks: orders due some seconds after a moment stamped on each.

The lifecycle keeps one ``Deadlines`` per clock (the 2021 auto-charge when the cancel
window closes, the 7-day authorization lapse) and decides what happens when one is due.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from functools import partial

from houzzflow.simulator.houzz.orders import HouzzOrder
from houzzflow.simulator.kernel.clock import Clock

Due = Callable[[HouzzOrder, int, int], None]
Alive = Callable[[HouzzOrder, int], bool]


class Deadlines:
    """Orders due for one of Houzz's clocks (auto-charge, authorization lapse), each
    ``offset`` seconds after the moment stamped on it (its placement, its charge).

    Deadlines nearly always arrive in time order, so they wait in a FIFO with a single clock
    event armed for the head, instead of one clock event per order; one that arrives out of
    order gets its own clock event, and one already past is handled at once, stamped with
    its due time. ``handler(order, stamp, due)`` decides whether anything happens;
    ``alive(order, stamp)`` is False once nothing can happen any more (a shipped order's
    authorization cannot lapse), so such deadlines are dropped before the clock is armed
    for them, and most orders never cost a clock event for it. The FIFO is two deques of
    plain references (stamp, order): 16 bytes a deadline, not a tuple each.
    """

    __slots__ = ("_alive", "_armed", "_clock", "_handler", "_live", "_offset", "_orders", "_stamps")

    def __init__(self, clock: Clock, offset: int, handler: Due, alive: Alive) -> None:
        self._clock = clock
        self._offset = offset
        self._handler = handler
        self._alive = alive
        self._stamps: deque[int] = deque()
        self._orders: deque[HouzzOrder] = deque()
        self._armed = False
        self._live = True

    def add(self, order: HouzzOrder, stamp: int) -> None:
        clock = self._clock
        due = stamp + self._offset
        if due < clock.now:
            self._handler(order, stamp, due)
            return
        stamps = self._stamps
        if stamps and stamps[-1] > stamp:
            clock.at(due, partial(self._one, order, stamp, due))
            return
        stamps.append(stamp)
        self._orders.append(order)
        if not self._armed:
            self._armed = True
            clock.at(stamps[0] + self._offset, self._drain)

    def close(self) -> None:
        """Forget every deadline; clock events already armed find nothing to do."""
        self._live = False
        self._stamps.clear()
        self._orders.clear()

    def _drain(self) -> None:
        self._armed = False
        stamps, orders = self._stamps, self._orders
        offset = self._offset
        last = self._clock.now - offset  # due by now: stamped at or before this
        handler = self._handler
        while stamps and stamps[0] <= last:
            stamp = stamps.popleft()
            handler(orders.popleft(), stamp, stamp + offset)
        alive = self._alive
        while stamps and not alive(orders[0], stamps[0]):
            stamps.popleft()
            orders.popleft()
        if stamps and not self._armed and self._live:
            self._armed = True
            self._clock.at(stamps[0] + offset, self._drain)

    def _one(self, order: HouzzOrder, stamp: int, due: int) -> None:
        if self._live:
            self._handler(order, stamp, due)
