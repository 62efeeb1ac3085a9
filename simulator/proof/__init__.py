"""Proof: bounded exhaustive exploration of a policy and the settings matrix."""
