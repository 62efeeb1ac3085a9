"""Simulated time that follows the wall clock (``houzzflow serve --clock wall[:SPEED]``).

For a connector that cannot be told the time: it sleeps on the real clock, so the fake's
clock must move with it. ``WallPace.due`` says which simulated second the wall clock has
reached (``speed`` simulated seconds per real second); the server lets the world run up to
it before each request. A jump ahead by the admin API is kept: the pace re-bases from the
later moment instead of pulling the clock back (simulated time never runs backwards).
The wall clock is injected, so tests never sleep.
"""

from __future__ import annotations

import time
from collections.abc import Callable

MAX_SPEED = 100_000.0  # simulated seconds per real second, at most


class WallPace:
    """Maps wall-clock time to simulated seconds (see the module doc)."""

    def __init__(self, speed: float = 1.0, wall: Callable[[], float] = time.time) -> None:
        if not (isinstance(speed, int | float) and 0 < speed <= MAX_SPEED):
            raise ValueError(f"speed must be above 0 and at most {MAX_SPEED:g}")
        self.speed = float(speed)
        self.wall = wall
        self._base_wall = wall()
        self._base_sim = 0

    def rebase(self, sim_now: int) -> None:
        """From now on, the wall clock's now is simulated second ``sim_now``."""
        self._base_wall = self.wall()
        self._base_sim = sim_now

    def due(self, sim_now: int) -> int:
        """The simulated second the wall clock has reached (at least ``sim_now``)."""
        target = self._base_sim + int((self.wall() - self._base_wall) * self.speed)
        if target < sim_now:  # the clock was moved ahead by hand: follow on from there
            self.rebase(sim_now)
            return sim_now
        return target
