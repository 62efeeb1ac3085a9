"""The Python API for testing a connector against a fake Houzz, from any test framework.

``HouzzHarness`` is a thin, typed facade over the fake marketplace (``FakeHouzz``) and the
world around it: create one, place orders (or attach an order stream), advance simulated
time, act as staff or customer, inspect orders and their history, inject faults, reset.
It is also a ``HouzzPort``: a connector under test can call ``get_orders`` /
``update_order`` on it directly, or over HTTP through ``houzzflow serve`` (which wraps one).

moto's lessons: one seeded ``random.Random`` per harness; ``reset()`` is one cheap call that
rebuilds the world from its configuration; the state never sees the wire format.

Fault rules (``FaultRule``) inject a fault into chosen API calls: an ``Ack: Error``
(``ack_error``), an HTTP 5xx (``http_5xx``), a 429 with Retry-After (``rate_limit``), a reply
lost after the request took effect (``timeout_after_write``) or a page that shifts under a
pager (``page_drift``). They plug into the fake's fault injector next to a scenario's
``FaultPlan``, so every fault is counted, seeded and written on the timeline in one place.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, NamedTuple, get_args

from houzzflow.engine.limits import (
    MAX_CALL_NUMBER,
    MAX_FAULT_MESSAGE,
    MAX_FAULT_RULES,
    MAX_RETRY_AFTER,
    whole,
)
from houzzflow.engine.machine import Era, Facts, Program
from houzzflow.engine.ports import Ack, AckError, Page, ReplyLost, TransientError
from houzzflow.simulator.houzz.state import BadRequest, FakeHouzz, HouzzOrder, WindowField
from houzzflow.simulator.houzz.wire import DEFAULT_EPOCH, canonical_status, houzz_time
from houzzflow.simulator.judge.calls import BAD, FAULT, LOST, OK, REFUSED, CallLog, ListingQuery
from houzzflow.simulator.judge.verdict import ConnectorVerdict, JudgeOptions, judge_connector
from houzzflow.simulator.judge.warehouse import (
    ConnectorWarehouse,
    Receipt,
    Shipped,
    WarehouseConfig,
)
from houzzflow.simulator.kernel.clock import Clock
from houzzflow.simulator.kernel.faults import (
    ERROR,
    RATE_LIMIT,
    REPLY_LOST,
    FaultInjector,
    FaultPlan,
)
from houzzflow.simulator.kernel.timeline import Happening, Timeline
from houzzflow.simulator.world.customers import OrderStream, place_backlog
from houzzflow.simulator.world.staff import Staff, StaffAtWork

FaultKind = Literal["ack_error", "http_5xx", "rate_limit", "timeout_after_write", "page_drift"]
Operation = Literal["getOrders", "updateOrder", "updateInventory", "any"]
FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)
OPERATIONS: tuple[Operation, ...] = get_args(Operation)
# How the fault injector counts each rule kind (houzzflow.simulator.kernel.faults.KINDS).
_INJECTOR_KIND = {"ack_error": ERROR, "http_5xx": ERROR, "rate_limit": RATE_LIMIT}
_MAX_STEP = 10 * 366 * 86400  # one clock advance covers at most ten years


@dataclass(frozen=True, slots=True)
class FaultRule:
    """One fault to inject into Houzz API calls.

    ``operation`` is the API method the rule watches (``any``: every one). The rule fires on
    its ``call``-th matching call counted from when it was added (1 = the next one), or on
    each matching call with ``probability`` (seeded), or, with neither, on every matching
    call; ``times`` caps how often it fires. ``page_drift`` counts only continuation pages
    (getOrders with ``Start`` > 0), the only pages that can shift. ``retry_after`` is the
    rate limit's Retry-After in seconds; ``status`` the HTTP status of ``http_5xx``;
    ``message`` replaces the default error text.
    """

    kind: FaultKind
    operation: Operation = "any"
    call: int | None = None
    probability: float | None = None
    times: int | None = None
    retry_after: int = 30
    status: int = 503
    message: str = ""

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}, not {self.kind!r}")
        if self.operation not in OPERATIONS:
            allowed = ", ".join(OPERATIONS)
            raise ValueError(f"operation must be one of {allowed}, not {self.operation!r}")
        if self.kind == "page_drift" and self.operation not in ("getOrders", "any"):
            raise ValueError("page_drift shifts getOrders pages: use operation getOrders")
        if self.call is not None and self.probability is not None:
            raise ValueError("give call or probability, not both")
        if self.call is not None and not whole(self.call, MAX_CALL_NUMBER, 1):
            raise ValueError(f"call counts matching calls from 1 to {MAX_CALL_NUMBER:,}")
        if self.probability is not None and not (
            isinstance(self.probability, int | float) and 0.0 <= self.probability <= 1.0
        ):
            raise ValueError("probability must be between 0 and 1")
        if self.times is not None and not whole(self.times, MAX_CALL_NUMBER, 1):
            raise ValueError(f"times must be from 1 to {MAX_CALL_NUMBER:,}")
        if not whole(self.retry_after, MAX_RETRY_AFTER):
            raise ValueError(f"retry_after must be from 0 to {MAX_RETRY_AFTER} seconds")
        if not (_whole(self.status, 500) and self.status <= 599):
            raise ValueError("status must be an HTTP 5xx status (500-599)")
        if not isinstance(self.message, str) or len(self.message) > MAX_FAULT_MESSAGE:
            raise ValueError(f"message must be text of at most {MAX_FAULT_MESSAGE} characters")

    @classmethod
    def from_json(cls, data: object) -> FaultRule:
        """A rule from JSON data (the admin API's body); raises ``ValueError`` with the reason."""
        if not isinstance(data, Mapping):
            raise ValueError('a fault rule is a JSON object like {"kind": "ack_error"}')
        names = tuple(cls.__dataclass_fields__)
        unknown = sorted(str(key) for key in data if key not in names)
        if unknown:
            raise ValueError(f"unknown fault rule field {unknown[0]!r}; use {', '.join(names)}")
        if "kind" not in data:
            raise ValueError(f"a fault rule needs a kind: one of {', '.join(FAULT_KINDS)}")
        try:
            return cls(**{str(key): value for key, value in data.items()})
        except TypeError as exc:
            raise ValueError(str(exc)) from None

    def to_json(self) -> dict[str, Any]:
        """The rule as JSON data: the fields that were set, and those its kind uses."""
        data = {key: value for key, value in asdict(self).items() if value not in (None, "")}
        if self.kind != "rate_limit":
            del data["retry_after"]
        if self.kind != "http_5xx":
            del data["status"]
        return data


def _whole(value: object, lowest: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= lowest


class InjectedFault(TransientError):
    """A call failed by a ``FaultRule`` before it had any effect (``rule.kind`` says how)."""

    def __init__(self, rule: FaultRule, message: str) -> None:
        super().__init__(message, rule.retry_after if rule.kind == "rate_limit" else 0)
        self.rule = rule


@dataclass
class _Armed:
    """A rule with its own call counter, firing count and random stream."""

    rule: FaultRule
    rng: random.Random
    calls: int = 0
    fired: int = 0

    def fires(self, operation: str) -> bool:
        rule = self.rule
        if rule.operation not in (operation, "any"):
            return False
        self.calls += 1
        if rule.times is not None and self.fired >= rule.times:
            return False
        if rule.call is not None:
            hit = self.calls == rule.call
        elif rule.probability is not None:
            hit = self.rng.random() < rule.probability
        else:
            hit = True
        self.fired += hit
        return hit


class RuleInjector(FaultInjector):
    """The fake's fault injector, extended with ``FaultRule``s beside the ``FaultPlan``.

    The plan's faults are decided first, exactly as without rules; then every rule counts
    the call, and the first one added among those that fire decides. A lost reply for
    getOrders (which writes nothing) is left pending for the harness to raise once the page
    is read.
    """

    def __init__(self, plan: FaultPlan, *, clock: Clock, timeline: Timeline, seed: int) -> None:
        super().__init__(plan, clock=clock, timeline=timeline)
        self.rules: list[_Armed] = []
        self._seed = seed
        self._lost_pending: FaultRule | None = None

    def add(self, rule: FaultRule) -> None:
        stream = random.Random(f"houzzflow-rule-{self._seed}-{len(self.rules)}-{rule.kind}")
        self.rules.append(_Armed(rule, stream))

    def clear(self) -> None:
        self.rules.clear()

    def before_call(self, method: str, order_id: str = "") -> None:
        super().before_call(method, order_id)
        self.rule_for(method, order_id)

    def rule_for(self, method: str, order_id: str = "") -> None:
        """Apply the first rule that fires on this call (raising when it fails the call)."""
        self._lost_pending = None
        # Every rule counts the call; when several fire, the first one added applies.
        firing = [armed.rule for armed in self.rules if _fires_on_call(armed, method)]
        if not firing:
            return
        fired = firing[0]
        if fired.kind == "timeout_after_write":
            self._lost_pending = fired
            return
        text = fired.message or _default_message(fired)
        self.record(_INJECTOR_KIND[fired.kind], order_id, f"{method}: {text} (fault rule)")
        raise InjectedFault(fired, f"{method} failed: {text}")

    def after_write(self, order_id: str, action: str, took_effect: bool) -> None:
        super().after_write(order_id, action, took_effect)
        outcome = "took effect" if took_effect else "was refused"
        self.lost_reply(f"updateOrder {action}", outcome, order_id)

    def lost_reply(self, what: str, outcome: str = "was answered", order_id: str = "") -> None:
        """Raise ``ReplyLost`` if a rule chose to lose this call's reply."""
        rule, self._lost_pending = self._lost_pending, None
        if rule is None:
            return
        self.record(REPLY_LOST, order_id, f"{what} {outcome}; the reply was lost (fault rule)")
        raise ReplyLost(rule.message or f"{what} timed out; the request may have taken effect")

    def page_drifts(self) -> bool:
        planned = super().page_drifts()
        # Every drift rule counts this page, whether or not an earlier one fired.
        fired = [a.rule for a in self.rules if a.rule.kind == "page_drift" and a.fires("getOrders")]
        return planned or bool(fired)


def _fires_on_call(armed: _Armed, method: str) -> bool:
    # Page drifts are decided on continuation pages only (see ``page_drifts``).
    return armed.rule.kind != "page_drift" and armed.fires(method)


def _default_message(rule: FaultRule) -> str:
    if rule.kind == "rate_limit":
        return f"rate limit exceeded; retry after {rule.retry_after} seconds"
    if rule.kind == "http_5xx":
        return f"HTTP {rule.status}, service unavailable"
    return "internal error, please retry"


class HistoryEntry(NamedTuple):
    """One change in an order's life: when, who, what, and the Houzz status after it."""

    time: int
    actor: str
    action: str
    status: str


@dataclass(frozen=True, slots=True)
class HarnessConfig:
    """Everything a harness is built from; ``reset()`` rebuilds the world from it."""

    program: Program = "seller"
    era: Era = "2021"
    seed: int = 0
    epoch: dt.datetime = DEFAULT_EPOCH
    window_field: WindowField | None = None  # None: the facts' answer (default modified)
    connection: Program | None = None
    faults: FaultPlan | None = None
    charge_failure_rate: float = 0.0
    # A world that comes back on every reset: customers placing orders over ``duration``
    # seconds, and staff habits.
    stream: OrderStream | None = None
    staff: Staff | None = None
    duration: int = 86400
    # Orders already on Houzz at time 0: (count, placed within this many seconds before).
    backlog: tuple[int, int] | None = None
    # Houzz's answers to the register's open questions (see ``FakeHouzz``).
    facts: Facts = ()
    # How the fake plays the warehouse of a connector under test (None: the defaults).
    warehouse: WarehouseConfig | None = None


@dataclass
class _World:
    clock: Clock
    rng: random.Random
    timeline: Timeline
    fake: FakeHouzz
    injector: RuleInjector
    warehouse: ConnectorWarehouse
    calls: CallLog = field(default_factory=CallLog)
    inventory: dict[str, int] = field(default_factory=dict)
    # order id -> what staff or the customer are yet to do to it (``act_at``), in words
    planned: dict[str, str] = field(default_factory=dict)


class HouzzHarness:
    """A fake Houzz account and its world, for tests (see the module docstring).

    ``program`` (seller | vendor) and ``era`` (legacy | 2021) choose Houzz's lifecycle;
    ``seed`` makes every random choice (order ids, charge failures, fault draws)
    repeatable; ``epoch`` is the wall time of simulated second 0 (2026-01-01 00:00:00);
    ``window_field`` is the time getOrders' From/To filter on; ``connection`` the program
    the API client connected as (a mismatch lists nothing, silently, or answers ``Ack:
    Error`` with ``wrong_connection: error``); ``faults`` a scenario's ``FaultPlan``;
    ``charge_failure_rate`` the share of charges that fail; ``facts`` Houzz's answers to the
    register's open questions, as (question, alternative) pairs (``houzzflow assumptions``
    lists them; a question left out takes its default).
    """

    def __init__(
        self,
        *,
        program: Program = "seller",
        era: Era = "2021",
        seed: int = 0,
        epoch: dt.datetime = DEFAULT_EPOCH,
        window_field: WindowField | None = None,
        connection: Program | None = None,
        faults: FaultPlan | None = None,
        charge_failure_rate: float = 0.0,
        facts: Facts = (),
        warehouse: WarehouseConfig | None = None,
    ) -> None:
        self.config = HarnessConfig(
            program,
            era,
            seed,
            epoch,
            window_field,
            connection,
            faults,
            charge_failure_rate,
            facts=facts,
            warehouse=warehouse,
        )
        self._world = self._build()

    @classmethod
    def from_config(cls, config: HarnessConfig) -> HouzzHarness:
        harness = cls.__new__(cls)
        harness.config = config
        harness._world = harness._build()
        return harness

    def _build(self) -> _World:
        c = self.config
        clock = Clock()
        rng = random.Random(c.seed)
        timeline = Timeline()
        fake = FakeHouzz(
            program=c.program,
            era=c.era,
            clock=clock,
            rng=rng,
            timeline=timeline,
            window_field=c.window_field,
            connection=c.connection,
            faults=c.faults,
            charge_failure_rate=c.charge_failure_rate,
            facts=c.facts,
        )
        plan = c.faults or FaultPlan(seed=c.seed)
        injector = RuleInjector(plan, clock=clock, timeline=timeline, seed=c.seed)
        fake.faults = injector
        warehouse = ConnectorWarehouse(fake, clock, timeline, seed=c.seed, config=c.warehouse)
        world = _World(clock, rng, timeline, fake, injector, warehouse)
        if c.staff is not None:
            c.staff.attach(fake, clock, rng)
        if c.stream is not None:
            c.stream.schedule(fake, clock, rng, c.duration)
        if c.backlog is not None:
            count, within = c.backlog
            low = c.stream.items[0] if c.stream is not None else 1
            place_backlog(fake, rng, count=count, within=within, items=low)
        return world

    def reset(self) -> None:
        """Back to the start: time 0, no orders, no fault rules, empty inventory, same seed.

        The world is rebuilt from the configuration: a ``stream`` or ``staff`` given there
        comes back; one attached later with ``attach_stream`` / ``attach_staff`` does not.
        """
        self._world = self._build()

    # --- the world's parts, for power users --------------------------------------------

    @property
    def fake(self) -> FakeHouzz:
        """The fake marketplace itself (its state and rules)."""
        return self._world.fake

    @property
    def clock(self) -> Clock:
        return self._world.clock

    @property
    def timeline(self) -> Timeline:
        """Everything that happened, by whom, in order (faults included)."""
        return self._world.timeline

    @property
    def rng(self) -> random.Random:
        """The harness's random stream: order ids. The other parts (charge failures, staff,
        customers, the warehouse) take their own streams' seed from a copy of it when they
        are attached (``kernel.streams``) and never draw from it themselves."""
        return self._world.rng

    @property
    def program(self) -> Program:
        return self.config.program

    @property
    def era(self) -> Era:
        return self.config.era

    @property
    def epoch(self) -> dt.datetime:
        return self.config.epoch

    # --- time ----------------------------------------------------------------------------

    @property
    def now(self) -> int:
        """Simulated seconds since the epoch."""
        return self._world.clock.now

    def time_text(self, seconds: int | None = None) -> str:
        """A simulated second (now by default) as Houzz writes it: ``2026-01-01 00:30:00``."""
        return houzz_time(self.now if seconds is None else seconds, self.config.epoch)

    def advance(self, seconds: int) -> int:
        """Let ``seconds`` of simulated time pass, running everything due (2021 auto-charges,
        authorization lapses, an attached order stream); returns the new time."""
        if not _whole(seconds, 0) or seconds > _MAX_STEP:
            raise ValueError(f"seconds must be a whole number from 0 to {_MAX_STEP}")
        self._world.clock.run(until=self.now + seconds)
        return self.now

    # --- orders --------------------------------------------------------------------------

    def place_order(self, *, items: int | None = None, created: int | None = None) -> str:
        """A customer places an order now (or at an earlier ``created`` second); its id."""
        return self._world.fake.place_order(items=items, created=created)

    def place_orders(self, count: int, *, items: int | None = None) -> list[str]:
        """``count`` orders placed now; their ids in placement order."""
        if not _whole(count, 0):
            raise ValueError("count must be 0 or more")
        return [self.place_order(items=items) for _ in range(count)]

    def attach_stream(self, stream: OrderStream, *, duration: int = 86400) -> None:
        """Customers place orders by ``stream`` over the next ``duration`` seconds, as the
        clock advances (and cancel or fix payments as it says)."""
        world = self._world
        stream.schedule(world.fake, world.clock, world.rng, duration)

    def attach_staff(self, staff: Staff) -> StaffAtWork:
        """Staff act by hand by ``staff``'s habits from now on; returns them at work (their
        ``done`` and ``skipped`` counters)."""
        world = self._world
        return staff.attach(world.fake, world.clock, world.rng)

    def order(self, order_id: str) -> HouzzOrder:
        """The order as Houzz holds it now (``KeyError`` when there is none)."""
        return self._world.fake.order(order_id)

    def orders(self, status: str = "All") -> list[HouzzOrder]:
        """Every order in ``status`` (any public spelling, ``All`` or ``Active``), oldest
        first; unlike getOrders this shows orders Houzz holds back (FailedToCharge in 2021)."""
        wanted = canonical_status(status)
        terminal = self._world.fake.table.terminal
        found = [
            order
            for order in self._world.fake.orders.values()
            if wanted == "All"
            or (wanted == "Active" and order.status not in terminal)
            or order.status == wanted
        ]
        return sorted(found, key=lambda order: (order.created, order.order_id))

    def status(self, order_id: str) -> str:
        """The order's canonical Houzz status now."""
        return self.order(order_id).status

    def history(self, order_id: str) -> list[HistoryEntry]:
        """Every change in the order's life, oldest first."""
        return [HistoryEntry(*entry) for entry in self.order(order_id).history]

    def happenings(self, order_id: str | None = None) -> list[Happening]:
        """The timeline (of one order, or all), with faults and their details."""
        timeline = self._world.timeline
        return timeline.in_order() if order_id is None else timeline.of(order_id)

    # --- people --------------------------------------------------------------------------

    def act(self, order_id: str, action: str, actor: str = "staff", **details: str) -> Ack:
        """``actor`` performs ``action`` (Process, Charge, Ship, Cancel, PaymentFixed...) by
        Houzz's rules; a refusal is ``Ack(False, reason)``. ``details``: tracking_number,
        shipping_method, cancel_code, comments."""
        return self._world.fake.act(order_id, action, actor, **details)

    def staff(self, order_id: str, action: str, **details: str) -> Ack:
        """Seller staff act by hand in Houzz's seller UI."""
        return self.act(order_id, action, "staff", **details)

    def customer_cancel(self, order_id: str) -> Ack:
        """The customer cancels (allowed only within the cancel window)."""
        return self.act(order_id, "Cancel", "customer")

    def fix_payment(self, order_id: str) -> Ack:
        """The customer fixes a failed payment."""
        return self._world.fake.fix_payment(order_id)

    # --- the API a connector calls (HouzzPort), with faults ----------------------------

    def get_orders(
        self, status: str, start_time: int, end_time: int, start: int, count: int
    ) -> Page:
        """getOrders, as the connector sees it (faults included)."""
        world = self._world
        query = ListingQuery(status, start_time, end_time, start, count)
        try:
            page = world.fake.get_orders(status, start_time, end_time, start, count)
            world.injector.lost_reply("getOrders")
        except BaseException as exc:
            self._record_failure("getOrders", exc, query=query)
            raise
        listed = tuple((view.order_id, view.status) for view in page.orders)
        world.calls.add(self.now, "getOrders", OK, query=query, listed=listed, total=page.total)
        return page

    def _record_failure(self, method: str, exc: BaseException, **facts: object) -> None:
        """Note a call that raised, by how it failed (see ``judge.calls``)."""
        if isinstance(exc, ReplyLost):
            outcome, reason, wait = LOST, str(exc), 0
        elif isinstance(exc, TransientError):
            outcome, reason, wait = FAULT, str(exc), exc.retry_after
        elif isinstance(exc, AckError):
            outcome, reason, wait = REFUSED, exc.reason, 0
        elif isinstance(exc, BadRequest):
            outcome, reason, wait = BAD, str(exc), 0
        else:
            return
        self._world.calls.add(self.now, method, outcome, reason=reason, retry_after=wait, **facts)

    def update_order(
        self,
        order_id: str,
        action: str,
        *,
        shipping_method: str = "",
        tracking_number: str = "",
        cancel_code: str = "",
        comments: str = "",
    ) -> Ack:
        """updateOrder, as the connector sees it (faults included)."""
        fields = (
            ("ShippingMethod", shipping_method),
            ("TrackingNumber", tracking_number),
            ("CancelCode", cancel_code),
            ("Comments", comments),
        )
        order = self._world.fake.orders.get(order_id)
        facts: dict[str, object] = {
            "order_id": order_id,
            "action": action,
            "details": tuple(pair for pair in fields if pair[1]),
            "status_before": order.status if order is not None else "",
        }
        try:
            ack = self._world.fake.update_order(
                order_id,
                action,
                shipping_method=shipping_method,
                tracking_number=tracking_number,
                cancel_code=cancel_code,
                comments=comments,
            )
        except BaseException as exc:
            self._record_failure("updateOrder", exc, **facts)
            raise
        outcome = OK if ack.ok else REFUSED
        self._world.calls.add(self.now, "updateOrder", outcome, reason=ack.reason, **facts)
        return ack

    def update_inventory(self, sku: str, quantity: int) -> Ack:
        """updateInventory: set the stock Houzz shows for ``sku`` (faults included)."""
        world = self._world
        if not sku:
            return Ack(False, "updateInventory needs a SKU")
        if not _whole(quantity, 0):
            return Ack(False, "Quantity must be 0 or more")
        world.injector.rule_for("updateInventory")
        world.inventory[sku] = quantity
        world.injector.lost_reply("updateInventory", "took effect")
        return Ack(True)

    @property
    def inventory(self) -> dict[str, int]:
        """Stock by SKU, as set through updateInventory (a copy)."""
        return dict(self._world.inventory)

    # --- faults --------------------------------------------------------------------------

    def add_fault(
        self,
        kind: FaultKind,
        *,
        operation: Operation = "any",
        call: int | None = None,
        probability: float | None = None,
        times: int | None = None,
        retry_after: int = 30,
        status: int = 503,
        message: str = "",
    ) -> FaultRule:
        """Add a ``FaultRule`` (see its docstring) and return it."""
        rule = FaultRule(kind, operation, call, probability, times, retry_after, status, message)
        self.add_faults([rule])
        return rule

    def add_faults(self, rules: Iterable[FaultRule]) -> None:
        """Add every rule, or none when they would make more than ``MAX_FAULT_RULES``
        (each API call is checked against every rule)."""
        rules = list(rules)
        if len(self._world.injector.rules) + len(rules) > MAX_FAULT_RULES:
            raise ValueError(f"at most {MAX_FAULT_RULES:,} fault rules at once; clear some first")
        for rule in rules:
            self._world.injector.add(rule)

    def clear_faults(self) -> None:
        """Remove every fault rule (a scenario's ``FaultPlan`` stays)."""
        self._world.injector.clear()

    @property
    def fault_rules(self) -> tuple[FaultRule, ...]:
        return tuple(armed.rule for armed in self._world.injector.rules)

    @property
    def faults_injected(self) -> Counter[str]:
        """Faults injected so far, by the fault injector's kinds (error, rate_limit, ...)."""
        return Counter(self._world.injector.injected)

    # --- the connector's warehouse, and its verdict ---------------------------------------

    def send_to_warehouse(self, order_id: str, believed: str = "") -> Receipt:
        """The connector under test sent ``order_id`` to its warehouse, believing it in Houzz
        status ``believed`` (optional); ``KeyError`` for an order Houzz does not have."""
        return self._world.warehouse.receive(order_id, believed)

    def cancel_at_warehouse(self, order_id: str) -> Ack:
        """The connector asks its warehouse to stop an order (refused once it shipped)."""
        return self._world.warehouse.cancel(order_id)

    def warehouse_ship(self, order_id: str) -> bool:
        """Ship a received order now (playing the warehouse by hand); False if it cannot."""
        return self._world.warehouse.ship(order_id)

    def warehouse_shipments(self, since: int = 0) -> list[Shipped]:
        """Shipments the warehouse made after sequence number ``since``, oldest first: what
        the connector collects and confirms to Houzz with updateOrder Ship."""
        return self._world.warehouse.shipments(since)

    @property
    def warehouse(self) -> ConnectorWarehouse:
        return self._world.warehouse

    @property
    def calls(self) -> CallLog:
        """Every Houzz API call answered so far, with what Houzz answered (``judge.calls``)."""
        return self._world.calls

    def act_at(self, when: int, order_id: str, action: str, actor: str = "staff") -> None:
        """``actor`` performs ``action`` on the order at simulated second ``when`` (a plan:
        until then, the verdict counts the order in flight, not lost)."""
        if not _whole(when, self.now) or when > self.now + _MAX_STEP:
            raise ValueError("when must be a whole second from now to ten years ahead")
        if order_id not in self._world.fake.orders:
            raise KeyError(order_id)
        world = self._world
        who = {"customer": "its customer", "houzz": "Houzz"}.get(actor, actor)
        world.planned[order_id] = f"{who} {'is' if actor != 'staff' else 'are'} yet to {action} it"

        def perform() -> None:
            world.planned.pop(order_id, None)
            world.fake.act(order_id, action, actor)

        world.clock.at(when, perform)

    def verdict(
        self, *, settle: int = 0, final: bool = False, poll_interval: int | None = None
    ) -> ConnectorVerdict:
        """Judge the connector under test so far (``judge.verdict``): the invariants of
        ``houzzflow run`` and Houzz's wire etiquette. ``settle`` seconds of simulated time
        pass first; ``final`` counts an order still in flight as a violation;
        ``poll_interval`` (seconds) checks that the connector polls that often."""
        if settle:
            self.advance(settle)
        if poll_interval is not None and not _whole(poll_interval, 1):
            raise ValueError("poll_interval must be 1 second or more")
        world = self._world
        return judge_connector(
            world.fake,
            world.warehouse,
            world.calls,
            world.timeline,
            at=self.time_text(),
            scheduled=world.planned,
            options=JudgeOptions(poll_interval=poll_interval, final=final),
        )

    @property
    def api_calls(self) -> int:
        """getOrders and updateOrder calls Houzz has answered or failed so far."""
        return self._world.injector.calls
