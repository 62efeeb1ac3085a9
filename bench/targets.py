"""The project's speed and memory goals (issues 3, 4, 6 and 15), judged against a bench's results.

Each goal is met, missed, or not measured (its section did not run). Which figure a goal
reads is part of its description, so nobody has to guess:

* orders per second: the whole ``houzzflow run`` process at 100,000 orders (issue 3's size;
  the largest size below it in a quick run), on the compiled copy (issue 15: "(compiled)");
  and in pure Python against ``PURE_FACTOR`` times ``PURE_BASELINE``, the figure before
  issue 15;
* the other goals name no build: each is judged on the better of the two, and its figure
  gives both (pure Python alone when no compiled copy was measured);
* memory per order: peak RSS growth per order at the largest size, where the interpreter's
  fixed costs weigh least;
* linear cost: ``run_scenario`` time at the largest size against the next one down, which
  must grow no faster than the number of orders (1M <= 10x 100k);
* baselines: the median speed-up at the largest size both ran.
"""

from __future__ import annotations

from typing import Any, TypedDict

RATE = 150_000  # orders per second, compiled
RATE_SIZE = 100_000
# Issue 15: "at least 2x today's figure in pure Python"; today's is bench/RESULTS.md's table
# before issue 15 (commit 5bfb387): the whole process at 100,000 orders.
PURE_BASELINE = 28_626
PURE_FACTOR = 2.0
BYTES_PER_ORDER = 500  # issue 15 (issue 3 asked for 1,024)
SPEEDUP_SIMPY = 5.0
SPEEDUP_TRANSITIONS = 100.0
STATES_PER_SECOND = 300_000
VALIDATE_SECONDS = 1.5
MATRIX_SECONDS = 60.0
STARTUP_SECONDS = 0.3


class Target(TypedDict):
    name: str
    goal: str
    figure: str  # the measured figure, in words ("" when not measured)
    met: bool | None  # None: not measured


def _target(name: str, goal: str, figure: str = "", met: bool | None = None) -> Target:
    return Target(name=name, goal=goal, figure=figure, met=met)


def _both(pure: float, compiled: float | None, unit: str = "") -> str:
    """A pure figure, and the compiled one beside it when there is one."""
    if compiled is None:
        return f"{pure:,.0f}{unit}"
    return f"{pure:,.0f}{unit} pure Python, {compiled:,.0f}{unit} compiled"


def _simulation(results: dict[str, Any]) -> list[Target]:
    rate_goal = f">= {RATE:,} orders/s (whole houzzflow run process, compiled)"
    pure_goal = (
        f">= {PURE_FACTOR:g}x {PURE_BASELINE:,} = {PURE_FACTOR * PURE_BASELINE:,.0f} orders/s "
        "(whole process, pure Python; before issue 15)"
    )
    memory_goal = f"<= {BYTES_PER_ORDER:,} B peak memory per order (RSS)"
    linear_goal = "1M orders <= 10x the time of 100k (cost per order does not grow)"
    section = results.get("simulation") or {}
    rows = section.get("rows") or []
    if not rows:
        return [
            _target("simulation speed", rate_goal),
            _target("simulation speed, pure Python", pure_goal),
            _target("memory per order", memory_goal),
            _target("linear cost", linear_goal),
        ]
    fitting = [r for r in rows if r["orders"] <= RATE_SIZE] or rows[:1]
    at = max(fitting, key=lambda r: r["orders"])
    fast = at.get("compiled")
    if fast:
        rate = _target(
            "simulation speed",
            rate_goal,
            f"{fast['process_rate']:,.0f} orders/s at {at['orders']:,} orders "
            f"(run_scenario alone: {fast['run_rate']:,.0f})",
            fast["process_rate"] >= RATE,
        )
    else:
        why = section.get("compiled_skipped", "not measured")
        rate = _target("simulation speed", rate_goal, f"no compiled copy: {why}")
    pure_rate = _target(
        "simulation speed, pure Python",
        pure_goal,
        f"{at['process_rate']:,.0f} orders/s at {at['orders']:,} orders "
        f"(run_scenario alone: {at['run_rate']:,.0f})",
        at["process_rate"] >= PURE_FACTOR * PURE_BASELINE,
    )
    big = rows[-1]
    traced = big["traced_per_order"]
    big_fast = big.get("compiled")
    memory = _target(
        "memory per order",
        memory_goal,
        _both(big["rss_per_order"], big_fast and big_fast["rss_per_order"], " B")
        + f" at {big['orders']:,} orders"
        + ("" if traced is None else f" (tracemalloc: {traced:,.0f} B)"),
        min(big["rss_per_order"], big_fast["rss_per_order"] if big_fast else big["rss_per_order"])
        <= BYTES_PER_ORDER,
    )
    if len(rows) < 2:
        return [rate, pure_rate, memory, _target("linear cost", linear_goal)]
    small = rows[-2]
    size_ratio = big["orders"] / small["orders"]
    ratios = [big["run_seconds"] / small["run_seconds"]]
    if big_fast and small.get("compiled"):
        ratios.append(big_fast["run_seconds"] / small["compiled"]["run_seconds"])
    shown = " pure Python" if len(ratios) == 2 else ""
    if len(ratios) == 2:
        shown += f", {ratios[1]:.2f}x compiled"
    linear = _target(
        "linear cost",
        linear_goal,
        f"{big['orders']:,} orders took {ratios[0]:.2f}x the time of {small['orders']:,}"
        f"{shown} ({size_ratio:.0f}x the orders)",
        min(ratios) <= size_ratio,
    )
    return [rate, pure_rate, memory, linear]


def _baseline(results: dict[str, Any], key: str, name: str, goal: float) -> Target:
    text = f">= {goal:g}x faster, at the largest common size"
    section = (results.get("baselines") or {}).get(key) or {}
    rows = section.get("rows") or []
    if not rows:
        return _target(f"vs {name}", text, section.get("skipped", ""))
    row = rows[-1]
    fast = next((r for r in section.get("rows_compiled", []) if r["orders"] == row["orders"]), None)
    figure = f"{row['speedup']:,.1f}x" + (
        f" pure Python, {fast['speedup']:,.1f}x compiled" if fast else ""
    )
    best = max(row["speedup"], fast["speedup"] if fast else 0.0)
    return _target(
        f"vs {name}",
        text,
        f"{figure} at {row['orders']:,} orders",
        best >= goal and not row["problem"] and not (fast and fast["problem"]),
    )


def _proof(results: dict[str, Any]) -> list[Target]:
    proof = results.get("proof") or {}
    explorer = proof.get("explorer")
    compiled = proof.get("explorer_compiled") or {}
    figure = f"{explorer['states_per_second']:,.0f} states/s" if explorer else ""
    best = explorer["states_per_second"] if explorer else 0
    if explorer and "states_per_second" in compiled:
        figure += f" pure Python, {compiled['states_per_second']:,.0f} compiled"
        best = max(best, compiled["states_per_second"])
    found = [
        _target(
            "explorer",
            f">= {STATES_PER_SECOND:,} states/s",
            figure,
            best >= STATES_PER_SECOND if explorer else None,
        )
    ]
    for key, name, limit in (
        ("validate", "validate", VALIDATE_SECONDS),
        ("matrix", "matrix", MATRIX_SECONDS),
        ("startup", "start-up", STARTUP_SECONDS),
    ):
        wall = proof.get(key)
        goal = f"<= {limit:g} s" + (" on 2 cores" if key == "matrix" else "")
        if not wall:
            found.append(_target(name, goal))
            continue
        seconds = wall["seconds"]
        figure = f"{seconds * 1000:,.0f} ms" if limit < 1 else f"{seconds:,.2f} s"
        found.append(_target(name, goal, figure, seconds <= limit and not wall["problem"]))
    return found


def evaluate(results: dict[str, Any]) -> list[Target]:
    """Every goal, in the order the issues list them."""
    simulation = _simulation(results)
    return [
        *simulation[:2],
        _baseline(results, "simpy", "SimPy (baseline B)", SPEEDUP_SIMPY),
        _baseline(results, "transitions", "transitions (baseline A)", SPEEDUP_TRANSITIONS),
        *simulation[2:],
        *_proof(results),
    ]
