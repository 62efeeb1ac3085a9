"""Shared test setup: the Hypothesis profiles every property test runs under.

``ci`` (the default) is small and derandomized, so a run is quick and repeatable and a
failure prints the blob that reproduces it. ``thorough`` searches much harder, with fresh
examples each run; choose it with ``HYPOTHESIS_PROFILE=thorough python -m pytest``. Tests set
in ``@settings`` only what they must, so the profile decides how many examples run.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# Load houzzflow's own pytest plugin in a source checkout too (installed, the pytest11 entry
# point loads it; the plugin guards against being registered twice).
pytest_plugins = ["houzzflow.simulator.pytest_plugin"]

settings.register_profile("ci", max_examples=50, deadline=None, derandomize=True, print_blob=True)
settings.register_profile("thorough", max_examples=2_000, deadline=None, print_blob=True)
# What CI runs after the suite: the thorough search, fresh each run (CI prints the seed, and
# ``--hypothesis-seed=N`` reproduces it), on fewer examples so it fits CI's time.
settings.register_profile("slice", max_examples=300, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_report_header() -> str:
    """Which build the suite runs on: the pure modules, or the compiled copy's."""
    from houzzflow.engine.native import build_name

    return f"houzzflow: {build_name()} hot modules"


def pytest_configure(config: pytest.Config) -> None:
    """With HOUZZFLOW_EXPECT_COMPILED=1 (CI's run on the compiled copy), refuse to start when
    a hot module would be imported from its .py: that run would test the pure build twice."""
    if os.environ.get("HOUZZFLOW_EXPECT_COMPILED") != "1":
        return
    from houzzflow.engine.native import HOT_MODULES, compiled_modules

    pure = sorted(set(HOT_MODULES) - set(compiled_modules()))
    if pure:
        raise pytest.UsageError(
            "HOUZZFLOW_EXPECT_COMPILED=1 but these hot modules are pure Python here: "
            + ", ".join(pure)
            + " (build the copy with python -m bench.compiled and run pytest from build/compiled)"
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Replay the failure database first: a regression shows up in the first seconds."""
    items.sort(
        key=lambda item: 0 if item.nodeid.startswith("tests/test_failure_database.py") else 1
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how to run the browser tests when they were skipped (pytest hides skip reasons)."""
    skipped = terminalreporter.stats.get("skipped", [])
    reasons = {
        str(report.longrepr[2]).removeprefix("Skipped: ")
        for report in skipped
        if report.nodeid.startswith("tests/test_browser.py") and isinstance(report.longrepr, tuple)
    }
    for reason in sorted(reasons):
        terminalreporter.write_line(f"browser tests skipped: {reason}", yellow=True)
