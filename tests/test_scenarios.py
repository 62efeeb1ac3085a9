"""Every bundled scenario (scenarios/*.yaml) meets its own expectations.

The library is documentation that runs: each file says what it shows, and this test holds
it to that. New files are picked up by the glob.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from houzzflow.simulator.runs.report import text_report
from houzzflow.simulator.runs.runner import run_scenario
from houzzflow.simulator.runs.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
FILES = sorted(SCENARIOS.glob("*.yaml"))


def test_the_library_is_there() -> None:
    names = {path.stem for path in FILES}
    assert "seller-default" in names
    assert len(FILES) >= 15


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_scenario_meets_its_expectations(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("#"), "each scenario starts with a comment saying what it shows"
    scenario = load_scenario(path)
    assert scenario.expectations, "each scenario states what it shows"
    result = run_scenario(scenario)
    assert result.ok, text_report([result])
