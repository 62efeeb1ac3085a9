"""houzzflow's command line: a thin edge that parses arguments and prints library results.

Exit status everywhere: 0 ok, 1 a check failed, 2 input that cannot be used (click's own usage
errors already exit 2); with several files, the worst. The engine, pydantic and rich are
imported inside the commands, so ``houzzflow --help`` answers at once.

Every report goes through ``houzzflow.simulator.output``: its table of formats gives each
command's ``--format`` choices and renderers, ``-o FILE`` is written whole or not at all, and
a standard output that is closed or full is one ``OUT001`` line, never a traceback.
"""

from __future__ import annotations

import contextlib
import gc
import json
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from houzzflow.simulator.validate import REPORT_SCHEMAS, SCHEMAS

if TYPE_CHECKING:
    from rich.console import Console

    from houzzflow.engine.diagnostics import Diagnostic
    from houzzflow.engine.policy import Policy

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
# The proof's bounds, the same on every command that proves (validate, matrix).
ORDERS = (1, 4)
FAULTS = (0, 3)
DECLINES = (0, 2)
MAX_STATES = (100, 100_000_000)
MAX_VIOLATIONS = 10_000  # houzzflow.simulator.runs.report holds the same; a test checks
SCHEDULER_HELP = (
    "A Dask scheduler, tcp://host:port (or $HOUZZFLOW_DASK_SCHEDULER): run there, not here. "
    "Needs the dask extra: pip install 'houzzflow[dask]'."
)


def _show_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from importlib.metadata import PackageNotFoundError, version

    from houzzflow.engine.native import build_name

    build = build_name()  # compiled hot modules (python -m bench.compiled) or pure Python
    try:
        click.echo(f"houzzflow {version('houzzflow')} ({build})")
    except PackageNotFoundError:
        click.echo(f"houzzflow (not installed: running from a source tree; {build})")
    ctx.exit(0)


def _executor_options(command: F) -> F:
    """--jobs and --scheduler: where the tasks of matrix and sweep run."""
    jobs = click.option(
        "--jobs",
        type=click.IntRange(1, JOBS_MAX),
        default=None,
        metavar="N",
        help=f"Processes to use, 1 to {JOBS_MAX} [default: every core]",
    )
    scheduler = click.option(
        "--scheduler", envvar="HOUZZFLOW_DASK_SCHEDULER", metavar="ADDRESS", help=SCHEDULER_HELP
    )
    return jobs(scheduler(command))


# Each command's line in ``houzzflow --help``, whole: click would cut the first sentence of
# the docstring to fit the terminal. A command missing here gets click's own summary.
SUMMARIES = {
    "validate": "Check policy files: schema, rules, and a proof that no order is lost.",
    "run": "Simulate scenario files against a fake Houzz and check what they expect.",
    "matrix": "Prove every CartRover setting combination against every world.",
    "sweep": "Run a scenario over many seeds and a grid: how often orders are lost.",
    "serve": "Serve a fake Houzz API over HTTP for connector tests.",
    "assumptions": "List the open questions about Houzz and CartRover, and the defaults.",
    "diagram": "Print Houzz's order lifecycle as a Mermaid state diagram.",
    "schema": "Print the JSON Schema of a file format or a report.",
    "explain": "Explain a finding's code: why it matters, its source, an example, the fix.",
    "init": "Write a commented starting policy or scenario file.",
    "conformance": "Drive a connector through a battery of worlds and judge each one.",
}


class _Commands(click.Group):
    """The group whose help lists every command with its whole summary, and makes a
    standard output that cannot be written (``| head``, ``> /dev/full``) one line on
    stderr and exit 2 (or the command's own non-zero status), for every command."""

    def invoke(self, ctx: click.Context) -> Any:
        from houzzflow.simulator.output import stdout_failure

        try:
            return super().invoke(ctx)
        except OSError as exc:  # before click's own handling, which exits 1 in silence
            failure = stdout_failure(exc)
            if failure is None:
                raise
            click.echo(str(failure), err=True)
            raise click.exceptions.Exit(2) from None

    def main(self, *args: Any, **kwargs: Any) -> Any:
        import sys

        from houzzflow.simulator.output import OutputError, flush_stdout, start, stdout_failure

        start()
        status: int | str | None = 0
        try:
            result = super().main(*args, **kwargs)
        except SystemExit as exc:
            status = exc.code
        except OSError as exc:  # writing --help or a usage error
            failure = stdout_failure(exc)
            if failure is None:
                raise
            click.echo(str(failure), err=True)
            sys.exit(2)
        else:
            return result  # not standalone: the caller handles the rest
        try:
            flush_stdout()
        except OutputError as failure:
            click.echo(str(failure), err=True)
            sys.exit(status or 2)
        sys.exit(status)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            rows.append((name, SUMMARIES.get(name) or command.get_short_help_str(limit=80)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(
    cls=_Commands,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Shell completion (bash, zsh, fish): see `Shell completion` in README.md, e.g. "
    'eval "$(_HOUZZFLOW_COMPLETE=bash_source houzzflow)".',
)
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


FILES_HELP = "FILE... are files, directories (every *.yaml under them) or - (standard input)."


def _report_options(command: str, *, what: str) -> Callable[[F], F]:
    """--format, -o/--output and -q/--quiet: the same on every command that writes a report."""
    from houzzflow.simulator.output import formats

    def decorate(function: F) -> F:
        function = click.option(
            "-q",
            "--quiet",
            is_flag=True,
            help="One line per item (and why a file could not be used) and the summary; no "
            "progress line.",
        )(function)
        function = click.option(
            "-o",
            "--output",
            metavar="FILE",
            type=click.Path(dir_okay=False, path_type=str),
            help="Write the --format report to FILE (whole, or not at all; - is standard "
            "output); the terminal still gets the text report.",
        )(function)
        return click.option(
            "--format",
            "output_format",
            type=click.Choice(formats(command)),
            default="text",
            show_default=True,
            help=what,
        )(function)

    return decorate


@main.command(epilog=FILES_HELP)
@click.argument("files", nargs=-1, required=True, metavar="FILE...", type=click.Path(path_type=str))
@_report_options("run", what="text for people, json for tools, junit for CI dashboards.")
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
@click.option(
    "--max-violations",
    type=click.IntRange(1, MAX_VIOLATIONS),
    default=None,
    metavar="N",
    help=f"Orders listed with their timelines per broken invariant, 1 to {MAX_VIOLATIONS:,} "
    "[default: 5 in text and JUnit, 100 in JSON].",
)
@click.pass_context
def run(
    ctx: click.Context,
    files: tuple[str, ...],
    output_format: str,
    output: str | None,
    quiet: bool,
    overrides: tuple[str, ...],
    seed: int | None,
    max_violations: int | None,
) -> None:
    """Simulate scenario FILEs against the fake Houzz and check their expectations.

    Prints, per scenario, the orders by outcome, alerts, each violated invariant with the
    order's timeline, and whether each expectation held. Each file is judged on its own: one
    that cannot be used is a failed item and the others still run. Exit status: 0 when every
    expectation holds, 1 when one does not, 2 for a file that cannot be used.
    """
    import sys

    from houzzflow.simulator.runs.report import exit_status, run_items

    if seed is not None:
        overrides = (*overrides, f"seed={seed}")
    sources = _sources(files, "scenario")
    progress = not quiet and sys.stderr.isatty()
    seconds: list[float] = []
    if _WHOLE_PROCESS and len(sources) == 1:
        # The world is dropped by exiting, never collected (see ``entry``); with several
        # files the collector stays on, so one world's garbage does not outlive the next run.
        gc.disable()
    pictures = output_format == "html"
    items = run_items(sources, list(overrides), progress, seconds, pictures=pictures)
    options: dict[str, Any] = {}
    if max_violations is not None:
        options["shown"] = max_violations
    status = exit_status(items)
    try:
        _emit(ctx, "run", items, output_format, output, quiet, status, seconds=seconds, **options)
    except click.exceptions.Exit as done:
        if _WHOLE_PROCESS:
            _exit_now(done.exit_code)
        raise


# True when this process ends with the command (``entry``): ``run`` then leaves its worlds to
# the operating system. Calling ``main`` in process (tests, Click's runner) keeps it False.
_WHOLE_PROCESS = False


def entry(prog_name: str | None = None) -> None:
    """The ``houzzflow`` script and ``python -m houzzflow``: ``main`` in a process of its own.

    A 100,000-order run leaves millions of objects, 200,000 of them in reference cycles;
    collecting them after the run took about 8% of the run's time, and at 1M orders the
    collection and the interpreter's teardown grow faster than the run. Here ``run`` prints
    its report, flushes and exits without either.
    """
    global _WHOLE_PROCESS
    _WHOLE_PROCESS = True
    main(prog_name=prog_name)


def _exit_now(status: int) -> None:
    """Flush the output and end the process at once (no collection, no interpreter teardown)."""
    import os
    import sys

    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        return  # the reader went away: leave it to the usual exit
    os._exit(status)


def _proof_bound(
    flag: str, limits: tuple[int, int], default: int, text: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """An option bounding the proof's exploration, the same on validate and matrix."""
    return click.option(
        flag,
        type=click.IntRange(*limits),
        default=default,
        show_default=True,
        metavar="N",
        help=f"Proof bound: {text}.",
    )


@main.command(epilog=FILES_HELP)
@click.argument("files", nargs=-1, required=True, metavar="FILE...", type=click.Path(path_type=str))
@_report_options(
    "validate",
    what="text for people; json prints one JSON object per file (JSON Lines); junit for CI "
    "dashboards.",
)
@_proof_bound("--orders", ORDERS, 2, "orders placed in every explored world")
@_proof_bound("--faults", FAULTS, 1, "API faults (transient errors, lost replies) per world")
@_proof_bound("--declines", DECLINES, 1, "cards declined at CartRover's Charge per world")
@click.option(
    "--max-states",
    type=click.IntRange(*MAX_STATES),
    default=400_000,
    show_default=True,
    metavar="N",
    help=f"Proof bound: stop (inconclusive) after this many states, {MAX_STATES[0]:,} to "
    f"{MAX_STATES[1]:,}.",
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
    output: str | None,
    quiet: bool,
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

    sources = _sources(files, "policy")
    bounds = Bounds(
        orders=orders, faults=faults, declines=declines, lapse=lapse, max_states=max_states
    )
    saved: dict[str, str] = {}
    seconds: list[float] = []
    proofs: list[Any] = []
    if no_proof:
        reports = [_timed(seconds, validate_paths, [s], proof=False)[0] for s in sources]
    else:
        with _proof_progress(quiet) as progress:
            proven = [
                _timed(seconds, proven_paths, [s], bounds, progress=progress)[0] for s in sources
            ]
        reports = [report for report, _ in proven]
        proofs = [proof for _, proof in proven]
        if save_dir is not None:
            try:
                saved = save_counterexamples(proven, save_dir)
            except OSError as exc:
                _fail_output(ctx, save_dir, exc.strerror or str(exc), exit_code(reports))
    status = exit_code(reports)
    _emit(
        ctx,
        "validate",
        reports,
        output_format,
        output,
        quiet,
        status,
        saved=saved,
        seconds=seconds,
        proofs=proofs,
    )


T = TypeVar("T")


def _timed(seconds: list[float], function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``function(*args, **kwargs)``, appending its wall-clock time to ``seconds`` (JUnit's
    ``time``: the only wall-clock figure in any report)."""
    import time

    started = time.perf_counter()
    try:
        return function(*args, **kwargs)
    finally:
        seconds.append(time.perf_counter() - started)


def _sources(files: Sequence[str], kind: str) -> list[Any]:
    """The command line's FILE... as sources: ``-`` is standard input (read once), a
    directory every ``*.yaml`` under it, sorted; files of the other kind found in a
    directory are left out, with a note on stderr."""
    import sys
    from pathlib import Path

    from houzzflow.engine.yamlsource import MAX_BYTES, STDIN, NamedText

    out: list[Any] = []
    stdin: NamedText | None = None
    for name in files:
        if name == "-":
            if stdin is None:
                stdin = NamedText(STDIN, sys.stdin.buffer.read(MAX_BYTES + 1))
            out.append(stdin)
        elif Path(name).is_dir():
            found = sorted(str(p) for p in Path(name).rglob("*.yaml") if p.is_file())
            kept = [p for p in found if _kind_of(p) in (kind, "unknown")]
            if len(kept) < len(found):
                other = "scenario" if kind == "policy" else "policy"
                click.echo(
                    f"{name}: note: left out {len(found) - len(kept)} {other} "
                    f"file{'' if len(found) - len(kept) == 1 else 's'}",
                    err=True,
                )
            out += kept or [name]  # an empty directory is reported as such (YAML008)
        else:
            out.append(name)
    return out


def _kind_of(path: str) -> str:
    from houzzflow.engine.diagnostics import InputError
    from houzzflow.engine.file_kind import file_kind
    from houzzflow.engine.yamlsource import load_yaml_file

    try:
        return file_kind(load_yaml_file(path).data)
    except InputError:
        return "unknown"  # its own command reports what is wrong with it


def _emit(
    ctx: click.Context,
    command: str,
    result: Any,
    fmt: str,
    output: str | None,
    quiet: bool,
    status: int,
    *,
    terminal_text: bool = True,
    **options: Any,
) -> None:
    """Write a command's report and exit with ``status``: the ``--format`` report to
    ``-o FILE`` or standard output; with ``-o``, the text report to the terminal too (or,
    where the result has no text report, ``terminal_text=False``, which file was written).
    A report that cannot be written is one line on stderr and exit 2 (or the check's own
    non-zero status)."""
    import sys

    from houzzflow.simulator.output import OutputError, renderer, write_report, write_stdout

    encoding = getattr(sys.stdout, "encoding", None) or ""
    ascii_only = not encoding.lower().startswith("utf")
    render = renderer(command, fmt)
    if output == "-":  # -o - is standard output, as for FILE arguments
        output = None
    try:
        if output is not None:
            write_report(render(result, quiet=quiet, **options), output)
            if fmt != "text" and not quiet and terminal_text:
                _show_text(renderer(command, "text")(result, ascii_only=ascii_only, **options))
            elif fmt != "text" and not quiet:
                _show_text(f"wrote {output}\n")
        elif fmt == "text":
            _show_text(render(result, quiet=quiet, ascii_only=ascii_only, **options))
        else:
            write_stdout(render(result, quiet=quiet, **options))
    except OutputError as exc:
        click.echo(str(exc), err=True)
        ctx.exit(status or 2)
    ctx.exit(status)


def _fail_output(ctx: click.Context, where: str, reason: str, status: int) -> None:
    from houzzflow.simulator.output import OutputError

    click.echo(str(OutputError(where, reason)), err=True)
    ctx.exit(status or 2)


def _show_text(text: str) -> None:
    """Text on standard output: highlighted on a terminal (never with NO_COLOR), plain and
    unchanged anywhere else."""
    import sys

    from houzzflow.simulator.output import write_stdout

    if sys.stdout is None or not _may_be_terminal():  # closed (write_stdout says so), or a file
        write_stdout(text)
        return
    console = _console()
    if not console.is_terminal or console.no_color:
        write_stdout(text)
        return
    from rich.text import Text

    for line in text.splitlines():
        styled = Text(_printable(console, line))
        styled.highlight_regex(r"(?<=: )(error|warning|info)(?= [A-Z]+\d+ )", "bold")
        for word, style in {**SEVERITY_STYLES, **VERDICT_STYLES}.items():
            styled.highlight_regex(rf"(?<![\w-]){word}(?![\w-])", style)
        styled.highlight_regex(r"^\s*(✔|OK)(?=\s)", "bold green")
        styled.highlight_regex(r"^\s*(✘|FAIL)(?=\s)", "bold red")
        styled.highlight_regex(r"^\s+\d+\. => .*", "red")
        styled.highlight_regex(r"\bfix:", "green")
        console.print(styled)


@contextlib.contextmanager
def _proof_progress(quiet: bool) -> Iterator[Callable[[str, int, int, int], None] | None]:
    """A proof's progress line on a terminal's stderr: the file, states explored, depth,
    rate and the states left before --max-states; None when quiet or not a terminal."""
    console = _console(stderr=True)
    if quiet or not console.is_terminal:
        yield None
        return
    import os
    import time

    from rich.progress import Progress, TextColumn

    # One plain line (no bar: how far a search goes is not known until it ends).
    columns = (TextColumn("{task.fields[facts]}"),)
    started: dict[str, float] = {}
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("proof", total=None, facts="starting the proof")

        def tell(file: str, states: int, depth: int, limit: int) -> None:
            now = time.monotonic()
            since = started.setdefault(file, now)
            rate = states / (now - since) if now > since else 0.0
            facts = (
                f"{states:,} states · depth {depth} · {rate:,.0f}/s · "
                f"{max(limit - states, 0):,} left before --max-states · {os.path.basename(file)}"
            )
            bar.update(task, completed=states, total=limit, facts=facts)

        yield tell


@main.command(epilog="NAME is one of: " + ", ".join(sorted(SCHEMAS) + list(REPORT_SCHEMAS)))
@click.argument("name", metavar="NAME", type=click.Choice(sorted(SCHEMAS) + list(REPORT_SCHEMAS)))
def schema(name: str) -> None:
    """Print the JSON Schema of a file format or a report (NAME), for editors and tools.

    \b
    houzzflow schema policy > policy.schema.json
    then start a policy file with the line:
    # yaml-language-server: $schema=policy.schema.json
    houzzflow schema run-report: what `houzzflow run --format json` prints
    """
    from houzzflow.simulator.validate import json_schema

    click.echo(json.dumps(json_schema(name), indent=2))


@main.command()
@click.argument("code", metavar="[CODE]", required=False)
@click.pass_context
def explain(ctx: click.Context, code: str | None) -> None:
    """Explain a finding's CODE (e.g. HZ007): what it finds, why it matters, its source, an
    example and the fix. Without CODE: every code, one line each."""
    from houzzflow.engine.explain import explain as page
    from houzzflow.engine.explain import index, known_codes

    if code is None:
        click.echo(index().rstrip("\n"))
        return
    text = page(code)
    if text is None:
        codes = known_codes()
        click.echo(
            f"error: unknown code {code!r}; houzzflow has {', '.join(codes[:3])}, ... "
            f"({len(codes)} codes: HZ001 to HZ016 are the rules)",
            err=True,
        )
        ctx.exit(2)
    click.echo(text.rstrip("\n"))


@main.command(epilog="KIND is policy or scenario.")
@click.argument("kind", metavar="KIND", type=click.Choice(["policy", "scenario"]))
@click.argument("file", metavar="[FILE]", required=False, type=click.Path(path_type=str))
@click.option(
    "--program",
    type=click.Choice(["seller", "vendor"]),
    default="seller",
    show_default=True,
    help="The Houzz program of the account.",
)
@click.option(
    "--era",
    type=click.Choice(["legacy", "2021"]),
    default="2021",
    show_default=True,
    help="legacy: before 2021-09-01; 2021: Houzz charges Seller orders itself.",
)
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@click.pass_context
def init(
    ctx: click.Context, kind: str, file: str | None, program: str, era: str, force: bool
) -> None:
    """Write a commented starting policy or scenario (to FILE, or print it) with CartRover's
    defaults for the program and era, and the yaml-language-server schema line."""
    import os

    from houzzflow.engine.starter import starter
    from houzzflow.simulator.output import OutputError, write_report, write_stdout

    text = starter(kind, program, era)
    try:
        if file is None:
            write_stdout(text)
            return
        if os.path.exists(file) and not force:
            raise OutputError(file, "it exists (--force overwrites it)")
        write_report(text, file)
    except OutputError as exc:
        click.echo(str(exc), err=True)
        ctx.exit(2)
    click.echo(f"wrote {file}: check it with houzzflow {'validate' if kind == 'policy' else 'run'}")
    schema = os.path.join(os.path.dirname(file), f"{kind}.schema.json")
    if not os.path.exists(schema):  # its first line names this file for editors
        click.echo(f"for your editor's checks: houzzflow schema {kind} > {schema}")


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
@_report_options(
    "matrix",
    what="text lists the proven settings per world; markdown a table per world; csv and json "
    "one row per cell.",
)
@_proof_bound("--orders", ORDERS, 2, "orders placed in every explored world")
@_proof_bound("--faults", FAULTS, 1, "API faults (transient errors, lost replies) per world")
@click.option(
    "--account", type=click.Choice(["seller", "vendor"]), help="Only the worlds of this program."
)
@click.option("--era", type=click.Choice(["legacy", "2021"]), help="Only the worlds of this era.")
@_executor_options
@click.pass_context
def matrix(
    ctx: click.Context,
    output_format: str,
    output: str | None,
    quiet: bool,
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
    from houzzflow.simulator.proof.matrix import WORLDS, run_matrix

    worlds = [w for w in WORLDS if account in (None, w[0]) and era in (None, w[1])]
    bounds = Bounds(orders=orders, faults=faults)
    # html: the settings explorer, on the wider atlas (simulator.proof.atlas).
    compute: Callable[..., Any] = run_matrix
    if output_format == "html":
        from houzzflow.simulator.proof.atlas import run_atlas

        compute = run_atlas
    try:
        with _progress_bar("exploring worlds", quiet=quiet) as progress:
            cells = compute(
                bounds, worlds=worlds, jobs=jobs, progress=progress, scheduler=scheduler
            )
    except ExecutorError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(2)
    # The atlas behind the html page holds no rules-versus-proof check to fail, nor a text
    # report to show beside the page.
    html = output_format == "html"
    status = 0 if html or all(c.agrees for c in cells) else 1
    _emit(ctx, "matrix", cells, output_format, output, quiet, status, terminal_text=not html)


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
@_report_options("sweep", what="text for people, json for programs, csv for spreadsheets.")
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
    output: str | None,
    quiet: bool,
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
        with _progress_bar("sweeping", eta=True, quiet=quiet) as progress:
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
    _emit(ctx, "sweep", result, output_format, output, quiet, result.exit_code)


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
    "--program",
    type=click.Choice(["seller", "vendor"]),
    default="seller",
    show_default=True,
    help="The Houzz account program the fake plays: seller (orders start New) or vendor "
    "(orders start Charged).",
)
@click.option(
    "--era",
    type=click.Choice(["legacy", "2021"]),
    default="2021",
    show_default=True,
    help="legacy: before 2021-09-01 (CartRover charges Seller orders); 2021: Houzz charges "
    "Seller orders itself.",
)
@click.option(
    "--seed",
    type=click.IntRange(0, SEED_MAX),
    default=0,
    show_default=True,
    help=f"Seed of the fake's random draws (order ids, faults), 0 to {SEED_MAX:,}.",
)
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
@click.option(
    "--username",
    default="seller@example.com",
    show_default=True,
    help="The X-HOUZZ-API-USER-NAME every /api request must carry.",
)
@click.option(
    "--app-name",
    default="houzzflow",
    show_default=True,
    help="The X-HOUZZ-API-APP-NAME every /api request must carry.",
)
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
@_report_options(
    "conformance",
    what="text: one table, world x invariant; json for programs; junit for CI dashboards "
    "(a testcase per world and invariant).",
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
    output: str | None,
    quiet: bool,
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
    with _progress_bar("worlds", quiet=quiet) as progress:
        result = run_conformance(chosen, runner, progress)
    _emit(ctx, "conformance", result, output_format, output, quiet, result.exit_code)


@contextlib.contextmanager
def _progress_bar(
    what: str, *, eta: bool = False, quiet: bool = False
) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on a terminal's stderr (with the time left when ``eta``), as a
    ``progress(done, total)`` callback; None when quiet or stderr is not a terminal."""
    console = _console(stderr=True)
    if quiet or not console.is_terminal:
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


def _may_be_terminal() -> bool:
    """False when rich would not take standard output for a terminal (a file or a pipe, and
    no TTY_COMPATIBLE or FORCE_COLOR saying otherwise), told without importing rich."""
    import os
    import sys

    if os.environ.get("TTY_COMPATIBLE") or "FORCE_COLOR" in os.environ:
        return True
    try:
        return bool(sys.stdout.isatty())
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


def _console(*, stderr: bool = False) -> Console:
    from rich.console import Console

    # rich colours only a terminal and honours NO_COLOR; soft_wrap keeps one finding per line
    # so that file:line:col stays clickable and greppable.
    return Console(stderr=stderr, highlight=False, soft_wrap=True, markup=False, emoji=False)


def _printable(console: Console, text: str) -> str:
    # A file name with undecodable bytes, or a terminal that is not UTF-8, must not crash output.
    encoding = console.encoding or "utf-8"
    return text.encode(encoding, "backslashreplace").decode(encoding)


def _print_diagnostic(console: Console, diagnostic: Diagnostic, indent: str = "") -> None:
    """A diagnostic as every command prints it: ``file:line:col: severity CODE message``,
    then its fix and the hint to its rule."""
    for line in diagnostic.render().split("\n"):
        console.print(indent + _printable(console, line))


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


if __name__ == "__main__":
    entry()
