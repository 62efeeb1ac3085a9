"""What ``houzzflow validate`` and ``houzzflow schema`` compute, apart from how it is printed.

``validate_paths`` is the one place that decides a verdict for each file: today the schema and
rules tiers (``engine.validation``); the proof tier plugs in here. ``SCHEMAS`` names the
pydantic models whose JSON Schema editors can use.

The CLI imports this module before it knows which command runs, so the engine (pydantic,
the machine) is imported inside the functions: ``houzzflow --help`` stays fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.policy import Policy
    from engine.validation import ValidationReport

# Schema name -> "module:Model". A new file format (e.g. scenarios) is one more entry.
SCHEMAS: dict[str, str] = {
    "policy": "engine.policy:PolicyFile",
}
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def validate_paths(paths: Iterable[str | Path]) -> list[ValidationReport]:
    """One report per file, in the order given; unreadable files get verdict ``invalid``."""
    from engine.validation import validate_policy_file

    return [validate_policy_file(path) for path in paths]


def exit_code(reports: Sequence[ValidationReport]) -> int:
    """0 when every file is proven, 2 when any file cannot be read, else 1."""
    codes = {report.exit_code for report in reports}
    return 2 if 2 in codes else max(codes, default=0)


def load_policy(path: str | Path) -> Policy:
    """The resolved policy in a policy file; raises InputError (with diagnostics) if malformed."""
    from engine.validation import policy_from_doc
    from engine.yamlsource import load_yaml_file

    return policy_from_doc(load_yaml_file(path))


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of a registered file format, with the metadata editors look for."""
    module_name, _, model_name = SCHEMAS[name].partition(":")
    model = getattr(importlib.import_module(module_name), model_name)
    schema: dict[str, Any] = model.model_json_schema()
    head = {
        "$schema": SCHEMA_DIALECT,
        "$id": f"urn:houzzflow:schema:{name}",
        "title": f"houzzflow {name} file",
    }
    return {**head, **{k: v for k, v in schema.items() if k not in head}}
