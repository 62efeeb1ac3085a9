"""Simulated time that follows the wall clock (``houzzflow serve --clock wall[:SPEED]``).

For a connector that cannot be told the time: it sleeps on the real clock, so the fake's
clock must move with it. ``WallPace.due`` says which simulated second the wall clock has
reached (``speed`` simulated seconds per real second); the server lets the world run up to
it before each request. A jump ahead by the admin API is kept: the pace re-bases from the
later moment instead of pulling the clock back (simulated time never runs backwards).
The wall clock is injected, so tests never sleep.
"""

from __future__ import annotations

import datetime as dt
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


EPOCH_RANGE = (dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1))


def parse_epoch(text: str, wall: Callable[[], float] = time.time) -> dt.datetime:
    """The moment of simulated second 0 (UTC, naive as Houzz's times are): ``now`` (the wall
    clock's, to the second), a date ``2026-11-23`` (its midnight) or a date and time
    ``2026-11-23T09:00:00`` (an offset such as ``+02:00`` is converted to UTC). Raises
    ``ValueError`` with the reason."""
    value = text.strip()
    if value.lower() == "now":
        moment = dt.datetime.fromtimestamp(int(wall()), dt.UTC).replace(tzinfo=None)
    else:
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"expected now, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS, not {value[:40]!r}"
            ) from None
        if moment.tzinfo is not None:
            moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    low, high = EPOCH_RANGE
    if not low <= moment < high:
        raise ValueError(f"the epoch must be from {low:%Y-%m-%d} to before {high:%Y-%m-%d}")
    return moment.replace(microsecond=0)


def parse_clock(text: str) -> float | None:
    """``simulated`` (None: time moves only when told to), ``wall`` (speed 1) or
    ``wall:SPEED`` (simulated seconds per real second); ``ValueError`` with the reason."""
    value = text.strip().lower()
    if value == "simulated":
        return None
    name, _, speed = value.partition(":")
    if name != "wall":
        raise ValueError(f"expected simulated, wall or wall:SPEED, not {text[:40]!r}")
    if not speed:
        return 1.0
    try:
        rate = float(speed)
    except ValueError:
        raise ValueError(f"SPEED must be a number, not {speed[:20]!r}") from None
    if not 0 < rate <= MAX_SPEED:
        raise ValueError(f"SPEED must be above 0 and at most {MAX_SPEED:g}")
    return rate
