"""Scenario runs: scenario files, the runner, invariants, timelines and reports."""
