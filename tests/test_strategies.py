"""The public Hypothesis strategies behave like Hypothesis' own: eager argument checks, and
draws that mean what they say."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import Phase, find, given, settings

from houzzflow.engine.assumptions import default_register
from houzzflow.engine.rules import find as find_findings
from houzzflow.engine.rules import is_safe
from houzzflow.simulator.runs.scenario import load_scenario
from houzzflow.simulator.strategies import (
    backends,
    fault_plans,
    mutated_policies,
    order_streams,
    policy_files,
    resolved,
    safe_setups,
    scenario_text,
    scenarios,
    staff_habits,
)


@pytest.mark.parametrize(
    "call",
    [
        lambda: policy_files(safe="yes"),  # type: ignore[arg-type]
        lambda: policy_files(eras=("2020",)),
        lambda: mutated_policies(code="HZ999"),
        lambda: mutated_policies(code="HZ009"),
        lambda: order_streams(max_count=-1),
        lambda: backends(max_delay=61 * 86400),
        lambda: fault_plans(max_rate=2.0),
        lambda: staff_habits(policy="legacy"),  # type: ignore[arg-type]
        lambda: scenarios(max_orders=0),
    ],
)
def test_bad_arguments_fail_at_once_not_when_drawing(call: Any) -> None:
    with pytest.raises((ValueError, TypeError)):
        call()


@settings(max_examples=30, deadline=None)
@given(policy=policy_files(safe=True))
def test_safe_policies_validate_clean(policy: dict[str, Any]) -> None:
    assert is_safe(resolved(policy))


@settings(max_examples=30, deadline=None)
@given(case=mutated_policies())
def test_each_mutation_triggers_its_code(case: tuple[dict[str, Any], str]) -> None:
    policy, code = case
    assert code in [f.code for f in find_findings(resolved(policy)) if f.severity == "error"]


@settings(max_examples=20, deadline=None)
@given(scenario=scenarios(max_orders=5))
def test_scenarios_load_and_print_as_yaml_a_user_can_run(scenario: dict[str, Any]) -> None:
    loaded = load_scenario(scenario)
    assert loaded.spec.world.orders.count is not None
    assert loaded.spec.world.orders.count <= 5
    text = scenario_text(scenario)
    assert text.startswith("name: hypothesis")
    habits = scenario["world"]["staff"]
    policy = resolved(scenario["policy"])
    assert habits["process"]["mode"] == policy.staff_process
    assert habits["cancel"]["mode"] == policy.staff_cancel


@settings(max_examples=10, deadline=None)
@given(policy=safe_setups())
def test_the_documented_safe_setups_validate_clean(policy: dict[str, Any]) -> None:
    assert is_safe(resolved(policy))


_QUESTIONS = [
    (name, entry.about, answer)
    for name, entry in default_register().assumptions.items()
    for answer in entry.standing()
]


@pytest.mark.parametrize(("name", "about", "answer"), _QUESTIONS)
def test_scenarios_answer_every_open_question_every_way_the_sources_allow(
    name: str, about: str, answer: str
) -> None:
    """The central property runs worlds from ``scenarios()``: a question it never answered
    one way (as it once never answered the questions the proof does not explore) would be a
    world no test ran, under a verdict that says no answer matters."""
    found = find(
        scenarios(max_orders=1),
        lambda s: s["world"][about][name] == answer,
        settings=settings(max_examples=500, database=None, phases=[Phase.generate]),
    )
    assert load_scenario(found).spec.world.model_dump()[about][name] == answer


@pytest.mark.parametrize(("name", "about", "answer"), _QUESTIONS)
def test_policies_sometimes_pin_each_open_question(name: str, about: str, answer: str) -> None:
    found = find(
        policy_files(),
        lambda p: p["assume"].get(about, {}).get(name) == answer,
        settings=settings(max_examples=2_000, database=None, phases=[Phase.generate]),
    )
    assert resolved(found).pinned[name] == answer
