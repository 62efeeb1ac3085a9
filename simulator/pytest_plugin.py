"""houzzflow's pytest plugin: fixtures for testing a connector against a fake Houzz, and
scenario YAML files collected as test items.

Registered through the ``pytest11`` entry point ``houzzflow`` (a source checkout can load it
with ``-p houzzflow.simulator.pytest_plugin`` or ``pytest_plugins``). Fixtures, each fresh per test:

- ``fake_houzz``: a ``HouzzHarness`` (the Python API), configured by the ``houzz`` marker:
  ``@pytest.mark.houzz(program="vendor", era="legacy", seed=3)``;
- ``houzz_clock``: that harness's simulated clock;
- ``houzz_server``: the fake served over HTTP on 127.0.0.1 and a free port (safe under
  pytest-xdist), a ``RunningServer`` with ``.url``, ``.api_url``, ``.headers``, ``.token``
  and admin helpers; the ``houzz`` marker also takes ``token``, ``username``, ``app_name``;
- ``scenario_runner``: loads and runs a scenario file (or mapping), returns its result.

Scenario files named ``*.houzzflow.yaml``, or matching the ini option
``houzzflow_scenarios`` (globs relative to the rootdir, which a project opts into), become
test items named by the scenario's ``name``; its ``pytest`` section may mark it (``skip``,
``xfail``, with a reason) and run it once per seed (``seeds``). A failing one is reported
like tavern does: the file and line of the failing expectation, the YAML around it, then
the violations with their timelines, not a Python stack.

``houzz_verdict(harness_or_server, ...)`` fails a test with the connector's verdict when it
breaks an invariant or Houzz's wire etiquette (see ``HouzzHarness.verdict``).
"""

from __future__ import annotations

import fnmatch
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest

from houzzflow.engine.diagnostics import InputError
from houzzflow.simulator.harness import HouzzHarness
from houzzflow.simulator.http.server import RunningServer, ServerConfig, serve
from houzzflow.simulator.kernel.clock import Clock

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr

    from houzzflow.simulator.judge.verdict import ConnectorVerdict
    from houzzflow.simulator.runs.runner import RunResult
    from houzzflow.simulator.runs.scenario import PytestSpec

ENTRY_POINT = "houzzflow"
# Only files that say they are houzzflow's: another project's scenario_*.yaml is not ours.
SCENARIO_PATTERNS = ("*.houzzflow.yaml", "*.houzzflow.yml")
_HARNESS_OPTIONS = frozenset(
    {
        "program",
        "era",
        "seed",
        "window_field",
        "connection",
        "faults",
        "charge_failure_rate",
        "facts",
    }
)
_SERVER_OPTIONS = _HARNESS_OPTIONS | {"token", "username", "app_name"}
_CONTEXT_LINES = 3  # YAML lines shown before and after a failing expectation


@pytest.hookimpl
def pytest_plugin_registered(plugin: object, plugin_name: str, manager: Any) -> None:
    # Loaded once under either name: the entry point ("houzzflow") when installed, the module
    # name from `pytest_plugins` / `-p` in a source checkout; block the other name so that
    # asking for both never registers the module twice.
    if plugin is sys.modules[__name__]:
        for name in (ENTRY_POINT, __name__):
            if name != plugin_name and manager.get_plugin(name) is None:
                manager.set_blocked(name)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "houzzflow_scenarios",
        type="linelist",
        default=[],
        help="globs (relative to the rootdir) of houzzflow scenario files to run as tests",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "houzz(program='seller', era='2021', seed=0, ...): configure the fake_houzz and "
        "houzz_server fixtures (also window_field, connection, faults, charge_failure_rate, "
        "facts; "
        "token, username, app_name for houzz_server)",
    )


# --- fixtures ----------------------------------------------------------------------------


def _marker_options(request: pytest.FixtureRequest, allowed: frozenset[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    # The closest marker wins: a test's own over its class's over its module's.
    for marker in reversed(list(request.node.iter_markers("houzz"))):
        options.update(marker.kwargs)
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise pytest.UsageError(
            f"@pytest.mark.houzz: unknown option {unknown[0]!r}; use {', '.join(sorted(allowed))}"
        )
    return options


@pytest.fixture
def fake_houzz(request: pytest.FixtureRequest) -> HouzzHarness:
    """A fresh fake Houzz and its world (``HouzzHarness``), configured by ``@pytest.mark.houzz``."""
    return HouzzHarness(**_marker_options(request, _HARNESS_OPTIONS))


@pytest.fixture
def houzz_clock(fake_houzz: HouzzHarness) -> Clock:
    """The simulated clock of ``fake_houzz`` (integer seconds; nothing waits on the wall)."""
    return fake_houzz.clock


@pytest.fixture
def houzz_server(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    """The fake Houzz served over HTTP on 127.0.0.1 and a free port, stopped after the test."""
    options = _marker_options(request, _SERVER_OPTIONS)
    running = serve(ServerConfig(host="127.0.0.1", port=0, **options))
    try:
        yield running
    finally:
        running.stop()


class ScenarioRunner(Protocol):
    def __call__(
        self,
        source: str | Path | Mapping[str, Any],
        overrides: Sequence[str] | Mapping[str, Any] = (),
    ) -> RunResult: ...


@pytest.fixture
def scenario_runner() -> ScenarioRunner:
    """``scenario_runner(path_or_mapping, overrides=())``: load and run one scenario, return
    its ``RunResult`` (``.ok``, ``.counts``, ``.expectations``, ``.violations``)."""
    return run_scenario_source


def run_scenario_source(
    source: str | Path | Mapping[str, Any], overrides: Sequence[str] | Mapping[str, Any] = ()
) -> RunResult:
    """Load a scenario (a file, or its content as a mapping) and run it."""
    from houzzflow.simulator.runs.runner import run_scenario
    from houzzflow.simulator.runs.scenario import load_scenario

    return run_scenario(load_scenario(source, overrides))


# --- judging a connector ----------------------------------------------------------------


class ConnectorBroke(AssertionError):
    """The connector under test broke an invariant or Houzz's wire etiquette."""


def houzz_verdict(
    fake: HouzzHarness | RunningServer,
    *,
    settle: int = 0,
    final: bool = False,
    poll_interval: int | None = None,
) -> ConnectorVerdict:
    """The connector's verdict so far (``HouzzHarness.verdict``, for a harness or a running
    server); fails the test with the verdict's report when something broke."""
    __tracebackhide__ = True
    if isinstance(fake, RunningServer):
        with fake.locked() as harness:
            verdict = harness.verdict(settle=settle, final=final, poll_interval=poll_interval)
    else:
        verdict = fake.verdict(settle=settle, final=final, poll_interval=poll_interval)
    if not verdict.ok:
        raise ConnectorBroke("\n" + verdict.render())
    return verdict


# --- scenario files as test items -------------------------------------------------------


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix in (".yaml", ".yml") and _is_scenario(file_path, parent.config):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


def _is_scenario(path: Path, config: pytest.Config) -> bool:
    if any(fnmatch.fnmatch(path.name, pattern) for pattern in SCENARIO_PATTERNS):
        return True
    globs: Iterable[str] = config.getini("houzzflow_scenarios")
    try:
        relative = path.resolve().relative_to(config.rootpath.resolve()).as_posix()
    except ValueError:
        relative = path.as_posix()
    return any(fnmatch.fnmatch(relative, pattern) for pattern in globs)


class ScenarioFile(pytest.File):
    """A scenario YAML file: a test item per seed (one, with the file's own seed, unless its
    ``pytest`` section lists ``seeds``), named by the scenario's ``name``, marked as the
    section says."""

    def collect(self) -> Iterator[pytest.Item]:
        name, spec = _collection_facts(self.path)
        if spec is None:  # unreadable: one item that reports every mistake when it runs
            yield ScenarioItem.from_parent(self, name=name)
            return
        seeds: list[int | None] = list(spec.seeds) or [None]
        for seed in seeds:
            label = name if seed is None else f"{name}[seed={seed}]"
            item = ScenarioItem.from_parent(self, name=label, seed=seed)
            for mark in spec.marks:
                kind, reason = (mark, "") if isinstance(mark, str) else next(iter(mark.items()))
                reason = reason or f"marked {kind} in {self.path.name}"
                marker = pytest.mark.skip if kind == "skip" else pytest.mark.xfail
                item.add_marker(marker(reason=reason))
            yield item


def _collection_facts(path: Path) -> tuple[str, PytestSpec | None]:
    """The scenario's name and its ``pytest`` section; (the file's stem, None) when the file
    cannot be read this far (running the item then reports why)."""
    from pydantic import ValidationError

    from houzzflow.engine.yamlsource import load_yaml_file
    from houzzflow.simulator.runs.scenario import PytestSpec

    try:
        data = load_yaml_file(path).data
    except InputError:
        return path.stem.removesuffix(".houzzflow"), None
    name = data.get("name") if isinstance(data, dict) else None
    shown = name if isinstance(name, str) and name.strip() else path.stem
    try:
        spec = PytestSpec.model_validate((data or {}).get("pytest") or {})
    except (ValidationError, AttributeError):
        return shown, None
    return shown, spec


class ScenarioFailed(Exception):
    """A scenario ran and some of its expectations failed (``report`` is the text)."""

    def __init__(self, report: str) -> None:
        super().__init__(report)
        self.report = report


class ScenarioItem(pytest.Item):
    """Runs one scenario file (with ``seed`` instead of its own, when given); fails with the
    expectations it did not meet."""

    def __init__(self, *, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = seed

    def runtest(self) -> None:
        overrides = {} if self.seed is None else {"seed": self.seed}
        result = run_scenario_source(self.path, overrides)
        if not result.ok:
            raise ScenarioFailed(scenario_report(result, self.config.rootpath))

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str | TerminalRepr:
        error = excinfo.value
        if isinstance(error, ScenarioFailed):
            return error.report
        if isinstance(error, InputError):
            return "\n".join(d.render() for d in error.diagnostics)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        # A line is needed: pytest places a skip marker's report at the item's line.
        return self.path, 0, f"houzzflow scenario {self.path.name}"


def scenario_report(result: RunResult, root: Path | None = None) -> str:
    """Tavern-style text for a scenario whose expectations failed: each failed expectation
    with its file:line (relative to ``root`` when under it) and the YAML around it, then the
    violations, the first few of each invariant with their timelines."""
    from houzzflow.simulator.runs.invariants import INVARIANTS

    lines: list[str] = []
    sources: dict[str, list[str]] = {}
    for outcome in (r for r in result.expectations if not r.ok):
        where = outcome.location
        if where.file not in sources:
            sources[where.file] = _read_lines(where.file)
        shown = _shown_path(where.file, root)
        lines.append(f"{shown}:{where.line}: expectation failed: {outcome.message}")
        lines.extend(_yaml_excerpt(sources[where.file], where.line))
        lines.append("")
    if result.violations:
        lines.append("violations:")
    for key in INVARIANTS:
        told = result.shown(key)
        for violation in told:
            lines.extend("  " + row for row in violation.render().splitlines())
        more = len(result.verdict.violations.get(key, ())) - len(told)
        if more > 0:
            lines.append(f"  ... and {more} more ({INVARIANTS[key]})")
    return "\n".join(lines).rstrip() + "\n"


def _shown_path(file: str, root: Path | None) -> str:
    if root is None:
        return file
    try:
        return Path(file).resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return file


def _read_lines(file: str) -> list[str]:
    try:
        return Path(file).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def _yaml_excerpt(source: list[str], line: int) -> list[str]:
    if not (source and 1 <= line <= len(source)):
        return []
    low, high = max(1, line - _CONTEXT_LINES), min(len(source), line + _CONTEXT_LINES)
    width = len(str(high))
    return [
        f"{'>' if n == line else ' '} {n:>{width}} | {source[n - 1]}" for n in range(low, high + 1)
    ]
