"""The explorer's world: states, events, and what each event does to them.

An ``Order`` is one order's state (Houzz's status, CartRover's, the warehouse's, a write a
fault interrupted), a ``State`` the sorted tuple of them; ``successors`` lists the events
enabled in a state and ``apply`` makes one happen. The world of each order (placement, the
customer's cancel window, Houzz's own moves, staff habits) comes from
``houzzflow.engine.order_paths``; CartRover's behaviour from ``houzzflow.engine.decisions``,
``houzzflow.engine.recovery`` and the compiled tables, the same pure functions the
simulated connector uses. ``quiescent_violation`` checks the liveness invariants.

The open questions the sources leave open (``houzzflow.engine.assumptions``) that change
what can happen are the world's choice at the start: ``worlds`` gives one ``World`` per
combination of the alternatives a proof must explore (those in ``EXPLORED``; two that
behave alike are explored once), and the search covers each.

A card declined at CartRover's Charge (legacy Seller) rides on a poll like a fault, within
its own budget (``Bounds.declines``): the order is Failed to Charge, and CartRover holds it
in Error with an alert or charges again once the customer has fixed the payment, as the
world answers ``charge_decline``. Either way it is the customer's doing: a hold no setting
can prevent is accounted, and a customer who never pays leaves no lost order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import product
from typing import Any, NamedTuple, Protocol

from houzzflow.engine.assumptions import default_register, open_alternatives
from houzzflow.engine.decisions import (
    Decision,
    apply_marks,
    decide,
    hold_reason,
    mark_steps,
    step_target,
)
from houzzflow.engine.machine import Facts
from houzzflow.engine.order_paths import WINDOW_CLOSES, Step, steps_from
from houzzflow.engine.policy import Policy
from houzzflow.engine.recovery import SEND, Resume, resume, warehouse_answer
from houzzflow.engine.table import Rejection, Table, houzz_table
from houzzflow.engine.timing import lapse_before_load_possible, lapse_possible

# The open questions whose answer changes what can happen in the explorer's world: Houzz's
# lifecycle (a Mark step already done, 2021 release, the Vendor lapse), what a wrong
# connection shows, and what CartRover does after a declined card. Every other question a
# proof depends on must be settled by the sources (one alternative standing): a test checks.
EXPLORED: tuple[str, ...] = (
    "mark_step_done",
    "charge_decline",
    "release_2021",
    "vendor_lapse",
    "wrong_connection",
)
MARK_STEPS = ("Process", "Charge")  # every Mark step CartRover may call (``mark_steps``)
FAILED = "FailedToCharge"
DECLINE = "ChargeDeclined"  # Houzz's move when the card is declined at a Charge
# A card declined at CartRover's Charge: an alternative outcome of a poll, like a fault on a
# write, but the customer's doing, within its own budget (``Bounds.declines``).
DECLINED = "declined"


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
    declined: bool = False  # held in Error because a card was declined at CartRover's Charge


class State(NamedTuple):
    orders: tuple[Order, ...]
    unplaced: int
    faults: int  # faults left in the budget
    declines: int = 0  # declined cards left in the budget


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
    # cards declined at CartRover's Charge (legacy Seller): the customer's, not API faults
    declines: int = 1

    def describe(self) -> str:
        parts = [f"{self.orders} order{'s' if self.orders != 1 else ''}"]
        parts.append(f"up to {self.faults} API fault{'s' if self.faults != 1 else ''}")
        parts.append(f"up to {self.declines} declined card{'s' if self.declines != 1 else ''}")
        if self.lapse:
            parts.append("authorization lapses")
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Violation:
    invariant: str  # a key of houzzflow.simulator.runs.invariants.INVARIANTS
    order: int  # index into the state's orders
    message: str
    # silent: no alert, no Error status, nobody will know; visible: CartRover holds the
    # order in Error or shows an alert, so the merchant can act
    kind: str = "silent"


def choices(policy: Policy) -> tuple[Facts, ...]:
    """Every combination of the alternatives a proof of ``policy`` explores, one per world
    the search starts from: the pinned alternative, else every one no claim rules out.
    Defaults first, so the first combination is the simulator's world."""
    explored = open_alternatives(policy.pinned)
    names = sorted(q for q in EXPLORED if q in explored)
    return tuple(
        tuple(zip(names, combo, strict=True)) for combo in product(*(explored[q] for q in names))
    )


class _Setting(NamedTuple):
    """What a world is made of: Houzz's lifecycle for its answers, and what CartRover does."""

    table: Table
    lapse: bool  # authorization lapses are explored
    lapse_unloaded: bool  # ... also before CartRover loaded the order
    connected: bool  # the connection type is the account's program
    steps: tuple[str, ...]  # CartRover's Mark steps (none without a connection)
    decline: str  # what CartRover does after a declined card; "" where none can happen
    wrong_connection: str  # how Houzz answers the wrong connection type

    def behaviour(self) -> tuple[Any, ...]:
        """Everything an exploration reads that the answers can change: two worlds with the
        same behaviour explore the same states, so one covers the other."""
        return (
            _table_behaviour(self.table, self.lapse, self.steps),
            self.lapse_unloaded,
            self.decline,
            "" if self.connected else self.wrong_connection,
        )


def _setting(policy: Policy, bounds: Bounds, facts: Facts) -> _Setting:
    register = default_register().assumptions
    answers = {q: register[q].default for q in EXPLORED} | dict(facts)
    table = houzz_table(policy.account, policy.era, facts=facts)
    connected = policy.connection_type == policy.account
    steps = mark_steps(policy) if connected else ()
    declined = any(action == DECLINE for _, action in table.moves)
    can_decline = "Charge" in steps and declined and bounds.declines > 0
    return _Setting(
        table,
        # Polls or a warehouse slow enough let an authorization lapse before CartRover is
        # done with the order (engine.timing): explore lapses then.
        bounds.lapse or lapse_possible(policy, faults=bounds.faults),
        # Before CartRover loads a charged order it waits a poll at most: a lapse comes that
        # early only if a poll interval outlasts the authorization (or with --lapse).
        bounds.lapse or lapse_before_load_possible(policy),
        connected,
        steps,
        answers["charge_decline"] if can_decline else "",
        answers["wrong_connection"],
    )


class World:
    """The policy's world for one set of answers to the open questions (``facts``; a
    question left out has the register's default), precomputed for fast successors."""

    def __init__(self, policy: Policy, bounds: Bounds, facts: Facts = ()) -> None:
        self.policy = policy
        self.bounds = bounds
        self.facts = facts
        # Every combination of answers this world stands for (``worlds``: those that
        # behave alike are explored once).
        self.covers: list[Facts] = [facts]
        self.setting = setting = _setting(policy, bounds, facts)
        self.table = setting.table
        self.lapse = setting.lapse
        self.lapse_unloaded = setting.lapse_unloaded
        self.connected = setting.connected
        # How Houzz answers the wrong connection type: with no orders, or an error CartRover
        # shows (then the loss is visible).
        self.wrong_connection = setting.wrong_connection
        self.steps = setting.steps
        self.writes = (*self.steps, SEND)
        # The Houzz status each of CartRover's Houzz writes leads to, for re-reads.
        self.targets = {step: step_target(self.table, step) for step in (*self.steps, "Ship")}
        # Where a card can be declined at CartRover's Charge (legacy Seller), and what
        # CartRover does then (hold | retry; "" where it cannot happen within the bounds).
        self.declines = {
            src: move.dest for (src, action), move in self.table.moves.items() if action == DECLINE
        }
        self.decline = setting.decline
        self._steps: dict[tuple[str, bool, bool], tuple[Step, ...]] = {}
        # Set when CartRover calls a Mark step on a status Houzz has no move for: where
        # Houzz's answer (refused, or a no-op: mark_step_done) decides what happens. The
        # explorer resets it to learn whether one poll depended on that answer.
        self.asked_past = False

    def visible(self, houzz: str) -> bool:
        return houzz not in self.table.hidden

    def behaviour(self) -> tuple[Any, ...]:
        """See ``_Setting.behaviour``."""
        return self.setting.behaviour()

    def world_steps(self, houzz: str, window: bool, loaded: bool = True) -> tuple[Step, ...]:
        """The world's moves for an order in ``houzz`` (``loaded``: CartRover has loaded it)."""
        known = self._steps.get((houzz, window, loaded))
        if known is not None:
            return known
        out = list(steps_from(self.table, self.policy, houzz, window))
        if self.lapse and (loaded or self.lapse_unloaded):
            for (src, action), move in self.table.moves.items():
                if src == houzz and move.happens == "late":
                    out.append(Step(action, "houzz", move.dest, window, False))
        steps = self._steps[(houzz, window, loaded)] = tuple(out)
        return steps


# (id of a table, lapse, Mark steps) -> (the table, kept alive so its id stays its own; its
# behaviour)
_BEHAVIOURS: dict[tuple[int, bool, tuple[str, ...]], tuple[Table, tuple[Any, ...]]] = {}


def _table_behaviour(table: Table, lapse: bool, steps: tuple[str, ...]) -> tuple[Any, ...]:
    """What of a table an exploration can meet: the moves (the lapse's only with ``lapse``),
    hidden statuses, and the no-ops (a Mark step's only among CartRover's ``steps``), among
    the statuses an order can reach."""
    key = (id(table), lapse, steps)
    known = _BEHAVIOURS.get(key)
    if known is not None:
        return known[1]
    moves = {k: m for k, m in table.moves.items() if lapse or m.happens != "late"}
    # Only what an order can reach counts (a Vendor order is never New, say).
    reach = {table.initial}
    todo = [table.initial]
    while todo:
        here = todo.pop()
        for (src, _), move in moves.items():
            if src == here and move.dest not in reach:
                reach.add(move.dest)
                todo.append(move.dest)
    behaviour = (
        frozenset((k, m) for k, m in moves.items() if k[0] in reach),
        table.hidden & reach,
        # (a Mark step's no-ops matter only when CartRover calls that step)
        frozenset(
            (state, action)
            for state, action in table.no_ops
            if state in reach and (action in steps or action not in MARK_STEPS)
        ),
    )
    _BEHAVIOURS[key] = (table, behaviour)
    return behaviour


def worlds(policy: Policy, bounds: Bounds) -> tuple[World, ...]:
    """One world per combination of answers (``choices``) that behaves differently; the
    first of the combinations that behave alike stands for them all."""
    found: dict[tuple[Any, ...], World] = {}
    for facts in choices(policy):
        key = _setting(policy, bounds, facts).behaviour()
        if key in found:
            found[key].covers.append(facts)
        else:
            found[key] = World(policy, bounds, facts)
    return tuple(found.values())


def pollable(world: World, o: Order) -> bool:
    """Whether CartRover's next poll has something to do with the order: a change it has not
    seen, or a write to pick up again (not while a declined card waits for the customer)."""
    if o.houzz in world.table.hidden:
        return False
    return o.dirty or (bool(o.pending) and not _awaits_payment(o))


def _awaits_payment(o: Order) -> bool:
    """A Charge CartRover will retry once the customer has fixed the declined card."""
    return o.houzz == FAILED and o.pending == "Charge"


def initial_state(world: World) -> State:
    bounds = world.bounds
    return State((), bounds.orders, bounds.faults, bounds.declines if world.decline else 0)


def successors(world: World, state: State) -> Iterator[tuple[Event, bool]]:
    """(event, mandatory) for every event enabled in ``state``."""
    if state.unplaced:
        yield Event("place", -1), True
    seen: set[Order] = set()
    needs_poll = False
    for i, o in enumerate(state.orders):
        if pollable(world, o):
            needs_poll = True
        if o in seen or o.declined:
            # symmetry: identical orders have identical futures; an order held after a
            # declined card is accounted whatever happens to it next: it is not followed
            continue
        seen.add(o)
        for step in world.world_steps(o.houzz, o.window, o.connector != ""):
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
        for i, o in enumerate(state.orders):
            if not pollable(world, o):
                continue
            if state.faults:
                for write in world.writes:
                    for kind in ("transient", "lost"):
                        yield Event("poll", -1, fault=(i, write, kind)), False
            if state.declines:
                yield Event("poll", -1, fault=(i, "Charge", DECLINED)), False


class Narration(Protocol):
    """Hears what ``apply`` does, in plain words (``narration.Narrator`` is the one used)."""

    def say(self, kind: str, order: int, text: str) -> None: ...

    def poll(self) -> None:
        """CartRover polls: the lines that follow are what the poll did."""
        ...

    def world(self, order: int, actor: str, action: str, before: str, after: str) -> None:
        """Someone other than CartRover moved the order in Houzz from ``before`` to ``after``."""
        ...


class After(NamedTuple):
    """What an event leaves: the orders (unsorted, same positions; a placed order is
    appended), what is left of the bounds, the violation it makes, and whether it spent a
    fault."""

    orders: list[Order]
    unplaced: int
    faults: int
    declines: int
    violation: Violation | None
    used: bool

    def state(self) -> tuple[State, list[int]]:
        """The state it leads to (orders sorted), and where each order went."""
        ranked = sorted(range(len(self.orders)), key=lambda k: self.orders[k])
        orders = tuple(self.orders[k] for k in ranked)
        return State(orders, self.unplaced, self.faults, self.declines), ranked


def apply(world: World, state: State, event: Event, narrator: Narration | None = None) -> After:
    """What ``event`` does in ``state``."""
    orders = list(state.orders)
    violation, used = _happen(world, orders, event, narrator)
    declined = used and event.fault is not None and event.fault[2] == DECLINED
    spent = used and not declined
    return After(
        orders,
        state.unplaced - (event.kind == "place"),
        state.faults - spent,
        state.declines - declined,
        violation,
        spent,
    )


def _happen(
    world: World, orders: list[Order], event: Event, narrator: Narration | None
) -> tuple[Violation | None, bool]:
    """Make ``event`` happen to ``orders``, in place: (the violation, a fault used)."""
    table = world.table
    label = table.labels
    if event.kind == "place":
        start = table.initial
        orders.append(Order(start, True, True, "", "", "", "", ""))
        if narrator:
            narrator.say(
                "place", len(orders) - 1, f"the customer placed it (Houzz: {label[start]})"
            )
        return None, False
    if event.kind == "world":
        o = orders[event.order]
        if event.action == WINDOW_CLOSES:
            orders[event.order] = o._replace(window=False)
            if narrator:
                narrator.say("world", event.order, "30 minutes passed: the cancel window closed")
            return None, False
        dest = table.step(o.houzz, event.action, event.actor)
        assert not isinstance(dest, Rejection), dest
        orders[event.order] = o._replace(houzz=dest, dirty=True)
        if narrator:
            narrator.world(event.order, event.actor, event.action, label[o.houzz], label[dest])
        return None, False
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
                return None, False
            return _cancelled_shipped(event.order), False
        if o.houzz != "Charged":
            why = f"it is {label[o.houzz]} in Houzz: its authorization lapsed"
            return Violation("unpaid_shipped", event.order, why), False
        return None, False
    if event.kind == "confirm":
        return None, _confirm(world, orders, event, narrator)
    return _poll(world, orders, event, narrator)


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
        if not pollable(world, o):
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
    """What one poll does to one order it sees; ``fault`` = (write, transient|lost), or
    ("Charge", DECLINED) for a card declined at CartRover's Charge. The flag says whether
    the fault (or the decline) happened."""
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
        if (o.houzz, step) not in world.table.moves:
            world.asked_past = True
        if fault and fault[0] == step:
            result = world.table.step(o.houzz, step, "connector")
            target = "" if isinstance(result, Rejection) else result
            if fault[1] == DECLINED:
                if target and target != o.houzz and o.houzz in world.declines:
                    return _declined(world, o, target, words), None, True
            elif fault[1] == "transient":
                # The retry re-reads the order first: whoever made the step happen meanwhile,
                # the status it wanted is there.
                words.append(f"its {step} call failed (transient error); it will retry")
                return o._replace(connector="New", pending=step, expect=target), None, True
            elif target:
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


def _declined(world: World, o: Order, target: str, words: list[str]) -> Order:
    """The customer's card is declined at CartRover's Charge: Houzz makes the order Failed
    to Charge, and CartRover holds it in Error (hold) or charges again once the customer has
    fixed the payment (retry)."""
    failed = world.declines[o.houzz]
    said = f"its Charge was declined (the customer's card): {world.table.labels[failed]} in Houzz"
    if world.decline == "hold":
        # Accounted whatever happens to it next (the customer fixes the card or cancels: it
        # stays held, or is cancelled), so the explorer follows it no further.
        words.append(said + "; the order is held in Error, with an alert")
        return Order(failed, False, False, "Error", "", "", "", "", declined=True)
    words.append(said + "; it will charge again once the customer has fixed the payment")
    return o._replace(houzz=failed, connector="New", pending="Charge", expect=target)


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
    if _awaits_payment(o):
        return o, None, False  # the declined card: waiting for the customer to fix it
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
    for i, o in enumerate(state.orders):
        found = unsettled(world, o, i)
        if found is not None:
            return found
    return None


def unsettled(world: World, o: Order, i: int = 0) -> Violation | None:
    """Why the order (at index ``i``) is not accounted for if nothing else happens, or None."""
    if o.houzz == "Cancelled" or not world.visible(o.houzz) or o.skipped == "design":
        return None
    if o.houzz == FAILED or o.declined:
        # The customer's unpaid order (in the legacy era only a declined card makes an order
        # Failed to Charge), or a visible hold (Error, with an alert) a declined card caused,
        # which no setting can prevent: accounted, not lost.
        return None
    label = world.table.labels
    if o.backend == "shipped" and o.houzz != "Shipped":
        return Violation(
            "unconfirmed",
            i,
            f"the warehouse shipped it but it is {label[o.houzz]} in Houzz: the shipment "
            "confirmation never went through",
            "visible" if o.connector == "Error" else "silent",
        )
    if o.backend:
        return None
    if o.connector == "Error":
        return Violation("lost", i, "it never reached the warehouse: held in Error", "visible")
    if not o.connector and not o.skipped:
        if not world.connected and world.wrong_connection == "error":
            return Violation(
                "unaccounted",
                i,
                "CartRover never saw it: Houzz answers the wrong connection type with an "
                "error, which CartRover shows as an alert",
                "visible",
            )
        return Violation(
            "unaccounted", i, "CartRover never saw it: it is neither loaded nor in the skipped log"
        )
    return Violation(
        "lost",
        i,
        f"it never reached the warehouse: it stays {label[o.houzz]} in Houzz and CartRover "
        "skipped it",
    )
