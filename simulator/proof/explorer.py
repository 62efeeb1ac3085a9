"""Bounded exhaustive exploration of one policy: every interleaving, for a few orders.

The entry points, gathered from where they live: the world and its transitions in
``houzzflow.simulator.proof.model``, the breadth-first search in
``houzzflow.simulator.proof.search``, and the plain-words account of a counterexample in
``houzzflow.simulator.proof.narration``. CartRover's behaviour comes from the engine
(``decisions``, ``recovery`` and the compiled tables), the same pure functions the simulated
connector uses.

Safety invariants are checked on every transition; "nothing lost", "confirmed" and
"accounted" are checked in every *quiescent* state, one where nothing that must happen is
left to happen (only optional moves remain, which may never come).
"""

from __future__ import annotations

from houzzflow.simulator.proof.model import Bounds, State, Violation, World, apply, initial_state
from houzzflow.simulator.proof.narration import Line, replay
from houzzflow.simulator.proof.search import Exploration, explore, explore_reference

__all__ = [
    "Bounds",
    "Exploration",
    "Line",
    "State",
    "Violation",
    "World",
    "apply",
    "explore",
    "explore_reference",
    "initial_state",
    "replay",
]
