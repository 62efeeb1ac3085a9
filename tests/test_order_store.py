"""The compact order store keeps every order, change and shipment exactly as it happened.

Houzz's orders are integer handles over columns, their histories one log of every order's
changes chained order by order, and the warehouse's shipments packed into one int an order.
A reader sees each order's own history, tracking and shipments, whatever came between.
"""

from __future__ import annotations

import ast
import random
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from houzzflow.simulator.houzz.deadlines import COMPACT_AFTER, Deadlines
from houzzflow.simulator.houzz.orders import (
    CODE_BITS,
    TIME_LIMIT,
    HouzzOrder,
    OrderStore,
    history_code,
)
from houzzflow.simulator.houzz.state import FakeHouzz
from houzzflow.simulator.kernel.clock import Clock
from houzzflow.simulator.kernel.ids import new_order_id
from houzzflow.simulator.kernel.tracking import pack_tracking, unpack_tracking
from houzzflow.simulator.world.backend import Warehouse

# The lifecycle as written (not as imported: compiled, a method has no Python source).
LIFECYCLE_SOURCE = Path(__file__).resolve().parent.parent / "simulator" / "houzz" / "lifecycle.py"

_KINDS = [
    ("customer", "Place", "New"),
    ("houzz", "AutoCharge", "Charged"),
    ("connector", "Ship", "Shipped"),
    ("fault", "PageDrift", "Charged"),
]
_TIMES = st.one_of(
    st.integers(-3, 3), st.integers(2**32 - 2, 2**32), st.integers(-TIME_LIMIT, TIME_LIMIT - 1)
)


@settings(max_examples=200, deadline=None)
@given(
    orders=st.integers(1, 4),
    changes=st.lists(st.tuples(st.integers(0, 3), _TIMES, st.sampled_from(_KINDS)), max_size=16),
)
@example(orders=1, changes=[(0, 0, _KINDS[0]), (0, -1, _KINDS[3]), (0, TIME_LIMIT - 1, _KINDS[1])])
def test_each_order_reads_back_its_own_changes_in_order_whatever_came_between(
    orders: int, changes: list[tuple[int, int, tuple[str, str, str]]]
) -> None:
    store = OrderStore()
    handles = [store.add(f"1000-0000-0000-{n:04d}", "New", 0, 1) for n in range(orders)]
    expected: list[list[tuple[int, str, str, str]]] = [[] for _ in handles]
    for which, at, kind in changes:
        handle = handles[which % orders]
        store.record(handle, at, history_code(*kind))
        expected[handle].append((at, *kind))
    for handle in handles:
        order = HouzzOrder(store, handle)
        assert order.history == expected[handle]
        assert store.history_length(handle) == len(expected[handle])
        charged = [
            at
            for at, actor, _, status in expected[handle]
            if status == "Charged" and actor != "fault"
        ]
        assert order.charged_at == (charged[-1] if charged else None)


def test_a_second_out_of_the_logs_range_is_refused_and_nothing_is_recorded() -> None:
    store = OrderStore()
    handle = store.add("1000-0000-0000-0002", "New", 100, 1)
    store.record(handle, 100, history_code("customer", "Place", "New"))
    for at in (TIME_LIMIT, -TIME_LIMIT - 1):
        with pytest.raises(ValueError, match="out of the history's range"):
            store.record(handle, at, history_code("houzz", "AutoCharge", "Charged"))
    assert HouzzOrder(store, handle).history == [(100, "customer", "Place", "New")]


def test_the_store_finds_every_order_by_id_as_it_grows_and_refuses_a_second_with_one_id() -> None:
    store = OrderStore()
    rng = random.Random(7)
    ids = []
    for n in range(5000):  # past the table's first sizes: it grows four times
        order_id = new_order_id(rng, store)
        assert store.add(order_id, "New", n, 1) == n
        ids.append(order_id)
    assert len(store) == 5000 and len(store.slots) >= 2 * len(store)
    assert [store.find(order_id) for order_id in ids] == list(range(5000))
    assert all(order_id in store for order_id in ids)
    assert store.find("1000-0000-0000-0000") == -1 and 12 not in store
    with pytest.raises(ValueError, match="already stored"):
        store.add(ids[1234], "New", 0, 1)
    assert len(store) == 5000


def test_an_order_view_shows_the_order_as_it_is_now() -> None:
    houzz = FakeHouzz(era="legacy")
    order_id = houzz.place_order(items=3)
    order = houzz.order(order_id)
    assert (order.status, order.item_count, order.order_id) == ("New", 3, order_id)
    assert houzz.update_order(order_id, "Process").ok
    assert order.status == "InProduction"  # the view read before the change shows it
    assert order == houzz.orders[order_id] and hash(order) == hash(houzz.orders[order_id])
    assert order != houzz.order(houzz.place_order())
    assert list(houzz.orders) == [order_id, *list(houzz.orders)[1:]] and len(houzz.orders) == 2
    assert houzz.orders.get("1000-0000-0000-0000") is None and "x" not in houzz.orders
    with pytest.raises(KeyError):
        houzz.orders["1000-0000-0000-0000"]
    assert houzz.status_of(order_id) == "InProduction"
    assert houzz.status_of("1000-0000-0000-0000") is None


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32), low=st.integers(1, 3), extra=st.integers(0, 2))
def test_the_shipment_log_gives_back_every_shipment_as_the_warehouse_reported_it(
    seed: int, low: int, extra: int
) -> None:
    clock = Clock()
    warehouse = Warehouse(
        clock=clock, rng=random.Random(seed), ship_delay=(0, 50), packages=(low, low + extra)
    )
    ids = [f"1000-0000-0000-{n:04d}" for n in range(40)]
    for order_id in ids:
        warehouse.send_order(order_id)
    clock.run(until=100)
    reported = warehouse.shipments()
    assert sorted(s.order_id for s in reported) == ids
    assert len(warehouse.shipped) == len(ids) and list(warehouse.shipped) == ids
    for shipment in reported:
        assert warehouse.shipped[shipment.order_id] == shipment
        numbers = ",".join(p.tracking_number for p in shipment.packages)
        assert warehouse.shipped.tracking(shipment.order_id) == numbers
        assert warehouse.shipped.tracking_packed(shipment.order_id) == pack_tracking(numbers)
    assert all(low <= len(s.packages) <= low + extra for s in reported)


def test_receipts_count_every_repeat_and_only_received_orders() -> None:
    clock = Clock()
    warehouse = Warehouse(clock=clock, rng=random.Random(1), auto_ship=False)
    warehouse.send_order("A")
    clock.run(until=5)
    warehouse.send_order("B")
    warehouse.send_order("B")
    warehouse.send_order("B")
    assert dict(warehouse.received) == {"A": 1, "B": 3}
    assert warehouse.received_at == {"A": 0, "B": 5}
    assert "C" not in warehouse.received and warehouse.received.get("C") is None
    assert not warehouse.has_order("C") and warehouse.has_order("B")
    assert warehouse.cancel_order("C").ok is False


def test_receipt_times_are_clock_seconds_and_only_received_orders_ship() -> None:
    clock = Clock()
    clock.run(until=1_000)
    warehouse = Warehouse(clock=clock, rng=random.Random(2), auto_ship=False)
    clock.run(until=1_250)
    warehouse.send_order("A")
    warehouse.ship("Z")  # never received: nothing ships
    warehouse.ship("A")
    clock.run(until=1_300)
    warehouse.send_order("A")  # a repeat after shipping keeps the shipment and first receipt
    assert dict(warehouse.received_at) == {"A": 1_250}
    assert dict(warehouse.received) == {"A": 2}
    assert list(warehouse.shipped) == ["A"] and "Z" not in warehouse.shipped
    assert [s.order_id for s in warehouse.shipments()] == ["A"]
    assert warehouse.shipped["A"].packages[0].tracking_number == warehouse.shipped.tracking("A")


_UPS = st.integers(0, 2**64 - 1).map(lambda n: f"1Z{n:016X}")
_NUMBER = st.one_of(
    _UPS,
    _UPS.map(str.lower),
    _UPS.map(lambda t: "1Z" + t[2:].lower()),
    _UPS.map(lambda t: "1Z+" + t[3:]),
    _UPS.map(lambda t: t[:-1]),
    st.text("1Z0aF_+- ", min_size=1, max_size=20).filter(lambda t: "," not in t),
)


@settings(max_examples=300, deadline=None)
@given(numbers=st.lists(_NUMBER, max_size=4))
def test_tracking_numbers_read_back_exactly_as_houzz_was_given_them(numbers: list[str]) -> None:
    text = ",".join(numbers)
    packed = pack_tracking(text)
    assert unpack_tracking(packed) == text
    ups = all(n[:2] == "1Z" and len(n) == 18 and n[2:] == n[2:].upper() for n in numbers)
    assert isinstance(packed, int) == (
        bool(numbers) and ups and all(c in "0123456789ABCDEF" for n in numbers for c in n[2:])
    )


def test_a_shipped_order_shows_its_tracking_numbers_packed_or_not() -> None:
    houzz = FakeHouzz(era="legacy")
    shipped = (
        "1Z00000000000000AB, 1ZFFFFFFFFFFFFFFFF",  # UPS-style: kept in the numbers log
        "1Z0000000000000000",
        "1zab,XYZ",  # anything else: kept as text
        ",".join(f"1Z{n:016X}" for n in range(300)),  # more than a count byte holds
    )
    orders = []
    for tracking in shipped:
        order_id = houzz.place_order()
        for action in ("Process", "Charge"):
            assert houzz.update_order(order_id, action).ok
        assert houzz.update_order(
            order_id, "Ship", tracking_number=tracking, shipping_method=tracking[:5]
        ).ok
        orders.append(order_id)
    for order_id, tracking in zip(orders, shipped, strict=True):
        order = houzz.order(order_id)
        clean = tracking.replace(" ", "")
        assert (order.tracking, order.tracking_numbers) == (clean, tuple(clean.split(",")))
        assert order.tracking_packed == pack_tracking(clean)
        assert order.shipping_method == tracking[:5]
    unshipped = houzz.order(houzz.place_order())
    assert (unshipped.tracking, unshipped.tracking_packed, unshipped.shipping_method) == (
        "",
        "",
        "",
    )


def test_shipping_methods_past_the_columns_codes_are_kept_order_by_order() -> None:
    store = OrderStore()
    first, second, third = (store.add(f"1000-0000-0000-000{n}", "Charged", 0, 1) for n in range(3))
    for n in range(70_000):  # more distinct methods than the column's 65,535 codes
        store.set_shipped(first, "1Z0000000000000001", f"method {n}")
    assert store.shipping_method(first) == "method 69999"
    store.set_shipped(second, "", "method 12")  # one with a code: read from the codes
    store.set_shipped(third, "", "a new one")  # none left: kept by order
    assert [store.shipping_method(h) for h in (first, second, third)] == [
        "method 69999",
        "method 12",
        "a new one",
    ]
    store.set_shipped(first, "", "method 3")  # shipped again with a coded method
    assert store.shipping_method(first) == "method 3" and first not in store.method_more
    assert store.tracking_packed(first) == ""


def test_the_deadline_fifo_keeps_every_deadline_across_its_compactions() -> None:
    clock = Clock()
    seen: list[tuple[int, int, int]] = []
    # Every odd order is over before its deadline: dropped from the head, never handled.
    fifo = Deadlines(clock, 10, lambda o, s, d: seen.append((o, s, d)), lambda o, s: o % 2 == 0)
    count = 3 * COMPACT_AFTER
    for n in range(count):
        clock.run(until=n)
        fifo.add(n, n)
    clock.run(until=count + 10)
    assert seen == [(n, n, n + 10) for n in range(0, count, 2)]
    assert len(fifo) == 0
    fifo.add(5, count + 5)  # stamped later than any: waits for its own due time
    fifo.add(4, count + 1)  # stamped earlier than the last: a clock event of its own
    clock.run(until=count + 20)
    assert seen[-2:] == [(4, count + 1, count + 11), (5, count + 5, count + 15)]


def test_a_listing_shows_a_change_made_in_the_same_second_as_the_last_listing() -> None:
    houzz = FakeHouzz(era="legacy")
    order_id = houzz.place_order()
    shown = houzz.get_orders("All", 0, 10, 0, 10).orders
    assert [(v.order_id, v.status) for v in shown] == [(order_id, "New")]
    assert houzz.update_order(order_id, "Process").ok  # the same second: modified stays 0
    again = houzz.get_orders("All", 0, 10, 0, 10).orders
    assert [(v.order_id, v.status, v.modified) for v in again] == [(order_id, "InProduction", 0)]
    assert houzz.get_orders("All", 0, 10, 0, 10).orders[0] is again[0]  # made once a change


def test_charged_at_is_the_last_charge_whatever_came_after() -> None:
    clock = Clock()
    houzz = FakeHouzz(era="legacy", clock=clock)
    order_id = houzz.place_order()
    assert houzz.order(order_id).charged_at is None
    clock.run(until=60)
    assert houzz.update_order(order_id, "Process").ok
    clock.run(until=120)
    assert houzz.update_order(order_id, "Charge").ok
    order = houzz.order(order_id)
    clock.run(until=180)
    drift = history_code("fault", "PageDrift", "Charged")  # keeps Charged
    order.store.record(order.handle, 180, drift)
    assert order.charged_at == 120
    assert houzz.update_order(order_id, "Ship", tracking_number="1Z1").ok
    assert order.charged_at == 120
    vendor = FakeHouzz(program="vendor", clock=clock)
    assert vendor.order(vendor.place_order(created=30)).charged_at == 30


def test_the_lifecycles_inlined_history_append_uses_the_logs_widths() -> None:
    # lifecycle._change writes the width out (the per-change hot path looks up no global).
    # Read from the source file: in the compiled build the method has no Python source.
    text = LIFECYCLE_SOURCE.read_text(encoding="utf-8")
    tree = ast.parse(text)
    (change,) = (
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name == "_change"
    )
    source = ast.get_source_segment(text, change) or ""
    assert "if not -TIME_LIMIT <= at < TIME_LIMIT:" in source
    assert f"log.append((at << {CODE_BITS}) | code)" in source
