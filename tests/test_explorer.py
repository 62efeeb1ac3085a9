"""The proof tier: exhaustive exploration agrees with the rules and tells the real cause."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from houzzflow.engine.policy import Policy
from houzzflow.engine.rules import find, is_safe
from houzzflow.simulator.proof.explorer import Bounds, explore, explore_reference
from houzzflow.simulator.proof.matrix import policy_for, run_matrix
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
    if fast.verdict == "proven":
        assert fast.states == reference.states
    assert (fast.violation is None) == (reference.violation is None)
    assert bool([f for f in find(p) if f.severity == "error"]) == (fast.verdict != "proven")
