"""CartRover at work: polls Houzz, loads orders, marks them, sends them, confirms shipments.

The connector talks to the world only through ``engine.ports`` (the fake Houzz, a real HTTP
client, any backend) and takes every decision from ``houzzflow.engine.decisions`` and its own status
moves from the compiled connector table, so the simulation and the explorer's proof share
one definition of CartRover's behaviour.

What it does on each ``tick`` (DOMAIN.md sections 4 and 6):

* **Poll** when due: list ``Status=All`` over a sliding window of *modified* time that
  overlaps the previous poll by ``overlap`` (one poll interval by default), page by page
  until done, de-duplicated by order id. A listing whose pages shifted under it (the total
  changed, or fewer distinct orders came back than the total) is scanned again; a poll that
  still cannot be read whole does not move the window on, so nothing slips between polls.
  The first window starts at Earliest Order Date, or at ``origin`` when that is unset.
* **Decide** each listed order with ``decide``: load it, skip it (latest reason kept in the
  skipped log), skip it by design, or handle a cancellation (Order Cancel Download).
* **Work** each loaded order through its pipeline: the enabled Mark steps strictly (Process,
  then Charge; a refusal holds the order in Error with ``hold_reason``), then the send to the
  backend. Shipments reported by the backend become one Ship call per order, tracking numbers
  joined by commas, the first package's shipping method.
* **Faults**: a failed write keeps the order where it was in its pipeline. Before it is
  tried again the order is re-read in the next full poll (it may have been cancelled or
  moved on meanwhile): a Houzz step counts as done if the order got there (``reached``), and
  a send whose reply was lost is checked with ``has_order``, so nothing is sent twice. A
  failed page is asked again at once; a rate limit stops every Houzz call until its
  ``retry_after``. Retries back off (60 s doubling to an hour) and give up after 15 days,
  holding the order in Error. A clean ``Ack`` error is never reconciled: it is a refusal.

Every change is made to ``ConnectorState`` as it happens (CartRover keeps its ledger in a
database), and a write is marked in flight before it is made, so a crash loses only what was
in memory: the poll in progress and the reply of the call in flight. ``snapshot`` and
``Connector.restore`` carry the state across a restart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, NamedTuple, Protocol

from houzzflow.engine.decisions import (
    CANCELLED,
    Decision,
    Seen,
    decide,
    hold_reason,
    mark_steps,
    reached,
)
from houzzflow.engine.policy import Policy
from houzzflow.engine.ports import (
    BackendPort,
    HouzzPort,
    OrderView,
    Page,
    ReplyLost,
    Shipment,
    TransientError,
)
from houzzflow.engine.table import Rejection, Table, connector_table, houzz_table

DEFAULT_EPOCH = dt.date(2026, 1, 1)  # the calendar date of simulated second 0
PAGE_SIZE = 1000
MAX_SCANS = 3  # listings of one window before a poll is left incomplete
PAGE_TRIES = 3  # a page that fails (not rate limited) is asked for again at once
BACKOFF_FIRST = 60
BACKOFF_MAX = 3600  # "retried hourly"
GIVE_UP_AFTER = 15 * 86400  # "for about 15 days"

# Pipeline stages. The Mark steps are named after their Houzz actions.
SHIP = "Ship"
SEND = "Send"
WITHDRAW = "Withdraw"  # cancelled in Houzz while a send's outcome is unknown
CANCEL = "Cancel"  # cancel at the backend
HOUZZ_WRITES = frozenset({"Process", "Charge", SHIP})

# A work entry is a small list, mutated in place: cheap, and plain enough to copy.
ST, DUE, TRIES, SINCE, WAIT, CHECK, HZ, EXTRA = range(8)
# What one Houzz write came to.
NOT_DONE, WRITTEN, RECONCILED = range(3)
# TRIES: attempts at (or postponements of) the current stage; a step tried before counts
# as done if a re-read shows the order got there. WAIT: a write is in flight, failed or was
# put off: wait for the next full poll to re-read the order before going on (the explorer's
# "re-read before retrying").
# CHECK: a send is in flight or its reply was lost: ask ``has_order`` before sending again.
# HZ: the Houzz status CartRover last saw (or made). EXTRA: a Ship's (tracking, method).

_order_id = attrgetter("order_id")

ALERT_HELD = "held"
ALERT_CONNECTION = "connection"
ALERT_CANCEL = "cancel"
ALERT_UNKNOWN = "unknown"


class EventSink(Protocol):
    """Receives everything the connector does, e.g. the simulator's timeline."""

    def __call__(
        self,
        time: int,
        order_id: str,
        action: str,
        detail: str,
        houzz_status: str,
        connector_status: str,
    ) -> None: ...


class Alert(NamedTuple):
    time: int
    order_id: str
    kind: str  # held | connection | cancel | unknown
    message: str


@dataclass(slots=True)
class ConnectorState:
    """Everything CartRover keeps between ticks: plain data, copied whole by ``copy``."""

    cursor: int | None = None  # the end of the last poll that listed its whole window
    started_at: int | None = None  # when the first poll ran
    next_poll: int = 0
    poll_failures: int = 0
    polls: int = 0  # polls that listed their whole window
    houzz_blocked_until: int = 0  # a rate limit or an outage: no Houzz calls before then
    ledger: dict[str, str] = field(default_factory=dict)  # loaded order -> connector status
    held: dict[str, str] = field(default_factory=dict)  # order in Error -> reason
    skipped: dict[str, str] = field(default_factory=dict)  # never loaded -> latest reason
    cancel_refused: set[str] = field(default_factory=set)
    work: dict[str, list[Any]] = field(default_factory=dict)  # order -> pipeline entry
    alerts: list[Alert] = field(default_factory=list)

    def copy(self) -> ConnectorState:
        return ConnectorState(
            cursor=self.cursor,
            started_at=self.started_at,
            next_poll=self.next_poll,
            poll_failures=self.poll_failures,
            polls=self.polls,
            houzz_blocked_until=self.houzz_blocked_until,
            ledger=dict(self.ledger),
            held=dict(self.held),
            skipped=dict(self.skipped),
            cancel_refused=set(self.cancel_refused),
            work={oid: list(entry) for oid, entry in self.work.items()},
            alerts=list(self.alerts),
        )


def epoch_seconds(day: dt.date, epoch: dt.date = DEFAULT_EPOCH) -> int:
    """Simulated seconds at midnight starting ``day``."""
    return (day - epoch).days * 86400


def _write_targets() -> dict[str, str]:
    """The Houzz status each write of CartRover's leads to, read off the machine."""
    targets: dict[str, str] = {}
    for program in ("seller", "vendor"):
        for era in ("legacy", "2021"):
            for (_, action), move in houzz_table(program, era).moves.items():
                if action in HOUZZ_WRITES and "connector" in move.actors:
                    targets.setdefault(action, move.dest)
    return targets


class Connector:
    """CartRover's Houzz connector for one cart, driven by ``tick`` on a host's clock."""

    def __init__(
        self,
        policy: Policy,
        houzz: HouzzPort,
        backend: BackendPort,
        *,
        now: Callable[[], int],
        sink: EventSink | None = None,
        page_size: int = PAGE_SIZE,
        overlap: int | None = None,
        origin: int = 0,
        epoch: dt.date = DEFAULT_EPOCH,
        state: ConnectorState | None = None,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be 1 or more")
        self.policy = policy
        self.houzz = houzz
        self.backend = backend
        self.now = now
        self.sink = sink
        self.page_size = page_size
        self.overlap = policy.poll_interval if overlap is None else overlap
        self.origin = origin
        eod = policy.earliest_order_date
        self.earliest = None if eod is None else epoch_seconds(eod, epoch)
        self.state = state if state is not None else ConnectorState()
        self.steps = mark_steps(policy)
        self.first_stage = self.steps[0] if self.steps else SEND
        self.next_stage = dict(zip(self.steps, (*self.steps[1:], SEND), strict=False))
        self.table: Table = connector_table()
        self.initial = self.table.initial
        # Which Houzz lifecycle a re-read is judged against: the one the policy assumes.
        self.houzz_table: Table = houzz_table(policy.account, policy.era)
        self.targets = _write_targets()
        self._decided: dict[tuple[str, str | None, bool], Seen] = {}
        # Most orders a poll lists are loaded and need nothing: for each status CartRover
        # has an order in, the Houzz statuses about which ``decide`` says so, asked once.
        self._quiet: dict[str, frozenset[str]] = {
            known: frozenset(
                status
                for status in self.houzz_table.states
                if self._decide(status, known, False).decision is Decision.NOTHING
            )
            for known in self.table.states
        }
        self._moves: dict[tuple[str, str, str], str] = {}
        # Legacy Seller orders are charged only by hand or by CartRover: one that shows up
        # already Charged smells of a Vendor account behind a Seller connection.
        self.smell = policy.connection_type == "seller" and policy.era == "legacy"

    @classmethod
    def restore(
        cls,
        state: ConnectorState,
        policy: Policy,
        houzz: HouzzPort,
        backend: BackendPort,
        **options: Any,
    ) -> Connector:
        """A connector restarted from saved state (the state is copied, never shared).

        It polls at once, and every order in its pipeline waits for that poll's re-read
        before its next step: while CartRover was down, orders may have been cancelled.
        """
        saved = state.copy()
        saved.next_poll = 0
        for entry in saved.work.values():
            if entry[ST] in HOUZZ_WRITES or entry[ST] == SEND:
                entry[WAIT] = True
                entry[TRIES] = max(entry[TRIES], 1)  # put off by the crash: a retry
        return cls(policy, houzz, backend, state=saved, **options)

    def snapshot(self) -> ConnectorState:
        return self.state.copy()

    # -- views -------------------------------------------------------------------------------

    def status_of(self, order_id: str) -> str | None:
        return self.state.ledger.get(order_id)

    @property
    def alerts(self) -> list[Alert]:
        return self.state.alerts

    def next_due(self) -> int:
        """When the next tick has something to do (never before ``now() + 1``)."""
        s = self.state
        due = max(s.next_poll, s.houzz_blocked_until)
        for entry in s.work.values():
            if entry[WAIT]:
                continue  # waits for a poll
            if entry[DUE] < due:
                due = entry[DUE]
        return max(due, self.now() + 1)

    # -- the tick ----------------------------------------------------------------------------

    def tick(self) -> None:
        """Poll if due, collect shipments, and move every loaded order on as far as it goes."""
        now = self.now()
        s = self.state
        if now >= s.next_poll and now >= s.houzz_blocked_until:
            self.poll(now)
        self._collect_shipments(now)
        self._work(now)

    def drive(self, now: int, *, poll: bool = False, collect: bool = False) -> None:
        """Do one thing now, by hand, whatever the schedule says (a scripted world).

        ``poll`` polls Houzz, ``collect`` collects the warehouse's shipments; then every
        pending order moves on as far as it goes, its backoff waived: a script's events
        are the only moments anything happens.
        """
        if poll:
            self.poll(now)
        if collect:
            self._collect_shipments(now)
        for entry in self.state.work.values():
            entry[DUE] = min(entry[DUE], now)
        self._work(now)

    def poll(self, now: int) -> bool:
        """One poll of Houzz; True when it listed its whole window."""
        s = self.state
        if s.started_at is None:
            s.started_at = now
        if s.cursor is None:
            start = self.origin if self.earliest is None else self.earliest
        else:
            start = s.cursor - self.overlap
        views: dict[str, OrderView] = {}
        complete = False
        failure: TransientError | None = None
        try:
            for _ in range(MAX_SCANS):
                total, stable = self._scan(start, now, views)
                if stable and len(views) >= total:
                    complete = True
                    break
        except TransientError as exc:
            failure = exc
        self._consider(now, views, complete)
        sink = self.sink
        if complete:
            s.cursor = now
            s.polls += 1
            s.poll_failures = 0
            s.next_poll = max(now + self.policy.poll_interval, s.houzz_blocked_until)
            if sink is not None:
                sink(now, "", "Poll", f"listed {len(views)} orders modified since {start}s", "", "")
            return True
        if failure is not None:
            s.poll_failures += 1
            wait = self._backoff(s.poll_failures, failure.retry_after)
            wait = min(wait, self.policy.poll_interval) if not failure.retry_after else wait
            s.next_poll = now + wait
            self._block_houzz(now, failure)
            if sink is not None:
                sink(now, "", "PollFailed", f"{failure}; next try in {wait} s", "", "")
        else:
            # The pages kept shifting: keep the window where it was and try again next time.
            s.next_poll = now + self.policy.poll_interval
            if sink is not None:
                sink(now, "", "PollIncomplete", "the listing shifted while paging", "", "")
        return False

    # -- polling -----------------------------------------------------------------------------

    def _scan(self, start: int, end: int, views: dict[str, OrderView]) -> tuple[int, bool]:
        """List the window once, page by page; (total, whether the total held still)."""
        get_orders = self.houzz.get_orders
        count = self.page_size
        offset = 0
        first_total: int | None = None
        stable = True
        while True:
            page = self._page(get_orders, start, end, offset, count)
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
        start: int,
        end: int,
        offset: int,
        count: int,
    ) -> Page:
        """One page; a plain failure is asked again at once (a rate limit is not)."""
        for _ in range(PAGE_TRIES - 1):
            try:
                return get_orders("All", start, end, offset, count)
            except TransientError as exc:
                if exc.retry_after:
                    raise
        return get_orders("All", start, end, offset, count)

    def _consider(self, now: int, views: dict[str, OrderView], complete: bool) -> None:
        s = self.state
        ledger = s.ledger
        skipped = s.skipped
        work = s.work
        sink = self.sink
        earliest = self.earliest
        load = Decision.LOAD
        nothing = Decision.NOTHING
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
                    ledger[oid] = self.initial
                    if not first:
                        del skipped[oid]
                    work[oid] = [self.first_stage, now, 0, 0, False, False, status, None]
                    if sink is not None:
                        sink(now, oid, "Load", f"loaded it ({status})", status, self.initial)
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
                if entry is not None and entry[ST] == SEND and entry[CHECK]:
                    entry[ST] = WITHDRAW  # the warehouse may have it: ask before deciding
                    entry[DUE] = now
                    continue
                work.pop(oid, None)
                s.held.pop(oid, None)
                self._move(now, oid, "CancelBeforeSend", "connector", seen.reason, status)
            elif seen.decision is Decision.CANCEL_AT_BACKEND:
                if oid in s.cancel_refused or (entry is not None and entry[ST] == CANCEL):
                    continue
                work[oid] = [CANCEL, now, 0, 0, False, False, status, None]
                if sink is not None:
                    sink(now, oid, "CancelSeen", seen.reason, status, known)
        if complete:
            # Not listed in a full window: not modified since, so a failed write had no effect.
            for oid, entry in work.items():
                if entry[WAIT] and oid not in views:
                    entry[WAIT] = False
                    entry[DUE] = max(entry[DUE], now)

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
        self._alert(
            now,
            view.order_id,
            ALERT_CONNECTION,
            "first seen already Charged, never New or In Production, on a Houzz Seller "
            "connection: wrong connection type?",
        )

    # -- the pipeline ------------------------------------------------------------------------

    def _work(self, now: int) -> None:
        work = self.state.work
        if not work:
            return
        # Each order's steps touch only its own entry, so a copy of the items is safe.
        for oid, entry in list(work.items()):
            if entry[DUE] <= now:
                self._advance(now, oid, entry)

    def _advance(self, now: int, oid: str, entry: list[Any]) -> None:
        s = self.state
        while True:
            stage = entry[ST]
            if stage in HOUZZ_WRITES:
                if entry[WAIT]:
                    return  # waits for the next full poll to re-read the order
                if now < s.houzz_blocked_until:
                    # Houzz failed this tick: the step waits, like a failed one, for a
                    # re-read (by then the order may have moved on) and counts as tried.
                    entry[DUE] = s.houzz_blocked_until
                    entry[WAIT] = True
                    entry[TRIES] = max(entry[TRIES], 1)
                    return
                done = self._houzz_write(now, oid, entry, stage)
                if done == NOT_DONE:
                    return
                if stage == SHIP:
                    del s.work[oid]
                    self._move(now, oid, "Confirm", "connector", "tracking posted to Houzz")
                    return
                # Once a fault interrupted the pipeline, every later step re-reads first: a
                # step someone did meanwhile (staff charging by hand) counts as done instead
                # of being refused. The explorer's resumed pipeline does the same.
                resumed = done == RECONCILED or entry[TRIES] > 1 or entry[SINCE]
                entry[ST] = self.next_stage[stage]
                entry[TRIES] = 1 if resumed else 0
                entry[SINCE] = 0
            elif stage == SEND:
                if not entry[WAIT]:
                    self._send(now, oid, entry)
                return
            elif stage == WITHDRAW:
                self._withdraw(now, oid, entry)
                if entry[ST] != CANCEL:
                    return
            elif stage == CANCEL:
                self._cancel_at_backend(now, oid, entry)
                return
            else:  # pragma: no cover - entries are only ever made with the stages above
                raise AssertionError(f"unknown pipeline stage {stage!r}")

    def _houzz_write(self, now: int, oid: str, entry: list[Any], action: str) -> int:
        """One Houzz write: WRITTEN (accepted), RECONCILED (a re-read found it done) or
        NOT_DONE (failed, refused, or waiting)."""
        if entry[TRIES] and reached(self.houzz_table, self.targets[action], entry[HZ]):
            if self.sink is not None:
                self.sink(now, oid, "Reconciled", f"re-read: {action} had taken effect", "", "")
            return RECONCILED
        entry[WAIT] = True  # in flight: if this call never answers, re-read before retrying
        entry[TRIES] += 1
        extra = entry[EXTRA]
        try:
            if extra is None:
                ack = self.houzz.update_order(oid, action)
            else:
                ack = self.houzz.update_order(
                    oid, action, shipping_method=extra[1], tracking_number=extra[0]
                )
        except TransientError as exc:
            # Lost reply or not, someone may have moved the order meanwhile: re-read first.
            self._retry_later(now, oid, entry, action, exc)
            if not isinstance(exc, ReplyLost):
                self._block_houzz(now, exc)
            return NOT_DONE
        entry[WAIT] = False
        if ack.ok:
            target = entry[HZ] = self.targets[action]
            if self.sink is not None:
                detail = f"{action} accepted" + (f": {extra[0]} ({extra[1]})" if extra else "")
                self.sink(now, oid, action, detail, target, "")
            return WRITTEN
        known = entry[HZ]
        del self.state.work[oid]
        if action == SHIP:
            reason = f"Houzz refused the shipment confirmation: {ack.reason}"
        else:
            reason = hold_reason(Rejection(known, action, "connector", ack.reason))
        if self.sink is not None:
            self.sink(now, oid, action, f"{action} refused: {ack.reason}", "", "")
        self._hold(now, oid, reason)
        return NOT_DONE

    def _send(self, now: int, oid: str, entry: list[Any]) -> None:
        backend = self.backend
        if entry[CHECK]:
            try:
                present = backend.has_order(oid)
            except TransientError as exc:
                self._retry_later(now, oid, entry, SEND, exc)
                return
            entry[CHECK] = False
            if present:
                self._sent(now, oid, "the warehouse already had it (an earlier send got through)")
                return
        entry[CHECK] = entry[WAIT] = True  # in flight
        entry[TRIES] += 1
        try:
            ack = backend.send_order(oid)
        except TransientError as exc:
            # Re-read the order before sending again (it may be cancelled by then); after a
            # lost reply, ask the warehouse too.
            entry[CHECK] = isinstance(exc, ReplyLost)
            self._retry_later(now, oid, entry, SEND, exc)
            return
        entry[CHECK] = entry[WAIT] = False
        if ack.ok:
            del self.state.work[oid]
            self._move(now, oid, "Send", "connector", "sent to the warehouse")
            return
        del self.state.work[oid]
        self._hold(now, oid, f"the warehouse refused it: {ack.reason}")

    def _sent(self, now: int, oid: str, detail: str) -> None:
        del self.state.work[oid]
        self._move(now, oid, "Send", "connector", detail)

    def _withdraw(self, now: int, oid: str, entry: list[Any]) -> None:
        """Cancelled in Houzz while a send's outcome was unknown: does the warehouse have it?"""
        entry[TRIES] += 1
        try:
            present = self.backend.has_order(oid)
        except TransientError as exc:
            self._retry_later(now, oid, entry, WITHDRAW, exc)
            return
        if present:
            self._move(now, oid, "Send", "connector", "the warehouse already had it")
            entry[ST] = CANCEL
            entry[TRIES] = entry[SINCE] = 0
            entry[CHECK] = False
            return
        del self.state.work[oid]
        self._move(
            now, oid, "CancelBeforeSend", "connector", "cancelled in Houzz before it was sent"
        )

    def _cancel_at_backend(self, now: int, oid: str, entry: list[Any]) -> None:
        s = self.state
        entry[TRIES] += 1
        try:
            ack = self.backend.cancel_order(oid)
        except TransientError as exc:
            self._retry_later(now, oid, entry, CANCEL, exc)
            return
        del s.work[oid]
        if ack.ok:
            self._move(now, oid, "CancelAtBackend", "backend", "the warehouse cancelled it")
            return
        s.cancel_refused.add(oid)
        if self.sink is not None:
            self.sink(now, oid, "CancelRefused", ack.reason, CANCELLED, s.ledger.get(oid, ""))
        self._alert(
            now,
            oid,
            ALERT_CANCEL,
            f"cancelled in Houzz, but the warehouse refused to cancel it ({ack.reason}): "
            "shipped before the cancellation was seen",
        )

    def _collect_shipments(self, now: int) -> None:
        try:
            shipments = self.backend.shipments()
        except TransientError:
            return  # the backend keeps them until they are collected
        for shipment in shipments:
            self._shipped(now, shipment)

    def _shipped(self, now: int, shipment: Shipment) -> None:
        s = self.state
        oid = shipment.order_id
        known = s.ledger.get(oid)
        pending = s.work.get(oid) if s.work else None
        if (
            pending is not None
            and known == self.initial
            and pending[CHECK]
            and pending[ST] in (SEND, WITHDRAW)
        ):
            # A send whose reply was lost (or a crash mid-send) did get through.
            self._move(now, oid, "Send", "connector", "the warehouse had it after all")
            known = "AtWMS"
            if pending[ST] == WITHDRAW:
                pending[ST] = CANCEL
            else:
                del s.work[oid]
                pending = None
        if known != "AtWMS":
            self._alert(
                now,
                oid,
                ALERT_UNKNOWN,
                f"the warehouse shipped an order CartRover has as {known or 'not loaded'}",
            )
            return
        packages = shipment.packages
        if len(packages) == 1:
            tracking, method = packages[0].tracking_number, packages[0].shipping_method
        else:
            tracking = ",".join([p.tracking_number for p in packages])
            method = packages[0].shipping_method if packages else ""
        if pending is not None and pending[ST] == CANCEL:
            self._alert(
                now,
                oid,
                ALERT_CANCEL,
                "cancelled in Houzz, but the warehouse shipped it before the cancellation was seen",
            )
        told = f"shipped: {tracking} ({method})" if self.sink is not None else ""
        self._move(now, oid, "ShipFromBackend", "backend", told)
        s.work[oid] = [SHIP, now, 0, 0, False, False, "Charged", (tracking, method)]

    # -- helpers -----------------------------------------------------------------------------

    def _move(
        self, now: int, oid: str, action: str, actor: str, detail: str, houzz: str = ""
    ) -> None:
        """A connector status move, through the compiled table."""
        ledger = self.state.ledger
        key = (ledger.get(oid, self.initial), action, actor)
        result = self._moves.get(key)
        if result is None:
            step = self.table.step(*key)
            if isinstance(step, Rejection):  # pragma: no cover - the pipeline never asks this
                raise AssertionError(f"order {oid}: {step.reason}")
            result = self._moves[key] = step
        ledger[oid] = result
        if self.sink is not None:
            self.sink(now, oid, action, detail, houzz, result)

    def _hold(self, now: int, oid: str, reason: str) -> None:
        self._move(now, oid, "Hold", "connector", reason)
        self.state.held[oid] = reason
        self._alert(now, oid, ALERT_HELD, f"held in Error: {reason}")

    def _alert(self, now: int, oid: str, kind: str, message: str) -> None:
        self.state.alerts.append(Alert(now, oid, kind, message))
        if self.sink is not None and kind != ALERT_HELD:  # a hold is on the timeline already
            self.sink(now, oid, "Alert", message, "", "")

    def _retry_later(
        self, now: int, oid: str, entry: list[Any], stage: str, exc: TransientError
    ) -> None:
        if not entry[SINCE]:
            entry[SINCE] = now
        wait = self._backoff(max(entry[TRIES], 1), exc.retry_after)
        entry[DUE] = now + wait
        lost = isinstance(exc, ReplyLost)
        if self.sink is not None:
            what = "reply lost" if lost else "failed"
            self.sink(now, oid, "Retry", f"{stage} {what}: {exc}; retry in {wait} s", "", "")
        if now - entry[SINCE] >= GIVE_UP_AFTER:
            s = self.state
            del s.work[oid]
            if s.ledger.get(oid) == "AtWMS":  # a cancel nobody could deliver
                self._alert(
                    now, oid, ALERT_CANCEL, f"gave up cancelling it at the warehouse: {exc}"
                )
            else:
                self._hold(now, oid, f"{stage} kept failing for 15 days: {exc}")

    @staticmethod
    def _backoff(tries: int, retry_after: int) -> int:
        wait = BACKOFF_FIRST << min(tries - 1, 10)
        return max(min(wait, BACKOFF_MAX), retry_after, 1)

    def _block_houzz(self, now: int, exc: TransientError) -> None:
        # Rate limited: no Houzz call at all before the time Houzz asked for. (A plain
        # failure only holds back the call that failed.)
        if exc.retry_after > 0:
            s = self.state
            s.houzz_blocked_until = max(s.houzz_blocked_until, now + exc.retry_after)
