"""The README cannot drift from the tool: its commands, tables and examples are checked here."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import settings

from engine.diagnostics import Severity
from engine.policy import cartrover_defaults
from engine.rules import CODES
from engine.validation import policy_from_doc, rules_report
from engine.yamlsource import apply_override, load_yaml_text
from simulator.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```([\w-]*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def section(heading: str) -> str:
    """The text under a ``## heading`` (or ``###``), up to the next heading of that level."""
    level = heading.split(" ", 1)[0]
    start = README.index(f"\n{heading}\n") + len(heading) + 2
    end = README.find(f"\n{level} ", start)
    return README[start:] if end < 0 else README[start:end]


def table(text: str, header: str) -> list[list[str]]:
    lines = text[text.index(header) :].splitlines()
    rows = []
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def quick_start() -> list[str]:
    blocks = FENCE.findall(section("## Quick start"))
    assert [language for language, _ in blocks] == ["bash", "bash"]
    commands = [body.strip() for _, body in blocks]
    assert all("\n" not in command for command in commands), "one command per block"
    return commands


def test_quick_start_holds_exactly_two_bash_commands_and_nothing_else_runnable() -> None:
    text = section("## Quick start")
    assert text.count("```") == 4
    assert len(quick_start()) == 2


def test_quick_start_first_command_sets_up_and_validates_a_bundled_policy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    setup, _, run = quick_start()[0].rpartition(" && ")
    assert "python3 -m venv .venv" in setup and "pip install -e ." in setup
    program, *args = shlex.split(run)
    assert program == "houzzflow" and args[0] == "validate"
    assert all((ROOT / a).is_file() for a in args[1:])
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output


def test_quick_start_second_command_installs_test_extras_and_runs_pytest() -> None:
    setup, _, run = quick_start()[1].rpartition(" && ")
    assert "pip install -e '.[test]'" in setup
    assert run == "python -m pytest"


def test_ci_runs_the_readme_install_and_test_command() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install -e '.[test]'" in script
    assert "python -m pytest" in script
    assert "set -euo pipefail" in script


def test_rule_table_matches_the_rule_codes() -> None:
    rows = table(section("## Rule codes"), "| code |")
    documented = {code.strip("`"): text for code, text in rows}
    # The engine's descriptions end with DOMAIN.md's numbering ("[3]"), which is not shipped.
    expected = {code: re.sub(r" \[\d+\]$", "", text) for code, text in CODES.items()}
    printed = "\n".join(f"| `{c}` | {t} |" for c, t in expected.items())
    assert documented == expected, f"README rule table should read:\n{printed}"


def test_defaults_table_matches_cartrover_defaults() -> None:
    rows = table(section("## The policy file"), "| connection_type |")
    seen = set()
    for connection_type, eras, order_status, processed, charged in rows:
        for era in re.findall(r"legacy|2021", eras):
            seen.add((connection_type, era))
            assert cartrover_defaults(connection_type, era) == {
                "order_status": order_status,
                "mark_processed": processed == "true",
                "mark_charged": charged == "true",
            }
    assert seen == {(c, e) for c in ("seller", "vendor") for e in ("legacy", "2021")}


def policy_example() -> str:
    blocks: list[str] = [body for _, body in FENCE.findall(section("## The policy file"))]
    (example,) = [b for b in blocks if b.startswith("# one Houzz cart's CartRover settings")]
    return example


def test_policy_example_is_a_valid_policy_with_the_verdict_the_readme_states() -> None:
    doc = load_yaml_text(policy_example(), "README.md")
    report = rules_report(policy_from_doc(doc), doc)
    errors = sorted(d.code for d in report.diagnostics if d.severity is Severity.ERROR)
    assert errors == ["HZ006", "HZ007"]
    assert "`HZ006` and `HZ007`" in section("## The policy file")
    legacy = apply_override(doc, "assume.era", "legacy")
    assert rules_report(policy_from_doc(legacy), legacy).verdict == "proven"


def test_validate_example_output_is_what_the_tool_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = [
        b for lang, b in FENCE.findall(section("## Validating policies")) if lang == "console"
    ]
    (example,) = blocks
    command, *expected = example.splitlines()
    program, *args = shlex.split(command.removeprefix("$ "))
    assert program == "houzzflow"
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, args)
    assert result.output.splitlines() == expected


def test_file_error_codes_named_in_the_readme_exist() -> None:
    source = (ROOT / "engine" / "yamlsource.py").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:YAML|SCHEMA)\d{3})`", README))
    assert named
    assert all(f'"{code}"' in source for code in named)


def test_hypothesis_profiles_in_the_readme_are_registered() -> None:
    development = section("## Development")
    for profile in ("ci", "thorough"):
        assert f"`{profile}`" in development
        settings.get_profile(profile)  # raises when the profile does not exist
    assert settings.get_profile("ci").derandomize
    assert settings.get_profile("thorough").max_examples > settings.get_profile("ci").max_examples
