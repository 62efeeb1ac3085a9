"""The invariants of DESIGN.md, checked at the end of a run, order by order.

* **nothing lost** - every order Houzz released and nobody cancelled reaches the backend.
  A lost order is lost *silently* (no alert, no Error status: nobody will ever know) or
  *held visibly* (in CartRover's Error, with an alert); the silent ones are told first;
* **exactly once** - no order is sent to the backend twice;
* **paid before sent** - the backend receives only orders Charged in Houzz at that moment,
  and never ships one whose authorization has lapsed;
* **cancelled not shipped** - once CartRover has polled after a cancellation in Houzz, the
  backend does not ship the order (whether Order Cancel Download is on or off: with it off,
  a cancellation after loading is exactly what goes wrong); a poll cut short by a connector
  crash does not count, since CartRover never got to act on what it listed;
* **confirmed** - every shipped order ends Shipped in Houzz with all its tracking numbers
  (orders cancelled in Houzz are exempt: CartRover alerts on them instead);
* **accounted** - every order never loaded is in the skipped log with a reason;
* **settled** - every order has settled when the run ends (after its drain): see below.

Each order has one *fate* when it is judged (``Judge.fate``). Settled: ``confirmed``;
``cancelled`` (and not at the warehouse, or cancelled there); ``by design`` (older than
Earliest Order Date); ``unpaid`` (Houzz holds it back as Failed to Charge, or shows it so,
and its customer never fixes the payment: nobody may ship it); ``held accounted`` (held in
Error, with an alert, after a card was declined at CartRover's own Charge: no setting can
prevent that, and the merchant sees it). Final failures, which nothing will change any
more: ``lost`` (silently), ``held`` (in Error, for a reason a setting caused), and
``unconfirmed``. ``in flight``: something is still to happen to it - a step in
CartRover's pipeline, a change CartRover has not listed since, the warehouse, staff, the
customer, a person resolving it, one of Houzz's clocks. An order in flight when the run
ends is *stuck*, and the report says why.

Ties in one second: a change in the very second of CartRover's last poll counts as seen by
that poll when CartRover's record of the order already reflects it; a cancellation, a poll
and a shipment in one second are ordered by the moment each ran (``*_moments``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from houzzflow.engine.connector import ConnectorState
from houzzflow.engine.decisions import Decision, decide
from houzzflow.engine.ledger import DUE, ST, TRIES, WAIT
from houzzflow.engine.policy import Policy
from houzzflow.engine.ports import Shipment
from houzzflow.engine.table import Table
from houzzflow.simulator.houzz.names import CHARGE_DECLINED, NEW
from houzzflow.simulator.houzz.state import (
    CANCEL,
    CANCELLED,
    CHARGED,
    FAILED_TO_CHARGE,
    SHIPPED,
    FakeHouzz,
    HouzzOrder,
)
from houzzflow.simulator.kernel.timeline import Happening, clock_text, describe
from houzzflow.simulator.kernel.tracking import pack_tracking
from houzzflow.simulator.world.backend import ShipmentLog

# Invariant keys (as in a scenario's ``expect``) and their names.
INVARIANTS: dict[str, str] = {
    "lost": "nothing lost",
    "duplicated": "exactly once",
    "unpaid_shipped": "paid before sent",
    "cancelled_shipped": "cancelled not shipped",
    "unconfirmed": "confirmed with all tracking numbers",
    "unaccounted": "every order accounted for",
    "stuck": "nothing stuck in flight",
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

# Fates (see the module doc).
CONFIRMED = "confirmed"
CANCELLED_FATE = "cancelled"
BY_DESIGN = "by design"
UNPAID = "unpaid"
HELD_ACCOUNTED = "held accounted"
IN_FLIGHT = "in flight"
LOST = "lost"
HELD = "held"
UNCONFIRMED = "unconfirmed"
SETTLED = frozenset({CONFIRMED, CANCELLED_FATE, BY_DESIGN, UNPAID, HELD_ACCOUNTED})

# Kinds of lost orders, told in this order.
SILENT = "lost silently (no alert, no Error status: nobody will know)"
VISIBLE = "held visibly (in CartRover's Error, with an alert)"

# What CartRover's pipeline is waiting to do, by stage.
STAGE_WORDS = {
    "Process": "mark it Processed",
    "Charge": "mark it Charged",
    "Send": "send it to the warehouse",
    "Ship": "post its tracking to Houzz",
    "Withdraw": "ask the warehouse whether it has it",
    "Cancel": "cancel it at the warehouse",
}


def _nothing(order: HouzzOrder, held: bool) -> str:
    return ""


@dataclass(frozen=True, slots=True)
class Violation:
    invariant: str  # a key of INVARIANTS
    order_id: str
    message: str
    timeline: tuple[Happening, ...] = ()
    kind: str = ""  # lost: SILENT or VISIBLE; stuck: what it waits for, in general words

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
    now: int = 0  # when the run is judged
    received_at: Mapping[str, int] = field(default_factory=dict)  # order -> first receipt
    cancelled_at_warehouse: Collection[str] = frozenset()
    # The order in which cancellations, complete polls and shipments of cancelled orders
    # ran (one counter for all three), for ties within one second.
    poll_moments: Sequence[int] = ()
    cancel_moments: Mapping[str, int] = field(default_factory=dict)
    ship_moments: Mapping[str, int] = field(default_factory=dict)
    # What the world (staff, the customer, a person resolving it, Houzz's clocks) is still
    # to do to an order, in words ("" nothing); ``held``: CartRover holds it in Error.
    pending: Callable[[HouzzOrder, bool], str] = _nothing
    down: bool = False  # CartRover is down (crashed, not yet restarted)
    health: str = ""  # how CartRover's polls went lately, in words (why orders are stuck)
    # Who loads the orders, as the messages name it: the harness judges a connector under
    # test with the same invariants ("the connector").
    connector: str = "CartRover"


@dataclass(slots=True)
class Verdict:
    violations: dict[str, list[Violation]]
    outcomes: Counter[str]
    in_flight: int  # orders still in flight when the order stream ended (set by the runner)
    skipped_by_design: int
    stuck: int = 0  # orders still in flight when the run was judged
    fates: Counter[str] = field(default_factory=Counter)
    held_accounted: int = 0  # orders in Error after a card declined at CartRover's Charge

    def count(self, invariant: str) -> int:
        return len(self.violations.get(invariant, ()))


class Judge:
    """Each order's fate, from what a run leaves behind (see the module doc)."""

    def __init__(self, obs: Observations) -> None:
        state = obs.state
        self.obs = obs
        self.ledger = state.ledger
        self.work = state.work
        self.held = state.held
        self.skipped = state.skipped
        self.hidden = obs.table.hidden
        self.received = obs.received
        self.shipped = obs.shipped
        self.last_poll = obs.poll_times[-1] if obs.poll_times else None
        self._held_at: dict[str, int] | None = None

    def fate(self, oid: str, order: HouzzOrder) -> str:
        """The order's fate now."""
        status = order.status
        known = self.ledger.get(oid)
        obs = self.obs
        if status == CANCELLED:
            if oid in self.work:
                return IN_FLIGHT  # CartRover has yet to let it go, or to cancel it
            if (
                oid in self.received
                and oid not in self.shipped
                and oid not in obs.cancelled_at_warehouse
            ):
                return IN_FLIGHT  # the warehouse has it and has not been told
            return CANCELLED_FATE
        earliest = obs.earliest
        if known is None and earliest is not None and order.created < earliest:
            return BY_DESIGN
        if oid in self.held:
            if obs.pending(order, True):
                return IN_FLIGHT
            return HELD_ACCOUNTED if self.declined(oid, order) else HELD
        if oid in self.work:
            return IN_FLIGHT
        if oid in self.received:
            if oid not in self.shipped or known in ("New", "AtWMS"):
                return IN_FLIGHT  # not shipped yet, or the shipment not collected yet
            if known == "Confirmed" and status == SHIPPED and self.all_tracking(oid, order):
                return CONFIRMED
            return UNCONFIRMED
        if status in self.hidden or (status == FAILED_TO_CHARGE and known is None):
            return IN_FLIGHT if obs.pending(order, False) else UNPAID
        if obs.down or self.unseen(oid, order, known) or obs.pending(order, False):
            return IN_FLIGHT
        return LOST

    def all_tracking(self, oid: str, order: HouzzOrder) -> bool:
        shipment = self.shipped.get(oid)
        numbers = {p.tracking_number for p in shipment.packages} if shipment else set()
        return set(order.tracking_numbers) == numbers

    def unseen(self, oid: str, order: HouzzOrder, known: str | None) -> bool:
        """Whether the order changed after CartRover's last complete poll listed it."""
        last = self.last_poll
        if last is None or order.modified > last:
            return True
        if order.modified < last or known is not None:
            return False  # a loaded order's change matters only through its pipeline
        # Changed in the very second of the last poll: seen if the skipped log says so.
        reason = self.skipped.get(oid)
        if reason is None:
            return True
        seen = decide(self.obs.policy, order.status, None, before_earliest=False)
        return seen.decision is Decision.LOAD or seen.reason != reason

    def declined(self, oid: str, order: HouzzOrder) -> bool:
        """Whether the order was held because a card was declined at CartRover's Charge."""
        if self._held_at is None:
            self._held_at = {a.order_id: a.time for a in self.obs.state.alerts if a.kind == "held"}
        at = self._held_at.get(oid)
        return any(
            time == at and actor == "houzz" and action == CHARGE_DECLINED
            for time, actor, action, _ in order.history
        )


def check(obs: Observations, settled: Settled | None = None) -> Verdict:
    """Every invariant over every order, and each order's outcome, in one pass.

    ``settled``: what was judged while the run went on (see ``Settled``); the pass only
    reads CartRover's status of each order judged then, with the same verdict as a pass
    over every order (when it cannot tell, it makes that pass)."""
    verdict = _check(obs, settled)
    if verdict is None:
        verdict = _check(obs, None)  # an order Confirmed that Houzz never told Shipped
        assert verdict is not None
    return verdict


def _check(obs: Observations, settled: Settled | None) -> Verdict | None:
    violations: dict[str, list[Violation]] = {key: [] for key in INVARIANTS}
    dup, unpaid = violations["duplicated"], violations["unpaid_shipped"]
    cancelled_shipped = violations["cancelled_shipped"]
    unconfirmed, unaccounted = violations["unconfirmed"], violations["unaccounted"]
    lost: dict[str, list[Violation]] = {SILENT: [], VISIBLE: []}
    stuck = violations["stuck"]
    outcomes: Counter[str] = Counter()
    fates: Counter[str] = Counter()
    judge = Judge(obs)
    state = obs.state
    ledger, skipped = state.ledger, state.skipped
    hidden = obs.table.hidden
    label = obs.table.labels
    received = obs.received
    by_design_reason = decide(obs.policy, "New", None, before_earliest=True).reason
    by_design = 0
    quickly = 0  # confirmed, told by the common case's test
    unpaid_at_send, unpaid_at_ship = obs.unpaid_at_send, obs.unpaid_at_ship
    tracking_of = _tracking_lookup(obs.shipped)
    orders = obs.orders
    early = 0  # Confirmed, and judged when Houzz told it Shipped (see Settled)
    shipped_rest = 0  # of the others, those Shipped in Houzz
    failed: AbstractSet[str] = frozenset()
    touched: AbstractSet[str] = frozenset()
    if settled is not None:
        failed, touched = settled.failed, settled.touched_ids
    for oid in orders:
        known: str | None = ledger.get(oid)  # mypyc infers None here without it
        if (
            known == "Confirmed"
            and settled is not None
            and oid not in failed
            and oid not in touched
        ):
            early += 1
            continue
        order = orders[oid]
        status = order.status
        shipped_rest += status == SHIPPED
        times = received.get(oid, 0)
        if known == "Confirmed" and _confirmed_once(
            oid, order, times, tracking_of, unpaid_at_send, unpaid_at_ship
        ):
            quickly += 1
            continue
        fate = judge.fate(oid, order)
        fates[fate] += 1
        unseen = fate == IN_FLIGHT and judge.unseen(oid, order, known)
        by_design_order = fate == BY_DESIGN
        if known is not None:
            outcomes[CONNECTOR_OUTCOMES.get(known, known)] += 1
        elif by_design_order:
            by_design += 1
            outcomes[f"skipped by design: {by_design_reason}"] += 1
        elif status in hidden:
            outcomes[f"held back by Houzz ({label[status]})"] += 1
        elif oid in skipped:
            outcomes[f"skipped: {skipped[oid]}"] += 1
        elif unseen:
            outcomes[f"placed, not yet seen by {obs.connector}"] += 1
        else:
            outcomes[f"never seen by {obs.connector}"] += 1
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
        if (
            known is None
            and not by_design_order
            and status not in hidden
            and oid not in skipped
            and not judge.unseen(oid, order, known)
        ):
            unaccounted.append(Violation("unaccounted", oid, _unseen(obs, order)))
        if fate == IN_FLIGHT:
            kind, why = _why_stuck(obs, judge, oid, order)
            stuck.append(Violation("stuck", oid, why, kind=kind))
        elif fate == LOST:
            why = _why_lost(obs, order, known)
            lost[SILENT].append(Violation("lost", oid, why, kind=SILENT))
        elif fate == HELD and times == 0:
            why = f"never reached the warehouse: held in Error ({state.held.get(oid, '')})"
            lost[VISIBLE].append(Violation("lost", oid, why, kind=VISIBLE))
        elif fate in (HELD, UNCONFIRMED):
            shipment = obs.shipped.get(oid)
            numbers = {p.tracking_number for p in shipment.packages} if shipment else set()
            why = _why_unconfirmed(obs, order, numbers)
            unconfirmed.append(Violation("unconfirmed", oid, why))
    violations["lost"] = lost[SILENT] + lost[VISIBLE]
    if settled is not None and settled.told - shipped_rest != early:
        return None  # not every order skipped above was told Shipped: see Settled
    quickly += early
    if quickly:
        outcomes[CONNECTOR_OUTCOMES["Confirmed"]] += quickly
        fates[CONFIRMED] += quickly
    accounted = sum(judge.declined(oid, orders[oid]) for oid in state.held if oid in orders)
    return Verdict(violations, outcomes, 0, by_design, len(stuck), fates, accounted)


def _confirmed_once(
    oid: str,
    order: HouzzOrder,
    times: int,
    tracking_of: Callable[[str], int | str | None],
    unpaid_at_send: Mapping[str, object],
    unpaid_at_ship: Mapping[str, object],
) -> bool:
    """Whether an order Confirmed at CartRover is the common case, told cheaply: sent once,
    paid when sent and shipped, Shipped in Houzz with every number the warehouse shipped.
    Its fate is ``confirmed`` and it breaks no invariant."""
    return (
        times == 1
        and order.status == SHIPPED
        and order.tracking_packed == tracking_of(oid)
        and oid not in unpaid_at_send
        and oid not in unpaid_at_ship
    )


class Settled:
    """What is judged of each order while a run goes on, as it settles, so that ``check``
    at the end need not look at the order again (``check(obs, settled)``: the same
    verdict as a pass over every order), and nothing is kept for it.

    When Houzz tells an order Shipped (``shipped``, a Houzz subscriber), the warehouse has
    shipped it and CartRover has just posted its tracking: it is tested then, while the
    order is at hand, for the common case (``_confirmed_once``: sent once, paid, every
    number posted) but for CartRover's own status, which ``check`` reads at the end. Only
    the orders that fail the test are kept (``failed``), with the number told (``told``).
    Shipped is terminal in Houzz (``applies``), so Houzz tells each order Shipped once and
    its status and tracking do not move again; what could still change the verdict is told
    through ``touched`` (a second receipt, an unpaid or cancelled shipment noted for it),
    and such an order is judged at the end as if nothing had been judged before.

    At the end an order Confirmed at CartRover, neither failed nor touched, counts as
    confirmed the common way without a look: provided Houzz told it Shipped. ``check``
    counts the orders Shipped in Houzz among the others; when ``told`` less that count is
    not the number it counted without a look, one of those was never told Shipped, and it
    makes the pass over every order instead. ``received``, ``shipped_log`` and the notes
    are the warehouse's, live."""

    __slots__ = ("_notes", "_received", "_tracking", "failed", "told", "touched_ids")

    def __init__(
        self,
        received: Mapping[str, int],
        shipped_log: Mapping[str, Shipment],
        unpaid_at_send: Mapping[str, object],
        unpaid_at_ship: Mapping[str, object],
    ) -> None:
        self._received = received
        self._tracking = _tracking_lookup(shipped_log)
        self._notes = (unpaid_at_send, unpaid_at_ship)
        self.told = 0  # orders Houzz told Shipped
        self.failed: set[str] = set()  # of those, not the common case when told
        self.touched_ids: set[str] = set()  # judged at the end as if nothing was before

    @staticmethod
    def applies(table: Table) -> bool:
        """Whether orders can be judged as they settle in this Houzz lifecycle: Shipped is
        terminal (nothing leaves it: machine.py checks a terminal state has no move out)."""
        return SHIPPED in table.terminal and not any(s == SHIPPED for s, _ in table.moves)

    def shipped(self, order: HouzzOrder, action: str) -> None:
        """Houzz subscriber for Shipped: test the order now (see the class doc)."""
        self.told += 1
        oid = order.order_id
        if not _confirmed_once(
            oid, order, self._received.get(oid, 0), self._tracking, *self._notes
        ):
            self.failed.add(oid)

    def touched(self, order_id: str) -> None:
        """Something that counts for the invariants happened to the order: judge it at the end."""
        self.touched_ids.add(order_id)


def houzz_clock_pending(
    order: HouzzOrder, now: int, houzz: FakeHouzz, auto_charge: bool, lapse: bool
) -> str:
    """What one of Houzz's own clocks is yet to do to the order, in words ("" nothing):
    the 2021 auto-charge when the cancel window closes (``auto_charge``), or a Charged
    order's authorization lapsing (``lapse``)."""
    status = order.status
    if status == NEW and auto_charge:
        if now < order.created + houzz.cancel_window:
            return "Houzz charges it when the customer's cancel window closes"
    elif status == CHARGED and lapse and now < (order.charged_at or 0) + houzz.authorization:
        days = houzz.authorization // 86400
        return f"Charged, not shipped: its authorization lapses {days} days after the charge"
    return ""


def _tracking_lookup(shipped: Mapping[str, Shipment]) -> Callable[[str], int | str | None]:
    """order id -> the tracking numbers it shipped with, packed as Houzz keeps an order's
    (``kernel.tracking``; None: not shipped), so the common case compares two ints and
    writes no number out."""
    if isinstance(shipped, ShipmentLog):
        return shipped.tracking_packed

    def tracking(order_id: str) -> int | str | None:
        shipment = shipped.get(order_id)
        if shipment is None:
            return None
        return pack_tracking(",".join([p.tracking_number for p in shipment.packages]))

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
    moments = obs.poll_moments
    cancelled_moment = obs.cancel_moments.get(oid)
    shipped_moment = obs.ship_moments.get(oid)
    if len(moments) == len(polls) and cancelled_moment is not None and shipped_moment is not None:
        # In the order they ran: a poll in the very second of the cancellation saw it if it
        # ran after it, and could stop a shipment of that second if it ran before it.
        after = bisect_right(moments, cancelled_moment)
        if after >= len(polls) or moments[after] > shipped_moment:
            return None
    else:
        after = bisect_right(polls, cancelled_at)
        if after >= len(polls) or polls[after] >= shipped_at:
            return None  # shipped before CartRover could have seen the cancellation
    setting = "" if obs.policy.cancel_download else " (Order Cancel Download is off)"
    return Violation(
        "cancelled_shipped",
        oid,
        f"cancelled in Houzz at {clock_text(cancelled_at)}; {obs.connector} polled at "
        f"{clock_text(polls[after])}, yet the warehouse shipped it at "
        f"{clock_text(shipped_at)}{setting}",
    )


def _unseen(obs: Observations, order: HouzzOrder) -> str:
    if not obs.connected:
        return (
            "never loaded and not in the skipped log: Houzz answers this connection type "
            f"with no orders at all, so {obs.connector} never saw it"
        )
    return f"never loaded and not in the skipped log: no poll of {obs.connector}'s ever listed it"


def _why_lost(obs: Observations, order: HouzzOrder, known: str | None) -> str:
    here = obs.table.labels.get(order.status, order.status)
    if known is not None:
        return f"never reached the warehouse: {obs.connector} has it as {known}"
    reason = obs.state.skipped.get(order.order_id)
    if reason is not None:
        return (
            f"never reached the warehouse: {obs.connector} skipped it ({reason}) and it stays "
            f"{here} in Houzz"
        )
    if not obs.connected:
        return (
            "never reached the warehouse: Houzz answers this connection type with no orders at all"
        )
    return f"never reached the warehouse: {obs.connector} never listed it (it is {here} in Houzz)"


def _why_unconfirmed(obs: Observations, order: HouzzOrder, numbers: set[str]) -> str:
    oid = order.order_id
    here = obs.table.labels.get(order.status, order.status)
    all_numbers = ", ".join(sorted(numbers))
    held = obs.state.held.get(oid)
    tail = f"; {obs.connector} holds it in Error ({held})" if held else ""
    if order.status != SHIPPED:
        return f"the warehouse shipped it ({all_numbers}) but it is {here} in Houzz{tail}"
    posted = ", ".join(order.tracking_numbers) or "none"
    return f"Houzz shows tracking {posted}, the warehouse shipped {all_numbers}{tail}"


def _why_stuck(obs: Observations, judge: Judge, oid: str, order: HouzzOrder) -> tuple[str, str]:
    """(what it waits for, in general words; the same for this order, in particular)."""
    label = obs.table.labels
    here = label.get(order.status, order.status)
    health = f": {obs.health}" if obs.health else ""
    entry: list[Any] | None = obs.state.work.get(oid)
    if entry is not None:
        what = STAGE_WORDS.get(entry[ST], entry[ST])
        if entry[WAIT]:
            kind = (
                f"in {obs.connector}'s pipeline to {what}, put off to its next complete poll by a "
                "failed or rate-limited Houzz call"
            )
            return kind, kind + health
        if entry[DUE] > obs.now:
            kind = f"in {obs.connector}'s pipeline, retrying to {what}"
            return kind, f"{kind} ({entry[TRIES]} tries so far){health}"
        kind = f"in {obs.connector}'s pipeline, about to {what}"
        return kind, kind
    if obs.down:
        kind = f"{obs.connector} is down: it crashed and has not restarted yet"
        return kind, kind
    if oid in obs.received:
        at = obs.received_at.get(oid)
        when = f" (received {clock_text(at)})" if at is not None else ""
        if order.status == CANCELLED:
            kind = "cancelled in Houzz; the warehouse has it and has not been told"
            return kind, kind + when
        if oid not in obs.shipped:
            kind = "at the warehouse, not shipped yet"
            return kind, kind + when
        kind = f"shipped; {obs.connector} has not collected the shipment yet"
        return kind, kind + health
    pending = obs.pending(order, oid in obs.state.held)
    if pending:
        reason = obs.state.skipped.get(oid)
        return pending, f"{obs.connector} skipped it ({reason}); {pending}" if reason else pending
    if oid not in obs.state.skipped and obs.state.ledger.get(oid) is None:
        kind = f"never listed by a complete poll of {obs.connector}'s"
        return kind, f"{kind} (placed {clock_text(order.created)}, {here} in Houzz){health}"
    kind = f"changed after {obs.connector}'s last complete poll"
    last = judge.last_poll
    since = f", which ran {clock_text(last)}" if last is not None else ""
    return kind, f"{kind}{since} (now {here} in Houzz){health}"
