"""Simulation benchmark: ``scenarios/seller-default.yaml`` at 10,000 and 100,000 orders.

Each size runs in a fresh Python process (``--child N``), so one size's memory never counts
against another's: the child loads the scenario, notes its peak resident memory, runs the
simulation through the library (as ``houzzflow run --set world.orders.count=N`` would),
and reports the wall time and the growth of its peak memory. The parent prints orders per
second, peak memory per order, and whether the goals hold (>= 150,000 orders/s, <= 1 KB per
order, cost linear in the number of orders). ``--quick`` runs small sizes in seconds;
``--profile N`` prints where the time goes at N orders (cProfile).

Timing figures depend on the machine and on what else runs on it: they are reported, never
asserted by the test suite.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "seller-default.yaml"
GOAL_RATE = 150_000  # orders per second
GOAL_BYTES = 1024  # peak memory per order
LINEAR_SLACK = 1.5  # cost per order at the large size may be this much of the small one's


def _peak_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def child(count: int) -> dict[str, float]:
    """One measured run in this process (the parent starts a fresh one per size)."""
    from simulator.runs.runner import run_scenario
    from simulator.runs.scenario import load_scenario

    scenario = load_scenario(SCENARIO, [f"world.orders.count={count}"])
    run_scenario(load_scenario(SCENARIO, ["world.orders.count=200"]))  # warm the imports
    before = _peak_bytes()
    start = time.perf_counter()
    result = run_scenario(scenario)
    seconds = time.perf_counter() - start
    grown = max(0, _peak_bytes() - before)
    if not result.ok:
        raise SystemExit(f"seller-default at {count} orders did not meet its expectations")
    return {"orders": result.placed, "seconds": seconds, "bytes": grown}


def measure(count: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "bench", "--child", str(count)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    figures: dict[str, float] = json.loads(out.stdout)
    return figures


def profile(count: int) -> None:
    from simulator.runs.runner import run_scenario
    from simulator.runs.scenario import load_scenario

    scenario = load_scenario(SCENARIO, [f"world.orders.count={count}"])
    profiler = cProfile.Profile()
    profiler.runcall(run_scenario, scenario)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def report(sizes: list[int]) -> str:
    rows = [measure(n) for n in sizes]
    lines = [
        f"houzzflow simulation benchmark: {SCENARIO.relative_to(ROOT)}",
        f"  {'orders':>9}  {'seconds':>8}  {'orders/s':>9}  {'peak memory/order':>18}",
    ]
    for row in rows:
        rate = row["orders"] / row["seconds"]
        per = row["bytes"] / row["orders"]
        lines.append(
            f"  {int(row['orders']):>9,}  {row['seconds']:>8.2f}  {rate:>9,.0f}  {per:>16,.0f} B"
        )
    big = rows[-1]
    rate = big["orders"] / big["seconds"]
    per_order = big["bytes"] / big["orders"]
    cost = [row["seconds"] / row["orders"] for row in rows]
    growth = cost[-1] / cost[0] if len(cost) > 1 else 1.0

    def mark(ok: bool) -> str:
        return "✔" if ok else "✘"

    lines.append(
        f"goals at {int(big['orders']):,} orders: "
        f"{mark(rate >= GOAL_RATE)} >= {GOAL_RATE:,} orders/s ({rate:,.0f}); "
        f"{mark(per_order <= GOAL_BYTES)} <= 1 KB per order ({per_order:,.0f} B); "
        f"{mark(growth <= LINEAR_SLACK)} linear (cost per order {growth:.2f}x that at "
        f"{int(rows[0]['orders']):,})"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    parser.add_argument("--profile", type=int, metavar="N", help="cProfile a run of N orders")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(child(args.child)))
        return 0
    if args.profile is not None:
        profile(args.profile)
        return 0
    print(report([1_000, 5_000] if args.quick else [10_000, 100_000]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
