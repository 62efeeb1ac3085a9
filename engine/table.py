"""The compiled lifecycle: immutable lookup tables and a pure ``step`` function.

This is the hot path for simulation and exploration (DESIGN.md): plain dicts and tuples,
one table per (program, era), no ``transitions`` objects per order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import NamedTuple

from houzzflow.engine.machine import Facts, LifecycleDef, MachineDef, default_machine, matches

CANCELLED = "Cancelled"  # never "past" a step: an order cancelled did not make progress
FAILED_TO_CHARGE = "FailedToCharge"  # where a declined charge leaves an order


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
    # state -> the states an order there can reach by progress alone (Houzz's and people's
    # own moves: no cancellation, lapse or failed charge), itself excluded
    forward: MappingProxyType[str, frozenset[str]]
    # (state, action) that Houzz answers as done without a change: the order is already
    # past the action (only where the open questions say Houzz does that)
    no_ops: frozenset[tuple[str, str]]

    def reached(self, target: str, current: str) -> bool:
        """True when an order now ``current`` has already reached ``target`` or gone past it."""
        return current == target or current in self.forward.get(target, ())

    def step(self, state: str, action: str, actor: str) -> str | Rejection:
        """The state after ``actor`` performs ``action`` on an order in ``state``."""
        move = self.moves.get((state, action))
        if move is None:
            if (state, action) in self.no_ops:
                return state
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


def compile_lifecycle(
    life: LifecycleDef, program: str, era: str, hidden: bool = True, facts: Facts = ()
) -> Table:
    moves: dict[tuple[str, str], Move] = {}
    sources: dict[str, list[str]] = {}
    for t in life.transitions:
        if not t.applies(program, era, facts):
            continue
        for src in t.source:
            moves[(src, t.action)] = Move(
                t.dest, frozenset(t.actors), t.happens, t.after_cancel_window
            )
            sources.setdefault(t.action, []).append(src)
    forward = _forward(life, moves)
    no_ops = {
        (past, t.action)
        for t in life.transitions
        if t.applies(program, era, facts)
        and t.again_as_no_op_when is not None
        and matches(t.again_as_no_op_when, facts)
        for past in (t.dest, *forward[t.dest])
        if (past, t.action) not in moves
    }
    return Table(
        program=program,
        era=era,
        initial=life.initial_for(program),
        states=tuple(life.states),
        labels=MappingProxyType({n: s.label for n, s in life.states.items()}),
        terminal=frozenset(n for n, s in life.states.items() if s.terminal),
        hidden=frozenset(n for n, s in life.states.items() if hidden and s.hidden(era, facts)),
        moves=MappingProxyType(moves),
        sources=MappingProxyType({a: tuple(s) for a, s in sources.items()}),
        forward=MappingProxyType(forward),
        no_ops=frozenset(no_ops),
    )


def _forward(life: LifecycleDef, moves: dict[tuple[str, str], Move]) -> dict[str, frozenset[str]]:
    """For each state, the states progress alone leads to (see ``Table.forward``)."""
    step: dict[str, set[str]] = {name: set() for name in life.states}
    for (src, _), move in moves.items():
        if move.happens in ("auto", "may") and move.dest != CANCELLED:
            step[src].add(move.dest)
    out: dict[str, frozenset[str]] = {}
    for start in life.states:
        seen: set[str] = set()
        todo = list(step[start])
        while todo:
            here = todo.pop()
            if here not in seen:
                seen.add(here)
                todo.extend(step[here])
        out[start] = frozenset(seen - {start})
    return out


def houzz_table(
    program: str, era: str, machine: MachineDef | None = None, facts: Facts = ()
) -> Table:
    """Houzz's lifecycle for one program and era (from the shipped machine by default), for
    the given answers to the register's open questions (the register's defaults otherwise)."""
    if machine is None:
        return _shipped_houzz_table(program, era, facts)
    # A MachineDef holds dicts, so it cannot be a cache key; other machines compile afresh.
    return compile_lifecycle(machine.houzz, program, era, facts=facts)


def connector_table(machine: MachineDef | None = None) -> Table:
    """CartRover's own order statuses (the same in every program and era)."""
    if machine is None:
        return _shipped_connector_table()
    return compile_lifecycle(machine.connector, machine.programs[0], machine.eras[0])


@cache
def _shipped_houzz_table(program: str, era: str, facts: Facts) -> Table:
    return compile_lifecycle(default_machine().houzz, program, era, facts=facts)


@cache
def _shipped_connector_table() -> Table:
    m = default_machine()
    return compile_lifecycle(m.connector, m.programs[0], m.eras[0])
