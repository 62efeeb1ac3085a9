"""Simulated time: one heap of events in integer seconds (SimPy's lesson: keep it tiny).

Ties resolve in scheduling order through a sequence counter, so the same inputs always
produce the same run. Nothing here reads the wall clock or sleeps.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

Callback = Callable[[], None]


@dataclass
class Clock:
    now: int = 0
    _queue: list[tuple[int, int, int, Callback]] = field(default_factory=list, repr=False)
    _sequence: int = 0

    def at(self, when: int, callback: Callback, priority: int = 0) -> None:
        """Run ``callback`` at simulated second ``when`` (never in the past)."""
        self._sequence += 1
        heapq.heappush(self._queue, (max(when, self.now), priority, self._sequence, callback))

    def after(self, delay: int, callback: Callback, priority: int = 0) -> None:
        self.at(self.now + delay, callback, priority)

    def pending(self) -> int:
        return len(self._queue)

    def next_time(self) -> int | None:
        return self._queue[0][0] if self._queue else None

    def step(self) -> bool:
        """Run the next event; False when there is none."""
        if not self._queue:
            return False
        when, _, _, callback = heapq.heappop(self._queue)
        self.now = when
        callback()
        return True

    def run(self, until: int | None = None) -> None:
        """Run events up to and including ``until`` (all of them when None), then stop there."""
        queue = self._queue
        while queue and (until is None or queue[0][0] <= until):
            when, _, _, callback = heapq.heappop(queue)
            self.now = when
            callback()
        if until is not None and until > self.now:
            self.now = until
