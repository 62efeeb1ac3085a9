"""Bounded exhaustive exploration of one policy: every interleaving, for a few orders.

The world of each order (placement, the customer's cancel window, Houzz's own moves, staff
habits) comes from ``engine.order_paths``; CartRover's behaviour from ``engine.decisions``
and the compiled tables, the same pure functions the simulated connector uses. States are
plain tuples, orders are interchangeable (a state holds its orders sorted), and the search
is breadth first, so the first violation found has a shortest path.

Safety invariants are checked on every transition; "nothing lost", "confirmed" and
"accounted" are checked in every *quiescent* state, one where nothing that must happen is
left to happen (only optional moves remain, which may never come).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, NamedTuple

from houzzflow.engine.decisions import (
    Decision,
    apply_marks,
    decide,
    hold_reason,
    mark_steps,
    reached,
    step_target,
)
from houzzflow.engine.machine import default_machine
from houzzflow.engine.order_paths import WINDOW_CLOSES, Step, steps_from
from houzzflow.engine.policy import Policy
from houzzflow.engine.table import Rejection, Table, houzz_table


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


@dataclass(slots=True)
class Exploration:
    verdict: str  # proven | counterexample | inconclusive
    bounds: Bounds
    states: int
    transitions: int
    depth: int
    violation: Violation | None = None
    path: list[Event] = field(default_factory=list)
    cut_by: str = ""


NO_ORDER_FLAGS = ("", False, False, "", "", "", "", "")


class World:
    """The policy's world, precomputed for fast successor generation."""

    def __init__(self, policy: Policy, bounds: Bounds) -> None:
        self.policy = policy
        self.bounds = bounds
        self.table: Table = houzz_table(policy.account, policy.era)
        # A poll slower than an authorization lets charged orders lapse before loading.
        self.lapse = bounds.lapse or policy.poll_interval >= default_machine().timing.authorization
        self.connected = policy.connection_type == policy.account
        self.steps = mark_steps(policy)
        self.writes = (*self.steps, "Send")

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


class Narrator:
    """Collects the plain-language account of a replayed path."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, int, str]] = []  # (kind, order index, text)
        self.polls = 0

    def say(self, kind: str, order: int, text: str) -> None:
        self.lines.append((kind, order, text))


def apply(
    world: World, state: State, event: Event, narrator: Narrator | None = None
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
            narrator.say("world", event.order, _world_words(event, label[o.houzz], label[dest]))
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
        return _confirm(world, orders, unplaced, faults, event, narrator)
    return _poll(world, orders, unplaced, faults, event, narrator)


def _world_words(event: Event, before: str, after: str) -> str:
    who = {"staff": "staff", "customer": "the customer", "houzz": "Houzz"}[event.actor]
    verbs = {
        "Process": "processed it by hand in Houzz",
        "Charge": "charged it by hand in Houzz",
        "Cancel": "cancelled it in Houzz",
        "AutoCharge": "charged it by itself, 30 minutes after placement",
        "ChargeFails": "failed to charge it and held it back",
        "PaymentFixed": "fixed the payment",
        "AuthorizationLapse": "let its 7-day authorization lapse",
    }
    what = verbs.get(event.action, event.action)
    return f"{who} {what} ({before} -> {after})"


def _cancelled_shipped(index: int) -> Violation:
    return Violation(
        "cancelled_shipped",
        index,
        "the warehouse shipped it although it was cancelled in Houzz and CartRover had "
        "polled since (Order Cancel Download is off)",
    )


def _confirm(
    world: World,
    orders: list[Order],
    unplaced: int,
    faults: int,
    event: Event,
    narrator: Narrator | None,
) -> tuple[list[Order], int, int, Violation | None, bool]:
    o = orders[event.order]
    kind = event.fault[2] if event.fault else ""
    if kind == "transient":
        if narrator:
            narrator.say("fault", event.order, "CartRover's Ship call failed (transient error)")
        return orders, unplaced, faults - 1, None, True
    if o.houzz == "Shipped":  # a lost reply earlier: re-read, it took effect
        orders[event.order] = o._replace(connector="Confirmed")
        return orders, unplaced, faults, None, False
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
        return orders, unplaced, faults, None, False
    if kind == "lost":
        orders[event.order] = o._replace(houzz=result)
        if narrator:
            narrator.say(
                "fault", event.order, "CartRover's Ship call took effect, its reply was lost"
            )
        return orders, unplaced, faults - 1, None, True
    orders[event.order] = o._replace(houzz=result, connector="Confirmed")
    if narrator:
        narrator.say("connector", event.order, "CartRover posted the tracking: Shipped in Houzz")
    return orders, unplaced, faults, None, False


def _poll(
    world: World,
    orders: list[Order],
    unplaced: int,
    faults: int,
    event: Event,
    narrator: Narrator | None,
) -> tuple[list[Order], int, int, Violation | None, bool]:
    fault = event.fault
    used = False
    if narrator:
        narrator.polls += 1
        narrator.say("poll", -1, f"CartRover's poll {narrator.polls}")
    for i, o in enumerate(orders):
        if not (world.visible(o.houzz) and (o.dirty or o.pending)):
            continue
        fault_here = fault[1:] if fault and fault[0] == i else None
        words: list[str] = []
        o, violation, hit = _poll_one(world, o, fault_here, words)
        used = used or hit
        orders[i] = o
        if narrator and words:
            narrator.say("connector", i, "CartRover " + "; ".join(words))
        if violation:
            return orders, unplaced, faults - used, Violation(violation[0], i, violation[1]), used
    return orders, unplaced, faults - used, None, used


def _poll_one(
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

    A pipeline resumed after a fault re-reads the order and skips the steps already done.
    """
    label = world.table.labels
    steps = world.steps
    for k in range(start, len(steps)):
        step = steps[k]
        if resumed and reached(world.table, step_target(world.table, step), o.houzz):
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
    if fault and fault[0] == "Send":
        if fault[1] == "transient":
            words.append("sending it to the warehouse failed (transient error); it will retry")
            return o._replace(connector="New", pending="Send", expect=""), None, True
        words.append("the warehouse received it but the reply was lost")
        return o._replace(connector="New", backend="received", pending="Send"), violation, True
    words.append("sent it to the warehouse (At WMS)")
    return (
        o._replace(connector="AtWMS", backend="received", pending="", expect=""),
        violation,
        False,
    )


def _resume(
    world: World, o: Order, fault: tuple[str, str] | None, words: list[str]
) -> tuple[Order, tuple[str, str] | None, bool]:
    """Retry the write a fault interrupted, first checking whether it took effect."""
    cancelled = o.houzz == "Cancelled" and world.policy.cancel_download
    if o.pending == "Send" and o.backend:
        words.append("checked the warehouse: it already had the order")
        o = o._replace(pending="", expect="")
        if o.backend == "shipped":
            return o._replace(connector="Shipped"), None, False
        if cancelled:
            words.append("saw it cancelled: the warehouse cancelled it")
            return o._replace(connector="Canceled", backend="cancelled"), None, False
        return o._replace(connector="AtWMS"), None, False
    if cancelled:
        words.append("saw it cancelled before sending: Cancel Sending")
        return o._replace(connector="CancelSending", pending="", expect=""), None, False
    if o.pending == "Send":
        return _send(world, o, fault, words)
    k = world.steps.index(o.pending)
    if o.expect and reached(world.table, o.expect, o.houzz):
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


def explore_reference(policy: Policy, bounds: Bounds | None = None) -> Exploration:
    """The plain reading of the search: ``successors`` and ``apply`` on whole states.

    ``explore`` is the same search with per-order results memoized; a test asserts the two
    give the same verdicts and state counts.
    """
    bounds = bounds or Bounds()
    world = World(policy, bounds)
    start = initial_state(world)
    parents: dict[State, tuple[State, Event] | None] = {start: None}
    frontier: deque[tuple[State, int]] = deque([(start, 0)])
    transitions = 0
    depth = 0
    while frontier:
        state, d = frontier.popleft()
        depth = max(depth, d)
        mandatory = False
        for event, must in successors(world, state):
            mandatory = mandatory or must
            orders, unplaced, faults, violation, _ = apply(world, state, event)
            nxt = State(tuple(sorted(orders)), unplaced, faults)
            transitions += 1
            if violation is not None:
                parents.setdefault(nxt, (state, event))
                path = [*_path(parents, state), event]
                return Exploration(
                    "counterexample", bounds, len(parents), transitions, d + 1, violation, path
                )
            if nxt not in parents:
                parents[nxt] = (state, event)
                if len(parents) > bounds.max_states:
                    return Exploration(
                        "inconclusive",
                        bounds,
                        len(parents),
                        transitions,
                        depth,
                        cut_by=f"max_states={bounds.max_states}",
                    )
                frontier.append((nxt, d + 1))
        if not mandatory:
            violation = quiescent_violation(world, state)
            if violation is not None:
                return Exploration(
                    "counterexample",
                    bounds,
                    len(parents),
                    transitions,
                    d,
                    violation,
                    _path(parents, state),
                )
    return Exploration("proven", bounds, len(parents), transitions, depth)


class _Memo:
    """Per-order results, memoized, with every distinct order interned as a small int.

    Orders are independent but for polls and the fault budget, so what an event does to an
    order is computed once per distinct order; a state is a sorted tuple of ints, cheap to
    sort and to hash.
    """

    def __init__(self, world: World) -> None:
        self.world = world
        self.ids: dict[Order, int] = {}
        self.orders: list[Order] = []
        self.pollable: list[bool] = []
        # id -> [(event, mandatory, new id, violation, fault used)]
        self.moves: list[list[tuple[Event, bool, int, Violation | None, bool]] | None] = []
        self.polls: dict[tuple[int, tuple[str, str] | None], tuple[int, Any, bool]] = {}
        self.placed = self.intern(Order(world.table.initial, True, True, "", "", "", "", ""))

    def intern(self, o: Order) -> int:
        known = self.ids.get(o)
        if known is None:
            known = self.ids[o] = len(self.orders)
            self.orders.append(o)
            self.pollable.append(bool((o.dirty or o.pending) and self.world.visible(o.houzz)))
            self.moves.append(None)
        return known

    def order_moves(self, k: int) -> list[tuple[Event, bool, int, Violation | None, bool]]:
        cached = self.moves[k]
        if cached is None:
            alone = State((self.orders[k],), 0, 1)
            cached = []
            for event, must in successors(self.world, alone):
                if event.kind == "poll":
                    continue
                after, _, _, violation, used = apply(self.world, alone, event)
                cached.append((event, must, self.intern(after[0]), violation, used))
            self.moves[k] = cached
        return cached

    def poll(self, k: int, fault: tuple[str, str] | None) -> tuple[int, Any, bool]:
        key = (k, fault)
        cached = self.polls.get(key)
        if cached is None:
            after, violation, used = _poll_one(self.world, self.orders[k], fault, [])
            cached = self.polls[key] = (self.intern(after), violation, used)
        return cached

    def state(self, ints: tuple[int, ...], unplaced: int, faults: int) -> State:
        """The explorer's state in Order terms, sorted as ``successors``/``apply`` expect."""
        return State(tuple(sorted(self.orders[k] for k in ints)), unplaced, faults)


PLACE = Event("place", -1)
POLL = Event("poll", -1)

# A state while searching: (sorted order ids, orders left to place, faults left).
Packed = tuple[tuple[int, ...], int, int]
# How a state was reached: (parent, event, id of the order the event is about or -1).
Link = tuple[Packed, Event, int]


def explore(policy: Policy, bounds: Bounds | None = None) -> Exploration:
    """Explore every interleaving within ``bounds``; breadth first, so paths are shortest."""
    bounds = bounds or Bounds()
    # Most policies are proven and need no path: search with a plain set first, and only
    # when a violation turns up search again (deterministically) keeping every state's parent.
    result = _search(policy, bounds, track=False)
    if result.verdict == "counterexample":
        result = _search(policy, bounds, track=True)
    return result


def _search(policy: Policy, bounds: Bounds, *, track: bool) -> Exploration:
    world = World(policy, bounds)
    memo = _Memo(world)
    pollable = memo.pollable
    writes = [(w, k) for w in world.writes for k in ("transient", "lost")]
    start: Packed = ((), bounds.orders, bounds.faults)
    parents: dict[Packed, Link | None] = {start: None}
    visited: set[Packed] = {start}
    remember = visited.add
    level: list[Packed] = [start]
    depth = 0
    transitions = 0
    limit = bounds.max_states
    connected = world.connected

    while level:
        nxt_level: list[Packed] = []
        for state in level:
            orders, unplaced, faults = state
            mandatory = False
            # (event, id of the order it is about or -1, orders after, faults left, violation
            # with the order named by id)
            candidates: list[tuple[Event, int, tuple[int, ...], int, Violation | None]] = []
            if unplaced:
                mandatory = True
                candidates.append((PLACE, -1, tuple(sorted((*orders, memo.placed))), faults, None))
            previous = -1
            for i, k in enumerate(orders):
                if k == previous:
                    continue  # symmetry: identical orders have identical futures
                previous = k
                for event, must, new, violation, used in memo.order_moves(k):
                    if used and not faults:
                        continue
                    mandatory = mandatory or must
                    changed = list(orders)
                    changed[i] = new
                    if violation is not None:
                        violation = replace(violation, order=k)
                    candidates.append((event, k, tuple(sorted(changed)), faults - used, violation))
            seen = [i for i, k in enumerate(orders) if pollable[k]]
            if seen and connected:
                mandatory = True
                base = list(orders)
                first: Violation | None = None
                for i in seen:
                    new, violation, _ = memo.poll(orders[i], None)
                    base[i] = new
                    if violation and first is None:
                        first = Violation(violation[0], orders[i], violation[1])
                candidates.append((POLL, -1, tuple(sorted(base)), faults, first))
                if faults:
                    previous = -1
                    for i in seen:
                        k = orders[i]
                        if k == previous:
                            continue
                        previous = k
                        earlier = any(memo.poll(orders[j], None)[1] for j in seen if j < i)
                        for fault in writes:
                            new, violation, used = memo.poll(k, fault)
                            if not used:
                                continue
                            changed = list(base)
                            changed[i] = new
                            v = first
                            if violation and not earlier:
                                v = Violation(violation[0], k, violation[1])
                            elif not violation and first is not None and first.order == k:
                                v = None
                            event = Event("poll", -1, fault=(k, *fault))
                            candidates.append((event, -1, tuple(sorted(changed)), faults - 1, v))
            for event, k, new_orders, left, violation in candidates:
                transitions += 1
                if violation is not None:
                    if not track:
                        return Exploration("counterexample", bounds, len(visited), transitions, 0)
                    return _found(
                        memo, parents, state, event, k, violation, bounds, transitions, depth
                    )
                nxt = (new_orders, unplaced - (event is PLACE), left)
                if nxt not in visited:
                    remember(nxt)
                    if track:
                        parents[nxt] = (state, event, k)
                    if len(visited) > limit:
                        return Exploration(
                            "inconclusive",
                            bounds,
                            len(visited),
                            transitions,
                            depth,
                            cut_by=f"max_states={limit}",
                        )
                    nxt_level.append(nxt)
            if not mandatory:
                found = quiescent_violation(world, memo.state(*state))
                if found is not None:
                    if not track:
                        return Exploration("counterexample", bounds, len(visited), transitions, 0)
                    return Exploration(
                        "counterexample",
                        bounds,
                        len(visited),
                        transitions,
                        depth,
                        found,
                        _packed_path(memo, parents, state),
                    )
        level = nxt_level
        depth += 1 if level else 0
    return Exploration("proven", bounds, len(visited), transitions, depth)


def _position(memo: _Memo, ints: tuple[int, ...], k: int) -> int:
    """Where the order with id ``k`` stands among ``ints`` sorted in Order terms."""
    ranked = sorted(memo.orders[j] for j in ints)
    return ranked.index(memo.orders[k])


def _event_at(memo: _Memo, state: Packed, event: Event, k: int) -> Event:
    """The event with its order (and its fault's order) named by sorted position."""
    if k >= 0:
        event = event._replace(order=_position(memo, state[0], k))
    if event.fault is not None:
        fk, write, kind = event.fault
        event = event._replace(fault=(_position(memo, state[0], fk), write, kind))
    return event


def _found(
    memo: _Memo,
    parents: dict[Packed, Link | None],
    state: Packed,
    event: Event,
    k: int,
    violation: Violation,
    bounds: Bounds,
    transitions: int,
    depth: int,
) -> Exploration:
    """A violation on a transition: the path to it, with the order named by position."""
    path = [*_packed_path(memo, parents, state), _event_at(memo, state, event, k)]
    # ``apply`` reports a transition's violation by the order's index in the state before it.
    at = _position(memo, state[0], violation.order)
    return Exploration(
        "counterexample",
        bounds,
        len(parents),
        transitions,
        depth + 1,
        replace(violation, order=at),
        path,
    )


def _packed_path(memo: _Memo, parents: dict[Packed, Link | None], state: Packed) -> list[Event]:
    events: list[Event] = []
    link = parents[state]
    while link is not None:
        prev, event, k = link
        events.append(_event_at(memo, prev, event, k))
        link = parents[prev]
    events.reverse()
    return events


def _path(parents: dict[Any, tuple[Any, Event] | None], state: Any) -> list[Event]:
    events: list[Event] = []
    link = parents[state]
    while link is not None:
        prev, event = link
        events.append(event)
        link = parents[prev]
    events.reverse()
    return events


class Line(NamedTuple):
    """One line of a counterexample's timeline, for one order (-1: about no single order)."""

    kind: str
    order: int  # the order's number in placement order, from 1; 0 for a poll
    text: str


def replay(policy: Policy, exploration: Exploration) -> list[Line]:
    """The counterexample's path in plain words, with orders numbered in placement order."""
    world = World(policy, exploration.bounds)
    state = initial_state(world)
    ids: list[int] = []  # ids[i] = placement number of the order at sorted position i
    narrator = Narrator()
    lines: list[Line] = []
    for event in exploration.path:
        before = len(narrator.lines)
        orders, unplaced, faults, _, _ = apply(world, state, event, narrator)
        if event.kind == "place":
            ids.append(len(ids) + 1)
        order_ids = list(ids)
        for kind, index, text in narrator.lines[before:]:
            lines.append(Line(kind, order_ids[index] if index >= 0 else 0, text))
        ranked = sorted(range(len(orders)), key=lambda k: orders[k])
        ids = [order_ids[k] for k in ranked]
        state = State(tuple(orders[k] for k in ranked), unplaced, faults)
    if exploration.violation is not None:
        v = exploration.violation
        lines.append(Line("violation", ids[v.order] if v.order < len(ids) else 0, v.message))
    return lines
