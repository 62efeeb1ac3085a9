"""The six invariants of DESIGN.md, checked at the end of a run, order by order.

* **nothing lost** - every order Houzz released and nobody cancelled reaches the backend;
* **exactly once** - no order is sent to the backend twice;
* **paid before sent** - the backend receives only orders Charged in Houzz at that moment,
  and never ships one whose authorization has lapsed;
* **cancelled not shipped** - once CartRover has polled after a cancellation in Houzz, the
  backend does not ship the order (whether Order Cancel Download is on or off: with it off,
  a cancellation after loading is exactly what goes wrong); a poll cut short by a connector
  crash does not count, since CartRover never got to act on what it listed;
* **confirmed** - every shipped order ends Shipped in Houzz with all its tracking numbers
  (orders cancelled in Houzz are exempt: CartRover alerts on them instead);
* **accounted** - every order never loaded is in the skipped log with a reason.

Orders created before Earliest Order Date are skipped by design: reported, not lost. An
order still moving at the end of the run (a write being retried, a change CartRover has
not polled since, a shipment not yet collected) is *in flight*, not a violation.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from houzzflow.engine.connector import ConnectorState
from houzzflow.engine.decisions import decide
from houzzflow.engine.policy import Policy
from houzzflow.engine.ports import Shipment
from houzzflow.engine.table import Table
from houzzflow.simulator.houzz.state import CANCEL, CANCELLED, SHIPPED, HouzzOrder
from houzzflow.simulator.kernel.timeline import Happening, clock_text, describe
from houzzflow.simulator.world.backend import ShipmentLog

# Invariant keys (as in a scenario's ``expect``) and their names.
INVARIANTS: dict[str, str] = {
    "lost": "nothing lost",
    "duplicated": "exactly once",
    "unpaid_shipped": "paid before sent",
    "cancelled_shipped": "cancelled not shipped",
    "unconfirmed": "confirmed with all tracking numbers",
    "unaccounted": "every order accounted for",
}

CONNECTOR_OUTCOMES: dict[str, str] = {
    "Confirmed": "confirmed: shipped, tracking posted to Houzz",
    "Shipped": "shipped, confirmation not yet posted",
    "AtWMS": "at the warehouse, not shipped yet",
    "New": "loaded, on its way to the warehouse",
    "Error": "held in Error",
    "CancelSending": "cancelled in Houzz before it was sent",
    "Canceled": "cancelled at the warehouse",
}


@dataclass(frozen=True, slots=True)
class Violation:
    invariant: str  # a key of INVARIANTS
    order_id: str
    message: str
    timeline: tuple[Happening, ...] = ()

    def render(self) -> str:
        """The violation and the order's timeline, in plain words."""
        head = f"{INVARIANTS[self.invariant]}: order {self.order_id} {self.message}"
        return "\n".join([head, *("    " + describe(h) for h in self.timeline)])


@dataclass(slots=True)
class Observations:
    """What a run leaves behind for the invariants: the world's final state, and the few
    moments the runner noted as they happened (only for orders that went wrong)."""

    policy: Policy
    table: Table  # the Houzz account's lifecycle
    orders: Mapping[str, HouzzOrder]
    received: Mapping[str, int]  # order -> receipts at the warehouse
    shipped: Mapping[str, Shipment]
    state: ConnectorState
    poll_times: Sequence[int]  # when each poll that listed its whole window ran
    earliest: int | None  # Earliest Order Date in simulated seconds
    unpaid_at_send: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    unpaid_at_ship: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    cancelled_at_ship: Mapping[str, int] = field(default_factory=dict)
    connected: bool = True  # the connection type matches the account's program


@dataclass(slots=True)
class Verdict:
    violations: dict[str, list[Violation]]
    outcomes: Counter[str]
    in_flight: int
    skipped_by_design: int

    def count(self, invariant: str) -> int:
        return len(self.violations.get(invariant, ()))


def check(obs: Observations) -> Verdict:
    """Every invariant over every order, and each order's outcome, in one pass."""
    violations: dict[str, list[Violation]] = {key: [] for key in INVARIANTS}
    lost, dup, unpaid = violations["lost"], violations["duplicated"], violations["unpaid_shipped"]
    cancelled_shipped = violations["cancelled_shipped"]
    unconfirmed, unaccounted = violations["unconfirmed"], violations["unaccounted"]
    outcomes: Counter[str] = Counter()
    state = obs.state
    ledger, skipped, work = state.ledger, state.skipped, state.work
    hidden = obs.table.hidden
    label = obs.table.labels
    received, shipped = obs.received, obs.shipped
    last_poll = obs.poll_times[-1] if obs.poll_times else None
    earliest = obs.earliest
    by_design_reason = decide(obs.policy, "New", None, before_earliest=True).reason
    in_flight = 0
    by_design = 0
    confirmed = 0
    unpaid_at_send, unpaid_at_ship = obs.unpaid_at_send, obs.unpaid_at_ship
    tracking_of = _tracking_lookup(shipped)
    for oid, order in obs.orders.items():
        status = order.status
        known = ledger.get(oid)
        times = received.get(oid, 0)
        if (
            known == "Confirmed"
            and times == 1
            and status == SHIPPED
            and order.tracking == tracking_of(oid)
            and oid not in unpaid_at_send
            and oid not in unpaid_at_ship
        ):
            # The common case, cheaply: sent once, paid, confirmed with every number.
            confirmed += 1
            continue
        # Still moving: a write being retried, or changed since CartRover last listed it all.
        moving = oid in work or last_poll is None or order.modified >= last_poll
        # Older than Earliest Order Date: never loaded, by design (listed or not).
        by_design_order = known is None and earliest is not None and order.created < earliest
        if known is not None:
            outcomes[CONNECTOR_OUTCOMES.get(known, known)] += 1
        elif by_design_order:
            by_design += 1
            outcomes[f"skipped by design: {by_design_reason}"] += 1
        elif status in hidden:
            outcomes[f"held back by Houzz ({label[status]})"] += 1
        elif oid in skipped:
            outcomes[f"skipped: {skipped[oid]}"] += 1
        elif moving:
            outcomes["placed, not yet seen by CartRover"] += 1
        else:
            outcomes["never seen by CartRover"] += 1
        if times > 1:
            dup.append(Violation("duplicated", oid, f"the warehouse received it {times} times"))
        if oid in unpaid_at_send:
            at, was = unpaid_at_send[oid]
            unpaid.append(
                Violation(
                    "unpaid_shipped",
                    oid,
                    f"the warehouse received it at {clock_text(at)} while it was "
                    f"{label.get(was, was)} in Houzz, not Charged",
                )
            )
        elif oid in unpaid_at_ship:
            at, was = unpaid_at_ship[oid]
            unpaid.append(
                Violation(
                    "unpaid_shipped",
                    oid,
                    f"the warehouse shipped it at {clock_text(at)} while it was "
                    f"{label.get(was, was)} in Houzz: its authorization had lapsed",
                )
            )
        if status == CANCELLED:
            shipped_at = obs.cancelled_at_ship.get(oid)
            if shipped_at is not None:
                violation = _cancelled_shipped(obs, oid, order, shipped_at)
                if violation is not None:
                    cancelled_shipped.append(violation)
        if status in hidden or by_design_order:
            continue  # never released by Houzz, or skipped by design: nobody loads it
        if known is None and oid not in skipped and not moving:
            unaccounted.append(Violation("unaccounted", oid, _unseen(obs, order)))
        if times == 0 and status != CANCELLED:
            if moving:
                in_flight += 1
            else:
                lost.append(Violation("lost", oid, _why_lost(obs, order, known)))
        shipment = shipped.get(oid)
        if shipment is not None and status != CANCELLED:
            pending = known in ("New", "AtWMS") or oid in work  # not collected or posted yet
            numbers = {p.tracking_number for p in shipment.packages}
            if status == SHIPPED and set(order.tracking_numbers) == numbers:
                continue
            if pending:
                in_flight += 1
                continue
            unconfirmed.append(Violation("unconfirmed", oid, _why_unconfirmed(obs, order, numbers)))
    if confirmed:
        outcomes[CONNECTOR_OUTCOMES["Confirmed"]] += confirmed
    return Verdict(violations, outcomes, in_flight, by_design)


def _tracking_lookup(shipped: Mapping[str, Shipment]) -> Callable[[str], str | None]:
    """order id -> the tracking numbers it shipped with, comma-joined (None: not shipped)."""
    if isinstance(shipped, ShipmentLog):
        return shipped.tracking  # kept joined: no Shipment built per order

    def tracking(order_id: str) -> str | None:
        shipment = shipped.get(order_id)
        if shipment is None:
            return None
        return ",".join([p.tracking_number for p in shipment.packages])

    return tracking


def _cancel_time(order: HouzzOrder) -> int:
    for time, _, action, _ in reversed(order.history):
        if action == CANCEL:
            return time
    return order.modified


def _cancelled_shipped(
    obs: Observations, oid: str, order: HouzzOrder, shipped_at: int
) -> Violation | None:
    cancelled_at = _cancel_time(order)
    polls = obs.poll_times
    after = bisect_right(polls, cancelled_at)
    if after >= len(polls) or polls[after] >= shipped_at:
        return None  # shipped before CartRover could have seen the cancellation
    setting = "" if obs.policy.cancel_download else " (Order Cancel Download is off)"
    return Violation(
        "cancelled_shipped",
        oid,
        f"cancelled in Houzz at {clock_text(cancelled_at)}; CartRover polled at "
        f"{clock_text(polls[after])}, yet the warehouse shipped it at "
        f"{clock_text(shipped_at)}{setting}",
    )


def _unseen(obs: Observations, order: HouzzOrder) -> str:
    if not obs.connected:
        return (
            "never loaded and not in the skipped log: Houzz answers this connection type "
            "with no orders at all, so CartRover never saw it"
        )
    return "never loaded and not in the skipped log: no poll of CartRover's ever listed it"


def _why_lost(obs: Observations, order: HouzzOrder, known: str | None) -> str:
    state = obs.state
    oid = order.order_id
    here = obs.table.labels.get(order.status, order.status)
    if known == "Error":
        return f"never reached the warehouse: held in Error ({state.held.get(oid, '')})"
    if known is not None:
        return f"never reached the warehouse: CartRover has it as {known}"
    reason = state.skipped.get(oid)
    if reason is not None:
        return (
            f"never reached the warehouse: CartRover skipped it ({reason}) and it stays "
            f"{here} in Houzz"
        )
    if not obs.connected:
        return (
            "never reached the warehouse: Houzz answers this connection type with no orders at all"
        )
    return f"never reached the warehouse: CartRover never listed it (it is {here} in Houzz)"


def _why_unconfirmed(obs: Observations, order: HouzzOrder, numbers: set[str]) -> str:
    oid = order.order_id
    here = obs.table.labels.get(order.status, order.status)
    all_numbers = ", ".join(sorted(numbers))
    held = obs.state.held.get(oid)
    tail = f"; CartRover holds it in Error ({held})" if held else ""
    if order.status != SHIPPED:
        return f"the warehouse shipped it ({all_numbers}) but it is {here} in Houzz{tail}"
    posted = ", ".join(order.tracking_numbers) or "none"
    return f"Houzz shows tracking {posted}, the warehouse shipped {all_numbers}{tail}"
