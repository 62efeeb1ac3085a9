"""A sweep's grid: ``--vary key=v1,v2,...`` options, expanded to every combination.

Each grid point is the scenario with ``--set`` overrides, then that point's values; every
point is loaded and validated before anything runs, so a bad key or value anywhere in the
grid stops the sweep at once with every mistake located (``--vary key=value: ...``), as
``--set`` mistakes are.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from houzzflow.engine.diagnostics import Diagnostic, InputError, Location, Severity
from houzzflow.simulator.runs.scenario import Scenario, load_scenario, split_override

# The limits every number a user gives is held to (the CLI states them in --help).
SEEDS = (1, 100_000)
VARIES = 8  # --vary options
VALUES = 100  # values of one --vary
POINTS = 1_000  # grid points (the product of the --vary value counts)
SAMPLES = 1_000_000  # grid points x seeds
SWEEP_SEED = (0, 2**63 - 1)
PRECISION = (0.001, 1000.0)  # width of a rate's interval, per 1,000 orders

Source = str | os.PathLike[str] | Mapping[str, Any]
Vary = tuple[str, tuple[str, ...]]  # a dotted key and its values, as texts read as YAML
Values = tuple[tuple[str, str], ...]  # one grid point: (key, value) per --vary


def _error(code: str, message: str, where: str, fix: str = "") -> InputError:
    return InputError([Diagnostic(code, Severity.ERROR, message, Location(where), fix)])


def split_values(text: str) -> list[str]:
    """``a,[1h, 2h],{x: 1}`` as ``["a", "[1h, 2h]", "{x: 1}"]``: commas inside brackets,
    braces or quotes do not split."""
    values: list[str] = []
    depth = 0
    quote = ""
    start = 0
    for k, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth = max(0, depth - 1)
        elif char == "," and depth == 0:
            values.append(text[start:k].strip())
            start = k + 1
    values.append(text[start:].strip())
    return values


def parse_vary(text: str) -> Vary:
    """One ``--vary dotted.key=v1,v2,...`` option; InputError when it is not one."""
    try:
        key, raw = split_override(text)
    except InputError:
        raise _error(
            "VARY001",
            f"'{text}' is not dotted.key=v1,v2,...",
            "--vary",
            "write --vary world.staff.process.probability=0.1,0.3,0.5, for example",
        ) from None
    values = split_values(raw)
    where = f"--vary {key}={raw}"
    if any(not v for v in values):
        raise _error("VARY001", "an empty value: values are separated by single commas", where)
    if len(values) > VALUES:
        raise _error("VARY002", f"{len(values)} values; at most {VALUES} per --vary", where)
    if len(set(values)) != len(values):
        raise _error("VARY001", "a value is given twice", where)
    if key == "seed":
        raise _error(
            "VARY001",
            "a sweep draws each run's seed itself",
            where,
            "use --seeds N (how many runs) and --seed S (the sweep's seed)",
        )
    return key, tuple(values)


def as_varies(vary: Sequence[str] | Mapping[str, Sequence[Any]]) -> list[Vary]:
    """``--vary`` texts, or a mapping of dotted keys to their values (the Python API)."""
    if isinstance(vary, Mapping):
        varies = []
        for key, values in vary.items():
            if isinstance(values, str) or not isinstance(values, Sequence):
                raise ValueError(f"vary[{key!r}]: expected a list of values, not {values!r}")
            texts = ",".join(v if isinstance(v, str) else json.dumps(v) for v in values)
            varies.append(parse_vary(f"{key}={texts}"))
    else:
        varies = [parse_vary(text) for text in vary]
    keys = [key for key, _ in varies]
    for key in keys:
        if keys.count(key) > 1:
            raise _error("VARY001", f"{key} is varied twice: give its values once", "--vary")
    if len(varies) > VARIES:
        raise _error("VARY002", f"{len(varies)} --vary options; at most {VARIES}", "--vary")
    points = 1
    for _, values in varies:
        points *= len(values)
    if points > POINTS:
        raise _error(
            "VARY002",
            f"the grid has {points:,} points; at most {POINTS:,}",
            "--vary",
            "vary fewer keys or fewer values, or run several sweeps",
        )
    return varies


@dataclass(frozen=True, slots=True)
class GridPoint:
    """One combination of the varied values, and the scenario it makes."""

    index: int
    values: Values
    scenario: Scenario

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.values) or "as written"


def expand(varies: Sequence[Vary]) -> list[Values]:
    """Every combination, the first --vary changing slowest (one point when none)."""
    keys = [key for key, _ in varies]
    return [
        tuple(zip(keys, combo, strict=True)) for combo in itertools.product(*(v for _, v in varies))
    ]


def load_grid(
    source: Source, overrides: Sequence[str] | Mapping[str, Any], varies: Sequence[Vary]
) -> list[GridPoint]:
    """Every grid point loaded and validated; InputError with every mistake, located."""
    if not isinstance(source, Mapping):
        source = os.fspath(source)
    # --set alone first: its mistakes are told once, not once per grid point.
    base = list(load_scenario(source, overrides).overrides)
    set_keys = {split_override(text)[0] for text in base}
    for key, _ in varies:
        if key in set_keys:
            raise _error("VARY001", f"{key} is both set (--set) and varied (--vary)", "--vary")
    points: list[GridPoint] = []
    problems: list[Diagnostic] = []
    for index, values in enumerate(expand(varies)):
        texts = [f"{key}={value}" for key, value in values]
        try:
            scenario = load_scenario(source, [*base, *texts])
        except InputError as exc:
            problems += [_as_vary(d, values) for d in exc.diagnostics]
            continue
        points.append(GridPoint(index, values, scenario))
    if problems:
        raise InputError(_unique(problems))
    return points


def _as_vary(diagnostic: Diagnostic, values: Values) -> Diagnostic:
    """A mistake a grid point made, located at its --vary value when one made it, else
    saying which grid point it is in."""
    d = diagnostic
    where, message = d.location, d.message
    for key, value in values:
        for dotted in (key, key.removeprefix("policy.")):
            if d.location.file.startswith(f"--set {dotted}=") and d.location.file.endswith(
                f"={value}"
            ):
                where = Location(f"--vary {key}={value}", path=d.location.path)
    if values and where is d.location:
        message += " (at the grid point " + ", ".join(f"{k}={v}" for k, v in values) + ")"
    return Diagnostic(d.code, d.severity, message, where, d.fix, d.patch)


def _unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[str] = set()
    out = []
    for d in diagnostics:
        if d.render() not in seen:
            seen.add(d.render())
            out.append(d)
    return out
