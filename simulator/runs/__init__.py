"""Scenario runs: scenario files, the runner, invariants, reports and the harness adapter."""
