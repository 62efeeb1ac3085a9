"""The kernel every layer above builds on: the clock, the timeline of happenings, fault plans
and their injection, and order ids. It imports nothing of houzzflow but the engine."""
