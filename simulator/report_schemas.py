"""The JSON Schemas of houzzflow's reports: what ``--format json`` prints, as a contract.

``houzzflow schema validate-report`` (one line of ``validate --format json``),
``run-report`` and ``matrix-report`` print these; the test suite checks every command's
JSON output against them. A diagnostic, a location and a timeline step have one shape
(``$defs``), shared by every report.
"""

from __future__ import annotations

from typing import Any

LOCATION: dict[str, Any] = {
    "type": "object",
    "description": "where in a file; line and column are 1-based, 0 when unknown",
    "required": ["file", "line", "column"],
    "properties": {
        "file": {"type": "string"},
        "line": {"type": "integer", "minimum": 0},
        "column": {"type": "integer", "minimum": 0},
    },
}

DIAGNOSTIC: dict[str, Any] = {
    "type": "object",
    "description": "one finding: the same object in every report (text: "
    "file:line:col: severity CODE message)",
    "required": ["code", "severity", "message", "file", "line", "column", "setting", "fix"],
    "additionalProperties": False,
    "properties": {
        "code": {"type": "string", "pattern": "^[A-Z]+[0-9]{3}$"},
        "severity": {"enum": ["error", "warning", "info"]},
        "message": {"type": "string"},
        "file": {"type": "string"},
        "line": {"type": "integer", "minimum": 0},
        "column": {"type": "integer", "minimum": 0},
        "setting": {"type": "string", "description": "the dotted setting it is about"},
        "fix": {"type": "string", "description": "this finding's own fix, in words"},
        "patch": {
            "type": ["object", "null"],
            "description": "the fix as dotted setting -> value",
        },
    },
}

TIMELINE_STEP: dict[str, Any] = {
    "type": "object",
    "description": "one step of an order's timeline (a run's happening, a proof's step)",
    "required": ["time", "clock", "order", "actor", "action", "text"],
    "additionalProperties": False,
    "properties": {
        "time": {
            "type": ["integer", "null"],
            "description": "simulated seconds; null in a proof",
        },
        "clock": {"type": ["string", "null"]},
        "order": {"type": "string"},
        "actor": {"type": "string"},
        "action": {"type": "string"},
        "detail": {"type": "string"},
        "houzz_status": {"type": "string"},
        "connector_status": {"type": "string"},
        "text": {"type": "string", "description": "the step as the text report prints it"},
    },
}

DEFS: dict[str, Any] = {
    "diagnostic": DIAGNOSTIC,
    "location": LOCATION,
    "timelineStep": TIMELINE_STEP,
}
_DIAGNOSTICS = {"type": "array", "items": {"$ref": "#/$defs/diagnostic"}}
_TIMELINE = {"type": "array", "items": {"$ref": "#/$defs/timelineStep"}}

VALIDATE_REPORT: dict[str, Any] = {
    "description": "one line of `houzzflow validate --format json`: one policy file",
    "type": "object",
    "required": ["file", "verdict", "tier", "diagnostics"],
    "additionalProperties": False,
    "properties": {
        "file": {"type": "string"},
        "verdict": {"enum": ["proven", "counterexample", "inconclusive", "invalid"]},
        "tier": {"enum": ["schema", "rules", "proof"]},
        "diagnostics": _DIAGNOSTICS,
        "settings": {"type": "object"},
        "proof": {
            "type": "object",
            "required": ["verdict", "bounds", "states", "transitions", "depth", "assumptions"],
            "properties": {
                "verdict": {"enum": ["proven", "counterexample", "inconclusive"]},
                "bounds": {
                    "type": "object",
                    "required": ["orders", "faults", "declines", "lapse", "max_states"],
                },
                "states": {"type": "integer", "minimum": 0},
                "transitions": {"type": "integer", "minimum": 0},
                "depth": {"type": "integer", "minimum": 0},
                "declines_explored": {"type": "boolean"},
                "assumptions": {"type": "array", "items": {"type": "object"}},
                "counterexample": {
                    "type": "object",
                    "required": ["invariant", "kind", "message", "needs", "world", "timeline"],
                    "properties": {
                        "kind": {"enum": ["silent", "visible"]},
                        "needs": {"type": "object"},
                        "world": {"type": "object"},
                        "timeline": _TIMELINE,
                    },
                },
                "nearest_proven": {
                    "type": "object",
                    "required": ["patch", "fix", "why"],
                    "properties": {
                        "patch": {"type": "object"},
                        "fix": {"type": "string"},
                        "why": {"type": "object", "description": "setting -> the finding code"},
                    },
                },
                "nearest_unproven": {"type": "object"},
                "contradicts": {"type": "array"},
                "cut_by": {"type": "string"},
                "scenario": {"type": "string", "description": "--save-counterexample's file"},
            },
        },
    },
}

_COUNT = {"type": "integer", "minimum": 0}
RUN_ITEM: dict[str, Any] = {
    "type": "object",
    "required": [
        "name",
        "file",
        "seed",
        "orders",
        "counts",
        "invariants",
        "expectations",
        "findings",
        "ok",
        "error",
    ],
    "properties": {
        "name": {"type": "string"},
        "file": {"type": "string"},
        "error": {"const": False},
        "ok": {"type": "boolean"},
        "seed": {"type": "integer"},
        "counts": {"type": "object", "additionalProperties": _COUNT},
        "findings": _DIAGNOSTICS,
        "invariants": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["name", "holds", "count", "violations"],
                "properties": {
                    "violations": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["order_id", "message", "kind", "timeline"],
                            "properties": {"timeline": _TIMELINE},
                        },
                    }
                },
            },
        },
        "expectations": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key", "expected", "actual", "ok", "location"],
                "properties": {"location": {"$ref": "#/$defs/location"}, "ok": {"type": "boolean"}},
            },
        },
    },
}
UNREADABLE_ITEM: dict[str, Any] = {
    "type": "object",
    "description": "a file that could not be used",
    "required": ["file", "ok", "error", "diagnostics"],
    "additionalProperties": False,
    "properties": {
        "file": {"type": "string"},
        "ok": {"const": False},
        "error": {"const": True},
        "diagnostics": _DIAGNOSTICS,
    },
}
RUN_REPORT: dict[str, Any] = {
    "description": "`houzzflow run --format json`: one document, one item per file",
    "type": "object",
    "required": ["ok", "scenarios"],
    "additionalProperties": False,
    "properties": {
        "ok": {"type": "boolean"},
        "scenarios": {"type": "array", "items": {"oneOf": [RUN_ITEM, UNREADABLE_ITEM]}},
    },
}

MATRIX_REPORT: dict[str, Any] = {
    "description": "`houzzflow matrix --format json`: one object per cell",
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "account",
            "era",
            "staff_process",
            "staff_charge",
            "staff_cancel",
            "connection_type",
            "order_status",
            "mark_processed",
            "mark_charged",
            "verdict",
            "codes",
            "invariant",
            "reason",
        ],
        "properties": {
            "account": {"enum": ["seller", "vendor"]},
            "era": {"enum": ["legacy", "2021"]},
            "staff_process": {"type": "string"},
            "staff_charge": {"type": "string"},
            "staff_cancel": {"type": "string"},
            "connection_type": {"enum": ["seller", "vendor"]},
            "order_status": {"type": "string"},
            "mark_processed": {"type": "boolean"},
            "mark_charged": {"type": "boolean"},
            "verdict": {"enum": ["proven", "counterexample", "inconclusive"]},
            "codes": {"type": "array", "items": {"type": "string"}},
            "invariant": {"type": "string"},
            "reason": {"type": "string"},
        },
    },
}

SWEEP_REPORT: dict[str, Any] = {
    "description": "`houzzflow sweep --format json`: one document, one item per grid point",
    "type": "object",
    "required": ["houzzflow", "file", "name", "seed", "seeds", "vary", "ok", "points"],
    "properties": {
        "file": {"type": "string"},
        "name": {"type": "string"},
        "seed": {"type": "integer"},
        "seeds": {"type": "integer", "minimum": 1},
        "vary": {"type": "object", "additionalProperties": {"type": "array"}},
        "overrides": {"type": "array", "items": {"type": "string"}},
        "ok": {"type": "boolean"},
        "points": {
            "type": "array",
            "items": {"type": "object", "required": ["index", "values"]},
        },
    },
}

_ORDER_ID = {"type": "string", "description": "the order's id ('' for none)"}
CONNECTOR_VERDICT: dict[str, Any] = {
    "description": "a connector's verdict: `GET /_houzzflow/verdict`, `HouzzHarness.verdict()`"
    ".to_json(), and each world of `houzzflow conformance --format json`",
    "type": "object",
    "required": ["ok", "final", "now", "time", "orders", "broken", "invariants", "etiquette"],
    "additionalProperties": False,
    "properties": {
        "ok": {"type": "boolean"},
        "final": {"type": "boolean", "description": "orders still in flight count as stuck"},
        "now": {"type": "integer", "minimum": 0, "description": "simulated seconds"},
        "time": {"type": "string", "description": "the simulated time as Houzz writes it"},
        "orders": _COUNT,
        "broken": {"type": "array", "items": {"type": "string"}},
        "invariants": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["name", "violations"],
                "properties": {
                    "name": {"type": "string"},
                    "violations": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["order_id", "message", "kind", "timeline"],
                            "properties": {
                                "order_id": _ORDER_ID,
                                "message": {"type": "string"},
                                "kind": {"type": "string"},
                                "timeline": _TIMELINE,
                            },
                        },
                    },
                },
            },
        },
        "etiquette": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["name", "breaches"],
                "properties": {
                    "name": {"type": "string"},
                    "breaches": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["time", "message", "order_id", "timeline"],
                            "properties": {
                                "time": {"type": "integer"},
                                "message": {"type": "string"},
                                "order_id": _ORDER_ID,
                                "timeline": _TIMELINE,
                            },
                        },
                    },
                },
            },
        },
        "in_flight": {
            "type": "array",
            "items": {"type": "object", "required": ["order_id", "why", "kind"]},
        },
        "fates": {"type": "object", "additionalProperties": _COUNT},
    },
}

CONFORMANCE_REPORT: dict[str, Any] = {
    "description": "`houzzflow conformance --format json`: one item per world",
    "type": "object",
    "required": ["ok", "worlds"],
    "additionalProperties": False,
    "properties": {
        "ok": {"type": "boolean"},
        "worlds": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["world", "about", "ok", "runs", "failed_runs", "faults", "verdict"],
                "additionalProperties": False,
                "properties": {
                    "world": {"type": "string"},
                    "about": {"type": "string"},
                    "ok": {"type": "boolean"},
                    "runs": _COUNT,
                    "failed_runs": {
                        "type": "array",
                        "items": {"type": "object", "required": ["at", "error"]},
                    },
                    "faults": {"type": "object", "additionalProperties": _COUNT},
                    "verdict": {"$ref": "#/$defs/connectorVerdict"},
                },
            },
        },
    },
}

REPORTS: dict[str, dict[str, Any]] = {
    "validate-report": VALIDATE_REPORT,
    "run-report": RUN_REPORT,
    "matrix-report": MATRIX_REPORT,
    "sweep-report": SWEEP_REPORT,
    "verdict-report": CONNECTOR_VERDICT,
    "conformance-report": CONFORMANCE_REPORT,
}


def report_schema(name: str) -> dict[str, Any]:
    """A report's schema, with the shared definitions it refers to."""
    return {**REPORTS[name], "$defs": {**DEFS, "connectorVerdict": CONNECTOR_VERDICT}}
