"""Polling Houzz: the sliding window, paging and re-scans, and what each listed order comes to.

A poll lists ``Status=All`` over a window of *modified* time that overlaps the previous poll,
page by page, de-duplicated by order id; a listing whose pages shifted is scanned again, and
a poll that cannot be read whole does not move the window on. Each listed order is decided
with ``houzzflow.engine.decisions.decide`` (load, skip, cancel), and the poll is the re-read
a write interrupted by a fault waits for (``houzzflow.engine.recovery``).

What CartRover lists is an open question (``listing`` in engine/assumptions.yaml): with
``status_filter`` it asks Houzz for each status its Order Status loads instead of ``All``,
so it never sees, and never logs, an order in any other status. A getOrders that Houzz
refuses (``AckError``: a connection of the wrong program, when Houzz says so) leaves the
window where it was, raises one alert while the same refusal lasts, and is asked again at
the next poll.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any, Protocol

from houzzflow.engine.decisions import Decision, Seen, decide
from houzzflow.engine.ledger import (
    ALERT_CONNECTION,
    CANCEL,
    CHECK,
    DUE,
    HZ,
    ST,
    WAIT,
    Books,
    Clerk,
    new_entry,
)
from houzzflow.engine.policy import LOADS, Policy
from houzzflow.engine.ports import AckError, HouzzPort, OrderView, Page, TransientError
from houzzflow.engine.recovery import WITHDRAW, Resume, backoff, resume
from houzzflow.engine.table import houzz_table

PAGE_SIZE = 1000
MAX_SCANS = 3  # listings of one window before a poll is left incomplete
PAGE_TRIES = 3  # a page that fails (not rate limited) is asked for again at once

_order_id = attrgetter("order_id")


class Window(Protocol):
    """The connector's settings for its poll windows, read afresh at every poll."""

    page_size: int
    overlap: int  # seconds each window reaches back before the end of the last full poll
    origin: int  # where the first window starts when Earliest Order Date is unset
    earliest: int | None  # Earliest Order Date, in simulated seconds


class Poller(Clerk):
    """One connector's polls of Houzz, and its decision on each order they list."""

    def __init__(
        self,
        policy: Policy,
        houzz: HouzzPort,
        books: Books,
        window: Window,
        first_stage: str,
        *,
        status_filter: bool = False,
    ) -> None:
        super().__init__(books)
        self.policy = policy
        self.houzz = houzz
        self.houzz_table = houzz_table(policy.account, policy.era)
        self.window = window
        self.first_stage = first_stage
        # The getOrders Status values a poll asks for: everything, or what Order Status loads.
        loads = LOADS[policy.order_status]
        self.statuses: tuple[str, ...] = (
            tuple(s for s in self.houzz_table.states if s in loads) if status_filter else ("All",)
        )
        self._decided: dict[tuple[str, str | None, bool], Seen] = {}
        # Most orders a poll lists are loaded and need nothing: for each status CartRover
        # has an order in, the Houzz statuses about which ``decide`` says so, asked once.
        self._quiet: dict[str, frozenset[str]] = {
            known: frozenset(
                status
                for status in self.houzz_table.states
                if self._decide(status, known, False).decision is Decision.NOTHING
            )
            for known in books.table.states
        }
        # Legacy Seller orders are charged only by hand or by CartRover: one that shows up
        # already Charged smells of a Vendor account behind a Seller connection.
        self.smell = policy.connection_type == "seller" and policy.era == "legacy"

    def poll(self, now: int) -> bool:
        """One poll of Houzz; True when it listed its whole window."""
        s = self.state
        if s.started_at is None:
            s.started_at = now
        window = self.window
        if s.cursor is None:
            start = window.origin if window.earliest is None else window.earliest
        else:
            start = s.cursor - window.overlap
        views: dict[str, OrderView] = {}
        complete = False
        failure: TransientError | None = None
        refused: AckError | None = None
        try:
            complete = all([self._list(status, start, now, views) for status in self.statuses])
        except TransientError as exc:
            failure = exc
        except AckError as exc:
            refused = exc
        self._consider(now, views, complete)
        sink = self.sink
        if complete:
            s.cursor = now
            s.polls += 1
            s.poll_failures = 0
            s.listing_refused = ""
            s.next_poll = max(now + self.policy.poll_interval, s.houzz_blocked_until)
            if sink is not None:
                listed = f"{len(views)} order{'' if len(views) == 1 else 's'}"
                sink(now, "", "Poll", f"listed {listed} modified since {start}s", "", "")
            return True
        if refused is not None:
            self._refused(now, refused.reason)
            return False
        if failure is not None:
            s.poll_failures += 1
            wait = backoff(s.poll_failures, failure.retry_after)
            wait = min(wait, self.policy.poll_interval) if not failure.retry_after else wait
            s.next_poll = now + wait
            self.books.block_houzz(now, failure)
            if sink is not None:
                sink(now, "", "PollFailed", f"{failure}; next try in {wait} s", "", "")
        else:
            # The pages kept shifting: keep the window where it was and try again next time.
            s.next_poll = now + self.policy.poll_interval
            if sink is not None:
                sink(now, "", "PollIncomplete", "the listing shifted while paging", "", "")
        return False

    def _list(self, status: str, start: int, end: int, views: dict[str, OrderView]) -> bool:
        """List ``status`` over the window into ``views``, scanned again while its pages
        shift; True when it was read whole."""
        listed = views if len(self.statuses) == 1 else {}
        try:
            for _ in range(MAX_SCANS):
                total, stable = self._scan(status, start, end, listed)
                if stable and len(listed) >= total:
                    return True
            return False
        finally:
            if listed is not views:
                views.update(listed)

    def _refused(self, now: int, reason: str) -> None:
        """Houzz answered getOrders with Ack: Error: CartRover shows it, and asks again at
        the next poll (one alert while the same refusal lasts)."""
        s = self.state
        s.next_poll = now + self.policy.poll_interval
        if self.sink is not None:
            self.sink(now, "", "PollRefused", f"Houzz refused to list orders: {reason}", "", "")
        if s.listing_refused != reason:
            s.listing_refused = reason
            self.books.alert(
                now,
                "",
                ALERT_CONNECTION,
                f"Houzz refused to list orders: {reason}; no order is loaded until the "
                "connection is fixed",
            )

    def _scan(
        self, status: str, start: int, end: int, views: dict[str, OrderView]
    ) -> tuple[int, bool]:
        """List the window once, page by page; (total, whether the total held still)."""
        get_orders = self.houzz.get_orders
        count = self.window.page_size
        offset = 0
        first_total: int | None = None
        stable = True
        while True:
            page = self._page(get_orders, status, start, end, offset, count)
            views.update(zip(map(_order_id, page.orders), page.orders, strict=True))
            if first_total is None:
                first_total = page.total
            elif page.total != first_total:
                stable = False
            offset += count
            if len(page.orders) < count or offset >= page.total:
                return page.total, stable

    @staticmethod
    def _page(
        get_orders: Callable[[str, int, int, int, int], Page],
        status: str,
        start: int,
        end: int,
        offset: int,
        count: int,
    ) -> Page:
        """One page; a plain failure is asked again at once (a rate limit is not)."""
        for _ in range(PAGE_TRIES - 1):
            try:
                return get_orders(status, start, end, offset, count)
            except TransientError as exc:
                if exc.retry_after:
                    raise
        return get_orders(status, start, end, offset, count)

    def _consider(self, now: int, views: dict[str, OrderView], complete: bool) -> None:
        s = self.state
        ledger = s.ledger
        skipped = s.skipped
        work = s.work
        sink = self.sink
        earliest = self.window.earliest
        load = Decision.LOAD
        nothing = Decision.NOTHING
        ask = Resume.ASK_WAREHOUSE
        decided = self._decided
        quiet = self._quiet
        never: frozenset[str] = frozenset()  # a status from a restored ledger, unknown here
        for oid, view in views.items():
            known = ledger.get(oid)
            status = view.status
            if known is not None and status in quiet.get(known, never) and oid not in work:
                continue  # loaded, nothing to do, no write waiting for this re-read
            if known is None:
                before = earliest is not None and view.created < earliest
                seen = decided.get((status, None, before)) or self._decide(status, None, before)
                first = oid not in skipped
                if first and self.smell and status == "Charged":
                    self._smell(now, view)
                if seen.decision is load:
                    ledger[oid] = self.books.initial
                    if not first:
                        del skipped[oid]
                    work[oid] = new_entry(self.first_stage, now, status)
                    if sink is not None:
                        sink(now, oid, "Load", f"loaded it ({status})", status, ledger[oid])
                elif skipped.get(oid) != seen.reason:
                    skipped[oid] = seen.reason
                    if sink is not None:
                        action = "Skip" if seen.decision is Decision.SKIP else "SkipByDesign"
                        sink(now, oid, action, seen.reason, status, "")
                continue
            entry = work.get(oid) if work else None
            if entry is not None and entry[WAIT]:
                entry[HZ] = status  # the re-read a failed write waits for
                entry[WAIT] = False
                entry[DUE] = max(entry[DUE], now)
            if status in quiet.get(known, never):
                continue
            seen = decided.get((status, known, False)) or self._decide(status, known, False)
            if seen.decision is nothing:
                continue
            if seen.decision is Decision.CANCEL_UNSENT:
                if entry is not None and self._after_cancel(entry, status) is ask:
                    entry[ST] = WITHDRAW  # the warehouse may have it: ask before deciding
                    entry[DUE] = now
                    continue
                work.pop(oid, None)
                s.held.pop(oid, None)
                self.books.move(now, oid, "CancelBeforeSend", "connector", seen.reason, status)
            elif seen.decision is Decision.CANCEL_AT_BACKEND:
                if oid in s.cancel_refused or (entry is not None and entry[ST] == CANCEL):
                    continue
                work[oid] = new_entry(CANCEL, now, status)
                if sink is not None:
                    sink(now, oid, "CancelSeen", seen.reason, status, known)
        if complete:
            # Not listed in a full window: not modified since, so a failed write had no effect.
            for oid, entry in work.items():
                if entry[WAIT] and oid not in views:
                    entry[WAIT] = False
                    entry[DUE] = max(entry[DUE], now)

    def _after_cancel(self, entry: list[Any], status: str) -> Resume:
        """Cancelled in Houzz with a write pending: ``CANCEL_UNSENT``, unless that write is a
        send whose outcome is unknown (``ASK_WAREHOUSE``)."""
        unknown = entry[CHECK]
        return resume(self.houzz_table, entry[ST], status, "", cancelled=True, send_unknown=unknown)

    def _decide(self, status: str, known: str | None, before: bool) -> Seen:
        # ``decide`` is pure: one call per distinct question, then a dict lookup.
        seen = decide(self.policy, status, known, before_earliest=before)
        self._decided[(status, known, before)] = seen
        return seen

    def _smell(self, now: int, view: OrderView) -> None:
        s = self.state
        if s.cursor is None or view.created <= s.cursor:
            return  # an order from before the last full poll may well be Charged by now
        if now - s.cursor > 2 * self.policy.poll_interval:
            return  # polls were failing: it had time to be charged by hand
        self.books.alert(
            now,
            view.order_id,
            ALERT_CONNECTION,
            "first seen already Charged, never New or In Production, on a Houzz Seller "
            "connection: wrong connection type?",
        )
