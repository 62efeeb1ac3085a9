"""Replays every scenario in the failure database (``tests/failures/``) before anything else."""

from __future__ import annotations

from pathlib import Path

import pytest

from houzzflow.simulator.runs.runner import run_scenario
from houzzflow.simulator.runs.scenario import load_scenario

FAILURES = sorted((Path(__file__).parent / "failures").glob("*.yaml"))


def test_the_database_is_not_empty() -> None:
    assert len(FAILURES) >= 12


@pytest.mark.parametrize("path", FAILURES, ids=lambda p: p.stem)
def test_a_saved_failure_still_shows_what_it_expects(path: Path) -> None:
    result = run_scenario(load_scenario(path))
    assert result.ok, [e.message for e in result.expectations if not e.ok]
    assert result.scenario.expectations, "a saved failure states what the run must show"
