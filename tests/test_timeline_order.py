"""Timelines read in time order in every format, also for orders placed before the run.

A backlog order's past is replayed at once when the run starts, so Houzz's later moves (the
authorization lapse) used to be listed before its earlier ones (the auto-charge).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import houzzflow
from houzzflow.simulator.runs.report import junit_report, text_report

ROOT = Path(__file__).resolve().parent.parent
BACKLOG = {"world.backlog": {"count": 50}}


@pytest.fixture(scope="module")
def backlog_run() -> houzzflow.RunResult:
    return houzzflow.run(ROOT / "scenarios" / "safe-seller-2021.yaml", overrides=BACKLOG)


def _days(lines: list[str]) -> list[tuple[int, str]]:
    stamps = [re.search(r"day (-?\d+) (\d\d:\d\d:\d\d)", line) for line in lines]
    return [(int(m.group(1)), m.group(2)) for m in stamps if m]


def test_json_timelines_are_in_time_order(backlog_run: houzzflow.RunResult) -> None:
    data = backlog_run.to_json()
    seen = 0
    for invariant in data["invariants"].values():
        for violation in invariant["violations"]:
            times = [step["time"] for step in violation["timeline"]]
            assert times == sorted(times)
            seen += len(times) > 2
    assert seen  # the backlog makes violations with a history before the run


@pytest.mark.parametrize("render", [text_report, junit_report], ids=["text", "junit"])
def test_text_and_junit_timelines_are_in_time_order(
    backlog_run: houzzflow.RunResult, render: object
) -> None:
    text = render([backlog_run])  # type: ignore[operator]
    blocks = re.split(r"order \d{4}-\d{4}-\d{4}-\d{4}:", text)
    checked = 0
    for block in blocks[1:]:
        days = _days(block.splitlines()[1:])
        if len(days) > 2:
            assert days == sorted(days), block
            checked += 1
    assert checked
