"""A counterexample in plain words: the narrator of a replayed path, and its lines.

``replay`` runs the explorer's path again through ``houzzflow.simulator.proof.model.apply``
with a ``Narrator`` listening, and numbers the orders in placement order.
"""

from __future__ import annotations

from typing import NamedTuple

from houzzflow.engine.policy import Policy
from houzzflow.simulator.proof.model import World, apply, initial_state
from houzzflow.simulator.proof.search import Exploration

WHO = {"staff": "staff", "customer": "the customer", "houzz": "Houzz"}
VERBS = {
    "Process": "processed it by hand in Houzz",
    "Charge": "charged it by hand in Houzz",
    "Cancel": "cancelled it in Houzz",
    "AutoCharge": "charged it by itself, 30 minutes after placement",
    "ChargeFails": "failed to charge it and held it back",
    "PaymentFixed": "fixed the payment",
    "AuthorizationLapse": "let its 7-day authorization lapse",
}


class Narrator:
    """Collects the plain-language account of a replayed path."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, int, str]] = []  # (kind, order index, text)
        self.polls = 0

    def say(self, kind: str, order: int, text: str) -> None:
        self.lines.append((kind, order, text))

    def poll(self) -> None:
        self.polls += 1
        self.say("poll", -1, f"CartRover's poll {self.polls}")

    def world(self, order: int, actor: str, action: str, before: str, after: str) -> None:
        what = VERBS.get(action, action)
        self.say("world", order, f"{WHO[actor]} {what} ({before} -> {after})")


class Line(NamedTuple):
    """One line of a counterexample's timeline, for one order (-1: about no single order)."""

    kind: str
    order: int  # the order's number in placement order, from 1; 0 for a poll
    text: str


def replay(policy: Policy, exploration: Exploration) -> list[Line]:
    """The counterexample's path in plain words, with orders numbered in placement order."""
    world = World(policy, exploration.bounds, exploration.facts)
    state = initial_state(world)
    ids: list[int] = []  # ids[i] = placement number of the order at sorted position i
    narrator = Narrator()
    lines: list[Line] = []
    for event in exploration.path:
        before = len(narrator.lines)
        after = apply(world, state, event, narrator)
        if event.kind == "place":
            ids.append(len(ids) + 1)
        order_ids = list(ids)
        for kind, index, text in narrator.lines[before:]:
            lines.append(Line(kind, order_ids[index] if index >= 0 else 0, text))
        state, ranked = after.state()
        ids = [order_ids[k] for k in ranked]
    if exploration.violation is not None:
        v = exploration.violation
        lines.append(Line("violation", ids[v.order] if v.order < len(ids) else 0, v.message))
    return lines
