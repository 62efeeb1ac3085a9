"""The world around the fake Houzz: customers' order streams, staff habits, the warehouse."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from houzzflow.engine.machine import default_machine
from houzzflow.simulator.houzz.state import FakeHouzz
from houzzflow.simulator.kernel.clock import SPAN, Clock
from houzzflow.simulator.kernel.timeline import Timeline
from houzzflow.simulator.world.backend import Warehouse
from houzzflow.simulator.world.customers import Burst, OrderStream
from houzzflow.simulator.world.staff import Habit, Staff, StaffAtWork

WINDOW = default_machine().timing.cancel_window
DAY = 86400


def world(era: str = "legacy", seed: int = 1, **kw: object) -> tuple[FakeHouzz, Clock]:
    clock = Clock()
    h = FakeHouzz(era=era, clock=clock, rng=random.Random(seed), **kw)  # type: ignore[arg-type]
    return h, clock


def statuses(h: FakeHouzz) -> Counter[str]:
    return Counter(o.status for o in h.orders.values())


# --- customers -----------------------------------------------------------------------------


def test_a_counted_stream_places_every_order_early_enough_to_finish() -> None:
    h, clock = world()
    OrderStream(count=200).schedule(h, clock, random.Random(2), duration=10 * DAY)
    clock.run(until=10 * DAY)
    assert len(h.orders) == 200
    created = [o.created for o in h.orders.values()]
    assert max(created) < 6 * DAY
    assert min(created) < 1 * DAY, "spread over the span, not bunched at its end"


def test_same_seed_gives_the_same_orders_at_the_same_times() -> None:
    def run(seed: int) -> list[tuple[str, int]]:
        h, clock = world(seed=seed)
        OrderStream(count=50, rate_per_hour=2).schedule(h, clock, random.Random(seed), DAY)
        clock.run(until=DAY)
        return [(o.order_id, o.created) for o in h.orders.values()]

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_poisson_rate_places_about_rate_times_span() -> None:
    h, clock = world()
    OrderStream(rate_per_hour=60).schedule(h, clock, random.Random(5), duration=10 * 3600)
    clock.run()
    # 60 an hour for the whole 10 hours (a rate is not cut at place_within): about 600.
    assert 510 < len(h.orders) < 690


def test_a_burst_arrives_in_one_second() -> None:
    h, clock = world()
    OrderStream(burst=Burst(at=7200, count=25)).schedule(h, clock, random.Random(1), DAY)
    clock.run()
    assert [o.created for o in h.orders.values()] == [7200] * 25


def test_items_per_order_stay_in_range_and_use_it() -> None:
    h, clock = world()
    OrderStream(count=300, items=(2, 4)).schedule(h, clock, random.Random(1), DAY)
    clock.run()
    assert set(Counter(o.item_count for o in h.orders.values())) == {2, 3, 4}
    assert all(len(o.items) == o.item_count for o in list(h.orders.values())[:20])


def test_customers_cancel_inside_the_window_before_houzz_charges() -> None:
    h, clock = world(era="2021")
    OrderStream(count=100, cancel_probability=1.0).schedule(h, clock, random.Random(1), DAY)
    clock.run()
    assert statuses(h) == {"Cancelled": 100}
    for order in h.orders.values():
        time, actor, action, _ = order.history[-1]
        assert (actor, action) == ("customer", "Cancel")
        assert order.created <= time < order.created + WINDOW


def test_some_customers_cancel() -> None:
    h, clock = world(era="2021")
    OrderStream(count=200, cancel_probability=0.25).schedule(h, clock, random.Random(1), DAY)
    clock.run()
    assert 25 < statuses(h)["Cancelled"] < 75


@pytest.mark.parametrize(("probability", "expected"), [(1.0, "Charged"), (0.0, "FailedToCharge")])
def test_held_orders_are_released_when_customers_fix_payment(
    probability: float, expected: str
) -> None:
    h, clock = world(era="2021", charge_failure_rate=1.0)
    stream = OrderStream(count=30, fix_payment_probability=probability, fix_payment_delay=(60, 600))
    stream.schedule(h, clock, random.Random(1), DAY)
    clock.run(until=DAY)  # before any authorization lapses
    assert statuses(h) == {expected: 30}
    if expected == "Charged":
        for order in h.orders.values():
            failed_at = order.created + WINDOW
            assert failed_at + 60 <= order.charged_at <= failed_at + 600  # type: ignore[operator]


def test_stream_refuses_impossible_settings() -> None:
    with pytest.raises(ValueError):
        OrderStream(items=(0, 2))
    with pytest.raises(ValueError):
        OrderStream(cancel_probability=2.0)
    with pytest.raises(ValueError):
        OrderStream(count=-1)


# --- staff ---------------------------------------------------------------------------------


def staffed(staff: Staff, era: str = "legacy", count: int = 200) -> tuple[FakeHouzz, StaffAtWork]:
    h, clock = world(era=era)
    at_work = staff.attach(h, clock, random.Random(9))
    OrderStream(count=count).schedule(h, clock, random.Random(2), 2 * DAY)
    clock.run(until=2 * DAY)
    return h, at_work


def test_staff_who_always_process_process_every_order_in_legacy() -> None:
    h, _ = staffed(Staff(process=Habit("always")))
    assert statuses(h) == {"InProduction": 200}


def test_staff_who_always_process_and_charge_charge_every_order() -> None:
    h, _ = staffed(Staff(process=Habit("always"), charge=Habit("always", delay=(60, 600))))
    assert statuses(h) == {"Charged": 200}
    assert all(o.history[-1][1] == "staff" for o in h.orders.values())


def test_staff_who_never_do_anything_leave_orders_new() -> None:
    h, _ = staffed(Staff())
    assert statuses(h) == {"New": 200}


def test_staff_who_sometimes_process_process_some_orders() -> None:
    h, _ = staffed(Staff(process=Habit("sometimes", probability=0.5)))
    processed = statuses(h)["InProduction"]
    assert 60 < processed < 140


def test_staff_act_after_their_delay() -> None:
    h, _ = staffed(Staff(process=Habit("always", delay=(600, 900))))
    for order in h.orders.values():
        processed_at = order.history[1][0]
        assert order.created + 600 <= processed_at <= order.created + 900


def test_staff_have_nothing_to_process_or_charge_in_2021() -> None:
    h, at_work = staffed(Staff(process=Habit("always"), charge=Habit("always")), era="2021")
    assert statuses(h) == {"Charged": 200}
    assert all(actor != "staff" for o in h.orders.values() for _, actor, _, _ in o.history)
    assert at_work.done == {} and at_work.skipped == {}


def test_staff_quietly_skip_an_action_no_longer_possible() -> None:
    timeline = Timeline()
    h, clock = world(timeline=timeline)
    at_work = Staff(process=Habit("always", delay=(3600, 3600))).attach(h, clock, random.Random(1))
    oid = h.place_order()
    clock.now = 60
    h.act(oid, "Cancel", "customer")
    clock.run()
    assert h.order(oid).status == "Cancelled"
    assert at_work.skipped == {"Process": 1}
    assert [x.actor for x in timeline.of(oid)] == ["customer", "customer"]


def test_staff_who_sometimes_cancel_cancel_some_orders() -> None:
    h, _ = staffed(Staff(cancel=Habit("sometimes", probability=0.3)))
    assert 30 < statuses(h)["Cancelled"] < 90


# --- the warehouse -------------------------------------------------------------------------


def warehouse(**kw: object) -> tuple[Warehouse, Clock]:
    clock = Clock()
    return Warehouse(clock=clock, rng=random.Random(1), **kw), clock  # type: ignore[arg-type]


def test_warehouse_ships_after_its_delay_in_several_packages_with_tracking_numbers() -> None:
    w, clock = warehouse(ship_delay=(3600, 7200), packages=(2, 3))
    for n in range(40):
        assert w.send_order(f"order-{n}").ok
    clock.run(until=3599)
    assert w.shipments() == []
    clock.run(until=7200)
    shipped = w.shipments()
    assert len(shipped) == 40
    assert w.shipments() == [], "each shipment is reported once"
    assert {len(s.packages) for s in shipped} == {2, 3}
    numbers = [p.tracking_number for s in shipped for p in s.packages]
    assert len(set(numbers)) == len(numbers)
    assert all(n.startswith("1Z") and len(n) == 18 for n in numbers)
    assert all(p.shipping_method for s in shipped for p in s.packages)
    assert set(w.shipped) == {f"order-{n}" for n in range(40)}


def test_duplicate_receipts_are_counted_and_shipped_once() -> None:
    w, clock = warehouse()
    w.send_order("A")
    clock.now = 10
    w.send_order("A")
    assert w.received == {"A": 2}
    assert w.received_at == {"A": 0}
    assert w.has_order("A") and not w.has_order("B")
    clock.run()
    assert [s.order_id for s in w.shipments()] == ["A"]


def test_cancel_is_accepted_before_shipping_and_stops_the_shipment() -> None:
    w, clock = warehouse(ship_delay=(100, 100))
    w.send_order("A")
    clock.now = 50
    assert w.cancel_order("A").ok
    clock.run()
    assert w.shipments() == [] and "A" not in w.shipped
    assert w.cancelled == {"A"}


def test_cancel_after_shipping_is_refused_with_the_reason() -> None:
    w, clock = warehouse(ship_delay=(100, 100))
    w.send_order("A")
    clock.run()
    ack = w.cancel_order("A")
    assert not ack.ok and "already shipped" in ack.reason
    assert "A" not in w.cancelled
    assert not w.cancel_order("never-sent").ok


def test_a_lenient_warehouse_acknowledges_a_cancel_after_shipping() -> None:
    w, clock = warehouse(ship_delay=(100, 100), refuse_cancel_after_ship=False)
    w.send_order("A")
    clock.run()
    assert w.cancel_order("A").ok
    assert "A" in w.cancelled and "A" in w.shipped


def test_warehouse_is_deterministic_per_seed() -> None:
    def numbers(seed: int) -> list[str]:
        clock = Clock()
        w = Warehouse(clock=clock, rng=random.Random(seed), packages=(1, 3))
        for n in range(10):
            w.send_order(str(n))
        clock.run()
        return [p.tracking_number for s in w.shipments() for p in s.packages]

    assert numbers(1) == numbers(1)
    assert numbers(1) != numbers(2)


def test_the_warehouse_remembers_each_shipment_as_it_reported_it() -> None:
    w, clock = warehouse(ship_delay=(10, 5000), packages=(1, 3))
    for n in range(60):
        w.send_order(f"order-{n}")
    clock.run()
    reported = {s.order_id: s for s in w.shipments()}
    assert len(reported) == 60 and len(w.shipped) == 60
    assert dict(w.shipped) == reported
    assert w.shipped.get("never-sent") is None and "never-sent" not in w.shipped


class _WatchingClock(Clock):
    """A clock that watches its events (overrides ``at``): the warehouse then gives it one
    event per shipment, as it did before its shipping calendar."""

    def at(
        self,
        when: int,
        callback: Callable[[], object],
        priority: int = 0,
        label: str = "",
        order_id: str = "",
    ) -> None:
        super().at(when, callback, priority, label, order_id)


@settings(max_examples=100)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 40),  # when the event runs
            st.integers(-1, 1),  # its priority
            st.integers(0, 3),  # orders it sends to the warehouse
            st.booleans(),  # whether it also schedules a follow-up event for its own second
        ),
        max_size=40,
    ),
    st.integers(0, 2),  # the warehouse's longest delay: a few seconds, so ships share seconds
)
def test_the_shipping_calendar_ships_each_order_where_its_own_event_would_have(
    plan: list[tuple[int, int, int, bool]], delay: int
) -> None:
    def runs(clock: Clock) -> list[str]:
        log: list[str] = []

        class Logged(Warehouse):
            def _ship(self, order_id: str) -> bool:
                log.append(f"ship {order_id} at {clock.now}")
                return Warehouse._ship(self, order_id)

        w = Logged(clock=clock, rng=random.Random(3), ship_delay=(0, delay))
        sent = iter(range(1000))

        def event(name: str, sends: int, follow: bool) -> Callable[[], None]:
            def run() -> None:
                log.append(f"{name} at {clock.now}")
                for _ in range(sends):
                    w.send_order(f"order-{next(sent)}")
                if follow:
                    clock.at(clock.now, event(name + "'", 1, False))

            return run

        for n, (when, priority, sends, follow) in enumerate(plan):
            clock.at(when, event(f"event-{n}", sends, follow), priority)
        clock.run()
        return log

    assert runs(Clock()) == runs(_WatchingClock())


# --- the clock ------------------------------------------------------------------------------


@settings(max_examples=100)
@given(
    st.lists(
        st.tuples(
            st.one_of(  # when: anywhere, or about the edge of one of the clock's stretches
                st.integers(0, 20_000),
                st.builds(lambda k, d: k * SPAN + d, st.integers(1, 20), st.integers(-1, 1)),
            ),
            st.integers(-2, 2),  # priority
            st.integers(0, 3),  # follow-up events this one schedules when it runs
            st.integers(0, 5_000),  # their delay
        ),
        max_size=60,
    ),
    st.lists(st.integers(0, 25_000), max_size=4),
)
def test_events_run_in_time_then_priority_then_scheduling_order(
    plan: list[tuple[int, int, int, int]], stops: list[int]
) -> None:
    clock = Clock()
    ran: list[tuple[int, int, int]] = []
    expected: list[tuple[int, int, int]] = []  # (when, priority, scheduling number)
    scheduled = 0

    def schedule(when: int, priority: int, follow: int, delay: int) -> None:
        nonlocal scheduled
        scheduled += 1
        number = scheduled
        due = max(when, clock.now)

        def run() -> None:
            assert clock.now == due
            ran.append((due, priority, number))
            for _ in range(follow):
                schedule(clock.now + delay, priority, 0, 0)

        expected.append((due, priority, number))
        clock.at(when, run, priority)

    for event in plan:
        schedule(*event)
    for stop in sorted(stops):
        clock.run(until=stop)
        assert clock.now == max(stop, max((r[0] for r in ran), default=0))
        assert all(when <= stop for when, _, _ in ran)
        assert clock.pending() == len(expected) - len(ran)
    clock.run()
    assert clock.next_time() is None and clock.pending() == 0
    # Each event ran at its second, and no event ran before one that sorts before it.
    assert ran == sorted(ran)
    assert sorted(ran) == sorted(expected)


def test_an_event_scheduled_late_for_a_busy_second_runs_after_those_scheduled_before_it() -> None:
    clock = Clock()
    ran: list[str] = []
    edge = 2 * SPAN  # a second the clock keeps in a later stretch at first

    def early() -> None:
        ran.append("early")
        clock.at(edge, lambda: ran.append("late"))  # scheduled last: runs last at ``edge``

    clock.at(edge, lambda: ran.append("first"))
    clock.at(SPAN + 5, early)
    clock.at(edge + 1, lambda: ran.append("after"))
    clock.run()
    assert ran == ["early", "first", "late", "after"]


def test_place_within_a_duration_places_every_counted_order_in_that_time() -> None:
    h, clock = world()
    OrderStream(count=40, place_within=3600).schedule(h, clock, random.Random(2), duration=DAY)
    clock.run()
    created = [o.created for o in h.orders.values()]
    assert len(created) == 40 and max(created) < 3600
