"""``houzzflow validate``'s reports: text for people, JSON Lines for tools, JUnit for CI.

Every renderer takes the reports ``validate.proven_paths`` made (one per file, a file that
cannot be used among them as verdict ``invalid``) and the counterexample scenarios saved,
and returns the whole text; where it goes (the terminal, ``-o FILE``) is the CLI's business,
and so are colours (the text is plain; the CLI highlights it on a terminal).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from houzzflow.engine.diagnostics import Severity
from houzzflow.simulator.kernel.escape import json_text, xml_safe
from houzzflow.simulator.kernel.words import plural

if TYPE_CHECKING:
    from houzzflow.engine.diagnostics import Diagnostic
    from houzzflow.engine.validation import ValidationReport

VERDICTS = ("proven", "counterexample", "inconclusive", "invalid")
MARKS = {True: "✔", False: "✘"}


def report_json(report: ValidationReport, scenario: str | None = None) -> dict[str, Any]:
    """One file's report as ``houzzflow schema validate-report`` describes it."""
    data = report.to_json()
    if scenario is not None and "proof" in data:
        data["proof"]["scenario"] = scenario
    return data


def json_report(
    reports: Sequence[ValidationReport], *, saved: Mapping[str, str] | None = None, **_: Any
) -> str:
    """JSON Lines: one object per file, in the order given."""
    saved = saved or {}
    lines = [json_text(report_json(r, saved.get(r.file)), indent=None) for r in reports]
    return "".join(line + "\n" for line in lines)


def text_report(
    reports: Sequence[ValidationReport],
    *,
    saved: Mapping[str, str] | None = None,
    quiet: bool = False,
    ascii_only: bool = False,
    **_: Any,
) -> str:
    """Per file: the verdict line, each finding with its own fix, then the proof; a count
    of each verdict when there are several files. ``quiet``: the verdict lines only."""
    saved = saved or {}
    out: list[str] = []
    for report in reports:
        ok = report.verdict == "proven"
        mark = ("OK" if ok else "FAIL") if ascii_only else MARKS[ok]
        out.append(f"{mark} {report.file}: {report.verdict} ({report.tier})")
        if quiet:  # the verdict line, and why a file is invalid (errors are never quiet)
            if report.verdict == "invalid":
                out += ["  " + d.head for d in report.diagnostics if d.severity is Severity.ERROR]
            continue
        for diagnostic in report.diagnostics:
            out += diagnostic_lines(diagnostic, indent="  ")
        if report.proof is not None:
            out += proof_lines(report.proof, saved.get(report.file))
    if len(reports) > 1:
        counts = {v: sum(r.verdict == v for r in reports) for v in VERDICTS}
        summary = ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts[v])
        out.append(f"{len(reports)} files: {summary}")
    return "".join(line + "\n" for line in out)


def diagnostic_lines(diagnostic: Diagnostic, indent: str = "") -> list[str]:
    """``file:line:col: severity CODE message``, then its fix and the hint to its rule."""
    return [indent + line for line in diagnostic.render().split("\n")]


def proof_lines(proof: dict[str, Any], scenario: str | None) -> list[str]:
    """The proof's part of a file's report: bounds, states, counterexample, nearest fix."""
    from houzzflow.simulator.proof.verdict import KINDS, needs_text, rests_on

    bounds = proof["bounds"]
    within = f"{plural(bounds['orders'], 'order')}, up to {plural(bounds['faults'], 'API fault')}"
    if proof.get("declines_explored"):
        within += f", up to {plural(bounds['declines'], 'declined card')}"
    within += ", authorization lapses" if bounds["lapse"] else ""
    contradicts = proof.get("contradicts")
    if contradicts:
        pins = ", ".join(f"{c['name']}={c['value']}" for c in contradicts)
        return [
            f"  proof: {proof['verdict']}: nothing explored; the policy pins {pins}, which "
            "the sources rule out"
        ]
    out = [f"  proof: {proof['verdict']} within {within}; {proof['states']:,} states explored"]
    if "cut_by" in proof:
        out.append(
            f"    the search stopped at {proof['cut_by']}: raise --max-states, or lower "
            "--orders / --faults"
        )
    if proof["verdict"] == "proven":
        out.append("    rests on: " + rests_on(proof["assumptions"]))
    example = proof.get("counterexample")
    if example:
        out.append("    " + needs_text(example["needs"]))
        out.append(f"    shortest way to break it ({KINDS[example['kind']]}):")
        for k, step in enumerate(example["timeline"], 1):
            out.append(f"    {k:>3}. {step['text']}")
    nearest = proof.get("nearest_proven")
    if nearest:
        out.append(f"    nearest proven settings: {nearest['fix']}")
        from houzzflow.engine.rules import CODES

        for key, codes in nearest.get("why", {}).items():
            answers = "; ".join(f"{c} ({CODES[c].split(' [')[0]})" for c in codes if c in CODES)
            out.append(f"      {key}: without it, {answers or 'the other changes are not proven'}")
    unproven = proof.get("nearest_unproven")
    if unproven:
        out.append("    " + unproven["text"])
    if scenario:
        out.append(f"    replay it: houzzflow run {scenario}")
    return out


def junit_report(
    reports: Sequence[ValidationReport],
    *,
    saved: Mapping[str, str] | None = None,
    seconds: Sequence[float] | None = None,
    **_: Any,
) -> str:
    """One testcase per file: a failure for a counterexample or an inconclusive proof, an
    error (with the diagnostics' locations) for a file that is not a valid policy."""
    suite_attrs = {"name": "houzzflow validate", "tests": str(len(reports))}
    suites = ET.Element("testsuites", suite_attrs)
    suite = ET.SubElement(suites, "testsuite", suite_attrs)
    failures = errors = 0
    times = list(seconds) if seconds is not None else [0.0] * len(reports)
    for report, spent in zip(reports, times, strict=True):
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": "houzzflow.validate",
                "name": report.file,
                "file": report.file,
                "time": f"{spent:.3f}",
            },
        )
        findings = [d for d in report.diagnostics if str(d.severity) == "error"]
        if findings and findings[0].location.line:
            case.set("line", str(findings[0].location.line))
        body = "\n".join(
            [line for d in report.diagnostics for line in diagnostic_lines(d)]
            + (proof_lines(report.proof, (saved or {}).get(report.file)) if report.proof else [])
        )
        if report.verdict == "invalid":
            errors += 1
            kind = "error"
        elif report.verdict != "proven":
            failures += 1
            kind = "failure"
        else:
            kind = ""
        if kind:
            message = findings[0].head if findings else report.verdict
            element = ET.SubElement(case, kind, {"message": message, "type": report.verdict})
            element.text = body
        elif body:
            ET.SubElement(case, "system-out").text = body
    for element in (suites, suite):
        element.set("failures", str(failures))
        element.set("errors", str(errors))
        element.set("time", f"{sum(times):.3f}")
    ET.indent(suites)
    text = xml_safe(ET.tostring(suites, encoding="unicode"))
    return '<?xml version="1.0" encoding="utf-8"?>\n' + text + "\n"
