"""The "Testing your connector" docs run: every example in them is executed and checked.

The section is README.md's ``## Testing your connector``. Python blocks run (a block of
pytest tests through pytester with the plugin); the yaml block is a scenario whose failure
must read as the text block shows; the console blocks are a shell session: ``houzzflow
serve`` is started in-process with the same options on a free port, and each curl command
runs for real, its output matched against the one shown (``...`` stands for any text).
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from houzzflow.simulator.http import credentials
from houzzflow.simulator.http.config import DEFAULT_TOKEN
from houzzflow.simulator.http.server import ServerConfig, banner, serve

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
HEADING = "## Testing your connector"
FENCE = re.compile(r"^```([\w-]*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
PLUGIN = (
    "-p",
    "houzzflow.simulator.pytest_plugin",
    "-W",
    "ignore::pytest.PytestAssertRewriteWarning",
)


def section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"\n{HEADING}\n") + 1
    end = text.find("\n## ", start + len(HEADING))
    return text[start:] if end < 0 else text[start:end]


BLOCKS = FENCE.findall(section())


def blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCKS if lang == language]


def shown(expected: str, actual: str) -> bool:
    """Whether ``actual`` reads as ``expected``, where ``...`` stands for any text."""
    pattern = ".*?".join(re.escape(part) for part in expected.strip().split("..."))
    return re.fullmatch(pattern, actual.strip(), re.DOTALL) is not None


def test_the_section_holds_a_pytest_example_and_an_http_example() -> None:
    assert section().startswith(HEADING)
    assert any("def test_" in body for body in blocks("python"))
    assert any("curl " in body for body in blocks("console"))
    assert {lang for lang, _ in BLOCKS} <= {"python", "console", "yaml", "text"}


def test_the_plain_python_example_runs() -> None:
    (example,) = [body for body in blocks("python") if "def test_" not in body]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(example, "testing-your-connector.md", "exec"), {})
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api\n", printed.getvalue())


def test_the_pytest_example_passes_with_the_plugin(pytester: pytest.Pytester) -> None:
    (example,) = [body for body in blocks("python") if "def test_" in body]
    pytester.makepyfile(test_from_docs=example)
    result = pytester.runpytest(*PLUGIN, "-W", "error::pytest.PytestUnknownMarkWarning")
    result.assert_outcomes(passed=example.count("\ndef test_"))


def test_the_scenario_example_fails_as_the_docs_show(pytester: pytest.Pytester) -> None:
    (scenario,) = blocks("yaml")
    (report,) = blocks("text")
    path = scenario.splitlines()[0].removeprefix("# ")
    (pytester.path / path).parent.mkdir(parents=True, exist_ok=True)
    (pytester.path / path).write_text(scenario, encoding="utf-8")
    result = pytester.runpytest(*PLUGIN, path)
    result.assert_outcomes(failed=1)
    failure = result.stdout.str()
    report_start = failure.index(f"{path}:")
    assert shown(report, failure[report_start:].split("\n=====")[0])
    assert "Traceback" not in failure


def commands_and_outputs(console: str) -> list[tuple[str, str]]:
    """Each ``$ command`` (continuation lines joined) with the output shown under it."""
    steps: list[tuple[str, str]] = []
    lines = console.splitlines()
    i = 0
    while i < len(lines):
        assert lines[i].startswith("$ "), f"not a command: {lines[i]!r}"
        command = lines[i][2:]
        while command.endswith("\\"):
            i += 1
            command = command[:-1] + lines[i].strip()
        i += 1
        output = []
        while i < len(lines) and not lines[i].startswith("$ "):
            output.append(lines[i])
            i += 1
        steps.append((command, "\n".join(output)))
    return steps


CONFORMANCE = "$ houzzflow conformance "


def http_session() -> list[str]:
    return [body for body in blocks("console") if not body.startswith(CONFORMANCE)]


SERVE_OPTIONS = {
    "--host": "host",
    "--program": "program",
    "--era": "era",
    "--seed": "seed",
    "--token": "token",
    "--username": "username",
    "--app-name": "app_name",
}


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_http_session_runs_as_shown() -> None:
    steps = [step for body in http_session() for step in commands_and_outputs(body)]
    exported: dict[str, str] = {}
    while steps[0][0].startswith("export "):
        name, _, value = steps.pop(0)[0].removeprefix("export ").partition("=")
        exported[name] = value
    (serve_command, serve_output), *session = steps
    words = shlex.split(serve_command)
    assert words[:2] == ["houzzflow", "serve"]
    options = dict(zip(words[2::2], words[3::2], strict=True))
    doc_port = int(options.pop("--port"))
    settings: dict[str, object] = {SERVE_OPTIONS[name]: value for name, value in options.items()}
    settings["seed"] = int(str(settings["seed"]))
    token = credentials.choose(
        option="--token",
        given=exported.get("HOUZZFLOW_TOKEN"),
        from_env=True,
        file=None,
        env="HOUZZFLOW_TOKEN",
        default=DEFAULT_TOKEN,
    )
    settings["token"] = token.value
    with serve(ServerConfig(port=0, **settings)) as server:  # type: ignore[arg-type]
        here = f"127.0.0.1:{server.port}"
        printed = "\n".join(banner(server, asked_port=doc_port, token_source=token.source))
        assert printed == serve_output.replace(f"127.0.0.1:{doc_port}", here)
        assert session, "the docs show no curl commands"
        for command, output in session:
            for name, value in exported.items():
                command = command.replace(f"${name}", value)  # the shell would expand it
            words = [w.replace(f"127.0.0.1:{doc_port}", here) for w in shlex.split(command)]
            assert words[0] == "curl"
            done = subprocess.run(words, capture_output=True, text=True, timeout=30, check=False)
            assert done.returncode == 0, (command, done.stderr)
            actual = done.stdout.replace("\r\n", "\n")
            assert shown(output, actual), f"{command}\nshown:\n{output}\ngot:\n{actual}"
        assert server.token not in "".join(e["body"] for e in server.journal())


def test_the_conformance_examples_print_as_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each ``houzzflow conformance`` block prints what the docs show. The example connector
    runs in this process (the same connector, the same HTTP calls; only quicker to start)."""
    import sys

    from click.testing import CliRunner

    import houzzflow.simulator.conformance as conformance
    from houzzflow.simulator.cli import main

    sys.path.insert(0, str(ROOT / "tests"))
    import example_connector as example

    def in_process(command: list[str], timeout: float = 60.0) -> conformance.Runner:
        assert command[:2] == ["python", "tests/example_connector.py"], command
        kind = example.BROKEN[command[2]] if len(command) > 2 else example.ExampleConnector

        def run(session: conformance.Session) -> str:
            example.run_once(session.env(), kind)
            return ""

        return run

    monkeypatch.setattr(conformance, "command_runner", in_process)
    examples = [body for body in blocks("console") if body.startswith(CONFORMANCE)]
    assert len(examples) == 2
    for body in examples:
        ((command, output),) = commands_and_outputs(body)
        result = CliRunner().invoke(main, shlex.split(command)[1:])
        assert result.exit_code == (0 if "✘" not in output else 1), result.output
        assert shown(output, result.output), f"{command}\nshown:\n{output}\ngot:\n{result.output}"
