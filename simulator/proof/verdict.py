"""The proof tier of ``houzzflow validate``: a verdict backed by exhaustive exploration.

``prove`` explores the policy within bounds and, for a counterexample, tells the violating
order's story in plain words and finds the nearest settings that are *proven* for the same
assumptions (the rules propose, the explorer confirms).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from houzzflow.engine.policy import Policy, parse_duration
from houzzflow.engine.rules import describe_fix, fix_patch, nearest_safe
from houzzflow.simulator.proof.explorer import Bounds, Exploration, Line, explore, replay
from houzzflow.simulator.runs.invariants import INVARIANTS


@dataclass(slots=True)
class Proof:
    exploration: Exploration
    # The counterexample to show: the shortest one with the fewest orders.
    witness: Exploration | None = None
    timeline: list[Line] = field(default_factory=list)
    nearest: dict[str, Any] | None = None  # proven settings (dotted keys) for the same world
    nearest_text: str = ""

    @property
    def verdict(self) -> str:
        """proven | counterexample | inconclusive: the exploration's."""
        return self.exploration.verdict

    @property
    def invariant(self) -> str:
        v = self.exploration.violation
        return v.invariant if v else ""

    def story(self) -> list[str]:
        """The violating order's timeline (and the polls), numbered, in plain words."""
        v = self.witness.violation if self.witness else None
        if v is None:
            return []
        culprit = self.timeline[-1].order if self.timeline else 0
        out = []
        for line in self.timeline:
            if line.kind == "violation":
                continue
            if line.order in (0, culprit):
                who = "" if line.order == 0 else f"order #{line.order}: "
                out.append(f"{who}{line.text}")
        name = INVARIANTS[v.invariant]
        out.append(f"=> order #{culprit} breaks '{name}': {v.message}")
        return out

    def to_json(self) -> dict[str, Any]:
        e = self.exploration
        out: dict[str, Any] = {
            "verdict": self.verdict,
            "bounds": {
                "orders": e.bounds.orders,
                "faults": e.bounds.faults,
                "lapse": e.bounds.lapse,
                "max_states": e.bounds.max_states,
            },
            "states": e.states,
            "transitions": e.transitions,
            "depth": e.depth,
        }
        w = self.witness
        if w is not None and w.violation is not None:
            out["counterexample"] = {
                "invariant": w.violation.invariant,
                "message": w.violation.message,
                "orders": w.bounds.orders,
                "timeline": self.story(),
                "events": len(w.path),
            }
        if self.nearest is not None:
            out["nearest_proven"] = {"patch": self.nearest, "fix": self.nearest_text}
        if e.cut_by:
            out["cut_by"] = e.cut_by
        return out


def prove(policy: Policy, bounds: Bounds | None = None) -> Proof:
    bounds = bounds or Bounds()
    result = explore(policy, bounds)
    proof = Proof(result)
    if result.verdict == "counterexample":
        witness = result
        for orders in range(1, bounds.orders):
            fewer = explore(policy, replace(bounds, orders=orders))
            if fewer.verdict == "counterexample":
                witness = fewer
                break
        proof.witness = witness
        proof.timeline = replay(policy, witness)
        nearest = nearest_safe(policy)
        if nearest is not None:
            changes, habits = nearest
            trial = policy.with_settings(**_typed(changes), **habits)
            if explore(trial, bounds).verdict == "proven":
                proof.nearest = fix_patch(changes, habits)
                proof.nearest_text = describe_fix(changes, habits)
    return proof


def _typed(changes: dict[str, Any]) -> dict[str, Any]:
    # describe/fix use the policy-file spelling ("15m"); the Policy holds seconds.
    return {k: parse_duration(v) if k == "poll_interval" else v for k, v in changes.items()}
