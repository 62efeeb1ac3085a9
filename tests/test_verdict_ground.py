"""A verdict is only worth what it rests on: runs and proofs must agree on the ground they share.

For every documented safe setup (the register's claims, each with a bundled scenario) and
every answer the simulator can give to an open question, either the run passes, or the run
says its world left what the proof assumed *and* ``validate`` on its policy names the fact
(it did not say a plain "proven" on a silent assumption). The same for the orders a cart
finds already charged at go-live (a backlog older than an authorization).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import houzzflow
from houzzflow.engine.assumptions import default_register

ROOT = Path(__file__).resolve().parent.parent
REGISTER = default_register()
CASES = [
    (claim_name, question, alternative)
    for claim_name in REGISTER.claims
    for question, entry in REGISTER.assumptions.items()
    if entry.explored
    for alternative in entry.alternatives
]


def _scenario(claim_name: str) -> Path:
    return ROOT / "scenarios" / f"{REGISTER.claims[claim_name].scenario}.yaml"


def _validate_json(claim_name: str) -> dict[str, Any]:
    return houzzflow.validate(REGISTER.claims[claim_name].setup).to_json()


@pytest.mark.parametrize(("claim_name", "question", "alternative"), CASES)
def test_a_run_fails_only_where_the_verdict_names_the_fact(
    claim_name: str, question: str, alternative: str
) -> None:
    entry = REGISTER.assumptions[question]
    where = f"world.{entry.about}.{question}"
    run = houzzflow.run(
        _scenario(claim_name), overrides={where: alternative, "world.orders.count": 150}
    )
    if run.ok:
        return
    # The run explains itself: its world went beyond what the proof assumed...
    assert any(g["where"] == where for g in run.to_json()["gaps"]), run.to_json()["gaps"]
    # ...and the verdict on the policy names the fact it rests on.
    report = _validate_json(claim_name)
    named = {a["name"]: a for a in report["proof"]["assumptions"]}
    assert report["verdict"] != "proven" or alternative not in named[question]["explored"]
    assert named[question]["value"] != alternative


@pytest.mark.parametrize("claim_name", ["seller-2021", "vendor", "seller-legacy-manual-charge"])
def test_a_backlog_older_than_an_authorization_is_named_by_both(claim_name: str) -> None:
    """Orders already charged at go-live: the proof covers orders placed after go-live, so the
    run must say so, and validate must warn (HZ016) how far back Earliest Order Date may go."""
    run = houzzflow.run(
        _scenario(claim_name), overrides={"world.backlog": {"count": 50, "within": "30d"}}
    )
    gaps = run.to_json()["gaps"]
    assert any(g["where"] == "world.backlog.within" for g in gaps), gaps
    if claim_name == "seller-2021":  # the case: it loses orders, and now says why
        assert not run.ok
    report = _validate_json(claim_name)
    assert any(d["code"] == "HZ016" for d in report["diagnostics"])


def test_the_ruled_out_answers_do_break_a_run() -> None:
    """The first test is not vacuous: answers the sources rule out do fail runs."""
    run = houzzflow.run(
        _scenario("seller-2021"),
        overrides={"world.houzz.window_field": "created", "world.orders.count": 150},
    )
    assert not run.ok and run.to_json()["gaps"]
