"""The explorer's world: states, events, and what each event does to them.

An ``Order`` is one order's state (Houzz's status, CartRover's, the warehouse's, a write a
fault interrupted), a ``State`` the sorted tuple of them; ``successors`` lists the events
enabled in a state and ``apply`` makes one happen. The world of each order (placement, the
customer's cancel window, Houzz's own moves, staff habits) comes from
``houzzflow.engine.order_paths``; CartRover's behaviour from ``houzzflow.engine.decisions``,
``houzzflow.engine.recovery`` and the compiled tables, the same pure functions the
simulated connector uses. ``quiescent_violation`` checks the liveness invariants.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple, Protocol

from houzzflow.engine.decisions import (
    Decision,
    apply_marks,
    decide,
    hold_reason,
    mark_steps,
    step_target,
)
from houzzflow.engine.order_paths import WINDOW_CLOSES, Step, steps_from
from houzzflow.engine.policy import Policy
from houzzflow.engine.recovery import SEND, Resume, resume, warehouse_answer
from houzzflow.engine.table import Rejection, Table, houzz_table
from houzzflow.engine.timing import lapse_possible


class Order(NamedTuple):
    """One order's state. Field order matters: states sort by it."""

    houzz: str  # Houzz status
    window: bool  # the customer's cancel window is still open
    dirty: bool  # modified since CartRover's last poll saw it
    connector: str  # CartRover status ("" = not loaded)
    backend: str  # "" | received | shipped | cancelled
    skipped: str  # "" | skip | design
    pending: str  # a write to retry after a fault: "Process", "Charge", "Send", ...
    expect: str  # for a lost reply: the Houzz status the write would have produced


class State(NamedTuple):
    orders: tuple[Order, ...]
    unplaced: int
    faults: int  # faults left in the budget


class Event(NamedTuple):
    kind: str  # place | world | ship | confirm | poll
    order: int  # which order (in the sorted state before it); -1 for place/poll
    action: str = ""
    actor: str = ""
    fault: tuple[int, str, str] | None = None  # (order index, write, transient|lost)


@dataclass(frozen=True, slots=True)
class Bounds:
    """What the exploration covers; a bound that cuts it short makes the verdict inconclusive."""

    orders: int = 2
    faults: int = 1
    lapse: bool = False  # also explore the 7-day authorization lapse (warehouse too slow)
    max_states: int = 400_000

    def describe(self) -> str:
        parts = [f"{self.orders} order{'s' if self.orders != 1 else ''}"]
        parts.append(f"up to {self.faults} API fault{'s' if self.faults != 1 else ''}")
        if self.lapse:
            parts.append("authorization lapses")
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Violation:
    invariant: str  # a key of houzzflow.simulator.runs.invariants.INVARIANTS
    order: int  # index into the state's orders
    message: str


class World:
    """The policy's world, precomputed for fast successor generation."""

    def __init__(self, policy: Policy, bounds: Bounds) -> None:
        self.policy = policy
        self.bounds = bounds
        self.table: Table = houzz_table(policy.account, policy.era)
        # Polls or a warehouse slow enough let an authorization lapse before CartRover is
        # done with the order (engine.timing): explore lapses then.
        self.lapse = bounds.lapse or lapse_possible(policy, faults=bounds.faults)
        self.connected = policy.connection_type == policy.account
        self.steps = mark_steps(policy)
        self.writes = (*self.steps, SEND)
        # The Houzz status each of CartRover's Houzz writes leads to, for re-reads.
        self.targets = {step: step_target(self.table, step) for step in (*self.steps, "Ship")}

    def visible(self, houzz: str) -> bool:
        return houzz not in self.table.hidden

    @cache  # noqa: B019 - one World per exploration; the cache dies with it
    def world_steps(self, houzz: str, window: bool) -> tuple[Step, ...]:
        out = list(steps_from(self.table, self.policy, houzz, window))
        if self.lapse:
            for (src, action), move in self.table.moves.items():
                if src == houzz and move.happens == "late":
                    out.append(Step(action, "houzz", move.dest, window, False))
        return tuple(out)


def initial_state(world: World) -> State:
    return State((), world.bounds.orders, world.bounds.faults)


def successors(world: World, state: State) -> Iterator[tuple[Event, bool]]:
    """(event, mandatory) for every event enabled in ``state``."""
    if state.unplaced:
        yield Event("place", -1), True
    seen: set[Order] = set()
    needs_poll = False
    for i, o in enumerate(state.orders):
        if world.visible(o.houzz) and (o.dirty or o.pending):
            needs_poll = True
        if o in seen:
            continue  # symmetry: identical orders have identical futures
        seen.add(o)
        for step in world.world_steps(o.houzz, o.window):
            yield Event("world", i, step.action, step.actor), step.mandatory
        if o.backend == "received":
            yield Event("ship", i), True
        if o.connector == "Shipped":
            yield Event("confirm", i), True
            if state.faults:
                yield Event("confirm", i, fault=(i, "Ship", "transient")), False
                yield Event("confirm", i, fault=(i, "Ship", "lost")), False
    if needs_poll and world.connected:
        yield Event("poll", -1), True
        if state.faults:
            for i, o in enumerate(state.orders):
                if world.visible(o.houzz) and (o.dirty or o.pending):
                    for write in world.writes:
                        for kind in ("transient", "lost"):
                            yield Event("poll", -1, fault=(i, write, kind)), False


class Narration(Protocol):
    """Hears what ``apply`` does, in plain words (``narration.Narrator`` is the one used)."""

    def say(self, kind: str, order: int, text: str) -> None: ...

    def poll(self) -> None:
        """CartRover polls: the lines that follow are what the poll did."""
        ...

    def world(self, order: int, actor: str, action: str, before: str, after: str) -> None:
        """Someone other than CartRover moved the order in Houzz from ``before`` to ``after``."""
        ...


def apply(
    world: World, state: State, event: Event, narrator: Narration | None = None
) -> tuple[list[Order], int, int, Violation | None, bool]:
    """The orders after ``event`` (unsorted, same positions; a placed order is appended).

    Returns (orders, unplaced, faults left, violation, fault used).
    """
    orders = list(state.orders)
    unplaced, faults = state.unplaced, state.faults
    table = world.table
    label = table.labels
    if event.kind == "place":
        start = table.initial
        orders.append(Order(start, True, True, "", "", "", "", ""))
        if narrator:
            narrator.say(
                "place", len(orders) - 1, f"the customer placed it (Houzz: {label[start]})"
            )
        return orders, unplaced - 1, faults, None, False
    if event.kind == "world":
        o = orders[event.order]
        if event.action == WINDOW_CLOSES:
            orders[event.order] = o._replace(window=False)
            if narrator:
                narrator.say("world", event.order, "30 minutes passed: the cancel window closed")
            return orders, unplaced, faults, None, False
        dest = table.step(o.houzz, event.action, event.actor)
        assert not isinstance(dest, Rejection), dest
        orders[event.order] = o._replace(houzz=dest, dirty=True)
        if narrator:
            narrator.world(event.order, event.actor, event.action, label[o.houzz], label[dest])
        return orders, unplaced, faults, None, False
    if event.kind == "ship":
        o = orders[event.order]
        # CartRover learns the tracking only for an order it knows is at the warehouse; one
        # whose send reply was lost learns it when it re-checks the warehouse.
        known = "Shipped" if o.connector == "AtWMS" else o.connector
        orders[event.order] = o._replace(backend="shipped", connector=known)
        if narrator:
            narrator.say("ship", event.order, "the warehouse shipped it and reported tracking")
        if o.houzz == "Cancelled":
            if o.dirty:  # shipped before CartRover's next poll could see the cancellation
                return orders, unplaced, faults, None, False
            return orders, unplaced, faults, _cancelled_shipped(event.order), False
        if o.houzz != "Charged":
            why = f"it is {label[o.houzz]} in Houzz: its authorization lapsed"
            return orders, unplaced, faults, Violation("unpaid_shipped", event.order, why), False
        return orders, unplaced, faults, None, False
    if event.kind == "confirm":
        used = _confirm(world, orders, event, narrator)
        return orders, unplaced, faults - used, None, used
    violation, used = _poll(world, orders, event, narrator)
    return orders, unplaced, faults - used, violation, used


def _cancelled_shipped(index: int) -> Violation:
    """An order the warehouse shipped although CartRover had polled since its cancellation."""
    return Violation(
        "cancelled_shipped",
        index,
        "the warehouse shipped it although it was cancelled in Houzz and CartRover had "
        "polled since (Order Cancel Download is off)",
    )


def _confirm(world: World, orders: list[Order], event: Event, narrator: Narration | None) -> bool:
    """CartRover posts a shipment's tracking to Houzz; True when a fault hit the call."""
    o = orders[event.order]
    kind = event.fault[2] if event.fault else ""
    if kind == "transient":
        if narrator:
            narrator.say("fault", event.order, "CartRover's Ship call failed (transient error)")
        return True
    if resume(world.table, "Ship", o.houzz, world.targets["Ship"]) is Resume.DONE:
        # A lost reply earlier: the re-read shows it took effect.
        orders[event.order] = o._replace(connector="Confirmed")
        return False
    result = world.table.step(o.houzz, "Ship", "connector")
    if isinstance(result, Rejection):
        orders[event.order] = o._replace(connector="Error")
        if narrator:
            narrator.say(
                "connector",
                event.order,
                f"CartRover posted the tracking; Houzz refused Ship ({result.reason}): "
                "held in Error",
            )
        return False
    if kind == "lost":
        orders[event.order] = o._replace(houzz=result)
        if narrator:
            narrator.say(
                "fault", event.order, "CartRover's Ship call took effect, its reply was lost"
            )
        return True
    orders[event.order] = o._replace(houzz=result, connector="Confirmed")
    if narrator:
        narrator.say("connector", event.order, "CartRover posted the tracking: Shipped in Houzz")
    return False


def _poll(
    world: World, orders: list[Order], event: Event, narrator: Narration | None
) -> tuple[Violation | None, bool]:
    """CartRover polls: each order it sees, in place; (the first violation, fault used)."""
    fault = event.fault
    used = False
    if narrator:
        narrator.poll()
    for i, o in enumerate(orders):
        if not (world.visible(o.houzz) and (o.dirty or o.pending)):
            continue
        fault_here = fault[1:] if fault and fault[0] == i else None
        words: list[str] = []
        o, violation, hit = poll_one(world, o, fault_here, words)
        used = used or hit
        orders[i] = o
        if narrator and words:
            narrator.say("connector", i, "CartRover " + "; ".join(words))
        if violation:
            return Violation(violation[0], i, violation[1]), used
    return None, used


def poll_one(
    world: World, o: Order, fault: tuple[str, str] | None, words: list[str]
) -> tuple[Order, tuple[str, str] | None, bool]:
    """What one poll does to one order it sees; ``fault`` = (write, transient|lost)."""
    label = world.table.labels
    violation = None
    hit = False
    if o.pending:
        o, violation, hit = _resume(world, o, fault, words)
    else:
        seen = decide(world.policy, o.houzz, o.connector or None, before_earliest=False)
        if seen.decision is Decision.LOAD:
            words.append(f"loaded it ({label[o.houzz]})")
            o, violation, hit = _pipeline(world, o, 0, fault, words)
        elif seen.decision is Decision.SKIP:
            o = o._replace(skipped="skip")
            words.append(f"skipped it: {seen.reason}")
        elif seen.decision is Decision.CANCEL_UNSENT:
            o = o._replace(connector="CancelSending")
            words.append("saw it cancelled before sending: Cancel Sending")
        elif seen.decision is Decision.CANCEL_AT_BACKEND and o.backend == "received":
            o = o._replace(backend="cancelled", connector="Canceled")
            words.append("saw it cancelled: the warehouse cancelled it")
    return o._replace(dirty=False), violation, hit


def _pipeline(
    world: World,
    o: Order,
    start: int,
    fault: tuple[str, str] | None,
    words: list[str],
    resumed: bool = False,
) -> tuple[Order, tuple[str, str] | None, bool]:
    """Run the Mark steps from ``start``, then send; a fault may interrupt one write.

    In a pipeline resumed after a fault every step goes through ``recovery.resume`` first,
    so the steps the re-read shows done are skipped, not refused.
    """
    label = world.table.labels
    steps = world.steps
    for k in range(start, len(steps)):
        step = steps[k]
        if resumed and resume(world.table, step, o.houzz, world.targets[step]) is Resume.DONE:
            continue
        if fault and fault[0] == step:
            result = world.table.step(o.houzz, step, "connector")
            target = "" if isinstance(result, Rejection) else result
            if fault[1] == "transient":
                # The retry re-reads the order first: whoever made the step happen meanwhile,
                # the status it wanted is there.
                words.append(f"its {step} call failed (transient error); it will retry")
                return o._replace(connector="New", pending=step, expect=target), None, True
            if target:
                words.append(f"its {step} call took effect but the reply was lost")
                return (
                    o._replace(houzz=target, connector="New", pending=step, expect=target),
                    None,
                    True,
                )
        outcome = apply_marks(world.table, o.houzz, (step,))
        if outcome.rejection is not None:
            words.append(hold_reason(outcome.rejection) + "; the order is held in Error")
            return o._replace(connector="Error", pending="", expect=""), None, False
        words.append(f"{step} accepted ({label[outcome.state]})")
        o = o._replace(houzz=outcome.state)
    return _send(world, o, fault, words)


def _send(
    world: World, o: Order, fault: tuple[str, str] | None, words: list[str]
) -> tuple[Order, tuple[str, str] | None, bool]:
    label = world.table.labels
    violation = None
    if o.houzz != "Charged":
        violation = (
            "unpaid_shipped",
            f"CartRover sent it to the warehouse while it was {label[o.houzz]} in Houzz, "
            "not Charged",
        )
    if fault and fault[0] == SEND:
        if fault[1] == "transient":
            words.append("sending it to the warehouse failed (transient error); it will retry")
            return o._replace(connector="New", pending=SEND, expect=""), None, True
        words.append("the warehouse received it but the reply was lost")
        return o._replace(connector="New", backend="received", pending=SEND), violation, True
    words.append("sent it to the warehouse (At WMS)")
    return (
        o._replace(connector="AtWMS", backend="received", pending="", expect=""),
        violation,
        False,
    )


def _resume(
    world: World, o: Order, fault: tuple[str, str] | None, words: list[str]
) -> tuple[Order, tuple[str, str] | None, bool]:
    """Pick up the write a fault interrupted, as ``recovery.resume`` says after the re-read."""
    seen = decide(world.policy, o.houzz, o.connector, before_earliest=False)
    cancelled = seen.decision is Decision.CANCEL_UNSENT
    then = resume(
        world.table, o.pending, o.houzz, o.expect, cancelled=cancelled, send_unknown=bool(o.backend)
    )
    if then is Resume.ASK_WAREHOUSE:
        # Here a send whose reply was lost always got through, so the warehouse has it.
        then = warehouse_answer(bool(o.backend), cancelled=cancelled)
        words.append("checked the warehouse: it already had the order")
        o = o._replace(pending="", expect="")
        if o.backend == "shipped":
            return o._replace(connector="Shipped"), None, False
        if then is Resume.CANCEL_AT_BACKEND:
            words.append("saw it cancelled: the warehouse cancelled it")
            return o._replace(connector="Canceled", backend="cancelled"), None, False
        return o._replace(connector="AtWMS"), None, False
    if then is Resume.CANCEL_UNSENT:
        words.append("saw it cancelled before sending: Cancel Sending")
        return o._replace(connector="CancelSending", pending="", expect=""), None, False
    if o.pending == SEND:
        return _send(world, o, fault, words)
    k = world.steps.index(o.pending)
    if then is Resume.DONE:
        words.append(f"re-read the order: it is already {world.table.labels[o.houzz]}")
        return _pipeline(world, o._replace(pending="", expect=""), k + 1, fault, words, True)
    words.append(f"retried {o.pending}")
    return _pipeline(world, o._replace(pending="", expect=""), k, fault, words, True)


def quiescent_violation(world: World, state: State) -> Violation | None:
    """Liveness: in a state where nothing must happen any more, is every order accounted for?"""
    label = world.table.labels
    for i, o in enumerate(state.orders):
        if o.houzz == "Cancelled" or not world.visible(o.houzz) or o.skipped == "design":
            continue
        if o.backend == "shipped" and o.houzz != "Shipped":
            return Violation(
                "unconfirmed",
                i,
                f"the warehouse shipped it but it is {label[o.houzz]} in Houzz: the shipment "
                "confirmation never went through",
            )
        if o.backend:
            continue
        if o.connector == "Error":
            return Violation("lost", i, "it never reached the warehouse: held in Error")
        if not o.connector and not o.skipped:
            return Violation(
                "unaccounted",
                i,
                "CartRover never saw it: it is neither loaded nor in the skipped log",
            )
        return Violation(
            "lost",
            i,
            f"it never reached the warehouse: it stays {label[o.houzz]} in Houzz and "
            "CartRover skipped it",
        )
    return None
