"""The rules tier as a merchant meets it: every bundled policy gets its documented verdict,
every loss is reported at the setting at fault, and every fix, applied, validates clean."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from houzzflow.engine.diagnostics import Diagnostic, Location, Severity
from houzzflow.engine.policy import Policy, PolicyFile, resolve
from houzzflow.engine.rules import (
    CODES,
    diagnose,
    find,
    fix_patch,
    is_safe,
    nearest_safe,
    why_changes,
)
from houzzflow.engine.validation import ValidationReport, policy_from_doc, rules_report
from houzzflow.engine.yamlsource import SourceDoc, apply_override, load_yaml_file
from houzzflow.simulator.validate import validate_paths

POLICIES = Path(__file__).resolve().parent.parent / "scenarios" / "policies"


@dataclass(frozen=True)
class Expect:
    verdict: str
    # error code -> the setting at fault (dotted policy-file key)
    errors: dict[str, str] = field(default_factory=dict)
    # info / warning code -> the setting it points at
    notes: dict[str, str] = field(default_factory=dict)


LOSS = "counterexample"
# What each bundled policy documents (DOMAIN.md "Known ways a configuration loses orders").
EXPECTED: dict[str, Expect] = {
    "seller-legacy-default.yaml": Expect("proven"),
    "seller-legacy-manual-process.yaml": Expect("proven"),
    "seller-legacy-manual-charge.yaml": Expect("proven"),
    "seller-2021.yaml": Expect("proven", notes={"HZ008": "order_status"}),
    "vendor.yaml": Expect("proven"),
    "loss-seller-connection-on-vendor-account.yaml": Expect(LOSS, {"HZ001": "connection_type"}),
    "loss-vendor-connection-on-seller-account.yaml": Expect(LOSS, {"HZ001": "connection_type"}),
    "loss-vendor-order-status-new.yaml": Expect(LOSS, {"HZ002": "order_status"}),
    "loss-legacy-charged-nobody-charges.yaml": Expect(LOSS, {"HZ003": "order_status"}),
    "loss-legacy-in-production-nobody-processes.yaml": Expect(LOSS, {"HZ004": "order_status"}),
    "loss-legacy-new-staff-process-first.yaml": Expect(LOSS, {"HZ005": "order_status"}),
    "loss-2021-seller-new-or-in-production.yaml": Expect(LOSS, {"HZ006": "order_status"}),
    "loss-mark-processed-after-staff-processed.yaml": Expect(LOSS, {"HZ007": "mark_processed"}),
    "loss-unpaid-sent-mark-charged-off.yaml": Expect(LOSS, {"HZ011": "mark_charged"}),
    "loss-cancel-download-off.yaml": Expect(LOSS, {"HZ012": "cancel_download"}),
    "loss-mark-charged-without-processing.yaml": Expect(LOSS, {"HZ014": "mark_processed"}),
    "loss-poll-interval-7-days.yaml": Expect(LOSS, {"HZ015": "poll_interval"}),
    "note-2021-failed-to-charge-held.yaml": Expect("proven", notes={"HZ008": "order_status"}),
    "note-earliest-order-date.yaml": Expect("proven", notes={"HZ010": "earliest_order_date"}),
    "note-backlog-before-go-live.yaml": Expect(
        "proven", notes={"HZ016": "earliest_order_date", "HZ010": "earliest_order_date"}
    ),
    "note-staff-habit-without-effect.yaml": Expect(
        "proven", notes={"HZ013": "assume.staff.process"}
    ),
}
LOSS_FILES = sorted(name for name, e in EXPECTED.items() if e.errors)
# Codes that can only ever be notes; every other code is a loss with a bundled example.
NOTE_CODES = {"HZ008", "HZ009", "HZ010", "HZ013", "HZ016"}


def errors_in(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity is Severity.ERROR]


def report_for(name: str) -> ValidationReport:
    (report,) = validate_paths([POLICIES / name], proof=False)
    return report


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_proof_tier_reaches_the_same_verdict_on_every_bundled_policy(name: str) -> None:
    (report,) = validate_paths([POLICIES / name])
    assert report.tier == "proof"
    assert report.verdict == EXPECTED[name].verdict
    assert not [d for d in report.diagnostics if d.code == "PROOF001"]


def written_at(text: str, dotted: str) -> tuple[int, int] | None:
    """(line, column) where a block-style YAML file writes ``dotted``, read from the text."""
    lines = text.splitlines()
    start, indent = 0, -1
    found: tuple[int, int] | None = None
    for part in dotted.split("."):
        found = None
        for number in range(start, len(lines)):
            line = lines[number]
            stripped = line.lstrip(" ")
            here = len(line) - len(stripped)
            if stripped and not stripped.startswith("#") and here <= indent:
                return None  # left the parent mapping without finding the key
            if here > indent and stripped.startswith(f"{part}:"):
                found, start, indent = (number + 1, here + 1), number + 1, here
                break
        if found is None:
            return None
    return found


def first_key_line(text: str) -> int:
    return next(
        n
        for n, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.startswith("#")
    )


def test_every_bundled_policy_is_in_the_table() -> None:
    assert sorted(p.name for p in POLICIES.glob("*.yaml")) == sorted(EXPECTED)


def test_every_loss_code_has_a_bundled_example_and_hz001_both_ways() -> None:
    shown = [code for e in EXPECTED.values() for code in e.errors]
    assert set(shown) == set(CODES) - NOTE_CODES
    assert shown.count("HZ001") == 2


def test_every_bundled_policy_explains_itself_in_a_comment() -> None:
    for path in POLICIES.glob("*.yaml"):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# "), path.name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bundled_policy_gets_its_verdict_and_exactly_its_codes(name: str) -> None:
    expected = EXPECTED[name]
    report = report_for(name)
    assert report.verdict == expected.verdict
    assert report.tier == "rules"
    errors = {d.code for d in report.diagnostics if d.severity is Severity.ERROR}
    assert errors == set(expected.errors)
    others = {d.code for d in report.diagnostics if d.severity is not Severity.ERROR}
    assert set(expected.notes) <= others
    assert report.exit_code == (0 if expected.verdict == "proven" else 1)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_findings_point_at_the_setting_at_fault(name: str) -> None:
    text = (POLICIES / name).read_text(encoding="utf-8")
    by_code = {d.code: d for d in report_for(name).diagnostics}
    expected = EXPECTED[name]
    for code, setting in {**expected.errors, **expected.notes}.items():
        diagnostic = by_code[code]
        assert diagnostic.location.dotted == setting
        assert diagnostic.location.file == str(POLICIES / name)
        where = written_at(text, setting)
        if where is not None:
            assert (diagnostic.location.line, diagnostic.location.column) == where
        else:
            # Not written: point at the policy; an error says CartRover's default is at fault.
            assert diagnostic.location.line == first_key_line(text)
            if code in expected.errors:
                assert "CartRover's default applies" in diagnostic.message


def test_a_default_at_fault_is_reported_as_a_default() -> None:
    # The HZ007 example leaves mark_processed out: the default (on) is what loses orders.
    text = (POLICIES / "loss-mark-processed-after-staff-processed.yaml").read_text("utf-8")
    assert written_at(text, "mark_processed") is None


def _apply(doc: SourceDoc, patch: dict[str, Any]) -> SourceDoc:
    for dotted, value in patch.items():
        # JSON scalars are YAML scalars: true, "charged", "15m".
        doc = apply_override(doc, dotted, json.dumps(value))
    return doc


@pytest.mark.parametrize("name", LOSS_FILES)
def test_the_fix_of_every_loss_applied_validates_clean(name: str) -> None:
    doc = load_yaml_file(POLICIES / name)
    policy = policy_from_doc(doc)
    errors = errors_in(rules_report(policy, doc).diagnostics)
    assert errors
    assert all(d.fix and d.patch for d in errors), f"{name}: an error without its own fix"
    nearest = nearest_safe(policy)
    assert nearest is not None
    whole = fix_patch(*nearest)
    # Each finding's fix is a part of the nearest safe settings, and together the parts
    # and the changes other findings would bring make the whole.
    assert all(d.patch is not None and d.patch.items() <= whole.items() for d in errors)
    fixed = _apply(doc, whole)
    report = rules_report(policy_from_doc(fixed), fixed)
    assert report.verdict == "proven", [d.render() for d in report.diagnostics]


def test_each_finding_fixes_only_what_it_is_about() -> None:
    (report,) = validate_paths([POLICIES / "loss-mark-processed-after-staff-processed.yaml"])
    (error,) = errors_in(report.diagnostics)
    assert error.code == "HZ007"
    assert error.patch == {"mark_processed": False}
    assert error.fix == "set mark_processed: false"
    # The combined nearest settings are shown once, under the proof, each change explained.
    assert report.proof is not None
    nearest = report.proof["nearest_proven"]
    assert nearest["patch"] == {"order_status": "in_production", "mark_processed": False}
    assert nearest["why"] == {"order_status": ["HZ014"], "mark_processed": ["HZ007"]}


def test_a_fix_that_needs_an_agreement_with_staff_says_so() -> None:
    # Staff who sometimes process first leave no CartRover setting safe (DOMAIN.md 3, 5, 7).
    report = report_for("loss-legacy-new-staff-process-first.yaml")
    (error,) = errors_in(report.diagnostics)
    assert error.patch == {"assume.staff.process": "never"}
    assert "agree staff process never" in error.fix


# The whole settings space of DOMAIN.md section 3, and every assumption the policy can state.
policies = st.builds(
    Policy,
    connection_type=st.sampled_from(["seller", "vendor"]),
    order_status=st.sampled_from(["new", "in_production", "new_or_in_production", "charged"]),
    mark_processed=st.booleans(),
    mark_charged=st.booleans(),
    cancel_download=st.booleans(),
    poll_interval=st.sampled_from([30, 900, 4 * 3600, 2 * 86400, 7 * 86400, 30 * 86400]),
    account=st.sampled_from(["seller", "vendor"]),
    era=st.sampled_from(["legacy", "2021"]),
    staff_process=st.sampled_from(["never", "always", "sometimes"]),
    staff_charge=st.sampled_from(["never", "always", "sometimes"]),
    staff_cancel=st.sampled_from(["never", "sometimes"]),
)


def _patched(policy: Policy, patch: dict[str, Any]) -> Policy:
    data = policy.to_file_dict()
    for dotted, value in patch.items():
        *parents, last = dotted.split(".")
        target = data
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = value
    return resolve(PolicyFile.model_validate(data))


@settings(deadline=None)
@given(policies)
def test_every_unsafe_policy_has_a_nearest_fix_that_is_safe(policy: Policy) -> None:
    diagnostics = diagnose(policy, lambda _setting: Location())
    errors = errors_in(diagnostics)
    assert bool(errors) == (not is_safe(policy))
    if not errors:
        return
    nearest = nearest_safe(policy)
    assert nearest is not None
    whole = fix_patch(*nearest)
    assert is_safe(_patched(policy, whole))
    # Every change of the whole fix is explained by a finding it answers.
    why = why_changes(policy, *nearest)
    assert set(why) == set(whole)
    assert all(why.values()), why
    for d in errors:
        assert d.patch is not None and d.patch.items() <= whole.items()


@settings(deadline=None)
@given(policies)
def test_each_code_is_reported_once_errors_first(policy: Policy) -> None:
    findings = find(policy)
    codes = [f.code for f in findings]
    assert len(codes) == len(set(codes))
    assert set(codes) <= set(CODES)
    severities = [f.severity is Severity.ERROR for f in findings]
    assert severities == sorted(severities, reverse=True)


def test_wrong_connection_type_is_reported_whatever_else_is_set() -> None:
    policy = resolve(
        PolicyFile.model_validate({"connection_type": "seller", "assume": {"account": "vendor"}})
    )
    assert [f.code for f in find(policy) if f.severity is Severity.ERROR] == ["HZ001"]


def test_diagnostics_are_data_with_the_documented_json_keys() -> None:
    (error,) = errors_in(report_for("loss-vendor-order-status-new.yaml").diagnostics)
    assert isinstance(error, Diagnostic)
    data = error.to_json()
    assert {"code", "severity", "message", "line", "column", "fix", "patch"} <= set(data)
    assert data["patch"] == {"order_status": "charged"}
