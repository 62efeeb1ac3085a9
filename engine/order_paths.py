"""Where one order can be when CartRover's poll finds it, read off the lifecycle table.

The rules tier reasons about a single order: every Houzz status it can reach before it is
loaded (through Houzz's own moves, the customer, and the staff habits the policy assumes),
which of those it may *rest* in (nothing that must happen is left), and whether the
customer's cancel window may still be open. Polls may come at any moment, so any reachable
visible status can be the one CartRover sees first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from houzzflow.engine.machine import default_machine
from houzzflow.engine.policy import Policy
from houzzflow.engine.table import Table, houzz_table

CONNECTOR = "connector"


def staff_habit(policy: Policy, action: str) -> str:
    """The policy's staff habit for a Houzz action (``never`` for actions staff have none for)."""
    return str(getattr(policy, f"staff_{action.lower()}", "never"))


@dataclass(frozen=True, slots=True)
class Step:
    """One thing that can happen to an order before CartRover loads it."""

    action: str
    actor: str
    dest: str
    window_open: bool  # the customer's cancel window after the step
    mandatory: bool  # it must happen eventually (auto moves, `always` habits, time passing)


WINDOW_CLOSES = "CancelWindowCloses"


def steps_from(table: Table, policy: Policy, state: str, window_open: bool) -> Iterator[Step]:
    timing = default_machine().timing
    if window_open:
        yield Step(WINDOW_CLOSES, "houzz", state, False, True)
    for (src, action), move in table.moves.items():
        if src != state:
            continue
        for actor in sorted(move.actors):
            if actor == "houzz":
                if move.happens not in ("auto", "may") or (
                    move.after_cancel_window and window_open
                ):
                    continue
                yield Step(action, actor, move.dest, window_open, move.happens == "auto")
            elif actor == "staff":
                habit = staff_habit(policy, action)
                if habit != "never":
                    yield Step(action, actor, move.dest, window_open, habit == "always")
            elif actor in timing.cancel_window_actors and action == timing.cancel_action:
                if window_open:
                    yield Step(action, actor, move.dest, window_open, False)
            elif actor not in (CONNECTOR, "backend"):
                yield Step(action, actor, move.dest, window_open, False)


@dataclass(frozen=True, slots=True)
class OrderPaths:
    table: Table
    reachable: frozenset[tuple[str, bool]]  # (Houzz status, cancel window open)
    resting: frozenset[tuple[str, bool]]  # reachable, and nothing left that must happen

    def visible(self, state: str) -> bool:
        return state not in self.table.hidden

    def leads_to(self, state: str, targets: frozenset[str]) -> bool:
        """True when some move sequence takes an order from ``state`` into ``targets``."""
        seen = {state}
        todo = [state]
        while todo:
            here = todo.pop()
            if here in targets:
                return True
            for (src, _), move in self.table.moves.items():
                # Forward progress only: a lapse or a declined charge is not a way forward.
                forward = move.happens in ("auto", "may")
                if src == here and forward and move.dest not in seen:
                    seen.add(move.dest)
                    todo.append(move.dest)
        return False


@cache
def order_paths(policy: Policy) -> OrderPaths:
    """Every (status, window) an order can reach before loading, under the policy's world
    (Houzz's lifecycle for the answers the policy pins, the register's defaults otherwise)."""
    table = houzz_table(policy.account, policy.era, facts=policy.pins)
    start = (table.initial, True)
    reachable = {start}
    resting = set()
    todo = [start]
    while todo:
        state, window = todo.pop()
        must = False
        for step in steps_from(table, policy, state, window):
            must = must or step.mandatory
            node = (step.dest, step.window_open)
            if node not in reachable:
                reachable.add(node)
                todo.append(node)
        if not must:
            resting.add((state, window))
    return OrderPaths(table, frozenset(reachable), frozenset(resting))
