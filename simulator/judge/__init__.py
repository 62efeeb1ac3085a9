"""Judging a connector under test: the calls it made, the warehouse it reached, its verdict
by the project's own invariants plus Houzz's wire etiquette, and the conformance battery."""
