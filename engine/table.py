"""The compiled lifecycle: immutable lookup tables and a pure ``step`` function.

This is the hot path for simulation and exploration (DESIGN.md): plain dicts and tuples,
one table per (program, era), no ``transitions`` objects per order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import NamedTuple

from houzzflow.engine.machine import LifecycleDef, MachineDef, default_machine


@dataclass(frozen=True, slots=True)
class Rejection:
    """Houzz's (or CartRover's) refusal of an action, with the reason in plain words."""

    state: str
    action: str
    actor: str
    reason: str

    def __bool__(self) -> bool:  # a rejection is never a state
        return False


class Move(NamedTuple):
    dest: str
    actors: frozenset[str]
    happens: str  # auto | may | fault | late (see machine.yaml)
    after_cancel_window: bool


@dataclass(frozen=True, slots=True)
class Table:
    """One lifecycle compiled for one program and era."""

    program: str
    era: str
    initial: str
    states: tuple[str, ...]
    labels: MappingProxyType[str, str]
    terminal: frozenset[str]
    hidden: frozenset[str]
    moves: MappingProxyType[tuple[str, str], Move]
    # action -> the states it may start from, for the rejection message
    sources: MappingProxyType[str, tuple[str, ...]]

    def step(self, state: str, action: str, actor: str) -> str | Rejection:
        """The state after ``actor`` performs ``action`` on an order in ``state``."""
        move = self.moves.get((state, action))
        if move is None:
            return Rejection(state, action, actor, self._why_not(state, action))
        if actor not in move.actors:
            who = " or ".join(sorted(move.actors))
            return Rejection(state, action, actor, f"{action} is done by {who}, not {actor}")
        return move.dest

    def _why_not(self, state: str, action: str) -> str:
        here = self.labels.get(state, state)
        allowed = self.sources.get(action)
        if not allowed:
            return f"{action} is not available on {self.program} orders in the {self.era} era"
        need = " or ".join(self.labels.get(s, s) for s in allowed)
        return f"order is {here}; {action} needs {need}"


def compile_lifecycle(life: LifecycleDef, program: str, era: str, hidden: bool = True) -> Table:
    moves: dict[tuple[str, str], Move] = {}
    sources: dict[str, list[str]] = {}
    for t in life.transitions:
        if not t.applies(program, era):
            continue
        for src in t.source:
            moves[(src, t.action)] = Move(
                t.dest, frozenset(t.actors), t.happens, t.after_cancel_window
            )
            sources.setdefault(t.action, []).append(src)
    return Table(
        program=program,
        era=era,
        initial=life.initial_for(program),
        states=tuple(life.states),
        labels=MappingProxyType({n: s.label for n, s in life.states.items()}),
        terminal=frozenset(n for n, s in life.states.items() if s.terminal),
        hidden=frozenset(n for n, s in life.states.items() if hidden and era in s.hidden_in_eras),
        moves=MappingProxyType(moves),
        sources=MappingProxyType({a: tuple(s) for a, s in sources.items()}),
    )


def houzz_table(program: str, era: str, machine: MachineDef | None = None) -> Table:
    """Houzz's lifecycle for one program and era (from the shipped machine by default)."""
    if machine is None:
        return _shipped_houzz_table(program, era)
    # A MachineDef holds dicts, so it cannot be a cache key; other machines compile afresh.
    return compile_lifecycle(machine.houzz, program, era)


def connector_table(machine: MachineDef | None = None) -> Table:
    """CartRover's own order statuses (the same in every program and era)."""
    if machine is None:
        return _shipped_connector_table()
    return compile_lifecycle(machine.connector, machine.programs[0], machine.eras[0])


@cache
def _shipped_houzz_table(program: str, era: str) -> Table:
    return compile_lifecycle(default_machine().houzz, program, era)


@cache
def _shipped_connector_table() -> Table:
    m = default_machine()
    return compile_lifecycle(m.connector, m.programs[0], m.eras[0])
