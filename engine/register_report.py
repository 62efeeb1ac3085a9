"""The register of open questions for people and programs: ``houzzflow assumptions``.

Given a policy's pins (``assume.houzz`` / ``assume.cartrover``), each assumption also says
what a proof of that policy does with it: the alternative it was pinned to, or every
alternative that stands.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from houzzflow.engine.assumptions import Assumption, Register, open_alternatives

ABOUT = {"houzz": "Houzz", "cartrover": "CartRover"}


def proof_use(name: str, entry: Assumption, pins: Mapping[str, str]) -> str:
    """What a proof does with one assumption: ``pinned`` (by the policy), ``settled`` (one
    alternative stands), ``explored`` (every standing one) or ``not explored``."""
    if not entry.explored:
        return "not explored"
    if name in pins:
        return "pinned"
    return "settled" if len(entry.standing()) == 1 else "explored"


def proof_rows(
    register: Register,
    pins: Mapping[str, str],
    covered: Mapping[str, Sequence[str]] | None = None,
) -> list[dict[str, Any]]:
    """What a proof of a policy with these ``pins`` rests on, one row per question: the
    alternative it assumes (or ``explored``), the alternatives it covers (``covered``: what
    the exploration covered, for the questions it explores; else what it must explore), the
    register's status, whether the policy pins it, and ``use`` (see ``proof_use``)."""
    explored = {**open_alternatives(pins, register), **(covered or {})}
    rows = []
    for name, entry in register.assumptions.items():
        answers = list(explored.get(name, ()))
        use = proof_use(name, entry, pins)
        row: dict[str, Any] = {
            "name": name,
            "about": entry.about,
            "value": "explored" if len(answers) > 1 else (answers or [entry.default])[0],
            "explored": answers,
            "status": entry.status,
            "pinned": name in pins,
            "use": use,
        }
        if name in pins and entry.alternatives[pins[name]].ruled_out_by:
            row["contradicts"] = list(entry.alternatives[pins[name]].ruled_out_by)
        rows.append(row)
    return rows


def register_json(register: Register, pins: Mapping[str, str] | None = None) -> dict[str, Any]:
    pins = pins or {}
    explored = open_alternatives(pins, register)
    return {
        "assumptions": [
            {
                "name": name,
                "about": entry.about,
                "question": entry.question,
                "status": entry.status,
                "source": entry.source,
                "default": entry.default,
                "reasoning": entry.reasoning,
                "proof": proof_use(name, entry, pins),
                "proof_alternatives": list(explored.get(name, ())),
                "not_explored_because": entry.not_explored_because,
                "alternatives": [
                    {
                        "name": alt_name,
                        "means": alt.means,
                        "ruled_out_by": list(alt.ruled_out_by),
                        "why": alt.why,
                        "simulated": alt.simulated,
                        "not_simulated_because": alt.not_simulated_because,
                    }
                    for alt_name, alt in entry.alternatives.items()
                ],
            }
            for name, entry in register.assumptions.items()
        ],
        "claims": [
            {
                "name": name,
                "source": claim.source,
                "says": claim.says,
                "setup": claim.setup,
                "scenario": claim.scenario,
            }
            for name, claim in register.claims.items()
        ],
    }


def register_text(register: Register, pins: Mapping[str, str] | None = None) -> str:
    pins = pins or {}
    explored = open_alternatives(pins, register)
    entries = register.assumptions
    counted = sum(1 for e in entries.values() if e.explored)
    out = [
        f"{len(entries)} open questions the sources do not settle "
        f"({counted} decide verdicts; engine/assumptions.yaml)",
        "",
    ]
    for name, entry in entries.items():
        out.append(f"{name} ({ABOUT[entry.about]}, {entry.status})")
        out.append(f"  {entry.question}")
        for alt_name, alt in entry.alternatives.items():
            tag = " (default)" if alt_name == entry.default else ""
            if name in pins and pins[name] == alt_name:
                tag += " (pinned by the policy)"
            mark = "✘" if alt.ruled_out_by else "•"
            out.append(f"  {mark} {alt_name}{tag}: {alt.means}")
            if alt.ruled_out_by:
                out.append(f"      ruled out by {', '.join(alt.ruled_out_by)}: {alt.why}")
            if not alt.simulated:
                out.append(
                    f"      not simulated: a run takes {entry.default} in its place "
                    f"(and says so): {alt.not_simulated_because}"
                )
        out.append(f"  why the default: {entry.reasoning}")
        out.append(f"  source: {entry.source}")
        use = proof_use(name, entry, pins)
        if use == "not explored":
            out.append(f"  proof: does not depend on it: {entry.not_explored_because}")
        elif use == "pinned":
            out.append(f"  proof: pinned to {pins[name]}")
        elif use == "settled":
            out.append(
                f"  proof: assumes {explored[name][0]} (every other alternative is ruled out)"
            )
        else:
            out.append(f"  proof: explores {' and '.join(explored[name])}")
        out.append("")
    out.append("Claims: setups the sources call safe (an alternative that breaks one is ruled out)")
    for name, claim in register.claims.items():
        out.append(f"  {name}: {claim.says}")
        out.append(f"    source: {claim.source}; scenario: scenarios/{claim.scenario}.yaml")
    return "\n".join(out) + "\n"
