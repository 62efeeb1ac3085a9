"""The verdict on a connector under test: the project's own invariants, plus wire etiquette.

The invariants are ``runs.invariants``' (the ones ``houzzflow run`` checks and ``houzzflow
validate`` proves), applied to what the connector left behind: Houzz's orders, the orders
it reported sending to its warehouse (``judge.warehouse``), what the warehouse shipped and
the listings it read (``judge.calls``). The connector's own state is not visible, so it is
read from those facts: an order it sent is at the warehouse until Houzz shows it Shipped;
an order it listed and never sent is in its skipped log; a *complete poll* is a listing
page that reached the end of its window. The wire etiquette is ``judge.etiquette``'s.

Each violation carries the order's timeline in the words of ``run`` and ``validate``
(customer, staff, Houzz, the connector, the warehouse). An order something is still to
happen to is *in flight*: reported as such, and a violation (``nothing stuck in flight``)
only in a ``final`` verdict, after the connector was given time to finish.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from houzzflow.engine.connector import ConnectorState
from houzzflow.engine.policy import Policy
from houzzflow.simulator.houzz.names import AUTO_CHARGE, NEW
from houzzflow.simulator.houzz.state import SHIPPED, FakeHouzz, HouzzOrder
from houzzflow.simulator.judge.calls import OK, REFUSED, ApiCall
from houzzflow.simulator.judge.etiquette import ETIQUETTE, Breach, check_etiquette
from houzzflow.simulator.judge.warehouse import ConnectorWarehouse
from houzzflow.simulator.kernel.timeline import Happening, Timeline, describe, happening_json
from houzzflow.simulator.kernel.words import plural
from houzzflow.simulator.runs.invariants import (
    INVARIANTS,
    Observations,
    Violation,
    check,
    houzz_clock_pending,
)

SHOWN = 5  # violations told with their timelines, per invariant or rule, in text
STORIES = 50  # violations per invariant or rule whose timelines are kept (JSON)
IN_FLIGHT_KEY = "stuck"


@dataclass(frozen=True, slots=True)
class JudgeOptions:
    """How strictly to judge: ``poll_interval`` (seconds) turns the ``poll_gap`` rule on;
    ``final`` makes an order still in flight a violation."""

    poll_interval: int | None = None
    final: bool = False


@dataclass
class ConnectorVerdict:
    """The connector's verdict so far (see the module doc)."""

    now: int
    at: str  # the moment as Houzz writes it
    orders: int
    violations: dict[str, list[Violation]]  # invariant key -> violations
    etiquette: dict[str, list[Breach]]  # rule key -> breaches
    in_flight: list[Violation]  # orders still in flight (violations only when final)
    fates: Counter[str] = field(default_factory=Counter)
    final: bool = False
    timelines: dict[str, list[Happening]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.broken()

    def broken(self) -> list[str]:
        """Keys of the invariants and etiquette rules broken, invariants first."""
        keys = [key for key, found in self.violations.items() if found]
        return keys + [key for key, found in self.etiquette.items() if found]

    def render(self) -> str:
        """The verdict in plain words, as ``houzzflow run`` tells a run."""
        head = "PASS" if self.ok else "FAIL"
        lines = [
            f"{head}  connector verdict at {self.at} (simulated second {self.now}): "
            f"{plural(self.orders, 'order')}, {len(self.in_flight)} in flight",
            "",
            "  Invariants",
        ]
        for key, name in INVARIANTS.items():
            if key == IN_FLIGHT_KEY and not self.final:
                continue
            found = self.violations.get(key, [])
            if not found:
                lines.append(f"    ✔ {name}")
                continue
            lines.append(f"    ✘ {name}: {plural(len(found), 'order')}")
            for violation in found[:SHOWN]:
                lines.extend(self._told(violation))
            if len(found) > SHOWN:
                lines.append(f"      ... and {len(found) - SHOWN} more")
        lines += ["", "  Wire etiquette"]
        for key, name in ETIQUETTE.items():
            breaches = self.etiquette.get(key, [])
            if not breaches:
                lines.append(f"    ✔ {name}")
                continue
            lines.append(f"    ✘ {name}: {plural(len(breaches), 'time')}")
            for breach in breaches[:SHOWN]:
                lines.append(f"      {breach.render()}")
                if breach.order_id:
                    lines.extend(self._timeline(breach.order_id))
            if len(breaches) > SHOWN:
                lines.append(f"      ... and {len(breaches) - SHOWN} more")
        if self.in_flight and not self.final:
            lines += ["", f"  In flight: {plural(len(self.in_flight), 'order')}"]
            for violation in self.in_flight[:SHOWN]:
                lines.append(f"    order {violation.order_id}: {violation.message}")
            if len(self.in_flight) > SHOWN:
                lines.append(f"    ... and {len(self.in_flight) - SHOWN} more")
        return "\n".join(lines) + "\n"

    def _told(self, violation: Violation) -> list[str]:
        head = f"      order {violation.order_id}: {violation.message}"
        return [head, *self._timeline(violation.order_id)]

    def _timeline(self, order_id: str) -> list[str]:
        return ["        " + describe(h) for h in self.timelines.get(order_id, ())]

    def to_json(self) -> dict[str, Any]:
        """The verdict as JSON data (``GET /_houzzflow/verdict``); a timeline is a list of
        steps, the object every JSON report shares (``kernel.timeline.step_json``)."""

        def steps(order_id: str) -> list[dict[str, Any]]:
            return [happening_json(h) for h in self.timelines.get(order_id, ())]

        def violation(v: Violation) -> dict[str, Any]:
            return {
                "order_id": v.order_id,
                "message": v.message,
                "kind": v.kind,
                "timeline": steps(v.order_id),
            }

        def breach(b: Breach) -> dict[str, Any]:
            return {
                "time": b.time,
                "message": b.message,
                "order_id": b.order_id,
                "timeline": steps(b.order_id),
            }

        invariants = {
            key: {"name": INVARIANTS[key], "violations": [violation(v) for v in found]}
            for key, found in self.violations.items()
            if key != IN_FLIGHT_KEY or self.final
        }
        return {
            "ok": self.ok,
            "final": self.final,
            "now": self.now,
            "time": self.at,
            "orders": self.orders,
            "broken": self.broken(),
            "invariants": invariants,
            "etiquette": {
                key: {"name": ETIQUETTE[key], "breaches": [breach(b) for b in found]}
                for key, found in self.etiquette.items()
            },
            "in_flight": [
                {"order_id": v.order_id, "why": v.message, "kind": v.kind} for v in self.in_flight
            ],
            "fates": dict(self.fates),
        }


def judge_connector(
    fake: FakeHouzz,
    warehouse: ConnectorWarehouse,
    calls: Iterable[ApiCall],
    timeline: Timeline,
    *,
    at: str,
    scheduled: Mapping[str, str] | None = None,
    options: JudgeOptions | None = None,
) -> ConnectorVerdict:
    """Judge the session so far; ``scheduled``: order id -> what staff or the customer are
    yet to do to it, in words (planned by the test); ``at``: now, as Houzz writes it."""
    options = options or JudgeOptions()
    made = list(calls)
    now = fake.clock.now
    obs = _observations(fake, warehouse, made, scheduled or {})
    verdict = check(obs)
    stuck = verdict.violations.pop(IN_FLIGHT_KEY, [])
    violations = dict(verdict.violations)
    violations[IN_FLIGHT_KEY] = stuck if options.final else []
    etiquette = check_etiquette(made, fake.table, now=now, poll_interval=options.poll_interval)
    told = {v.order_id for found in violations.values() for v in found[:STORIES]}
    told |= {b.order_id for found in etiquette.values() for b in found[:STORIES] if b.order_id}
    timelines = {oid: _timeline_of(timeline, made, oid) for oid in sorted(told)}
    return ConnectorVerdict(
        now=now,
        at=at,
        orders=len(fake.orders),
        violations=violations,
        etiquette=etiquette,
        in_flight=stuck,
        fates=verdict.fates,
        final=options.final,
        timelines=timelines,
    )


def _observations(
    fake: FakeHouzz,
    warehouse: ConnectorWarehouse,
    calls: list[ApiCall],
    scheduled: Mapping[str, str],
) -> Observations:
    stock = warehouse.stock
    state = ConnectorState()
    # Orders whose shipment the connector tried to confirm, and Houzz refused the last try.
    refused_ship = {
        call.order_id: call.outcome != OK
        for call in calls
        if call.method == "updateOrder" and call.action.lower() == "ship"
    }
    for order_id in stock.received:
        order = fake.orders[order_id]
        if order.status == SHIPPED and order_id in stock.shipped:
            state.ledger[order_id] = "Confirmed"
        elif order_id in stock.shipped and refused_ship.get(order_id):
            state.ledger[order_id] = "Shipped"  # it tried to confirm, and Houzz refused
        else:
            state.ledger[order_id] = "AtWMS"
    polls: list[int] = []
    for call in calls:
        if call.method != "getOrders" or call.outcome != OK or call.query is None:
            continue
        for order_id, status in call.listed:
            if order_id not in stock.received:
                state.skipped[order_id] = f"listed as {status}, not sent"
        if call.query.start + len(call.listed) >= call.total:
            polls.append(call.time)  # the listing reached the end of its window
    for order_id in list(state.skipped):
        if order_id in stock.received:
            del state.skipped[order_id]
    # The 2021 auto-charge is still to come for a New order; an authorization lapse is not
    # waited for: a Charged order the connector listed and never sent is lost now, whatever
    # Houzz does to it days later.
    clocks = ((NEW, AUTO_CHARGE) in fake.table.moves, False)
    pending = _pending(fake, scheduled, clocks)
    program = fake.program
    policy = Policy(
        connection_type=program,
        order_status="new_or_in_production",
        mark_processed=False,
        mark_charged=False,
        cancel_download=True,
        poll_interval=900,
        account=program,
        era=fake.era,
        staff_process="never",
        staff_charge="never",
        staff_cancel="never",
    )
    return Observations(
        policy=policy,
        table=fake.table,
        orders=fake.orders,
        received=stock.received,
        shipped=stock.shipped,
        state=state,
        poll_times=sorted(polls),
        earliest=None,
        unpaid_at_send=stock.unpaid_at_send,
        unpaid_at_ship=stock.unpaid_at_ship,
        cancelled_at_ship=stock.cancelled_at_ship,
        connected=fake.connection == fake.program,
        now=fake.clock.now,
        received_at=stock.received_at,
        cancelled_at_warehouse=stock.cancelled,
        pending=pending,
        connector="the connector",
    )


def _pending(
    fake: FakeHouzz, scheduled: Mapping[str, str], clocks: tuple[bool, bool]
) -> Callable[[HouzzOrder, bool], str]:
    def pending(order: HouzzOrder, held: bool) -> str:
        planned = scheduled.get(order.order_id, "")
        if planned:
            return planned
        return "" if held else houzz_clock_pending(order, fake.clock.now, fake, *clocks)

    return pending


def _timeline_of(timeline: Timeline, calls: list[ApiCall], order_id: str) -> list[Happening]:
    """The order's story: its timeline, the connector named as such, when the connector
    first listed it, and the writes Houzz refused it."""
    story = [
        dataclasses.replace(h, actor="client") if h.actor == "connector" else h
        for h in timeline.of(order_id)
    ]
    listed = False
    for call in calls:
        if call.method == "getOrders" and call.outcome == OK and not listed:
            status = dict(call.listed).get(order_id)
            if status is not None:
                story.append(Happening(call.time, order_id, "client", "Listed", status))
                listed = True
        elif call.order_id == order_id and call.outcome == REFUSED:
            what = f"refused by Houzz: {call.reason}"
            story.append(Happening(call.time, order_id, "client", call.action, what))
    # In one second: what the world did, then the connector's listing, then its writes.
    return sorted(story, key=_in_one_second)


def _in_one_second(happening: Happening) -> tuple[int, int]:
    if happening.actor in ("customer", "staff", "houzz"):
        return happening.time, 0
    return happening.time, 1 if happening.action == "Listed" else 2
