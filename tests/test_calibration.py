"""The register of open questions, calibrated against the documented claims, both ways.

engine/assumptions.yaml says, for each alternative of each open question, which documented
safe setups (claims) it contradicts (``ruled_out_by``). Here every alternative of every
question a proof explores meets every claim: the claim's bundled scenario runs in a world
that answers the question that way, and some invariant breaks (an order lost, sent twice,
shipped unpaid or cancelled, left unconfirmed or unaccounted for) **if and only if** the
register lists the claim. A mismatch means the register or the simulation is wrong: check
the simulation against DOMAIN.md, then correct the register's ``ruled_out_by`` and ``why``.

A visible hold caused by a customer's declined card (``charge_decline: hold``) is an
accounted outcome, not a loss (DESIGN.md): the runner still counts it as lost, so those
orders are left out of the ``lost`` count here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from houzzflow import run
from houzzflow.engine.assumptions import default_register
from houzzflow.simulator.houzz.state import CANCELLED
from houzzflow.simulator.runs.invariants import INVARIANTS
from houzzflow.simulator.runs.runner import RunResult

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
ORDERS = 1000  # enough that every ruled-out pair breaks by a margin; ~0.1 s a run
DECLINE_RATE = 0.05  # charge_decline: a share of charges declined, so the question is asked
# charge_decline: every order placed on day 1 of 5, so each declined card is fixed (within
# a day), charged again and shipped before the run ends.
DECLINE_WORLD = {"duration": "5d", "world.orders.place_within": 0.2}

REGISTER = default_register()
ROWS = [
    pytest.param(question, alternative, claim, id=f"{question}={alternative}-{claim}")
    for question, entry in REGISTER.assumptions.items()
    if entry.explored
    for alternative in entry.alternatives
    for claim in REGISTER.claims
]


def _run(question: str, alternative: str, claim: str) -> RunResult:
    entry = REGISTER.assumptions[question]
    overrides: dict[str, Any] = {
        "world.orders.count": ORDERS,
        f"world.{entry.about}.{question}": alternative,
    }
    if question == "charge_decline":
        overrides |= {"world.houzz.charge_failure_rate": DECLINE_RATE, **DECLINE_WORLD}
    return run(SCENARIOS / f"{REGISTER.claims[claim].scenario}.yaml", overrides=overrides)


def _declined(result: RunResult, order_id: str) -> bool:
    assert result.houzz is not None
    return any(h[2] == "ChargeDeclined" for h in result.houzz.orders[order_id].history)


def _broken(result: RunResult) -> dict[str, list[str]]:
    """Each invariant that broke -> the orders that broke it (visible decline holds left out)."""
    assert result.connector is not None
    held = result.connector.held
    broken: dict[str, list[str]] = {}
    for key in INVARIANTS:
        orders = [v.order_id for v in result.verdict.violations.get(key, [])]
        if key == "lost":
            orders = [o for o in orders if not (o in held and _declined(result, o))]
        if orders:
            broken[key] = orders
    if result.placed and not result.polls:
        # No poll ever listed Houzz whole: the runner counts every order as still in
        # flight, yet none will ever be loaded.
        broken["stuck"] = list(result.houzz.orders) if result.houzz is not None else []
    return broken


@pytest.mark.parametrize(("question", "alternative", "claim"), ROWS)
def test_an_alternative_breaks_a_claim_exactly_when_the_register_rules_it_out(
    question: str, alternative: str, claim: str
) -> None:
    entry = REGISTER.assumptions[question]
    ruled_out = claim in entry.alternatives[alternative].ruled_out_by
    result = _run(question, alternative, claim)
    assert _shows(result, question, alternative) is not False, (
        f"the world was asked to answer {question}={alternative}, and does not"
    )
    broken = _broken(result)
    what = f"{question}={alternative} in {claim}'s setup (scenarios/{claim}...)"
    if ruled_out:
        assert broken, (
            f"{what}: the register rules it out, yet every invariant holds: "
            "correct ruled_out_by in engine/assumptions.yaml, or the simulation"
        )
    else:
        counts = {key: len(orders) for key, orders in broken.items()}
        assert not broken, (
            f"{what}: the register lets it stand, yet invariants break {counts}, e.g. "
            f"{next(iter(broken.values()))[:3]}: rule it out in engine/assumptions.yaml, "
            "or correct the simulation"
        )
    if question == "charge_decline":
        _check_declines(result, alternative)


def _shows(result: RunResult, question: str, alternative: str) -> bool | None:
    """Whether the run's world shows the answer it was given (None: this setup cannot)."""
    houzz, state = result.houzz, result.connector
    assert houzz is not None and state is not None
    table, seller = houzz.table, houzz.program == "seller"
    if question == "window_field":
        return houzz.window_field == alternative
    if question == "mark_step_done" and seller and houzz.era == "legacy":
        return bool(table.no_ops) == (alternative == "no_op")
    if question == "vendor_lapse" and not seller:
        return (("Charged", "AuthorizationLapse") in table.moves) == (alternative == "applies")
    if question == "release_2021" and seller and houzz.era == "2021":
        return ("New" in table.hidden) == (alternative == "after_charge")
    if question == "listing":
        # Every claim's customers cancel some orders before CartRover loads them: listing
        # every status, it logs them as skipped; listing its Order Status only, never.
        return bool(state.skipped) == (alternative == "all_statuses")
    return None


def _check_declines(result: RunResult, alternative: str) -> None:
    """The question is really asked where CartRover charges, and each answer shows."""
    assert result.houzz is not None and result.connector is not None
    state = result.connector
    declined = [oid for oid in result.houzz.orders if _declined(result, oid)]
    charges_itself = result.scenario.policy.mark_charged and result.scenario.era == "legacy"
    if not charges_itself:
        return
    assert declined, "no card was declined at CartRover's Charge: the question was not asked"
    at_cartrover = [o for o in declined if o in state.ledger]
    held = [o for o in at_cartrover if o in state.held]
    retrying = [a for a in state.alerts if a.kind == "declined"]
    if alternative == "hold":
        assert held and not retrying
    else:
        assert retrying and not held
        # Every customer fixed the payment: each declined order not cancelled since was
        # charged again and sent.
        assert result.warehouse is not None
        orders, received = result.houzz.orders, result.warehouse.received
        kept = [o for o in at_cartrover if orders[o].status != CANCELLED]
        assert kept and all(o in received for o in kept)
    assert result.verdict.in_flight == 0, "the run ends with every decline settled"
