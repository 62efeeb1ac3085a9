"""Deadlines for Houzz's own clocks: orders due some seconds after a moment stamped on each.

The lifecycle keeps one ``Deadlines`` per clock (the 2021 auto-charge when the cancel
window closes, the 7-day authorization lapse) and decides what happens when one is due.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from functools import partial

from houzzflow.simulator.kernel.clock import Clock

# Orders are the store's handles (houzz/orders.py): a deadline is two plain references.
Due = Callable[[int, int, int], None]
Alive = Callable[[int, int], bool]

# The FIFO drops the deadlines done when more than this many, and more than half of it, are.
COMPACT_AFTER = 1024


class Deadlines:
    """Orders due for one of Houzz's clocks (auto-charge, authorization lapse), each
    ``offset`` seconds after the moment stamped on it (its placement, its charge).

    Deadlines nearly always arrive in time order, so they wait in a FIFO with a single clock
    event armed for the head, instead of one clock event per order; one that arrives out of
    order gets its own clock event, and one already past is handled at once, stamped with
    its due time. ``handler(order, stamp, due)`` decides whether anything happens;
    ``alive(order, stamp)`` is False once nothing can happen any more (a shipped order's
    authorization cannot lapse), so such deadlines are dropped before the clock is armed
    for them, and most orders never cost a clock event for it. The FIFO is two arrays
    (stamps, order handles) read from ``_head``: 12 bytes a deadline, no object each (a
    run shorter than the 7-day authorization keeps every charged order's deadline to its
    end).
    """

    __slots__ = (
        "_alive",
        "_armed",
        "_clock",
        "_handler",
        "_head",
        "_live",
        "_offset",
        "_orders",
        "_stamps",
    )

    def __init__(self, clock: Clock, offset: int, handler: Due, alive: Alive) -> None:
        self._clock = clock
        self._offset = offset
        self._handler = handler
        self._alive = alive
        self._stamps: array[int] = array("q")
        self._orders: array[int] = array("i")
        self._head = 0  # the FIFO's first entry; those before it are done
        self._armed = False
        self._live = True

    def __len__(self) -> int:
        """How many deadlines wait in the FIFO."""
        return len(self._stamps) - self._head

    def add(self, order: int, stamp: int) -> None:
        clock = self._clock
        due = stamp + self._offset
        if due < clock.now:
            self._handler(order, stamp, due)
            return
        stamps = self._stamps
        if len(stamps) > self._head and stamps[-1] > stamp:
            clock.at(due, partial(self._one, order, stamp, due))
            return
        stamps.append(stamp)
        self._orders.append(order)
        if not self._armed:
            self._armed = True
            clock.at(stamps[self._head] + self._offset, self._drain)

    def close(self) -> None:
        """Forget every deadline; clock events already armed find nothing to do."""
        self._live = False
        del self._stamps[:]
        del self._orders[:]
        self._head = 0

    def _drain(self) -> None:
        self._armed = False
        stamps, orders = self._stamps, self._orders
        offset = self._offset
        last = self._clock.now - offset  # due by now: stamped at or before this
        handler = self._handler
        # A handler may add deadlines here: the FIFO only grows until the loops end.
        while self._head < len(stamps) and stamps[self._head] <= last:
            head = self._head
            self._head = head + 1
            stamp = stamps[head]
            handler(orders[head], stamp, stamp + offset)
        alive = self._alive
        while self._head < len(stamps) and not alive(orders[self._head], stamps[self._head]):
            self._head += 1
        head = self._head
        if head > COMPACT_AFTER and 2 * head > len(stamps):
            del stamps[:head]
            del orders[:head]
            self._head = head = 0
        if head < len(stamps) and not self._armed and self._live:
            self._armed = True
            self._clock.at(stamps[head] + offset, self._drain)

    def _one(self, order: int, stamp: int, due: int) -> None:
        if self._live:
            self._handler(order, stamp, due)
