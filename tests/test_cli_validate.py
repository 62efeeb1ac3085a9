"""``houzzflow validate`` and ``houzzflow schema`` as a new user meets them: one clear message
with line and column for each mistake, the documented exit status, and never a traceback."""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from houzzflow.simulator.cli import main

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "scenarios" / "policies"
SAFE = POLICIES / "seller-legacy-default.yaml"
LOSS = POLICIES / "loss-vendor-order-status-new.yaml"


def houzzflow(*args: str | Path) -> Result:
    result = CliRunner().invoke(main, [str(a) for a in args])
    # Bad input ends in a message and an exit status, never in a Python exception.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str | bytes], Path]:
    def write(content: str | bytes, name: str = "policy.yaml") -> Path:
        path = tmp_path / name
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        return path

    return write


def test_a_safe_policy_is_proven_with_exit_0() -> None:
    result = houzzflow("validate", SAFE)
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == f"✔ {SAFE}: proven (proof)"


def test_a_policy_that_loses_orders_exits_1_with_code_location_and_fix() -> None:
    result = houzzflow("validate", LOSS)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == f"✘ {LOSS}: counterexample (proof)"
    assert f"  {LOSS}:6:1: error HZ002 Houzz Vendor orders arrive Charged" in result.output
    assert "      fix: set order_status: charged" in lines


def test_a_typo_in_a_setting_name(write: Callable[[str], Path]) -> None:
    path = write("connection_type: seller\nmark_procesed: true\n")
    result = houzzflow("validate", path)
    assert result.exit_code == 2
    assert f"{path}:2:1: error SCHEMA001 unknown setting 'mark_procesed'" in result.output
    assert "did you mean 'mark_processed'?" in result.output


def test_a_typo_in_a_nested_setting(write: Callable[[str], Path]) -> None:
    path = write("connection_type: seller\nassume:\n  staff:\n    proces: always\n")
    result = houzzflow("validate", path)
    assert result.exit_code == 2
    assert f"{path}:4:5: " in result.output
    assert "did you mean 'process'?" in result.output


def test_a_wrong_enum_value(write: Callable[[str], Path]) -> None:
    path = write("connection_type: seller\norder_status: charge\n")
    result = houzzflow("validate", path)
    assert result.exit_code == 2
    assert f"{path}:2:15: error SCHEMA003" in result.output
    assert "new, in_production, new_or_in_production, charged" in result.output
    assert "did you mean 'charged'?" in result.output


def test_a_tab_indent(write: Callable[[str], Path]) -> None:
    path = write("connection_type: seller\nassume:\n\tera: legacy\n")
    result = houzzflow("validate", path)
    assert result.exit_code == 2
    assert f"{path}:3:1: error YAML001 tab character used for indentation" in result.output
    assert "fix: use spaces" in result.output


def test_an_alias_bomb_is_refused_before_it_expands(write: Callable[[str], Path]) -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    path = write("connection_type: seller\n" + "\n".join(levels) + "\n")
    result = houzzflow("validate", path)
    assert result.exit_code == 2
    assert re.search(rf"{re.escape(str(path))}:\d+:\d+: error YAML004 ", result.output)


def test_a_missing_file(tmp_path: Path) -> None:
    result = houzzflow("validate", tmp_path / "nope.yaml")
    assert result.exit_code == 2
    assert f"{tmp_path / 'nope.yaml'}: error YAML008 file not found" in result.output


def test_a_directory(tmp_path: Path) -> None:
    result = houzzflow("validate", tmp_path)
    assert result.exit_code == 2
    assert "is a directory" in result.output


@pytest.mark.parametrize("content", ["", "\n\n", "# only a comment\n"])
def test_an_empty_file(write: Callable[[str], Path], content: str) -> None:
    result = houzzflow("validate", write(content))
    assert result.exit_code == 2
    assert "YAML007" in result.output and "empty" in result.output


def test_a_file_that_is_not_utf8(write: Callable[[bytes], Path]) -> None:
    path = write("connection_type: seller\n# caf\xe9\n".encode("latin-1"))
    result = houzzflow("validate", path)
    assert result.exit_code == 2
    assert f"{path}:2:" in result.output
    assert "not UTF-8" in result.output and "save the file as UTF-8" in result.output


def test_a_binary_file(write: Callable[[bytes], Path]) -> None:
    result = houzzflow("validate", write(b"\x00\x01\x02PK\x03\x04binary"))
    assert result.exit_code == 2
    assert "YAML001" in result.output


def test_a_list_instead_of_settings(write: Callable[[str], Path]) -> None:
    result = houzzflow("validate", write("- connection_type: seller\n"))
    assert result.exit_code == 2
    assert "YAML009" in result.output


def test_every_mistake_in_a_file_is_reported_at_once(write: Callable[[str], Path]) -> None:
    path = write("connection_typ: seller\norder_status: nope\nassume:\n  era: 1999\n")
    result = houzzflow("validate", path)
    assert result.exit_code == 2
    located = [line.split() for line in result.output.splitlines() if line.startswith("  /")]
    assert [(where.rstrip(":"), code) for where, _, code, *_ in located] == [
        (f"{path}:1:1", "SCHEMA001"),  # connection_type misspelt: one finding, not "missing" too
        (f"{path}:2:15", "SCHEMA003"),
        (f"{path}:4:8", "SCHEMA003"),
    ]


def test_json_lines_one_object_per_file_with_the_required_keys(
    write: Callable[[str], Path],
) -> None:
    bad = write("connection_type: sellr\n")
    result = houzzflow("validate", "--format", "json", SAFE, LOSS, bad)
    assert result.exit_code == 2
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["file"] for r in reports] == [str(SAFE), str(LOSS), str(bad)]
    assert [r["verdict"] for r in reports] == ["proven", "counterexample", "invalid"]
    assert [r["tier"] for r in reports] == ["proof", "proof", "schema"]
    for report in reports:
        for diagnostic in report["diagnostics"]:
            assert {"code", "severity", "message", "line", "column", "fix"} <= set(diagnostic)
    (loss,) = [d for d in reports[1]["diagnostics"] if d["severity"] == "error"]
    assert (loss["code"], loss["line"], loss["column"]) == ("HZ002", 6, 1)
    assert loss["fix"] == "set order_status: charged"
    (typo,) = reports[2]["diagnostics"]
    assert (typo["code"], typo["line"], typo["column"]) == ("SCHEMA003", 1, 18)


@pytest.mark.parametrize(
    ("files", "status"),
    [
        ([SAFE], 0),
        ([SAFE, POLICIES / "vendor.yaml"], 0),
        ([LOSS], 1),
        ([SAFE, LOSS], 1),
        ([SAFE, LOSS, POLICIES / "missing.yaml"], 2),
        ([POLICIES / "missing.yaml", SAFE], 2),
    ],
)
@pytest.mark.parametrize("output_format", ["text", "json"])
def test_exit_status_is_the_worst_file(files: list[Path], status: int, output_format: str) -> None:
    assert houzzflow("validate", "--format", output_format, *files).exit_code == status


def test_several_files_are_grouped_by_file_in_order(write: Callable[[str], Path]) -> None:
    bad = write("connection_type: seller\nmark_charged: yes please\n")
    result = houzzflow("validate", LOSS, bad, SAFE)
    lines = result.output.splitlines()
    headers = [n for n, line in enumerate(lines) if not line.startswith(" ")]
    assert [lines[n] for n in headers] == [
        f"✘ {LOSS}: counterexample (proof)",
        f"✘ {bad}: invalid (schema)",
        f"✔ {SAFE}: proven (proof)",
        "3 files: 1 proven, 1 counterexample, 1 invalid",
    ]
    for start, end in itertools.pairwise(headers):
        file = lines[start].split(" ", 1)[1].rsplit(":", 1)[0]
        findings = [line for line in lines[start + 1 : end] if line.startswith("  /")]
        located = [line.split()[0] for line in findings]
        assert located and all(where.startswith(file) for where in located)


@pytest.mark.parametrize(
    "args",
    [
        ["validate"],
        ["validate", "--format", "xml", str(SAFE)],
        ["validate", "--colour", str(SAFE)],
        ["frobnicate"],
        ["schema"],
        ["schema", "nope"],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = houzzflow(*args)
    assert result.exit_code == 2
    assert "Usage:" in result.output


def test_no_colour_when_output_is_not_a_terminal() -> None:
    result = houzzflow("validate", LOSS)
    assert "\x1b[" not in result.output


def test_schema_policy_is_json_schema_editors_can_use() -> None:
    result = houzzflow("schema", "policy")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["title"] == "houzzflow policy file"
    assert schema["required"] == ["connection_type"]
    assert schema["additionalProperties"] is False
    enum = json.dumps(schema["properties"]["order_status"])
    for status in ("new", "in_production", "new_or_in_production", "charged"):
        assert f'"{status}"' in enum
    assert set(schema["properties"]) == {
        "connection_type",
        "order_status",
        "mark_processed",
        "mark_charged",
        "cancel_download",
        "poll_interval",
        "earliest_order_date",
        "credentials",
        "assume",
    }


def _accepts(schema: dict[str, Any], value: object) -> bool:
    """Enough of JSON Schema (anyOf, enum, const, type, pattern) for one setting's values."""
    if "anyOf" in schema:
        return any(_accepts(option, value) for option in schema["anyOf"])
    types = {"string": str, "integer": int, "boolean": bool, "null": type(None)}
    if "type" in schema and type(value) is not types[schema["type"]]:
        return False
    if "enum" in schema and value not in schema["enum"]:
        return False
    if "const" in schema and value != schema["const"]:
        return False
    return "pattern" not in schema or re.search(schema["pattern"], str(value)) is not None


def test_schema_accepts_what_users_write_for_durations_and_eras() -> None:
    # An editor reads `15m` as a string and an unquoted `era: 2021` as a number.
    schema = json.loads(houzzflow("schema", "policy").stdout)
    interval = schema["properties"]["poll_interval"]
    for good in ("30s", "15m", "4h", "2d", 900):
        assert _accepts(interval, good), good
    for bad in ("15 minutes", "1w", True):
        assert not _accepts(interval, bad), bad
    era = schema["$defs"]["Assumptions"]["properties"]["era"]
    for good in ("legacy", "2021", 2021):
        assert _accepts(era, good), good
    assert not _accepts(era, 2020)


def test_diagram_prints_mermaid_and_marks_what_a_policy_does() -> None:
    plain = houzzflow("diagram")
    assert plain.exit_code == 0
    assert "stateDiagram-v2" in plain.stdout
    with_policy = houzzflow("diagram", "--policy", POLICIES / "seller-legacy-manual-process.yaml")
    assert with_policy.exit_code == 0
    assert "stateDiagram-v2" in with_policy.stdout
    assert with_policy.stdout != plain.stdout


def test_a_bad_policy_for_the_diagram_exits_2_with_its_diagnostics(
    write: Callable[[str], Path],
) -> None:
    path = write("connection_type: seller\norder_status: nope\n")
    result = houzzflow("diagram", "--policy", path)
    assert result.exit_code == 2
    assert f"{path}:2:15: error SCHEMA003" in result.stderr
    assert result.stdout == ""


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.one_of(
        st.binary(max_size=200),
        st.dictionaries(
            st.sampled_from(
                ["connection_type", "order_status", "mark_processed", "poll_interval", "x"]
            ),
            st.one_of(
                st.sampled_from(["seller", "vendor", "charged", "15m", "new"]),
                st.booleans(),
                st.integers(),
                st.none(),
                st.lists(st.integers(), max_size=2),
            ),
        ).map(yaml.safe_dump),
    )
)
def test_any_file_gets_a_verdict_and_never_a_traceback(
    write: Callable[[str | bytes], Path], content: str | bytes
) -> None:
    result = houzzflow("validate", "--format", "json", write(content))
    (report,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert report["verdict"] in ("proven", "counterexample", "invalid")
    expected = {"proven": 0, "counterexample": 1, "invalid": 2}[report["verdict"]]
    assert result.exit_code == expected


def _environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    path = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return {**env, "PYTHONPATH": path, **extra}


def test_the_real_command_in_a_subprocess(tmp_path: Path) -> None:
    bad = tmp_path / "typo.yaml"
    bad.write_text("connection_type: seller\nordr_status: new\n", encoding="utf-8")
    command = [sys.executable, "-m", "houzzflow.simulator.cli", "validate", "--format", "json"]
    done = subprocess.run(
        [*command, str(SAFE), str(bad)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_environment(),
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stdout + done.stderr
    verdicts = [json.loads(line)["verdict"] for line in done.stdout.splitlines()]
    assert verdicts == ["proven", "invalid"]
    assert "did you mean 'order_status'?" in done.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
@pytest.mark.parametrize("no_color", [False, True])
def test_colour_on_a_terminal_unless_no_color(no_color: bool) -> None:
    import pty

    controller, terminal = pty.openpty()
    env = _environment(TERM="xterm-256color", **({"NO_COLOR": "1"} if no_color else {}))
    with subprocess.Popen(
        [sys.executable, "-m", "houzzflow.simulator.cli", "validate", str(LOSS)],
        stdout=terminal,
        stderr=terminal,
        env=env,
    ) as process:
        os.close(terminal)
        output = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal closes when the process exits
                break
            if not chunk:
                break
            output += chunk
        assert process.wait() == 1
    os.close(controller)
    assert b"HZ002" in output
    # SGR parameters 30-38 and 90-97 set a colour; bold alone is not colour (no-color.org).
    parameters = {p for m in re.findall(rb"\x1b\[([0-9;]*)m", output) for p in m.split(b";")}
    coloured = any(p and (30 <= int(p) <= 38 or 90 <= int(p) <= 97) for p in parameters)
    assert coloured is not no_color
