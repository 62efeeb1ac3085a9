"""houzzflow's simulator: a fake Houzz, the world around it, runs, invariants and proof.

It hosts the engine (CartRover's connector) the way a test bench hosts the device under
test. Grouped by concern: ``houzz`` (the fake marketplace: state, wire format, HTTP),
``world`` (clock, customers, staff, warehouse, faults), ``runs`` (scenarios, runner,
invariants, reports) and ``proof`` (explorer, matrix); ``cli`` and ``pytest_plugin`` are
thin edges.
"""
