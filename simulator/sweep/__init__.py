"""Sweeps: a scenario over many seeds and a grid of overrides, and the statistics of its runs."""
