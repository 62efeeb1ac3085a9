"""Reports of scenario runs: plain text for people, JSON for programs, JUnit XML for CI.

``run_items`` is the library behind ``houzzflow run FILE...`` (the command renders its items
through ``houzzflow.simulator.output``'s format table, where the HTML page joins these three);
``run_files`` is the same in one call, for the text, JSON and JUnit reports. Every file is
judged on its own. A file that cannot be used (a YAML mistake, a policy file given for a
scenario) is a failed item in every format, with its diagnostics, and the other files still
run; the exit status is the worst: 0 when every expectation holds, 1 when one does not, 2
when a file cannot be used.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from houzzflow.engine.diagnostics import Diagnostic, InputError, Severity
from houzzflow.engine.policy import PROGRAM_NAMES, STATUS_NAMES, Policy, format_duration
from houzzflow.engine.table import houzz_table
from houzzflow.engine.validation import rules_report
from houzzflow.engine.yamlsource import NamedText
from houzzflow.simulator.kernel.escape import json_text, xml_safe
from houzzflow.simulator.kernel.timeline import clock_text, describe, happening_json
from houzzflow.simulator.kernel.words import plural
from houzzflow.simulator.runs.gaps import Gap, assumption_gaps
from houzzflow.simulator.runs.invariants import INVARIANTS, SILENT, VISIBLE, Violation
from houzzflow.simulator.runs.runner import SHOWN, RunResult, run_scenario, span_text, told
from houzzflow.simulator.runs.scenario import load_scenario

if TYPE_CHECKING:  # JUnit only: not imported for a plain run
    import xml.etree.ElementTree as ET

__all__ = [
    "FORMATS",
    "Gap",
    "Unreadable",
    "assumption_gaps",
    "json_report",
    "junit_report",
    "run_items",
    "text_report",
]

FORMATS = ("text", "json", "junit")
JSON_VIOLATIONS = 100  # violations listed per invariant in JSON (all are counted)
MAX_VIOLATIONS = 10_000  # the most --max-violations may ask to list
SHOWN_ALERTS = 5


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A file ``houzzflow run`` could not use: a failed item with its diagnostics."""

    file: str
    diagnostics: tuple[Diagnostic, ...]
    ok = False


Item = RunResult | Unreadable
Source = str | NamedText


def run_items(
    paths: Sequence[Source],
    overrides: Sequence[str],
    progress: bool = False,
    seconds: list[float] | None = None,
    *,
    pictures: bool = False,
) -> list[Item]:
    """Each file's run, in the order given, or its diagnostics when it cannot be used.

    ``seconds``, when given, receives each item's wall-clock time (for JUnit's ``time``);
    ``pictures`` keeps what the HTML page draws (``run_scenario(..., pictures=True)``).
    """
    items: list[Item] = []
    for path in paths:
        started = time.perf_counter()
        try:
            scenario = load_scenario(path, overrides)
        except InputError as exc:
            name = path.name if isinstance(path, NamedText) else str(path)
            items.append(Unreadable(name, tuple(exc.diagnostics)))
        else:
            items.append(_run(scenario, progress, pictures))
        if seconds is not None:
            seconds.append(time.perf_counter() - started)
    return items


def exit_status(items: Sequence[Item]) -> int:
    """The worst of the items: 2 a file cannot be used, 1 an expectation failed, else 0."""
    if any(isinstance(item, Unreadable) for item in items):
        return 2
    return 0 if all(item.ok for item in items) else 1


def run_files(
    paths: Sequence[Source], overrides: Sequence[str], fmt: str, progress: bool
) -> tuple[str, int]:
    """Run scenario files; (report, exit status 0 all expectations held | 1 not | 2 bad input)."""
    if fmt not in FORMATS:
        return f"error: unknown format {fmt!r}; expected one of {', '.join(FORMATS)}\n", 2
    if not paths:
        return "error: no scenario files given\n", 2
    items = run_items(paths, overrides, progress)
    render: Callable[[Sequence[Item]], str] = {
        "text": text_report,
        "json": json_report,
        "junit": junit_report,
    }[fmt]
    return render(items), exit_status(items)


def _run(scenario: Any, progress: bool, pictures: bool = False) -> RunResult:
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


def text_report(
    results: Sequence[Item], *, shown: int = SHOWN, quiet: bool = False, **_: Any
) -> str:
    """Each scenario's report (with ``quiet``, its first line), then how many passed.

    ``shown`` is how many violations of each invariant are told with their timelines."""
    blocks = [
        _unreadable_text(r) if isinstance(r, Unreadable) else _text_one(r, shown) for r in results
    ]
    if quiet:  # the first line, and why a file could not be used (errors are never quiet)
        blocks = [
            "\n".join([block.split("\n", 1)[0], *_error_lines(r)])
            if isinstance(r, Unreadable)
            else block.split("\n", 1)[0]
            for block, r in zip(blocks, results, strict=True)
        ]
    passed = sum(r.ok for r in results)
    summary = f"{passed} of {plural(len(results), 'scenario')} passed"
    bad = sum(isinstance(r, Unreadable) for r in results)
    if bad:
        summary += f"; {plural(bad, 'file')} could not be used"
    joint = "\n" if quiet else "\n\n"
    return joint.join(blocks) + f"\n\n{summary}\n"


def _error_lines(item: Unreadable) -> list[str]:
    """Each error's ``file:line:col: severity CODE message`` line, without its fix."""
    return ["  " + d.head for d in item.diagnostics if d.severity is Severity.ERROR]


def _unreadable_text(item: Unreadable) -> str:
    lines = [f"ERROR {item.file} - cannot be used"]
    lines += ["  " + d.render().replace("\n", "\n  ") for d in item.diagnostics]
    return "\n".join(lines)


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


def _text_one(result: RunResult, shown: int = SHOWN) -> str:
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
        plural(result.placed, "order"),
        plural(result.polls, "poll"),
    ]
    if result.crashes:
        facts.append(plural(result.crashes, "connector crash", "connector crashes"))
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
        orders = plural(len(found), "order")
        if key == "lost":
            out.append(f"    ✘ {name}: {orders}")
            out += _lost_lines(found, labels, shown)
            continue
        if key == "stuck":
            out.append(f"    ✘ {name}: {orders} stuck when the run ended")
            out += _kind_lines(found)
        else:
            out.append(f"    ✘ {name}: {orders}")
        for violation in found[:shown]:
            out += _violation_lines(violation, labels)
        if len(found) > shown:
            out.append(f"      ... and {len(found) - shown} more")
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


def _lost_lines(found: Sequence[Violation], labels: Any, shown: int = SHOWN) -> list[str]:
    """Lost orders by kind, the silent ones first, the first few of each with a timeline."""
    lines = []
    for kind in (SILENT, VISIBLE):
        of_kind = [v for v in found if v.kind == kind]
        if not of_kind:
            continue
        lines.append(f"      {len(of_kind)} {kind}")
        for violation in of_kind[:shown]:
            lines += _violation_lines(violation, labels)
        if len(of_kind) > shown:
            lines.append(f"      ... and {len(of_kind) - shown} more {kind.split(' (')[0]}")
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


def json_report(results: Sequence[Item], *, shown: int = JSON_VIOLATIONS, **_: Any) -> str:
    """One JSON document: ``ok``, and one item per file (``houzzflow schema run-report``)."""
    data = {
        "ok": all(r.ok for r in results),
        "scenarios": [
            unreadable_json(r) if isinstance(r, Unreadable) else result_json(r, shown)
            for r in results
        ],
    }
    return json_text(data, sort_keys=True) + "\n"


def unreadable_json(item: Unreadable) -> dict[str, Any]:
    """A file that could not be used, as an item of the report."""
    return {
        "file": item.file,
        "ok": False,
        "error": True,
        "diagnostics": [d.to_json() for d in item.diagnostics],
    }


def result_json(result: RunResult, shown: int = JSON_VIOLATIONS) -> dict[str, Any]:
    """One run as plain data with stable keys (no wall-clock time: same seed, same bytes)."""
    s = result.scenario
    labels = houzz_table(s.program, s.era).labels
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
                    "timeline": [happening_json(h, labels) for h in v.timeline],
                }
                for v in found[:shown]
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
                for a in result.alerts[:shown]
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
                "location": r.location.to_json(),
            }
            for r in result.expectations
        ],
        "ok": result.ok,
        "error": False,
    }


# -- JUnit XML -------------------------------------------------------------------------------


def junit_report(
    results: Sequence[Item],
    *,
    shown: int = SHOWN,
    seconds: Sequence[float] | None = None,
    **_: Any,
) -> str:
    """One testsuite per file (with its run's ``time``), one testcase per expectation, so a
    dashboard shows each failed expectation on its own; a file that cannot be used is a
    testcase with an ``error`` that gives the diagnostics' locations."""
    import xml.etree.ElementTree as ET

    times = list(seconds) if seconds is not None else [0.0] * len(results)
    suites = ET.Element("testsuites", {"name": "houzzflow run"})
    totals = Counter[str]()
    for item, spent in zip(results, times, strict=True):
        suite = _junit_suite(item, shown, spent)
        suites.append(suite)
        for key in ("tests", "failures", "errors"):
            totals[key] += int(suite.get(key, "0"))
    for key in ("tests", "failures", "errors"):
        suites.set(key, str(totals[key]))
    suites.set("time", f"{sum(times):.3f}")
    ET.indent(suites)
    body = xml_safe(ET.tostring(suites, encoding="unicode"))
    return '<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n"


def _junit_suite(item: Item, shown: int, spent: float) -> ET.Element:
    import xml.etree.ElementTree as ET

    if isinstance(item, Unreadable):
        suite = ET.Element("testsuite", {"name": item.file, "file": item.file})
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": "houzzflow.run",
                "name": "read the scenario",
                "file": item.file,
                "time": f"{spent:.3f}",
            },
        )
        first = item.diagnostics[0] if item.diagnostics else None
        if first is not None and first.location.line:
            case.set("line", str(first.location.line))
        error = ET.SubElement(
            case,
            "error",
            {"message": first.head if first else "cannot be used", "type": "input"},
        )
        error.text = "\n".join(d.render() for d in item.diagnostics)
        _counts(suite, tests=1, failures=0, errors=1, spent=spent)
        return suite
    s = item.scenario
    suite = ET.Element("testsuite", {"name": s.name, "file": s.file})
    gaps = assumption_gaps(s)
    if gaps:
        properties = ET.SubElement(suite, "properties")
        for gap in gaps:
            ET.SubElement(
                properties, "property", {"name": f"gap {gap.where}", "value": gap.message}
            )
    for r in item.expectations:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": s.name,
                "name": r.expectation.describe(),
                "file": r.location.file or s.file,
                "time": "0.000",
            },
        )
        if r.location.line:
            case.set("line", str(r.location.line))
        if not r.ok:
            failure = ET.SubElement(
                case, "failure", {"message": f"{r.message} ({r.location})", "type": "expectation"}
            )
            failure.text = _failure_text(item, r.expectation.key, shown)
    out = ET.SubElement(suite, "system-out")
    out.text = _text_one(item, shown)
    failures = sum(not r.ok for r in item.expectations)
    _counts(suite, tests=len(item.expectations), failures=failures, errors=0, spent=spent)
    return suite


def _counts(suite: ET.Element, *, tests: int, failures: int, errors: int, spent: float) -> None:
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", "0")
    suite.set("time", f"{spent:.3f}")


def _failure_text(result: RunResult, key: str, shown: int = SHOWN) -> str:
    found = result.verdict.violations.get(key, [])
    lines = [v.render() for v in told(key, found, shown)]
    if not lines:
        lines = [f"{key}: {result.counts.get(key, 0)}"]
    gaps = assumption_gaps(result.scenario)
    if gaps:
        lines.append("beyond what the proof assumes: " + "; ".join(str(g) for g in gaps))
    return "\n".join(lines)
