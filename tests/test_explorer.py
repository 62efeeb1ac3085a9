"""The proof tier: exhaustive exploration agrees with the rules and tells the real cause."""

from __future__ import annotations

import itertools
from dataclasses import replace
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from houzzflow.engine.policy import Policy
from houzzflow.engine.rules import find, is_safe
from houzzflow.simulator.proof.explorer import Bounds, explore, explore_reference
from houzzflow.simulator.proof.matrix import policy_for, run_matrix
from houzzflow.simulator.proof.model import choices, worlds
from houzzflow.simulator.proof.verdict import prove
from houzzflow.simulator.strategies import (
    MUTATIONS,
    SAFE_SETUPS,
    policy_files,
    resolved,
    set_dotted,
)


def _mutated(base: str, changes: dict[str, object]) -> Policy:
    data = SAFE_SETUPS[base]
    for key, value in changes.items():
        data = set_dotted(data, key, value)
    return resolved(data)


@pytest.mark.parametrize("name", sorted(SAFE_SETUPS))
@pytest.mark.parametrize("bounds", [Bounds(orders=2, faults=1), Bounds(orders=3, faults=0)])
def test_documented_safe_setups_are_proven(name: str, bounds: Bounds) -> None:
    result = explore(resolved(SAFE_SETUPS[name]), bounds)
    assert result.verdict == "proven", result.violation
    assert result.states > 10


# What the plain-language timeline must say for each kind of mistake: the real cause.
CAUSES = {
    "HZ001": "never saw it",
    "HZ002": "skipped it: status Charged is not",
    "HZ003": "is not Charged (Order Status)",
    "HZ004": "is not In Production (Order Status)",
    "HZ005": "staff processed it by hand",
    "HZ006": "Houzz",
    "HZ007": "was rejected by Houzz",
    "HZ011": "not Charged",
    "HZ012": "cancelled it in Houzz",
    "HZ014": "Mark Orders as Charged was rejected by Houzz",
    "HZ015": "let its 7-day authorization lapse",
}


@pytest.mark.parametrize(("base", "changes", "code"), MUTATIONS, ids=lambda v: str(v))
def test_every_documented_mistake_has_a_counterexample_naming_its_cause(
    base: str, changes: dict[str, object], code: str
) -> None:
    policy = _mutated(base, dict(changes))
    proof = prove(policy, Bounds(orders=2, faults=0))
    assert proof.verdict == "counterexample"
    story = "\n".join(proof.story())
    assert CAUSES[code] in story, story
    assert "=> order #" in story
    assert proof.nearest is not None, "a documented mistake always has proven settings nearby"


def test_staff_processing_first_reads_like_the_issue_says() -> None:
    policy = _mutated("seller-legacy-default", {"assume.staff.process": "sometimes"})
    story = prove(policy, Bounds(orders=1)).story()
    text = "\n".join(story)
    assert text.index("staff processed it by hand") < text.index("CartRover's poll 1")
    assert "Mark Orders as Processed was rejected by Houzz: order is In Production" in text
    assert "held in Error" in story[-1] or "held in Error" in text


def test_nearest_proven_settings_are_proven() -> None:
    policy = _mutated("seller-legacy-default", {"order_status": "charged"})
    proof = prove(policy)
    assert proof.nearest is not None
    fixed = policy.with_settings(**proof.nearest)
    assert explore(fixed).verdict == "proven"


def test_a_bound_that_cuts_the_search_is_inconclusive_and_says_which() -> None:
    result = explore(resolved(SAFE_SETUPS["seller-legacy-default"]), Bounds(max_states=50))
    assert result.verdict == "inconclusive"
    assert "max_states=50" in result.cut_by


ALL_POLICIES = [
    Policy(ct, st_, mp, mc, cd, 900, acct, era, sp, sc, sx)  # type: ignore[arg-type]
    for ct, acct, era, st_, mp, mc, cd, sp, sc, sx in itertools.product(
        ("seller", "vendor"),
        ("seller", "vendor"),
        ("legacy", "2021"),
        ("new", "in_production", "new_or_in_production", "charged"),
        (True, False),
        (True, False),
        (True, False),
        ("never", "always", "sometimes"),
        ("never", "always", "sometimes"),
        ("never", "sometimes"),
    )
]


@pytest.mark.parametrize("faults", [0, 1])
def test_rules_and_proof_agree_on_the_whole_settings_space(faults: int) -> None:
    """The validator is exact: every rejected policy has a counterexample, and vice versa."""
    disagree = [
        p
        for p in ALL_POLICIES
        if (explore(p, Bounds(orders=2, faults=faults)).verdict == "proven") != is_safe(p)
    ]
    assert len(ALL_POLICIES) == 4608
    assert disagree == []


def test_the_matrix_reports_every_cell_and_no_disagreement() -> None:
    worlds = [
        ("seller", "legacy", "never", "never", "never"),
        ("vendor", "2021", "never", "never", "sometimes"),
    ]
    cells = run_matrix(Bounds(orders=2), worlds=worlds, jobs=1)
    assert len(cells) == 64
    assert all(c.agrees for c in cells)
    safe = {c.setting for c in cells if c.verdict == "proven" and c.world == worlds[0]}
    assert ("seller", "new_or_in_production", True, True) in safe
    assert ("vendor", "charged", False, False) not in safe  # wrong connection type
    unsafe = [c for c in cells if c.verdict != "proven"]
    assert all(c.reason and c.codes for c in unsafe)
    assert policy_for(cells[0].setting, cells[0].world).cancel_download


@settings(max_examples=40, deadline=None)
@given(policy=policy_files(), faults=st.integers(0, 1), orders=st.integers(1, 2))
def test_memoized_explorer_matches_the_reference_search(
    policy: dict[str, object], faults: int, orders: int
) -> None:
    p = resolved(policy)
    bounds = Bounds(orders=orders, faults=faults)
    fast, reference = explore(p, bounds), explore_reference(p, bounds)
    assert fast.verdict == reference.verdict
    assert len(fast.path) == len(reference.path)  # both breadth first: shortest paths
    assert (fast.violation is None) == (reference.violation is None)
    assert bool([f for f in find(p) if f.severity == "error"]) == (fast.verdict != "proven")
    # The fast search explores the worlds of the open questions together while they agree;
    # a world alone (its answers pinned), it meets exactly the reference's states.
    every = choices(p)
    for facts in {every[0], every[-1]}:
        alone = replace(p, pins=facts)
        fast, reference = explore(alone, bounds), explore_reference(alone, bounds)
        assert fast.verdict == reference.verdict
        if fast.verdict == "proven":
            assert fast.states == reference.states


@pytest.mark.parametrize("name", sorted(SAFE_SETUPS))
def test_the_explorer_tells_every_state_of_a_documented_setup_apart(name: str) -> None:
    """The memoized search knows a state by one int made incrementally; two different states
    with one key would be merged and the proof would skip what the second one leads to. In
    every world of each documented setup (one per behaviour) it meets exactly the reference's
    states."""
    policy = resolved(SAFE_SETUPS[name])
    bounds = Bounds(orders=2, faults=1)
    for world in worlds(policy, bounds):
        alone = replace(policy, pins=world.facts)
        fast, reference = explore(alone, bounds), explore_reference(alone, bounds)
        assert (fast.verdict, fast.states) == (reference.verdict, reference.states)


def test_a_violation_under_one_answer_only_is_found_and_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every answer left standing is explored, together with the others: a world in which
    only a non-default answer breaks an invariant is found, and the answer is named."""
    from houzzflow.simulator.proof import model

    real = model.houzz_table

    def table(program: str, era: str, machine: Any = None, facts: Any = ()) -> Any:
        t = real(program, era, machine, facts)
        if dict(facts).get("mark_step_done") == "no_op":  # a Houzz that refuses every Ship
            moves = {k: m for k, m in t.moves.items() if k[1] != "Ship"}
            t = replace(t, moves=MappingProxyType(moves))
        return t

    monkeypatch.setattr(model, "houzz_table", table)
    policy = resolved(SAFE_SETUPS["seller-legacy-default"])
    bounds = Bounds(orders=2, faults=0)
    for result in (explore(policy, bounds), explore_reference(policy, bounds)):
        assert result.verdict == "counterexample"
        assert result.violation is not None and result.violation.invariant == "unconfirmed"
        assert dict(result.facts)["mark_step_done"] == "no_op"
    proof = prove(policy, bounds)
    assert proof.needs == {"mark_step_done": "no_op"}
    assert proof.to_json()["counterexample"]["world"]["mark_step_done"] == "no_op"
    # Pinned to the default, the same policy is proven.
    pinned = replace(policy, pins=(("mark_step_done", "refused"),))
    assert explore(pinned, bounds).verdict == "proven"


def _decline_world(answer: str) -> Any:
    from houzzflow.simulator.proof.model import World

    policy = resolved(SAFE_SETUPS["seller-legacy-default"])
    return World(policy, Bounds(), (("charge_decline", answer),))


@pytest.mark.parametrize("answer", ["hold", "retry"])
def test_a_declined_card_is_the_customers_not_a_loss(answer: str) -> None:
    from houzzflow.simulator.proof.model import DECLINED, Order, poll_one, unsettled

    world = _decline_world(answer)
    placed = Order("New", False, True, "", "", "", "", "")
    words: list[str] = []
    after, violation, happened = poll_one(world, placed, ("Charge", DECLINED), words)
    assert happened and violation is None
    assert after.houzz == "FailedToCharge" and not after.backend
    assert "its Charge was declined (the customer's card)" in words[-1]
    # Held in Error with an alert (hold), or waiting for the customer (retry): accounted,
    # even if the customer never fixes the payment.
    assert unsettled(world, after) is None
    if answer == "hold":
        assert after.connector == "Error" and after.declined
        return
    assert (after.connector, after.pending) == ("New", "Charge")
    # The customer fixes the card: CartRover charges again at its next poll, then sends.
    fixed = after._replace(houzz="InProduction", dirty=True)
    sent, violation, _ = poll_one(world, fixed, None, [])
    assert violation is None
    assert (sent.houzz, sent.connector, sent.backend) == ("Charged", "AtWMS", "received")


def test_declines_are_explored_only_where_cartrover_charges() -> None:
    from houzzflow.simulator.proof.model import worlds

    default = resolved(SAFE_SETUPS["seller-legacy-default"])
    assert {w.decline for w in worlds(default, Bounds())} == {"hold", "retry"}
    assert {w.decline for w in worlds(default, Bounds(declines=0))} == {""}
    manual_charge = resolved(SAFE_SETUPS["seller-legacy-manual-charge"])  # no Mark step
    assert {w.decline for w in worlds(manual_charge, Bounds())} == {""}
