"""What getOrders lists: status filters, the index of orders by window time, and paging.

Listing uses an index of (time, order) entries appended as orders change: an entry is
current while its time is still the order's window time (``modified`` or ``created``), the
orders changed in one second are sorted by id once (not at every listing), stale entries
are dropped when they outnumber the rest, and each order's view is made once per change.
A poll over a sliding window costs about the number of orders in the window.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from itertools import compress
from operator import attrgetter, eq
from typing import Literal

from houzzflow.engine.machine import MachineDef
from houzzflow.engine.ports import OrderView, Page
from houzzflow.simulator.houzz.names import PAGE_DRIFT
from houzzflow.simulator.houzz.orders import (
    FAULT_ACTOR,
    HouzzOrder,
    history_code,
    record_change,
)
from houzzflow.simulator.kernel.faults import FaultInjector

WindowField = Literal["modified", "created"]

# The listing index is compacted when more than this many of its entries, and more than
# half of them, are stale (amortised: each compaction at least halves it).
REBUILD_AFTER = 4096


class BadRequest(ValueError):
    """A getOrders request Houzz answers with ``Ack: Error`` (unknown status, bad paging)."""


def spelling_key(status: str) -> str:
    """A status as getOrders matches it: blanks, underscores and letter case ignored."""
    return status.replace(" ", "").replace("_", "").lower()


def status_filters(machine: MachineDef, hidden: frozenset[str]) -> dict[str, frozenset[str]]:
    """Every public status spelling (normalised) -> the canonical statuses it lists."""
    states = machine.houzz.states
    every = frozenset(states) - hidden
    terminal = frozenset(n for n, s in states.items() if s.terminal)
    filters = {"all": every, "active": every - terminal}
    for name, state in states.items():
        for spelling in (name, state.api, *state.accepts):
            if spelling:
                filters[spelling_key(spelling)] = frozenset({name}) - hidden
    return filters


_order_id = attrgetter("order_id")
_modified = attrgetter("modified")

# OrderView is a frozen dataclass: its generated __init__ makes four object.__setattr__ calls.
# A listing makes one view per changed order, so views are filled through the slots directly.
_new_object = object.__new__
_set_view_id = vars(OrderView)["order_id"].__set__
_set_view_status = vars(OrderView)["status"].__set__
_set_view_created = vars(OrderView)["created"].__set__
_set_view_modified = vars(OrderView)["modified"].__set__


def _view_of(order: HouzzOrder) -> OrderView:
    view: OrderView = _new_object(OrderView)
    _set_view_id(view, order.order_id)
    _set_view_status(view, order.status)
    _set_view_created(view, order.created)
    _set_view_modified(view, order.modified)
    order.view = view
    return view


def page_of(found: list[HouzzOrder], start: int, count: int) -> Page:
    """The page of ``found`` at offset ``start``; ``total`` counts every order found."""
    # An order's view is made once per change, however many listings show it.
    return Page([o.view or _view_of(o) for o in found[start : start + count]], len(found))


class ListingIndex:
    """The orders of ``orders`` by window time, for getOrders' From/To window.

    The index is two parallel lists, ``times`` and ``entries`` (no tuple per entry); while
    ``in_order`` they are in time order. ``last_listing`` is the last listing, (query,
    orders found), until anything changes. The lifecycle appends to the lists and clears
    ``last_listing`` itself at every change (``add``, inlined: it is the per-change hot path).
    ``everything`` is the filter that lists every indexed order (``All`` when Houzz holds no
    status back), so that listing needs no status test.
    """

    __slots__ = (
        "_everything",
        "_orders",
        "_settled",
        "_sort_key",
        "_unviewed",
        "_window_time",
        "by_modified",
        "entries",
        "in_order",
        "last_listing",
        "times",
    )

    def __init__(
        self,
        orders: dict[str, HouzzOrder],
        window_field: WindowField,
        everything: frozenset[str] | None,
    ) -> None:
        self._orders = orders
        self._everything = everything
        self.by_modified = window_field == "modified"
        self._sort_key = attrgetter(window_field, "order_id")
        self._window_time = attrgetter(window_field)
        self.times: list[int] = []
        self.entries: list[HouzzOrder] = []
        self.in_order = True
        self._settled = 0  # entries before this are in (time, order id) order
        self._unviewed = 0  # entries before this have had their order's view dropped
        self.last_listing: tuple[tuple[frozenset[str], int, int], list[HouzzOrder]] | None = None

    def add(self, order: HouzzOrder, at: int) -> None:
        """Enter the order in the index at its new window time ``at``.

        An entry is current while its time is still the order's window time; the order's
        earlier entries are stale and skipped. A change right after another of the same
        order in the same second (Process, then Charge) needs no new entry."""
        times, entries = self.times, self.entries
        if entries and entries[-1] is order and times[-1] == at:
            return
        if times and times[-1] > at:
            self.in_order = False
        times.append(at)
        entries.append(order)

    def matching(self, wanted: frozenset[str], start_time: int, end_time: int) -> list[HouzzOrder]:
        """The orders in ``wanted`` whose window time is in [start_time, end_time], sorted by
        (window time, order id)."""
        key = (wanted, start_time, end_time)
        cached = self.last_listing
        # Pages of one listing repeat the query with nothing changed in between.
        if cached is not None and cached[0] == key:
            return cached[1]
        times = self.times
        # Every order has one current entry; the rest are stale (the order changed since).
        stale = len(times) - len(self._orders)
        if not self.in_order or (stale > REBUILD_AFTER and stale * 2 > len(times)):
            self._rebuild()
            times = self.times
        elif self._settled < len(times):
            self._settle()
        lo = bisect_left(times, start_time)
        hi = bisect_right(times, end_time)
        if lo > self._unviewed:
            self._forget_views(lo)
        entries = self.entries[lo:hi]
        if self.by_modified:
            current = map(eq, map(_modified, entries), times[lo:hi])
            if wanted is self._everything:
                found = list(compress(entries, current))
            else:
                found = [o for o in compress(entries, current) if o.status in wanted]
        elif wanted is self._everything:
            found = entries  # by created time, every entry is current
        else:
            found = [o for o in entries if o.status in wanted]
        self.last_listing = (key, found)
        return found

    def _forget_views(self, upto: int) -> None:
        """Drop the cached views of orders last changed before ``upto`` (an index position).

        Listings move forward in time: an order the window has passed is seldom listed
        again, and a run of 100,000 orders need not keep a view of each to its end."""
        start = self._unviewed
        entries = self.entries[start:upto]
        if self.by_modified:
            current = map(eq, map(_modified, entries), self.times[start:upto])
            entries = list(compress(entries, current))
        for order in entries:
            order.view = None
        self._unviewed = upto

    def _settle(self) -> None:
        """Put the entries added since the last listing in (time, order id) order, once.

        Entries arrive in time order (else the index is rebuilt), but the orders changed in
        one second (a poll's worth of Process calls) arrive in the caller's order: those ties
        are sorted by id here, once per entry, not in every listing that shows them; an
        order entered twice in one second keeps one entry.
        """
        times, listed = self.times, self.entries
        first = bisect_left(times, times[self._settled])  # the second straddling the line
        self._settled = len(times)
        stamps = times[first:]
        counts = Counter(stamps)
        if len(counts) == len(stamps):
            return  # no two entries share a second
        self._unviewed = min(self._unviewed, first)  # positions from ``first`` on move
        entries = listed[first:]
        new_times: list[int] = []
        new_entries: list[HouzzOrder] = []
        done = 0
        for t, n in counts.items():  # seconds in time order
            if n == 1:
                continue
            lo = bisect_left(stamps, t, done)
            new_times += stamps[done:lo]
            new_entries += entries[done:lo]
            tied = sorted(dict.fromkeys(entries[lo : lo + n]), key=_order_id)
            new_times += [t] * len(tied)
            new_entries += tied
            done = lo + n
        new_times += stamps[done:]
        new_entries += entries[done:]
        times[first:] = new_times
        listed[first:] = new_entries
        self._settled = len(times)

    def _rebuild(self) -> None:
        """Drop stale entries and restore (time, order id) order."""
        if self.in_order:
            if self._settled < len(self.times):
                self._settle()  # every tie sorted, every order once per second
            keep = map(eq, map(self._window_time, self.entries), self.times)
            self.entries = list(compress(self.entries, keep))
        else:
            entries = self.entries
            if self.by_modified:
                entries = list(compress(entries, map(eq, map(_modified, entries), self.times)))
            self.entries = list(dict.fromkeys(entries))  # changed twice in a second: once
            self.entries.sort(key=self._sort_key)
            self.in_order = True
        self.times = list(map(self._window_time, self.entries))
        self._settled = len(self.times)
        self._unviewed = 0

    def drift(
        self, found: list[HouzzOrder], start: int, end_time: int, now: int, faults: FaultInjector
    ) -> bool:
        """Modify one order already listed before ``start`` so the rest move up one place.

        A pager that simply asks for the next offset then misses the order that moved up
        onto the page it already read. Only the modified time can drift; with
        ``window_field="created"`` pages never shift and nothing is injected.
        """
        if not self.by_modified or start >= len(found):
            return False
        first_unread = found[start]
        bar = (first_unread.modified, first_unread.order_id)
        candidates = [
            o
            for o in found[:start]
            if o.modified < now and (end_time < now or (now, o.order_id) > bar)
        ]
        if not candidates:
            return False
        order = candidates[faults.choose(len(candidates))]
        order.modified = now
        record_change(order, now, history_code(FAULT_ACTOR, PAGE_DRIFT, order.status))
        order.view = None
        self.add(order, now)
        self.last_listing = None  # a listing read before this change is out of date
        faults.record_drift(
            order.order_id,
            f"modified while a listing was read; every order after it moved up one place "
            f"({first_unread.order_id} moved onto the page already read)",
        )
        return True
