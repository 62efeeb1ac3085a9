"""Which kind of houzzflow file a loaded document is: a policy, a scenario, or neither.

A scenario given to ``houzzflow validate`` (or a policy given to ``houzzflow run``) would
otherwise be judged against the wrong schema, a wall of "unknown setting" errors; this
module recognises the other kind by its keys, so the message can name the right command.
"""

from __future__ import annotations

from typing import Any, Literal

from houzzflow.engine.diagnostics import Diagnostic, Location, Severity
from houzzflow.engine.policy import PolicyFile

Kind = Literal["policy", "scenario", "unknown"]

# Keys only a policy has at its top level (every field of a policy file), and keys only a
# scenario has (its own fields that a policy lacks; ``name`` and ``seed`` tell nothing).
POLICY_KEYS = frozenset(PolicyFile.model_fields)
SCENARIO_KEYS = frozenset({"policy", "world", "duration", "expect", "drain", "connector"})
COMMANDS = {"policy": "houzzflow validate", "scenario": "houzzflow run"}


def file_kind(data: Any) -> Kind:
    """The kind a document's top-level keys say it is (the majority, a tie is unknown)."""
    if not isinstance(data, dict):
        return "unknown"
    keys = {k for k in data if isinstance(k, str)}
    policy, scenario = len(keys & POLICY_KEYS), len(keys & SCENARIO_KEYS)
    if policy > scenario:
        return "policy"
    if scenario > policy:
        return "scenario"
    return "unknown"


def wrong_kind(data: Any, expected: Kind, file: str) -> Diagnostic | None:
    """KIND001 when ``data`` is recognisably the other kind of file, naming its command."""
    found = file_kind(data)
    if found in ("unknown", expected):
        return None
    return Diagnostic(
        "KIND001",
        Severity.ERROR,
        f"this is a {found} file, not a {expected} file",
        Location(file, 1, 1),
        # standard input is given on the command line as "-", not by its display name
        f"use `{COMMANDS[found]} {'-' if file == '<stdin>' else file}`",
    )
