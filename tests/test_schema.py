"""``houzzflow schema`` gives editors JSON Schemas that agree with the files users write.

Each schema must accept every bundled file (durations like ``2d``, ranges like ``[1h, 1d]``,
counts like ``">= 1"``, a staff habit in one word, ``era: 2021`` unquoted) and reject what
houzzflow itself rejects: an unknown key, a value outside an enum.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from houzzflow.engine.diagnostics import InputError
from houzzflow.engine.validation import policy_from_doc
from houzzflow.engine.yamlsource import load_yaml_text
from houzzflow.simulator.cli import main
from houzzflow.simulator.runs.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = {
    "policy": sorted((ROOT / "scenarios" / "policies").glob("*.yaml")),
    "scenario": sorted((ROOT / "scenarios").glob("*.yaml")),
}


def printed_schema(name: str) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["schema", name])
    assert result.exit_code == 0, result.output
    schema: dict[str, Any] = json.loads(result.output)
    return schema


@functools.cache  # one schema per format for the whole module: printing it is what is tested
def validator(name: str) -> jsonschema.Draft202012Validator:
    schema = printed_schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def as_an_editor_reads_it(value: Any) -> Any:
    """YAML 1.1 reads ``2026-01-01`` as a date; editors (YAML 1.2) and JSON see text."""
    if isinstance(value, dict):
        return {key: as_an_editor_reads_it(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_an_editor_reads_it(item) for item in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def load(path: Path) -> Any:
    return as_an_editor_reads_it(yaml.safe_load(path.read_text(encoding="utf-8")))


def problems(checker: jsonschema.Draft202012Validator, document: Any) -> list[str]:
    return [
        f"{'.'.join(map(str, error.absolute_path))}: {error.message}"
        for error in checker.iter_errors(document)
    ]


def houzzflow_accepts(name: str, document: dict[str, Any]) -> bool:
    """Whether houzzflow's own loader takes the document (the schema must agree)."""
    try:
        if name == "policy":
            policy_from_doc(load_yaml_text(yaml.safe_dump(document), "policy.yaml"))
        else:
            load_scenario(document)
    except InputError:
        return False
    return True


def test_there_is_a_schema_for_each_file_format() -> None:
    result = CliRunner().invoke(main, ["schema", "--help"])
    assert "policy, scenario" in result.output
    for name in BUNDLED:
        schema = printed_schema(name)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["title"] == f"houzzflow {name} file"


@pytest.mark.parametrize(
    ("name", "path"),
    [(name, path) for name, paths in BUNDLED.items() for path in paths],
    ids=lambda value: value.name if isinstance(value, Path) else value,
)
def test_the_schema_accepts_every_bundled_file(name: str, path: Path) -> None:
    assert problems(validator(name), load(path)) == []


def test_there_are_bundled_files_of_each_format() -> None:
    assert len(BUNDLED["policy"]) >= 10
    assert len(BUNDLED["scenario"]) >= 15


POLICY = {"connection_type": "seller", "assume": {"era": 2021, "staff": {"process": "never"}}}
SCENARIO = {
    "name": "x",
    "duration": "1d",
    "policy": POLICY,
    "world": {
        "staff": {"process": "sometimes", "charge": {"mode": "always", "delay": ["5m", "1h"]}},
        "backend": {"ship_delay": "2h", "packages": [1, 3]},
        "faults": {"retry_after": "5m"},
    },
    "expect": {"lost": 0, "held": ">= 1", "loaded": "10..20", "alerts": ["held in Error"]},
}


@pytest.mark.parametrize(("name", "document"), [("policy", POLICY), ("scenario", SCENARIO)])
def test_the_schema_accepts_what_users_write(name: str, document: dict[str, Any]) -> None:
    assert houzzflow_accepts(name, document)
    assert problems(validator(name), document) == []


def changed(document: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(json.dumps(document))
    *parents, last = path
    target = copy
    for key in parents:
        target = target[key]
    target[last] = value
    return copy


@pytest.mark.parametrize(
    ("name", "document", "path", "value"),
    [
        ("policy", POLICY, ("order_statuss",), "new"),
        ("policy", POLICY, ("assume", "staff", "proces"), "always"),
        ("scenario", SCENARIO, ("seeds",), 3),
        ("scenario", SCENARIO, ("world", "backend", "ship_delays"), "1h"),
        ("scenario", SCENARIO, ("policy", "mark_processd"), True),
    ],
)
def test_the_schema_rejects_an_unknown_key(
    name: str, document: dict[str, Any], path: tuple[str, ...], value: Any
) -> None:
    document = changed(document, path, value)
    assert not houzzflow_accepts(name, document)
    assert problems(validator(name), document), f"{'.'.join(path)} should be refused"


@pytest.mark.parametrize(
    ("name", "document", "path", "value"),
    [
        ("policy", POLICY, ("connection_type",), "marketplace"),
        ("policy", POLICY, ("order_status",), "shipped"),
        ("policy", POLICY, ("assume", "staff", "cancel"), "always"),
        ("policy", POLICY, ("assume", "era"), 2020),
        ("scenario", SCENARIO, ("world", "staff", "process"), "often"),
        ("scenario", SCENARIO, ("world", "houzz"), {"window_field": "placed"}),
        ("scenario", SCENARIO, ("policy", "connection_type"), "sellr"),
    ],
)
def test_the_schema_rejects_a_value_outside_its_enum(
    name: str, document: dict[str, Any], path: tuple[str, ...], value: Any
) -> None:
    document = changed(document, path, value)
    assert not houzzflow_accepts(name, document)
    assert problems(validator(name), document), f"{'.'.join(path)}: {value!r} should be refused"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("duration",), "2 days"),
        (("world", "backend", "ship_delay"), ["1h", "2h", "3h"]),
        (("world", "backend", "ship_delay"), "0s"),
        (("expect", "lost"), "some"),
        (("expect", "lost"), -1),
    ],
)
def test_the_scenario_schema_rejects_malformed_durations_ranges_and_counts(
    path: tuple[str, ...], value: Any
) -> None:
    document = changed(SCENARIO, path, value)
    assert not houzzflow_accepts("scenario", document)
    assert problems(validator("scenario"), document)


def test_an_unknown_schema_name_is_bad_input() -> None:
    result = CliRunner().invoke(main, ["schema", "order"])
    assert result.exit_code == 2
    assert "policy" in result.output and "scenario" in result.output
