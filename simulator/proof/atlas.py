"""The settings atlas: the settings matrix widened for the explorer page.

``houzzflow matrix`` proves every CartRover setting against every world. The explorer page
(``houzzflow matrix --format html``) lets a person turn every knob, so the atlas widens both
axes: the settings gain Order Cancel Download and the poll interval, and each cell is proved
once per *distinct world* the open questions leave (``proof.model.worlds``: the answers that
make CartRover and Houzz behave alike are one world). A page then knows the verdict for any
answers a person pins: a counterexample when some world consistent with the pins breaks an
invariant, proven when every one is proven -- exactly what ``houzzflow validate`` explores
for a policy that pins those answers.

Everything is plain data (``Atlas.to_json``), deduplicated into tables (story lines,
findings), so the page holding some 14,000 cells stays small.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from houzzflow.engine.assumptions import default_register, open_alternatives
from houzzflow.engine.diagnostics import Location
from houzzflow.engine.policy import (
    ORDER_STATUSES,
    PROGRAM_NAMES,
    STATUS_NAMES,
    Policy,
    format_duration,
    parse_duration,
)
from houzzflow.engine.rules import diagnose
from houzzflow.engine.timing import lapse_before_load_possible, lapse_possible
from houzzflow.simulator.proof.explorer import Bounds, explore, replay
from houzzflow.simulator.proof.matrix import HABITS, WORLDS, World, per_world, policy_for
from houzzflow.simulator.proof.model import EXPLORED, worlds

# Poll intervals offered: CartRover's default, a slower one, and one that outlasts a card's
# 7-day authorization (the proof's verdict changes only where a lapse becomes possible).
POLLS = ("15m", "30m", "7d")
ON_OFF = (True, False)

# (key, label, group, values): the page's controls, in the order a cell's key lists them.
SETTING_CONTROLS: tuple[tuple[str, str, tuple[Any, ...]], ...] = (
    ("connection_type", "Connection Type", ("seller", "vendor")),
    ("order_status", "Order Status", ORDER_STATUSES),
    ("mark_processed", "Mark Orders as Processed", ON_OFF),
    ("mark_charged", "Mark Orders as Charged", ON_OFF),
    ("cancel_download", "Order Cancel Download", ON_OFF),
    ("poll_interval", "Poll interval", POLLS),
)
WORLD_CONTROLS: tuple[tuple[str, str, tuple[Any, ...]], ...] = (
    ("account", "Houzz account program", ("seller", "vendor")),
    ("era", "Era", ("legacy", "2021")),
    ("staff_process", "Staff process orders by hand", HABITS),
    ("staff_charge", "Staff charge orders by hand", HABITS),
    ("staff_cancel", "Staff cancel orders by hand", ("never", "sometimes")),
)
ExtSetting = tuple[str, str, bool, bool, bool, str]
SETTINGS = tuple(itertools.product(*(values for _, _, values in SETTING_CONTROLS)))


@functools.cache
def answers() -> tuple[tuple[tuple[str, str], ...], ...]:
    """Every full set of answers to the questions the proof explores, in a fixed order: a
    world's covers are a bit mask over this list."""
    explored = open_alternatives({})
    names = sorted(q for q in EXPLORED if q in explored)
    return tuple(
        tuple(zip(names, combo, strict=True))
        for combo in itertools.product(*(explored[q] for q in names))
    )


def atlas_policy(setting: ExtSetting, world: World, pins: Iterable[tuple[str, str]] = ()) -> Policy:
    """The policy of one cell, with ``pins`` pinned (as a policy file's ``assume`` would)."""
    *core, cancel_download, poll = setting
    base = policy_for(tuple(core), world)  # type: ignore[arg-type]
    return replace(
        base,
        cancel_download=cancel_download,
        poll_interval=parse_duration(poll),
        pins=tuple(sorted(pins)),
    )


@dataclass(frozen=True, slots=True)
class Part:
    """One distinct world of a cell: the answers it covers, its verdict, and, for a
    counterexample, the shortest story (``(kind, order, text)`` lines) and what it breaks."""

    covers: int  # bit mask over ``answers()``
    verdict: str
    invariant: str
    story: tuple[tuple[str, int, str], ...]
    findings: tuple[tuple[str, str, str, str], ...]  # (code, severity, message, fix)


@dataclass(frozen=True, slots=True)
class AtlasCell:
    setting: ExtSetting
    world: World
    parts: tuple[Part, ...]
    findings: tuple[tuple[str, str, str, str], ...]  # the rules on the policy with no pins

    def verdict(self, pins: dict[str, str] | None = None) -> str:
        """The verdict for a policy pinning ``pins`` (what ``houzzflow validate`` says)."""
        mask = consistent(pins or {})
        mine = [p.verdict for p in self.parts if p.covers & mask]
        for worst in ("counterexample", "inconclusive"):
            if worst in mine:
                return worst
        return "proven"


def consistent(pins: dict[str, str]) -> int:
    """The bit mask of the full answers that agree with ``pins``."""
    mask = 0
    for index, facts in enumerate(answers()):
        if all(dict(facts).get(q, a) == a for q, a in pins.items()):
            mask |= 1 << index
    return mask


def _findings(policy: Policy) -> tuple[tuple[str, str, str, str], ...]:
    found = diagnose(policy, lambda _setting: Location())
    return tuple((d.code, str(d.severity), d.message, d.fix) for d in found)


def _lapse_key(policy: Policy, bounds: Bounds) -> tuple[bool, bool]:
    return (lapse_possible(policy, faults=bounds.faults), lapse_before_load_possible(policy))


def world_cells(world: World, bounds: Bounds) -> list[AtlasCell]:
    """Every widened setting against one world (the unit of parallel work)."""
    index = {facts: i for i, facts in enumerate(answers())}
    cells = []
    # The poll interval reaches the proof only through whether a lapse is possible: a poll
    # that keeps those the same as another's proves the same (checked by a test).
    proved: dict[tuple[Any, ...], tuple[Part, ...]] = {}
    for setting in SETTINGS:
        policy = atlas_policy(setting, world)
        key = (setting[:5], _lapse_key(policy, bounds))
        parts = proved.get(key)
        if parts is None:
            parts = tuple(_part(policy, w.covers, bounds, index) for w in worlds(policy, bounds))
            proved[key] = parts
        # The rules may say more of a slow poll than the proof does: theirs are per setting.
        parts = tuple(
            replace(p, findings=_findings(replace(policy, pins=_first(p.covers)))) for p in parts
        )
        cells.append(AtlasCell(setting, world, parts, _findings(policy)))
    return cells


def _part(
    policy: Policy,
    covers: list[tuple[tuple[str, str], ...]],
    bounds: Bounds,
    index: dict[tuple[tuple[str, str], ...], int],
) -> Part:
    pinned = replace(policy, pins=covers[0])
    result = explore(pinned, bounds)
    story: tuple[tuple[str, int, str], ...] = ()
    if result.verdict == "counterexample":
        # The shortest counterexample with the fewest orders, as ``houzzflow validate``
        # tells it.
        for orders in range(1, bounds.orders):
            fewer = explore(pinned, replace(bounds, orders=orders))
            if fewer.verdict == "counterexample":
                result = fewer
                break
        story = tuple((line.kind, line.order, line.text) for line in replay(pinned, result))
    mask = 0
    for facts in covers:
        mask |= 1 << index[facts]
    invariant = result.violation.invariant if result.violation else ""
    return Part(mask, result.verdict, invariant, story, ())


def _first(covers: int) -> tuple[tuple[str, str], ...]:
    """The first full set of answers a bit mask covers."""
    return answers()[(covers & -covers).bit_length() - 1]


def _column(args: tuple[World, Bounds]) -> list[AtlasCell]:
    return world_cells(*args)


@dataclass
class Atlas:
    """Every cell of the widened matrix, in (world, setting) order."""

    cells: list[AtlasCell]
    bounds: Bounds
    worlds: tuple[World, ...] = field(default=WORLDS)

    def cell(self, setting: ExtSetting, world: World) -> AtlasCell:
        for c in self.cells:
            if c.setting == setting and c.world == world:
                return c
        raise KeyError((setting, world))

    def to_json(self) -> dict[str, Any]:
        """The page's data: the controls, tables (texts, stories, findings, and sets of
        them), and ``cells``: per world of ``worlds``, per setting in ``SETTINGS`` order, a
        pair ``[findings set, parts set]`` (a part: ``[covers, verdict letter, invariant,
        story, findings set]``)."""
        tables: dict[str, dict[Any, int]] = {
            n: {} for n in ("texts", "stories", "findings", "findsets", "partsets")
        }

        def intern(table: str, value: Any) -> int:
            return tables[table].setdefault(value, len(tables[table]))

        def story(lines: tuple[tuple[str, int, str], ...]) -> int:
            if not lines:
                return -1
            return intern("stories", tuple((k, o, intern("texts", t)) for k, o, t in lines))

        def findset(found: tuple[tuple[str, str, str, str], ...]) -> int:
            return intern("findsets", tuple(intern("findings", f) for f in found))

        by_world: dict[World, list[list[int]]] = {w: [] for w in self.worlds}
        for c in self.cells:
            parts = tuple(
                (p.covers, p.verdict[0], p.invariant, story(p.story), findset(p.findings))
                for p in c.parts
            )
            by_world[c.world].append([findset(c.findings), intern("partsets", parts)])
        register = default_register().assumptions
        facts = answers()
        alternatives = open_alternatives({})
        questions = [
            {
                "key": name,
                "label": register[name].question,
                "about": register[name].about,
                "values": list(alternatives[name]),
                "labels": [register[name].alternatives[a].means for a in alternatives[name]],
            }
            for name, _ in facts[0]
        ]
        return {
            "bounds": {"orders": self.bounds.orders, "faults": self.bounds.faults},
            "settings": [_control(k, label, vs) for k, label, vs in SETTING_CONTROLS],
            "world": [_control(k, label, vs) for k, label, vs in WORLD_CONTROLS],
            "assumptions": questions,
            "answers": [dict(f) for f in facts],
            "worlds": [_key(w, WORLD_CONTROLS) for w in self.worlds],
            **{name: [list(v) for v in table] for name, table in tables.items()},
            "texts": list(tables["texts"]),
            "cells": [by_world[w] for w in self.worlds],
        }


def _key(values: tuple[Any, ...], controls: tuple[tuple[str, str, tuple[Any, ...]], ...]) -> str:
    return ".".join(str(c[2].index(v)) for v, c in zip(values, controls, strict=True))


def _control(key: str, label: str, values: tuple[Any, ...]) -> dict[str, Any]:
    return {
        "key": key,
        "label": label,
        "values": [_spelt(v) for v in values],
        "labels": [_value_label(key, v) for v in values],
    }


def _spelt(value: Any) -> str:
    """A value as a policy file and a deep link spell it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _value_label(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if key in ("connection_type", "account"):
        return PROGRAM_NAMES[value]
    if key == "order_status":
        return STATUS_NAMES[value]
    if key == "poll_interval":
        return format_duration(parse_duration(value))
    return str(value)


def run_atlas(
    bounds: Bounds | None = None,
    *,
    worlds: Iterable[World] = WORLDS,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    scheduler: str | None = None,
) -> Atlas:
    """Every widened cell, world by world in parallel (as ``matrix.run_matrix``)."""
    bounds = bounds or Bounds()
    chosen = tuple(worlds)
    cells = per_world(_column, bounds, chosen, jobs, progress, scheduler)
    return Atlas(cells, bounds, chosen)
