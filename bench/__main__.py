"""``python -m bench``: houzzflow against what users would write instead, in one run.

Prints a table (``--markdown`` for Markdown) and writes the figures as JSON
(``bench/results.json``, or ``--json PATH``):

* simulation: ``scenarios/seller-default.yaml`` at 10k, 100k and 1M orders: the whole
  ``houzzflow run`` process and the library run, orders per second, peak memory per order;
* baseline A: the same scenario with ``transitions``, one model per order (2k, 10k, 20k);
* baseline B: the same scenario in SimPy, one process per order (10k, 100k);
* the proof tier: explorer throughput (pure Python, and compiled with mypyc when a C
  compiler is present: ``bench/compiled.py``), ``validate``, the whole ``matrix``, start-up;
* a sweep of 1,000 seeds of a 1,000-order scenario in this process, on the local pool and on
  a Dask LocalCluster of 1 and 2 workers: the same runs on each, and the speed-up per worker;
* every goal of the project, met or not.

Each baseline replays houzzflow's own plan for the seed and must reach the same outcomes;
when one does not, or a houzzflow run fails its scenario, the bench exits 1.
``--quick`` runs tiny sizes once (seconds; the test suite runs it). ``--write-results``
regenerates the table section of ``bench/RESULTS.md``; ``--from-json`` renders a saved run
instead of running. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_JSON = ROOT / "bench" / "results.json"
RESULTS_MD = ROOT / "bench" / "RESULTS.md"
SECTIONS = ("simulation", "transitions", "simpy", "proof", "sweep")
SIZES: dict[str, dict[str, list[int]]] = {
    "full": {
        "simulation": [10_000, 100_000, 1_000_000],
        "transitions": [2_000, 10_000, 20_000],
        "simpy": [10_000, 100_000],
    },
    "quick": {"simulation": [1_000, 3_000], "transitions": [200, 500], "simpy": [1_000, 3_000]},
}
TITLES = {
    "transitions": "Baseline A: transitions, one Machine model per order (add_model is "
    "quadratic: watch µs/order grow)",
    "simpy": "Baseline B: SimPy, one process per order",
}


def _progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _baseline(name: str, sizes: list[int], runs: int, compiled: str) -> dict[str, Any]:
    """One baseline beside pure houzzflow, then beside the compiled copy in a child process
    (``compiled`` is "" when the copy is built, else why not)."""
    from bench.interleave import baseline_named, side_by_side

    section: dict[str, Any] = {"name": name, "title": TITLES[name], "rows": []}
    if name == "simpy":
        from bench.baselines import simpy_model

        reason = simpy_model.unavailable()
        if reason:
            _progress(reason)
            return {**section, "skipped": reason}
    section["rows"] = side_by_side(name, baseline_named(name), sizes, runs, _progress)
    if compiled:
        return {**section, "compiled_skipped": compiled}
    from bench import compiled as mypyc_copy

    _progress(f"{name}: the same beside the compiled copy")
    done = subprocess.run(
        mypyc_copy.child_command("-m", "bench.interleave", name, str(runs), *map(str, sizes)),
        cwd=ROOT,
        env=mypyc_copy.child_env(),
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    figures = json.loads(done.stdout) if done.returncode == 0 else {}
    if figures.get("build") != "compiled":
        return {**section, "compiled_skipped": f"the compiled run failed (exit {done.returncode})"}
    return {**section, "rows_compiled": figures["rows"]}


def _proof(quick: bool, compiled: str) -> dict[str, Any]:
    from bench import proof_bench

    _progress("explorer throughput")
    explorer = proof_bench.explorer_throughput(quick=quick)
    figures: dict[str, Any] = {"explorer": explorer}
    if not quick:
        from bench import compiled as mypyc_copy

        _progress("explorer throughput, compiled with mypyc")
        figures["explorer_compiled"] = (
            {"skipped": compiled} if compiled else mypyc_copy.explorer_figures(quick=quick)
        )
    _progress("houzzflow validate")
    validate = proof_bench.validate_wall(quick=quick)
    _progress("houzzflow matrix")
    matrix = proof_bench.matrix_wall(quick=quick)
    _progress("houzzflow --help")
    startup = proof_bench.startup_wall(quick=quick)
    return {**figures, "validate": validate, "matrix": matrix, "startup": startup}


def _problems(results: dict[str, Any]) -> list[str]:
    found = []
    for row in (results.get("simulation") or {}).get("rows", []):
        if row["problem"]:
            found.append(f"simulation at {row['orders']:,} orders: {row['problem']}")
    for section in (results.get("baselines") or {}).values():
        for key, build in (("rows", ""), ("rows_compiled", " (compiled)")):
            for row in section.get(key, []):
                if row["problem"]:
                    found.append(
                        f"{section['name']}{build} at {row['orders']:,} orders: {row['problem']}"
                    )
    for key, wall in (results.get("proof") or {}).items():
        if not key.startswith("explorer") and wall["problem"]:
            found.append(f"{wall['command']}: {wall['problem']}")
    if (results.get("sweep") or {}).get("problem"):
        found.append(f"sweep: {results['sweep']['problem']}")
    return found


def run(
    sections: list[str], *, quick: bool, runs: int, largest_runs: int, compiled: bool = True
) -> dict[str, Any]:
    """Run the chosen sections; the results dictionary (what the JSON holds)."""
    from bench import meta

    sizes = SIZES["quick" if quick else "full"]
    results: dict[str, Any] = {
        "meta": meta.describe(quick=quick, runs=runs, largest_runs=largest_runs)
    }
    # The compiled copy (bench/compiled.py) is measured beside pure Python in a full run;
    # why_not says why it is not ("" when it is).
    why_not = "not in a quick run" if quick else "--pure" if not compiled else ""
    if not why_not and any(s in sections for s in ("simulation", "transitions", "simpy", "proof")):
        from bench import compiled as mypyc_copy

        _progress("building the compiled copy with mypyc (the first time: minutes)")
        why_not = mypyc_copy.build()
        if why_not:
            _progress(f"no compiled copy: {why_not}")
    results["meta"]["compiled"] = why_not or "measured beside pure Python"
    if "simulation" in sections:
        from bench.simulation import simulation

        results["simulation"] = simulation(
            sizes["simulation"], runs, largest_runs, _progress, compiled=why_not
        )
    baselines = {}
    for name in ("transitions", "simpy"):
        if name in sections:
            baselines[name] = _baseline(name, sizes[name], runs, why_not)
    if baselines:
        results["baselines"] = baselines
    if "proof" in sections:
        results["proof"] = _proof(quick, why_not)
    if "sweep" in sections:
        from bench.sweep_bench import sweep_bench

        results["sweep"] = sweep_bench(quick=quick, progress=_progress)
    results["meta"]["load_after"] = list(os.getloadavg())
    results["problems"] = _problems(results)
    from bench.targets import evaluate

    results["targets"] = evaluate(results)
    return results


def _sections(text: str) -> list[str]:
    chosen = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown section {', '.join(unknown)}; choose from {', '.join(SECTIONS)}"
        )
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="houzzflow against what users would write instead, side by side.",
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one run: seconds")
    parser.add_argument("--runs", type=int, default=None, help="runs per figure (default 3)")
    parser.add_argument(
        "--largest-runs",
        type=int,
        default=None,
        help="runs at the largest simulation size (default 3, 1 with --quick: its linear-cost "
        "figure is judged on the median)",
    )
    parser.add_argument(
        "--only", type=_sections, default=list(SECTIONS), help=f"of {','.join(SECTIONS)}"
    )
    parser.add_argument(
        "--pure",
        action="store_true",
        help="pure Python only: no compiled copy of the hot modules (see bench/compiled.py)",
    )
    parser.add_argument("--json", type=Path, default=RESULTS_JSON, help="where to write JSON")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument(
        "--write-results", action="store_true", help="regenerate bench/RESULTS.md's table"
    )
    parser.add_argument("--from-json", type=Path, help="render a saved run instead of running")
    parser.add_argument("--profile", type=int, metavar="N", help="cProfile a run of N orders")
    args = parser.parse_args(argv)
    from houzzflow.engine.native import build_name

    if build_name() != "pure Python":
        # Its in-process figures would be labelled pure Python; it runs the copy itself.
        parser.error(
            f"this process imports a {build_name()} houzzflow: run the bench from the checkout "
            "without PYTHONPATH or PYTHONSAFEPATH set; it measures the compiled copy itself"
        )
    if args.profile is not None:
        from bench.simulation import profile

        profile(args.profile)
        return 0
    if args.from_json is not None:
        results = json.loads(args.from_json.read_text(encoding="utf-8"))
    else:
        runs = args.runs or (1 if args.quick else 3)
        largest = args.largest_runs or (1 if args.quick else 3)
        if runs < 1 or largest < 1:
            parser.error("--runs and --largest-runs must be 1 or more")
        from bench.plan import PlanError

        try:
            results = run(
                args.only, quick=args.quick, runs=runs, largest_runs=largest, compiled=not args.pure
            )
        except PlanError as exc:
            _progress(f"cannot compare houzzflow with the baselines: {exc}")
            return 1
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        _progress(f"figures written to {args.json}")
    from bench.report import render, write_results

    print(render(results, markdown=args.markdown), end="")
    if args.write_results:
        write_results(RESULTS_MD, results)
        _progress(f"table section of {RESULTS_MD.relative_to(ROOT)} regenerated")
    return 1 if results.get("problems") else 0


if __name__ == "__main__":
    raise SystemExit(main())
