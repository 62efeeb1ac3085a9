"""houzzflow's benchmarks: how fast and how lean a simulation runs (``python -m bench``)."""
