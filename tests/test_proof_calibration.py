"""Calibration by proof: every setup the sources call safe (a claim of the register,
``engine/assumptions.yaml``) is proven with every answer left standing explored, and with each
of them pinned alone; an answer the claims rule out is one no verdict stands on."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import houzzflow
from houzzflow.engine.assumptions import default_register
from houzzflow.simulator.proof.model import EXPLORED

REGISTER = default_register()
CLAIMS = REGISTER.claims
# Every answer a proof explores, of every question with more than one left standing.
STANDING = [
    (claim, question, answer)
    for claim in sorted(CLAIMS)
    for question, entry in REGISTER.assumptions.items()
    if entry.explored and len(entry.standing()) > 1
    for answer in entry.standing()
]
RULED_OUT = [
    (question, answer, alternative.ruled_out_by)
    for question, entry in REGISTER.assumptions.items()
    for answer, alternative in entry.alternatives.items()
    if alternative.ruled_out_by
]


def _rows(report: Any) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in report.proof["assumptions"]}


def _pinned(setup: dict[str, Any], question: str, answer: str) -> dict[str, Any]:
    data = copy.deepcopy(setup)
    about = REGISTER.assumptions[question].about
    data.setdefault("assume", {}).setdefault(about, {})[question] = answer
    return data


def test_the_explorer_explores_every_question_with_answers_left_standing() -> None:
    """A question the proof depends on that the explorer does not model must be settled: the
    sources leave one answer, which the explorer assumes."""
    for question, entry in REGISTER.assumptions.items():
        if entry.explored and question not in EXPLORED:
            assert entry.standing() == (entry.default,), question
    assert set(EXPLORED) <= set(REGISTER.assumptions)


@pytest.mark.parametrize("claim", sorted(CLAIMS))
def test_a_documented_safe_setup_is_proven_for_every_answer_left_standing(claim: str) -> None:
    report = houzzflow.validate(CLAIMS[claim].setup)
    assert report.verdict == "proven", report.proof
    assert not [d for d in report.diagnostics if d.code == "PROOF001"]
    rows = _rows(report)
    for question, entry in REGISTER.assumptions.items():
        expected = list(entry.standing()) if entry.explored else []
        assert rows[question]["explored"] == expected, question
        assert not rows[question]["pinned"]


@pytest.mark.parametrize(("claim", "question", "answer"), STANDING)
def test_a_documented_safe_setup_is_proven_with_each_answer_pinned_alone(
    claim: str, question: str, answer: str
) -> None:
    report = houzzflow.validate(_pinned(CLAIMS[claim].setup, question, answer))
    assert report.verdict == "proven", report.proof
    assert not [d for d in report.diagnostics if d.severity == "error"]
    row = _rows(report)[question]
    assert (row["value"], row["explored"], row["pinned"]) == (answer, [answer], True)


@pytest.mark.parametrize(("question", "answer", "claims"), RULED_OUT)
def test_no_verdict_stands_on_an_answer_the_sources_rule_out(
    question: str, answer: str, claims: tuple[str, ...]
) -> None:
    for claim in claims:
        report = houzzflow.validate(_pinned(CLAIMS[claim].setup, question, answer))
        assert report.verdict == "inconclusive"
        (d,) = [d for d in report.diagnostics if d.code == "ASSUME010"]
        assert d.severity == "error"
        assert all(name in d.message for name in claims)
        assert _rows(report)[question]["contradicts"] == list(claims)
        assert not [d for d in report.diagnostics if d.code == "PROOF001"]
