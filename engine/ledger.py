"""What CartRover keeps and what it tells: its saved state, its pipeline entries, alerts.

``ConnectorState`` is everything kept between ticks (CartRover keeps it in a database, so a
restart resumes from it); ``Books`` records each change to it as it happens: a status move
through the compiled connector table, a hold in Error, an alert, each told to the sink.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from houzzflow.engine.native import mypyc_attr
from houzzflow.engine.ports import TransientError
from houzzflow.engine.table import Rejection, Table

# Pipeline stages. The Mark steps are named after their Houzz actions; the send and the
# withdrawal are ``houzzflow.engine.recovery.SEND`` and ``WITHDRAW``.
SHIP = "Ship"
CANCEL = "Cancel"  # cancel at the backend
HOUZZ_WRITES = frozenset({"Process", "Charge", SHIP})

# A work entry is a small list, mutated in place: cheap, and plain enough to copy.
ST, DUE, TRIES, SINCE, WAIT, CHECK, HZ, EXTRA, DECLINED = range(9)
# TRIES: attempts at (or postponements of) the current stage; a stage entered with TRIES
# set belongs to a pipeline a fault interrupted, so it goes through ``recovery.resume``
# before its call. SINCE: when the stage first failed (for giving up).
# WAIT: a write is in flight, failed or was put off: wait for the next full poll to re-read
# the order before going on (the explorer's "re-read before retrying").
# CHECK: a send is in flight or its reply was lost: ask ``has_order`` before sending again.
# HZ: the Houzz status CartRover last saw (or made). EXTRA: a Ship's (tracking, method).
# DECLINED (charge_decline: retry): None; Houzz's reason for a refused Charge on an order
# CartRover saw In Production, until the next poll's re-read says whether the card was
# declined; True once it did (the order waits for the customer to fix the payment).

ALERT_HELD = "held"
ALERT_CONNECTION = "connection"
ALERT_CANCEL = "cancel"
ALERT_UNKNOWN = "unknown"
ALERT_DECLINED = "declined"


def new_entry(stage: str, now: int, status: str, extra: tuple[str, str] | None = None) -> list[Any]:
    """A pipeline entry at ``stage``, due now, never tried, the order last seen ``status``."""
    return [stage, now, 0, 0, False, False, status, extra, None]


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
    kind: str  # held | connection | cancel | declined | unknown
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
    listing_refused: str = ""  # Houzz's reason while it answers getOrders with Ack: Error
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
            listing_refused=self.listing_refused,
            ledger=dict(self.ledger),
            held=dict(self.held),
            skipped=dict(self.skipped),
            cancel_refused=set(self.cancel_refused),
            work={oid: list(entry) for oid, entry in self.work.items()},
            alerts=list(self.alerts),
        )


class Books:
    """Records changes to one connector's state as they happen, and tells the sink."""

    __slots__ = ("_moves", "initial", "sink", "state", "table")

    def __init__(self, state: ConnectorState, table: Table, sink: EventSink | None) -> None:
        self.state = state
        self.table = table
        self.initial = table.initial
        self.sink = sink
        self._moves: dict[tuple[str, str, str], str] = {}

    def move(
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

    def hold(self, now: int, oid: str, reason: str) -> None:
        self.move(now, oid, "Hold", "connector", reason)
        self.state.held[oid] = reason
        self.alert(now, oid, ALERT_HELD, f"held in Error: {reason}")

    def alert(self, now: int, oid: str, kind: str, message: str) -> None:
        self.state.alerts.append(Alert(now, oid, kind, message))
        if self.sink is not None and kind != ALERT_HELD:  # a hold is on the timeline already
            self.sink(now, oid, "Alert", message, "", "")

    def block_houzz(self, now: int, exc: TransientError) -> None:
        # Rate limited: no Houzz call at all before the time Houzz asked for. (A plain
        # failure only holds back the call that failed.)
        if exc.retry_after > 0:
            s = self.state
            s.houzz_blocked_until = max(s.houzz_blocked_until, now + exc.retry_after)


@mypyc_attr(allow_interpreted_subclasses=True)  # subclassed outside the compiled modules
class Clerk:
    """A part of the connector: it works on the books, their state, and tells their sink."""

    def __init__(self, books: Books) -> None:
        self.books = books
        self.state = books.state
        self.sink = books.sink
