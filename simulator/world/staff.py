"""Staff: the seller's people processing, charging and cancelling orders by hand in Houzz.

A policy's ``assume.staff`` says what they do (DOMAIN.md section 6): ``never``; ``always``
(for every order where it is possible, eventually); ``sometimes`` (for each order, with a
probability). Each by-hand action happens after a random delay. Staff look at the order
when the time comes: an action no longer possible then (the connector processed the order
first, the customer cancelled it) is simply not done, and nothing is written on the
timeline for it - nothing happened in Houzz. ``StaffAtWork.skipped`` counts them.

A habit applies again every time its step becomes possible again: an order back In
Production (a declined card the customer fixed, a lapsed authorization) is charged again
by staff who ``always`` charge, and ``sometimes`` draws again. Cancelling is decided once,
when the order is placed (it stays possible until the order ships).
In the 2021 era and on Vendor accounts the table has no process/charge step for staff, so
those habits never schedule anything.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from typing import Literal

from houzzflow.simulator.houzz.orders import history_length
from houzzflow.simulator.houzz.state import CANCEL, CHARGE, PLACE, PROCESS, FakeHouzz, HouzzOrder
from houzzflow.simulator.kernel.clock import Clock
from houzzflow.simulator.kernel.streams import Keyed, Streams, unit

HabitMode = Literal["never", "always", "sometimes"]


@dataclass(frozen=True)
class Habit:
    """Whether staff do one action by hand (``mode``; ``probability`` per order for
    ``sometimes``), and how long after the order reaches the right status (``delay``, a
    range of seconds, uniform)."""

    mode: HabitMode = "never"
    probability: float = 0.5
    delay: tuple[int, int] = (300, 7200)

    def __post_init__(self) -> None:
        if self.mode not in ("never", "always", "sometimes"):
            raise ValueError("a habit is never, always or sometimes")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if not 0 <= self.delay[0] <= self.delay[1]:
            raise ValueError("delay must be a range (low, high) with 0 <= low <= high")

    def waited(self, draw: float) -> int:
        """The delay, given a draw in [0, 1)."""
        low, high = self.delay
        return low + int(draw * (high - low + 1))


@dataclass(frozen=True)
class Staff:
    """The seller's habits for each by-hand action."""

    process: Habit = field(default_factory=Habit)
    charge: Habit = field(default_factory=Habit)
    cancel: Habit = field(default_factory=Habit)

    def attach(
        self, houzz: FakeHouzz, clock: Clock, rng: random.Random, *, draws: Keyed | None = None
    ) -> StaffAtWork:
        """Put staff to work on ``houzz``: they react to every placed order and status
        change from now on. Returns the working staff (to read what they did). Their draws
        are keyed by the order (``draws``, or the ``staff`` stream following ``rng``)."""
        at_work = StaffAtWork(self, houzz, clock, rng, draws=draws)
        houzz.subscribe(at_work.on_change, statuses=at_work.statuses())
        return at_work


class StaffAtWork:
    """Staff attached to one fake Houzz. ``done`` counts actions performed by action name,
    ``skipped`` those that were no longer possible when their time came.

    Each decision and delay is a keyed draw (``kernel.streams``) about the order and the
    length of its history when staff hear of the change: the same change of the same order
    draws the same, whatever the order in which Houzz told staff of changes to others."""

    def __init__(
        self,
        staff: Staff,
        houzz: FakeHouzz,
        clock: Clock,
        rng: random.Random,
        *,
        draws: Keyed | None = None,
    ) -> None:
        self.staff = staff
        self.houzz = houzz
        self.clock = clock
        self.rng = rng
        self.draws = draws if draws is not None else Streams.following(rng).keyed("staff")
        self.done: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        # Actions decided and not yet due, by order: what staff are still about to do.
        self.pending: dict[str, list[str]] = {}
        # (status, action) pairs staff may perform at all in this program and era.
        self._allowed = frozenset(
            key for key, move in houzz.table.moves.items() if "staff" in move.actors
        )
        self._habits = ((PROCESS, staff.process), (CHARGE, staff.charge))
        self._active = any(h.mode != "never" for h in (staff.process, staff.charge, staff.cancel))

    def statuses(self) -> frozenset[str]:
        """The statuses in which staff may act by their habits (nothing else concerns them)."""
        active = {name for name, habit in self._habits if habit.mode != "never"}
        if self.staff.cancel.mode != "never":
            active.add(CANCEL)
        return frozenset(status for status, action in self._allowed if action in active)

    def on_change(self, order: HouzzOrder, action: str) -> None:
        """React to an order reaching a status: decide now, act after the habit's delay."""
        if not self._active:
            return
        status = order.status
        allowed = self._allowed
        key = self.draws.key(order.order_id)
        # Two draws (decide, wait) per habit, numbered from the order's history's length.
        n = history_length(order) * 6
        for name, habit in self._habits:
            if (
                habit.mode != "never"
                and (status, name) in allowed
                and (habit.mode == "always" or unit(key, n) < habit.probability)
            ):
                self._later(habit.waited(unit(key, n + 1)), order.order_id, name)
            n += 2
        cancel = self.staff.cancel
        # One decision per order about cancelling it, when it is placed.
        if (
            action == PLACE
            and cancel.mode != "never"
            and (status, CANCEL) in allowed
            and (cancel.mode == "always" or unit(key, n) < cancel.probability)
        ):
            self._later(cancel.waited(unit(key, n + 1)), order.order_id, CANCEL)

    def _later(self, delay: int, order_id: str, action: str) -> None:
        self.pending.setdefault(order_id, []).append(action)
        self.clock.after(delay, partial(self._act, order_id, action))

    def _act(self, order_id: str, action: str) -> None:
        waiting = self.pending[order_id]
        waiting.remove(action)
        if not waiting:
            del self.pending[order_id]
        if self.houzz.act(order_id, action, "staff").ok:
            self.done[action] += 1
        else:
            self.skipped[action] += 1
