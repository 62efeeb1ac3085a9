"""CartRover at work (houzzflow.engine.connector), driven through tiny fakes of its ports.

The fakes here are deliberately small and scripted: each test says which call fails and
how, then checks what a merchant would see: what reached the warehouse, how often, what
Houzz ended up showing, which orders are held or skipped and why, and the alerts raised.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from houzzflow.engine.connector import Connector, ConnectorState
from houzzflow.engine.policy import Policy, PolicyFile, resolve
from houzzflow.engine.ports import (
    Ack,
    AckError,
    OrderView,
    Package,
    Page,
    ReplyLost,
    Shipment,
    TransientError,
)
from houzzflow.engine.table import Rejection, houzz_table

HOUR = 3600


def policy(**settings: object) -> Policy:
    assume = settings.pop("assume", {"era": "legacy"})
    return resolve(
        PolicyFile.model_validate(
            {"connection_type": "seller", "poll_interval": "15m", "assume": assume, **settings}
        )
    )


@dataclass
class Fault:
    """One scripted failure: the next matching call raises ``error``; ``effect`` says
    whether the call takes effect first (a lost reply)."""

    method: str  # get_orders | Process | Charge | Ship | send | cancel
    error: TransientError
    effect: bool = False


@dataclass
class World:
    now: int = 0
    faults: list[Fault] = field(default_factory=list)

    def fault_for(self, method: str) -> Fault | None:
        for fault in self.faults:
            if fault.method == method:
                self.faults.remove(fault)
                return fault
        return None


class TinyHouzz:
    """A scripted Houzz: orders listed by modified time, actions by the compiled table."""

    def __init__(self, world: World, program: str = "seller", era: str = "legacy") -> None:
        self.world = world
        self.table = houzz_table(program, era)
        self.orders: dict[str, list[object]] = {}  # id -> [status, created, modified]
        self.tracking: dict[str, tuple[str, str]] = {}
        self.calls: list[tuple[str, str]] = []
        self.drop_once: str | None = None  # an order the next listing leaves out
        self.decline: set[str] = set()  # orders whose next Charge meets a declined card
        self.refuse_listing = ""  # getOrders answers Ack: Error with this reason
        self.listed: list[str] = []  # the Status of each getOrders call

    def place(self, order_id: str, status: str = "New", created: int | None = None) -> None:
        at = self.world.now if created is None else created
        self.orders[order_id] = [status, at, at]

    def act(self, order_id: str, action: str, actor: str) -> str | Rejection:
        order = self.orders[order_id]
        dest = self.table.step(str(order[0]), action, actor)
        if not isinstance(dest, Rejection):
            order[0] = dest
            order[2] = self.world.now
        return dest

    def status(self, order_id: str) -> str:
        return str(self.orders[order_id][0])

    def get_orders(
        self, status: str, start_time: int, end_time: int, start: int, count: int
    ) -> Page:
        self.calls.append(("get_orders", ""))
        self.listed.append(status)
        fault = self.world.fault_for("get_orders")
        if fault is not None:
            raise fault.error
        if self.refuse_listing:
            raise AckError(self.refuse_listing)
        found = sorted(
            (int(o[2]), oid)
            for oid, o in self.orders.items()
            if start_time <= int(o[2]) <= end_time and status in ("All", o[0])
        )
        views = [
            OrderView(oid, str(self.orders[oid][0]), int(self.orders[oid][1]), modified)
            for modified, oid in found[start : start + count]
        ]
        total = len(found)
        if self.drop_once and any(v.order_id == self.drop_once for v in views):
            views = [v for v in views if v.order_id != self.drop_once]
            self.drop_once = None
        return Page(views, total)

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
        self.calls.append((action, order_id))
        fault = self.world.fault_for(action)
        if fault is not None and not fault.effect:
            raise fault.error
        if (
            action == "Charge"
            and order_id in self.decline
            and self.status(order_id) == "InProduction"
        ):
            self.decline.discard(order_id)
            self.act(order_id, "ChargeDeclined", "houzz")
            return Ack(False, "the card was declined; the order is Failed to Charge")
        dest = self.act(order_id, action, "connector")
        if action == "Ship" and not isinstance(dest, Rejection):
            self.tracking[order_id] = (tracking_number, shipping_method)
        if fault is not None:
            raise fault.error
        return Ack(False, dest.reason) if isinstance(dest, Rejection) else Ack(True)

    def writes(self, order_id: str) -> list[str]:
        return [a for a, oid in self.calls if oid == order_id]


class TinyWarehouse:
    def __init__(self, world: World, refuse_cancel: bool = False) -> None:
        self.world = world
        self.received: Counter[str] = Counter()
        self.cancelled: set[str] = set()
        self.refuse_cancel = refuse_cancel
        self.refuse_send: dict[str, str] = {}
        self.ready: list[Shipment] = []

    def send_order(self, order_id: str) -> Ack:
        fault = self.world.fault_for("send")
        if fault is not None and not fault.effect:
            raise fault.error
        if order_id in self.refuse_send:
            return Ack(False, self.refuse_send[order_id])
        self.received[order_id] += 1
        if fault is not None:
            raise fault.error
        return Ack(True)

    def has_order(self, order_id: str) -> bool:
        return order_id in self.received

    def cancel_order(self, order_id: str) -> Ack:
        if self.refuse_cancel:
            return Ack(False, "already shipped")
        self.cancelled.add(order_id)
        return Ack(True)

    def ship(self, order_id: str, *tracking: tuple[str, str]) -> None:
        packages = tuple(Package(number, method) for number, method in tracking)
        self.ready.append(Shipment(order_id, packages))

    def shipments(self) -> list[Shipment]:
        ready, self.ready = self.ready, []
        return ready


class Rig:
    """A connector wired to the tiny fakes, with a hand-driven clock."""

    def __init__(
        self,
        pol: Policy,
        *,
        era: str = "legacy",
        program: str = "seller",
        behaviour: tuple[tuple[str, str], ...] = (),
        **kw: object,
    ):
        self.world = World()
        self.houzz = TinyHouzz(self.world, program, era)
        self.backend = TinyWarehouse(self.world, **kw)  # type: ignore[arg-type]
        self.events: list[tuple[int, str, str, str]] = []
        self.connector = Connector(
            pol,
            self.houzz,
            self.backend,
            now=lambda: self.world.now,
            sink=self.record,
            behaviour=behaviour,
        )

    def record(self, time: int, oid: str, action: str, detail: str, hz: str, cs: str) -> None:
        self.events.append((time, oid, action, detail))

    def tick_at(self, when: int) -> None:
        self.world.now = when
        self.connector.tick()

    def run_until(self, end: int) -> None:
        """Tick whenever the connector asks to, up to ``end``."""
        while True:
            due = self.connector.next_due()
            if due > end:
                self.world.now = end
                return
            self.tick_at(due)

    def status(self, oid: str) -> str | None:
        return self.connector.status_of(oid)


def test_default_seller_order_is_processed_charged_sent_and_confirmed() -> None:
    rig = Rig(policy())
    rig.houzz.place("A")
    rig.tick_at(0)
    assert rig.houzz.writes("A") == ["Process", "Charge"]
    assert rig.houzz.status("A") == "Charged"
    assert rig.backend.received == {"A": 1}
    assert rig.status("A") == "AtWMS"
    rig.backend.ship("A", ("1Z1", "UPS Ground"), ("1Z2", "FedEx"))
    rig.tick_at(HOUR)
    assert rig.status("A") == "Confirmed"
    assert rig.houzz.status("A") == "Shipped"
    # One Ship call for both packages: numbers joined by commas, the first package's method.
    assert rig.houzz.writes("A").count("Ship") == 1
    assert rig.houzz.tracking["A"] == ("1Z1,1Z2", "UPS Ground")


def test_an_order_not_in_the_order_status_is_skipped_with_the_reason_then_repulled() -> None:
    rig = Rig(policy(order_status="charged", mark_processed=False, mark_charged=False))
    rig.houzz.place("A")
    rig.tick_at(0)
    assert rig.connector.state.skipped == {"A": "status New is not Charged (Order Status)"}
    rig.world.now = 300
    rig.houzz.act("A", "Process", "staff")
    rig.tick_at(900)
    assert rig.connector.state.skipped["A"] == "status In Production is not Charged (Order Status)"
    rig.world.now = 1000
    rig.houzz.act("A", "Charge", "staff")
    rig.tick_at(1800)
    assert "A" not in rig.connector.state.skipped
    assert rig.backend.received == {"A": 1}


def test_overlapping_polls_load_and_send_each_order_once() -> None:
    rig = Rig(policy())
    for i in range(5):
        rig.houzz.place(f"O{i}", created=i * 100)
    rig.run_until(10 * HOUR)
    assert rig.connector.state.polls >= 40  # the same orders were listed again and again
    assert rig.backend.received == {f"O{i}": 1 for i in range(5)}
    loads = [e for e in rig.events if e[2] == "Load"]
    assert len(loads) == 5


def test_strict_mark_step_after_staff_did_it_holds_the_order_in_error() -> None:
    rig = Rig(policy())
    rig.houzz.place("A")
    rig.world.now = 60
    rig.houzz.act("A", "Process", "staff")
    rig.tick_at(120)
    assert rig.status("A") == "Error"
    reason = rig.connector.state.held["A"]
    assert reason.startswith("Mark Orders as Processed was rejected by Houzz")
    assert "In Production" in reason
    assert not rig.backend.received
    assert [a.kind for a in rig.connector.alerts] == ["held"]
    # Held means held: later polls do not retry the refused step.
    rig.run_until(5 * HOUR)
    assert rig.houzz.writes("A") == ["Process"]


def test_a_clean_refusal_is_not_reconciled_even_if_someone_does_the_step_later() -> None:
    rig = Rig(policy(mark_processed=False))
    rig.houzz.place("A")
    rig.tick_at(0)  # Charge on a New order: refused (it needs In Production)
    assert rig.status("A") == "Error"
    rig.world.now = 100
    rig.houzz.act("A", "Process", "staff")
    rig.houzz.act("A", "Charge", "staff")
    rig.run_until(5 * HOUR)
    assert rig.status("A") == "Error"
    assert not rig.backend.received


def test_a_write_whose_reply_was_lost_is_re_read_not_repeated() -> None:
    rig = Rig(policy())
    rig.houzz.place("A")
    rig.world.faults.append(Fault("Process", ReplyLost("timeout"), effect=True))
    rig.tick_at(0)
    assert rig.houzz.status("A") == "InProduction"
    assert rig.status("A") == "New"  # where it was: waiting to re-read
    rig.run_until(2 * HOUR)
    assert rig.houzz.writes("A") == ["Process", "Charge"]  # Process was never sent again
    assert rig.backend.received == {"A": 1}
    assert any(e[2] == "Reconciled" for e in rig.events)


def test_a_write_that_failed_without_effect_is_retried_after_the_re_read() -> None:
    rig = Rig(policy())
    rig.houzz.place("A")
    rig.world.faults.append(Fault("Charge", TransientError("HTTP 503")))
    rig.tick_at(0)
    assert rig.houzz.status("A") == "InProduction"
    rig.run_until(2 * HOUR)
    assert rig.houzz.writes("A") == ["Process", "Charge", "Charge"]
    assert rig.houzz.status("A") == "Charged"
    assert rig.backend.received == {"A": 1}


def test_staff_doing_the_step_while_a_retry_waits_counts_as_done() -> None:
    rig = Rig(policy(), era="legacy")
    rig.houzz.place("A")
    rig.world.faults.append(Fault("Process", TransientError("HTTP 503")))
    rig.tick_at(0)
    rig.world.now = 200
    rig.houzz.act("A", "Process", "staff")
    rig.run_until(2 * HOUR)
    assert rig.houzz.writes("A") == ["Process", "Charge"]
    assert rig.status("A") == "AtWMS"


def test_a_send_whose_reply_was_lost_is_checked_with_the_warehouse_never_sent_twice() -> None:
    rig = Rig(policy())
    rig.houzz.place("A")
    rig.world.faults.append(Fault("send", ReplyLost("timeout"), effect=True))
    rig.tick_at(0)
    assert rig.status("A") == "New"
    rig.run_until(2 * HOUR)
    assert rig.backend.received == {"A": 1}
    assert rig.status("A") == "AtWMS"


def test_a_send_that_failed_is_retried_after_a_re_read_and_no_sooner_than_asked() -> None:
    rig = Rig(policy())
    rig.houzz.place("A")
    rig.world.faults.append(Fault("send", TransientError("down", retry_after=1800)))
    rig.tick_at(0)
    assert rig.status("A") == "New"
    assert rig.connector.next_due() == 900  # the next poll re-reads the order first
    rig.run_until(3 * HOUR)
    assert rig.backend.received == {"A": 1}
    sent = [e[0] for e in rig.events if e[1] == "A" and e[2] == "Send"]
    assert sent == [1800]


def test_an_order_cancelled_while_its_send_waits_is_not_sent() -> None:
    rig = Rig(policy(order_status="charged", mark_processed=False, mark_charged=False))
    rig.houzz.place("A", status="Charged")
    rig.world.faults.append(Fault("send", TransientError("down")))
    rig.tick_at(0)
    rig.world.now = 30
    rig.houzz.act("A", "Cancel", "customer")
    rig.run_until(2 * HOUR)
    assert rig.status("A") == "CancelSending"
    assert not rig.backend.received


def test_a_rate_limit_is_honoured() -> None:
    rig = Rig(policy())
    rig.houzz.place("A")
    rig.world.faults.append(Fault("get_orders", TransientError("429", retry_after=600)))
    rig.tick_at(0)
    assert rig.connector.next_due() >= 600
    rig.run_until(HOUR)
    polls = [i for i, (name, _) in enumerate(rig.houzz.calls) if name == "get_orders"]
    assert len(polls) >= 2
    assert rig.backend.received == {"A": 1}


def test_a_refused_send_holds_the_order_with_the_warehouse_reason() -> None:
    rig = Rig(policy())
    rig.houzz.place("A")
    rig.backend.refuse_send["A"] = "unknown SKU"
    rig.tick_at(0)
    assert rig.status("A") == "Error"
    assert "unknown SKU" in rig.connector.state.held["A"]


def test_cancelled_before_sending_is_not_sent() -> None:
    rig = Rig(policy(order_status="charged", mark_processed=False, mark_charged=False))
    rig.houzz.place("A")
    rig.houzz.place("B")
    rig.world.now = 100
    rig.houzz.act("A", "Process", "staff")
    rig.houzz.act("A", "Charge", "staff")
    rig.world.faults.append(Fault("send", TransientError("down", retry_after=HOUR)))
    rig.tick_at(200)  # loaded, the send failed: still New, retried in an hour
    assert rig.status("A") == "New"
    rig.world.now = 250
    rig.houzz.act("A", "Cancel", "customer")
    rig.run_until(2 * HOUR)
    assert rig.status("A") == "CancelSending"
    assert not rig.backend.received


def test_cancelled_after_sending_is_cancelled_at_the_warehouse() -> None:
    rig = Rig(policy())
    rig.houzz.place("A")
    rig.tick_at(0)
    rig.world.now = 600
    rig.houzz.act("A", "Cancel", "customer")
    rig.run_until(HOUR)
    assert rig.status("A") == "Canceled"
    assert rig.backend.cancelled == {"A"}
    assert not rig.connector.alerts


def test_a_refused_cancel_raises_an_alert() -> None:
    rig = Rig(policy(), refuse_cancel=True)
    rig.houzz.place("A")
    rig.tick_at(0)
    rig.world.now = 600
    rig.houzz.act("A", "Cancel", "customer")
    rig.run_until(3 * HOUR)
    assert rig.status("A") == "AtWMS"
    alerts = [a.message for a in rig.connector.alerts]
    assert len(alerts) == 1  # once, although later polls list the order again
    assert "shipped before the cancellation was seen" in alerts[0]


def test_cancel_download_off_ignores_cancellations() -> None:
    rig = Rig(policy(cancel_download=False))
    rig.houzz.place("A")
    rig.tick_at(0)
    rig.world.now = 600
    rig.houzz.act("A", "Cancel", "customer")
    rig.run_until(HOUR)
    assert rig.status("A") == "AtWMS"
    assert not rig.backend.cancelled


def test_earliest_order_date_skips_older_orders_by_design() -> None:
    pol = policy(earliest_order_date="2026-01-01")
    rig = Rig(pol)
    rig.houzz.place("OLD", created=-2 * 86400)
    rig.houzz.place("NEW", created=3600)
    rig.world.now = 3600
    rig.houzz.orders["OLD"][2] = 3000  # changed recently: inside the first window
    rig.tick_at(3600)
    assert rig.connector.state.skipped == {"OLD": "created before Earliest Order Date"}
    assert rig.backend.received == {"NEW": 1}


def test_without_earliest_order_date_the_first_download_starts_at_the_origin() -> None:
    rig = Rig(policy())
    rig.connector.origin = -10 * 86400
    rig.houzz.place("OLD", created=-5 * 86400)
    rig.tick_at(0)
    assert rig.backend.received == {"OLD": 1}


def test_a_page_that_drops_an_order_is_scanned_again() -> None:
    rig = Rig(policy())
    rig.connector.page_size = 2
    for i in range(5):
        rig.houzz.place(f"O{i}", created=i)
    rig.houzz.drop_once = "O2"
    rig.tick_at(10)
    assert set(rig.backend.received) == {f"O{i}" for i in range(5)}


def test_an_order_first_seen_charged_on_a_legacy_seller_connection_raises_the_smell() -> None:
    rig = Rig(policy(order_status="charged", mark_processed=False, mark_charged=False))
    rig.tick_at(0)
    rig.houzz.place("A", status="Charged", created=100)
    rig.tick_at(900)
    assert rig.backend.received == {"A": 1}
    assert [a.kind for a in rig.connector.alerts] == ["connection"]
    assert "wrong connection type?" in rig.connector.alerts[0].message


def test_the_ship_call_refused_holds_the_order() -> None:
    rig = Rig(policy())
    rig.houzz.place("A")
    rig.tick_at(0)
    rig.world.now = 100
    rig.houzz.act("A", "AuthorizationLapse", "houzz")
    rig.backend.ship("A", ("1Z1", "UPS"))
    rig.tick_at(900)
    assert rig.status("A") == "Error"
    assert "shipment confirmation" in rig.connector.state.held["A"]


class Crash(BaseException):
    """The connector's process dies mid-call (not an error it could handle)."""


def crash_on(rig: Rig, method: str, effect: bool) -> None:
    """Make the next ``method`` call take effect (or not) and then kill the connector."""
    original: Callable[..., Ack]
    if method == "send":
        original = rig.backend.send_order

        def send(order_id: str) -> Ack:
            rig.backend.send_order = original  # type: ignore[method-assign]
            if effect:
                original(order_id)
            raise Crash

        rig.backend.send_order = send  # type: ignore[method-assign]
    else:
        update = rig.houzz.update_order

        def write(order_id: str, action: str, **kw: str) -> Ack:
            if action != method:
                return update(order_id, action, **kw)
            rig.houzz.update_order = update  # type: ignore[method-assign]
            if effect:
                rig.houzz.act(order_id, action, "connector")
            raise Crash

        rig.houzz.update_order = write  # type: ignore[method-assign]


def restart(rig: Rig, state: ConnectorState) -> None:
    rig.connector = Connector.restore(
        state, rig.connector.policy, rig.houzz, rig.backend, now=lambda: rig.world.now
    )


@pytest.mark.parametrize("method", ["Process", "Charge", "send"])
@pytest.mark.parametrize("effect", [True, False])
def test_a_crash_mid_call_and_a_restart_lose_and_duplicate_nothing(
    method: str, effect: bool
) -> None:
    rig = Rig(policy())
    for i in range(3):
        rig.houzz.place(f"O{i}", created=i)
    crash_on(rig, method, effect)
    with pytest.raises(Crash):
        rig.tick_at(10)
    restart(rig, rig.connector.snapshot())
    rig.run_until(3 * HOUR)
    assert rig.backend.received == {f"O{i}": 1 for i in range(3)}
    assert all(rig.status(f"O{i}") == "AtWMS" for i in range(3))
    assert all(rig.houzz.status(f"O{i}") == "Charged" for i in range(3))


def test_snapshot_is_a_copy_and_restore_resumes_where_it_was() -> None:
    rig = Rig(policy())
    rig.houzz.place("A")
    rig.world.faults.append(Fault("send", TransientError("down")))
    rig.tick_at(0)
    saved = rig.connector.snapshot()
    rig.run_until(HOUR)
    assert saved.ledger == {"A": "New"}  # the saved state did not follow the live one
    assert rig.status("A") == "AtWMS"
    restart(rig, saved)
    rig.backend.received.clear()  # the restored connector has not sent it yet
    rig.run_until(2 * HOUR)
    assert rig.backend.received == {"A": 1}


# --- what CartRover really does where the sources are silent (``behaviour``) -------------

RETRY = (("charge_decline", "retry"),)


def declined_rig(behaviour: tuple[tuple[str, str], ...] = ()) -> Rig:
    """A default legacy cart whose first order meets a declined card at CartRover's Charge."""
    rig = Rig(policy(), behaviour=behaviour)
    rig.houzz.place("A")
    rig.houzz.decline.add("A")
    rig.tick_at(0)
    assert rig.houzz.status("A") == "FailedToCharge"
    return rig


def test_a_declined_card_is_held_in_error_by_default_even_after_the_customer_fixes_it() -> None:
    rig = declined_rig()
    assert rig.status("A") == "Error"
    assert "the card was declined" in rig.connector.state.held["A"]
    assert [a.kind for a in rig.connector.alerts] == ["held"]
    rig.world.now = 2 * HOUR
    rig.houzz.act("A", "PaymentFixed", "customer")
    rig.run_until(6 * HOUR)
    assert rig.status("A") == "Error", "held until a person acts"
    assert rig.houzz.writes("A") == ["Process", "Charge"]
    assert not rig.backend.received


def test_with_retry_a_declined_order_waits_visibly_and_is_charged_once_payment_is_fixed() -> None:
    rig = declined_rig(RETRY)
    assert rig.status("A") == "New", "kept, not held in Error"
    assert not rig.connector.state.held
    rig.run_until(3 * HOUR)  # twelve polls while the order is Failed to Charge
    assert [a.kind for a in rig.connector.alerts] == ["declined"]  # said once
    assert "declined" in rig.connector.alerts[0].message
    assert rig.houzz.writes("A") == ["Process", "Charge"], "no Charge while Failed to Charge"
    rig.world.now = 3 * HOUR + 60
    rig.houzz.act("A", "PaymentFixed", "customer")  # legacy: back to In Production
    rig.run_until(4 * HOUR)
    assert rig.houzz.writes("A") == ["Process", "Charge", "Charge"]
    assert rig.houzz.status("A") == "Charged"
    assert rig.backend.received == {"A": 1}
    assert rig.status("A") == "AtWMS"
    assert len(rig.connector.alerts) == 1


def test_with_retry_a_payment_never_fixed_is_held_after_fifteen_days() -> None:
    rig = declined_rig(RETRY)
    rig.run_until(14 * 86400)
    assert rig.status("A") == "New" and not rig.backend.received
    rig.run_until(16 * 86400)
    assert rig.status("A") == "Error"
    assert "not fixed within 15 days" in rig.connector.state.held["A"]
    assert [a.kind for a in rig.connector.alerts] == ["declined", "held"]


def test_with_retry_a_charge_refused_for_another_reason_is_still_held() -> None:
    # Charge on an order CartRover loaded New (Mark Orders as Processed off): strict refusal.
    rig = Rig(policy(mark_processed=False), behaviour=RETRY)
    rig.houzz.place("A")
    rig.tick_at(0)
    assert rig.status("A") == "Error"
    assert "Charge needs In Production" in rig.connector.state.held["A"]
    # Refused on an order seen In Production, yet Charged at the re-read: staff charged it.
    rig = Rig(policy(), behaviour=RETRY)
    rig.houzz.place("B")
    update = rig.houzz.update_order

    def staff_first(order_id: str, action: str, **kw: str) -> Ack:
        if action == "Charge":
            rig.houzz.act(order_id, "Charge", "staff")
        return update(order_id, action, **kw)

    rig.houzz.update_order = staff_first  # type: ignore[method-assign]
    rig.tick_at(0)
    assert rig.status("B") == "New", "a decline, perhaps: the next poll re-reads it"
    rig.tick_at(15 * 60)
    assert rig.status("B") == "Error"
    assert "Charge needs In Production" in rig.connector.state.held["B"]
    assert not rig.backend.received


def test_the_policys_pins_are_beliefs_the_connector_does_what_the_world_says() -> None:
    believes_retry = policy(assume={"era": "legacy", "cartrover": {"charge_decline": "retry"}})
    rig = Rig(believes_retry)
    rig.houzz.place("A")
    rig.houzz.decline.add("A")
    rig.tick_at(0)
    assert rig.status("A") == "Error"  # CartRover holds: the world's answer, the default
    with pytest.raises(ValueError, match="listing: 'some' is not one of"):
        Rig(policy(), behaviour=(("listing", "some"),))


def test_with_a_status_filter_cartrover_lists_what_it_loads_and_never_sees_the_rest() -> None:
    everything = Rig(policy(order_status="charged", mark_processed=False, mark_charged=False))
    filtered = Rig(
        policy(order_status="charged", mark_processed=False, mark_charged=False),
        behaviour=(("listing", "status_filter"),),
    )
    for rig in (everything, filtered):
        rig.houzz.place("A")  # New: not loaded
        rig.houzz.place("B", status="Charged")
        rig.houzz.place("C", status="Cancelled")
        rig.tick_at(900)
        assert rig.backend.received == {"B": 1}
    assert set(everything.houzz.listed) == {"All"}
    assert set(everything.connector.state.skipped) == {"A", "C"}
    assert set(filtered.houzz.listed) == {"Charged"}
    assert filtered.connector.state.skipped == {}, "never seen, never logged"
    # Two statuses loaded: one listing each, the orders of both loaded.
    both = Rig(policy(), behaviour=(("listing", "status_filter"),))
    both.houzz.place("N")
    both.houzz.place("P", status="InProduction")
    both.tick_at(900)
    assert both.houzz.listed == ["New", "InProduction"]
    assert set(both.connector.state.ledger) == {"N", "P"}
    assert both.backend.received == {"N": 1}  # P: Process refused, it was In Production
    # A cancellation after the send is never listed: Order Cancel Download cannot see it.
    both.world.now = 1000
    both.houzz.act("N", "Cancel", "customer")
    both.tick_at(1800)
    assert not both.backend.cancelled
    assert both.status("N") == "AtWMS"


def test_a_refused_listing_raises_one_alert_and_is_asked_again_at_each_poll() -> None:
    rig = Rig(policy())
    rig.houzz.place("A")
    reason = "this account is in the Houzz Vendor program; the connection is for Houzz Seller"
    rig.houzz.refuse_listing = reason
    rig.tick_at(0)  # no crash
    assert [a.kind for a in rig.connector.alerts] == ["connection"]
    assert reason in rig.connector.alerts[0].message
    assert rig.connector.next_due() == 15 * 60
    assert rig.connector.state.cursor is None, "the window does not move on"
    rig.run_until(2 * HOUR)
    assert rig.houzz.listed.count("All") == 9  # asked at every poll ...
    assert len(rig.connector.alerts) == 1  # ... and said once
    assert not rig.backend.received and rig.connector.state.polls == 0
    rig.houzz.refuse_listing = ""  # the connection is fixed
    rig.run_until(3 * HOUR)
    assert rig.backend.received == {"A": 1}
    rig.houzz.refuse_listing = reason
    rig.run_until(4 * HOUR)
    assert len(rig.connector.alerts) == 2, "a refusal that comes back is said again"


def test_a_failed_withdrawal_is_asked_again_not_given_up_as_unsent() -> None:
    """The send's reply was lost, the customer cancelled, and the warehouse check failed:
    at the next poll CartRover asks again, finds the order there, and cancels it there."""
    rig = Rig(policy(order_status="charged", mark_processed=False, mark_charged=False))
    failed: list[str] = []
    real_has = rig.backend.has_order

    def has_order(oid: str) -> bool:
        if not failed:
            failed.append(oid)
            raise TransientError("warehouse down", retry_after=HOUR)
        return real_has(oid)

    rig.backend.has_order = has_order  # type: ignore[method-assign]
    rig.houzz.place("A", status="Charged")
    rig.world.faults.append(Fault("send", ReplyLost("timeout"), effect=True))
    rig.tick_at(0)
    rig.world.now = 30
    rig.houzz.act("A", "Cancel", "customer")
    rig.run_until(2 * HOUR)
    assert failed == ["A"]
    assert rig.status("A") == "Canceled"
    assert "A" in rig.backend.cancelled


# -- write_order: stage by stage, through ports that have only the single-order methods -----

BY_STAGE = (("write_order", "stage_by_stage"),)


def test_stage_by_stage_makes_every_process_then_every_charge_then_the_sends() -> None:
    # TinyHouzz and TinyWarehouse have no batch methods: engine.ports calls them per order.
    rig = Rig(policy(), behaviour=BY_STAGE)
    for oid in ("A", "B", "C"):
        rig.houzz.place(oid)
    rig.tick_at(0)
    assert rig.houzz.calls[1:] == [
        ("Process", "A"),
        ("Process", "B"),
        ("Process", "C"),
        ("Charge", "A"),
        ("Charge", "B"),
        ("Charge", "C"),
    ]
    assert rig.backend.received == {"A": 1, "B": 1, "C": 1}
    assert [rig.status(o) for o in "ABC"] == ["AtWMS"] * 3


def test_order_by_order_takes_each_order_through_its_writes_in_turn() -> None:
    rig = Rig(policy())
    for oid in ("A", "B"):
        rig.houzz.place(oid)
    rig.tick_at(0)
    assert rig.houzz.calls[1:] == [
        ("Process", "A"),
        ("Charge", "A"),
        ("Process", "B"),
        ("Charge", "B"),
    ]


def test_stage_by_stage_a_rate_limit_stops_the_rest_of_the_batch() -> None:
    rig = Rig(policy(), behaviour=BY_STAGE)
    for oid in ("A", "B", "C"):
        rig.houzz.place(oid)
    rig.world.faults.append(Fault("Process", TransientError("429", retry_after=600)))
    rig.tick_at(0)
    # A's Process was rate limited: no Houzz call after it until the wait is over.
    assert rig.houzz.calls[1:] == [("Process", "A")]
    assert rig.backend.received == {}
    rig.run_until(2 * HOUR)
    assert rig.backend.received == {"A": 1, "B": 1, "C": 1}
    assert [rig.houzz.status(o) for o in "ABC"] == ["Charged"] * 3
    assert [rig.status(o) for o in "ABC"] == ["AtWMS"] * 3


def test_stage_by_stage_a_failed_send_holds_back_only_its_order() -> None:
    rig = Rig(policy(), behaviour=BY_STAGE)
    for oid in ("A", "B"):
        rig.houzz.place(oid)
    rig.world.faults.append(Fault("send", TransientError("down")))
    rig.tick_at(0)
    assert rig.backend.received == {"B": 1}
    rig.run_until(3 * HOUR)
    assert rig.backend.received == {"A": 1, "B": 1}


def test_stage_by_stage_a_lost_reply_is_reconciled_like_order_by_order() -> None:
    outcomes = []
    for behaviour in ((), BY_STAGE):
        rig = Rig(policy(), behaviour=behaviour)
        for oid in ("A", "B"):
            rig.houzz.place(oid)
        rig.world.faults.append(Fault("Charge", ReplyLost("timed out"), effect=True))
        rig.run_until(2 * HOUR)
        outcomes.append(
            (dict(rig.backend.received), [rig.houzz.writes(o) for o in "AB"], rig.events[-1][2])
        )
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == {"A": 1, "B": 1}
