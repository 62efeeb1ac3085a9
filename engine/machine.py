"""The order lifecycle definition: pydantic models for ``machine.yaml`` and its checks.

The definition is refused when it is loaded if a name does not cross-check, a state is
unreachable or a trap, a state has no path to a terminal state, or one trigger can fire two
transitions from one state in the same program and era (python-statemachine's lesson:
invalid definitions never reach run time).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from houzzflow.engine.diagnostics import Diagnostic, Location, Severity
from houzzflow.engine.yamlsource import SourceDoc, load_shipped, load_yaml_file, validate_checked

Program = Literal["seller", "vendor"]
Era = Literal["legacy", "2021"]
PROGRAMS: tuple[Program, ...] = ("seller", "vendor")
ERAS: tuple[Era, ...] = ("legacy", "2021")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# The answers to the register's open questions a lifecycle depends on, as sorted
# (assumption, alternative) pairs (engine/assumptions.yaml); a name left out takes the
# register's default.
Facts = tuple[tuple[str, str], ...]


def matches(when: dict[str, str], facts: Facts) -> bool:
    """Whether the facts answer every question ``when`` names as it says (a question the
    register does not know is never answered: check_definition reports it as MACH008)."""
    if not when:
        return True
    given = dict(facts)
    from houzzflow.engine.assumptions import default_register  # the register loads lazily

    defaults = default_register().assumptions
    return all(k in defaults and given.get(k, defaults[k].default) == v for k, v in when.items())


class StateDef(_Strict):
    label: str
    description: str = ""
    api: str = ""
    accepts: tuple[str, ...] = ()
    terminal: bool = False
    hidden_in_eras: tuple[Era, ...] = ()
    # Hidden in those eras only when these open questions have these answers.
    hidden_when: dict[str, str] = {}

    def hidden(self, era: str, facts: Facts = ()) -> bool:
        return era in self.hidden_in_eras and matches(self.hidden_when, facts)


class TransitionDef(_Strict):
    action: str
    source: tuple[str, ...]
    dest: str
    actors: tuple[str, ...]
    programs: tuple[Program, ...] = PROGRAMS
    eras: tuple[Era, ...] = ERAS
    after_cancel_window: bool = False
    happens: Literal["auto", "may", "fault", "late"] = "may"
    # The transition exists only when these open questions have these answers.
    when: dict[str, str] = {}
    # When these open questions have these answers, the action on an order already past its
    # dest is answered as done, without a change (instead of refused).
    again_as_no_op_when: dict[str, str] | None = None

    @field_validator("source", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    def applies(self, program: str, era: str, facts: Facts = ()) -> bool:
        return program in self.programs and era in self.eras and matches(self.when, facts)


class LifecycleDef(_Strict):
    """One machine: Houzz's order statuses, or CartRover's."""

    initial: str | dict[Program, str]
    states: dict[str, StateDef]
    transitions: tuple[TransitionDef, ...]

    def initial_for(self, program: str) -> str:
        if isinstance(self.initial, str):
            return self.initial
        return self.initial[program]  # type: ignore[index]

    def initial_states(self) -> set[str]:
        return {self.initial} if isinstance(self.initial, str) else set(self.initial.values())


class Timing(_Strict):
    cancel_window: int = Field(gt=0, description="seconds the customer may cancel for")
    cancel_window_actors: tuple[str, ...]
    cancel_action: str
    authorization: int = Field(gt=0, description="seconds a charge authorizes the card for")


class MachineDef(_Strict):
    actors: dict[str, str]
    timing: Timing
    programs: tuple[Program, ...]
    eras: tuple[Era, ...]
    houzz: LifecycleDef
    connector: LifecycleDef = Field(description="CartRover's own order statuses")


def _conditions(machine: MachineDef) -> Iterator[tuple[tuple[str | int, ...], dict[str, str]]]:
    """Every open-question condition in the machine, with where it is written."""
    for part in ("houzz", "connector"):
        life: LifecycleDef = getattr(machine, part)
        for name, state in life.states.items():
            yield (part, "states", name, "hidden_when"), state.hidden_when
        for i, t in enumerate(life.transitions):
            yield (part, "transitions", i, "when"), t.when
            if t.again_as_no_op_when is not None:
                yield (part, "transitions", i, "again_as_no_op_when"), t.again_as_no_op_when


def _variants(machine: MachineDef) -> Iterator[tuple[str, str, Facts]]:
    """Every program, era and combination of answers to the questions the machine names."""
    from houzzflow.engine.assumptions import default_register

    register = default_register().assumptions
    named = sorted({k for _, when in _conditions(machine) for k in when if k in register})
    choices = [[(k, alt) for alt in register[k].alternatives] for k in named]
    for program in machine.programs:
        for era in machine.eras:
            for facts in itertools.product(*choices):
                yield program, era, tuple(facts)


def check_definition(machine: MachineDef, doc: SourceDoc | None = None) -> list[Diagnostic]:
    """Every problem in a loaded definition, as diagnostics (empty when it is sound)."""
    found: list[Diagnostic] = []

    def report(code: str, message: str, path: tuple[str | int, ...], fix: str = "") -> None:
        where = doc.locate(path) if doc else Location(path=path)
        found.append(Diagnostic(code, Severity.ERROR, message, where, fix))

    for part in ("houzz", "connector"):
        life: LifecycleDef = getattr(machine, part)
        names = set(life.states)
        before = len(found)
        for init in sorted(life.initial_states() - names):
            report("MACH001", f"{part}: initial state {init!r} is not declared", (part, "initial"))
        for i, t in enumerate(life.transitions):
            item: tuple[str | int, ...] = (part, "transitions", i)
            refs = [(ref, _source_path(doc, item, j)) for j, ref in enumerate(t.source)]
            for ref, at in [*refs, (t.dest, (*item, "dest"))]:
                if ref not in names:
                    report(
                        "MACH001",
                        f"{part}: transition {t.action} names undeclared state {ref!r}",
                        at,
                        f"declare it under {part}.states or fix the spelling",
                    )
            for k, actor in enumerate(t.actors):
                if actor not in machine.actors:
                    report(
                        "MACH002",
                        f"{part}: transition {t.action} names undeclared actor {actor!r}",
                        (*item, "actors", k),
                        "declare it under actors or fix the spelling",
                    )
        # The graph checks need every name resolved; the other lifecycle is still checked.
        if len(found) == before:
            found.extend(_graph_checks(machine, part, life, doc))
    _condition_checks(machine, report)
    return found


def _condition_checks(machine: MachineDef, report: Callable[..., None]) -> None:
    """Each condition names an open question of the register and one of its alternatives."""
    from houzzflow.engine.assumptions import default_register

    register = default_register().assumptions
    for path, when in _conditions(machine):
        for name, value in when.items():
            if name not in register:
                known = ", ".join(register)
                report(
                    "MACH008", f"{name!r} is not an open question of the register ({known})", path
                )
            elif value not in register[name].alternatives:
                known = ", ".join(register[name].alternatives)
                report("MACH008", f"{name}: {value!r} is not one of {known}", path)


def _source_path(
    doc: SourceDoc | None, item: tuple[str | int, ...], j: int
) -> tuple[str | int, ...]:
    # `source: New` is one scalar, `source: [New, Charged]` a list: point at the name itself.
    listed = (*item, "source", j)
    if doc is None or listed in doc.positions:
        return listed
    return (*item, "source")


def _graph_checks(
    machine: MachineDef, part: str, life: LifecycleDef, doc: SourceDoc | None
) -> list[Diagnostic]:
    found: list[Diagnostic] = []

    def where(path: tuple[str | int, ...]) -> Location:
        # A state is pointed at by its name (the key), not by the first line of its body.
        return doc.locate(path, key=path[1] == "states") if doc else Location(path=path)

    # Two transitions on one trigger from one state that can both fire in the same variant.
    seen: dict[tuple[str, str, str, str, Facts], int] = {}
    reported: set[tuple[str, str, str, str, int | None, int]] = set()
    for i, t in enumerate(life.transitions):
        for program, era, facts in _variants(machine):
            if not t.applies(program, era, facts):
                continue
            for src in t.source:
                key = (src, t.action, program, era, facts)
                told = (src, t.action, program, era, seen.get(key), i)
                if key in seen and told not in reported:
                    reported.add(told)  # once, whichever answers to open questions clash
                    found.append(
                        Diagnostic(
                            "MACH003",
                            Severity.ERROR,
                            f"{part}: {t.action} from {src} is declared twice for "
                            f"{program}/{era} (transitions {seen[key]} and {i})",
                            where((part, "transitions", i)),
                            "restrict one of them with programs: or eras:",
                        )
                    )
                seen[key] = i

    edges: dict[str, set[str]] = {name: set() for name in life.states}
    for t in life.transitions:
        for src in t.source:
            edges[src].add(t.dest)
    reachable = _closure(life.initial_states(), edges)
    for name in life.states:
        if name not in reachable:
            found.append(
                Diagnostic(
                    "MACH004",
                    Severity.ERROR,
                    f"{part}: state {name} is unreachable from the initial state",
                    where((part, "states", name)),
                )
            )
    reverse: dict[str, set[str]] = {name: set() for name in life.states}
    for src, dests in edges.items():
        for dest in dests:
            reverse[dest].add(src)
    terminals = {name for name, s in life.states.items() if s.terminal}
    reaches_terminal = _closure(terminals, reverse)
    for name, state in life.states.items():
        if state.terminal and edges[name]:
            found.append(
                Diagnostic(
                    "MACH005",
                    Severity.ERROR,
                    f"{part}: terminal state {name} has outgoing transitions",
                    where((part, "states", name)),
                )
            )
        elif not state.terminal and not edges[name]:
            found.append(
                Diagnostic(
                    "MACH006",
                    Severity.ERROR,
                    f"{part}: state {name} is a trap: nothing leaves it and it is not terminal",
                    where((part, "states", name)),
                    "add a transition out of it or mark it terminal: true",
                )
            )
        elif name not in reaches_terminal:
            found.append(
                Diagnostic(
                    "MACH007",
                    Severity.ERROR,
                    f"{part}: no path from {name} to a terminal state",
                    where((part, "states", name)),
                )
            )
    return found


def _closure(start: set[str], edges: dict[str, set[str]]) -> set[str]:
    seen = set(start)
    todo = list(start)
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def load_machine_file(path: str | Path) -> MachineDef:
    """Load and check a machine definition; raises InputError with every problem found."""
    return validate_checked(load_yaml_file(path), MachineDef, check_definition)


@cache
def default_machine() -> MachineDef:
    """The lifecycle shipped with houzzflow (``engine/machine.yaml``), loaded once."""
    return load_shipped("machine.yaml", MachineDef, check_definition)
