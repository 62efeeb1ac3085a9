"""The README cannot drift from the tool: its commands, tables and examples are checked here.

Every ``console`` example that runs a houzzflow command is run and compared with what the
README shows. Numbers that depend on the simulation's random draws or the explorer's
bookkeeping (order counts, order ids, state counts, times) are compared as "some number";
``...`` on a line of its own stands for lines left out. The lines a reader relies on (the
Quick start's PASS line and invariants, a validate example's verdict line, codes and fix)
are compared exactly.
"""

from __future__ import annotations

import difflib
import json
import re
import shlex
from dataclasses import replace
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import settings

from houzzflow.engine.diagnostics import Severity
from houzzflow.engine.policy import Policy, cartrover_defaults
from houzzflow.engine.rules import CODES
from houzzflow.engine.validation import policy_from_doc
from houzzflow.engine.yamlsource import SourceDoc, apply_override, load_yaml_file
from houzzflow.simulator import strategies
from houzzflow.simulator.cli import main
from houzzflow.simulator.runs.invariants import INVARIANTS
from houzzflow.simulator.runs.scenario import EXPECT_KEYS, ScenarioFile, WorldSpec, load_scenario
from houzzflow.simulator.validate import REPORT_SCHEMAS, SCHEMAS, validate_paths

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```([\w-]*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
# A number standing alone (not part of a code such as HZ007, nor a unit such as 2d).
NUMBER = re.compile(r"(?<!\w)\d[\d,]*(?!\w)")


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


def first_column(text: str, header: str) -> set[str]:
    return {row[0].strip("`") for row in table(text, header)}


def quick_start() -> list[str]:
    blocks = FENCE.findall(section("## Quick start"))
    assert [language for language, _ in blocks] == ["bash", "bash"]
    commands = [body.strip() for _, body in blocks]
    assert all("\n" not in command for command in commands), "one command per block"
    return commands


def quick_start_run() -> str:
    """The houzzflow command at the end of the Quick start's first command."""
    return quick_start()[0].rpartition(" && ")[2]


def examples() -> dict[str, list[str]]:
    """Each ``$ houzzflow ...`` console example outside the connector-testing section (its
    own test runs that one), keyed by command, with the output the README shows."""
    testing = section("## Testing your connector")
    found: dict[str, list[str]] = {}
    for language, body in FENCE.findall(README.replace(testing, "")):
        if language == "console" and body.startswith("$ houzzflow "):
            command, *shown = body.rstrip("\n").splitlines()
            found[command.removeprefix("$ ")] = shown
    return found


def invoke(command: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, list[str]]:
    program, *args = shlex.split(command)
    assert program == "houzzflow"
    if args[0] == "matrix":
        args += ["--jobs", "1"]  # same cells, without a process pool inside the test run
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output.splitlines()


def reads_as(shown: list[str], printed: list[str]) -> bool:
    """Whether ``printed`` is what ``shown`` shows, a ``...`` line standing for any lines."""
    if not shown:
        return not printed
    if shown[0].strip() == "...":
        return any(reads_as(shown[1:], printed[k:]) for k in range(len(printed) + 1))
    return bool(printed) and shown[0] == printed[0] and reads_as(shown[1:], printed[1:])


def block(lines: list[str], title: str) -> list[str]:
    """The indented lines under ``title`` (a line of the output), up to a blank line."""
    start = lines.index(title) + 1
    end = lines.index("", start)
    return lines[start - 1 : end]


def test_quick_start_holds_exactly_two_bash_commands_and_nothing_else_runnable() -> None:
    text = section("## Quick start")
    assert text.count("```") == 4
    assert len(quick_start()) == 2


def test_quick_start_first_command_sets_up_and_runs_the_bundled_scenario(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    setup, _, run = quick_start()[0].rpartition(" && ")
    assert "python3 -m venv .venv" in setup and "pip install -e ." in setup
    assert run == "houzzflow run scenarios/seller-default.yaml"
    status, printed = invoke(run, monkeypatch)
    assert status == 0, "\n".join(printed)


def test_quick_start_second_command_installs_test_extras_and_runs_pytest() -> None:
    setup, _, run = quick_start()[1].rpartition(" && ")
    assert "pip install -e '.[test]'" in setup
    assert run == "python -m pytest"


def test_ci_runs_the_readme_install_test_and_quick_start_commands() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install -e '.[test]'" in script
    assert "python -m pytest" in script
    assert "set -euo pipefail" in script
    assert f"\n{quick_start_run()}\n" in script


def test_the_quick_start_output_shown_is_what_it_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    shown = examples()[quick_start_run()]
    _, printed = invoke(quick_start_run(), monkeypatch)
    assert shown[0] == printed[0]
    assert shown[0].startswith("PASS  seller-default")
    assert block(shown, "  Invariants") == block(printed, "  Invariants")
    assert len(block(printed, "  Invariants")) == 1 + len(INVARIANTS)


@pytest.mark.parametrize("command", sorted(examples()))
def test_every_example_output_is_what_the_tool_prints(
    command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = examples()[command]
    _, printed = invoke(command, monkeypatch)
    masked_shown = [NUMBER.sub("#", line) for line in shown]
    masked_printed = [NUMBER.sub("#", line) for line in printed]
    diff = "\n".join(difflib.unified_diff(masked_shown, masked_printed, "README", "printed"))
    assert reads_as(masked_shown, masked_printed), f"{command}: update README.md\n{diff}"


def test_the_validate_examples_come_from_the_proof_tier(monkeypatch: pytest.MonkeyPatch) -> None:
    validations = {c: s for c, s in examples().items() if c.startswith("houzzflow validate ")}
    verdicts = set()
    for command, shown in validations.items():
        status, printed = invoke(command, monkeypatch)
        verdict = printed[0]
        assert shown[0] == verdict
        assert verdict.endswith(("proven (proof)", "counterexample (proof)"))
        assert status == (0 if verdict.endswith("proven (proof)") else 1)
        finding = re.compile(r"\b(error|warning|info) ([A-Z]+\d{3})\b")
        assert finding.findall("\n".join(shown)) == finding.findall("\n".join(printed))
        fixes = [line for line in printed if "nearest proven settings:" in line]
        assert fixes == [line for line in shown if "nearest proven settings:" in line]
        verdicts.add(verdict.rsplit(": ", 1)[1])
    assert verdicts == {"proven (proof)", "counterexample (proof)"}


def test_the_counterexample_fix_is_the_proven_example() -> None:
    """The README says the nearest proven settings, applied, are the proven example."""
    text = section("## Validating a configuration")
    loss, safe = re.findall(r"\$ houzzflow validate (\S+)", text)
    (report,) = validate_paths([ROOT / loss])
    assert report.proof is not None
    fixed = load_yaml_file(ROOT / loss)
    for key, value in report.proof["nearest_proven"]["patch"].items():
        fixed = apply_override(fixed, key, json.dumps(value))

    def settings_of(doc: SourceDoc) -> Policy:
        return replace(policy_from_doc(doc), explicit=frozenset())

    assert settings_of(fixed) == settings_of(load_yaml_file(ROOT / safe))


def test_every_houzzflow_command_in_the_readme_exists() -> None:
    code = "\n".join(re.findall(r"`([^`\n]+)`", README))
    code += "\n" + "\n".join(body for _, body in FENCE.findall(README))
    named = re.findall(r"(?<!from )\bhouzzflow ([a-z][\w-]*)(?: ([a-z][\w-]*))?", code)
    assert named
    for command, argument in named:
        assert command in main.commands, f"houzzflow {command} does not exist"
        if command == "schema" and argument:
            known = {*SCHEMAS, *REPORT_SCHEMAS}
            assert argument in known, f"houzzflow schema {argument} does not exist"
    assert {c for c, _ in named} == set(main.commands), "every command is documented"


def test_every_option_in_the_readme_exists() -> None:
    options = {
        option
        for command in [main, *main.commands.values()]  # main: --version
        for param in command.params
        if isinstance(param, click.Option)
        for option in param.opts
    }
    bench = (ROOT / "bench" / "__main__.py").read_text(encoding="utf-8")
    options |= set(re.findall(r'add_argument\(\s*"(--[\w-]+)"', bench))
    options.add("--hypothesis-seed")  # Hypothesis' own pytest option, in Development
    pieces = re.findall(r"`([^`\n]+)`", README)
    pieces += [line for _, body in FENCE.findall(README) for line in body.splitlines()]
    ours = [p for p in pieces if p.strip().startswith("--") or re.search(r"houzzflow |bench", p)]
    used = set(re.findall(r"(?<![\w-])(--[a-z][\w-]*)", "\n".join(ours)))
    assert used
    assert used <= options, f"not an option of houzzflow or bench: {sorted(used - options)}"


def test_exit_status_table_covers_every_command() -> None:
    rows = table(section("## Exit status"), "| command |")
    documented = {row[0].strip("`").removeprefix("houzzflow ") for row in rows}
    assert documented == set(main.commands)


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


def test_policy_example_gets_the_verdict_the_readme_states(tmp_path: Path) -> None:
    written = tmp_path / "as-written.yaml"
    written.write_text(policy_example(), encoding="utf-8")
    legacy = tmp_path / "legacy.yaml"
    legacy.write_text(policy_example().replace('era: "2021" ', "era: legacy "), encoding="utf-8")
    as_written, in_legacy = validate_paths([written, legacy])
    errors = sorted(d.code for d in as_written.diagnostics if d.severity is Severity.ERROR)
    assert (as_written.verdict, errors) == ("counterexample", ["HZ006", "HZ007"])
    assert "counterexample with `HZ006` and `HZ007`" in section("## The policy file")
    assert in_legacy.policy is not None and in_legacy.policy.era == "legacy"
    assert in_legacy.verdict == "proven"


def test_scenario_tables_name_the_scenario_file_keys() -> None:
    text = section("### The scenario file")
    assert first_column(text, "| key |") == set(ScenarioFile.model_fields)
    assert first_column(text, "| `expect` key |") == set(EXPECT_KEYS)
    world = first_column(text, "| `world.` key |")
    assert world <= set(WorldSpec.model_fields)
    # A scripted world (how a saved counterexample replays) is documented on its own.
    assert set(WorldSpec.model_fields) - world <= {"script"}


def test_the_scenario_example_is_a_valid_scenario() -> None:
    (example,) = [
        b for lang, b in FENCE.findall(section("### The scenario file")) if lang == "yaml"
    ]
    scenario = load_scenario(yaml.safe_load(example))
    assert scenario.name == "seller-default" and scenario.duration == 2 * 86400


def test_the_strategies_named_in_the_readme_exist() -> None:
    (paragraph,) = [p for p in section("## Development").split("\n\n") if ".strategies`" in p]
    named = re.findall(r"`(\w+)`", paragraph)
    assert len(named) >= 5
    assert all(callable(getattr(strategies, name, None)) for name in named), named


def test_file_error_codes_named_in_the_readme_exist() -> None:
    source = (ROOT / "engine" / "yamlsource.py").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:YAML|SCHEMA)\d{3})`", README))
    assert named
    assert all(f'"{code}"' in source for code in named)


def test_hypothesis_profiles_in_the_readme_are_registered() -> None:
    development = section("## Development")
    assert "HYPOTHESIS_PROFILE=thorough python -m pytest" in development
    for profile in ("ci", "thorough"):
        assert f"`{profile}`" in development
        settings.get_profile(profile)  # raises when the profile does not exist
    assert settings.get_profile("ci").derandomize
    assert settings.get_profile("thorough").max_examples > settings.get_profile("ci").max_examples


def test_the_register_table_is_the_register() -> None:
    from houzzflow.engine.assumptions import default_register

    rows = table(section("### What a verdict rests on"), "| assumption |")
    register = default_register().assumptions
    assert [row[0].strip("`") for row in rows] == list(register)
    for row in rows:
        entry = register[row[0].strip("`")]
        assert row[1] == entry.question
        alternatives = re.findall(r"`(\w+)`", row[2])
        assert alternatives[0] == entry.default and set(alternatives) == set(entry.alternatives)
        ruled = set(re.findall(r"`(\w+)`", row[3]))
        assert ruled == {n for n, a in entry.alternatives.items() if a.ruled_out_by}
