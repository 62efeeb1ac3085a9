"""The reference machine: the lifecycle built as ``transitions`` Machines.

Used to cross-check the compiled table (a property test asserts they agree) and as the
source of Mermaid diagrams. Never used per order: see DESIGN.md on ``add_model``.
"""

from __future__ import annotations

from typing import Any

from transitions import Machine
from transitions.extensions.diagrams import GraphMachine

from houzzflow.engine.machine import LifecycleDef


def actors_label(action: str, actors: tuple[str, ...]) -> str:
    """An edge label naming the action and who may perform it: ``Process · staff, connector``."""
    return f"{action} · {', '.join(actors)}"


def _transition_specs(life: LifecycleDef, program: str, era: str) -> list[dict[str, Any]]:
    specs: list[dict[str, Any]] = []
    for t in life.transitions:
        if not t.applies(program, era):
            continue
        actors = frozenset(t.actors)
        specs.append(
            {
                "trigger": t.action,
                "source": list(t.source),
                "dest": t.dest,
                "conditions": [lambda event, actors=actors: event.kwargs.get("actor") in actors],
                # Only GraphMachine's transition class accepts a label; build_machine drops it.
                "label": actors_label(t.action, t.actors),
            }
        )
    return specs


def build_machine(life: LifecycleDef, program: str, era: str) -> Any:
    """A ``transitions`` Machine (the machine is its own model) for one program and era."""
    specs = _transition_specs(life, program, era)
    for spec in specs:
        del spec["label"]
    return Machine(
        model="self",
        states=list(life.states),
        transitions=specs,
        initial=life.initial_for(program),
        auto_transitions=False,
        send_event=True,
        ignore_invalid_triggers=True,
    )


def reference_step(machine: Any, state: str, action: str, actor: str) -> str | None:
    """The state after the action, or None when the reference machine refuses it."""
    machine.set_state(state)
    event = machine.events.get(action)
    # Checked here rather than left to ignore_invalid_triggers, which logs a warning per refusal.
    if event is None or state not in event.transitions:
        return None
    fired = machine.trigger(action, actor=actor)
    return str(machine.state) if fired else None


def build_graph_machine(life: LifecycleDef, program: str, era: str, title: str) -> Any:
    """A ``transitions`` GraphMachine with the mermaid engine (no system graphviz needed).

    Each transition's ``label`` names its action and actors; ``get_markup_config()`` gives
    the structure back as data and ``get_graph().draw(None)`` transitions' own Mermaid text.
    """
    specs = _transition_specs(life, program, era)
    for spec in specs:
        del spec["conditions"]
    return GraphMachine(
        model="self",
        states=list(life.states),
        transitions=specs,
        initial=life.initial_for(program),
        auto_transitions=False,
        graph_engine="mermaid",
        title=title,
    )
