"""The compact order store keeps every change and every shipment exactly as it happened.

Orders' histories are packed into one int and the warehouse's shipments into another; a
change the packed form cannot hold falls back to a plain form. Either way a reader sees the
same history and the same shipments.
"""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from houzzflow.simulator.houzz.orders import HouzzOrder, history_code, record_change

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
