"""Reports of scenario runs: plain text for people, JSON for programs, JUnit XML for CI.

``run_files`` is the library behind ``houzzflow run FILE...``: it reads every scenario first
(a file that cannot be used stops everything before any run, with file:line:column), runs
each, and returns the report in the chosen format with the exit status: 0 when every
expectation holds, 1 when one does not, 2 for input that cannot be used.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from houzzflow.engine.diagnostics import Diagnostic, InputError, Severity
from houzzflow.engine.policy import PROGRAM_NAMES, STATUS_NAMES, Policy, format_duration
from houzzflow.engine.table import houzz_table
from houzzflow.engine.validation import rules_report
from houzzflow.simulator.kernel.timeline import Happening, clock_text, describe
from houzzflow.simulator.runs.gaps import Gap, assumption_gaps
from houzzflow.simulator.runs.invariants import INVARIANTS, SILENT, VISIBLE, Violation
from houzzflow.simulator.runs.runner import SHOWN, RunResult, run_scenario, span_text, told
from houzzflow.simulator.runs.scenario import Scenario, load_scenario

__all__ = ["FORMATS", "Gap", "assumption_gaps", "json_report", "junit_report", "text_report"]

FORMATS = ("text", "json", "junit")
JSON_VIOLATIONS = 100  # violations listed per invariant in JSON (all are counted)
SHOWN_ALERTS = 5


def run_files(
    paths: Sequence[str],
    overrides: Sequence[str],
    fmt: str,
    progress: bool,
    render: Callable[[Sequence[RunResult]], str] | None = None,
) -> tuple[str, int]:
    """Run scenario files; (report, exit status 0 all expectations held | 1 not | 2 bad input).

    ``render``: a renderer of a format drawn above this layer (the HTML page); its runs keep
    what a picture needs (``run_scenario(..., pictures=True)``).
    """
    if render is None and fmt not in FORMATS:
        return f"error: unknown format {fmt!r}; expected one of {', '.join(FORMATS)}\n", 2
    scenarios: list[Scenario] = []
    problems: list[Diagnostic] = []
    for path in paths:
        try:
            scenarios.append(load_scenario(path, overrides))
        except InputError as exc:
            problems += exc.diagnostics
    if problems or not scenarios:
        if not problems:
            return "error: no scenario files given\n", 2
        return "".join(d.render() + "\n" for d in problems), 2
    pictures = render is not None
    results = [_run(s, progress, pictures) for s in scenarios]
    if render is None:
        render = {"text": text_report, "json": json_report, "junit": junit_report}[fmt]
    return render(results), 0 if all(r.ok for r in results) else 1


def _run(scenario: Scenario, progress: bool, pictures: bool = False) -> RunResult:
    if not progress:
        return run_scenario(scenario, pictures=pictures)
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn

    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[clock]}"))
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(scenario.name, total=scenario.duration, clock="")

        def tell(now: int, end: int) -> None:
            draining = " (draining)" if now > scenario.duration else ""
            clock = f"simulated {clock_text(now)}{draining}"
            bar.update(task, completed=now, total=end, clock=clock)

        return run_scenario(scenario, progress=tell, pictures=pictures)


# -- text ------------------------------------------------------------------------------------


def text_report(results: Sequence[RunResult]) -> str:
    blocks = [_text_one(r) for r in results]
    passed = sum(r.ok for r in results)
    summary = f"{passed} of {len(results)} scenario{'s' if len(results) != 1 else ''} passed"
    return "\n\n".join(blocks) + f"\n\n{summary}\n"


def policy_words(policy: Policy) -> str:
    """The CartRover settings in CartRover's words, then what they assume."""
    on = {True: "on", False: "off"}
    parts = [
        f"{PROGRAM_NAMES[policy.connection_type]} connection",
        f"Order Status {STATUS_NAMES[policy.order_status]}",
        f"Mark Orders as Processed {on[policy.mark_processed]}",
        f"Mark Orders as Charged {on[policy.mark_charged]}",
        f"Order Cancel Download {on[policy.cancel_download]}",
        f"polling every {format_duration(policy.poll_interval)}",
    ]
    if policy.earliest_order_date is not None:
        parts.append(f"Earliest Order Date {policy.earliest_order_date.isoformat()}")
    return ", ".join(parts)


def _world_words(result: RunResult) -> str:
    s = result.scenario
    staff = [
        f"{what} {habit}"
        for what, habit in (
            ("process", s.policy.staff_process),
            ("charge", s.policy.staff_charge),
            ("cancel", s.policy.staff_cancel),
        )
        if habit != "never"
    ]
    era = "" if s.program == "vendor" else f" ({'legacy' if s.era == 'legacy' else '2021'} era)"
    who = f"; staff by hand: {', '.join(staff)}" if staff else ""
    resolve = s.spec.world.staff.resolve_errors
    if resolve is not None and resolve.mode != "never":
        who += f"; a person resolves held orders: {resolve.mode}"
    return f"the account is {PROGRAM_NAMES[s.program]}{era}{who}"


def _text_one(result: RunResult) -> str:
    s = result.scenario
    labels = houzz_table(s.program, s.era).labels
    out: list[str] = []
    verdict = "PASS" if result.ok else "FAIL"
    out.append(f"{verdict}  {s.name}" + (f" - {s.spec.description}" if s.spec.description else ""))
    simulated = f"{format_duration(s.duration)} simulated"
    if result.drain.used:
        simulated += f" + {span_text(result.drain.used)} drain"
    facts = [
        s.file,
        f"seed {s.seed}",
        simulated,
        f"{result.placed} orders",
        f"{result.polls} polls",
    ]
    if result.crashes:
        facts.append(f"{result.crashes} connector crash{'es' if result.crashes != 1 else ''}")
    if result.faults:
        facts.append("faults: " + ", ".join(f"{k} {v}" for k, v in result.faults.items()))
    out.append("  " + " · ".join(facts))
    if s.overrides:
        out.append("  with --set " + " --set ".join(s.shown_overrides))
    out.append(f"  policy: {policy_words(s.policy)}")
    out.append(f"  world: {_world_words(result)}")
    out.append("")
    out.append("  Orders by outcome")
    outcomes = sorted(result.verdict.outcomes.items(), key=lambda kv: (-kv[1], kv[0]))
    width = max((len(str(n)) for _, n in outcomes), default=1)
    out += [f"    {n:>{width}}  {what}" for what, n in outcomes]
    out.append("")
    out.append(f"  Drain: {result.drain.words(result.verdict.stuck)}")
    out += _held_lines(result)
    out.append("")
    out += _alert_lines(result)
    out.append("")
    out.append("  Invariants")
    for key, name in INVARIANTS.items():
        found = result.verdict.violations.get(key, [])
        if not found:
            out.append(f"    ✔ {name}")
            continue
        many = "s" if len(found) != 1 else ""
        if key == "lost":
            out.append(f"    ✘ {name}: {len(found)} order{many}")
            out += _lost_lines(found, labels)
            continue
        if key == "stuck":
            out.append(f"    ✘ {name}: {len(found)} order{many} stuck when the run ended")
            out += _kind_lines(found)
        else:
            out.append(f"    ✘ {name}: {len(found)} order{many}")
        for violation in found[:SHOWN]:
            out += _violation_lines(violation, labels)
        if len(found) > SHOWN:
            out.append(f"      ... and {len(found) - SHOWN} more")
    findings = _findings(result) if result.violations else []
    if findings:
        out.append("")
        out.append("  What to change (houzzflow validate on this policy)")
        for d in findings:
            out.append(f"    {d.render()}".replace("\n", "\n    "))
    gaps = assumption_gaps(s)
    if gaps:
        out.append("")
        out.append("  Where this world goes beyond what houzzflow validate assumes for the policy")
        out += [f"    {gap}" for gap in gaps]
    out.append("")
    out.append("  Expectations")
    for r in result.expectations:
        mark = "✔" if r.ok else "✘"
        out.append(f"    {mark} {r.message}  ({r.location})")
    return "\n".join(out)


def _alert_lines(result: RunResult) -> list[str]:
    alerts = result.alerts
    if not alerts:
        return ["  Alerts: none"]
    kinds = Counter(a.kind for a in alerts)
    head = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    lines = [f"  Alerts: {len(alerts)} ({head})"]
    for a in alerts[:SHOWN_ALERTS]:
        lines.append(f"    {clock_text(a.time)}  order {a.order_id}: {a.message}")
    if len(alerts) > SHOWN_ALERTS:
        lines.append(f"    ... and {len(alerts) - SHOWN_ALERTS} more")
    return lines


def _held_lines(result: RunResult) -> list[str]:
    held, accounted = result.counts["held"], result.counts["held_accounted"]
    parts = []
    if held:
        parts.append(f"{held} for a reason a setting caused")
    if accounted:
        parts.append(
            f"{accounted} accounted (a card declined at CartRover's Charge: no setting "
            "prevents it, and its alert shows it)"
        )
    return [f"  Held in Error: {'; '.join(parts)}"] if parts else []


def _lost_lines(found: Sequence[Violation], labels: Any) -> list[str]:
    """Lost orders by kind, the silent ones first, the first few of each with a timeline."""
    lines = []
    for kind in (SILENT, VISIBLE):
        of_kind = [v for v in found if v.kind == kind]
        if not of_kind:
            continue
        lines.append(f"      {len(of_kind)} {kind}")
        for violation in of_kind[:SHOWN]:
            lines += _violation_lines(violation, labels)
        if len(of_kind) > SHOWN:
            lines.append(f"      ... and {len(of_kind) - SHOWN} more {kind.split(' (')[0]}")
    return lines


def _kind_lines(found: Sequence[Violation]) -> list[str]:
    """How many orders are stuck for each reason, most first."""
    kinds = Counter(v.kind for v in found).most_common()
    width = len(str(kinds[0][1]))
    return [f"      {n:>{width}}  {kind}" for kind, n in kinds]


def _violation_lines(violation: Violation, labels: Any) -> list[str]:
    lines = [f"      order {violation.order_id}: {violation.message}"]
    lines += [f"        {describe(h, labels)}" for h in violation.timeline]
    return lines


def _findings(result: RunResult) -> list[Diagnostic]:
    s = result.scenario
    report = rules_report(s.policy, s.policy_doc, s.policy_at)
    return [d for d in report.diagnostics if d.severity is not Severity.INFO]


# -- JSON ------------------------------------------------------------------------------------


def json_report(results: Sequence[RunResult]) -> str:
    data = {
        "ok": all(r.ok for r in results),
        "scenarios": [result_json(r) for r in results],
    }
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _happening_json(h: Happening) -> dict[str, Any]:
    return {
        "time": h.time,
        "clock": clock_text(h.time),
        "actor": h.actor,
        "action": h.action,
        "detail": h.detail,
        "houzz_status": h.houzz_status,
        "connector_status": h.connector_status,
    }


def result_json(result: RunResult) -> dict[str, Any]:
    """One run as plain data with stable keys (no wall-clock time: same seed, same bytes)."""
    s = result.scenario
    invariants: dict[str, Any] = {}
    for key, name in INVARIANTS.items():
        found = result.verdict.violations.get(key, [])
        invariants[key] = {
            "name": name,
            "holds": not found,
            "count": len(found),
            "violations": [
                {
                    "order_id": v.order_id,
                    "message": v.message,
                    "kind": v.kind,
                    "timeline": [_happening_json(h) for h in v.timeline],
                }
                for v in found[:JSON_VIOLATIONS]
            ],
        }
        if key in ("lost", "stuck"):
            invariants[key]["by_kind"] = dict(Counter(v.kind for v in found))
    drain = result.drain
    kinds = Counter(a.kind for a in result.alerts)
    return {
        "name": s.name,
        "description": s.spec.description,
        "file": s.file,
        "overrides": list(s.shown_overrides),
        "seed": s.seed,
        "duration": s.duration,
        "policy": s.policy.to_file_dict(),
        "world": {"program": s.program, "era": s.era},
        "orders": {
            "placed": result.placed,
            "in_flight": result.verdict.in_flight,
            "stuck": result.verdict.stuck,
            "outcomes": dict(result.verdict.outcomes),
        },
        "drain": {
            "limit": drain.limit,
            "used": drain.used,
            "ended": drain.ended,
            "in_flight": drain.in_flight,
            "words": drain.words(result.verdict.stuck),
        },
        "gaps": [gap.to_json() for gap in assumption_gaps(s)],
        "polls": result.polls,
        "crashes": result.crashes,
        "faults": result.faults,
        "counts": result.counts,
        "invariants": invariants,
        "alerts": {
            "count": len(result.alerts),
            "by_kind": dict(kinds),
            "first": [
                {"time": a.time, "order_id": a.order_id, "kind": a.kind, "message": a.message}
                for a in result.alerts[:JSON_VIOLATIONS]
            ],
        },
        "findings": [d.to_json() for d in _findings(result)] if result.violations else [],
        "expectations": [
            {
                "key": r.expectation.key,
                "expected": r.expectation.expected,
                "implied": r.expectation.implied,
                "actual": r.actual,
                "ok": r.ok,
                "missing": list(r.missing),
                "location": str(r.location),
            }
            for r in result.expectations
        ],
        "ok": result.ok,
    }


# -- JUnit XML -------------------------------------------------------------------------------


def junit_report(results: Sequence[RunResult]) -> str:
    """One testcase per scenario, one failure per unmet expectation."""
    failures = sum(1 for r in results if not r.ok)
    attrs = {"name": "houzzflow run", "tests": str(len(results)), "failures": str(failures)}
    suites = ET.Element("testsuites", {**attrs, "errors": "0"})
    suite = ET.SubElement(suites, "testsuite", {**attrs, "errors": "0", "skipped": "0"})
    for result in results:
        s = result.scenario
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": "houzzflow.scenarios", "name": s.name, "file": s.file},
        )
        gaps = assumption_gaps(s)
        if gaps:
            properties = ET.SubElement(case, "properties")
            for gap in gaps:
                ET.SubElement(
                    properties, "property", {"name": f"gap {gap.where}", "value": gap.message}
                )
        for r in result.expectations:
            if r.ok:
                continue
            failure = ET.SubElement(
                case, "failure", {"message": f"{r.message} ({r.location})", "type": "expectation"}
            )
            failure.text = _failure_text(result, r.expectation.key)
        out = ET.SubElement(case, "system-out")
        out.text = _text_one(result)
    ET.indent(suites)
    body = ET.tostring(suites, encoding="unicode")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n"


def _failure_text(result: RunResult, key: str) -> str:
    found = result.verdict.violations.get(key, [])
    lines = [v.render() for v in told(key, found)]
    if not lines:
        lines = [f"{key}: {result.counts.get(key, 0)}"]
    gaps = assumption_gaps(result.scenario)
    if gaps:
        lines.append("beyond what the proof assumes: " + "; ".join(str(g) for g in gaps))
    return "\n".join(lines)
