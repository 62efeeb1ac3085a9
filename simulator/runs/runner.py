"""Running a scenario: the world on one clock, CartRover polling it, then the invariants.

``run_scenario`` builds the simulated clock and one ``random.Random(seed)``, the fake Houzz,
the customers, staff and warehouse, and the connector (the engine) with the scenario's
policy; it ticks the connector whenever it asks to, crashes and restarts it from its saved
state when the scenario says so, runs to ``duration``, checks the invariants and the
scenario's expectations. Same scenario, same seed: the same result, to the byte.

Memory: a run of 100,000 orders keeps no per-event record. The runner notes only the few
moments the invariants need (an order sent or shipped unpaid, a cancelled order shipped);
when an invariant fails it runs the same seed again with a timeline watching just the
orders it reports, so each violation still carries its full story.
"""

from __future__ import annotations

import contextlib
import gc
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from houzzflow.engine.connector import (
    HOUZZ_WRITES,
    Alert,
    Connector,
    ConnectorState,
    EventSink,
    epoch_seconds,
)
from houzzflow.engine.diagnostics import Location
from houzzflow.engine.ports import Ack, BackendPort, HouzzPort, TransientError
from houzzflow.simulator.houzz.state import CANCELLED, CHARGED, FakeHouzz
from houzzflow.simulator.kernel.clock import Clock
from houzzflow.simulator.kernel.timeline import Happening, Timeline
from houzzflow.simulator.runs import world_of
from houzzflow.simulator.runs.guarded import GuardedBackend, GuardedHouzz
from houzzflow.simulator.runs.invariants import INVARIANTS, Observations, Verdict, Violation, check
from houzzflow.simulator.runs.scenario import Expectation, Scenario
from houzzflow.simulator.runs.script import ArmedFaults, ScriptPlayer
from houzzflow.simulator.world.backend import Warehouse
from houzzflow.simulator.world.customers import place_backlog

Progress = Callable[[int, int], None]  # (simulated now, end)
_T = TypeVar("_T")

SHOWN = 5  # violations per invariant told with their timeline
RESTART_AFTER = 60  # seconds a crashed connector is down before it restarts
PROGRESS_STEPS = 200
# The label of the connector's ticks on the clock (see houzzflow.simulator.kernel.clock); a
# restart after a crash ticks at once, outside the clock, so it is not labelled.
CONNECTOR_TICK = "connector tick"


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
    # The world as the run left it, for a test harness to inspect (``houzz.orders``,
    # ``warehouse.received``, the connector's ledger and skipped log).
    houzz: FakeHouzz | None = field(default=None, repr=False)
    warehouse: Warehouse | None = field(default=None, repr=False)
    connector: ConnectorState | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.expectations)

    @property
    def violations(self) -> list[Violation]:
        """Every violation found, invariant by invariant."""
        return [v for key in INVARIANTS for v in self.verdict.violations.get(key, [])]

    def shown(self, invariant: str) -> list[Violation]:
        return self.verdict.violations.get(invariant, [])[:SHOWN]

    @property
    def exit_code(self) -> int:
        """0 when every expectation held, else 1 (as ``houzzflow run`` exits)."""
        return 0 if self.ok else 1

    def to_json(self) -> dict[str, Any]:
        """This run as ``houzzflow run --format json`` prints it (one of its ``scenarios``)."""
        from houzzflow.simulator.runs.report import result_json  # report builds on this module

        return result_json(self)


class _ObservedWarehouse(Warehouse):
    """The world's warehouse, noting what the invariants need at the moment it happens."""

    def __init__(self, houzz: FakeHouzz, **options: Any) -> None:
        super().__init__(**options)
        self._houzz = houzz
        self.unpaid_at_send: dict[str, tuple[int, str]] = {}
        self.unpaid_at_ship: dict[str, tuple[int, str]] = {}
        self.cancelled_at_ship: dict[str, int] = {}

    def send_order(self, order_id: str) -> Ack:
        if order_id not in self.received:
            order = self._houzz.orders.get(order_id)
            if order is not None and order.status != CHARGED:
                self.unpaid_at_send[order_id] = (self.clock.now, order.status)
        return Warehouse.send_order(self, order_id)

    def _ship(self, order_id: str) -> bool:
        if not Warehouse._ship(self, order_id):
            return False  # cancelled in time, or shipped already: nothing happened
        status = self._houzz.orders[order_id].status
        if status == CANCELLED:
            self.cancelled_at_ship[order_id] = self.clock.now
        elif status != CHARGED:
            self.unpaid_at_ship[order_id] = (self.clock.now, status)
        return True


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

    def __init__(
        self, scenario: Scenario, timeline: Timeline | None, clock: Clock | None = None
    ) -> None:
        spec = scenario.spec
        world = spec.world
        policy = scenario.policy
        self.scenario = scenario
        self.timeline = timeline
        self.clock = clock = Clock() if clock is None else clock
        rng = random.Random(spec.seed)
        scripted = bool(world.script)
        self.houzz = houzz = FakeHouzz(
            program=scenario.program,
            era=scenario.era,
            clock=clock,
            rng=rng,
            timeline=timeline,
            facts=world.facts(),
            connection=policy.connection_type,
            faults=None if scripted else world_of.fault_plan(world.faults),
            charge_failure_rate=0.0 if scripted else world.houzz.charge_failure_rate,
            own_clocks=not scripted,
        )
        self.player: ScriptPlayer | None = None
        if scripted:
            self._scripted(scenario, rng)
            return
        world_of.staff(world.staff, policy).attach(houzz, clock, rng)
        o = world.orders
        world_of.order_stream(o).schedule(houzz, clock, rng, spec.duration)
        origin = 0
        if world.backlog is not None and world.backlog.count:
            within = world.backlog.within
            origin = -within
            place_backlog(houzz, rng, count=world.backlog.count, within=within, items=o.items[0])
        b = world.backend
        self.warehouse = _ObservedWarehouse(
            houzz,
            clock=clock,
            rng=rng,
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
        }
        self.ports = (houzz_port, backend_port)
        self.connector: Connector | None = Connector(
            policy, houzz_port, backend_port, **self.options
        )
        self.saved: ConnectorState | None = None
        self.poll_times: list[int] = []
        self.crashes = 0
        clock.at(0, self._tick, label=CONNECTOR_TICK)

    def _scripted(self, scenario: Scenario, rng: random.Random) -> None:
        """A scripted world: only the script's events happen (a replayed counterexample)."""
        spec = scenario.spec
        b = spec.world.backend
        self.warehouse = _ObservedWarehouse(
            self.houzz,
            clock=self.clock,
            rng=rng,
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
        )
        self.poll_times = self.player.polls
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
                    self.poll_times.append(self.clock.now)
                if self.switch is not None:
                    self.switch.poll_done(connector.state.polls)
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
        end = self.scenario.duration
        if progress is None:
            self.clock.run(until=end)
            return
        step = max(1, end // PROGRESS_STEPS)
        for until in range(step, end + step, step):
            self.clock.run(until=min(until, end))
            progress(self.clock.now, end)

    def state(self) -> ConnectorState:
        if self.connector is not None:
            return self.connector.state
        assert self.saved is not None
        return self.saved

    def observations(self) -> Observations:
        policy = self.scenario.policy
        eod = policy.earliest_order_date
        return Observations(
            policy=policy,
            table=self.houzz.table,
            orders=self.houzz.orders,
            received=self.warehouse.received,
            shipped=self.warehouse.shipped,
            state=self.state(),
            poll_times=self.poll_times,
            earliest=None if eod is None else epoch_seconds(eod),
            unpaid_at_send=self.warehouse.unpaid_at_send,
            unpaid_at_ship=self.warehouse.unpaid_at_ship,
            cancelled_at_ship=self.warehouse.cancelled_at_ship,
            connected=policy.connection_type == self.houzz.program,
        )


def run_scenario(
    scenario: Scenario, progress: Progress | None = None, *, clock: Clock | None = None
) -> RunResult:
    """Simulate ``scenario`` and judge it: invariants, counts and expectations.

    ``clock``: the run's clock, new and untouched (a fresh ``Clock`` when None); a subclass
    may watch the world through the labels of what it schedules (see ``Clock``). When an
    invariant fails, the run's replay that tells the story uses a fresh clock of its own.
    """
    if clock is not None and (clock.now or clock.pending()):
        raise ValueError("run_scenario needs a new clock: this one has already been used")
    # A run allocates millions of short-lived objects but makes no garbage cycles worth
    # chasing while it runs; the cyclic collector would re-scan every live order again
    # and again (a third of the run's time at 100,000 orders).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _judged_run(scenario, progress, clock)
    finally:
        if collecting:
            gc.enable()


def _judged_run(scenario: Scenario, progress: Progress | None, clock: Clock | None) -> RunResult:
    run = _Run(scenario, timeline=None, clock=clock)
    run.run(progress)
    verdict = check(run.observations())
    state = run.state()
    timelines: dict[str, list[Happening]] = {}
    shown = [v.order_id for key in INVARIANTS for v in verdict.violations[key][:SHOWN]]
    if shown:
        # The same seed again, this time telling the story of the orders that went wrong.
        replay = _Run(scenario, timeline=Timeline(watch=frozenset(shown)))
        replay.run(None)
        assert replay.timeline is not None
        timelines = {oid: replay.timeline.of(oid) for oid in shown}
        verdict.violations = {
            key: [
                Violation(v.invariant, v.order_id, v.message, tuple(timelines.get(v.order_id, ())))
                for v in found
            ]
            for key, found in verdict.violations.items()
        }
    counts = {key: verdict.count(key) for key in INVARIANTS}
    counts["held"] = len(state.held)
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
        houzz=run.houzz,
        warehouse=run.warehouse,
        connector=state,
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
