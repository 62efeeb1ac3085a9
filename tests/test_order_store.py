"""The compact order store keeps every change and every shipment exactly as it happened.

Orders' histories are packed into one int and the warehouse's shipments into another; a
change the packed form cannot hold falls back to a plain form. Either way a reader sees the
same history and the same shipments.
"""

from __future__ import annotations

import ast
import random
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from houzzflow.simulator.houzz.orders import (
    CODE_BITS,
    CODE_MASK,
    DELTA_LIMIT,
    ENTRY_BITS,
    HouzzOrder,
    history_code,
    record_change,
)
from houzzflow.simulator.houzz.state import FakeHouzz
from houzzflow.simulator.kernel.clock import Clock
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


@settings(max_examples=200, deadline=None)
@given(
    created=st.integers(-(2**40), 2**40),
    changes=st.lists(
        st.tuples(
            st.one_of(st.integers(-3, 3), st.integers(2**32 - 2, 2**32), st.integers()),
            st.sampled_from(_KINDS),
        ),
        max_size=12,
    ),
)
@example(created=0, changes=[(0, _KINDS[0]), (-1, _KINDS[3]), (5, _KINDS[1])])
@example(created=7, changes=[(0, _KINDS[0]), (2**32 - 1, _KINDS[1]), (2**32, _KINDS[2])])
def test_history_reads_back_every_change_in_order(
    created: int, changes: list[tuple[int, tuple[str, str, str]]]
) -> None:
    # Times before ``created`` or past 2**32 seconds after it take the plain form.
    order = HouzzOrder("1000-0000-0000-0001", "New", created, created)
    expected = []
    for offset, kind in changes:
        record_change(order, created + offset, history_code(*kind))
        expected.append((created + offset, *kind))
    assert order.history == expected


def test_a_code_past_the_packed_field_keeps_the_history_whole() -> None:
    order = HouzzOrder("1000-0000-0000-0002", "New", 100, 100)
    record_change(order, 100, history_code("customer", "Place", "New"))
    record_change(order, 160, 5000)  # no such code is interned: read back as it went in
    assert isinstance(order.history_codes, list)
    assert order.history_codes == [100, history_code("customer", "Place", "New"), 160, 5000]


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
    for tracking in ("1Z00000000000000AB, 1ZFFFFFFFFFFFFFFFF", "1zab,XYZ"):
        order_id = houzz.place_order()
        for action in ("Process", "Charge"):
            assert houzz.update_order(order_id, action).ok
        assert houzz.update_order(order_id, "Ship", tracking_number=tracking).ok
        order = houzz.order(order_id)
        clean = tracking.replace(" ", "")
        assert (order.tracking, order.tracking_numbers) == (clean, tuple(clean.split(",")))


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
    record_change(order, 180, history_code("fault", "PageDrift", "Charged"))  # keeps Charged
    assert order.charged_at == 120
    assert houzz.update_order(order_id, "Ship", tracking_number="1Z1").ok
    assert order.charged_at == 120
    vendor = FakeHouzz(program="vendor", clock=clock)
    assert vendor.order(vendor.place_order(created=30)).charged_at == 30


def test_the_lifecycles_inlined_history_append_uses_the_packed_fields_widths() -> None:
    # lifecycle._change writes the widths out (the per-change hot path looks up no global).
    # Read from the source file: in the compiled build the method has no Python source.
    text = LIFECYCLE_SOURCE.read_text(encoding="utf-8")
    tree = ast.parse(text)
    (change,) = (
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name == "_change"
    )
    source = ast.get_source_segment(text, change) or ""
    assert f"0 <= delta < {DELTA_LIMIT} and" in source and f"code < {CODE_MASK + 1}" in source
    assert f"(packed << {ENTRY_BITS}) | (delta << {CODE_BITS}) | code" in source
