"""houzzflow's benchmarks against what users would write instead (``python -m bench``).

``simulation``: houzzflow's own figures; ``plan``: the per-order plan of a houzzflow run that
the ``baselines`` (transitions, SimPy) replay; ``interleave``: houzzflow and a baseline side
by side; ``proof_bench``: the proof tier and start-up; ``targets``: the project's goals;
``report``: the table and ``RESULTS.md``; ``meta``: the machine and the moment.
"""
