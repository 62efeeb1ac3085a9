"""The HTML pages of ``houzzflow run --format html`` and ``houzzflow validate --format html``.

A run's page: the verdict and its expectations, findings with their fixes, what the world
assumes, the invariants, outcomes as bars, orders in flight and CartRover's backlog over
time, a swimlane for every violation told and for a few healthy orders, and Houzz's
lifecycle with the first violating order's path. A proof's page: the verdict, findings and
fixes, what it rests on, the invariants, the counterexample's swimlane and its path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from houzzflow.engine.assumptions import default_register, unsimulated
from houzzflow.engine.diagnostics import Severity
from houzzflow.engine.table import houzz_table
from houzzflow.engine.validation import ValidationReport, rules_report
from houzzflow.simulator.html.charts import bar_chart, line_chart
from houzzflow.simulator.html.lifecycle import lifecycle_svg
from houzzflow.simulator.html.page import (
    diagnostics_list,
    document,
    esc,
    table,
    verdict_badge,
)
from houzzflow.simulator.html.swimlane import (
    figure,
    steps_of_happenings,
    steps_of_story,
)
from houzzflow.simulator.proof.verdict import KINDS, Proof, needs_text, rests_on
from houzzflow.simulator.runs.gaps import assumption_gaps
from houzzflow.simulator.runs.invariants import INVARIANTS
from houzzflow.simulator.runs.report import Unreadable, policy_words
from houzzflow.simulator.runs.runner import RunResult

BAD_OUTCOME = ("lost", "held", "duplicate", "stuck", "error", "cancelled but shipped")


def run_html(results: Sequence[RunResult | Unreadable]) -> str:
    """The page for scenario runs (made with ``run_scenario(..., pictures=True)``); a file
    that could not be used is a failed section with its diagnostics."""
    passed = sum(r.ok for r in results)
    head = f"{passed} of {len(results)} scenario{'s' if len(results) != 1 else ''} passed"
    body = [f"<h1>houzzflow run</h1><p>{esc(head)}</p>"]
    body += [
        _unreadable_section(r) if isinstance(r, Unreadable) else _run_section(r) for r in results
    ]
    first = results[0] if len(results) == 1 else None
    title = (
        "houzzflow run"
        if first is None
        else first.file
        if isinstance(first, Unreadable)
        else first.scenario.name
    )
    return document(f"{title} - houzzflow run", "\n".join(body))


def run_report(items: Sequence[RunResult | Unreadable], **_: Any) -> str:
    """``run --format html`` (houzzflow.simulator.output's renderer)."""
    return run_html(items)


def _unreadable_section(item: Unreadable) -> str:
    found = ((str(d.location), str(d.severity), d.code, d.message, d.fix) for d in item.diagnostics)
    return (
        f'<section class="scenario"><h2>{verdict_badge("FAIL")} <span class="mono">'
        f"{esc(item.file)}</span></h2><p>This file cannot be used:</p>"
        f"{diagnostics_list(found)}</section>"
    )


def _run_section(result: RunResult) -> str:
    s = result.scenario
    labels = houzz_table(s.program, s.era).labels
    out = ['<section class="scenario">']
    verdict = "PASS" if result.ok else "FAIL"
    out.append(f"<h2>{verdict_badge(verdict)} {esc(s.name)}</h2>")
    if s.spec.description:
        out.append(f"<p>{esc(s.spec.description)}</p>")
    facts = [
        s.file,
        f"seed {s.seed}",
        f"{result.placed:,} orders",
        f"{result.polls:,} polls",
    ]
    if result.faults:
        facts.append("faults: " + ", ".join(f"{k} {v}" for k, v in result.faults.items()))
    out.append(f'<p class="muted">{esc(" · ".join(facts))}</p>')
    out.append(
        f'<div class="panel"><b>Policy:</b> {esc(policy_words(s.policy))}<br>'
        f"<b>Drain:</b> {esc(result.drain.words(result.verdict.stuck))}</div>"
    )
    out.append("<h3>Expectations</h3>")
    rows = [
        [
            '<span class="ok">✔</span>' if r.ok else '<span class="bad">✘</span>',
            esc(r.message),
            f'<span class="mono">{esc(r.location)}</span>',
        ]
        for r in result.expectations
    ]
    out.append(table(["", "expectation", "where"], rows))
    out.append("<h3>Invariants</h3>")
    out.append(_invariants_table(result))
    out.append("<h3>Orders by outcome</h3>")
    outcomes = sorted(result.verdict.outcomes.items(), key=lambda kv: (-kv[1], kv[0]))
    items = [(what, n, _outcome_kind(what)) for what, n in outcomes]
    out.append(f'<div class="figure">{bar_chart(items, title="orders by outcome")}</div>')
    if result.series:
        out.append("<h3>Orders in flight and CartRover's backlog</h3>")
        times = [p.time for p in result.series]
        chart = line_chart(
            times,
            [
                (
                    "orders in flight (placed, not yet shipped or cancelled in Houzz)",
                    [p.in_flight for p in result.series],
                    "series-a",
                ),
                (
                    "CartRover's backlog (orders it has yet to load, or is still working on)",
                    [p.backlog for p in result.series],
                    "series-b",
                ),
            ],
            title="orders in flight and CartRover's backlog over simulated time",
            marker=(s.duration, "orders stop; drain") if result.drain.used else None,
        )
        out.append(f'<div class="figure">{chart}</div>')
    out.append("<h3>Findings and fixes (houzzflow validate on this policy)</h3>")
    report = rules_report(s.policy, s.policy_doc, s.policy_at)
    found = [d for d in report.diagnostics if d.severity is not Severity.INFO]
    out.append(
        diagnostics_list(
            (str(d.location), str(d.severity), d.code, d.message, d.fix) for d in found
        )
    )
    first_path: list[str] = []
    told = [(key, v) for key in INVARIANTS for v in result.shown(key)]
    if told:
        out.append("<h3>Violations, order by order</h3>")
        total = len(result.violations)
        if total > len(told):
            out.append(
                f'<p class="muted">{len(told)} of {total} violations told; the rest '
                "are counted above.</p>"
            )
    for key, v in told:
        if not v.timeline:
            continue
        steps = steps_of_happenings(
            v.timeline, labels, result.poll_times, f"breaks '{INVARIANTS[key]}': {v.message}"
        )
        if not first_path:
            first_path = [h.houzz_status for h in v.timeline if h.houzz_status]
        out.append(figure(steps, f"order {v.order_id}: {INVARIANTS[key]} - {v.message}"))
    if result.healthy:
        out.append("<h3>Healthy orders (a sample)</h3>")
        for oid, happenings in result.healthy.items():
            steps = steps_of_happenings(happenings, labels, result.poll_times)
            out.append(figure(steps, f"order {oid}: confirmed"))
    out.append("<h3>Houzz's order lifecycle</h3>")
    out.append(f'<div class="figure">{lifecycle_svg(s.program, s.era, first_path)}</div>')
    out.append("<h3>What this world assumes</h3>")
    out.append(_world_assumptions(result))
    out.append("</section>")
    return "\n".join(out)


def _outcome_kind(what: str) -> str:
    if what.startswith("confirmed") or what.startswith("cancelled in time"):
        return "ok"
    if any(word in what for word in BAD_OUTCOME):
        return "bad"
    return "warn" if "skipped" in what else ""


def _world_assumptions(result: RunResult) -> str:
    register = default_register().assumptions
    said = result.scenario.spec.world.facts()
    facts = dict(said)
    ran = {name: default for name, _, default, _ in unsimulated(said)}
    rows = []
    for name, entry in register.items():
        answer = facts.get(name, entry.default)
        means = entry.alternatives[answer].means if answer in entry.alternatives else ""
        if name in ran:
            means += f"; not simulated: this run ran {ran[name]} in its place"
        rows.append(
            [
                f"<code>{esc(name)}</code>",
                esc(entry.question),
                f'<b>{esc(answer)}</b> <span class="muted">{esc(means)}</span>',
                esc(entry.status),
            ]
        )
    out = table(["open question", "asks", "this run's answer", "status"], rows)
    gaps = assumption_gaps(result.scenario)
    if gaps:
        out += "<p>Where this world goes beyond what <code>houzzflow validate</code> assumes:</p>"
        out += "<ul>" + "".join(f"<li>{esc(g)}</li>" for g in gaps) + "</ul>"
    return out


def _invariants_table(result: RunResult) -> str:
    rows = []
    for key, name in INVARIANTS.items():
        n = len(result.verdict.violations.get(key, []))
        mark = '<span class="ok">✔ holds</span>' if not n else f'<span class="bad">✘ {n:,}</span>'
        rows.append([esc(name), mark])
    return table(["invariant", "orders breaking it"], rows)


# -- validate --------------------------------------------------------------------------------


def validate_html(proven: Sequence[tuple[ValidationReport, Proof | None]]) -> str:
    """The page for ``houzzflow validate``: one section per policy file."""
    counts: dict[str, int] = {}
    for report, _ in proven:
        counts[report.verdict] = counts.get(report.verdict, 0) + 1
    head = ", ".join(f"{n} {v}" for v, n in counts.items())
    body = [
        f"<h1>houzzflow validate</h1><p>{len(proven)} file{'s' if len(proven) != 1 else ''}: "
        f"{esc(head)}</p>"
    ]
    body += [_validate_section(report, proof) for report, proof in proven]
    title = proven[0][0].file if len(proven) == 1 else "houzzflow validate"
    return document(f"{title} - houzzflow validate", "\n".join(body))


def validate_report(
    reports: Sequence[ValidationReport], *, proofs: Sequence[Proof | None] = (), **_: Any
) -> str:
    """``validate --format html`` (houzzflow.simulator.output's renderer): ``proofs`` in the
    order of ``reports`` (none with --no-proof)."""
    found = list(proofs)
    return validate_html([(r, found[i] if i < len(found) else None) for i, r in enumerate(reports)])


def _validate_section(report: ValidationReport, proof: Proof | None) -> str:
    out = ['<section class="policy">']
    out.append(
        f'<h2>{verdict_badge(report.verdict)} <span class="mono">{esc(report.file)}'
        f'</span> <span class="muted">({esc(report.tier)})</span></h2>'
    )
    policy = report.policy
    if policy is not None:
        out.append(
            f'<div class="panel"><b>Policy:</b> {esc(policy_words(policy))}<br>'
            f"<b>Account:</b> {esc(policy.account)} {esc(policy.era)}; staff by hand: "
            f"process {esc(policy.staff_process)}, charge {esc(policy.staff_charge)}, "
            f"cancel {esc(policy.staff_cancel)}</div>"
        )
    out.append("<h3>Findings and fixes</h3>")
    out.append(
        diagnostics_list(
            (str(d.location), str(d.severity), d.code, d.message, d.fix) for d in report.diagnostics
        )
    )
    data: dict[str, Any] = report.proof or {}
    if proof is not None and policy is not None:
        bounds = data.get("bounds", {})
        out.append(
            f"<p>Proof: {verdict_badge(proof.verdict)} within {bounds.get('orders')} orders, up "
            f"to {bounds.get('faults')} API faults; {data.get('states', 0):,} states explored.</p>"
        )
        out.append("<h3>What the verdict rests on</h3>")
        out.append(f"<p>{esc(rests_on(data.get('assumptions', [])))}</p>")
        rows = [
            [
                f"<code>{esc(r['name'])}</code>",
                esc(r["about"]),
                esc(r["value"]),
                esc(", ".join(r["explored"])),
                esc(r["use"]),
            ]
            for r in data.get("assumptions", [])
        ]
        out.append(table(["open question", "about", "answer", "answers explored", "use"], rows))
        out.append("<h3>Invariants</h3>")
        broken = proof.invariant
        inv_rows = [
            [
                esc(name),
                '<span class="bad">✘ broken</span>'
                if key == broken
                else (
                    '<span class="ok">✔ holds within the bounds</span>'
                    if proof.verdict == "proven"
                    else '<span class="muted">-</span>'
                ),
            ]
            for key, name in INVARIANTS.items()
        ]
        out.append(table(["invariant", "within the bounds"], inv_rows))
        example = data.get("counterexample")
        labels = list(houzz_table(policy.account, policy.era).labels.values())
        path: list[str] = []
        if example:
            out.append("<h3>The shortest way to break it</h3>")
            out.append(f"<p>{esc(KINDS[example['kind']])}. {esc(needs_text(example['needs']))}</p>")
            lines = [(line.kind, line.order, line.text) for line in proof.timeline]
            steps = steps_of_story(lines, labels)
            path = [status for step in steps for status in step.passed]
            out.append(
                figure(steps, f"order #{lines[-1][1] if lines else 1}: {example['message']}")
            )
        nearest = data.get("nearest_proven")
        if nearest:
            out.append(f'<p class="fix"><b>Nearest proven settings:</b> {esc(nearest["fix"])}</p>')
        unproven = data.get("nearest_unproven")
        if unproven:
            out.append(f'<p class="sev-warning">{esc(unproven["text"])}</p>')
        out.append("<h3>Houzz's order lifecycle</h3>")
        out.append(f'<div class="figure">{lifecycle_svg(policy.account, policy.era, path)}</div>')
    out.append("</section>")
    return "\n".join(out)
