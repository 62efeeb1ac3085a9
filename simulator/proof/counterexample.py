"""A counterexample as a scenario file: the explorer's path, replayable by ``houzzflow run``.

The path becomes a ``world.script``: each event at its own simulated second (ten seconds
apart), except that time jumps when the explorer let the customer's 30-minute cancel window
close. Houzz's own moves, the warehouse's shipments, CartRover's polls, the faults and the
declined cards all happen exactly where the path put them, in a world that answers the open
questions as the one the counterexample was found in, so the run breaks the same invariant.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from houzzflow.engine.assumptions import default_register
from houzzflow.engine.machine import default_machine
from houzzflow.engine.order_paths import WINDOW_CLOSES
from houzzflow.engine.policy import Policy
from houzzflow.simulator.proof.explorer import Exploration, Line, World, apply, initial_state

STEP = 10  # seconds between two scripted events


def script_of(policy: Policy, exploration: Exploration) -> list[dict[str, Any]]:
    """The path as script entries, with orders numbered 1, 2, ... in placement order."""
    world = World(policy, exploration.bounds, exploration.facts)
    window = default_machine().timing.cancel_window
    state = initial_state(world)
    ids: list[int] = []
    placed_at: dict[int, int] = {}
    now = 0
    script: list[dict[str, Any]] = []
    for event in exploration.path:
        after = apply(world, state, event)
        if event.kind == "place":
            ids.append(len(ids) + 1)
        order_ids = list(ids)
        number = order_ids[event.order] if event.order >= 0 else 0
        if event.kind == "world" and event.action == WINDOW_CLOSES:
            now = max(now, placed_at[number] + window)
        else:
            now += STEP
            entry: dict[str, Any] = {"at": f"{now}s"}
            if event.kind == "place":
                number = ids[-1]
                placed_at[number] = now
                entry.update(order=number, actor="customer", action="Place")
            elif event.kind == "world":
                entry.update(order=number, actor=event.actor, action=event.action)
            elif event.kind == "ship":
                entry.update(order=number, actor="backend", action="Ship")
            elif event.kind == "confirm":
                entry.update(order=number, actor="connector", action="Confirm")
            else:
                entry.update(actor="connector", action="Poll")
            if event.fault is not None:
                index, write, kind = event.fault
                entry["fault"] = {"order": order_ids[index], "write": write, "kind": kind}
            script.append(entry)
        state, ranked = after.state()
        ids = [order_ids[k] for k in ranked]
    # One more poll that changes nothing in the model: the run then knows every order's
    # last change was seen, so what is missing is lost, not "still in flight".
    script.append({"at": f"{now + STEP}s", "actor": "connector", "action": "Poll"})
    return script


def scenario_of(
    policy: Policy, exploration: Exploration, story: list[Line] | None = None, *, name: str
) -> dict[str, Any]:
    """A scenario mapping that replays the counterexample in the world it was found in (its
    answers to the open questions as ``world.houzz`` / ``world.cartrover``) and expects its
    violation: the run passes while it reproduces, and fails once the policy is fixed."""
    script = script_of(policy, exploration)
    violation = exploration.violation
    expect: dict[str, Any] = {}
    last = int(script[-1]["at"].rstrip("s")) if script else 0
    world: dict[str, Any] = {}
    register = default_register().assumptions
    for question, answer in exploration.facts:
        world.setdefault(register[question].about, {})[question] = answer
    world["script"] = script
    scenario: dict[str, Any] = {
        "name": name,
        "description": (violation.message if violation else "no violation"),
        "seed": 0,
        "duration": f"{last + 3600}s",
        "policy": policy.to_file_dict(),
        "world": world,
    }
    if violation is not None:
        expect[violation.invariant] = ">= 1"  # what it reproduces: 0 once the policy is fixed
    scenario["expect"] = expect
    return scenario


def scenario_yaml(scenario: dict[str, Any], story: list[str], about: Sequence[str] = ()) -> str:
    """The scenario as YAML text, headed by the counterexample's story as comments, and what
    it rests on (``about``: its kind, the answers it needs)."""
    head = [
        "# A counterexample found by `houzzflow validate`; replay it with `houzzflow run`.",
        "#",
    ]
    head += [f"# {line}" for line in about]
    head += [f"#   {line}" for line in story]
    body = yaml.safe_dump(scenario, sort_keys=False, default_flow_style=None, width=100)
    return "\n".join(head) + "\n" + body
