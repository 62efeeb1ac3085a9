"""What a merchant sees when their YAML is wrong: codes, lines, columns and plain-words fixes."""

from __future__ import annotations

import enum
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from houzzflow.engine.diagnostics import Diagnostic, InputError
from houzzflow.engine.yamlsource import (
    SourceDoc,
    apply_override,
    load_yaml_file,
    load_yaml_text,
    validate_model,
)


class Carrier(enum.Enum):
    UPS = "ups"
    FEDEX = "fedex"


class Connector(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_status: Literal["new", "in_production", "new_or_in_production", "charged"]
    mark_processed: bool = True
    api_token: str = ""
    poll_minutes: int = 15
    carrier: Carrier = Carrier.UPS


class Warehouse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    client_secret: Literal["a", "b"] = "a"


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    connector: Connector
    warehouses: list[Warehouse] = []
    fallback: Connector | None = None
    cart_name: str = Field(default="houzz", alias="cart-name")


def errors_of(call: Callable[[], object]) -> list[Diagnostic]:
    with pytest.raises(InputError) as raised:
        call()
    return raised.value.diagnostics


def only_error(call: Callable[[], object]) -> Diagnostic:
    diagnostics = errors_of(call)
    assert len(diagnostics) == 1, diagnostics
    return diagnostics[0]


def write(tmp_path: Path, content: str | bytes, name: str = "cart.yaml") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


GOOD = """\
connector:
  order_status: charged
  poll_minutes: 5
warehouses:
  - code: NJ
  - code: CA
"""


def test_locations_of_nested_keys_and_values(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    doc = load_yaml_file(path)
    assert doc.data["warehouses"][1] == {"code": "CA"}
    assert doc.lines[1] == "  order_status: charged"
    value = doc.locate(["connector", "poll_minutes"])
    assert (value.file, value.line, value.column) == (str(path), 3, 17)
    assert value.path == ("connector", "poll_minutes")
    key = doc.locate(["connector", "poll_minutes"], key=True)
    assert (key.line, key.column) == (3, 3)
    item = doc.locate(["warehouses", 1, "code"])
    assert (item.line, item.column) == (6, 11)


def test_missing_path_points_at_deepest_existing_ancestor() -> None:
    doc = load_yaml_text(GOOD, "cart.yaml")
    where = doc.locate(["connector", "api_token"])
    assert (where.line, where.column) == (1, 1)  # the `connector:` line
    assert where.path == ("connector", "api_token")


def test_valid_config_loads_into_model() -> None:
    config = validate_model(load_yaml_text(GOOD), Config)
    assert config.connector.order_status == "charged"
    assert [w.code for w in config.warehouses] == ["NJ", "CA"]


def test_exact_line_and_column_of_nested_bad_value() -> None:
    text = GOOD.replace("poll_minutes: 5", "poll_minutes: soon")
    error = only_error(lambda: validate_model(load_yaml_text(text, "cart.yaml"), Config))
    assert error.code == "SCHEMA003"
    assert str(error.location) == "cart.yaml:3:17"
    assert error.location.dotted == "connector.poll_minutes"
    assert error.message.startswith("connector.poll_minutes: 'soon' is not valid: expected")


def test_duplicate_key_names_key_and_first_line() -> None:
    text = "connector:\n  order_status: new\n  poll_minutes: 5\n  order_status: charged\n"
    error = only_error(lambda: load_yaml_text(text, "cart.yaml"))
    assert error.code == "YAML002"
    assert error.message == "duplicate key 'order_status': first defined on line 2"
    assert (error.location.line, error.location.column) == (4, 3)


def test_merge_key_may_repeat_a_merged_key() -> None:
    text = "base: &b {order_status: new}\nconnector:\n  <<: *b\n  order_status: charged\n"
    assert load_yaml_text(text).data["connector"] == {"order_status": "charged"}


def test_tab_indentation_has_its_own_message_and_line() -> None:
    error = only_error(lambda: load_yaml_text("connector:\n\torder_status: new\n"))
    assert error.code == "YAML001"
    assert error.message == "tab character used for indentation; YAML indents with spaces"
    assert (error.location.line, error.location.column) == (2, 1)


def test_syntax_error_has_line_and_column() -> None:
    error = only_error(lambda: load_yaml_text("connector:\n  order_status: new: x\n"))
    assert error.code == "YAML001"
    assert "mapping values are not allowed here" in error.message
    assert (error.location.line, error.location.column) == (2, 20)


def test_second_document_is_rejected() -> None:
    error = only_error(lambda: load_yaml_text("a: 1\n---\nb: 2\n"))
    assert error.code == "YAML001"
    assert "one document expected" in error.message


def test_billion_laughs_is_rejected() -> None:
    lines = ["a: &a [" + ", ".join(["lol"] * 10) + "]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    error = only_error(lambda: load_yaml_text("\n".join(lines)))
    assert error.code == "YAML004"
    assert "aliases" in error.message


def test_too_many_aliases_is_rejected() -> None:
    text = "a: &a x\nb: [" + ", ".join(["*a"] * 1001) + "]\n"
    assert only_error(lambda: load_yaml_text(text)).code == "YAML004"


def test_self_referencing_alias_is_rejected() -> None:
    assert only_error(lambda: load_yaml_text("a: &x [1, *x]\n")).code == "YAML004"


def test_deep_nesting_is_rejected() -> None:
    error = only_error(lambda: load_yaml_text("a: " + "[" * 100 + "]" * 100))
    assert error.code == "YAML005"
    assert (error.location.line, error.location.column) == (1, 67)
    # The top-level mapping is level 1, so 63 brackets is the deepest allowed.
    assert load_yaml_text("a: " + "[" * 63 + "]" * 63).data["a"]
    assert only_error(lambda: load_yaml_text("a: " + "[" * 64 + "]" * 64)).code == "YAML005"


def test_file_too_large_is_rejected_before_parsing(tmp_path: Path) -> None:
    path = write(tmp_path, "a: [" + "1, " * 400_000 + "]\n")
    error = only_error(lambda: load_yaml_file(path))
    assert error.code == "YAML003"


def test_non_utf8_bytes_say_where(tmp_path: Path) -> None:
    path = write(tmp_path, b"connector:\n  order_status: caf\xe9\n")
    error = only_error(lambda: load_yaml_file(path))
    assert error.code == "YAML006"
    assert "byte 0xe9 at offset 30" in error.message
    assert (error.location.line, error.location.column) == (2, 20)


def test_utf8_bom_is_accepted() -> None:
    assert load_yaml_text("\ufeffa: 1\n".encode()).data == {"a": 1}


@pytest.mark.parametrize("content", ["", "\n\n", "# only a comment\n", "---\n"])
def test_empty_file(tmp_path: Path, content: str) -> None:
    error = only_error(lambda: load_yaml_file(write(tmp_path, content)))
    assert error.code == "YAML007"


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert only_error(lambda: load_yaml_file(tmp_path / "nope.yaml")).code == "YAML008"
    assert only_error(lambda: load_yaml_file(tmp_path)).code == "YAML008"


def test_top_level_must_be_a_mapping() -> None:
    error = only_error(lambda: load_yaml_text("- a\n- b\n"))
    assert error.code == "YAML009"
    assert load_yaml_text("- a\n", expect_mapping=False).data == ["a"]


def test_unsafe_tags_are_refused() -> None:
    error = only_error(lambda: load_yaml_text("a: !!python/object/apply:os.system [ls]\n"))
    assert error.code == "YAML001"


def test_unknown_key_points_at_key_and_suggests() -> None:
    text = "connector:\n  order_status: new\n  mark_procesed: false\n"
    error = only_error(lambda: validate_model(load_yaml_text(text), Config))
    assert error.code == "SCHEMA001"
    assert error.message == "unknown setting 'mark_procesed' in 'connector'"
    assert error.fix == "did you mean 'mark_processed'?"
    assert (error.location.line, error.location.column) == (3, 3)


def test_unknown_key_suggests_alias_not_python_name() -> None:
    text = "connector: {order_status: new}\ncart_nam: x\n"
    error = only_error(lambda: validate_model(load_yaml_text(text), Config))
    assert error.fix == "did you mean 'cart-name'?"


def test_unknown_key_inside_list_item() -> None:
    text = "connector: {order_status: new}\nwarehouses:\n  - code: NJ\n    cod: CA\n"
    error = only_error(lambda: validate_model(load_yaml_text(text), Config))
    assert error.location.path == ("warehouses", 0, "cod")
    assert (error.location.line, error.fix) == (4, "did you mean 'code'?")


def test_wrong_literal_lists_allowed_values() -> None:
    error = only_error(
        lambda: validate_model(load_yaml_text(GOOD.replace("charged", "charge")), Config)
    )
    assert error.code == "SCHEMA003"
    assert error.message == (
        "connector.order_status: 'charge' is not one of new, in_production, "
        "new_or_in_production, charged"
    )
    assert error.fix == "did you mean 'charged'?"
    assert (error.location.line, error.location.column) == (2, 17)


def test_wrong_enum_in_optional_model_lists_allowed_values() -> None:
    text = GOOD + "fallback:\n  order_status: new\n  carrier: fedx\n"
    error = only_error(lambda: validate_model(load_yaml_text(text), Config))
    assert error.message == "fallback.carrier: 'fedx' is not one of ups, fedex"
    assert error.fix == "did you mean 'fedex'?"


def test_missing_field_points_at_parent() -> None:
    text = "connector:\n  poll_minutes: 5\n"
    error = only_error(lambda: validate_model(load_yaml_text(text), Config))
    assert error.code == "SCHEMA002"
    assert error.message == "missing required setting 'order_status' in 'connector'"
    assert (error.location.line, error.location.column) == (1, 1)


def test_every_error_is_reported_sorted_by_line() -> None:
    text = "connector:\n  order_status: nope\n  poll_minutes: x\nwarehouses: [{}]\nextra: 1\n"
    errors = errors_of(lambda: validate_model(load_yaml_text(text), Config))
    assert [e.code for e in errors] == ["SCHEMA003", "SCHEMA003", "SCHEMA002", "SCHEMA001"]
    assert [e.location.line for e in errors] == [2, 3, 4, 5]


def test_secret_values_are_never_printed() -> None:
    text = "connector:\n  order_status: new\n  api_token: [hunter2]\n"
    text += "warehouses:\n  - code: NJ\n    client_secret: hunter3\n"
    errors = errors_of(lambda: validate_model(load_yaml_text(text), Config))
    assert len(errors) == 2
    for error in errors:
        assert "hunter" not in error.render()
    doc = apply_override(load_yaml_text(GOOD), "connector.api_token", "hunter4")
    assert "hunter4" not in doc.locate(["connector", "api_token"]).file


def test_apply_override_parses_scalars_and_tracks_origin() -> None:
    doc = load_yaml_text(GOOD, "cart.yaml")
    doc = apply_override(doc, "connector.poll_minutes", "100")
    doc = apply_override(doc, "connector.mark_processed", "true")
    doc = apply_override(doc, "warehouses.1.code", "15m")
    doc = apply_override(doc, "limits.daily.max", "7")
    assert doc.data["connector"]["poll_minutes"] == 100
    assert doc.data["connector"]["mark_processed"] is True
    assert doc.data["warehouses"][1]["code"] == "15m"
    assert doc.data["limits"] == {"daily": {"max": 7}}
    where = doc.locate(["connector", "poll_minutes"])
    assert (where.file, where.line) == ("--set connector.poll_minutes=100", 0)
    assert str(doc.locate(["connector", "order_status"])) == "cart.yaml:2:17"


def test_apply_override_leaves_original_and_aliases_alone() -> None:
    original = load_yaml_text("base: &b {x: 1}\nother: *b\n")
    changed = apply_override(original, "other.x", "2")
    assert changed.data == {"base": {"x": 1}, "other": {"x": 2}}
    assert original.data == {"base": {"x": 1}, "other": {"x": 1}}


def test_overridden_value_error_points_at_the_override() -> None:
    doc = apply_override(load_yaml_text(GOOD), "connector.order_status", "shipped")
    error = only_error(lambda: validate_model(doc, Config))
    assert error.location.file == "--set connector.order_status=shipped"


@pytest.mark.parametrize("dotted", ["connector.order_status.x", "warehouses.9.code", "a..b"])
def test_bad_override_path(dotted: str) -> None:
    error = only_error(lambda: apply_override(load_yaml_text(GOOD), dotted, "1"))
    assert error.code == "SET001"
    assert error.location.file == "--set"


def test_sourcedoc_can_be_built_directly() -> None:
    doc = SourceDoc("x.yaml", {"a": 1})
    assert str(doc.locate(["a"])) == "x.yaml"


def test_a_misspelt_required_key_is_reported_once_with_its_correction() -> None:
    class Needs(BaseModel):
        model_config = ConfigDict(extra="forbid")
        connection_type: str

    doc = load_yaml_text("conection_type: seller\n", "p.yaml")
    with pytest.raises(InputError) as caught:
        validate_model(doc, Needs)
    (only,) = caught.value.diagnostics
    assert only.code == "SCHEMA001"
    assert only.fix == "did you mean 'connection_type'?"
