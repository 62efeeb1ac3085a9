"""The explorer's search: breadth first over every interleaving, within bounds.

``explore`` memoizes what each event does to each distinct order (in lists, by order) and
interns orders as small ints; a state is known by one exact int key that a transition
updates with two additions (``_Registry``), so a successor already seen costs no sort, copy
or tuple. ``explore_reference`` is the plain reading of the same search over whole states,
and a test asserts the two agree. Being
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
from houzzflow.simulator.kernel.collector import cycles_uncollected
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


# Bits of one order id in a state's key. A search meets a few hundred distinct orders at 3
# orders; the registry refuses to go past this rather than let two states share a key.
_ID_BITS = 24


class _Registry:
    """Every distinct order one search meets, interned as a small int, and the exact key of
    a state.

    An ``Order`` means the same thing in every world, so the worlds of a search share one
    numbering. A state's key is one int: its worlds' bit mask, the orders left to place, the
    faults and declines left, and, for its orders, the sums of their ids' first
    ``bounds.orders`` powers, each in a field of its own. Those power sums determine the
    multiset of ids (Newton's identities), so two states share a key only when they are the
    same state; and an event that changes one order changes the key by that order's weight
    before and after, so a successor's key costs two additions, with no sort or tuple.
    """

    def __init__(self, bounds: Bounds, worlds: int) -> None:
        self.ids: dict[Order, int] = {}
        self.orders: list[Order] = []
        self.lists: list[list[Any]] = []  # per-order results, grown with a None per order
        self.memos: list[_Memo] = []
        self.weights: list[int] = []  # what each order adds to the key of a state holding it
        # The key's fields, from the low bits: mask, unplaced, faults, declines, power sums.
        self.unplaced_unit = 1 << worlds
        shift = worlds + bounds.orders.bit_length()
        self.fault_unit = 1 << shift
        shift += bounds.faults.bit_length()
        self.decline_unit = 1 << shift
        shift += bounds.declines.bit_length()
        self.shifts: list[tuple[int, int]] = []  # (power, where its sum starts)
        count_bits = max(bounds.orders, 1).bit_length()  # a sum adds up to that many ids
        for power in range(1, max(bounds.orders, 1) + 1):
            self.shifts.append((power, shift))
            shift += _ID_BITS * power + count_bits
        self.faults: dict[tuple[str, str], int] = {}  # fault -> its index, 0 = no fault
        self.events: list[list[Any]] = []  # per fault index: per order, its poll Event

    def key(self, mask: int, orders: tuple[int, ...], unplaced: int, faults: int, d: int) -> int:
        """The key of a state (successors' keys are worked out from it incrementally)."""
        weights = self.weights
        total = mask + unplaced * self.unplaced_unit + faults * self.fault_unit
        return total + d * self.decline_unit + sum(weights[k] for k in orders)

    def intern(self, o: Order) -> int:
        known = self.ids.get(o)
        if known is None:
            known = len(self.orders)
            if known >> _ID_BITS:
                raise RuntimeError(f"the explorer met more than {1 << _ID_BITS} distinct orders")
            self.ids[o] = known
            self.orders.append(o)
            self.weights.append(sum(known**power << at for power, at in self.shifts))
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

    def fault(self, fault: tuple[str, str]) -> int:
        """The fault's index (from 1) in every world's table of poll results."""
        known = self.faults.get(fault)
        if known is None:
            known = self.faults[fault] = len(self.faults) + 1
        while len(self.events) <= known:
            self.events.append(self.results())
        return known

    def event(self, k: int, index: int, fault: tuple[str, str]) -> Event:
        """The poll with ``fault`` on order ``k``, made once."""
        row = self.events[index]
        made: Event | None = row[k]
        if made is None:
            made = row[k] = Event("poll", -1, fault=(k, *fault))
        return made


# One order's alternative outcomes of a poll, each with what it costs the budgets of faults
# and of declined cards.
Alternatives = list[tuple[tuple[str, str], int, int]]
# The same, ready for the search: (fault, its index, faults used, declines used, what that
# takes off the key, the world's poll results for it, the poll events per order).
Offers = list[tuple[tuple[str, str], int, int, int, int, list[Any], list[Any]]]
# What an event does to one order: (event, mandatory, new id, what it adds to the state's
# key, violation, fault used).
Moves = list[tuple[Event, bool, int, int, Violation | None, bool]]
# What a poll does to one order: (new id, (invariant, message) broken or None, fault used,
# what it adds to the state's key).
Polled = tuple[int, Any, bool, int]


class _Memo:
    """One world's per-order results, memoized by order id in lists grown as orders appear.

    Orders are independent but for polls and the fault budget, so what an event does to an
    order is computed once per distinct order; worlds whose lifecycles agree share what
    does not depend on where they differ. Both searches of ``explore`` use the same memos.
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
        # per fault index (0: none), per order: (the poll's outcome, whether it asked Houzz
        # for a Mark step past it)
        self.common: list[list[Any]] = same_moves[0].common if same_moves else []
        self.polls: list[list[Any]] = same_polls[0].polls if same_polls else []
        self.declined: list[Any] = registry.results()
        self.signatures: list[tuple[Any, ...] | None] = registry.results()
        # A poll's alternative outcomes for one order: a fault on one of CartRover's writes,
        # or a declined card; by what is left: (no faults, no declines) .. (both).
        faults: Alternatives = [((w, k), 1, 0) for w in world.writes for k in ("transient", "lost")]
        declines: Alternatives = [(("Charge", DECLINED), 0, 1)] if world.decline else []
        self.alternatives: tuple[Alternatives, ...] = ([], declines, faults, faults + declines)
        for fault, _, _ in faults + declines:
            registry.fault(fault)
        for tables in (self.common, self.polls):
            while len(tables) <= len(registry.faults):
                tables.append(registry.results())
        self.offers: tuple[Offers, ...] = tuple(
            [self._offer(fault, cost, declined) for fault, cost, declined in alternatives]
            for alternatives in self.alternatives
        )
        registry.memos.append(self)
        self.placed = registry.intern(Order(table.initial, True, True, "", "", "", "", ""))

    def _offer(
        self, fault: tuple[str, str], cost: int, declined: int
    ) -> tuple[tuple[str, str], int, int, int, int, list[Any], list[Any]]:
        registry = self.registry
        index = registry.fault(fault)
        spend = cost * registry.fault_unit + declined * registry.decline_unit
        row = self.declined if fault[1] == DECLINED else self.polls[index]
        return fault, index, cost, declined, spend, row, registry.events[index]

    def intern(self, o: Order) -> int:
        return self.registry.intern(o)

    def order_moves(self, k: int) -> Moves:
        cached = self.moves[k]
        if cached is None:
            alone = State((self.orders[k],), 0, 1)
            cached = []
            weights = self.registry.weights
            unit = self.registry.fault_unit
            for event, must in successors(self.world, alone):
                if event.kind == "poll":
                    continue
                after = apply(self.world, alone, event)
                new = self.intern(after.orders[0])
                step = weights[new] - weights[k] - after.used * unit
                cached.append((event, must, new, step, after.violation, after.used))
            self.moves[k] = cached
        return cached

    def poll(self, k: int, index: int, fault: tuple[str, str] | None) -> Polled:
        """What a poll with ``fault`` (index 0: none) does to order ``k``."""
        if fault is not None and fault[1] == DECLINED:  # never in the shared ``polls``
            declined: Polled | None = self.declined[k]
            if declined is None:
                declined = self.declined[k] = self._poll(k, fault)
            return declined
        cached = self.polls[index][k]
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        common = self.common[index][k]
        if common is not None and not common[1]:
            cached = self.polls[index][k] = common[0]
            return cached  # type: ignore[no-any-return]
        world = self.world
        world.asked_past = False
        cached = self.polls[index][k] = self._poll(k, fault)
        if common is None:
            self.common[index][k] = (cached, world.asked_past)
        return cached

    def _poll(self, k: int, fault: tuple[str, str] | None) -> Polled:
        after, violation, used = poll_one(self.world, self.orders[k], fault, [])
        new = self.intern(after)
        weights = self.registry.weights
        return new, violation, used, weights[new] - weights[k]

    def signature(self, k: int) -> tuple[Any, ...]:
        """Everything this world does with order ``k``: worlds that agree on every order of a
        state have the same successors from it, and the same verdict if it is quiescent."""
        cached = self.signatures[k]
        if cached is None:
            polls: tuple[Any, ...] = ()
            if self.pollable[k]:  # a poll does nothing to the others
                polls = (
                    self.poll(k, 0, None),
                    *(self.poll(k, offer[1], offer[0]) for offer in self.offers[3]),
                )
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

# A state while searching: (its key, the worlds it stands for as a bit mask, sorted order
# ids, orders left to place, faults left, declined cards left).
Packed = tuple[int, int, tuple[int, ...], int, int, int]
# How a state was reached: (parent, event, id of the order the event is about or -1).
Link = tuple[Packed, Event, int]
# A successor: (event, id of the order it is about or -1, its key, the index in ``base`` of
# the order that changed or -1, that order's new id, the orders it starts from (sorted only
# once it turns out to be new), faults left, declines left, violation with the order named
# by id, its place among the state's successors from 1).
Candidate = tuple[
    Event, int, int, int, int, "tuple[int, ...] | list[int]", int, int, Violation | None, int
]


def explore(
    policy: Policy, bounds: Bounds | None = None, *, progress: Progress | None = None
) -> Exploration:
    """Explore every interleaving within ``bounds``; breadth first, so paths are shortest.

    ``progress(states, depth, max_states)`` is called now and then while the search runs
    (every ``PROGRESS_EVERY`` states and at each new depth), for a progress line."""
    with cycles_uncollected():
        return _explore(policy, bounds or Bounds(), progress)


def _explore(policy: Policy, bounds: Bounds, progress: Progress | None) -> Exploration:
    choices = worlds(policy, bounds)
    registry = _Registry(bounds, len(choices))
    memos = [_Memo(world, registry) for world in choices]
    groups: dict[int, _Group] = {}
    # Most policies are proven and need no path: search with a plain set first, and only
    # when a violation turns up search again (deterministically) keeping every state's
    # parent, with what the first search learnt of each order.
    result = _search(memos, groups, bounds, track=False, progress=progress)
    if result.verdict == "counterexample":
        result = _search(memos, groups, bounds, track=True, progress=progress)
    result.covers = tuple(f for world in choices for f in world.covers)
    return result


def _candidates(
    memo: _Memo,
    state: Packed,
    visited: set[int] | None,
) -> tuple[list[Candidate], int, bool]:
    """The successors of a state in one world, how many there are, and whether something
    must still happen.

    With ``visited``, a successor already visited that breaks no invariant is counted but
    left out: nothing would be done with it (each kept one carries its place in the count).
    """
    key, _, orders, unplaced, faults, declines = state
    mandatory = False
    candidates: list[Candidate] = []
    keep = candidates.append
    seen_before = visited if visited is not None else ()
    weights = memo.registry.weights
    count = 0
    if unplaced:
        mandatory = True
        placed = memo.placed
        after = key + weights[placed] - memo.registry.unplaced_unit
        count += 1
        if after not in seen_before:
            keep((PLACE, -1, after, -1, -1, (*orders, placed), faults, declines, None, count))
    moves = memo.moves
    previous = -1
    for i, k in enumerate(orders):
        if k == previous:
            continue  # symmetry: identical orders have identical futures
        previous = k
        found = moves[k]
        if found is None:
            found = memo.order_moves(k)
        for event, must, new, step, violation, used in found:
            if used and not faults:
                continue
            mandatory = mandatory or must
            count += 1
            if violation is not None:
                violation = replace(violation, order=k)
            elif key + step in seen_before:
                continue
            keep((event, k, key + step, i, new, orders, faults - used, declines, violation, count))
    pollable = memo.pollable
    seen = [i for i, k in enumerate(orders) if pollable[k]]
    if seen and memo.world.connected:
        mandatory = True
        base = list(orders)
        polled = key
        first: Violation | None = None
        first_at = len(orders)  # where the first order a poll breaks an invariant on stands
        plain = memo.polls[0]
        for i in seen:
            k = orders[i]
            result = plain[k]
            if result is None:
                result = memo.poll(k, 0, None)
            new, violation, _, step = result
            base[i] = new
            polled += step
            if violation and first is None:
                first = Violation(violation[0], k, violation[1])
                first_at = i
        count += 1
        if first is not None or polled not in seen_before:
            keep((POLL, -1, polled, -1, -1, base, faults, declines, first, count))
        offers = memo.offers[(faults > 0) * 2 + (declines > 0)]
        if offers:
            previous = -1
            for i in seen:
                k = orders[i]
                if k == previous:
                    continue
                previous = k
                earlier = first_at < i
                without = polled - weights[base[i]]
                for fault, index, cost, declined, spend, row, events in offers:
                    result = row[k]
                    if result is None:
                        result = memo.poll(k, index, fault)
                    new, violation, used, _ = result
                    if not used:
                        continue
                    count += 1
                    v = first
                    if violation and not earlier:
                        v = Violation(violation[0], k, violation[1])
                    elif not violation and first is not None and first.order == k:
                        v = None
                    after = without + weights[new] - spend
                    if v is None and after in seen_before:
                        continue
                    made: Event | None = events[k]
                    if made is None:
                        made = memo.registry.event(k, index, fault)
                    left = declines - declined
                    keep((made, -1, after, i, new, base, faults - cost, left, v, count))
    return candidates, count, mandatory


def _search(
    memos: list[_Memo],
    groups: dict[int, _Group],
    bounds: Bounds,
    *,
    track: bool,
    progress: Progress | None = None,
) -> Exploration:
    registry = memos[0].registry
    declines = bounds.declines if memos[0].world.decline else 0
    mask = (1 << len(memos)) - 1
    key = registry.key(mask, (), bounds.orders, bounds.faults, declines)
    start: Packed = (key, mask, (), bounds.orders, bounds.faults, declines)
    parents: dict[int, Link | None] = {key: None}
    visited: set[int] = {key}
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
        found = quiescent_violation(memo.world, memo.state(*state[2:5]))
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

    def visit(nxt: int, mask: int, candidate: Candidate, state: Packed) -> bool:
        """Remember a new successor to explore next; False when the bound on states is hit."""
        remember(nxt)
        event = candidate[0]
        if track:
            parents[nxt] = (state, event, candidate[1])
        if len(visited) > limit:
            return False
        orders = list(candidate[5])
        if candidate[3] >= 0:
            orders[candidate[3]] = candidate[4]
        orders.sort()
        unplaced = state[3] - (event is PLACE)
        nxt_level.append((nxt, mask, tuple(orders), unplaced, candidate[6], candidate[7]))
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
            mask, orders = state[1], state[2]
            group = groups.get(mask)
            if group is None:
                group = groups[mask] = _Group(mask, memos)
            blocks = group.blocks(orders)
            # While the worlds agree on every order here, the state is explored once for all
            # of them; where they differ, each block on its own, and the successors that
            # agree are merged again (a successor's key is made with the whole mask).
            merged: dict[tuple[Event, int, int], list[Any]] = {}
            for block in blocks:
                memo = group.memos[(block & -block).bit_length() - 1]
                whole = block == mask
                candidates, count, mandatory = _candidates(memo, state, visited if whole else None)
                for candidate in candidates:
                    if candidate[8] is not None:
                        transitions += candidate[9]
                        return violated(memo, state, candidate[0], candidate[1], candidate[8])
                    if whole:
                        if candidate[2] not in visited and not visit(
                            candidate[2], mask, candidate, state
                        ):
                            transitions += candidate[9]
                            return inconclusive()
                    else:
                        same = (candidate[0], candidate[1], candidate[2])
                        known = merged.get(same)
                        if known is None:
                            merged[same] = [block, candidate]
                        else:
                            known[0] |= block
                transitions += count
                if not mandatory:
                    found = quiescent(memo, state)
                    if found is not None:
                        return found
            for (_, _, nxt), (sub, candidate) in merged.items():
                nxt += sub - mask
                if nxt not in visited and not visit(nxt, sub, candidate, state):
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
        event = event._replace(order=_position(memo, state[2], k))
    if event.fault is not None:
        fk, write, kind = event.fault
        event = event._replace(fault=(_position(memo, state[2], fk), write, kind))
    return event


def _found(
    memo: _Memo,
    parents: dict[int, Link | None],
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
    at = _position(memo, state[2], violation.order)
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


def _packed_path(memo: _Memo, parents: dict[int, Link | None], state: Packed) -> list[Event]:
    events: list[Event] = []
    link = parents[state[0]]
    while link is not None:
        prev, event, k = link
        events.append(_event_at(memo, prev, event, k))
        link = parents[prev[0]]
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
