"""Simulated time: one queue of events in integer seconds (SimPy's lesson: keep it tiny).

Ties resolve in scheduling order through a sequence counter, so the same inputs always
produce the same run. Nothing here reads the wall clock or sleeps.

Speed: a run of 100,000 orders keeps tens of thousands of events waiting (each order's
shipment, hours ahead), and a heap that large costs a cache miss at every level it sifts
through. So only the events of the current stretch of time (``SPAN`` seconds) wait in the
heap; later ones wait in one unsorted bucket per stretch, and a bucket becomes the heap
when its stretch comes. Every event in the heap is due before every event in a bucket, so
events run in exactly the order one big heap would run them.

Labels: whoever schedules an event may say what it is (``label``, a public constant of the
scheduling module) and which order it concerns (``order_id``). The clock neither stores nor
reads them, so a run pays only for passing them; they are there for a subclass that
overrides ``at`` to watch the world without guessing events from their callbacks
(``bench/plan.py`` records a run's inputs this way). The world's labels: ``ARRIVAL`` and
``CUSTOMER_CANCEL`` (world.customers), ``SHIPMENT`` (world.backend) and ``CONNECTOR_TICK``
(runs.runner); other events are unlabelled ("").

Calendars: a component with many events may keep them in its own calendar and arm one
event for several (the warehouse: one per busy second). ``ticket`` gives each of its
entries the place in the scheduling order that ``at`` would have given it, ``at_ticket``
arms an event in such a place, and ``waits_before`` tells whether another queued event
comes first, so the run is exactly the one with an event per entry. Such a component
gives a clock that overrides ``at`` (a watching subclass) one labelled event per entry.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

from houzzflow.engine.native import mypyc_attr

Callback = Callable[[], object]  # what it returns is ignored
Event = tuple[int, int, int, Callback]  # (when, priority, sequence, callback)

SPAN = 1024  # seconds of events the heap holds at once


@mypyc_attr(allow_interpreted_subclasses=True)  # subclassed outside the compiled modules
@dataclass
class Clock:
    now: int = 0
    _queue: list[Event] = field(default_factory=list, repr=False)
    _sequence: int = 0
    # Events due at or after ``_horizon``, by stretch (``when // SPAN``), unsorted.
    _later: dict[int, list[Event]] = field(default_factory=dict, repr=False)
    _horizon: int = field(default=SPAN, repr=False)

    def at(
        self, when: int, callback: Callback, priority: int = 0, label: str = "", order_id: str = ""
    ) -> None:
        """Run ``callback`` at simulated second ``when`` (never in the past); among events of
        one second, lower ``priority`` first, then in scheduling order. ``label`` and
        ``order_id`` are ignored here (see the module doc)."""
        self._sequence += 1
        if when < self.now:
            when = self.now
        if when < self._horizon:
            heapq.heappush(self._queue, (when, priority, self._sequence, callback))
            return
        stretch = when // SPAN
        later = self._later.get(stretch)
        if later is None:
            self._later[stretch] = [(when, priority, self._sequence, callback)]
        else:
            later.append((when, priority, self._sequence, callback))

    def ticket(self) -> int:
        """A place in the scheduling order, the one ``at`` would give an event now: for a
        caller that keeps its own calendar and arms one event for many (``at_ticket``)."""
        self._sequence += 1
        return self._sequence

    def at_ticket(self, when: int, ticket: int, callback: Callback) -> None:
        """Run ``callback`` at ``when`` (never in the past), priority 0, in the place in the
        scheduling order that ``ticket`` (from ``ticket()``) holds."""
        if when < self.now:
            when = self.now
        if when < self._horizon:
            heapq.heappush(self._queue, (when, 0, ticket, callback))
            return
        stretch = when // SPAN
        later = self._later.get(stretch)
        if later is None:
            self._later[stretch] = [(when, 0, ticket, callback)]
        else:
            later.append((when, 0, ticket, callback))

    def waits_before(self, ticket: int) -> bool:
        """Whether an event due now, scheduled at priority 0 with ``ticket``, would wait for
        another event still queued: one due earlier, or now and ahead of it in order."""
        queue = self._queue
        return bool(queue) and queue[0][:3] < (self.now, 0, ticket)

    def after(self, delay: int, callback: Callback, priority: int = 0) -> None:
        self.at(self.now + delay, callback, priority)

    def pending(self) -> int:
        return len(self._queue) + sum(map(len, self._later.values()))

    def next_time(self) -> int | None:
        if self._queue:
            return self._queue[0][0]
        if self._later:
            return min(self._later[min(self._later)])[0]
        return None

    def _next_stretch(self) -> bool:
        """The heap is empty: make the earliest bucket the heap; False when there is none."""
        if not self._later:
            return False
        stretch = min(self._later)
        queue = self._queue
        queue.extend(self._later.pop(stretch))
        heapq.heapify(queue)
        self._horizon = (stretch + 1) * SPAN
        return True

    def step(self) -> bool:
        """Run the next event; False when there is none."""
        if not self._queue and not self._next_stretch():
            return False
        when, _, _, callback = heapq.heappop(self._queue)
        self.now = when
        callback()
        return True

    def run(self, until: int | None = None) -> None:
        """Run events up to and including ``until`` (all of them when None), then stop there."""
        queue = self._queue
        pop = heapq.heappop
        while True:
            if not queue and not self._next_stretch():
                break
            if until is not None and queue[0][0] > until:
                break
            when, _, _, callback = pop(queue)
            self.now = when
            callback()
        if until is not None and until > self.now:
            self.now = until
