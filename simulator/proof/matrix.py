"""The settings matrix: every CartRover setting combination against every world.

Rows are settings (Connection Type x Order Status x Mark Orders as Processed x Mark Orders
as Charged), columns are worlds (account program x era x staff habits); each cell is the
proof verdict, with the rule codes and the broken invariant when it is unsafe. Worlds are
explored in parallel: processes, one per core, or a Dask cluster.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from houzzflow.engine.policy import ORDER_STATUSES, PROGRAM_NAMES, STATUS_NAMES, Policy
from houzzflow.engine.rules import find
from houzzflow.simulator.executors import executor_for
from houzzflow.simulator.kernel.escape import json_text
from houzzflow.simulator.proof.explorer import Bounds, explore

SETTINGS = tuple(
    itertools.product(("seller", "vendor"), ORDER_STATUSES, (True, False), (True, False))
)
HABITS = ("never", "always", "sometimes")
WORLDS = tuple(
    itertools.product(
        ("seller", "vendor"), ("legacy", "2021"), HABITS, HABITS, ("never", "sometimes")
    )
)

T = TypeVar("T")
Setting = tuple[str, str, bool, bool]
World = tuple[str, str, str, str, str]


@dataclass(frozen=True, slots=True)
class Cell:
    setting: Setting
    world: World
    verdict: str
    codes: tuple[str, ...]  # rule codes at error level
    invariant: str  # what the explorer found broken ("" when proven)
    reason: str

    @property
    def agrees(self) -> bool:
        return (self.verdict == "proven") == (not self.codes)


@dataclass(frozen=True, slots=True)
class Matrix:
    """Every cell of one run of the settings matrix, in (world, setting) order."""

    cells: tuple[Cell, ...]

    @property
    def agrees(self) -> bool:
        """True when the rules and the proof agree on every cell (exit status 0)."""
        return all(c.agrees for c in self.cells)

    @property
    def exit_code(self) -> int:
        return 0 if self.agrees else 1

    def to_json(self) -> list[dict[str, Any]]:
        """The rows ``houzzflow matrix --format json`` prints."""
        return _rows(list(self.cells))

    def render(self, fmt: str) -> str:
        """As ``houzzflow matrix --format FMT`` prints it (text, markdown, csv or json)."""
        return render(list(self.cells), fmt)


def policy_for(setting: Setting, world: World) -> Policy:
    connection, status, processed, charged = setting
    account, era, process, charge, cancel = world
    return Policy(
        connection_type=connection,  # type: ignore[arg-type]
        order_status=status,  # type: ignore[arg-type]
        mark_processed=processed,
        mark_charged=charged,
        cancel_download=True,
        poll_interval=900,
        account=account,  # type: ignore[arg-type]
        era=era,  # type: ignore[arg-type]
        staff_process=process,  # type: ignore[arg-type]
        staff_charge=charge,  # type: ignore[arg-type]
        staff_cancel=cancel,  # type: ignore[arg-type]
    )


def world_column(world: World, bounds: Bounds) -> list[Cell]:
    """Every setting against one world (the unit of parallel work)."""
    cells = []
    for setting in SETTINGS:
        policy = policy_for(setting, world)
        result = explore(policy, bounds)
        errors = [f for f in find(policy) if f.severity == "error"]
        reason = result.violation.message if result.violation else result.cut_by
        if errors:
            reason = f"{errors[0].code}: {errors[0].message}"
        cells.append(
            Cell(
                setting,
                world,
                result.verdict,
                tuple(f.code for f in errors),
                result.violation.invariant if result.violation else "",
                reason,
            )
        )
    return cells


def _column(args: tuple[World, Bounds]) -> list[Cell]:
    return world_column(*args)


def run_matrix(
    bounds: Bounds | None = None,
    *,
    worlds: Iterable[World] = WORLDS,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    scheduler: str | None = None,
) -> list[Cell]:
    """All cells, in (world, setting) order; ``jobs`` processes (default: every core), or
    the Dask ``scheduler`` at that address (houzzflow.simulator.executors)."""
    return per_world(_column, bounds or Bounds(), worlds, jobs, progress, scheduler)


def per_world(
    column: Callable[[tuple[World, Bounds]], list[T]],
    bounds: Bounds,
    worlds: Iterable[World],
    jobs: int | None,
    progress: Callable[[int, int], None] | None,
    scheduler: str | None,
) -> list[T]:
    """``column`` of each world (a picklable function: the unit of parallel work), run where
    ``jobs`` / ``scheduler`` say, joined in the worlds' order."""
    todo = [(w, bounds) for w in worlds]
    columns: dict[int, list[T]] = {}
    with executor_for(jobs=jobs, scheduler=scheduler, tasks=len(todo)) as executor:
        for index, found in executor.imap_unordered(column, enumerate(todo)):
            columns[index] = found
            if progress:
                progress(len(columns), len(todo))
    return [cell for index in range(len(todo)) for cell in columns[index]]


def setting_label(s: Setting) -> str:
    connection, status, processed, charged = s
    return (
        f"{PROGRAM_NAMES[connection]} / {STATUS_NAMES[status]} / "
        f"process {'on' if processed else 'off'} / charge {'on' if charged else 'off'}"
    )


def world_label(w: World) -> str:
    account, era, process, charge, cancel = w
    return f"{account} {era}, staff process {process}, charge {charge}, cancel {cancel}"


def _rows(cells: list[Cell]) -> list[dict[str, Any]]:
    return [
        {
            "account": c.world[0],
            "era": c.world[1],
            "staff_process": c.world[2],
            "staff_charge": c.world[3],
            "staff_cancel": c.world[4],
            "connection_type": c.setting[0],
            "order_status": c.setting[1],
            "mark_processed": c.setting[2],
            "mark_charged": c.setting[3],
            "verdict": c.verdict,
            "codes": list(c.codes),
            "invariant": c.invariant,
            "reason": "" if c.verdict == "proven" else c.reason,
        }
        for c in cells
    ]


def render(cells: list[Cell], fmt: str) -> str:
    """The matrix as text, markdown, csv or json."""
    if fmt == "json":
        return json_report(cells)
    if fmt == "csv":
        return csv_report(cells)
    return _by_world(cells, markdown=fmt == "markdown")


def text_report(cells: list[Cell], *, quiet: bool = False, **_: Any) -> str:
    """Per world, the proven settings and how many are unsafe (quiet: the last line)."""
    text = _by_world(cells, markdown=False)
    return text.splitlines()[-1] + "\n" if quiet else text


def markdown_report(cells: list[Cell], **_: Any) -> str:
    """A table per world, with the reason for every unsafe cell."""
    return _by_world(cells, markdown=True)


def json_report(cells: list[Cell], **_: Any) -> str:
    """One object per cell (``houzzflow schema matrix-report``)."""
    return json_text(_rows(cells), indent=1, sort_keys=True) + "\n"


def csv_report(cells: list[Cell], **_: Any) -> str:
    """One row per cell; booleans as true/false and the codes space-separated, as
    spreadsheets and CSV readers in other languages expect."""
    buf = io.StringIO()
    rows = [
        {
            k: (
                str(v).lower() if isinstance(v, bool) else " ".join(v) if isinstance(v, list) else v
            )
            for k, v in row.items()
        }
        for row in _rows(cells)
    ]
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else [], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _by_world(cells: list[Cell], *, markdown: bool) -> str:
    """One block per world: the proven settings, then each unsafe one with its reason."""
    out: list[str] = []
    by_world: dict[World, list[Cell]] = {}
    for c in cells:
        by_world.setdefault(c.world, []).append(c)
    for world, column in by_world.items():
        proven = [c for c in column if c.verdict == "proven"]
        head = world_label(world)
        out.append(f"### {head}" if markdown else head)
        if markdown:
            out += ["", "| settings | verdict | why |", "|---|---|---|"]
            for c in column:
                why = "" if c.verdict == "proven" else c.reason.replace("|", "/")
                out.append(f"| {setting_label(c.setting)} | {c.verdict} | {why} |")
            out.append("")
        else:
            if proven:
                out.append("  proven:")
                out += [f"    {setting_label(c.setting)}" for c in proven]
            else:
                out.append("  proven: none - no setting is safe with these staff habits")
            unsafe = len(column) - len(proven)
            out.append(f"  unsafe: {unsafe} of {len(column)} settings")
    total = len(cells)
    safe = sum(1 for c in cells if c.verdict == "proven")
    disagree = sum(1 for c in cells if not c.agrees)
    out.append(
        f"{total} cells: {safe} proven, {total - safe} unsafe; rules and proof disagree on "
        f"{disagree}"
    )
    return "\n".join(out) + "\n"
