"""What getOrders lists: status filters, the index of orders by window time, and paging.

Listing uses an index of (time, order handle) entries appended as orders change: an entry is
current while its time is still the order's window time (``modified`` or ``created``), the
orders changed in one second are sorted by id once (not at every listing), stale entries
are dropped when they outnumber the rest, and each order's view is made once per change.
A poll over a sliding window costs about the number of orders in the window.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable
from itertools import compress
from operator import eq
from typing import Literal

from houzzflow.engine.machine import MachineDef
from houzzflow.engine.ports import Page
from houzzflow.simulator.houzz.names import PAGE_DRIFT
from houzzflow.simulator.houzz.orders import (
    FAULT_ACTOR,
    OrderStore,
    history_code,
    status_code,
    status_name,
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


def page_of(store: OrderStore, found: list[int], start: int, count: int) -> Page:
    """The page of ``found`` (order handles in ``store``) at offset ``start``; ``total``
    counts every order found."""
    # A view is made once per change, however many listings show the order.
    made, make = store.views, store.view
    return Page([made[h] or make(h) for h in found[start : start + count]], len(found))


class ListingIndex:
    """The orders of ``store`` by window time, for getOrders' From/To window.

    The index is two parallel arrays, ``times`` (seconds) and ``entries`` (order handles):
    no tuple and no int object per entry. While ``in_order`` they are in time order.
    ``last_listing`` is the last listing, (query, handles found), until anything changes.
    The lifecycle appends to the arrays and clears ``last_listing`` itself at every change
    (``add``, inlined: it is the per-change hot path). ``everything`` is the filter that
    lists every indexed order (``All`` when Houzz holds no status back), so that listing
    needs no status test.
    """

    __slots__ = (
        "_codes",
        "_everything",
        "_settled",
        "_store",
        "_unviewed",
        "_window",
        "by_modified",
        "entries",
        "in_order",
        "last_listing",
        "times",
    )

    def __init__(
        self,
        store: OrderStore,
        window_field: WindowField,
        everything: frozenset[str] | None,
    ) -> None:
        self._store = store
        self._everything = everything
        self.by_modified = window_field == "modified"
        # The column of window times (the store's arrays grow in place: always current).
        self._window = store.modified if self.by_modified else store.created
        self._codes: dict[frozenset[str], frozenset[int]] = {}  # a filter's status codes
        self.times: array[int] = array("q")
        self.entries: array[int] = array("i")
        self.in_order = True
        self._settled = 0  # entries before this are in (time, order id) order
        self._unviewed = 0  # entries before this have had their order's view dropped
        self.last_listing: tuple[tuple[frozenset[str], int, int], list[int]] | None = None

    def add(self, handle: int, at: int) -> None:
        """Enter the order in the index at its new window time ``at``.

        An entry is current while its time is still the order's window time; the order's
        earlier entries are stale and skipped. A change right after another of the same
        order in the same second (Process, then Charge) needs no new entry."""
        times, entries = self.times, self.entries
        if entries and entries[-1] == handle and times[-1] == at:
            return
        if times and times[-1] > at:
            self.in_order = False
        times.append(at)
        entries.append(handle)

    def _sort_key(self, handle: int) -> tuple[int, str]:
        return (self._window[handle], self._store.ids[handle])

    def _status_codes(self, wanted: frozenset[str]) -> frozenset[int]:
        codes = self._codes.get(wanted)
        if codes is None:
            codes = self._codes[wanted] = frozenset(status_code(s) for s in wanted)
        return codes

    def matching(self, wanted: frozenset[str], start_time: int, end_time: int) -> list[int]:
        """The orders (handles) in ``wanted`` whose window time is in [start_time,
        end_time], sorted by (window time, order id)."""
        key = (wanted, start_time, end_time)
        cached = self.last_listing
        # Pages of one listing repeat the query with nothing changed in between.
        if cached is not None and cached[0] == key:
            return cached[1]
        times = self.times
        # Every order has one current entry; the rest are stale (the order changed since).
        stale = len(times) - len(self._store)
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
        if wanted is self._everything:
            if self.by_modified:
                current = map(eq, map(self._window.__getitem__, entries), times[lo:hi])
                found = list(compress(entries, current))
            else:
                found = entries.tolist()  # by created time, every entry is current
        else:
            codes = self._status_codes(wanted)
            status = self._store.status
            if self.by_modified:
                current = map(eq, map(self._window.__getitem__, entries), times[lo:hi])
                found = [h for h in compress(entries, current) if status[h] in codes]
            else:
                found = [h for h in entries if status[h] in codes]
        self.last_listing = (key, found)
        return found

    def _forget_views(self, upto: int) -> None:
        """Drop the cached views of orders last changed before ``upto`` (an index position).

        Listings move forward in time: an order the window has passed is seldom listed
        again, and a run of 100,000 orders need not keep a view of each to its end."""
        start = self._unviewed
        self._unviewed = upto
        views = self._store.views
        passed: Iterable[int] = self.entries[start:upto]
        if self.by_modified:
            current = map(eq, map(self._window.__getitem__, passed), self.times[start:upto])
            passed = compress(self.entries[start:upto], current)
        for handle in passed:
            views[handle] = None

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
        order_id = self._store.ids.__getitem__
        new_times: list[int] = []
        new_entries: list[int] = []
        done = 0
        for t, n in counts.items():  # seconds in time order
            if n == 1:
                continue
            lo = bisect_left(stamps, t, done)
            new_times += stamps[done:lo]
            new_entries += entries[done:lo]
            tied = sorted(dict.fromkeys(entries[lo : lo + n]), key=order_id)
            new_times += [t] * len(tied)
            new_entries += tied
            done = lo + n
        new_times += stamps[done:]
        new_entries += entries[done:]
        times[first:] = array("q", new_times)
        listed[first:] = array("i", new_entries)
        self._settled = len(times)

    def _rebuild(self) -> None:
        """Drop stale entries and restore (time, order id) order."""
        window = self._window.__getitem__
        if self.in_order:
            if self._settled < len(self.times):
                self._settle()  # every tie sorted, every order once per second
            keep = map(eq, map(window, self.entries), self.times)
            self.entries = array("i", compress(self.entries, keep))
        else:
            entries: Iterable[int] = self.entries
            if self.by_modified:
                entries = compress(entries, map(eq, map(window, self.entries), self.times))
            # An order changed twice in a second is entered once.
            self.entries = array("i", sorted(dict.fromkeys(entries), key=self._sort_key))
            self.in_order = True
        self.times = array("q", map(window, self.entries))
        self._settled = len(self.times)
        self._unviewed = 0

    def drift(
        self, found: list[int], start: int, end_time: int, now: int, faults: FaultInjector
    ) -> bool:
        """Modify one order already listed before ``start`` so the rest move up one place.

        A pager that simply asks for the next offset then misses the order that moved up
        onto the page it already read. Only the modified time can drift; with
        ``window_field="created"`` pages never shift and nothing is injected.
        """
        if not self.by_modified or start >= len(found):
            return False
        store = self._store
        modified, ids = store.modified, store.ids
        first_unread = found[start]
        bar = (modified[first_unread], ids[first_unread])
        candidates = [
            h
            for h in found[:start]
            if modified[h] < now and (end_time < now or (now, ids[h]) > bar)
        ]
        if not candidates:
            return False
        handle = candidates[faults.choose(len(candidates))]
        modified[handle] = now
        status = status_name(store.status[handle])
        store.record(handle, now, history_code(FAULT_ACTOR, PAGE_DRIFT, status))
        store.views[handle] = None
        self.add(handle, now)
        self.last_listing = None  # a listing read before this change is out of date
        faults.record_drift(
            ids[handle],
            f"modified while a listing was read; every order after it moved up one place "
            f"({ids[first_unread]} moved onto the page already read)",
        )
        return True
