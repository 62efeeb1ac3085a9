"""``python -m houzzflow``: the same command line as the ``houzzflow`` script."""

from houzzflow.simulator.cli import main

main(prog_name="houzzflow")
