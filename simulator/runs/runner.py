"""Running a scenario: the world on one clock, CartRover polling it, then the invariants.

``run_scenario`` builds the simulated clock and the random streams of the seed (one per
component: ``kernel.streams``), the fake Houzz, the customers, staff and warehouse, and the
connector (the engine) with the scenario's policy; it ticks the connector whenever it asks
to, crashes and restarts it from its saved state when the scenario says so, runs to
``duration``, then *drains*: no new orders, but the world goes on (customers, staff, Houzz's
clocks, CartRover's polls, the warehouse, a person resolving held orders) until every order
has settled or nothing more can happen, for at most the scenario's ``drain``; then it checks
the invariants and the scenario's expectations. Same scenario, same seed: the same result,
to the byte.

The drain counts what has settled incrementally: one pass at the end of the order stream
keeps the orders not yet settled (and counts those in flight), and each check after that
only moves a pointer past the ones whose fate no longer changes (``invariants.Judge``).
The invariants judge an order as it settles too: when Houzz ships it, the common case is
tested with the order at hand, so the final ``check`` only reads CartRover's status of
those (``invariants.Settled``).

Memory: a run of 100,000 orders keeps no per-event record. The runner notes only the few
moments the invariants need (an order sent or shipped unpaid, a cancelled order shipped);
when an invariant fails it runs the same seed again with a timeline watching just the
orders it reports, so each violation still carries its full story.
"""

from __future__ import annotations

import contextlib
import itertools
import random
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple, TypeVar

from houzzflow.engine.connector import (
    HOUZZ_WRITES,
    Alert,
    Connector,
    ConnectorState,
    EventSink,
    epoch_seconds,
)
from houzzflow.engine.diagnostics import Location
from houzzflow.engine.ledger import ALERT_HELD
from houzzflow.engine.policy import format_duration
from houzzflow.engine.ports import BackendPort, HouzzPort, TransientError
from houzzflow.simulator.houzz.names import AUTHORIZATION_LAPSE, AUTO_CHARGE, NEW
from houzzflow.simulator.houzz.state import CANCELLED, CHARGED, SHIPPED, FakeHouzz, HouzzOrder
from houzzflow.simulator.kernel.clock import Clock
from houzzflow.simulator.kernel.collector import cycles_uncollected
from houzzflow.simulator.kernel.faults import ERROR, FAIL_CALL, PAGE_DRIFT, RATE_LIMIT, REPLY_LOST
from houzzflow.simulator.kernel.streams import Streams
from houzzflow.simulator.kernel.timeline import Happening, Timeline
from houzzflow.simulator.runs import world_of
from houzzflow.simulator.runs.guarded import GuardedBackend, GuardedHouzz
from houzzflow.simulator.runs.invariants import (
    CONFIRMED,
    IN_FLIGHT,
    INVARIANTS,
    SETTLED,
    SILENT,
    Judge,
    Observations,
    Settled,
    Verdict,
    Violation,
    check,
    houzz_clock_pending,
)
from houzzflow.simulator.runs.scenario import Expectation, Scenario
from houzzflow.simulator.runs.script import ArmedFaults, ScriptPlayer
from houzzflow.simulator.world.backend import Warehouse
from houzzflow.simulator.world.customers import Customers, place_backlog
from houzzflow.simulator.world.observed import ObservedWarehouse
from houzzflow.simulator.world.resolver import Resolver
from houzzflow.simulator.world.staff import StaffAtWork

Progress = Callable[[int, int], None]  # (simulated now, end)
_T = TypeVar("_T")

SHOWN = 5  # violations per invariant told with their timeline
RESTART_AFTER = 60  # seconds a crashed connector is down before it restarts
PROGRESS_STEPS = 200
# The label of the connector's ticks on the clock (see houzzflow.simulator.kernel.clock); a
# restart after a crash ticks at once, outside the clock, so it is not labelled.
CONNECTOR_TICK = "connector tick"
DRAIN_STEP = 900  # simulated seconds between two looks at what has settled in a drain
# How each kind of fault reads when it explains why orders are stuck.
FAULT_WORDS = {
    RATE_LIMIT: "{n} calls answered 429 Retry-After",
    ERROR: "{n} calls failed",
    FAIL_CALL: "{n} calls failed",
    REPLY_LOST: "{n} replies lost",
    PAGE_DRIFT: "{n} listings shifted while paged",
}
STAFF_WORDS = {"Process": "process", "Charge": "charge", "Cancel": "cancel"}


def span_text(seconds: int) -> str:
    """A span of simulated time in words: ``2d 3h 15m``, ``45s``, ``0s``."""
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    if seconds or not parts:
        parts.append(f"{seconds}s")
    return " ".join(parts)


@dataclass(frozen=True, slots=True)
class Drain:
    """How the run's drain went: its ``limit`` and the time it took (``used``, seconds after
    the order stream ended), the orders ``in_flight`` when the stream ended, and why it
    ended: ``settled`` (every order settled), ``quiet`` (nothing more could happen, some
    orders unsettled for good), ``limit``, ``off`` (``drain: 0``) or ``scripted``."""

    limit: int
    used: int
    in_flight: int
    ended: str

    def words(self, stuck: int = 0) -> str:
        """The drain in one line, for the report (``stuck``: orders in flight at its end)."""
        if self.ended == "scripted":
            return (
                "none: a scripted world has no clocks of its own (no order stream, staff "
                "habits, Houzz clocks, warehouse timing or poll schedule), so nothing "
                "happens after its last step; it is judged as the script leaves it"
            )
        flying = f"{self.in_flight} order{'s' if self.in_flight != 1 else ''} in flight"
        if self.ended == "off":
            return f"off (drain: 0): judged as the order stream ended, with {flying}"
        limit = f"(limit {format_duration(self.limit)})"
        if self.used == 0:
            if self.ended == "settled":
                return f"not needed: every order had settled when the order stream ended {limit}"
            return f"not needed: nothing more could happen when the order stream ended {limit}"
        head = f"the order stream ended with {flying};"
        used = span_text(self.used)
        if self.ended == "settled":
            return f"{head} every order had settled {used} later {limit}"
        if self.ended == "quiet":
            return f"{head} {used} later nothing more could happen {limit}"
        return (
            f"{head} at the drain's limit of {format_duration(self.limit)}, {stuck} "
            f"{'were' if stuck != 1 else 'was'} still in flight"
        )


class ConnectorCrash(BaseException):
    """The connector's process died mid-call (simulated): not an error it can handle."""


@dataclass(frozen=True, slots=True)
class ExpectationResult:
    expectation: Expectation
    actual: int
    ok: bool
    missing: tuple[str, ...] = ()  # alert texts expected but not raised

    @property
    def location(self) -> Location:
        return self.expectation.location

    @property
    def message(self) -> str:
        """``lost = 0: got 3``, in the scenario's words."""
        text = f"{self.expectation.describe()}: got {self.actual}"
        if self.missing:
            text += "; no alert says " + ", ".join(repr(m) for m in self.missing)
        return text


@dataclass
class RunResult:
    scenario: Scenario
    placed: int
    end: int
    polls: int
    crashes: int
    faults: dict[str, int]
    verdict: Verdict
    counts: dict[str, int]
    alerts: list[Alert]
    expectations: list[ExpectationResult]
    timelines: dict[str, list[Happening]] = field(default_factory=dict)
    drain: Drain = Drain(0, 0, 0, "off")
    # The world as the run left it, for a test harness to inspect (``houzz.orders``,
    # ``warehouse.received``, the connector's ledger and skipped log).
    houzz: FakeHouzz | None = field(default=None, repr=False)
    warehouse: Warehouse | None = field(default=None, repr=False)
    connector: ConnectorState | None = field(default=None, repr=False)
    # With ``run_scenario(..., pictures=True)`` (the HTML report): ``Sample``s over the run,
    # every complete poll's time, and the timelines of a few orders that went well.
    series: list[Sample] = field(default_factory=list)
    poll_times: list[int] = field(default_factory=list)
    healthy: dict[str, list[Happening]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.expectations)

    @property
    def violations(self) -> list[Violation]:
        """Every violation found, invariant by invariant."""
        return [v for key in INVARIANTS for v in self.verdict.violations.get(key, [])]

    def shown(self, invariant: str) -> list[Violation]:
        """The violations of one invariant told with their timelines."""
        return told(invariant, self.verdict.violations.get(invariant, []))

    @property
    def exit_code(self) -> int:
        """0 when every expectation held, else 1 (as ``houzzflow run`` exits)."""
        return 0 if self.ok else 1

    def to_json(self) -> dict[str, Any]:
        """This run as ``houzzflow run --format json`` prints it (one of its ``scenarios``)."""
        from houzzflow.simulator.runs.report import result_json  # report builds on this module

        return result_json(self)


class Sample(NamedTuple):
    """The run at one moment: orders placed so far, those not yet in a terminal Houzz status
    (in flight: not shipped, not cancelled), and CartRover's backlog: orders it has yet to
    load, or is still working on (a pipeline step due or being retried)."""

    time: int
    placed: int
    in_flight: int
    backlog: int


SAMPLES = 150  # samples over the order stream (the drain goes on at the same pace)
HEALTHY = 3  # orders that went well, told with their timelines in a picture of the run


class _CrashSwitch:
    """Arms a crash after every N full polls; the connector dies during one of its next few
    writes (which takes effect or not: a coin toss) and restarts from its saved state."""

    def __init__(self, every: int, seed: int) -> None:
        self.every = every
        self.armed = False
        self.countdown = 0
        self.rng = random.Random(f"houzzflow-crash-{seed}")

    def poll_done(self, polls: int) -> None:
        if polls % self.every == 0 and not self.armed:
            self.armed = True
            self.countdown = self.rng.randint(1, 10)

    def write(self, order_id: str, action: str, call: Callable[[], _T]) -> _T:
        """Make one write through the switch: it may be the one the connector dies in."""
        if self.armed:
            self.countdown -= 1
            if self.countdown <= 0:
                self.armed = False
                if self.rng.random() < 0.5:
                    with contextlib.suppress(TransientError):
                        call()
                raise ConnectorCrash
        return call()


def told(invariant: str, found: list[Violation], shown: int = SHOWN) -> list[Violation]:
    """The violations told with their timelines: the first ``shown``; of lost orders, the
    first ``shown`` of each kind (silent, then visible)."""
    if invariant != "lost":
        return found[:shown]
    kinds: dict[str, list[Violation]] = {}
    for violation in found:
        of_kind = kinds.setdefault(violation.kind, [])
        if len(of_kind) < shown:
            of_kind.append(violation)
    return [v for of_kind in kinds.values() for v in of_kind]


def _connector_sink(timeline: Timeline) -> EventSink:
    """The connector's events onto the timeline, minus the writes the fake Houzz records."""

    def record(
        time: int,
        order_id: str,
        action: str,
        detail: str,
        houzz_status: str,
        connector_status: str,
    ) -> None:
        if houzz_status and action in HOUZZ_WRITES:
            return  # an accepted Process/Charge/Ship: Houzz's own record says it already
        timeline.record(time, order_id, action, detail, houzz_status, connector_status)

    return record


class _Run:
    """One simulation of a scenario: the world, the connector, and what was noted."""

    # The world's actors the drain asks what they are still to do (none in a script).
    staff_at_work: StaffAtWork | None
    customers: Customers | None
    resolver: Resolver | None

    def __init__(
        self,
        scenario: Scenario,
        timeline: Timeline | None,
        clock: Clock | None = None,
        *,
        sampled: bool = False,
    ) -> None:
        spec = scenario.spec
        world = spec.world
        policy = scenario.policy
        self.scenario = scenario
        self.timeline = timeline
        self.clock = clock = Clock() if clock is None else clock
        # One stream per component, none shared (see kernel.streams).
        streams = Streams(spec.seed)
        scripted = bool(world.script)
        self.houzz = houzz = FakeHouzz(
            program=scenario.program,
            era=scenario.era,
            clock=clock,
            rng=streams.sequence("order ids"),
            streams=streams,
            timeline=timeline,
            facts=world.facts(),
            connection=policy.connection_type,
            faults=None if scripted else world_of.fault_plan(world.faults),
            charge_failure_rate=0.0 if scripted else world.houzz.charge_failure_rate,
            own_clocks=not scripted,
        )
        self._begin_notes()
        self.series: list[Sample] = []
        if sampled:
            self._begin_samples()
        self.player: ScriptPlayer | None = None
        if scripted:
            self._scripted(scenario, streams)
            return
        staff = world_of.staff(world.staff, policy)
        self.staff_at_work = staff.attach(houzz, clock, houzz.rng, draws=streams.keyed("staff"))
        o = world.orders
        self.customers = world_of.order_stream(o).schedule(
            houzz, clock, houzz.rng, spec.duration, streams=streams
        )
        origin = 0
        if world.backlog is not None and world.backlog.count:
            within = world.backlog.within
            origin = -within
            count, backlog = world.backlog.count, streams.sequence("backlog")
            place_backlog(houzz, backlog, count=count, within=within, items=o.items[0])
        b = world.backend
        self.warehouse = ObservedWarehouse(
            houzz,
            self.moments,
            clock=clock,
            rng=houzz.rng,
            draws=streams.keyed("warehouse"),
            timeline=timeline,
            ship_delay=b.ship_delay,
            packages=b.packages,
            refuse_cancel_after_ship=b.refuse_cancel_after_ship,
        )
        crash_every = world.faults.crash_every_polls
        self.switch = _CrashSwitch(crash_every, world.faults.seed) if crash_every else None
        houzz_port: HouzzPort = houzz
        backend_port: BackendPort = self.warehouse
        if self.switch is not None:
            houzz_port = GuardedHouzz(houzz, self.switch)
            backend_port = GuardedBackend(self.warehouse, self.switch)
        self.options: dict[str, Any] = {
            "now": lambda: clock.now,
            "sink": _connector_sink(timeline) if timeline is not None else None,
            "page_size": spec.connector.page_size,
            "overlap": spec.connector.overlap,
            "origin": origin,
            "behaviour": world.facts(),
            "epoch": scenario.start,
        }
        self.ports = (houzz_port, backend_port)
        self.connector: Connector | None = Connector(
            policy, houzz_port, backend_port, **self.options
        )
        self.saved: ConnectorState | None = None
        self.crashes = 0
        self.resolver = Resolver(
            world_of.habit(world.staff.resolve_errors, "never"),
            houzz=houzz,
            warehouse=self.warehouse,
            clock=clock,
            seed=spec.seed,
            timeline=timeline,
            connector=lambda: self.connector,
        )
        clock.at(0, self._tick, label=CONNECTOR_TICK)
        self._judge_as_they_settle(houzz, self.warehouse)

    def _begin_notes(self) -> None:
        """What the runner notes while the world runs, for the invariants and the drain: the
        moments of cancellations, complete polls and shipments of cancelled orders (one
        counter for all, so ties within a second keep the order they ran in)."""
        self.moments = itertools.count(1)
        self.poll_times: list[int] = []
        self.poll_moments: list[int] = []
        self.cancel_moments: dict[str, int] = {}
        self.staff_at_work = None
        self.customers = None
        self.resolver = None
        self._alerts_seen = 0
        self.houzz.subscribe(self._cancelled, statuses=(CANCELLED,))
        self.settled: Settled | None = None  # orders judged as they settle (not in a script)
        # Which of Houzz's own clocks run in this world (none in a script: it makes them).
        moves = self.houzz.table.moves
        clocks = not self.scenario.spec.world.script
        self.houzz_clocks = (
            clocks and (NEW, AUTO_CHARGE) in moves,
            clocks and (CHARGED, AUTHORIZATION_LAPSE) in moves,
        )
        self.stream_end = self.scenario.duration
        self.faults_at_stream_end: Counter[str] = Counter()
        self.calls_at_stream_end = 0
        self.drain = Drain(self.scenario.drain, 0, 0, "off")

    def _judge_as_they_settle(self, houzz: FakeHouzz, warehouse: ObservedWarehouse) -> None:
        """Judge orders as they settle (``invariants.Settled``), fed by Houzz and the warehouse."""
        if not Settled.applies(houzz.table):
            return
        w = warehouse
        self.settled = settled = Settled(w.received, w.shipped, w.unpaid_at_send, w.unpaid_at_ship)
        houzz.subscribe(settled.shipped, statuses=(SHIPPED,))
        w.touched = settled.touched

    def _begin_samples(self) -> None:
        """Sample the run at a steady pace, for a picture of it; reading only, so the run
        goes exactly as it would unsampled."""
        terminal = self.houzz.table.terminal
        done: set[str] = set()
        self.houzz.subscribe(lambda order, _action: done.add(order.order_id), statuses=terminal)
        step = max(60, self.scenario.duration // SAMPLES)

        def sample() -> None:
            placed = len(self.houzz.orders)
            state = self.state()
            now = self.clock.now
            backlog = placed - len(state.ledger) + len(state.work)
            self.series.append(Sample(now, placed, placed - len(done), backlog))
            self.clock.at(now + step, sample, label="sample")

        self.clock.at(0, sample, label="sample")

    def _cancelled(self, order: HouzzOrder, action: str) -> None:
        self.cancel_moments[order.order_id] = next(self.moments)

    def _polled(self, now: int) -> None:
        self.poll_times.append(now)
        self.poll_moments.append(next(self.moments))

    def _noticed(self, connector: Connector) -> None:
        """Tell the person who resolves held orders of the holds CartRover just made."""
        alerts = connector.state.alerts
        seen, self._alerts_seen = self._alerts_seen, len(alerts)
        resolver = self.resolver
        if resolver is not None and resolver.active:
            for alert in alerts[seen:]:
                if alert.kind == ALERT_HELD:
                    resolver.held(alert.order_id)

    def _scripted(self, scenario: Scenario, streams: Streams) -> None:
        """A scripted world: only the script's events happen (a replayed counterexample)."""
        spec = scenario.spec
        b = spec.world.backend
        self.warehouse = ObservedWarehouse(
            self.houzz,
            self.moments,
            clock=self.clock,
            rng=self.houzz.rng,
            draws=streams.keyed("warehouse"),
            timeline=self.timeline,
            packages=b.packages,
            refuse_cancel_after_ship=b.refuse_cancel_after_ship,
            auto_ship=False,
        )
        armed = ArmedFaults()
        self.switch = None
        self.ports = (GuardedHouzz(self.houzz, armed), GuardedBackend(self.warehouse, armed))
        self.options = {
            "now": lambda: self.clock.now,
            "sink": _connector_sink(self.timeline) if self.timeline is not None else None,
            "page_size": spec.connector.page_size,
            "overlap": spec.connector.overlap,
            "origin": 0,
            "behaviour": spec.world.facts(),
            "epoch": scenario.start,
        }
        self.connector = Connector(scenario.policy, *self.ports, **self.options)
        self.saved = None
        self.crashes = 0
        self.player = ScriptPlayer(
            spec.world.script,
            clock=self.clock,
            houzz=self.houzz,
            warehouse=self.warehouse,
            faults=armed,
            timeline=self.timeline,
            polled=self._polled,
        )
        self.player.start(self.connector)

    def _tick(self) -> None:
        connector = self.connector
        if connector is None:
            return  # down after a crash; the restart schedules the next tick
        polls = connector.state.polls
        crashed = False
        try:
            connector.tick()
        except ConnectorCrash:
            crashed = True
            self._crashed(connector)
            return
        finally:
            if connector.state.polls != polls:
                # A poll counts for the invariants once CartRover got to act on what it
                # listed: one cut short by a crash (a cancellation seen but not yet passed
                # to the warehouse) is as if it never happened; the restart polls again.
                if not crashed:
                    self._polled(self.clock.now)
                if self.switch is not None:
                    self.switch.poll_done(connector.state.polls)
        self._noticed(connector)
        self.clock.at(connector.next_due(), self._tick, label=CONNECTOR_TICK)

    def _crashed(self, connector: Connector) -> None:
        # Everything CartRover changed is persisted as it happens: the snapshot is its
        # database; the poll in progress, the timers and the reply in flight are gone.
        self.saved = connector.snapshot()
        self.connector = None
        self.crashes += 1
        now = self.clock.now
        if self.timeline is not None:
            self.timeline.add(Happening(now, "", "fault", "Crash", "the connector crashed"))
        self.clock.at(now + RESTART_AFTER, self._restart)

    def _restart(self) -> None:
        assert self.saved is not None
        houzz_port, backend_port = self.ports
        self.connector = Connector.restore(
            self.saved, self.scenario.policy, houzz_port, backend_port, **self.options
        )
        self.saved = None
        self._tick()

    def run(self, progress: Progress | None) -> None:
        """Run the order stream to ``duration``, then drain (see the module doc)."""
        end = self.scenario.duration
        self._run_until(end, end, progress)
        faults = self.houzz.faults
        if faults is not None:
            self.faults_at_stream_end = Counter(faults.injected)
            self.calls_at_stream_end = faults.calls
        self._drain(progress)

    def _run_until(self, until: int, total: int, progress: Progress | None) -> None:
        start = self.clock.now
        if progress is None:
            self.clock.run(until=until)
            return
        step = max(1, total // PROGRESS_STEPS)
        for moment in range(start + step, until + step, step):
            self.clock.run(until=min(moment, until))
            progress(self.clock.now, total)

    def _drain(self, progress: Progress | None) -> None:
        """Let the world go on, no new orders, until every order settled or nothing more
        can happen, for at most the scenario's ``drain``."""
        scenario = self.scenario
        limit = scenario.drain
        judge = Judge(self.observations())
        ledger = judge.ledger
        unsettled: list[tuple[str, HouzzOrder]] = []
        in_flight = 0
        head = -1  # every order before it has settled, or will never change again
        orders = self.houzz.orders
        for oid in orders:
            if ledger.get(oid) == "Confirmed":
                continue  # done: whatever the invariants say of it, nothing more happens
            order = orders[oid]
            fate = judge.fate(oid, order)
            if fate not in SETTLED:
                if fate == IN_FLIGHT:
                    in_flight += 1
                    if head < 0:
                        head = len(unsettled)
                unsettled.append((oid, order))
        head = len(unsettled) if head < 0 else head
        if self.player is not None or not limit:
            ended = "scripted" if self.player is not None else "off"
            self.drain = Drain(limit, 0, in_flight, ended)
            return
        start = self.clock.now
        end = start + limit
        while True:
            while head < len(unsettled) and judge.fate(*unsettled[head]) != IN_FLIGHT:
                head += 1
            if head == len(unsettled) or self.clock.now >= end:
                break
            until = min(self.clock.now + DRAIN_STEP, end)
            self._run_until(until, end, progress)
            judge = Judge(self.observations())  # afresh: a restart replaces CartRover's state
        used = self.clock.now - start
        if head < len(unsettled):
            ended = "limit"
        else:
            ended = "settled" if all(judge.fate(*o) in SETTLED for o in unsettled) else "quiet"
        self.drain = Drain(limit, used, in_flight, ended)

    def pending(self, order: HouzzOrder, held: bool) -> str:
        """What the world is still to do to this order, in words ("" nothing). Of a held
        order only what changes its fate counts: a person resolving it, a cancellation."""
        oid = order.order_id
        resolver, customers = self.resolver, self.customers
        if resolver is not None and resolver.active:
            if oid in resolver.pending:
                return "held in Error; a person is about to resolve it"
            if held and oid in resolver.waiting and customers and oid in customers.fixing:
                return "held in Error after a declined card; resolved once the customer pays"
        staff = self.staff_at_work
        doing = staff.pending.get(oid) if staff is not None else None
        if doing and (not held or "Cancel" in doing):
            action = "Cancel" if held else doing[0]
            return f"staff are yet to {STAFF_WORDS.get(action, action)} it by hand"
        if customers is not None:
            if oid in customers.cancelling:
                return "its customer is about to cancel it"
            if not held and oid in customers.fixing:
                return "its customer is yet to fix the payment"
        if held:
            return ""
        return houzz_clock_pending(order, self.clock.now, self.houzz, *self.houzz_clocks)

    def health(self) -> str:
        """How CartRover's polls and calls went over the drain (the whole run without one),
        in words: why the orders in its pipeline are stuck."""
        start = self.stream_end if self.drain.used else 0
        span = self.clock.now - start
        polls = len(self.poll_times) - bisect_left(self.poll_times, start)
        what = f"the {span_text(span)} drain" if self.drain.used else span_text(span)
        faults = self.houzz.faults
        calls = ""
        told: list[str] = []
        if faults is not None:
            since = Counter(faults.injected)
            made = faults.calls
            if self.drain.used:
                since.subtract(self.faults_at_stream_end)
                made -= self.calls_at_stream_end
            calls = f" and made {made} Houzz call{'' if made == 1 else 's'}"
            told = [FAULT_WORDS[k].format(n=n) for k, n in sorted(since.items()) if n > 0]
        interval = format_duration(self.scenario.policy.poll_interval)
        polled = f"{polls} poll{'' if polls == 1 else 's'}"
        words = f"CartRover completed {polled}{calls} in {what} (one is due every {interval})"
        if told:
            words += "; Houzz: " + ", ".join(told)
        if self.crashes:
            words += f"; CartRover crashed {self.crashes} times"
        return words

    def state(self) -> ConnectorState:
        if self.connector is not None:
            return self.connector.state
        assert self.saved is not None
        return self.saved

    def observations(self) -> Observations:
        policy = self.scenario.policy
        eod = policy.earliest_order_date
        warehouse = self.warehouse
        return Observations(
            policy=policy,
            table=self.houzz.table,
            orders=self.houzz.orders,
            received=warehouse.received,
            shipped=warehouse.shipped,
            state=self.state(),
            poll_times=self.poll_times,
            earliest=None if eod is None else epoch_seconds(eod, self.scenario.start),
            unpaid_at_send=warehouse.unpaid_at_send,
            unpaid_at_ship=warehouse.unpaid_at_ship,
            cancelled_at_ship=warehouse.cancelled_at_ship,
            connected=policy.connection_type == self.houzz.program,
            now=self.clock.now,
            received_at=warehouse.received_at,
            cancelled_at_warehouse=warehouse.cancelled,
            poll_moments=self.poll_moments,
            cancel_moments=self.cancel_moments,
            ship_moments=warehouse.ship_moments,
            pending=self.pending,
            down=self.connector is None,
        )


def run_scenario(
    scenario: Scenario,
    progress: Progress | None = None,
    *,
    clock: Clock | None = None,
    pictures: bool = False,
) -> RunResult:
    """Simulate ``scenario`` and judge it: invariants, counts and expectations.

    ``pictures``: also keep what a picture of the run needs (``RunResult.series``,
    ``poll_times`` and ``healthy``); the run itself goes the same.

    ``clock``: the run's clock, new and untouched (a fresh ``Clock`` when None); a subclass
    may watch the world through the labels of what it schedules (see ``Clock``). When an
    invariant fails, the run's replay that tells the story uses a fresh clock of its own.
    """
    if clock is not None and (clock.now or clock.pending()):
        raise ValueError("run_scenario needs a new clock: this one has already been used")
    with cycles_uncollected():
        return _judged_run(scenario, progress, clock, pictures)


def _judged_run(
    scenario: Scenario, progress: Progress | None, clock: Clock | None, pictures: bool = False
) -> RunResult:
    run = _Run(scenario, timeline=None, clock=clock, sampled=pictures)
    run.run(progress)
    observed = run.observations()
    observed.health = run.health()
    verdict = check(observed, run.settled)
    verdict.in_flight = run.drain.in_flight
    state = run.state()
    timelines: dict[str, list[Happening]] = {}
    healthy_lines: dict[str, list[Happening]] = {}
    shown = [v.order_id for key in INVARIANTS for v in told(key, verdict.violations[key])]
    healthy: list[str] = []
    if pictures:
        wrong = {v.order_id for found in verdict.violations.values() for v in found}
        confirmed = (oid for oid, st in state.ledger.items() if st == "Confirmed")
        healthy = list(itertools.islice((o for o in confirmed if o not in wrong), HEALTHY))
    if shown or healthy:
        # The same seed again, this time telling the story of the orders that went wrong.
        replay = _Run(scenario, timeline=Timeline(watch=frozenset(shown + healthy)))
        replay.run(None)
        assert replay.timeline is not None
        timelines = {oid: replay.timeline.of(oid) for oid in shown}
        healthy_lines = {oid: replay.timeline.of(oid) for oid in healthy}
        verdict.violations = {
            key: [replace(v, timeline=tuple(timelines.get(v.order_id, ()))) for v in found]
            for key, found in verdict.violations.items()
        }
    counts = {key: verdict.count(key) for key in INVARIANTS}
    counts["lost_silently"] = sum(v.kind == SILENT for v in verdict.violations["lost"])
    counts["held"] = len(state.held) - verdict.held_accounted
    counts["held_accounted"] = verdict.held_accounted
    counts["in_flight"] = run.drain.in_flight
    counts["confirmed"] = verdict.fates[CONFIRMED]
    counts["skipped_by_design"] = verdict.skipped_by_design
    counts["loaded"] = len(state.ledger)
    counts["alerts"] = len(state.alerts)
    messages = [a.message for a in state.alerts]
    results = [_judge(e, counts, messages) for e in scenario.expectations]
    injected = run.houzz.faults.injected if run.houzz.faults is not None else {}
    return RunResult(
        scenario=scenario,
        placed=len(run.houzz.orders),
        end=run.clock.now,
        polls=len(run.poll_times),
        crashes=run.crashes,
        faults={k: v for k, v in sorted(injected.items()) if v},
        verdict=verdict,
        counts=counts,
        alerts=list(state.alerts),
        expectations=results,
        timelines=timelines,
        drain=run.drain,
        houzz=run.houzz,
        warehouse=run.warehouse,
        connector=state,
        series=run.series,
        poll_times=list(run.poll_times) if pictures else [],
        healthy=healthy_lines,
    )


def _judge(
    expectation: Expectation, counts: dict[str, int], messages: list[str]
) -> ExpectationResult:
    actual = counts[expectation.key]
    ok = expectation.met_by(actual, messages)
    missing: tuple[str, ...] = ()
    if isinstance(expectation.expected, list):
        missing = tuple(s for s in expectation.expected if not any(s in m for m in messages))
    return ExpectationResult(expectation, actual, ok, missing)
