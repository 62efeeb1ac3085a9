"""Every command's reports, as a CI job and a new user meet them: each command x format with
a good file, a bad file and a file of the wrong kind, checked against the published report
schemas; batch-safe runs; stdin and directories; ``-o``, ``-q``, ``--max-violations``; a
closed or full standard output; explain and init; the same options with the same help."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import click
import jsonschema
import pytest
from click.testing import CliRunner, Result

from houzzflow.engine.explain import catalog, explain
from houzzflow.engine.starter import starter
from houzzflow.simulator import api, cli
from houzzflow.simulator.cli import SUMMARIES, main
from houzzflow.simulator.output import REPORT_FORMATS
from houzzflow.simulator.proof.explorer import Bounds, explore
from houzzflow.simulator.validate import json_schema, load_policy

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "scenarios" / "policies"
GOOD_POLICY = POLICIES / "vendor.yaml"
LOSS_POLICY = POLICIES / "loss-vendor-order-status-new.yaml"
# A small scenario that passes quickly, written beside a copy of its policy.
GOOD_SCENARIO = """\
name: small-vendor
duration: 4h
seed: 3
policy: {connection_type: vendor}
world: {orders: {count: 20}}
"""
BAD_YAML = "connection_type: seller\norder_status: [unclosed\n"
# The text shape of every diagnostic: file:line:col: severity CODE message.
DIAGNOSTIC_LINE = re.compile(r"^\s*\S+:\d+:\d+: (error|warning|info) [A-Z]+\d{3} \S")


def houzzflow(*args: str | Path, input: bytes | None = None) -> Result:
    result = CliRunner().invoke(main, [str(a) for a in args], input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


def files(tmp_path: Path, command: str) -> dict[str, Path]:
    """A good file, a bad file and a file of the other kind, for ``command``."""
    good = tmp_path / "good.yaml"
    if command == "validate":
        good.write_text(GOOD_POLICY.read_text("utf-8"), encoding="utf-8")
        wrong = tmp_path / "scenario.yaml"
        wrong.write_text(GOOD_SCENARIO, encoding="utf-8")
    else:
        good.write_text(GOOD_SCENARIO, encoding="utf-8")
        wrong = tmp_path / "policy.yaml"
        wrong.write_text(GOOD_POLICY.read_text("utf-8"), encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_YAML, encoding="utf-8")
    return {"good": good, "bad": bad, "wrong": wrong}


def check_json(command: str, stdout: str) -> list[dict[str, Any]]:
    """The items of a JSON report, after checking it against its published schema."""
    schema = json_schema(f"{command}-report")
    if command == "validate":  # JSON Lines: each line is one report
        items = [json.loads(line) for line in stdout.splitlines()]
        for item in items:
            jsonschema.validate(item, schema)
        return items
    document = json.loads(stdout)
    jsonschema.validate(document, schema)
    return list(document["scenarios"])


@pytest.mark.parametrize(
    ("command", "fmt"),
    [(c, f) for c in ("validate", "run") for f in REPORT_FORMATS[c]],
)
def test_every_command_and_format_judges_each_file_on_its_own(
    tmp_path: Path, command: str, fmt: str
) -> None:
    given = files(tmp_path, command)
    result = houzzflow(command, "--format", fmt, given["good"], given["bad"], given["wrong"])
    assert result.exit_code == 2  # the worst of the three: a file that cannot be used
    out = result.stdout
    if fmt == "json":
        good, bad, wrong = check_json(command, out)
        key = "verdict" if command == "validate" else "ok"
        assert good[key] in ("proven", True)
        for item, code in ((bad, "YAML001"), (wrong, "KIND001")):
            (diagnostic,) = item["diagnostics"]
            assert diagnostic["code"] == code
            assert diagnostic["line"] >= 1 and diagnostic["column"] >= 1
        assert "houzzflow run" in wrong["diagnostics"][0]["fix"] or command == "run"
    elif fmt == "junit":
        root = ET.fromstring(out)
        errors = root.findall(".//testcase/error")
        assert len(errors) == 2
        assert {e.get("message", "").split(" error ")[1].split()[0] for e in errors} == {
            "YAML001",
            "KIND001",
        }
        assert all(case.get("time") is not None for case in root.iter("testcase"))
        failed = [case for case in root.iter("testcase") if case.find("error") is not None]
        assert len(failed) == 2 and all(case.get("line") for case in failed)
    elif fmt == "html":
        assert out.startswith("<!DOCTYPE html>") and out.count('<section class="') == 3
        for code in ("YAML001", "KIND001"):
            assert f"<code>{code}</code>" in out
        assert f"{given['bad']}:3:1" in out and f"{given['wrong']}:1:1" in out
    else:
        lines = [line for line in out.splitlines() if " error " in line]
        assert lines and all(DIAGNOSTIC_LINE.match(line) for line in lines), lines
        other = "validate" if command == "run" else "run"
        assert f"use `houzzflow {other} {given['wrong']}`" in out


@pytest.mark.parametrize("fmt", REPORT_FORMATS["sweep"])
def test_sweep_takes_a_good_file_and_names_a_bad_or_wrong_one(tmp_path: Path, fmt: str) -> None:
    given = files(tmp_path, "run")
    result = houzzflow("sweep", "--seeds", "2", "--jobs", "1", "--format", fmt, given["good"])
    assert result.exit_code == 0, result.output
    if fmt == "json":
        jsonschema.validate(json.loads(result.stdout), json_schema("sweep-report"))
    for name, code in (("bad", "YAML001"), ("wrong", "KIND001")):
        failed = houzzflow("sweep", "--seeds", "2", "--format", fmt, given[name])
        assert failed.exit_code == 2 and failed.stdout == ""
        (line, *_) = failed.stderr.splitlines()
        assert DIAGNOSTIC_LINE.match(line) and f" error {code} " in line


@pytest.mark.parametrize(
    "command", [["diagram"], ["assumptions"], ["assumptions", "--format", "json"]]
)
def test_a_policy_option_names_a_bad_or_wrong_kind_file(tmp_path: Path, command: list[str]) -> None:
    given = files(tmp_path, "validate")
    assert houzzflow(*command, "--policy", given["good"]).exit_code == 0
    for name, code in (("bad", "YAML001"), ("wrong", "KIND001")):
        failed = houzzflow(*command, "--policy", given[name])
        assert failed.exit_code == 2 and failed.stdout == ""
        assert DIAGNOSTIC_LINE.match(failed.stderr.splitlines()[0])
        assert f" error {code} " in failed.stderr


@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_good_file_alone_passes_in_every_format(tmp_path: Path, command: str) -> None:
    good = files(tmp_path, command)["good"]
    for fmt in REPORT_FORMATS[command]:
        result = houzzflow(command, "--format", fmt, good)
        assert result.exit_code == 0, result.output
        if fmt == "json":
            check_json(command, result.stdout)


def test_a_failing_policy_report_matches_its_schema_with_timeline_steps() -> None:
    result = houzzflow("validate", "--format", "json", LOSS_POLICY)
    assert result.exit_code == 1
    (report,) = check_json("validate", result.stdout)
    steps = report["proof"]["counterexample"]["timeline"]
    assert steps[-1]["actor"] == "violation" and steps[-1]["time"] is None
    assert report["proof"]["nearest_proven"]["why"] == {"order_status": ["HZ002"]}


def test_a_failing_run_report_matches_its_schema_with_the_same_shapes(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(GOOD_SCENARIO, encoding="utf-8")
    result = houzzflow(
        "run", "--format", "json", scenario, "--set", "policy.order_status=new", "--set",
        "world.orders.count=3", "--max-violations", "2",
    )  # fmt: skip
    assert result.exit_code == 1
    (item,) = check_json("run", result.stdout)
    lost = item["invariants"]["lost"]
    assert lost["count"] == 3 and len(lost["violations"]) == 2  # --max-violations
    step = lost["violations"][0]["timeline"][0]
    assert isinstance(step["time"], int) and step["text"].startswith("day 1")
    (finding,) = [f for f in item["findings"] if f["code"] == "HZ002"]
    assert finding["patch"] == {"order_status": "charged"}
    assert item["expectations"][0]["location"]["line"] >= 1


def test_matrix_formats_match_their_schema_csv_booleans_and_code_lists() -> None:
    args = ["matrix", "--account", "vendor", "--era", "2021", "--orders", "1", "--jobs", "1"]
    rows = json.loads(houzzflow(*args, "--format", "json").stdout)
    jsonschema.validate(rows, json_schema("matrix-report"))
    assert all(isinstance(row["codes"], list) for row in rows)
    assert any(row["codes"] == ["HZ002"] for row in rows)
    table = list(csv.DictReader(io.StringIO(houzzflow(*args, "--format", "csv").stdout)))
    assert {row["mark_processed"] for row in table} == {"true", "false"}
    assert houzzflow(*args, "--format", "markdown").stdout.startswith("### vendor 2021")
    assert houzzflow("matrix", "--orders", "5").exit_code == 2


def test_the_proof_bounds_are_the_same_on_every_command_that_proves() -> None:
    def bounds(command: str) -> dict[str, tuple[Any, Any, str | None]]:
        found = {}
        for param in main.commands[command].params:
            if isinstance(param.type, click.IntRange) and param.name in ("orders", "faults"):
                assert isinstance(param, click.Option)
                found[param.name] = (param.type.min, param.type.max, param.help)
        return found

    assert bounds("validate") == bounds("matrix")
    assert bounds("validate")["orders"][:2] == (1, 4)
    # The Python API takes the same bounds as the command line.
    assert (api.PROOF_ORDERS, api.PROOF_FAULTS) == (cli.ORDERS, cli.FAULTS)
    assert (api.MATRIX_ORDERS, api.MATRIX_FAULTS) == (cli.ORDERS, cli.FAULTS)
    assert (api.PROOF_DECLINES, api.MAX_STATES) == (cli.DECLINES, cli.MAX_STATES)
    from houzzflow.simulator.runs.report import MAX_VIOLATIONS

    assert cli.MAX_VIOLATIONS == MAX_VIOLATIONS


def test_every_option_has_help_and_every_command_a_whole_summary() -> None:
    for name, command in main.commands.items():
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"houzzflow {name} {param.opts[0]} has no help"
    text = houzzflow("--help").output
    for name, summary in SUMMARIES.items():
        if name in main.commands:
            assert " ".join(summary.split()[:4]) in " ".join(text.split())


def test_the_kinds_of_file_are_told_apart_by_keys_only_one_kind_has() -> None:
    from houzzflow.engine.file_kind import POLICY_KEYS, SCENARIO_KEYS
    from houzzflow.simulator.runs.scenario import ScenarioFile

    assert set(ScenarioFile.model_fields) >= SCENARIO_KEYS
    assert not SCENARIO_KEYS & POLICY_KEYS


def test_stdin_and_directories(tmp_path: Path) -> None:
    policy = GOOD_POLICY.read_bytes()
    result = houzzflow("validate", "--format", "json", "-", input=policy)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["file"] == "<stdin>"
    scenario = houzzflow("validate", "-", input=GOOD_SCENARIO.encode())
    assert scenario.exit_code == 2 and "fix: use `houzzflow run -`" in scenario.stdout
    folder = tmp_path / "carts"
    (folder / "deep").mkdir(parents=True)
    (folder / "a.yaml").write_bytes(policy)
    (folder / "deep" / "b.yaml").write_bytes(LOSS_POLICY.read_bytes())
    (folder / "scenario.yaml").write_text(GOOD_SCENARIO, encoding="utf-8")
    (folder / "notes.txt").write_text("not yaml", encoding="utf-8")
    result = houzzflow("validate", "--format", "json", folder)
    assert result.exit_code == 1
    judged = [Path(json.loads(line)["file"]).name for line in result.stdout.splitlines()]
    assert judged == ["a.yaml", "b.yaml"]
    assert "left out 1 scenario file" in result.stderr
    run = houzzflow("run", "-q", folder)
    assert run.exit_code == 0, run.output
    assert "1 of 1 scenario passed" in run.stdout
    (tmp_path / "empty").mkdir()
    empty = houzzflow("validate", tmp_path / "empty")
    assert empty.exit_code == 2
    assert f"{tmp_path / 'empty'}: error YAML008 is a directory with no *.yaml file" in empty.stdout


def test_output_file_gets_the_format_and_the_terminal_the_text(tmp_path: Path) -> None:
    report = tmp_path / "report.xml"
    result = houzzflow("validate", "--format", "junit", "-o", report, GOOD_POLICY)
    assert result.exit_code == 0
    assert ET.parse(report).getroot().tag == "testsuites"
    assert result.stdout.startswith(f"✔ {GOOD_POLICY}: proven")
    dash = houzzflow("validate", "--format", "json", "-o", "-", GOOD_POLICY)
    assert json.loads(dash.stdout)["verdict"] == "proven"
    quiet = houzzflow("validate", "-q", "--format", "json", "-o", report, GOOD_POLICY)
    assert quiet.stdout == ""
    assert json.loads(report.read_text("utf-8"))["verdict"] == "proven"


def test_reports_and_counterexamples_are_readable_as_plain_files_are(tmp_path: Path) -> None:
    """Written through a private temporary file, but shared like any file the user writes
    (an HTML page attached to a ticket, a report a CI server serves): the umask decides."""
    previous = os.umask(0o022)
    try:
        report = tmp_path / "report.json"
        houzzflow("validate", "--format", "json", "-o", report, GOOD_POLICY)
        houzzflow("validate", "--save-counterexample", tmp_path / "cx", LOSS_POLICY)
    finally:
        os.umask(previous)
    (saved,) = (tmp_path / "cx").iterdir()
    for written in (report, saved):
        assert written.stat().st_mode & 0o777 == 0o644, written
    assert not [p for p in tmp_path.rglob(".*") if p.is_file()]  # no temporary file left


def test_an_output_that_cannot_be_written_is_one_line_and_nothing_half_written(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "report.json"
    result = houzzflow("validate", "--format", "json", "-o", missing, GOOD_POLICY)
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"{missing}: error OUT001 cannot write the report")
    failed = houzzflow("validate", "-o", missing, LOSS_POLICY)
    assert failed.exit_code == 1  # the check failed first: its status stands
    assert "error OUT001" in failed.stderr
    assert houzzflow("validate", "-o", tmp_path, GOOD_POLICY).exit_code == 2  # a directory
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def _real(*args: str, stdout: Any) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, "-m", "houzzflow.simulator.cli", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        check=False,
    )


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_standard_output_is_one_line_exit_2() -> None:
    with open("/dev/full", "w") as full:
        done = _real("validate", str(GOOD_POLICY), stdout=full)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "<stdout>: error OUT001 cannot write the report: No space left on device"
    ]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize(
    "args",
    [["schema", "policy"], ["explain", "HZ001"], ["init", "scenario"], ["--help"], ["diagram"]],
)
def test_every_command_says_so_when_standard_output_fails(args: list[str]) -> None:
    with open("/dev/full", "w") as full:
        done = _real(*args, stdout=full)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "<stdout>: error OUT001 cannot write the report: No space left on device"
    ]
    closed = subprocess.run(
        [sys.executable, "-m", "houzzflow.simulator.cli", *args],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        preexec_fn=lambda: os.close(1),
        check=False,
    )
    assert closed.returncode == 2
    assert closed.stderr.splitlines() == [
        "<stdout>: error OUT001 cannot write the report: it is closed"
    ]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes")
def test_a_closed_pipe_is_one_line_and_the_checks_status() -> None:
    read, write = os.pipe()
    os.close(read)  # like `| head` that has already gone
    with os.fdopen(write, "w") as pipe:
        done = _real("validate", "--format", "json", str(LOSS_POLICY), stdout=pipe)
    assert done.returncode == 1  # the check failed first
    assert done.stderr.strip().splitlines() == [
        "<stdout>: error OUT001 cannot write the report: the pipe was closed"
    ]


def test_counterexamples_with_the_same_file_name_never_collide(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "cart.yaml").write_bytes(LOSS_POLICY.read_bytes())
    out = tmp_path / "saved"
    result = houzzflow(
        "validate", "--save-counterexample", out, tmp_path / "a" / "cart.yaml",
        tmp_path / "b" / "cart.yaml",
    )  # fmt: skip
    assert result.exit_code == 1
    assert sorted(p.name for p in out.iterdir()) == [
        "counterexample-cart-2.yaml",
        "counterexample-cart.yaml",
    ]
    piped = houzzflow("validate", "--save-counterexample", out, "-", input=LOSS_POLICY.read_bytes())
    assert piped.exit_code == 1
    assert (out / "counterexample-stdin.yaml").is_file()
    unwritable = tmp_path / "file"
    unwritable.write_text("", encoding="utf-8")
    blocked = houzzflow("validate", "--save-counterexample", unwritable / "x", LOSS_POLICY)
    assert blocked.exit_code == 1
    assert "error OUT001" in blocked.stderr


def test_junit_and_json_escape_what_their_formats_forbid(tmp_path: Path) -> None:
    scenario = tmp_path / "odd.yaml"
    # \b (U+0008) and U+FFFE cannot be written in XML 1.0 at all.
    scenario.write_text(GOOD_SCENARIO.replace("small-vendor", '"odd\\b\\uFFFEname"'), "utf-8")
    junit = houzzflow("run", "--format", "junit", scenario)
    assert junit.exit_code == 0
    (suite,) = ET.fromstring(junit.stdout).iter("testsuite")
    assert suite.get("name") == "odd\\x08\\ufffename"
    data = houzzflow("run", "--format", "json", scenario).stdout
    assert data.isascii()
    assert json.loads(data)["scenarios"][0]["name"] == "odd\b\ufffename"


def test_a_set_into_a_named_policy_file_is_reported_as_written() -> None:
    result = houzzflow(
        "run", ROOT / "scenarios" / "safe-vendor.yaml", "--set", "policy.order_status=chargd"
    )
    assert result.exit_code == 2
    assert "--set policy.order_status=chargd: error SCHEMA003" in result.stdout


def test_quiet_runs_print_one_line_per_file_and_the_summary(tmp_path: Path) -> None:
    """Quiet keeps one line per file, but never hides why a file could not be used."""
    given = files(tmp_path, "run")
    result = houzzflow("run", "-q", given["good"], given["bad"])
    assert result.stdout.splitlines() == [
        "PASS  small-vendor",
        f"ERROR {given['bad']} - cannot be used",
        f"  {given['bad']}:3:1: error YAML001 invalid YAML: expected ',' or ']', but got "
        "'<stream end>' (while parsing a flow sequence on line 2)",
        "",
        "1 of 2 scenarios passed; 1 file could not be used",
    ]
    (tmp_path / "p").mkdir()
    policies = files(tmp_path / "p", "validate")
    result = houzzflow("validate", "-q", policies["good"], policies["bad"])
    assert result.stdout.splitlines()[1:3] == [
        f"✘ {policies['bad']}: invalid (schema)",
        f"  {policies['bad']}:3:1: error YAML001 invalid YAML: expected ',' or ']', but got "
        "'<stream end>' (while parsing a flow sequence on line 2)",
    ]


def test_plurals_read_right(tmp_path: Path) -> None:
    scenario = tmp_path / "one.yaml"
    scenario.write_text(GOOD_SCENARIO.replace("count: 20", "count: 1"), encoding="utf-8")
    out = houzzflow("run", scenario).stdout
    assert " · 1 order · " in out and "1 of 1 scenario passed" in out


def test_explain_covers_every_code_the_tool_can_emit() -> None:
    source = "\n".join(
        p.read_text("utf-8")
        for folder in ("engine", "simulator")
        for p in (ROOT / folder).rglob("*.py")
    )
    emitted = set(re.findall(r'"([A-Z]{2,6}\d{3})"', source)) | {"OUT001"}
    assert emitted <= set(catalog()), emitted - set(catalog())
    page = explain("hz007")
    assert page is not None
    for section in ("why:", "source:", "example:", "fix:"):
        assert section in page
    result = houzzflow("explain", "HZ007")
    assert result.exit_code == 0 and result.stdout.startswith("HZ007: ")
    assert houzzflow("explain", "HZ999").exit_code == 2
    listed = houzzflow("explain").stdout.splitlines()
    assert len(listed) == len(catalog()) and listed[0].startswith("HZ001 ")


def test_each_finding_in_text_ends_with_a_hint_to_its_rule() -> None:
    lines = houzzflow("validate", LOSS_POLICY).stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if " error HZ002 " in line)
    assert lines[at + 1].strip() == "fix: set order_status: charged"
    assert lines[at + 2].strip() == "see: houzzflow explain HZ002"


@pytest.mark.parametrize("program", ["seller", "vendor"])
@pytest.mark.parametrize("era", ["legacy", "2021"])
def test_init_writes_files_that_work_as_written(tmp_path: Path, program: str, era: str) -> None:
    policy = tmp_path / "policy.yaml"
    result = houzzflow("init", "policy", policy, "--program", program, "--era", era)
    assert result.exit_code == 0
    text = policy.read_text("utf-8")
    assert text.startswith("# yaml-language-server: $schema=policy.schema.json\n")
    loaded = load_policy(policy)
    assert (loaded.connection_type, loaded.era) == (program, era)
    assert houzzflow("init", "policy", policy).exit_code == 2  # never overwritten silently
    # The schema its first line names: how to save it, until it is there.
    schema = tmp_path / "policy.schema.json"
    assert f"houzzflow schema policy > {schema}" in result.stdout
    schema.write_text(houzzflow("schema", "policy").stdout, encoding="utf-8")
    again = houzzflow("init", "policy", policy, "--force")
    assert again.exit_code == 0 and "houzzflow schema" not in again.stdout
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(starter("scenario", program, era), encoding="utf-8")
    assert houzzflow("run", "-q", "--set", "world.orders.count=10", scenario).exit_code in (0, 1)


def test_the_explorer_reports_its_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    from houzzflow.simulator.proof import search

    # Within a depth too, every PROGRESS_EVERY states (made small here to see it happen).
    monkeypatch.setattr(search, "PROGRESS_EVERY", 100)
    seen: list[tuple[int, int, int]] = []
    policy = load_policy(POLICIES / "seller-legacy-default.yaml")
    result = explore(policy, Bounds(orders=2), progress=lambda *a: seen.append(a))
    assert seen and seen[0] == (1, 0, Bounds().max_states)
    states = [s for s, _, _ in seen]
    assert states == sorted(states) and states[-1] <= result.states
    assert [d for _, d, _ in seen] == sorted(d for _, d, _ in seen)
    assert max(d for _, d, _ in seen) == result.depth
    assert len(seen) > result.depth + 1 + result.states // 200
