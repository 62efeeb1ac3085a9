"""What ``houzzflow validate`` and ``houzzflow schema`` compute, apart from how it is printed.

``validate_paths`` is the one place that decides a verdict for each file: the schema and rules
tiers (``engine.validation``), then the proof tier (``simulator.proof``), which has the last
word: a verdict backed by exhaustive exploration within bounds. ``SCHEMAS`` names the
pydantic models whose JSON Schema editors can use.

The CLI imports this module before it knows which command runs, so the engine (pydantic,
the machine) is imported inside the functions: ``houzzflow --help`` stays fast.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from houzzflow.engine.policy import Policy
    from houzzflow.engine.validation import PolicySource, ValidationReport
    from houzzflow.simulator.proof.explorer import Bounds
    from houzzflow.simulator.proof.verdict import Proof

# Schema name -> "module:Model". A new file format (e.g. scenarios) is one more entry.
SCHEMAS: dict[str, str] = {
    "policy": "houzzflow.engine.policy:PolicyFile",
    "scenario": "houzzflow.simulator.runs.scenario:ScenarioFile",
}
# progress(file, states explored, depth, the bound on states)
FileProgress = Callable[[str, int, int, int], None]
# Report name -> "module:SCHEMA": what a command's --format json prints.
REPORT_SCHEMAS: dict[str, str] = {
    "validate-report": "houzzflow.simulator.report_schemas:VALIDATE_REPORT",
    "run-report": "houzzflow.simulator.report_schemas:RUN_REPORT",
    "matrix-report": "houzzflow.simulator.report_schemas:MATRIX_REPORT",
    "sweep-report": "houzzflow.simulator.report_schemas:SWEEP_REPORT",
    "verdict-report": "houzzflow.simulator.report_schemas:CONNECTOR_VERDICT",
    "conformance-report": "houzzflow.simulator.report_schemas:CONFORMANCE_REPORT",
}
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def validate_paths(
    paths: Iterable[PolicySource], *, proof: bool = True, bounds: Bounds | None = None
) -> list[ValidationReport]:
    """One report per file, in the order given; unreadable files get verdict ``invalid``.

    With ``proof`` (the default) every readable policy is also explored within ``bounds``
    and the proof decides the verdict.
    """
    from houzzflow.engine.validation import validate_policy_file

    if not proof:
        return [validate_policy_file(path) for path in paths]
    return [report for report, _ in proven_paths(paths, bounds)]


def proven_paths(
    paths: Iterable[PolicySource],
    bounds: Bounds | None = None,
    *,
    progress: FileProgress | None = None,
) -> list[tuple[ValidationReport, Proof | None]]:
    """Each file's report with its proof (None for a file that is not a valid policy).

    ``progress(file, states, depth, max_states)`` follows each file's search."""
    from houzzflow.engine.validation import validate_policy_file

    reports = [validate_policy_file(path) for path in paths]
    out: list[tuple[ValidationReport, Proof | None]] = []
    for r in reports:
        follow = None
        if progress is not None:
            follow = functools.partial(progress, r.file)
        out.append((r, add_proof(r, bounds, progress=follow) if r.policy is not None else None))
    return out


def add_proof(
    report: ValidationReport,
    bounds: Bounds | None = None,
    *,
    progress: Callable[[int, int, int], None] | None = None,
) -> Proof:
    """Explore the report's policy and let the proof decide the verdict; the proof."""
    from houzzflow.engine.diagnostics import Diagnostic, Severity
    from houzzflow.simulator.proof.verdict import prove

    assert report.policy is not None
    result = prove(report.policy, bounds, progress=progress)
    rules_verdict = report.verdict
    report.proof = result.to_json()
    report.tier = "proof"
    report.verdict = result.verdict  # type: ignore[assignment]
    # The rules know no lapse (a warehouse slower than a week): with --lapse they may differ.
    lapse = bounds is not None and bounds.lapse
    if (
        not lapse
        and result.verdict != "inconclusive"
        and (result.verdict == "proven") != (rules_verdict == "proven")
    ):
        report.diagnostics.append(
            Diagnostic(
                "PROOF001",
                Severity.WARNING,
                f"the rules say {rules_verdict} but exhaustive exploration says "
                f"{result.verdict}; the proof decides. Please report this policy: the rules "
                "should know every way the proof finds",
            )
        )
    return result


def exit_code(reports: Sequence[ValidationReport]) -> int:
    """0 when every file is proven, 2 when any file cannot be read, else 1."""
    codes = {report.exit_code for report in reports}
    return 2 if 2 in codes else max(codes, default=0)


def load_policy(path: str | Path) -> Policy:
    """The resolved policy in a policy file; raises InputError (with diagnostics) if malformed."""
    from houzzflow.engine.diagnostics import InputError
    from houzzflow.engine.file_kind import wrong_kind
    from houzzflow.engine.validation import policy_from_doc
    from houzzflow.engine.yamlsource import load_yaml_file

    doc = load_yaml_file(path)
    mistaken = wrong_kind(doc.data, "policy", doc.file)
    if mistaken is not None:
        raise InputError([mistaken])
    return policy_from_doc(doc)


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of a registered file format or report, with the metadata editors
    look for."""
    schema: dict[str, Any]
    if name in REPORT_SCHEMAS:
        from houzzflow.simulator.report_schemas import report_schema

        schema = report_schema(name)
        title = f"houzzflow {name.replace('-', ' ')}"
    else:
        module_name, _, model_name = SCHEMAS[name].partition(":")
        model = getattr(importlib.import_module(module_name), model_name)
        schema = model.model_json_schema()
        title = f"houzzflow {name} file"
    head = {"$schema": SCHEMA_DIALECT, "$id": f"urn:houzzflow:schema:{name}", "title": title}
    return {**head, **{k: v for k, v in schema.items() if k not in head}}


def save_counterexamples(
    proven: Sequence[tuple[ValidationReport, Proof | None]], directory: str | Path
) -> dict[str, str]:
    """Write each counterexample as a replayable scenario file; file -> scenario path.

    Files are written whole or not at all (to a temporary name, then renamed), so an
    interrupted run leaves no half-written scenario behind; a directory that cannot be
    written raises OSError. Names are unique within one call.
    """
    import re

    from houzzflow.simulator.kernel.files import write_whole
    from houzzflow.simulator.proof.counterexample import scenario_of, scenario_yaml

    out = Path(directory)
    saved: dict[str, str] = {}
    taken: set[str] = set()
    for report, proof in proven:
        if report.policy is None or proof is None or proof.witness is None:
            continue
        # Two policies may share a file name (a/cart.yaml, b/cart.yaml): never let the
        # second overwrite the first's counterexample.
        # A name safe on every file system (standard input is "<stdin>").
        stem = re.sub(r"[^\w.-]+", "-", Path(report.file).stem).strip("-.") or "policy"
        name, n = f"counterexample-{stem}", 1
        while name in taken:
            n += 1
            name = f"counterexample-{stem}-{n}"
        taken.add(name)
        scenario = scenario_of(report.policy, proof.witness, name=name)
        text = scenario_yaml(scenario, proof.story(), proof.rests())
        out.mkdir(parents=True, exist_ok=True)
        target = out / f"{name}.yaml"
        write_whole(target, text)
        saved[report.file] = str(target)
    return saved
