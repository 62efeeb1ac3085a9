"""What a Python engineer would write instead of houzzflow, to compare speeds honestly.

Each baseline replays houzzflow's plan for a seed (``bench.plan``) with its own mechanism
and counts the same outcomes; the bench fails when the counts differ.
"""
