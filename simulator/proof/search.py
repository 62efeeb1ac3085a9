"""The explorer's search: breadth first over every interleaving, within bounds.

``explore`` memoizes what each event does to each distinct order and interns orders as
small ints, so a state is a sorted tuple of ints, cheap to hash; ``explore_reference`` is the
plain reading of the same search over whole states, and a test asserts the two agree. Being
breadth first, the first violation found has a shortest path, rebuilt from each state's
parent; the world searched is ``houzzflow.simulator.proof.model``'s.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any

from houzzflow.engine.policy import Policy
from houzzflow.simulator.proof.model import (
    Bounds,
    Event,
    Order,
    State,
    Violation,
    World,
    apply,
    initial_state,
    poll_one,
    quiescent_violation,
    successors,
)


@dataclass(slots=True)
class Exploration:
    """What a search found: its verdict, how far it went, and a violation with its path."""

    verdict: str  # proven | counterexample | inconclusive
    bounds: Bounds
    states: int
    transitions: int
    depth: int
    violation: Violation | None = None
    path: list[Event] = field(default_factory=list)
    cut_by: str = ""


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
            after, violation, used = poll_one(self.world, self.orders[k], fault, [])
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
