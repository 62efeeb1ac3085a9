"""A sweep as text for people, JSON for programs, CSV for spreadsheets.

No wall-clock time appears in any of them: the same sweep gives the same bytes, whatever ran
it, except the ``executor`` it records.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from houzzflow.simulator.kernel.escape import json_text
from houzzflow.simulator.sweep.stats import INTERVAL_NAMES, Distribution
from houzzflow.simulator.sweep.sweep import HEADLINE, PointResult, Rate, Sweep

FORMATS = ("text", "json", "csv")
RATE_WIDTH = 25


def render(sweep: Sweep, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(sweep_json(sweep), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return sweep_csv(sweep)
    if fmt == "text":
        return sweep_text(sweep)
    raise ValueError(f"format={fmt!r}: expected one of {', '.join(FORMATS)}")


def text_report(sweep: Sweep, *, quiet: bool = False, **_: Any) -> str:
    """``houzzflow sweep``'s text (quiet: its first line, the scenario's name)."""
    text = sweep_text(sweep)
    return text.split("\n", 1)[0] + "\n" if quiet else text


def json_report(sweep: Sweep, **_: Any) -> str:
    """``--format json``, every character JSON parsers choke on escaped."""
    return json_text(sweep_json(sweep), indent=1, sort_keys=True) + "\n"


def csv_report(sweep: Sweep, **_: Any) -> str:
    return sweep_csv(sweep)


# -- text ------------------------------------------------------------------------------------


def _rate_cell(rate: Rate | None) -> str:
    if rate is None:
        return "-".rjust(RATE_WIDTH)
    return f"{rate.per_1000:8.2f} [{rate.low:6.2f}, {rate.high:6.2f}]".rjust(RATE_WIDTH)


def _runs(n: int) -> str:
    return f"{n:,} run{'s' if n != 1 else ''}"


def _headline(sweep: Sweep) -> list[str]:
    present = [k for k in HEADLINE if any(k in p.rates for p in sweep.points)]
    keys = ", ".join(key for key, _ in sweep.vary) or "grid point"
    width = max([len(keys), *(len(_values(p)) for p in sweep.points)])
    head = f"    {keys:<{width}}  {'runs':>6}  {'passed':>6}"
    head += "".join(f"  {k:>{RATE_WIDTH}}" for k in present)
    lines = [head]
    for p in sweep.points:
        row = f"    {_values(p):<{width}}  {len(p.samples):>6}  {p.passed:>6}"
        row += "".join(f"  {_rate_cell(p.rates.get(k))}" for k in present)
        lines.append(row + ("  (stopped early)" if p.stopped_early else ""))
    return lines


def _values(point: PointResult) -> str:
    return ", ".join(v for _, v in point.values) or "as written"


def _distribution_lines(name: str, d: Distribution, width: int) -> str:
    return f"      {name:<{width}}  {d.mean:9.1f}  {d.median:7.1f}  {d.p95:7.1f}  {d.max:7}"


def _per_run(point: PointResult) -> list[str]:
    shown = {k: d for k, d in point.counts.items() if d.max}
    zero = [k for k, d in point.counts.items() if not d.max]
    names = ["orders placed", *shown, *point.outcomes]
    width = max(len(n) for n in names)
    lines = [f"    {point.label} ({_runs(len(point.samples))})"]
    lines.append(f"      {'':<{width}}  {'mean':>9}  {'median':>7}  {'p95':>7}  {'max':>7}")
    lines.append(_distribution_lines("orders placed", point.placed, width))
    lines += [_distribution_lines(k, d, width) for k, d in shown.items()]
    lines += [_distribution_lines(k, d, width) for k, d in point.outcomes.items()]
    if zero:
        lines.append(f"      0 in every run: {', '.join(zero)}")
    return lines


def sweep_text(sweep: Sweep) -> str:
    first = sweep.points[0]
    runs = sum(len(p.samples) for p in sweep.points)
    out = [sweep.name + (f" - {sweep.description}" if sweep.description else "")]
    grid = f"{len(sweep.points)} grid point{'s' if len(sweep.points) != 1 else ''}"
    out.append(
        f"  {sweep.file} · {grid} x {sweep.seeds:,} seeds · sweep seed {sweep.seed} · {_runs(runs)}"
    )
    if sweep.overrides:
        out.append("  with --set " + " --set ".join(sweep.overrides))
    for key, values in sweep.vary:
        out.append(f"  --vary {key}={','.join(values)}")
    out.append(f"  ran on: {sweep.executor_label} · houzzflow {sweep.version}")
    out.append("")
    out.append(f"  Per 1,000 orders placed ({INTERVAL_NAMES[sweep.interval]})")
    out += _headline(sweep)
    if sweep.precision is not None:
        stopped = sum(p.stopped_early for p in sweep.points)
        out.append(
            f"    early stopping: {stopped} of {len(sweep.points)} grid points reached "
            f"intervals no wider than {sweep.precision:g} before {sweep.seeds:,} runs"
        )
    out.append("")
    out.append("  Per run: mean, median, 95th percentile, max")
    for p in sweep.points:
        out += _per_run(p)
    passed = sum(p.passed for p in sweep.points)
    out.append("")
    out.append(f"  {passed:,} of {_runs(runs)} met the scenario's expectations")
    if first.samples:
        sets = [*sweep.overrides, *(f"{k}={v}" for k, v in first.values)]
        again = "".join(f" --set {text}" for text in sets)
        out.append(
            f"  run 1 of {first.label} again: houzzflow run {sweep.file}{again} "
            f"--seed {first.samples[0].seed}"
        )
    return "\n".join(out) + "\n"


# -- JSON ------------------------------------------------------------------------------------


def _point_json(p: PointResult) -> dict[str, Any]:
    return {
        "index": p.index,
        "values": dict(p.values),
        "label": p.label,
        "runs": len(p.samples),
        "passed": p.passed,
        "stopped_early": p.stopped_early,
        "placed": p.placed.to_json(),
        "counts": {k: d.to_json() for k, d in p.counts.items()},
        "outcomes": {k: d.to_json() for k, d in p.outcomes.items()},
        "rates_per_1000": {k: r.to_json() if r else None for k, r in p.rates.items()},
        "samples": [
            {"index": s.index, "seed": s.seed, "placed": s.placed, "ok": s.ok, "counts": s.counts}
            for s in p.samples
        ],
    }


def sweep_json(sweep: Sweep) -> dict[str, Any]:
    """The sweep as plain data with stable keys (what ``--format json`` prints)."""
    return {
        "houzzflow": sweep.version,
        "executor": sweep.executor,
        "file": sweep.file,
        "name": sweep.name,
        "description": sweep.description,
        "seed": sweep.seed,
        "seeds": sweep.seeds,
        "overrides": list(sweep.overrides),
        "vary": {key: list(values) for key, values in sweep.vary},
        "interval": {"method": sweep.interval, "confidence": 0.95},
        "precision": sweep.precision,
        "ok": sweep.ok,
        "points": [_point_json(p) for p in sweep.points],
    }


# -- CSV -------------------------------------------------------------------------------------


def sweep_csv(sweep: Sweep) -> str:
    """One row per grid point and measure: its distribution over runs, and its rate."""
    keys = [key for key, _ in sweep.vary]
    fields = ["point", *keys, "runs", "measure", "key"]
    fields += ["mean", "median", "p95", "max", "per_1000", "low", "high"]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for p in sweep.points:
        base: dict[str, Any] = {"point": p.index, **dict(p.values), "runs": len(p.samples)}
        measures: list[tuple[str, str, Distribution, Rate | None]]
        measures = [("placed", "orders", p.placed, None)]
        measures += [("count", k, d, p.rates.get(k)) for k, d in p.counts.items()]
        measures += [("outcome", k, d, None) for k, d in p.outcomes.items()]
        for measure, key, d, rate in measures:
            row = {**base, "measure": measure, "key": key, **d.to_json()}
            row.update(rate.to_json() if rate else {"per_1000": "", "low": "", "high": ""})
            writer.writerow(row)
    return buf.getvalue()
