"""The explorer's search: breadth first over every interleaving, within bounds.

``explore`` memoizes what each event does to each distinct order and interns orders as
small ints, so a state is a sorted tuple of ints, cheap to hash; ``explore_reference`` is the
plain reading of the same search over whole states, and a test asserts the two agree. Being
breadth first, the first violation found has a shortest path, rebuilt from each state's
parent; the world searched is ``houzzflow.simulator.proof.model``'s.

The answers to the open questions are the world's choice at the start (``model.worlds``:
one world per combination of answers that behaves differently). Each state carries the
worlds it stands for, as a bit mask; the search starts from one empty state standing for
them all, explores a state once for all its worlds while they agree on everything its orders
do, and splits it where they differ. One breadth-first search covers every world, so a
counterexample is a shortest one over every answer explored, and names the answers it was
found under. ``explore_reference`` starts from one state per world instead.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from houzzflow.engine.machine import Facts
from houzzflow.engine.policy import Policy
from houzzflow.simulator.proof.model import (
    DECLINED,
    MARK_STEPS,
    Bounds,
    Event,
    Order,
    State,
    Violation,
    World,
    apply,
    initial_state,
    poll_one,
    pollable,
    quiescent_violation,
    successors,
    unsettled,
    worlds,
)

# progress(states explored, depth reached, the bound on states): a long proof's progress line.
Progress = Callable[[int, int, int], None]
PROGRESS_EVERY = 20_000  # states between two progress calls within one depth


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
    # The answers to the open questions of the world the violation was found in.
    facts: Facts = ()
    # Every combination of answers the search covered (each world it started from, and the
    # combinations that behave as one of them).
    covers: tuple[Facts, ...] = ()


def explore_reference(policy: Policy, bounds: Bounds | None = None) -> Exploration:
    """The plain reading of the search: ``successors`` and ``apply`` on whole states, from
    one start per world.

    ``explore`` is the same search with per-order results memoized and the worlds explored
    together while they agree; a test asserts the two give the same verdicts and shortest
    paths, and, for one world alone, the same state counts.
    """
    bounds = bounds or Bounds()
    choices = worlds(policy, bounds)
    covers = tuple(f for world in choices for f in world.covers)
    result = _reference(choices, bounds)
    result.covers = covers
    return result


def _reference(choices: tuple[World, ...], bounds: Bounds) -> Exploration:
    # A state is (the world's index, the state in it).
    Rooted = tuple[int, State]
    parents: dict[Rooted, tuple[Rooted, Event] | None] = {
        (c, initial_state(w)): None for c, w in enumerate(choices)
    }
    frontier: deque[tuple[Rooted, int]] = deque((root, 0) for root in parents)
    transitions = 0
    depth = 0
    while frontier:
        rooted, d = frontier.popleft()
        choice, state = rooted
        world = choices[choice]
        depth = max(depth, d)
        mandatory = False
        for event, must in successors(world, state):
            mandatory = mandatory or must
            after = apply(world, state, event)
            violation = after.violation
            nxt = (choice, after.state()[0])
            transitions += 1
            if violation is not None:
                parents.setdefault(nxt, (rooted, event))
                path = [*_path(parents, rooted), event]
                return Exploration(
                    "counterexample",
                    bounds,
                    len(parents),
                    transitions,
                    d + 1,
                    violation,
                    path,
                    facts=world.facts,
                )
            if nxt not in parents:
                parents[nxt] = (rooted, event)
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
                    _path(parents, rooted),
                    facts=world.facts,
                )
    return Exploration("proven", bounds, len(parents), transitions, depth)


class _Registry:
    """Every distinct order one search meets, interned as a small int.

    An ``Order`` means the same thing in every world, so the worlds of a search share one
    numbering: a state is a sorted tuple of ints, cheap to sort and to hash, whichever
    worlds it stands for.
    """

    def __init__(self) -> None:
        self.ids: dict[Order, int] = {}
        self.orders: list[Order] = []
        self.lists: list[list[Any]] = []  # per-order results, grown with a None per order
        self.memos: list[_Memo] = []

    def intern(self, o: Order) -> int:
        known = self.ids.get(o)
        if known is None:
            known = self.ids[o] = len(self.orders)
            self.orders.append(o)
            for results in self.lists:
                results.append(None)
            for memo in self.memos:
                memo.pollable.append(pollable(memo.world, o))
        return known

    def results(self) -> list[Any]:
        """A new list of per-order results, one None per order so far."""
        made: list[Any] = [None] * len(self.orders)
        self.lists.append(made)
        return made


# One order's alternative outcomes of a poll, each with what it costs the budgets of faults
# and of declined cards.
Alternatives = list[tuple[tuple[str, str], int, int]]
# What an event does to one order: (event, mandatory, new id, violation, fault used).
Moves = list[tuple[Event, bool, int, Violation | None, bool]]
# What a poll does to one order: (new id, (invariant, message) broken or None, fault used).
Polled = tuple[int, Any, bool]


class _Memo:
    """One world's per-order results, memoized by order id.

    Orders are independent but for polls and the fault budget, so what an event does to an
    order is computed once per distinct order; worlds whose lifecycles agree share what
    does not depend on where they differ.
    """

    def __init__(self, world: World, registry: _Registry) -> None:
        self.world = world
        self.registry = registry
        self.orders = registry.orders
        self.pollable: list[bool] = [pollable(world, o) for o in registry.orders]
        table = world.table
        # Houzz's moves (and no-ops, but a Mark step's: only CartRover's polls call those)
        # decide what happens to an order between polls, and a poll too, but where CartRover
        # calls a Mark step Houzz has no move for (its answer is the no-ops') or a card is
        # declined (CartRover's answer to it is the world's own).
        same_moves = [
            m
            for m in registry.memos
            if m.world.table.moves == table.moves and _other_no_ops(m.world) == _other_no_ops(world)
        ]
        same_polls = [m for m in same_moves if m.world.table.no_ops == table.no_ops]
        self.moves: list[Moves | None] = same_moves[0].moves if same_moves else registry.results()
        # (id, fault) -> (the poll's outcome, whether it asked Houzz for a Mark step past it)
        self.common: dict[tuple[int, tuple[str, str] | None], tuple[Polled, bool]] = (
            same_moves[0].common if same_moves else {}
        )
        self.polls: dict[tuple[int, tuple[str, str] | None], Polled] = (
            same_polls[0].polls if same_polls else {}
        )
        self.declined: dict[int, Polled] = {}
        self.signatures: list[tuple[Any, ...] | None] = registry.results()
        # A poll's alternative outcomes for one order: a fault on one of CartRover's writes,
        # or a declined card; by what is left: (no faults, no declines) .. (both).
        faults: Alternatives = [((w, k), 1, 0) for w in world.writes for k in ("transient", "lost")]
        declines: Alternatives = [(("Charge", DECLINED), 0, 1)] if world.decline else []
        self.alternatives: tuple[Alternatives, ...] = ([], declines, faults, faults + declines)
        registry.memos.append(self)
        self.placed = registry.intern(Order(table.initial, True, True, "", "", "", "", ""))

    def intern(self, o: Order) -> int:
        return self.registry.intern(o)

    def order_moves(self, k: int) -> Moves:
        cached = self.moves[k]
        if cached is None:
            alone = State((self.orders[k],), 0, 1)
            cached = []
            for event, must in successors(self.world, alone):
                if event.kind == "poll":
                    continue
                after = apply(self.world, alone, event)
                new = self.intern(after.orders[0])
                cached.append((event, must, new, after.violation, after.used))
            self.moves[k] = cached
        return cached

    def poll(self, k: int, fault: tuple[str, str] | None) -> Polled:
        cached = self.polls.get((k, fault))
        return self._miss(k, fault) if cached is None else cached

    def _miss(self, k: int, fault: tuple[str, str] | None) -> Polled:
        if fault is not None and fault[1] == DECLINED:  # never in the shared ``polls``
            cached = self.declined.get(k)
            if cached is None:
                cached = self.declined[k] = self._poll(k, fault)
            return cached
        key = (k, fault)
        common = self.common.get(key)
        if common is not None and not common[1]:
            cached = self.polls[key] = common[0]
            return cached
        world = self.world
        world.asked_past = False
        cached = self.polls[key] = self._poll(k, fault)
        self.common.setdefault(key, (cached, world.asked_past))
        return cached

    def _poll(self, k: int, fault: tuple[str, str] | None) -> Polled:
        after, violation, used = poll_one(self.world, self.orders[k], fault, [])
        return self.intern(after), violation, used

    def signature(self, k: int) -> tuple[Any, ...]:
        """Everything this world does with order ``k``: worlds that agree on every order of a
        state have the same successors from it, and the same verdict if it is quiescent."""
        cached = self.signatures[k]
        if cached is None:
            polls: tuple[Any, ...] = ()
            if self.pollable[k]:  # a poll does nothing to the others
                polls = (self.poll(k, None), *(self.poll(k, a[0]) for a in self.alternatives[3]))
            cached = (
                self.pollable[k],
                tuple(self.order_moves(k)),
                tuple(self.alternatives[3]),
                polls,
                unsettled(self.world, self.orders[k]),
            )
            self.signatures[k] = cached
        return cached

    def state(self, ints: tuple[int, ...], unplaced: int, faults: int) -> State:
        """The explorer's state in Order terms, sorted as ``successors``/``apply`` expect."""
        return State(tuple(sorted(self.orders[k] for k in ints)), unplaced, faults)


def _other_no_ops(world: World) -> frozenset[tuple[str, str]]:
    """The table's no-ops but for Mark steps (what happens between polls may meet those)."""
    return frozenset(n for n in world.table.no_ops if n[1] not in MARK_STEPS)


class _Group:
    """The worlds a state stands for (a bit mask over the search's worlds).

    While the worlds agree on everything the orders of a state do, the state is explored
    once for all of them; where they differ, each block of agreeing worlds is explored on
    its own and successors that agree are merged again.
    """

    def __init__(self, mask: int, memos: list[_Memo]) -> None:
        self.mask = mask
        self.memos = memos
        self.members = [i for i in range(len(memos)) if mask >> i & 1]
        self.memo = memos[self.members[0]]
        self.single = len(self.members) == 1
        self.parts: dict[int, tuple[int, ...]] = {}

    def part(self, k: int) -> tuple[int, ...]:
        """The worlds of the mask grouped by what they do with order ``k``."""
        known = self.parts.get(k)
        if known is None:
            by: dict[tuple[Any, ...], int] = {}
            for i in self.members:
                sig = self.memos[i].signature(k)
                by[sig] = by.get(sig, 0) | 1 << i
            known = self.parts[k] = tuple(by.values())
        return known

    def blocks(self, orders: tuple[int, ...]) -> list[int]:
        """The coarsest split of the mask into worlds that agree on every order of a state."""
        blocks = [self.mask]
        if self.single:
            return blocks
        previous = -1
        for k in orders:
            if k == previous:
                continue
            previous = k
            part = self.part(k)
            if len(part) > 1:
                blocks = [b & p for b in blocks for p in part if b & p]
        return blocks


PLACE = Event("place", -1)
POLL = Event("poll", -1)

# A state while searching: (the worlds it stands for as a bit mask, sorted order ids, orders
# left to place, faults left, declined cards left).
Packed = tuple[int, tuple[int, ...], int, int, int]
# How a state was reached: (parent, event, id of the order the event is about or -1).
Link = tuple[Packed, Event, int]
# A successor: (event, id of the order it is about or -1, orders after, faults left,
# declines left, violation with the order named by id).
Candidate = tuple[Event, int, tuple[int, ...], int, int, Violation | None]


def explore(
    policy: Policy, bounds: Bounds | None = None, *, progress: Progress | None = None
) -> Exploration:
    """Explore every interleaving within ``bounds``; breadth first, so paths are shortest.

    ``progress(states, depth, max_states)`` is called now and then while the search runs
    (every ``PROGRESS_EVERY`` states and at each new depth), for a progress line."""
    bounds = bounds or Bounds()
    choices = worlds(policy, bounds)
    # Most policies are proven and need no path: search with a plain set first, and only
    # when a violation turns up search again (deterministically) keeping every state's parent.
    result = _search(choices, bounds, track=False, progress=progress)
    if result.verdict == "counterexample":
        result = _search(choices, bounds, track=True, progress=progress)
    result.covers = tuple(f for world in choices for f in world.covers)
    return result


def _candidates(
    memo: _Memo, orders: tuple[int, ...], unplaced: int, faults: int, declines: int
) -> tuple[list[Candidate], bool]:
    """Every successor of a state in one world, and whether something must still happen."""
    mandatory = False
    candidates: list[Candidate] = []
    if unplaced:
        mandatory = True
        placed = tuple(sorted((*orders, memo.placed)))
        candidates.append((PLACE, -1, placed, faults, declines, None))
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
            after = tuple(sorted(changed))
            candidates.append((event, k, after, faults - used, declines, violation))
    pollable = memo.pollable
    seen = [i for i, k in enumerate(orders) if pollable[k]]
    if seen and memo.world.connected:
        mandatory = True
        base = list(orders)
        first: Violation | None = None
        for i in seen:
            new, violation, _ = memo.poll(orders[i], None)
            base[i] = new
            if violation and first is None:
                first = Violation(violation[0], orders[i], violation[1])
        candidates.append((POLL, -1, tuple(sorted(base)), faults, declines, first))
        alternatives = memo.alternatives[(faults > 0) * 2 + (declines > 0)]
        if alternatives:
            previous = -1
            for i in seen:
                k = orders[i]
                if k == previous:
                    continue
                previous = k
                earlier = any(memo.poll(orders[j], None)[1] for j in seen if j < i)
                for fault, cost, declined in alternatives:
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
                    after = tuple(sorted(changed))
                    candidates.append((event, -1, after, faults - cost, declines - declined, v))
    return candidates, mandatory


def _search(
    choices: tuple[World, ...], bounds: Bounds, *, track: bool, progress: Progress | None = None
) -> Exploration:
    registry = _Registry()
    memos = [_Memo(world, registry) for world in choices]
    groups: dict[int, _Group] = {}
    declines = bounds.declines if memos[0].world.decline else 0
    start: Packed = ((1 << len(memos)) - 1, (), bounds.orders, bounds.faults, declines)
    parents: dict[Packed, Link | None] = {start: None}
    visited: set[Packed] = {start}
    remember = visited.add
    level: list[Packed] = [start]
    depth = 0
    transitions = 0
    limit = bounds.max_states

    def inconclusive() -> Exploration:
        return Exploration(
            "inconclusive", bounds, len(visited), transitions, depth, cut_by=f"max_states={limit}"
        )

    def quiescent(memo: _Memo, state: Packed) -> Exploration | None:
        found = quiescent_violation(memo.world, memo.state(*state[1:4]))
        if found is None:
            return None
        if not track:
            return Exploration("counterexample", bounds, len(visited), transitions, 0)
        path = _packed_path(memo, parents, state)
        return Exploration(
            "counterexample",
            bounds,
            len(visited),
            transitions,
            depth,
            found,
            path,
            facts=memo.world.facts,
        )

    def violated(memo: _Memo, state: Packed, event: Event, k: int, v: Violation) -> Exploration:
        if not track:
            return Exploration("counterexample", bounds, len(visited), transitions, 0)
        return _found(memo, parents, state, event, k, v, bounds, transitions, depth)

    def visit(nxt: Packed, state: Packed, event: Event, k: int) -> bool:
        """Remember a successor to explore next; False when the bound on states is hit."""
        if nxt not in visited:
            remember(nxt)
            if track:
                parents[nxt] = (state, event, k)
            if len(visited) > limit:
                return False
            nxt_level.append(nxt)
        return True

    told = 0
    while level:
        nxt_level: list[Packed] = []
        if progress is not None:
            progress(len(visited), depth, limit)
        for state in level:
            if progress is not None and len(visited) - told >= PROGRESS_EVERY:
                told = len(visited)
                progress(told, depth, limit)
            mask, orders, unplaced, faults, declines = state
            group = groups.get(mask)
            if group is None:
                group = groups[mask] = _Group(mask, memos)
            blocks = group.blocks(orders)
            # While the worlds agree on every order here, the state is explored once for all
            # of them; where they differ, each block on its own, and the successors that
            # agree are merged again.
            merged: dict[tuple[Event, int, tuple[int, ...], int, int], int] = {}
            for block in blocks:
                memo = group.memos[(block & -block).bit_length() - 1]
                candidates, mandatory = _candidates(memo, orders, unplaced, faults, declines)
                for event, k, new_orders, left, declines_left, violation in candidates:
                    transitions += 1
                    if violation is not None:
                        return violated(memo, state, event, k, violation)
                    if block == mask:
                        nxt = (mask, new_orders, unplaced - (event is PLACE), left, declines_left)
                        if nxt not in visited and not visit(nxt, state, event, k):
                            return inconclusive()
                    else:
                        key = (event, k, new_orders, left, declines_left)
                        merged[key] = merged.get(key, 0) | block
                if not mandatory:
                    found = quiescent(memo, state)
                    if found is not None:
                        return found
            for (event, k, new_orders, left, declines_left), sub in merged.items():
                nxt = (sub, new_orders, unplaced - (event is PLACE), left, declines_left)
                if not visit(nxt, state, event, k):
                    return inconclusive()
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
        event = event._replace(order=_position(memo, state[1], k))
    if event.fault is not None:
        fk, write, kind = event.fault
        event = event._replace(fault=(_position(memo, state[1], fk), write, kind))
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
    at = _position(memo, state[1], violation.order)
    return Exploration(
        "counterexample",
        bounds,
        len(parents),
        transitions,
        depth + 1,
        replace(violation, order=at),
        path,
        facts=memo.world.facts,
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
