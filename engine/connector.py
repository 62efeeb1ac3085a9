"""CartRover at work: polls Houzz, loads orders, marks them, sends them, confirms shipments.

The connector talks to the world only through ``engine.ports`` (the fake Houzz, a real HTTP
client, any backend), takes every decision from ``houzzflow.engine.decisions``, its recovery
after a fault from ``houzzflow.engine.recovery`` and its own status moves from the compiled
connector table, so the simulation and the explorer's proof share one definition of
CartRover's behaviour. This module wires its parts together:

* ``houzzflow.engine.polling`` -- **poll** when due: list ``Status=All`` (or, with
  ``listing: status_filter``, each status Order Status loads) over a sliding
  window of *modified* time that overlaps the previous poll by ``overlap`` (one poll interval
  by default), page by page, de-duplicated by order id; a listing whose pages shifted is
  scanned again, and a poll that cannot be read whole does not move the window on. The first
  window starts at Earliest Order Date, or at ``origin`` when that is unset. **Decide** each
  listed order with ``decide``: load it, skip it (latest reason kept in the skipped log), skip
  it by design, or handle a cancellation (Order Cancel Download).
* ``houzzflow.engine.pipeline`` -- **work** each loaded order through its pipeline: the
  enabled Mark steps strictly (Process, then Charge; a refusal holds the order in Error with
  ``hold_reason``, a declined card too unless ``charge_decline`` is ``retry``), then the
  send to the backend.
* ``houzzflow.engine.shipments`` -- shipments reported by the backend become one Ship call
  per order, tracking numbers joined by commas, the first package's shipping method.
* ``houzzflow.engine.ledger`` -- the saved state, the pipeline entries and the alerts.

**Faults**: a failed write keeps the order where it was in its pipeline. Before it is tried
again the order is re-read in the next full poll (it may have been cancelled or moved on
meanwhile): a Houzz step counts as done if the order got there, and a send whose reply was
lost is checked with ``has_order``, so nothing is sent twice. A failed page is asked again at
once; a rate limit stops every Houzz call until its ``retry_after``. Retries back off (60 s
doubling to an hour) and give up after 15 days, holding the order in Error. A clean ``Ack``
error is never reconciled: it is a refusal.

**What CartRover really does** where the sources are silent (the register's questions about
CartRover: ``charge_decline``, ``listing``, ``write_order``) is ``behaviour``: the simulated
world's answers, the register's defaults unless given. A policy's pins are the merchant's
beliefs about these; the connector never reads them. With ``write_order: stage_by_stage``
the pipeline hands each stage's calls to the ports as batches (``engine.ports``).

Every change is made to ``ConnectorState`` as it happens (CartRover keeps its ledger in a
database), and a write is marked in flight before it is made, so a crash loses only what was
in memory: the poll in progress and the reply of the call in flight. ``snapshot`` and
``Connector.restore`` carry the state across a restart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from houzzflow.engine.assumptions import answers
from houzzflow.engine.ledger import (
    DUE,
    HOUZZ_WRITES,
    ST,
    TRIES,
    WAIT,
    Alert,
    Books,
    ConnectorState,
    EventSink,
)
from houzzflow.engine.machine import Facts
from houzzflow.engine.pipeline import Pipeline
from houzzflow.engine.policy import Policy
from houzzflow.engine.polling import PAGE_SIZE, Poller
from houzzflow.engine.ports import BackendPort, HouzzPort
from houzzflow.engine.recovery import SEND
from houzzflow.engine.shipments import Shipments
from houzzflow.engine.table import connector_table

__all__ = [
    "DEFAULT_EPOCH",
    "HOUZZ_WRITES",
    "Alert",
    "Connector",
    "ConnectorState",
    "EventSink",
    "epoch_seconds",
]

DEFAULT_EPOCH = dt.date(2026, 1, 1)  # the calendar date of simulated second 0


def epoch_seconds(day: dt.date, epoch: dt.date = DEFAULT_EPOCH) -> int:
    """Simulated seconds at midnight starting ``day``."""
    return (day - epoch).days * 86400


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
        behaviour: Facts = (),
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be 1 or more")
        does = answers(behaviour, "cartrover")  # ValueError for a name the register lacks
        self.behaviour = tuple(sorted(does.items()))
        self.policy = policy
        self.houzz = houzz
        self.backend = backend
        self.now = now
        self.sink = sink
        self.state = state if state is not None else ConnectorState()
        # The poll window's settings (``polling.Window``), which a host may change between ticks.
        self.page_size = page_size
        self.overlap = policy.poll_interval if overlap is None else overlap
        self.origin = origin
        eod = policy.earliest_order_date
        self.earliest = None if eod is None else epoch_seconds(eod, epoch)
        books = Books(self.state, connector_table(), sink)
        self.pipeline = Pipeline(
            policy,
            houzz,
            backend,
            books,
            retry_declines=does["charge_decline"] == "retry",
            by_stage=does["write_order"] == "stage_by_stage",
        )
        self.poller = Poller(
            policy,
            houzz,
            books,
            self,
            self.pipeline.first_stage,
            status_filter=does["listing"] == "status_filter",
        )
        self.shipments = Shipments(backend, books)

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
            self.poller.poll(now)
        self.shipments.collect(now)
        self.pipeline.work(now)

    def drive(self, now: int, *, poll: bool = False, collect: bool = False) -> None:
        """Do one thing now, by hand, whatever the schedule says (a scripted world).

        ``poll`` polls Houzz, ``collect`` collects the warehouse's shipments; then every
        pending order moves on as far as it goes, its backoff waived: a script's events
        are the only moments anything happens.
        """
        if poll:
            self.poller.poll(now)
        if collect:
            self.shipments.collect(now)
        for entry in self.state.work.values():
            entry[DUE] = min(entry[DUE], now)
        self.pipeline.work(now)

    def poll(self, now: int) -> bool:
        """One poll of Houzz; True when it listed its whole window."""
        return self.poller.poll(now)
