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

from houzzflow.simulator.proof.counterexample import scenario_of
from houzzflow.simulator.proof.explorer import Bounds
from houzzflow.simulator.proof.verdict import prove
from houzzflow.simulator.runs.runner import run_scenario
from houzzflow.simulator.runs.scenario import load_scenario
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
