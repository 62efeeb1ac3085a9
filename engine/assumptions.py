"""The register of open questions (``assumptions.yaml``): the facts the sources leave open.

Loaded and checked like the machine: pydantic refuses unknown keys, then every name is
cross-checked (a default is one of its alternatives, is not ruled out and is one runs
simulate, every claim named exists, at least one alternative stands), each problem a located
diagnostic. ``default_register()`` is the shipped register; ``open_alternatives`` says which
alternatives of an assumption a proof must explore for a policy that pins some of them;
``answers`` reads a world's answers (the ``Facts`` a simulated world gives the fake Houzz and
CartRover) with the defaults filled in, a default too in place of an answer runs cannot
simulate, which ``unsimulated`` names so that a run can say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from houzzflow.engine.diagnostics import Diagnostic, Severity
from houzzflow.engine.machine import Facts
from houzzflow.engine.yamlsource import SourceDoc, load_shipped, load_yaml_file, validate_checked

About = Literal["houzz", "cartrover"]
Status = Literal["unconfirmed", "documented"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Claim(_Strict):
    """A setup a source calls safe: an alternative under which it loses orders is ruled out."""

    source: str
    says: str
    setup: dict[str, Any]  # the policy file's settings for this setup
    scenario: str  # the bundled scenario that runs it (scenarios/NAME.yaml)


class Alternative(_Strict):
    means: str
    ruled_out_by: tuple[str, ...] = ()  # claims this alternative contradicts
    why: str = ""  # how it contradicts them
    # False: a scenario may name it, but a run cannot simulate it and runs the assumption's
    # default in its place; the run's report says so (simulator.runs.gaps).
    simulated: bool = True
    not_simulated_because: str = ""


class Assumption(_Strict):
    about: About
    question: str
    alternatives: dict[str, Alternative]
    default: str  # what the simulator does unless a scenario says otherwise
    status: Status
    source: str
    reasoning: str  # why the default is the default
    explored: bool = True  # whether a proof depends on it at all
    not_explored_because: str = ""

    def standing(self) -> tuple[str, ...]:
        """The alternatives no documented claim rules out, default first."""
        names = [n for n, a in self.alternatives.items() if not a.ruled_out_by]
        return tuple(sorted(names, key=lambda n: n != self.default))


class Register(_Strict):
    claims: dict[str, Claim]
    assumptions: dict[str, Assumption]


def check_register(register: Register, doc: SourceDoc) -> list[Diagnostic]:
    """Every name cross-checked; one diagnostic per problem, located in the file."""
    found: list[Diagnostic] = []

    def problem(code: str, message: str, path: tuple[str, ...], fix: str = "") -> None:
        found.append(Diagnostic(code, Severity.ERROR, message, doc.locate(path), fix))

    for name, entry in register.assumptions.items():
        at = ("assumptions", name)
        if len(entry.alternatives) < 2:
            problem("ASSUME001", f"{name}: an open question needs two alternatives or more", at)
        if entry.default not in entry.alternatives:
            known = ", ".join(entry.alternatives)
            problem("ASSUME002", f"{name}: default {entry.default!r} is not one of {known}", at)
        elif entry.alternatives[entry.default].ruled_out_by:
            problem("ASSUME003", f"{name}: the default {entry.default!r} is ruled out", at)
        if not entry.standing():
            problem("ASSUME004", f"{name}: every alternative is ruled out", at)
        if not entry.explored and not entry.not_explored_because:
            problem("ASSUME006", f"{name}: say why the proof does not explore it", at)
        for alt_name, alt in entry.alternatives.items():
            alt_at = (*at, "alternatives", alt_name)
            for claim in alt.ruled_out_by:
                if claim not in register.claims:
                    known = ", ".join(register.claims)
                    problem("ASSUME005", f"{name}.{alt_name}: no claim {claim!r} ({known})", alt_at)
            if alt.ruled_out_by and not alt.why:
                problem("ASSUME006", f"{name}.{alt_name}: say why it is ruled out", alt_at)
            if not alt.simulated and not alt.not_simulated_because:
                problem("ASSUME006", f"{name}.{alt_name}: say why runs cannot simulate it", alt_at)
            if not alt.simulated and alt_name == entry.default:
                problem(
                    "ASSUME007",
                    f"{name}: the default {alt_name!r} is not simulated, yet a run takes the "
                    "default in place of an alternative it cannot simulate",
                    alt_at,
                    "make the default an alternative runs simulate",
                )
    return found


def load_register_file(path: str | Path) -> Register:
    """Load and check a register; raises InputError with every problem found."""
    return validate_checked(load_yaml_file(path), Register, check_register)


@cache
def default_register() -> Register:
    """The register shipped with houzzflow (``engine/assumptions.yaml``), loaded once."""
    return load_shipped("assumptions.yaml", Register, check_register)


def open_alternatives(
    pins: Mapping[str, str], register: Register | None = None
) -> dict[str, tuple[str, ...]]:
    """For each assumption a proof depends on, the alternatives it must explore: the one the
    policy pins, else every alternative no claim rules out."""
    register = register or default_register()
    return {
        name: (pins[name],) if name in pins else entry.standing()
        for name, entry in register.assumptions.items()
        if entry.explored
    }


def answers(facts: Facts, about: About | None = None) -> dict[str, str]:
    """The answer a simulated world gives each open question: the one in ``facts`` (sorted
    (question, alternative) pairs), the register's default for a question they leave out or
    answer with an alternative runs cannot simulate (``simulated: false``: the default is
    what a run does in its place, and ``simulator.runs.gaps`` reports it); only questions
    ``about`` Houzz or CartRover when given. Raises ``ValueError`` for a question or an
    alternative the register does not know."""
    register = default_register().assumptions
    given = dict(facts)
    for name, alternative in given.items():
        entry = register.get(name)
        if entry is None:
            raise ValueError(f"no open question {name!r}; known: {', '.join(register)}")
        if alternative not in entry.alternatives:
            known = ", ".join(entry.alternatives)
            raise ValueError(f"{name}: {alternative!r} is not one of {known}")
        if not entry.alternatives[alternative].simulated:
            given[name] = entry.default
    return {
        name: given.get(name, entry.default)
        for name, entry in register.items()
        if about is None or entry.about == about
    }


def unsimulated(facts: Facts) -> list[tuple[str, str, str, str]]:
    """The answers in ``facts`` that runs cannot simulate, as (question, answer, the default
    a run takes in its place, why): what a run or a served fake must say it did instead."""
    register = default_register().assumptions
    found = []
    for name, answer in facts:
        entry = register.get(name)
        alternative = entry.alternatives.get(answer) if entry is not None else None
        if entry is not None and alternative is not None and not alternative.simulated:
            found.append((name, answer, entry.default, alternative.not_simulated_because))
    return found


def contradictions(
    pins: Mapping[str, str], register: Register | None = None
) -> list[tuple[str, str, tuple[str, ...]]]:
    """The policy's pins on an alternative a documented claim rules out, as (assumption,
    alternative, the claims it contradicts): no proof can stand on them."""
    register = register or default_register()
    return [
        (name, value, alt.ruled_out_by)
        for name, value in sorted(pins.items())
        if (alt := register.assumptions[name].alternatives.get(value)) is not None
        and alt.ruled_out_by
    ]


def fact_fields(about: About, *, pinned: bool) -> dict[str, Any]:
    """pydantic fields, one per open question about Houzz or CartRover: a policy's pins
    (``pinned``: each defaults to None, not pinned) or a simulated world's answers (each
    defaults to the register's default). Policies and scenarios build their sections from
    these, so a question is declared once, in the register."""
    from pydantic import Field

    return {
        name: (
            Literal[tuple(entry.alternatives)] | None
            if pinned
            else Literal[tuple(entry.alternatives)],
            Field(default=None if pinned else entry.default, description=entry.question),
        )
        for name, entry in default_register().assumptions.items()
        if entry.about == about
    }
