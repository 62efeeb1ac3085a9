"""The Mermaid diagram: what someone looking at it would notice missing, wrong or unstable.

The text is parsed back here (states, edges, classes, notes) and checked against the machine
definition; that it really renders was checked once in Mermaid's own renderer (headless
Chromium), which showed that a double quote or a ';' in a label breaks the diagram.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from houzzflow.engine.decisions import mark_steps
from houzzflow.engine.diagram import STAR, render_mermaid
from houzzflow.engine.machine import ERAS, PROGRAMS, MachineDef, default_machine
from houzzflow.engine.policy import LOADS, Policy, PolicyFile, resolve
from houzzflow.engine.reference import build_graph_machine

MACHINE = default_machine()
PREFIX = {"houzz": "houzz", "connector": "cartrover"}
EDGE = re.compile(r"^ {4}(\w+) --> (\w+): (\S.*)$")
START = re.compile(r"^ {4}\[\*\] --> (\w+)(?:: (\S.*))?$")
STATE = re.compile(r'^ {4}state "([^"]+)" as (\w+)$')
COMPOSITE = re.compile(r'^ {2}state "([^"]+)" as (\w+) \{$')


@dataclass
class Diagram:
    """A rendered diagram read back into its parts; parsing fails on any unknown line."""

    title: str = ""
    composites: dict[str, str] = field(default_factory=dict)  # id -> title
    states: dict[str, str] = field(default_factory=dict)  # id -> label
    parent: dict[str, str] = field(default_factory=dict)  # state id -> composite id
    starts: list[tuple[str, str]] = field(default_factory=list)
    edges: list[tuple[str, str, str]] = field(default_factory=list)
    class_defs: dict[str, str] = field(default_factory=dict)
    classes: dict[str, str] = field(default_factory=dict)  # state id -> class
    notes: list[list[str]] = field(default_factory=list)

    def edge_labels(self, source: str, dest: str) -> list[str]:
        return [label for s, d, label in self.edges if (s, d) == (source, dest)]


def parse(text: str) -> Diagram:
    lines = text.splitlines()
    assert text.endswith("\n")
    assert lines[:1] == ["---"] and lines[2:4] == ["---", "stateDiagram-v2"], lines[:4]
    assert lines[1].startswith("title: ")
    diagram = Diagram(title=lines[1].removeprefix("title: "))
    inside: str | None = None
    note: list[str] | None = None
    for line in lines[4:]:
        if note is not None:
            if line == "  end note":
                diagram.notes.append(note)
                note = None
            else:
                assert line.startswith("    "), line
                note.append(line.strip())
        elif line == "  direction TB":
            pass
        elif m := COMPOSITE.match(line):
            assert inside is None, "composite states are not nested"
            inside = m.group(2)
            diagram.composites[inside] = m.group(1)
        elif line == "  }":
            assert inside is not None, "a '}' closes no composite state"
            inside = None
        elif m := STATE.match(line):
            assert inside is not None, line
            assert m.group(2) not in diagram.states, f"state id {m.group(2)} declared twice"
            diagram.states[m.group(2)] = m.group(1)
            diagram.parent[m.group(2)] = inside
        elif m := START.match(line):
            assert inside is not None, line
            diagram.starts.append((m.group(1), m.group(2) or ""))
        elif m := EDGE.match(line):
            assert inside is not None, line
            source, dest, label = m.groups()
            assert diagram.parent.get(source) == inside == diagram.parent.get(dest), line
            diagram.edges.append((source, dest, label))
        elif m := re.match(r"^ {2}classDef (\w+) (\S+(?: \S+)*)$", line):
            diagram.class_defs[m.group(1)] = m.group(2)
        elif m := re.match(r"^ {2}class (\w+) (\w+)$", line):
            assert m.group(1) in diagram.states and m.group(2) in diagram.class_defs, line
            diagram.classes[m.group(1)] = m.group(2)
        elif re.match(r"^ {2}note (left|right) of (houzz|cartrover)$", line):
            note = []
        else:
            raise AssertionError(f"line Mermaid would not read as intended: {line!r}")
    assert inside is None, "a composite state is never closed"
    assert note is None, "a note is never closed"
    for label in [*diagram.states.values(), *(e[2] for e in diagram.edges)]:
        assert '"' not in label and ";" not in label, label
    return diagram


def policy(**settings: Any) -> Policy:
    return resolve(PolicyFile.model_validate(settings))


def state_id(part: str, name: str) -> str:
    return f"{PREFIX[part]}_{name}"


def transitions_in(part: str, program: str, era: str) -> list[tuple[str, str, str, str]]:
    """(source id, dest id, action, actors) of every transition in one program and era."""
    return [
        (state_id(part, src), state_id(part, t.dest), t.action, ", ".join(t.actors))
        for t in getattr(MACHINE, part).transitions
        if t.applies(program, era)
        for src in t.source
    ]


def has_edge(diagram: Diagram, source: str, dest: str, action: str) -> bool:
    return any(
        label.removeprefix(f"{STAR} ").startswith(f"{action} · ")
        for label in diagram.edge_labels(source, dest)
    )


ALL = parse(render_mermaid())
LEGACY_DEFAULT = policy(connection_type="seller", assume={"era": "legacy"})
SELLER_2021 = policy(connection_type="seller")
VENDOR = policy(connection_type="vendor")


def test_both_lifecycles_are_composite_states_with_every_declared_status() -> None:
    assert ALL.composites == {
        "houzz": "Houzz order status",
        "cartrover": "CartRover order status",
    }
    for part in ("houzz", "connector"):
        for name, state in getattr(MACHINE, part).states.items():
            sid = state_id(part, name)
            assert ALL.parent[sid] == PREFIX[part]
            assert ALL.states[sid].startswith(state.label)
    assert ALL.states["houzz_InProduction"] == "In Production"
    assert ALL.states["cartrover_AtWMS"] == "At WMS"


def test_every_transition_of_every_program_and_era_is_drawn_with_its_actors() -> None:
    for part in ("houzz", "connector"):
        for program in PROGRAMS:
            for era in ERAS:
                for source, dest, action, actors in transitions_in(part, program, era):
                    labels = ALL.edge_labels(source, dest)
                    assert any(lb.startswith(f"{action} · {actors}") for lb in labels), (
                        source,
                        dest,
                        action,
                    )


def test_program_and_era_specific_transitions_are_tagged() -> None:
    assert ALL.edge_labels("houzz_New", "houzz_Charged") == ["AutoCharge · houzz [seller 2021]"]
    assert ALL.edge_labels("houzz_New", "houzz_InProduction") == [
        "Process · staff, connector [seller legacy]"
    ]
    # Everywhere means no tag at all.
    assert ALL.edge_labels("houzz_Charged", "houzz_Shipped") == ["Ship · connector, staff"]
    assert ALL.edge_labels("cartrover_New", "cartrover_AtWMS") == ["Send · connector"]


def test_each_program_starts_where_it_should() -> None:
    assert sorted(ALL.starts) == [
        ("cartrover_New", ""),
        ("houzz_Charged", "vendor"),
        ("houzz_New", "seller"),
    ]


def test_states_are_coloured_by_kind_with_a_legend() -> None:
    assert ALL.classes["houzz_Shipped"] == "terminal"
    assert ALL.classes["houzz_Cancelled"] == "terminal"
    assert ALL.classes["cartrover_Confirmed"] == "terminal"
    assert ALL.classes["cartrover_Error"] == "held"
    assert ALL.classes["houzz_FailedToCharge"] == "hidden"
    assert "2021" in ALL.states["houzz_FailedToCharge"]
    assert "houzz_New" not in ALL.classes
    assert "loads" not in ALL.class_defs  # nothing is loaded without a policy
    (legend,) = ALL.notes
    assert legend[0] == "Legend"
    assert any("[seller 2021]" in line for line in legend)
    assert len([line for line in legend if line.startswith(("red", "grey", "yellow"))]) == 3


@pytest.mark.parametrize(
    "chosen", [LEGACY_DEFAULT, SELLER_2021, VENDOR], ids=["legacy", "2021", "vendor"]
)
def test_a_policy_draws_only_its_program_and_era(chosen: Policy) -> None:
    diagram = parse(render_mermaid(chosen))
    program, era = chosen.account, chosen.era
    drawn = {(s, d, a) for s, d, a, _ in transitions_in("houzz", program, era)}
    for part in ("houzz", "connector"):
        for source, dest, action, actors in transitions_in(part, program, era):
            labels = diagram.edge_labels(source, dest)
            assert any(f"{action} · {actors}" in lb for lb in labels), (source, dest, action)
    for other_program in PROGRAMS:
        for other_era in ERAS:
            for source, dest, action, _ in transitions_in("houzz", other_program, other_era):
                if (source, dest, action) not in drawn:
                    assert not has_edge(diagram, source, dest, action), (source, dest, action)
    assert all("[" not in label for _, _, label in diagram.edges)  # nothing left to tag
    assert len(diagram.states) == len(MACHINE.houzz.states) + len(MACHINE.connector.states)


def test_a_policy_highlights_the_statuses_it_loads_and_the_steps_it_calls() -> None:
    diagram = parse(render_mermaid(LEGACY_DEFAULT))
    loaded = {state_id("houzz", s) for s in LOADS[LEGACY_DEFAULT.order_status]}
    assert loaded == {"houzz_New", "houzz_InProduction"}
    assert {sid for sid, kind in diagram.classes.items() if kind == "loads"} == loaded
    for sid in loaded:
        assert diagram.states[sid].startswith(STAR)
    assert not diagram.states["houzz_Charged"].startswith(STAR)
    assert mark_steps(LEGACY_DEFAULT) == ("Process", "Charge")
    assert diagram.edge_labels("houzz_New", "houzz_InProduction") == [
        f"{STAR} Process · staff, connector"
    ]
    assert diagram.edge_labels("houzz_InProduction", "houzz_Charged") == [
        f"{STAR} Charge · staff, connector"
    ]
    # Actions CartRover never performs are not starred.
    assert diagram.edge_labels("houzz_New", "houzz_Cancelled") == [
        "Cancel · customer, staff, connector"
    ]


def test_the_policy_note_summarises_the_settings_and_where_orders_are_held() -> None:
    diagram = parse(render_mermaid(LEGACY_DEFAULT))
    summary, legend = diagram.notes
    assert legend[0] == "Legend"
    assert "Order Status: New or In Production" in summary
    assert "Mark Orders as Processed: on" in summary
    assert "Mark Orders as Charged: on" in summary
    assert "Order Cancel Download: on" in summary
    assert f"{STAR} loaded in New: Process, Charge, now Charged" in summary
    # An order staff already processed is refused by the strict Mark step and held.
    held = [line for line in summary if line.startswith(f"{STAR} loaded in In Production")]
    assert held == [
        f"{STAR} loaded in In Production: Houzz refuses Process "
        "(order is In Production, Process needs New), held in Error"
    ]


def test_a_mark_step_turned_off_is_not_starred() -> None:
    manual_process = policy(
        connection_type="seller",
        order_status="in_production",
        mark_processed=False,
        assume={"era": "legacy", "staff": {"process": "always"}},
    )
    diagram = parse(render_mermaid(manual_process))
    assert diagram.edge_labels("houzz_New", "houzz_InProduction") == ["Process · staff, connector"]
    assert diagram.edge_labels("houzz_InProduction", "houzz_Charged") == [
        f"{STAR} Charge · staff, connector"
    ]
    assert diagram.classes["houzz_InProduction"] == "loads"
    assert diagram.classes.get("houzz_New") is None
    (summary, _) = diagram.notes
    assert "Mark Orders as Processed: off" in summary
    assert "staff by hand: process always, charge never, cancel never" in summary


def test_2021_seller_loading_new_shows_the_refused_step() -> None:
    risky = policy(connection_type="seller", order_status="new", mark_processed=True)
    diagram = parse(render_mermaid(risky))
    assert diagram.classes["houzz_New"] == "loads"
    assert diagram.classes["houzz_FailedToCharge"] == "hidden"
    assert not any(label.startswith(f"{STAR} Process") for _, _, label in diagram.edges)
    (summary, _) = diagram.notes
    assert any(
        line.startswith(f"{STAR} loaded in New: Houzz refuses Process") and "held in Error" in line
        for line in summary
    )


def test_cancel_download_off_marks_the_cancellations_cartrover_no_longer_makes() -> None:
    off = parse(render_mermaid(policy(connection_type="vendor", cancel_download=False)))
    on = parse(render_mermaid(VENDOR))
    off_label = " (off: Order Cancel Download)"
    assert off.edge_labels("cartrover_AtWMS", "cartrover_Canceled") == [
        "CancelAtBackend · backend" + off_label
    ]
    assert on.edge_labels("cartrover_AtWMS", "cartrover_Canceled") == ["CancelAtBackend · backend"]
    assert off.edge_labels("cartrover_New", "cartrover_AtWMS") == ["Send · connector"]


def test_wrong_connection_type_is_named_in_the_note() -> None:
    wrong = policy(connection_type="seller", assume={"account": "vendor"})
    diagram = parse(render_mermaid(wrong))
    (summary, _) = diagram.notes
    assert "Connection Type: Houzz Seller (wrong for this account)" in summary
    assert diagram.starts == [("houzz_Charged", ""), ("cartrover_New", "")]  # vendor's lifecycle


@pytest.mark.parametrize(("program", "era"), [(p, e) for p in PROGRAMS for e in ERAS])
def test_edges_are_the_reference_machines_edges(program: str, era: str) -> None:
    # transitions' own mermaid engine draws the same graph, less readably.
    chosen = policy(connection_type=program, assume={"era": era})
    diagram = parse(render_mermaid(chosen))
    ours = {
        (s, d, label.removeprefix(f"{STAR} ")) for s, d, label in diagram.edges if s[:5] == "houzz"
    }
    native = build_graph_machine(MACHINE.houzz, program, era, "Houzz").get_graph().draw(None)
    theirs = set()
    for line in native.splitlines():
        if m := re.match(r"^\s*(\w+) --> (\w+): (.+)$", line):
            for label in m.group(3).split(" | "):
                theirs.add((f"houzz_{m.group(1)}", f"houzz_{m.group(2)}", label))
    assert ours == theirs


def test_output_is_deterministic_across_runs_and_hash_seeds() -> None:
    assert render_mermaid() == render_mermaid()
    script = (
        "from houzzflow.engine.diagram import render_mermaid\n"
        "from houzzflow.engine.policy import PolicyFile, resolve\n"
        "p = resolve(PolicyFile.model_validate({'connection_type': 'seller',"
        " 'assume': {'era': 'legacy'}}))\n"
        "print(render_mermaid(), render_mermaid(p), sep='\\n=====\\n')\n"
    )
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", script],
            env=env,
            cwd=Path(__file__).resolve().parents[1],
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.add(done.stdout)
    assert outputs == {render_mermaid() + "\n=====\n" + render_mermaid(LEGACY_DEFAULT) + "\n"}


def test_labels_that_would_break_mermaid_are_made_safe() -> None:
    data = MACHINE.model_dump()
    data["houzz"]["states"]["InProduction"]["label"] = 'In "Production"; <b>now</b>'
    data["connector"]["transitions"][0]["action"] = "Send;Now"
    awkward = MachineDef.model_validate(data)
    diagram = parse(render_mermaid(machine=awkward))
    assert diagram.states["houzz_InProduction"] == "In 'Production', \u2039b\u203anow\u2039/b\u203a"
    assert ALL.states != diagram.states
    assert any(label.startswith("Send,Now · connector") for _, _, label in diagram.edges)


def test_a_status_the_account_never_reaches_is_shown_as_such() -> None:
    # Loss mode 2: a Vendor cart waiting for New waits forever; the picture should say so.
    vendor_new = parse(render_mermaid(policy(connection_type="vendor", order_status="new")))
    assert vendor_new.states["houzz_New"] == f"{STAR} New · never reached"
    assert vendor_new.classes["houzz_New"] == "loads"
    assert vendor_new.classes["houzz_FailedToCharge"] == "unreached"
    assert vendor_new.classes.get("houzz_InProduction") is None  # an authorization lapse
    (summary, legend) = vendor_new.notes
    assert f"{STAR} loads New: no order is ever in it here" in summary
    assert "pale: never reached in this program and era" in legend
    # Every status is reachable in the legacy Seller lifecycle.
    assert "unreached" not in parse(render_mermaid(LEGACY_DEFAULT)).classes.values()
