"""``python -m houzzflow``: the same command line as the ``houzzflow`` script."""

from houzzflow.simulator.cli import entry

entry(prog_name="houzzflow")
