"""The central property (DESIGN.md): validation is exact.

(a) Every policy that passes validation keeps every invariant in timed simulation, for any
order stream, staff timings consistent with its assumptions, warehouse delays and faults.
(b) Every policy validation rejects has a concrete scenario, built from its counterexample,
that breaks an invariant in the simulator.
(c), rules and proof agreeing on the whole settings space, is in ``test_explorer.py``.

A failing example prints as a scenario file: save it under ``tests/failures/`` and
``houzzflow run`` it.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from houzzflow.engine.assumptions import default_register
from houzzflow.simulator.proof.counterexample import scenario_of
from houzzflow.simulator.proof.explorer import Bounds
from houzzflow.simulator.proof.verdict import prove
from houzzflow.simulator.runs.runner import run_scenario
from houzzflow.simulator.runs.scenario import MAX_DRAIN, load_scenario
from houzzflow.simulator.strategies import policy_files, resolved, scenario_text, scenarios


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(max_orders=25))
def test_a_validated_policy_keeps_every_invariant_in_simulation(scenario: dict[str, Any]) -> None:
    note(scenario_text(scenario))
    result = run_scenario(load_scenario(scenario))
    broken = {v.invariant: v.message for v in result.violations}
    assert result.ok, broken
    assert result.counts["lost"] == 0


@settings(deadline=None)
@given(policy=policy_files(safe=False), faults=st.integers(0, 1))
def test_a_rejected_policy_has_a_scenario_that_breaks_an_invariant(
    policy: dict[str, Any], faults: int
) -> None:
    p = resolved(policy)
    proof = prove(p, Bounds(orders=2, faults=faults))
    assert proof.verdict == "counterexample"
    assert proof.witness is not None and proof.witness.violation is not None
    scenario = scenario_of(p, proof.witness, name="counterexample")
    note(scenario_text(scenario))
    result = run_scenario(load_scenario(scenario))
    assert result.ok, [e.message for e in result.expectations]  # the expected violation happened
    assert result.counts[proof.witness.violation.invariant] >= 1


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=policy_files(safe=True))
def test_a_validated_policy_survives_the_slowest_world_its_assumptions_allow(
    policy: dict[str, Any],
) -> None:
    """Time is where an untimed proof can be wrong: the warehouse takes as long as the policy
    allows, and every order waits as long as its poll interval lets it. A policy validation
    passes must still keep every invariant (a lapse would break one)."""
    from houzzflow.engine.policy import format_duration

    p = resolved(policy)
    answers: dict[str, dict[str, str]] = {"houzz": {}, "cartrover": {}}
    for name, entry in default_register().assumptions.items():
        if entry.explored:
            answers[entry.about][name] = p.pinned.get(name, entry.default)
    slowest = format_duration(p.ships_within)
    # Every order must be able to settle: shipped after the slowest delay, then collected at
    # a poll. A drain is at most MAX_DRAIN; what it cannot hold, the run's duration holds.
    needed = 3 * p.poll_interval + p.ships_within + 86400
    drain = min(MAX_DRAIN, needed)
    scenario = {
        "name": "slowest",
        "duration": format_duration(p.poll_interval + 3600 + needed - drain),
        "drain": format_duration(drain),
        "policy": policy,
        "world": {
            # placed just after the first poll, so each waits a whole interval to be seen
            "orders": {"count": 3, "place_within": format_duration(p.poll_interval // 100 + 36)},
            "staff": {
                "process": {"mode": p.staff_process, "delay": ["1m", "5m"]},
                "charge": {"mode": p.staff_charge, "delay": ["1m", "5m"]},
                "cancel": {"mode": "never"},
            },
            "backend": {"ship_delay": [slowest, slowest]},
            **answers,
        },
    }
    note(scenario_text(scenario))
    result = run_scenario(load_scenario(scenario))
    assert result.ok, {v.invariant: v.message for v in result.violations}
