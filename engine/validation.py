"""Validating a policy: the schema tier, then the rules tier, as one report of data.

The proof tier (bounded exhaustive exploration) lives in the simulator, which hosts the
engine; it extends the report this module makes.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from houzzflow.engine.assumptions import contradictions, default_register
from houzzflow.engine.diagnostics import Diagnostic, InputError, Location, Severity, has_errors
from houzzflow.engine.file_kind import wrong_kind
from houzzflow.engine.policy import SETTING_NAMES, Policy, PolicyFile, resolve
from houzzflow.engine.register_report import ABOUT
from houzzflow.engine.rules import diagnose
from houzzflow.engine.yamlsource import (
    NamedText,
    SourceDoc,
    load_yaml_source,
    load_yaml_text,
    validate_model,
)

Verdict = Literal["proven", "counterexample", "inconclusive", "invalid"]
Tier = Literal["schema", "rules", "proof"]


@dataclass(slots=True)
class ValidationReport:
    file: str
    verdict: Verdict
    tier: Tier
    diagnostics: list[Diagnostic]
    policy: Policy | None = None
    proof: dict[str, Any] | None = field(default=None)

    @property
    def exit_code(self) -> int:
        return {"proven": 0, "invalid": 2}.get(self.verdict, 1)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": self.file,
            "verdict": self.verdict,
            "tier": self.tier,
            "diagnostics": [d.to_json() for d in self.diagnostics],
        }
        if self.policy is not None:
            out["settings"] = self.policy.to_file_dict()
        if self.proof is not None:
            out["proof"] = self.proof
        return out


def policy_from_doc(doc: SourceDoc, at: Sequence[str | int] = ()) -> Policy:
    """The resolved policy held at ``at`` in a loaded document; InputError when malformed."""
    sub = doc
    if at:
        data: Any = doc.data
        for part in at:
            data = data[part]
        sub = _SubDoc(doc, tuple(at), data)
    return resolve(validate_model(sub, PolicyFile))


class _SubDoc(SourceDoc):
    """A view of one mapping inside a larger document (e.g. a scenario's inline policy)."""

    def __init__(self, parent: SourceDoc, at: tuple[str | int, ...], data: Any) -> None:
        super().__init__(parent.file, data, parent.lines, parent.positions, parent.overrides)
        object.__setattr__(self, "_parent", parent)
        object.__setattr__(self, "_at", at)

    def locate(self, path: Sequence[str | int], *, key: bool = False) -> Location:
        parent: SourceDoc = object.__getattribute__(self, "_parent")
        at: tuple[str | int, ...] = object.__getattribute__(self, "_at")
        return parent.locate((*at, *path), key=key)


def setting_locator(policy: Policy, doc: SourceDoc, at: Sequence[str | int] = ()) -> Any:
    """Where a setting is written, or the policy itself when it is left at its default."""

    def locate(setting: str) -> Location:
        parts = tuple(setting.split("."))
        if setting in policy.explicit:
            return doc.locate((*at, *parts), key=True)
        # Point at the policy, but keep the setting's path: the report names it, and
        # _note_default says that CartRover's default is what is at fault.
        return dataclasses.replace(doc.locate(tuple(at)), path=(*at, *parts))

    return locate


def rules_report(policy: Policy, doc: SourceDoc, at: Sequence[str | int] = ()) -> ValidationReport:
    contradicted = contradicted_pins(policy, doc, at)
    diagnostics = contradicted + [
        _note_default(d, policy) for d in diagnose(policy, setting_locator(policy, doc, at))
    ]
    verdict: Verdict = "counterexample" if has_errors(diagnostics) else "proven"
    if contradicted:
        verdict = "inconclusive"  # no verdict can stand on an answer the sources rule out
    return ValidationReport(doc.file, verdict, "rules", diagnostics, policy)


def contradicted_pins(
    policy: Policy, doc: SourceDoc, at: Sequence[str | int] = ()
) -> list[Diagnostic]:
    """ASSUME010 for each open question the policy pins to an answer a documented claim
    rules out (``engine/assumptions.yaml``): neither the rules nor the proof can stand on it."""
    register = default_register()
    found = []
    for name, value, claims in contradictions(policy.pinned, register):
        entry = register.assumptions[name]
        standing = " or ".join(entry.standing())
        found.append(
            Diagnostic(
                "ASSUME010",
                Severity.ERROR,
                f"assume.{entry.about}.{name} is {value}, which contradicts what the sources "
                f"document ({', '.join(claims)}): {entry.alternatives[value].why.strip()} "
                "No verdict can stand on it",
                doc.locate((*at, "assume", entry.about, name), key=True),
                f"confirm {name} with {ABOUT[entry.about]}; the sources leave {standing}",
            )
        )
    return found


def _note_default(d: Diagnostic, policy: Policy) -> Diagnostic:
    setting = d.location.dotted.split(".")[-1] if d.location.dotted else ""
    if d.severity is not Severity.ERROR or not setting or setting not in SETTING_NAMES:
        return d
    if setting in policy.explicit:
        return d
    msg = f"{d.message} ({SETTING_NAMES[setting]} is not set: CartRover's default applies)"
    return Diagnostic(d.code, d.severity, msg, d.location, d.fix, d.patch)


PolicySource = str | os.PathLike[str] | Mapping[str, Any] | NamedText
MAPPING_NAME = "<policy>"  # the file name diagnostics give a policy passed as a mapping


def load_policy_source(source: PolicySource) -> SourceDoc:
    """A policy file, text read from standard input, or a policy's settings as a mapping
    (located as ``<policy>``)."""
    if isinstance(source, Mapping):
        return load_yaml_text(yaml.safe_dump(dict(source), sort_keys=False), MAPPING_NAME)
    return load_yaml_source(source)


def source_name(source: PolicySource) -> str:
    if isinstance(source, NamedText):
        return source.name
    return MAPPING_NAME if isinstance(source, Mapping) else os.fspath(source)


def validate_policy_file(source: PolicySource) -> ValidationReport:
    """Schema and rules for one policy (a file or a mapping); unreadable input gives verdict
    ``invalid``."""
    try:
        doc = load_policy_source(source)
        mistaken = wrong_kind(doc.data, "policy", doc.file)
        if mistaken is not None:
            raise InputError([mistaken])
        policy = policy_from_doc(doc)
    except InputError as exc:
        return ValidationReport(source_name(source), "invalid", "schema", exc.diagnostics)
    return rules_report(policy, doc)
