"""``houzzflow conformance``: drive a connector under test through the battery of worlds.

The contract with the connector (README, "Testing your connector"): for each world the fake
Houzz is served on 127.0.0.1 with fresh credentials, and the connector is *run once per
poll*, like a cron job, on simulated time: the driver moves the clock to the next poll (every
``poll_interval`` of the world), runs the connector, waits for it to finish, and so on until
the world's ``duration``; then it takes the final verdict (``HouzzHarness.verdict``), in
which an order still in flight counts as stuck. A run learns everything from a ``Session``:

* a command (``--connector-cmd``) gets it as environment variables (``Session.env``) and
  keeps its own state between runs in ``HOUZZFLOW_STATE_DIR``; a run that exits non-zero or
  outlasts its timeout is a failure of the connector;
* a connector already running as a service (``--url``) gets it as a JSON ``POST`` to that
  URL (``Session.to_json``) and answers when its poll is done (any 2xx).

A connector that must wait (a ``Retry-After``) waits on simulated time: it asks
``POST /_houzzflow/clock/advance``, or leaves the rest to its next run. It reports what it
sends to its warehouse, collects shipments and cancels there through the admin API
(``/_houzzflow/warehouse/...``).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import tempfile
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from houzzflow.simulator.harness import HouzzHarness
from houzzflow.simulator.http.config import ServerConfig
from houzzflow.simulator.http.server import RunningServer, serve
from houzzflow.simulator.judge.battery import World, stage, world_config
from houzzflow.simulator.judge.etiquette import ETIQUETTE
from houzzflow.simulator.judge.verdict import ConnectorVerdict
from houzzflow.simulator.kernel.escape import json_text, xml_safe
from houzzflow.simulator.runs.invariants import INVARIANTS

MAX_TIMEOUT = 600.0  # seconds one run of the connector may take, at most
SHORT_NAMES = {
    "lost": "lost",
    "duplicated": "twice",
    "unpaid_shipped": "unpaid",
    "cancelled_shipped": "cancelled",
    "unconfirmed": "unconfirmed",
    "unaccounted": "unaccounted",
    "stuck": "stuck",
    "retry_after": "retry-after",
    "paging": "paging",
    "refused_loop": "loop",
    "forbidden_write": "forbidden",
    "poll_gap": "poll-gap",
}
COLUMNS = (*INVARIANTS, *ETIQUETTE)


@dataclass(frozen=True)
class Session:
    """What one run of the connector learns (see the module doc). ``token`` is a secret:
    it goes to the connector only, never into output."""

    world: str
    api_url: str
    admin_url: str
    token: str = field(repr=False)
    username: str
    app_name: str
    now: int
    time: str
    state_dir: str
    program: str
    era: str
    poll_interval: int

    def env(self) -> dict[str, str]:
        return {
            "HOUZZFLOW_WORLD": self.world,
            "HOUZZFLOW_API_URL": self.api_url,
            "HOUZZFLOW_ADMIN_URL": self.admin_url,
            "HOUZZFLOW_TOKEN": self.token,
            "HOUZZFLOW_USERNAME": self.username,
            "HOUZZFLOW_APP_NAME": self.app_name,
            "HOUZZFLOW_NOW": str(self.now),
            "HOUZZFLOW_TIME": self.time,
            "HOUZZFLOW_STATE_DIR": self.state_dir,
            "HOUZZFLOW_PROGRAM": self.program,
            "HOUZZFLOW_ERA": self.era,
            "HOUZZFLOW_POLL_INTERVAL": str(self.poll_interval),
        }

    def to_json(self) -> dict[str, Any]:
        return {key.removeprefix("HOUZZFLOW_").lower(): value for key, value in self.env().items()}


# One run of the connector: "" when it went well, else what went wrong (no secrets).
Runner = Callable[[Session], str]


def command_runner(command: Sequence[str], timeout: float = 60.0) -> Runner:
    """Run ``command`` once per poll, the session in its environment."""
    if not 0 < timeout <= MAX_TIMEOUT:
        raise ValueError(f"timeout must be above 0 and at most {MAX_TIMEOUT:g} seconds")

    def run(session: Session) -> str:
        env = {**os.environ, **session.env()}
        try:
            done = subprocess.run(
                list(command), env=env, capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            return f"did not finish within {timeout:g} s"
        except OSError as exc:
            return f"could not be started: {exc.strerror or exc}"
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["(no output on stderr)"])[-1]
            return f"exited {done.returncode}: {last[:300]}".replace(session.token, "***")
        return ""

    return run


def url_runner(url: str, timeout: float = 60.0) -> Runner:
    """POST the session to a connector running as a service, once per poll."""
    if not url.startswith(("http://", "https://")):
        raise ValueError("the connector's URL starts with http:// or https://")
    if not 0 < timeout <= MAX_TIMEOUT:
        raise ValueError(f"timeout must be above 0 and at most {MAX_TIMEOUT:g} seconds")

    def run(session: Session) -> str:
        body = json.dumps(session.to_json()).encode("utf-8")
        request = urllib.request.Request(
            url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                answer.read()
        except urllib.error.HTTPError as exc:
            return f"answered HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            return f"could not be reached: {getattr(exc, 'reason', exc)}"
        return ""

    return run


@dataclass
class WorldResult:
    """One world's outcome: its final verdict, and the runs of the connector that failed."""

    world: World
    verdict: ConnectorVerdict
    runs: int
    failures: list[tuple[str, str]]  # (when, what went wrong)
    faults: dict[str, int] = field(default_factory=dict)  # faults injected, by kind

    @property
    def ok(self) -> bool:
        return self.verdict.ok and not self.failures

    def cell(self, key: str) -> str:
        found = self.verdict.violations.get(key)
        count = len(found) if found is not None else len(self.verdict.etiquette.get(key, []))
        return "✔" if count == 0 else f"✘ {count}"

    def to_json(self) -> dict[str, Any]:
        return {
            "world": self.world.name,
            "about": self.world.about,
            "ok": self.ok,
            "runs": self.runs,
            "failed_runs": [{"at": at, "error": error} for at, error in self.failures],
            "faults": self.faults,
            "verdict": self.verdict.to_json(),
        }


@dataclass
class Conformance:
    """Every world's result, the table and the verdict of the whole battery."""

    results: list[WorldResult]

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def table(self) -> list[str]:
        """One row per world, one column per invariant and etiquette rule."""
        heads = ["world", *(SHORT_NAMES[key] for key in COLUMNS), "runs"]
        rows = [
            [
                r.world.name,
                *(r.cell(key) for key in COLUMNS),
                "✔" if not r.failures else f"✘ {len(r.failures)}",
            ]
            for r in self.results
        ]
        widths = [max(len(row[i]) for row in [heads, *rows]) for i in range(len(heads))]

        def line(cells: list[str]) -> str:
            return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))

        return [line(heads).rstrip(), *(line(row).rstrip() for row in rows)]

    def render(self) -> str:
        passed = sum(result.ok for result in self.results)
        lines = [*self.table(), ""]
        for result in self.results:
            if result.ok:
                continue
            lines.append(f"✘ {result.world.name}: {result.world.about}")
            lines.append(f"  {result.world.describe()}")
            for at, error in result.failures[:5]:
                lines.append(f"  the connector's run at {at} {error}")
            if not result.verdict.ok:
                lines.extend(_broken_only(result.verdict.render().splitlines()[2:]))
            lines.append("")
        lines.append(f"{passed} of {len(self.results)} worlds passed")
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "worlds": [result.to_json() for result in self.results]}


# -- reports (houzzflow.simulator.output's table: --format, -o, -q) ---------------------------


def text_report(result: Conformance, *, quiet: bool = False, **_: Any) -> str:
    """The table and each failing world's verdict (quiet: the last line only)."""
    text = result.render()
    return text.splitlines()[-1] + "\n" if quiet else text


def json_report(result: Conformance, **_: Any) -> str:
    """``ok`` and each world's verdict, as the served ``/_houzzflow/verdict`` gives it."""
    return json_text(result.to_json(), indent=None) + "\n"


def junit_report(result: Conformance, **_: Any) -> str:
    """One testsuite per world, one testcase per invariant and etiquette rule (and one for
    the connector's runs), so a CI dashboard shows what broke where."""
    suites = ET.Element("testsuites", {"name": "houzzflow conformance"})
    tests = failures = 0
    for world in result.results:
        suite = ET.SubElement(suites, "testsuite", {"name": world.world.name})
        broken = 0
        for key in (*COLUMNS, "runs"):
            case = ET.SubElement(
                suite, "testcase", {"classname": f"conformance.{world.world.name}", "name": key}
            )
            found = _failures_of(world, key)
            if found:
                broken += 1
                failure = ET.SubElement(
                    case, "failure", {"message": f"{SHORT_NAMES.get(key, key)}: {found[0]}"}
                )
                failure.text = "\n".join(found)
        suite.set("tests", str(len(COLUMNS) + 1))
        suite.set("failures", str(broken))
        tests += len(COLUMNS) + 1
        failures += broken
    suites.set("tests", str(tests))
    suites.set("failures", str(failures))
    ET.indent(suites)
    body = xml_safe(ET.tostring(suites, encoding="unicode"))
    return '<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n"


def _failures_of(world: WorldResult, key: str) -> list[str]:
    """What broke ``key`` (an invariant, an etiquette rule, or ``runs``) in one world."""
    if key == "runs":
        return [f"the connector's run at {at} {error}" for at, error in world.failures]
    verdict = world.verdict
    found = [*verdict.violations.get(key, ()), *verdict.etiquette.get(key, ())]
    return [f"order {v.order_id}: {v.message}" if v.order_id else v.message for v in found]


def _broken_only(rows: list[str]) -> list[str]:
    """A verdict's rows without what held: no ✔ line, no heading left with nothing under it."""
    kept = [row for row in rows if "✔" not in row and row.strip()]
    return [
        row
        for i, row in enumerate(kept)
        if row.startswith("    ") or (i + 1 < len(kept) and kept[i + 1].startswith("    "))
    ]


def run_world(
    world: World, runner: Runner, inspect: Callable[[RunningServer], None] | None = None
) -> WorldResult:
    """Serve the world, run the connector once per poll until its end, and judge it;
    ``inspect`` sees the server at the end, before it stops (tests ask it over HTTP)."""
    harness = HouzzHarness.from_config(world_config(world))
    stage(harness, world)
    config = ServerConfig(
        host="127.0.0.1",
        port=0,
        program=world.program,
        era=world.era,
        seed=world.seed,
        token=secrets.token_urlsafe(18),
    )
    failures: list[tuple[str, str]] = []
    runs = 0
    interval = world.poll_interval
    with serve(config, harness) as running, tempfile.TemporaryDirectory() as state_dir:
        tick = interval
        while tick <= world.duration:
            with running.locked() as h:
                if h.now < tick:
                    h.advance(tick - h.now)
                session = Session(
                    world=world.name,
                    api_url=running.api_url,
                    admin_url=running.admin_url,
                    token=config.token,
                    username=config.username,
                    app_name=config.app_name,
                    now=h.now,
                    time=h.time_text(),
                    state_dir=state_dir,
                    program=world.program,
                    era=world.era,
                    poll_interval=interval,
                )
            runs += 1
            error = runner(session)
            if error:
                failures.append((session.time, error))
            tick += interval
        with running.locked() as h:
            if h.now < world.duration:
                h.advance(world.duration - h.now)
            verdict = h.verdict(final=True, poll_interval=interval)
            faults = dict(h.faults_injected)
        if inspect is not None:
            inspect(running)
    return WorldResult(world, verdict, runs, failures, faults)


def run_conformance(
    worlds: Sequence[World],
    runner: Runner,
    progress: Callable[[int, int], None] | None = None,
) -> Conformance:
    """Every world in turn (see ``run_world``)."""
    results: list[WorldResult] = []
    for done, world in enumerate(worlds):
        if progress is not None:
            progress(done, len(worlds))
        results.append(run_world(world, runner))
    return Conformance(results)
