"""The proof tier of ``houzzflow validate``: a verdict backed by exhaustive exploration.

``prove`` explores the policy within bounds, in every world the open questions leave possible
(``houzzflow.engine.assumptions``: every alternative no documented claim rules out, unless the
policy pins one), and says what the verdict rests on. For a counterexample it tells the
violating order's story in plain words, says which kind of loss it is (silent, or visible in
CartRover), which answers to the open questions it needs, and finds the nearest settings that
are *proven* for every answer explored (the rules propose, the explorer confirms), or says
that none is and which fact to confirm.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from houzzflow.engine.assumptions import contradictions, default_register, open_alternatives
from houzzflow.engine.machine import Facts
from houzzflow.engine.policy import Policy, parse_duration
from houzzflow.engine.register_report import ABOUT, proof_rows
from houzzflow.engine.rules import describe_fix, fix_patch, nearest_safe, why_changes
from houzzflow.simulator.kernel.timeline import step_json
from houzzflow.simulator.proof.explorer import Bounds, Exploration, Line, explore, replay
from houzzflow.simulator.proof.model import EXPLORED, World
from houzzflow.simulator.proof.search import Progress
from houzzflow.simulator.runs.invariants import INVARIANTS

KINDS = {
    "silent": "silent: no alert, nothing in CartRover's Error status; nobody would know",
    "visible": "visible: CartRover holds the order in Error or shows an alert",
}


@dataclass(slots=True)
class Proof:
    exploration: Exploration
    # The counterexample to show: the shortest one with the fewest orders.
    witness: Exploration | None = None
    timeline: list[Line] = field(default_factory=list)
    nearest: dict[str, Any] | None = None  # proven settings (dotted keys) for the same world
    nearest_text: str = ""
    # Each change of ``nearest``: the error codes that fire without it (what it answers).
    nearest_why: dict[str, list[str]] = field(default_factory=dict)
    # What the verdict rests on: one row per open question (``register_report.proof_rows``).
    assumptions: list[dict[str, Any]] = field(default_factory=list)
    # The answers the witness needs: the questions under which some other answer explored
    # does not reproduce a violation.
    needs: dict[str, str] = field(default_factory=dict)
    # When no setting nearby is proven for every answer: the settings tried, the answers they
    # fail under, and the questions to confirm with Houzz or CartRover.
    unproven: dict[str, Any] | None = None
    # The policy pins answers the documented claims rule out: (question, answer, claims).
    contradicted: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)
    declines: bool = False  # declined cards happen in this policy's world within the bounds

    @property
    def verdict(self) -> str:
        """proven | counterexample | inconclusive: the exploration's."""
        return self.exploration.verdict

    @property
    def invariant(self) -> str:
        v = self.exploration.violation
        return v.invariant if v else ""

    @property
    def kind(self) -> str:
        """silent | visible: the witness's violation, as the merchant would (not) see it."""
        v = self.witness.violation if self.witness else None
        return v.kind if v else ""

    def rests(self) -> list[str]:
        """The witness's kind and the answers to the open questions it needs, in words."""
        if self.witness is None or self.witness.violation is None:
            return []
        return [KINDS[self.kind], needs_text(self.needs)]

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

    def steps(self) -> list[dict[str, Any]]:
        """``story()`` as timeline steps, the shape every JSON report shares (untimed: the
        proof has no clock); the last step is the broken invariant (actor ``violation``)."""
        v = self.witness.violation if self.witness else None
        if v is None:
            return []
        culprit = self.timeline[-1].order if self.timeline else 0
        out = [
            step_json(
                text,
                order="" if line.order == 0 else f"#{line.order}",
                actor=line.kind,
            )
            for line, text in zip(self._told(culprit), self.story(), strict=False)
        ]
        out.append(step_json(self.story()[-1], order=f"#{culprit}", actor="violation"))
        return out

    def _told(self, culprit: int) -> list[Line]:
        return [
            line
            for line in self.timeline
            if line.kind != "violation" and line.order in (0, culprit)
        ]

    def to_json(self) -> dict[str, Any]:
        e = self.exploration
        out: dict[str, Any] = {
            "verdict": self.verdict,
            "bounds": {
                "orders": e.bounds.orders,
                "faults": e.bounds.faults,
                "declines": e.bounds.declines,
                "lapse": e.bounds.lapse,
                "max_states": e.bounds.max_states,
            },
            "states": e.states,
            "transitions": e.transitions,
            "depth": e.depth,
            "declines_explored": self.declines,
            "assumptions": self.assumptions,
        }
        w = self.witness
        if w is not None and w.violation is not None:
            out["counterexample"] = {
                "invariant": w.violation.invariant,
                "kind": w.violation.kind,
                "message": w.violation.message,
                "orders": w.bounds.orders,
                "needs": self.needs,
                "world": dict(w.facts),
                "timeline": self.steps(),
                "events": len(w.path),
            }
        if self.nearest is not None:
            out["nearest_proven"] = {
                "patch": self.nearest,
                "fix": self.nearest_text,
                "why": self.nearest_why,
            }
        if self.unproven is not None:
            out["nearest_unproven"] = self.unproven
        if self.contradicted:
            out["contradicts"] = [
                {"name": name, "value": value, "claims": list(claims)}
                for name, value, claims in self.contradicted
            ]
        if e.cut_by:
            out["cut_by"] = e.cut_by
        return out


def prove(
    policy: Policy, bounds: Bounds | None = None, *, progress: Progress | None = None
) -> Proof:
    """Explore the policy within ``bounds`` and explain the verdict; ``progress`` follows
    the main search (``houzzflow.simulator.proof.search.explore``)."""
    bounds = bounds or Bounds()
    register = default_register()
    contradicted = contradictions(policy.pinned)
    if contradicted:
        # The proof cannot stand on an answer the sources rule out: nothing is explored.
        nothing = Exploration("inconclusive", bounds, 0, 0, 0)
        rows = proof_rows(register, policy.pinned, {q: () for q in EXPLORED})
        return Proof(nothing, assumptions=rows, contradicted=contradicted)
    result = explore(policy, bounds, progress=progress)
    rows = proof_rows(register, policy.pinned, _covered(result))
    proof = Proof(result, assumptions=rows, declines=bool(World(policy, bounds).decline))
    if result.verdict != "counterexample":
        return proof
    witness = result
    for orders in range(1, bounds.orders):
        fewer = explore(policy, replace(bounds, orders=orders))
        if fewer.verdict == "counterexample":
            witness = fewer
            break
    proof.witness = witness
    proof.timeline = replay(policy, witness)
    proof.needs = needs(policy, bounds, witness.facts)
    nearest = nearest_safe(policy)
    if nearest is not None:
        changes, habits = nearest
        trial = policy.with_settings(**_typed(changes), **habits)
        tried = explore(trial, bounds)
        if tried.verdict == "proven":
            proof.nearest = fix_patch(changes, habits)
            proof.nearest_text = describe_fix(changes, habits)
            proof.nearest_why = why_changes(policy, changes, habits)
        elif changes or habits:  # (none: the rules find the policy itself safe, see --lapse)
            proof.unproven = _unproven(trial, bounds, tried, changes, habits)
    return proof


def _covered(exploration: Exploration) -> dict[str, list[str]]:
    """For each question the explorer explores, the answers its search covered, in order."""
    covered: dict[str, list[str]] = {q: [] for q in EXPLORED}
    for facts in exploration.covers:
        for question, answer in facts:
            if answer not in covered[question]:
                covered[question].append(answer)
    return covered


def needs(policy: Policy, bounds: Bounds, facts: Facts) -> dict[str, str]:
    """The answers in ``facts`` (a counterexample's world) that it needs: each question the
    proof explores where some other answer, the rest kept, breaks no invariant."""
    answers = dict(facts)
    explored = open_alternatives(policy.pinned)
    base = World(policy, bounds, facts).behaviour()
    out: dict[str, str] = {}
    for question in EXPLORED:
        others = [a for a in explored.get(question, ()) if a != answers.get(question)]
        if question in policy.pinned or question not in answers or not others:
            continue
        for other in others:
            world = {**answers, question: other}
            if World(policy, bounds, tuple(sorted(world.items()))).behaviour() == base:
                continue  # behaves alike: it breaks the same way
            pinned = replace(policy, pins=tuple(sorted({**policy.pinned, **world}.items())))
            if explore(pinned, bounds).verdict != "counterexample":
                out[question] = answers[question]
                break
    return out


def _unproven(
    trial: Policy,
    bounds: Bounds,
    tried: Exploration,
    changes: dict[str, Any],
    habits: dict[str, Any],
) -> dict[str, Any]:
    """No setting nearby is proven for every answer explored: what was tried, the answers it
    fails under, and which to confirm."""
    fix = describe_fix(changes, habits)
    failing = needs(trial, bounds, tried.facts) if tried.verdict == "counterexample" else {}
    register = default_register().assumptions
    if failing:
        under = "; ".join(
            f"{q}={a} ({register[q].alternatives[a].means})" for q, a in failing.items()
        )
        who = " or ".join(sorted({ABOUT[register[q].about] for q in failing}))
        text = (
            f"no settings nearby are proven for every answer explored: {fix} still loses "
            f"orders if {under}; confirm {', '.join(failing)} with {who}"
        )
    else:
        text = f"no settings nearby are proven for every answer explored: {fix} is not either"
    return {
        "patch": fix_patch(changes, habits),
        "fails_if": failing,
        "confirm": list(failing),
        "text": text,
    }


def _typed(changes: dict[str, Any]) -> dict[str, Any]:
    # describe/fix use the policy-file spelling ("15m"); the Policy holds seconds.
    return {k: parse_duration(v) if k == "poll_interval" else v for k, v in changes.items()}


def rests_on(rows: list[dict[str, Any]]) -> str:
    """What a verdict rests on, in words, from ``Proof.to_json()["assumptions"]``."""
    settled = [f"{r['name']}={r['value']}" for r in rows if r["use"] == "settled"]
    pinned = [f"{r['name']}={r['value']}" for r in rows if r["use"] == "pinned"]
    explored = [r["name"] for r in rows if r["use"] == "explored"]
    skipped = [r["name"] for r in rows if r["use"] == "not explored"]
    parts = []
    if pinned:
        parts.append(f"{', '.join(pinned)} (pinned by the policy)")
    if settled:
        parts.append(f"{', '.join(settled)} (the sources rule out the rest)")
    if explored:
        parts.append(f"every answer explored for {', '.join(explored)}")
    if skipped:
        parts.append(f"{', '.join(skipped)}: no verdict depends on it")
    return "; ".join(parts)


def needs_text(needs: dict[str, str]) -> str:
    """The answers a counterexample needs, in words (``counterexample.needs`` of the JSON)."""
    if not needs:
        return "whatever the answers to the open questions: every answer explored breaks it"
    register = default_register().assumptions
    said = "; ".join(
        f"{q} is {a} ({register[q].alternatives[a].means.rstrip('.')})" for q, a in needs.items()
    )
    who = " or ".join(sorted({ABOUT[register[q].about] for q in needs}))
    return f"only if {said}: confirm it with {who}"
