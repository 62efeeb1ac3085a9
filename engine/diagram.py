"""The order lifecycle as a Mermaid ``stateDiagram-v2`` document, for people to look at.

The structure comes from the ``transitions`` reference machines (DESIGN.md: they are the
diagram source, and their mermaid engine needs no system graphviz): the states, the edges
and their ``action · actors`` labels are read back from each GraphMachine's markup. This
module lays them out for reading: one composite state per lifecycle (Houzz's, CartRover's),
human labels, program/era-specific edges tagged, states coloured by kind (Mermaid cannot
colour the edges of a state diagram), and, given a policy, what that policy makes CartRover
do: the statuses it loads and the Houzz actions it calls marked with a star, and a note
summarising the settings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from houzzflow.engine.decisions import apply_marks, mark_steps
from houzzflow.engine.machine import LifecycleDef, MachineDef, default_machine
from houzzflow.engine.policy import LOADS, PROGRAM_NAMES, STATUS_NAMES, Policy, format_duration
from houzzflow.engine.reference import build_graph_machine
from houzzflow.engine.table import Table, compile_lifecycle

STAR = "★"
CONNECTOR = "connector"
# CartRover's status for an order it holds (DOMAIN.md section 4): a refused Mark step ends here.
HELD = "Error"
# The Houzz action CartRover calls for every shipped order, whatever the policy.
CONFIRM_ACTION = "Ship"
# CartRover's own actions that happen only because Order Cancel Download is on.
CANCEL_DOWNLOAD_ACTIONS = frozenset({"CancelBeforeSend", "CancelAtBackend"})

# One class per kind of state, with what the legend says about it.
STYLES: dict[str, tuple[str, str]] = {
    "loads": (
        "fill:#c8f0c8,stroke:#1e7b34,stroke-width:3px,color:#111",
        "green: CartRover loads orders in this status",
    ),
    "held": (
        "fill:#f8d0d4,stroke:#b02a37,stroke-width:2px,color:#111",
        "red: held by CartRover, needs attention",
    ),
    "hidden": (
        "fill:#fff0c0,stroke:#b8860b,stroke-width:2px,stroke-dasharray:5 3,color:#111",
        "yellow, dashed: held back by Houzz, hidden from the seller",
    ),
    "terminal": ("fill:#e4e4e4,stroke:#444,stroke-width:2px,color:#111", "grey: done (terminal)"),
    "unreached": (
        "fill:#fafafa,stroke:#bbb,stroke-dasharray:2 2,color:#888",
        "pale: never reached in this program and era",
    ),
}

Variant = tuple[str, str]  # (program, era)


@dataclass(frozen=True, slots=True)
class _Edge:
    source: str
    dest: str
    action: str
    label: str  # from the reference machine: "Process · staff, connector"
    variants: frozenset[Variant]


@dataclass(frozen=True, slots=True)
class _Drawn:
    """One lifecycle as the reference machines declare it, for the chosen variants."""

    states: tuple[str, ...]
    initial: dict[str, tuple[str, ...]]  # initial state -> the programs starting there
    edges: tuple[_Edge, ...]


def render_mermaid(policy: Policy | None = None, *, machine: MachineDef | None = None) -> str:
    """Mermaid text for both lifecycles; with a policy, only its program and era, annotated.

    Without a policy every program and era is drawn and edges that exist only in some are
    tagged, e.g. ``AutoCharge · houzz [seller 2021]``. The output is deterministic.
    """
    m = machine or default_machine()
    if policy is None:
        variants = [(p, e) for p in m.programs for e in m.eras]
        title = "Houzz and CartRover order statuses, every program and era"
    else:
        variants = [(policy.account, policy.era)]
        title = (
            f"Order statuses for a {PROGRAM_NAMES[policy.account]} account, "
            f"{_era_words(policy.era)}, under this policy"
        )
    houzz = _from_reference(m.houzz, variants, "Houzz order status")
    cartrover = _from_reference(m.connector, variants, "CartRover order status")

    lines = ["---", f"title: {_text(title)}", "---", "stateDiagram-v2", "  direction TB"]
    classes: dict[str, str] = {}
    lines += _composite("houzz", "Houzz order status", m.houzz, houzz, variants, policy, classes)
    lines += _composite(
        "cartrover", "CartRover order status", m.connector, cartrover, variants, policy, classes
    )
    used = [kind for kind in STYLES if kind in classes.values()]
    lines += [f"  classDef {kind} {STYLES[kind][0]}" for kind in used]
    lines += [f"  class {state} {kind}" for state, kind in classes.items()]
    # Notes to the right of CartRover's statuses keep Houzz's on the left, where it is read first.
    if policy is not None:
        lines += _note("cartrover", "right", _policy_summary(policy, m, _reached(houzz)))
    lines += _note("cartrover", "right", _legend(used, policy, tagged=len(variants) > 1))
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class Graph:
    """Houzz's lifecycle for one program and era, as plain data for a drawing: the states in
    declaration order with their labels, where orders start, and the edges with their
    actions (``simulator.html.lifecycle`` draws it as SVG)."""

    states: tuple[str, ...]
    labels: dict[str, str]
    initial: tuple[str, ...]
    edges: tuple[tuple[str, str, str], ...]  # (source, dest, action)
    terminal: frozenset[str]


def houzz_graph(account: str, era: str, *, machine: MachineDef | None = None) -> Graph:
    """Houzz's order lifecycle as the reference machine declares it for one program and era."""
    m = machine or default_machine()
    drawn = _from_reference(m.houzz, [(account, era)], "Houzz order status")
    edges = tuple(dict.fromkeys((e.source, e.dest, e.action) for e in drawn.edges))
    return Graph(
        drawn.states,
        {name: m.houzz.states[name].label for name in drawn.states},
        tuple(drawn.initial),
        edges,
        frozenset(n for n in drawn.states if m.houzz.states[n].terminal),
    )


def _from_reference(life: LifecycleDef, variants: Sequence[Variant], title: str) -> _Drawn:
    found: dict[tuple[str, str, str, str], set[Variant]] = {}
    initial: dict[str, list[str]] = {}
    states: list[str] = []
    for program, era in variants:
        markup = build_graph_machine(life, program, era, title).get_markup_config()
        states += [s["name"] for s in markup["states"] if s["name"] not in states]
        starts = initial.setdefault(str(markup["initial"]), [])
        if program not in starts:
            starts.append(program)
        for t in markup["transitions"]:
            key = (t["source"], t["dest"], t["trigger"], t.get("label", t["trigger"]))
            found.setdefault(key, set()).add((program, era))
    order = {name: i for i, name in enumerate(states)}
    edges = sorted(
        (
            _Edge(src, dest, action, label, frozenset(v))
            for (src, dest, action, label), v in found.items()
        ),
        key=lambda e: (order[e.source], order[e.dest], e.action, e.label),
    )
    return _Drawn(tuple(states), {s: tuple(p) for s, p in initial.items()}, tuple(edges))


def _composite(
    prefix: str,
    title: str,
    life: LifecycleDef,
    drawn: _Drawn,
    everywhere: Sequence[Variant],
    policy: Policy | None,
    classes: dict[str, str],
) -> list[str]:
    ids = _state_ids(prefix, drawn.states)
    loads = LOADS[policy.order_status] if policy and prefix == "houzz" else frozenset()
    starred = _starred_actions(life, policy) if prefix == "houzz" else frozenset()
    reached = _reached(drawn)
    lines = [f'  state "{_text(title)}" as {prefix} {{']
    for name in drawn.states:
        state = life.states[name]
        # Later kinds win: one class per state, and the label says what the colour means.
        kind, note = "", ""
        # Drawn for the register's default answers, or the ones the policy pins.
        facts = policy.pins if policy else ()
        hidden_in = [
            e
            for e in state.hidden_in_eras
            if (policy is None or e == policy.era) and state.hidden(e, facts)
        ]
        if state.terminal:
            kind = "terminal"
        if hidden_in:
            kind = "hidden"
            note = " · hidden by Houzz" + ("" if policy else f" in {', '.join(hidden_in)}")
        if prefix == "cartrover" and name == HELD:
            kind = "held"
        # Only a policy narrows the drawing to one program and era, where a status can be
        # out of reach (a Vendor order is never New): loading it would wait forever.
        if policy is not None and name not in reached:
            kind, note = "unreached", " · never reached"
        star = ""
        if name in loads:
            kind, star = "loads", f"{STAR} "
        label = f"{star}{state.label}{note}"
        if kind:
            classes[ids[name]] = kind
        lines.append(f'    state "{_text(label)}" as {ids[name]}')
    for start, programs in drawn.initial.items():
        everyone = len(drawn.initial) == 1
        lines.append(f"    [*] --> {ids[start]}" + ("" if everyone else f": {', '.join(programs)}"))
    for edge in drawn.edges:
        label = edge.label
        if edge.action in starred:
            label = f"{STAR} {label}"
        if edge.variants != frozenset(everywhere):
            label += f" [{_variant_tag(edge.variants, everywhere)}]"
        if policy and not policy.cancel_download and edge.action in CANCEL_DOWNLOAD_ACTIONS:
            label += " (off: Order Cancel Download)"
        lines.append(f"    {ids[edge.source]} --> {ids[edge.dest]}: {_text(label)}")
    lines.append("  }")
    return lines


def _reached(drawn: _Drawn) -> set[str]:
    seen = set(drawn.initial)
    todo = list(seen)
    while todo:
        here = todo.pop()
        for edge in drawn.edges:
            if edge.source == here and edge.dest not in seen:
                seen.add(edge.dest)
                todo.append(edge.dest)
    return seen


def _starred_actions(life: LifecycleDef, policy: Policy | None) -> frozenset[str]:
    """The Houzz actions CartRover calls under the policy (its Mark steps and the Ship)."""
    if policy is None:
        return frozenset()
    table = compile_lifecycle(life, policy.account, policy.era)
    wanted = (*mark_steps(policy), CONFIRM_ACTION)
    return frozenset(
        action
        for action in wanted
        if any(a == action and CONNECTOR in move.actors for (_, a), move in table.moves.items())
    )


def _state_ids(prefix: str, states: Iterable[str]) -> dict[str, str]:
    ids: dict[str, str] = {}
    for name in states:
        base = f"{prefix}_{re.sub(r'[^A-Za-z0-9_]', '_', name)}"
        ident, n = base, 1
        while ident in ids.values():  # two names that differ only in punctuation
            n += 1
            ident = f"{base}_{n}"
        ids[name] = ident
    return ids


def _variant_tag(variants: frozenset[Variant], everywhere: Sequence[Variant]) -> str:
    """``seller 2021`` for an edge drawn only in some programs or eras."""
    programs = list(dict.fromkeys(p for p, _ in everywhere))
    eras = list(dict.fromkeys(e for _, e in everywhere))
    has_p = [p for p in programs if any(v[0] == p for v in variants)]
    has_e = [e for e in eras if any(v[1] == e for v in variants)]
    if {(p, e) for p in has_p for e in has_e} == variants:  # whole programs and/or eras
        parts = [" / ".join(has_p)] if len(has_p) < len(programs) else []
        parts += [" / ".join(has_e)] if len(has_e) < len(eras) else []
        return " ".join(parts)
    return ", ".join(f"{p} {e}" for p, e in everywhere if (p, e) in variants)


def _legend(used: Sequence[str], policy: Policy | None, *, tagged: bool) -> list[str]:
    lines = ["Legend", "edge label: action · who may perform it"]
    if tagged:
        lines.append("[seller 2021]: only in that program / era")
    if policy is not None:
        lines.append(f"{STAR}: CartRover loads this status / calls this action")
    lines += [STYLES[kind][1] for kind in used]
    return lines


def _policy_summary(policy: Policy, machine: MachineDef, reached: set[str]) -> list[str]:
    def on(flag: bool) -> str:
        return "on" if flag else "off"

    lines = [
        "This policy",
        f"Connection Type: {PROGRAM_NAMES[policy.connection_type]}"
        + ("" if policy.account == policy.connection_type else " (wrong for this account)"),
        f"account: {PROGRAM_NAMES[policy.account]}, {_era_words(policy.era)}",
        f"Order Status: {STATUS_NAMES[policy.order_status]}",
        f"Mark Orders as Processed: {on(policy.mark_processed)}",
        f"Mark Orders as Charged: {on(policy.mark_charged)}",
        f"Order Cancel Download: {on(policy.cancel_download)}",
        f"polls every {format_duration(policy.poll_interval)}",
        f"staff by hand: process {policy.staff_process}, charge {policy.staff_charge}, "
        f"cancel {policy.staff_cancel}",
    ]
    table = compile_lifecycle(machine.houzz, policy.account, policy.era)
    loads = LOADS[policy.order_status]
    for state in (s for s in table.states if s in loads):
        if state in reached:
            lines.append(_after_loading(table, state, mark_steps(policy)))
        else:
            lines.append(f"{STAR} loads {table.labels[state]}: no order is ever in it here")
    return lines


def _after_loading(table: Table, state: str, steps: tuple[str, ...]) -> str:
    """What CartRover's Mark steps do to an order it loads in ``state``."""
    here = f"{STAR} loaded in {table.labels[state]}"
    outcome = apply_marks(table, state, steps)
    if outcome.rejection is not None:
        refused = outcome.rejection
        return f"{here}: Houzz refuses {refused.action} ({refused.reason}), held in {HELD}"
    if not steps:
        return f"{here}: no Mark step"
    return f"{here}: {', '.join(steps)}, now {table.labels[outcome.state]}"


def _era_words(era: str) -> str:
    return "legacy era" if era == "legacy" else f"{era} era"


def _note(anchor: str, side: str, lines: Sequence[str]) -> list[str]:
    return [f"  note {side} of {anchor}", *(f"    {_text(line)}" for line in lines), "  end note"]


def _text(text: str) -> str:
    # Checked in Mermaid's renderer: a double quote ends a state label, ';' ends a statement
    # (the rest of an edge label would become stray states), and <...> is read as HTML.
    text = " ".join(text.split())
    for bad, good in (('"', "'"), (";", ","), ("<", "\u2039"), (">", "\u203a")):
        text = text.replace(bad, good)
    return text
