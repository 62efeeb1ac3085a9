"""houzzflow's command line: a thin edge that parses arguments and prints library results.

Exit status everywhere: 0 ok, 1 a check failed, 2 input that cannot be used (click's own usage
errors already exit 2). The engine, pydantic and rich are imported inside the commands, so
``houzzflow --help`` answers at once.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from houzzflow.simulator.validate import SCHEMAS

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from houzzflow.engine.diagnostics import Diagnostic
    from houzzflow.engine.policy import Policy
    from houzzflow.engine.validation import ValidationReport

VERDICT_STYLES = {
    "proven": "bold green",
    "counterexample": "bold red",
    "inconclusive": "bold yellow",
    "invalid": "bold red",
}
SEVERITY_STYLES = {"error": "red", "warning": "yellow", "info": "cyan"}
F = TypeVar("F", bound=Callable[..., Any])
SEED_MAX = 2**63 - 1
# The limits of sweep's numbers (houzzflow.simulator.sweep.grid holds the same; a test checks).
SWEEP_SEEDS = (1, 100_000)
SWEEP_PRECISION = (0.001, 1000.0)
JOBS_MAX = 256
SCHEDULER_HELP = (
    "A Dask scheduler, tcp://host:port (or $HOUZZFLOW_DASK_SCHEDULER): run there, not here. "
    "Needs the dask extra: pip install 'houzzflow[dask]'."
)


def _show_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from importlib.metadata import PackageNotFoundError, version

    try:
        click.echo(f"houzzflow {version('houzzflow')}")
    except PackageNotFoundError:
        click.echo("houzzflow (not installed: running from a source tree)")
    ctx.exit(0)


def _executor_options(command: F) -> F:
    """--jobs and --scheduler: where the tasks of matrix and sweep run."""
    jobs = click.option(
        "--jobs",
        type=click.IntRange(1, JOBS_MAX),
        default=None,
        help=f"Processes to use, 1 to {JOBS_MAX} [default: every core]",
    )
    scheduler = click.option(
        "--scheduler", envvar="HOUZZFLOW_DASK_SCHEDULER", metavar="ADDRESS", help=SCHEDULER_HELP
    )
    return jobs(scheduler(command))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_version,
    help="Show the version and exit.",
)
def main() -> None:
    """Check a CartRover configuration for a Houzz cart before go-live.

    Exit status: 0 ok, 1 a check failed, 2 input that cannot be used.
    """


@main.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...", type=click.Path(path_type=str))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "junit"]),
    default="text",
    show_default=True,
    help="text for people, json for tools, junit for CI dashboards.",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a scenario value, e.g. --set world.orders.count=100000 (repeatable).",
)
@click.option(
    "--seed",
    type=click.IntRange(0, SEED_MAX),
    default=None,
    metavar="N",
    help=f"The run's seed, 0 to {SEED_MAX:,} (the same as --set seed=N): "
    "rerun one sample of a sweep.",
)
@click.pass_context
def run(
    ctx: click.Context,
    files: tuple[str, ...],
    output_format: str,
    overrides: tuple[str, ...],
    seed: int | None,
) -> None:
    """Simulate scenario FILEs against the fake Houzz and check their expectations.

    Prints, per scenario, the orders by outcome, alerts, each violated invariant with the
    order's timeline, and whether each expectation held. Exit status: 0 when every
    expectation holds, 1 when one does not, 2 for a file that cannot be read.
    """
    import sys

    from houzzflow.simulator.runs.report import run_files

    if seed is not None:
        overrides = (*overrides, f"seed={seed}")
    text, status = run_files(list(files), list(overrides), output_format, sys.stderr.isatty())
    stream = sys.stderr if status == 2 else sys.stdout
    click.echo(text, nl=False, file=stream)
    ctx.exit(status)


def _proof_bound(
    flag: str, limits: tuple[int, int], default: int, text: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A ``houzzflow validate`` option bounding the proof's exploration."""
    return click.option(
        flag,
        type=click.IntRange(*limits),
        default=default,
        show_default=True,
        help=f"Proof bound: {text}",
    )


@main.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...", type=click.Path(path_type=str))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people; json prints one JSON object per file (JSON Lines).",
)
@_proof_bound("--orders", (1, 4), 2, "orders placed in every explored world.")
@_proof_bound("--faults", (0, 3), 1, "API faults (transient errors, lost replies) per world.")
@_proof_bound("--declines", (0, 2), 1, "cards declined at CartRover's Charge per world.")
@click.option(
    "--max-states",
    type=click.IntRange(100, 100_000_000),  # the library's limit (api.MAX_STATES)
    default=400_000,
    show_default=True,
    help="Proof bound: stop (inconclusive) after this many states.",
)
@click.option(
    "--lapse",
    is_flag=True,
    help="Also explore 7-day authorization lapses (a warehouse slower than a week).",
)
@click.option("--no-proof", is_flag=True, help="Schema and rules only: skip the exploration.")
@click.option(
    "--save-counterexample",
    "save_dir",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=str),
    help="Write each counterexample as a scenario file that `houzzflow run` replays.",
)
@click.pass_context
def validate(
    ctx: click.Context,
    files: tuple[str, ...],
    output_format: str,
    orders: int,
    faults: int,
    declines: int,
    max_states: int,
    lapse: bool,
    no_proof: bool,
    save_dir: str | None,
) -> None:
    """Check policy FILEs: the schema, a rule for each known way to lose an order, then a
    proof by exhaustive exploration of every interleaving within bounds.

    Exit status: 0 when every file is proven, 1 when a file can lose an order (or the
    bounds cut the proof short), 2 when a file cannot be read or is not a valid policy.
    """
    from houzzflow.simulator.proof.explorer import Bounds
    from houzzflow.simulator.validate import (
        exit_code,
        proven_paths,
        save_counterexamples,
        validate_paths,
    )

    bounds = Bounds(
        orders=orders, faults=faults, declines=declines, lapse=lapse, max_states=max_states
    )
    saved: dict[str, str] = {}
    if no_proof:
        reports = validate_paths(files, proof=False)
    else:
        proven = proven_paths(files, bounds)
        reports = [report for report, _ in proven]
        if save_dir is not None:
            saved = save_counterexamples(proven, save_dir)
    if output_format == "json":
        for report in reports:
            # ASCII escapes keep odd file names (undecodable bytes) printable anywhere.
            data = report.to_json()
            if report.file in saved:
                data["proof"]["scenario"] = saved[report.file]
            click.echo(json.dumps(data))
    else:
        _print_reports(reports, saved)
    ctx.exit(exit_code(reports))


@main.command(epilog="NAME is one of: " + ", ".join(sorted(SCHEMAS)))
@click.argument("name", metavar="NAME", type=click.Choice(sorted(SCHEMAS)))
def schema(name: str) -> None:
    """Print the JSON Schema of a file format (NAME), for editors.

    \b
    houzzflow schema policy > policy.schema.json
    then start a policy file with the line:
    # yaml-language-server: $schema=policy.schema.json
    """
    from houzzflow.simulator.validate import json_schema

    click.echo(json.dumps(json_schema(name), indent=2))


@main.command()
@click.option(
    "--policy",
    "policy_file",
    metavar="FILE",
    type=click.Path(path_type=str),
    help="A policy file: highlight what it makes CartRover do.",
)
@click.pass_context
def diagram(ctx: click.Context, policy_file: str | None) -> None:
    """Print Houzz's order lifecycle as a Mermaid state diagram (stateDiagram-v2)."""
    policy = _policy_option(ctx, policy_file)
    from houzzflow.engine.diagram import render_mermaid

    click.echo(render_mermaid(policy).rstrip("\n"))


@main.command()
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people; json for programs.",
)
@click.option(
    "--policy",
    "policy_file",
    metavar="FILE",
    type=click.Path(path_type=str),
    help="A policy file: say which questions it pins and which a proof of it explores.",
)
@click.pass_context
def assumptions(ctx: click.Context, output_format: str, policy_file: str | None) -> None:
    """List the open questions about Houzz and CartRover that the sources do not settle.

    For each: its alternatives, the simulator's default and why, the documented claims that
    rule an alternative out, and what a proof does with it (explores every alternative left
    standing, unless the policy pins one under assume.houzz / assume.cartrover).
    """
    from houzzflow.engine.assumptions import default_register
    from houzzflow.engine.register_report import register_json, register_text

    policy = _policy_option(ctx, policy_file)
    pins = policy.pinned if policy else {}
    register = default_register()
    if output_format == "json":
        click.echo(json.dumps(register_json(register, pins), indent=2, ensure_ascii=False))
    else:
        click.echo(register_text(register, pins), nl=False)


@main.command()
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "markdown", "csv", "json"]),
    default="text",
    show_default=True,
)
@click.option("--orders", type=click.IntRange(1, 3), default=2, show_default=True)
@click.option("--faults", type=click.IntRange(0, 2), default=1, show_default=True)
@click.option("--account", type=click.Choice(["seller", "vendor"]), help="Only this program.")
@click.option("--era", type=click.Choice(["legacy", "2021"]), help="Only this era.")
@_executor_options
@click.pass_context
def matrix(
    ctx: click.Context,
    output_format: str,
    orders: int,
    faults: int,
    account: str | None,
    era: str | None,
    jobs: int | None,
    scheduler: str | None,
) -> None:
    """Prove every CartRover setting combination against every world.

    Settings: Connection Type x Order Status x Mark Orders as Processed x Mark Orders as
    Charged. Worlds: account program x era x staff habits (process, charge, cancel). Each
    cell is the proof's verdict; an unsafe cell says why. Exit status 1 if the rules and the
    proof disagree on any cell (a bug worth reporting), else 0.
    """
    from houzzflow.simulator.executors import ExecutorError
    from houzzflow.simulator.proof.explorer import Bounds
    from houzzflow.simulator.proof.matrix import WORLDS, render, run_matrix

    worlds = [w for w in WORLDS if account in (None, w[0]) and era in (None, w[1])]
    bounds = Bounds(orders=orders, faults=faults)
    try:
        with _progress_bar("exploring worlds") as progress:
            cells = run_matrix(
                bounds, worlds=worlds, jobs=jobs, progress=progress, scheduler=scheduler
            )
    except ExecutorError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(2)
    click.echo(render(cells, output_format), nl=False)
    ctx.exit(0 if all(c.agrees for c in cells) else 1)


@main.command()
@click.argument("scenario", metavar="SCENARIO", type=click.Path(path_type=str))
@click.option(
    "--seeds",
    type=click.IntRange(*SWEEP_SEEDS),
    default=100,
    show_default=True,
    help=f"Runs per grid point, {SWEEP_SEEDS[0]} to {SWEEP_SEEDS[1]:,}; run i's seed is "
    "derived from the sweep's seed and i.",
)
@click.option(
    "--seed",
    type=click.IntRange(0, SEED_MAX),
    default=None,
    metavar="N",
    help=f"The sweep's seed, 0 to {SEED_MAX:,} [default: the scenario's seed].",
)
@click.option(
    "--vary",
    "varies",
    multiple=True,
    metavar="KEY=V1,V2,...",
    help="Run every value of a scenario key, e.g. --vary world.staff.process.probability="
    "0.1,0.3,0.5 (repeatable, up to 8: every combination is a grid point, at most 1,000).",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a scenario value for every run, as houzzflow run --set (repeatable).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "csv"]),
    default="text",
    show_default=True,
    help="text for people, json for programs, csv for spreadsheets.",
)
@click.option(
    "--interval",
    type=click.Choice(["wilson", "bootstrap"]),
    default="wilson",
    show_default=True,
    help="95% interval of a rate: Wilson over orders placed, or a bootstrap over runs.",
)
@click.option(
    "--precision",
    type=click.FloatRange(*SWEEP_PRECISION),
    default=None,
    metavar="WIDTH",
    help="Stop a grid point early once the intervals of its lost, held and duplicated rates "
    f"are at most WIDTH per 1,000 orders wide ({SWEEP_PRECISION[0]} to "
    f"{SWEEP_PRECISION[1]:g}).",
)
@_executor_options
@click.pass_context
def sweep(
    ctx: click.Context,
    scenario: str,
    seeds: int,
    seed: int | None,
    varies: tuple[str, ...],
    overrides: tuple[str, ...],
    output_format: str,
    interval: str,
    precision: float | None,
    jobs: int | None,
    scheduler: str | None,
) -> None:
    """Run SCENARIO over many seeds, across a grid of --vary values: how often orders are
    lost, held or duplicated, per 1,000 orders, with a 95% interval.

    Every grid point is checked before anything runs. Exit status: 0 when every run met the
    scenario's expectations, 1 when one did not, 2 for input that cannot be used (or a
    scheduler that cannot be reached).
    """
    from houzzflow.engine.diagnostics import InputError
    from houzzflow.simulator.executors import ExecutorError
    from houzzflow.simulator.sweep.sweep import run_sweep

    try:
        with _progress_bar("sweeping", eta=True) as progress:
            result = run_sweep(
                scenario,
                seeds=seeds,
                vary=varies,
                overrides=overrides,
                seed=seed,
                jobs=jobs,
                scheduler=scheduler,
                precision=precision,
                interval=interval,
                progress=progress,
            )
    except InputError as exc:
        console = _console(stderr=True)
        for diagnostic in exc.diagnostics:
            _print_diagnostic(console, diagnostic)
        ctx.exit(2)
    except (ValueError, ExecutorError) as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(2)
    click.echo(result.render(output_format), nl=False)
    ctx.exit(result.exit_code)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="0 picks a free port and prints it.",
)
@click.option(
    "--program", type=click.Choice(["seller", "vendor"]), default="seller", show_default=True
)
@click.option("--era", type=click.Choice(["legacy", "2021"]), default="2021", show_default=True)
@click.option("--seed", type=click.IntRange(0, SEED_MAX), default=0, show_default=True)
@click.option(
    "--token-file",
    metavar="FILE",
    help="Read the X-HOUZZ-API-SSL-TOKEN the fake accepts from FILE's first line.",
)
@click.option(
    "--token",
    envvar="HOUZZFLOW_TOKEN",
    default=None,
    metavar="TOKEN",
    help="The X-HOUZZ-API-SSL-TOKEN the fake accepts; prefer $HOUZZFLOW_TOKEN or --token-file "
    "(a command line is visible to other users). Default: houzzflow-token, which the banner "
    "names; a chosen token is never printed.",
)
@click.option(
    "--admin-token-file",
    metavar="FILE",
    help="Require the admin token in FILE's first line on every admin request.",
)
@click.option(
    "--admin-token",
    envvar="HOUZZFLOW_ADMIN_TOKEN",
    default=None,
    metavar="TOKEN",
    help="Require this token (header X-Houzzflow-Admin-Token) on every admin request; needed "
    "to serve beyond loopback. Prefer $HOUZZFLOW_ADMIN_TOKEN or --admin-token-file.",
)
@click.option("--username", default="seller@example.com", show_default=True)
@click.option("--app-name", default="houzzflow", show_default=True)
@click.option(
    "--scenario",
    metavar="FILE",
    type=click.Path(path_type=str),
    help="Load a scenario's world (program, era, orders, staff, faults).",
)
@click.option(
    "--epoch",
    metavar="now|DATE",
    help="The moment of simulated second 0 (UTC): now, 2026-11-23 or 2026-11-23T09:00:00. "
    "Default 2026-01-01, or now with --clock wall.",
)
@click.option(
    "--clock",
    "clock_mode",
    metavar="simulated|wall[:SPEED]",
    default="simulated",
    show_default=True,
    help="wall: simulated time follows the wall clock (SPEED times faster, at most 100000), "
    "for a connector that cannot be told the time; the admin clock can still jump ahead.",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    program: str,
    era: str,
    seed: int,
    token_file: str | None,
    token: str | None,
    admin_token_file: str | None,
    admin_token: str | None,
    username: str,
    app_name: str,
    scenario: str | None,
    epoch: str | None,
    clock_mode: str,
) -> None:
    """Serve a fake Houzz API over HTTP for connector tests (Ctrl-C or SIGTERM stops it).

    The Houzz seller API's wire format: GET /api?format=xml|json&method=getOrders,
    POST /api?method=updateOrder with an UpdateOrderRequest body, updateInventory; plus
    an admin API under /_houzzflow/ (orders, clock, faults, journal, reset, health, the
    connector's warehouse and its verdict; GET /_houzzflow/ lists every route).
    It takes JSON bodies (Content-Type: application/json) from this machine only.

    Clients send the token the fake accepts: $HOUZZFLOW_TOKEN, or --token-file's, or else
    the default houzzflow-token; the banner says which, never the value.
    """
    import sys

    from houzzflow.simulator.http import credentials
    from houzzflow.simulator.http.config import DEFAULT_TOKEN
    from houzzflow.simulator.http.server import run_server
    from houzzflow.simulator.kernel.pace import parse_clock, parse_epoch

    secrets = []
    try:
        for option, given, file, env, default in (
            ("--token", token, token_file, "HOUZZFLOW_TOKEN", DEFAULT_TOKEN),
            ("--admin-token", admin_token, admin_token_file, "HOUZZFLOW_ADMIN_TOKEN", ""),
        ):
            source = ctx.get_parameter_source(option.lstrip("-").replace("-", "_"))
            from_env = source is click.core.ParameterSource.ENVIRONMENT
            secret = credentials.choose(
                option=option, given=given, from_env=from_env, file=file, env=env, default=default
            )
            if secret.on_command_line:
                click.echo(credentials.command_line_warning(option, env), err=True)
            secrets.append(secret)
    except credentials.CredentialError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(2)
    api, admin = secrets

    try:
        clock_speed = parse_clock(clock_mode)
    except ValueError as exc:
        click.echo(f"error: --clock: {exc}", err=True)
        ctx.exit(2)
    try:
        zero = None if epoch is None else parse_epoch(epoch)
    except ValueError as exc:
        click.echo(f"error: --epoch: {exc}", err=True)
        ctx.exit(2)
    ctx.exit(
        run_server(
            host=host,
            port=port,
            program=program,  # type: ignore[arg-type]
            era=era,  # type: ignore[arg-type]
            seed=seed,
            token=api.value,
            token_source=api.source,
            admin_token=admin.value,
            username=username,
            app_name=app_name,
            scenario=scenario,
            out=sys.stdout,
            err=sys.stderr,
            epoch=zero,
            clock_speed=clock_speed,
        )
    )


@main.command()
@click.option(
    "--connector-cmd",
    metavar="COMMAND",
    help="The connector, run once per poll (split like a shell would); it reads the session "
    "from HOUZZFLOW_* environment variables.",
)
@click.option(
    "--url",
    metavar="URL",
    help="A connector already running as a service: the session is POSTed to URL once per poll.",
)
@click.option(
    "--worlds",
    "worlds_file",
    metavar="FILE",
    type=click.Path(path_type=str),
    help="A battery of worlds (YAML) instead of the built-in one.",
)
@click.option("--world", "only", multiple=True, metavar="NAME", help="Run only this world.")
@click.option(
    "--timeout",
    type=click.FloatRange(0, 600, min_open=True),
    default=60.0,
    show_default=True,
    help="Seconds one run of the connector may take (at most 600).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@click.pass_context
def conformance(
    ctx: click.Context,
    connector_cmd: str | None,
    url: str | None,
    worlds_file: str | None,
    only: tuple[str, ...],
    timeout: float,
    output_format: str,
) -> None:
    """Drive a connector through a battery of worlds and judge each one.

    Page drift, lost replies, 429 bursts, staff acting by hand, the 2021 auto-charge,
    cancellations and Vendor: each world is served on 127.0.0.1, the connector runs once
    per poll on simulated time, and its final verdict is taken with the invariants of
    `houzzflow run` plus Houzz's wire etiquette. Prints one table (world x invariant);
    exits 1 on any violation, 2 on unusable input.
    """
    import shlex

    from houzzflow.engine.diagnostics import InputError
    from houzzflow.simulator.conformance import command_runner, run_conformance, url_runner
    from houzzflow.simulator.judge.battery import load_battery

    if (connector_cmd is None) == (url is None):
        click.echo("error: give the connector as --connector-cmd COMMAND or --url URL", err=True)
        ctx.exit(2)
    try:
        worlds = load_battery(worlds_file)
    except InputError as exc:
        for diagnostic in exc.diagnostics:
            click.echo(diagnostic.render(), err=True)
        ctx.exit(2)
    except ValueError as exc:
        click.echo(f"error: {worlds_file}: {exc}", err=True)
        ctx.exit(2)
    names = [world.name for world in worlds]
    unknown = [name for name in only if name not in names]
    if unknown:
        click.echo(f"error: no world {unknown[0]!r}; the worlds: {', '.join(names)}", err=True)
        ctx.exit(2)
    chosen = [world for world in worlds if not only or world.name in only]
    try:
        if connector_cmd is not None:
            command = shlex.split(connector_cmd)
            if not command:
                raise ValueError("--connector-cmd is empty")
            runner = command_runner(command, timeout)
        else:
            assert url is not None
            runner = url_runner(url, timeout)
    except ValueError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(2)
    with _progress_bar("worlds") as progress:
        result = run_conformance(chosen, runner, progress)
    if output_format == "json":
        click.echo(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        click.echo(result.render(), nl=False)
    ctx.exit(result.exit_code)


@contextlib.contextmanager
def _progress_bar(what: str, *, eta: bool = False) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on a terminal's stderr (with the time left when ``eta``), as a
    ``progress(done, total)`` callback; None when stderr is not a terminal."""
    console = _console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns: list[Any] = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
    if eta:
        columns += [TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn()]
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(what, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _console(*, stderr: bool = False) -> Console:
    from rich.console import Console

    # rich colours only a terminal and honours NO_COLOR; soft_wrap keeps one finding per line
    # so that file:line:col stays clickable and greppable.
    return Console(stderr=stderr, highlight=False, soft_wrap=True, markup=False, emoji=False)


def _printable(console: Console, text: str) -> str:
    # A file name with undecodable bytes, or a terminal that is not UTF-8, must not crash output.
    encoding = console.encoding or "utf-8"
    return text.encode(encoding, "backslashreplace").decode(encoding)


def _verdict_line(console: Console, report: ValidationReport) -> Text:
    from rich.text import Text

    ok = report.verdict == "proven"
    unicode = (console.encoding or "").lower().startswith("utf")
    mark = ("✔" if ok else "✘") if unicode else ("OK" if ok else "FAIL")
    line = Text()
    line.append(f"{mark} ", style=VERDICT_STYLES[report.verdict])
    line.append(_printable(console, report.file), style="bold")
    line.append(": ")
    line.append(report.verdict, style=VERDICT_STYLES[report.verdict])
    line.append(f" ({report.tier})")
    return line


def _print_diagnostic(console: Console, diagnostic: Diagnostic, indent: str = "") -> None:
    from rich.text import Text

    severity = str(diagnostic.severity)
    line = Text(indent)
    where = str(diagnostic.location)
    if where:
        line.append(_printable(console, where) + " ")
    line.append(severity, style=SEVERITY_STYLES.get(severity, ""))
    line.append(" ")
    line.append(diagnostic.code, style="bold")
    line.append(" " + _printable(console, diagnostic.message))
    console.print(line)
    if diagnostic.fix:
        fix = Text(indent + "    ")
        fix.append("fix:", style="green")
        fix.append(" " + _printable(console, diagnostic.fix))
        console.print(fix)


def _print_reports(reports: Sequence[ValidationReport], saved: dict[str, str]) -> None:
    console = _console()
    for report in reports:
        console.print(_verdict_line(console, report))
        for diagnostic in report.diagnostics:
            _print_diagnostic(console, diagnostic, indent="  ")
        if report.proof is not None:
            _print_proof(console, report.proof, saved.get(report.file))
    if len(reports) > 1:
        counts: dict[str, int] = {}
        for report in reports:
            counts[report.verdict] = counts.get(report.verdict, 0) + 1
        summary = ", ".join(f"{counts[v]} {v}" for v in VERDICT_STYLES if v in counts)
        console.print(f"{len(reports)} files: {summary}")


def _print_proof(console: Console, proof: dict[str, Any], scenario: str | None) -> None:
    from rich.text import Text

    from houzzflow.simulator.proof.verdict import KINDS, needs_text, rests_on

    bounds = proof["bounds"]

    def count(n: int, what: str) -> str:
        return f"{n} {what}{'' if n == 1 else 's'}"

    within = f"{count(bounds['orders'], 'order')}, up to {count(bounds['faults'], 'API fault')}"
    if proof.get("declines_explored"):
        within += f", up to {count(bounds['declines'], 'declined card')}"
    within += ", authorization lapses" if bounds["lapse"] else ""
    head = Text("  proof: ")
    head.append(proof["verdict"], style=VERDICT_STYLES[proof["verdict"]])
    contradicts = proof.get("contradicts")
    if contradicts:
        pins = ", ".join(f"{c['name']}={c['value']}" for c in contradicts)
        head.append(f": nothing explored; the policy pins {pins}, which the sources rule out")
        console.print(head)
        return
    head.append(f" within {within}; {proof['states']:,} states explored")
    console.print(head)
    if "cut_by" in proof:
        console.print(
            f"    the search stopped at {proof['cut_by']}: raise --max-states, or lower "
            "--orders / --faults"
        )
    if proof["verdict"] == "proven":
        console.print("    rests on: " + _printable(console, rests_on(proof["assumptions"])))
    example = proof.get("counterexample")
    if example:
        console.print("    " + _printable(console, needs_text(example["needs"])))
        console.print(f"    shortest way to break it ({KINDS[example['kind']]}):")
        for k, line in enumerate(example["timeline"], 1):
            style = "red" if line.startswith("=>") else ""
            console.print(Text(f"    {k:>3}. " + _printable(console, line), style=style))
    nearest = proof.get("nearest_proven")
    if nearest:
        fix = Text("    nearest proven settings: ", style="green")
        fix.append(_printable(console, nearest["fix"]))
        console.print(fix)
    unproven = proof.get("nearest_unproven")
    if unproven:
        console.print("    " + _printable(console, unproven["text"]), style="yellow")
    if scenario:
        console.print(f"    replay it: houzzflow run {_printable(console, scenario)}")


if __name__ == "__main__":
    main()


def _policy_option(ctx: click.Context, policy_file: str | None) -> Policy | None:
    """The policy a ``--policy FILE`` option names; exit 2 with its diagnostics if unusable."""
    if policy_file is None:
        return None
    from houzzflow.engine.diagnostics import InputError
    from houzzflow.simulator.validate import load_policy

    try:
        return load_policy(policy_file)
    except InputError as exc:
        console = _console(stderr=True)
        for diagnostic in exc.diagnostics:
            _print_diagnostic(console, diagnostic)
        ctx.exit(2)
