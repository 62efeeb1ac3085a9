"""The fake Houzz as a connector developer meets it: lifecycle, listing, paging, updates."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from houzzflow.engine.machine import default_machine
from houzzflow.engine.ports import AckError, OrderView
from houzzflow.engine.table import Rejection, houzz_table
from houzzflow.simulator.harness import HouzzHarness
from houzzflow.simulator.houzz import listing
from houzzflow.simulator.houzz.state import BadRequest, FakeHouzz
from houzzflow.simulator.kernel.clock import Clock
from houzzflow.simulator.kernel.ids import is_order_id
from houzzflow.simulator.kernel.timeline import Timeline

WINDOW = default_machine().timing.cancel_window
AUTHORIZATION = default_machine().timing.authorization


def houzz(**kw: object) -> FakeHouzz:
    kw.setdefault("clock", Clock())
    return FakeHouzz(**kw)  # type: ignore[arg-type]


def table_reason(program: str, era: str, state: str, action: str, actor: str) -> str:
    rejection = houzz_table(program, era).step(state, action, actor)
    assert isinstance(rejection, Rejection)
    return rejection.reason


def listed(h: FakeHouzz, status: str = "All", start: int = 0, end: int = 10**9) -> list[str]:
    page = h.get_orders(status, start, end, 0, 10_000)
    return [v.order_id for v in page.orders]


# --- lifecycle per program and era -------------------------------------------------------


def test_legacy_seller_order_needs_process_then_charge_then_ships_with_every_tracking_number() -> (
    None
):
    h = houzz(era="legacy")
    oid = h.place_order(items=2)
    assert is_order_id(oid)
    assert h.order(oid).status == "New"
    h.clock.run(until=10 * 86400)
    assert h.order(oid).status == "New", "legacy Houzz never moves an order by itself"

    assert h.update_order(oid, "Process").ok
    assert h.order(oid).status == "InProduction"
    assert h.update_order(oid, "charge").ok  # action names in any letter case
    assert h.order(oid).status == "Charged"
    h.clock.now += 60
    ack = h.update_order(oid, "Ship", tracking_number="1ZA, 1ZB", shipping_method="UPS Ground")
    assert ack.ok
    order = h.order(oid)
    assert order.status == "Shipped"
    assert order.tracking_numbers == ("1ZA", "1ZB")
    assert order.shipping_method == "UPS Ground"
    assert order.modified == h.clock.now
    assert [(actor, action) for _, actor, action, _ in order.history] == [
        ("customer", "Place"),
        ("connector", "Process"),
        ("connector", "Charge"),
        ("connector", "Ship"),
    ]


def test_illegal_actions_answer_an_error_with_the_tables_reason_and_change_nothing() -> None:
    h = houzz(era="legacy")
    oid = h.place_order()
    ack = h.update_order(oid, "Charge")
    assert not ack.ok
    assert ack.reason == table_reason("seller", "legacy", "New", "Charge", "connector")
    assert h.order(oid).status == "New"
    assert len(h.order(oid).history) == 1

    assert h.update_order(oid, "Cancel", cancel_code="OOS", comments="out of stock").ok
    ack = h.update_order(oid, "Ship", tracking_number="1Z9")
    assert not ack.ok
    assert ack.reason == table_reason("seller", "legacy", "Cancelled", "Ship", "connector")
    assert h.order(oid).cancel_code == "OOS"


def test_unknown_order_action_and_ship_without_tracking_are_refused() -> None:
    h = houzz(era="legacy")
    assert h.update_order("0000-0000-0000-0000", "Process") == h.update_order(
        "0000-0000-0000-0000", "process"
    )
    assert "not found" in h.update_order("0000-0000-0000-0000", "Process").reason
    oid = h.place_order()
    assert "unknown action" in h.update_order(oid, "Refund").reason
    h.update_order(oid, "Process")
    h.update_order(oid, "Charge")
    assert not h.update_order(oid, "Ship", tracking_number=" , ").ok
    assert h.order(oid).status == "Charged"


def test_2021_seller_order_is_charged_by_houzz_exactly_when_the_cancel_window_closes() -> None:
    h = houzz(era="2021")
    h.clock.now = 1000
    oid = h.place_order()
    h.clock.run(until=1000 + WINDOW - 1)
    assert h.order(oid).status == "New"
    h.clock.run(until=1000 + WINDOW)
    order = h.order(oid)
    assert order.status == "Charged"
    assert order.charged_at == order.modified == 1000 + WINDOW
    assert order.history[-1] == (1000 + WINDOW, "houzz", "AutoCharge", "Charged")


def test_2021_seller_refuses_process_and_charge_from_connector_and_staff() -> None:
    h = houzz(era="2021")
    oid = h.place_order()
    for action in ("Process", "Charge"):
        ack = h.update_order(oid, action)
        assert not ack.ok
        assert ack.reason == table_reason("seller", "2021", "New", action, "connector")
        assert not h.act(oid, action, "staff").ok
    assert h.order(oid).status == "New"


def test_2021_failed_charge_is_held_back_until_payment_is_fixed_then_listed_as_charged() -> None:
    h = houzz(era="2021", charge_failure_rate=1.0)
    oid = h.place_order()
    h.clock.run(until=WINDOW)
    assert h.order(oid).status == "FailedToCharge"
    for status in ("All", "FailedToCharge", "Failed to Charge", "Active"):
        assert listed(h, status) == [], f"held order listed under {status}"
    assert h.get_orders("All", 0, 10**9, 0, 100).total == 0

    h.clock.run(until=5 * 3600)
    assert h.fix_payment(oid).ok
    assert listed(h, "Charged", start=5 * 3600) == [oid]
    assert h.order(oid).modified == 5 * 3600


def test_legacy_declined_charge_shows_failed_to_charge_until_payment_is_fixed() -> None:
    h = houzz(era="legacy", charge_failure_rate=1.0)
    oid = h.place_order()
    h.update_order(oid, "Process")
    ack = h.update_order(oid, "Charge")
    assert not ack.ok and "declined" in ack.reason
    assert listed(h, "FailedToCharge") == [oid], "legacy Houzz shows failed charges"
    assert h.fix_payment(oid).ok
    assert h.order(oid).status == "InProduction"


def test_vendor_orders_arrive_charged() -> None:
    h = houzz(program="vendor", era="legacy")
    oid = h.place_order()
    assert h.order(oid).status == "Charged"
    assert h.order(oid).charged_at == 0
    assert listed(h, "Charged") == [oid]
    assert listed(h, "New") == []
    assert not h.update_order(oid, "Process").ok


def test_customer_may_cancel_only_within_the_window_staff_may_cancel_later() -> None:
    h = houzz(era="legacy")
    early, late = h.place_order(), h.place_order()
    h.clock.now = WINDOW - 1
    assert h.act(early, "Cancel", "customer").ok
    assert h.order(early).status == "Cancelled"
    h.clock.now = WINDOW
    ack = h.act(late, "Cancel", "customer")
    assert not ack.ok
    assert "30 minutes" in ack.reason
    assert h.order(late).status == "New"
    assert h.act(late, "Cancel", "staff").ok


@pytest.mark.parametrize("era", ["legacy", "2021"])
def test_authorization_lapses_after_seven_days_unshipped_then_ship_is_refused(era: str) -> None:
    h = houzz(era=era)
    oid = h.place_order()
    if era == "legacy":
        h.clock.now = 600
        h.update_order(oid, "Process")
        h.update_order(oid, "Charge")
    h.clock.run(until=WINDOW)
    charged_at = h.order(oid).charged_at
    assert charged_at is not None
    h.clock.run(until=charged_at + AUTHORIZATION - 1)
    assert h.order(oid).status == "Charged"
    h.clock.run(until=charged_at + AUTHORIZATION)
    order = h.order(oid)
    assert order.status == "InProduction"
    assert order.history[-1][1:] == ("houzz", "AuthorizationLapse", "InProduction")
    ack = h.update_order(oid, "Ship", tracking_number="1Z1")
    assert not ack.ok
    assert ack.reason == table_reason("seller", era, "InProduction", "Ship", "connector")


def test_a_shipped_order_never_lapses() -> None:
    h = houzz(era="2021")
    oid = h.place_order()
    h.clock.run(until=WINDOW + 10)
    assert h.update_order(oid, "Ship", tracking_number="1Z1").ok
    h.clock.run(until=30 * 86400)
    assert h.order(oid).status == "Shipped"


def test_order_placed_in_the_past_has_lived_through_houzz_clocks() -> None:
    h = houzz(era="2021")
    h.clock.now = 10 * 86400
    recent = h.place_order(created=10 * 86400 - 600)
    older = h.place_order(created=10 * 86400 - 7200)
    ancient = h.place_order(created=86400)
    assert h.order(recent).status == "New"
    assert h.order(older).status == "Charged"
    assert h.order(older).modified == 10 * 86400 - 7200 + WINDOW
    assert h.order(ancient).status == "InProduction", "charged 9 days ago, never shipped"
    with pytest.raises(ValueError, match="future"):
        h.place_order(created=11 * 86400)


# --- listing -------------------------------------------------------------------------------


def test_public_status_spellings_list_the_same_orders() -> None:
    h = houzz(era="legacy")
    new, processing, charged, shipped, cancelled = (h.place_order() for _ in range(5))
    h.update_order(processing, "Process")
    for oid in (charged, shipped):
        h.update_order(oid, "Process")
        h.update_order(oid, "Charge")
    h.update_order(shipped, "Ship", tracking_number="1Z1")
    h.update_order(cancelled, "Cancel")

    assert listed(h, "New") == listed(h, "Placed") == listed(h, "new") == [new]
    assert listed(h, "InProduction") == listed(h, "Processing") == [processing]
    assert listed(h, "In Production") == [processing]
    assert listed(h, "Canceled") == listed(h, "Cancelled") == [cancelled]
    assert listed(h, "Shipped") == [shipped]
    assert sorted(listed(h, "Charged")) == sorted([charged])
    assert sorted(listed(h, "Active")) == sorted([new, processing, charged])
    assert sorted(listed(h, "All")) == sorted([new, processing, charged, shipped, cancelled])
    with pytest.raises(BadRequest, match="Pending"):
        h.get_orders("Pending", 0, 10, 0, 10)


def test_views_carry_canonical_status_and_times() -> None:
    h = houzz(era="legacy")
    h.clock.now = 50
    oid = h.place_order()
    h.clock.now = 70
    h.update_order(oid, "Process")
    (view,) = h.get_orders("All", 0, 100, 0, 10).orders
    assert (view.order_id, view.status, view.created, view.modified) == (
        oid,
        "InProduction",
        50,
        70,
    )


def test_offset_pages_cover_every_order_exactly_once_in_time_then_id_order() -> None:
    h = houzz(era="legacy", rng=random.Random(7))
    rng = random.Random(3)
    for _ in range(2_500):
        h.clock.now += rng.choice((0, 0, 1, 5))  # many orders share a second
        h.place_order()
    seen: list[OrderView] = []
    start = 0
    while True:
        page = h.get_orders("All", 0, h.clock.now, start, 1000)
        assert page.total == 2_500
        seen.extend(page.orders)
        start += len(page.orders)
        if not page.orders:
            break
    assert len(seen) == 2_500
    assert len({v.order_id for v in seen}) == 2_500
    keys = [(v.modified, v.order_id) for v in seen]
    assert keys == sorted(keys)


def test_listing_window_is_inclusive_and_follows_modified_time_by_default() -> None:
    h = houzz(era="legacy")
    oid = h.place_order()  # created at 0
    h.clock.now = 5000
    h.update_order(oid, "Process")
    assert listed(h, start=5000, end=5000) == [oid]
    assert listed(h, start=0, end=4999) == []

    c = houzz(era="legacy", window_field="created")
    oid = c.place_order()
    c.clock.now = 5000
    c.update_order(oid, "Process")
    assert listed(c, start=0, end=0) == [oid]
    assert listed(c, start=4000, end=6000) == []


def test_a_changed_order_leaves_its_old_place_in_the_window() -> None:
    h = houzz(era="legacy")
    a, b = h.place_order(), h.place_order()
    h.clock.now = 100
    h.update_order(a, "Process")
    assert listed(h, start=0, end=50) == [b]
    assert listed(h, start=50, end=200) == [a]


@pytest.mark.parametrize(("program", "connection"), [("vendor", "seller"), ("seller", "vendor")])
def test_wrong_connection_type_gets_success_and_no_orders(program: str, connection: str) -> None:
    h = houzz(program=program, era="legacy", connection=connection)
    for _ in range(3):
        h.place_order()
    page = h.get_orders("All", 0, 10**9, 0, 100)
    assert list(page.orders) == []
    assert page.total == 0
    right = houzz(program=program, era="legacy")
    right.place_order()
    assert right.get_orders("All", 0, 10**9, 0, 100).total == 1


# --- the open questions (engine/assumptions.yaml): the world's answer is Houzz's ----------


@pytest.mark.parametrize(("program", "connection"), [("vendor", "seller"), ("seller", "vendor")])
def test_wrong_connection_error_answers_get_orders_with_the_reason(
    program: str, connection: str
) -> None:
    h = houzz(
        program=program,
        era="legacy",
        connection=connection,
        facts=(("wrong_connection", "error"),),
    )
    h.place_order()
    with pytest.raises(AckError) as refused:
        h.get_orders("All", 0, 10**9, 0, 100)
    names = {"seller": "Houzz Seller", "vendor": "Houzz Vendor"}
    assert refused.value.reason == (
        f"this account is in the {names[program]} program; the connection is for "
        f"{names[connection]}"
    )
    # The right connection is answered as ever, whatever the answer to wrong connections.
    right = houzz(program=program, era="legacy", facts=(("wrong_connection", "error"),))
    right.place_order()
    assert right.get_orders("All", 0, 10**9, 0, 100).total == 1


@pytest.mark.houzz(program="vendor", connection="seller", facts=(("wrong_connection", "error"),))
def test_the_fixture_takes_the_worlds_answers(fake_houzz: HouzzHarness) -> None:
    assert ("wrong_connection", "error") in fake_houzz.fake.facts
    with pytest.raises(AckError, match="the connection is for Houzz Seller"):
        fake_houzz.get_orders("All", 0, 10, 0, 100)


@pytest.mark.parametrize("action", ["Process", "Charge"])
def test_a_mark_step_already_done_is_refused_or_a_no_op_as_the_world_says(action: str) -> None:
    strict = houzz(era="legacy")
    lenient = houzz(era="legacy", facts=(("mark_step_done", "no_op"),), timeline=Timeline())
    for h in (strict, lenient):
        oid = h.place_order()
        h.clock.now = 100
        assert h.act(oid, "Process", "staff").ok
        assert h.act(oid, "Charge", "staff").ok
    (a,) = strict.orders
    (b,) = lenient.orders
    refused = strict.update_order(a, action)
    assert not refused.ok and "order is Charged" in refused.reason
    lenient.clock.now = 500
    before = lenient.order(b).history
    assert lenient.update_order(b, action).ok  # done already: Success ...
    order = lenient.order(b)
    assert (order.status, order.modified, order.history) == (
        "Charged",
        100,
        before,
    )  # ... no change
    assert listed(lenient, start=200) == [], "not modified: not listed again"
    assert lenient.timeline is not None
    said = lenient.timeline.of(b)[-1]
    assert (said.action, said.houzz_status) == (action, "Charged")
    assert "without a change" in said.detail
    # A step not yet done is still done, and one the table refuses is still refused.
    fresh = lenient.place_order()
    assert not lenient.update_order(fresh, "Charge").ok
    assert lenient.update_order(fresh, "Process").ok
    assert lenient.order(fresh).status == "InProduction"


@pytest.mark.parametrize(
    ("answer", "after_lapse"), [("applies", "InProduction"), ("never", "Charged")]
)
def test_a_vendor_order_lapses_only_if_the_world_says_the_lapse_applies(
    answer: str, after_lapse: str
) -> None:
    h = houzz(program="vendor", era="2021", facts=(("vendor_lapse", answer),))
    oid = h.place_order()
    h.clock.run(until=AUTHORIZATION + 1)
    assert h.order(oid).status == after_lapse
    shipped = h.update_order(oid, "Ship", tracking_number="1Z1")
    assert shipped.ok == (after_lapse == "Charged")


@pytest.mark.parametrize(("answer", "seen_new"), [("as_new", True), ("after_charge", False)])
def test_a_2021_seller_order_is_listed_before_its_charge_only_as_new(
    answer: str, seen_new: bool
) -> None:
    h = houzz(era="2021", facts=(("release_2021", answer),))
    oid = h.place_order()
    h.clock.run(until=WINDOW - 1)
    assert (listed(h) == [oid]) is seen_new
    assert (listed(h, "New") == [oid]) is seen_new
    h.clock.run(until=WINDOW)
    assert listed(h) == [oid] and h.order(oid).status == "Charged"
    # A customer who cancels in time: the order is listed Cancelled either way.
    gone = h.place_order()
    assert h.act(gone, "Cancel", "customer").ok
    assert gone in listed(h, "Cancelled")


def test_the_window_field_comes_from_the_facts_unless_given() -> None:
    assert houzz(facts=(("window_field", "created"),)).window_field == "created"
    assert houzz(facts=(("window_field", "created"),), window_field="modified").window_field == (
        "modified"
    )
    assert houzz().window_field == "modified"
    with pytest.raises(ValueError, match="mark_step_done: 'maybe' is not one of refused, no_op"):
        houzz(facts=(("mark_step_done", "maybe"),))
    with pytest.raises(ValueError, match="no open question 'colour'"):
        houzz(facts=(("colour", "red"),))


def test_bad_paging_is_a_bad_request() -> None:
    h = houzz()
    with pytest.raises(BadRequest):
        h.get_orders("All", 0, 10, -1, 10)
    with pytest.raises(BadRequest):
        h.get_orders("All", 0, 10, 0, 0)


# --- determinism, details, observers ------------------------------------------------------


def test_same_seed_gives_same_ids_and_different_seeds_differ() -> None:
    def ids(seed: int) -> list[str]:
        h = houzz(rng=random.Random(seed))
        return [h.place_order() for _ in range(20)]

    assert ids(5) == ids(5)
    assert ids(5) != ids(6)
    assert len(set(ids(5))) == 20


def test_order_details_are_stable_and_add_up() -> None:
    h = houzz()
    order = h.order(h.place_order(items=3))
    assert len(order.items) == 3
    assert set(order.address) == {"Address", "Address1", "City", "State", "Zip", "Country", "Phone"}
    assert order.customer_name and order.address == h.order(order.order_id).address
    total = sum(i.price * i.quantity + i.shipping + i.tax for i in order.items)
    assert order.order_total == total + order.flat_shipping


def test_every_change_reaches_history_timeline_and_subscribers() -> None:
    timeline = Timeline()
    h = houzz(era="legacy", timeline=timeline)
    heard: list[tuple[str, str, str]] = []
    h.subscribe(lambda order, action: heard.append((order.order_id, action, order.status)))
    oid = h.place_order()
    h.update_order(oid, "Process")
    h.update_order(oid, "Charge")  # legal
    h.update_order(oid, "Process")  # refused: no change, nothing heard
    assert heard == [
        (oid, "Place", "New"),
        (oid, "Process", "InProduction"),
        (oid, "Charge", "Charged"),
    ]
    assert [(x.actor, x.action, x.houzz_status) for x in timeline.of(oid)] == [
        ("customer", "Place", "New"),
        ("connector", "Process", "InProduction"),
        ("connector", "Charge", "Charged"),
    ]
    assert [(x.action, x.houzz_status) for x in h.happenings_of(oid)] == [
        (x.action, x.houzz_status) for x in timeline.of(oid)
    ]


def test_reset_forgets_orders_and_pending_charges_but_keeps_configuration() -> None:
    h = houzz(era="2021", window_field="created")
    old = h.place_order()
    h.get_orders("All", 0, 10, 0, 10)
    h.reset()
    assert h.orders == {} and h.listing_calls == 0
    with pytest.raises(KeyError):
        h.order(old)
    h.clock.now = 100
    new = h.place_order()
    h.clock.run(until=WINDOW)
    assert h.order(new).status == "New", "the old order's auto-charge must not touch others"
    h.clock.run(until=100 + WINDOW)
    assert h.order(new).status == "Charged"
    assert h.window_field == "created" and h.era == "2021"


@pytest.mark.parametrize("compact_early", [False, True])
def test_an_order_changed_twice_in_one_second_is_listed_once_at_its_place(
    compact_early: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if compact_early:
        monkeypatch.setattr(listing, "REBUILD_AFTER", 0)
    h = houzz(era="legacy", rng=random.Random(2))
    h.clock.now = 10
    first, second = h.place_order(), h.place_order()
    h.update_order(first, "Process")  # the same second, another order in between
    h.update_order(second, "Process")
    h.update_order(first, "Charge")
    shown = h.get_orders("All", 0, 10, 0, 10).orders
    assert [(v.order_id, v.status) for v in shown] == sorted(
        [(first, "Charged"), (second, "InProduction")]
    )


# --- listing stays exact whatever happened before ----------------------------------------

_STEP = st.one_of(
    st.tuples(st.just("place"), st.integers(0, 40)),  # how long ago it was created
    st.tuples(st.sampled_from(["Process", "Charge", "Ship", "Cancel"]), st.integers(0, 10**6)),
    st.tuples(st.just("wait"), st.sampled_from([0, 0, 1, 5, 60, 1800])),
    st.tuples(st.just("list"), st.integers(0, 10**6)),
)


@settings(max_examples=60)
@given(
    steps=st.lists(_STEP, max_size=80),
    window_field=st.sampled_from(["modified", "created"]),
    era=st.sampled_from(["legacy", "2021"]),
    compact_early=st.booleans(),
)
def test_every_listing_is_exactly_the_orders_in_its_window_in_time_then_id_order(
    steps: list[tuple[str, int]],
    window_field: str,
    era: str,
    compact_early: bool,
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        if compact_early:  # compact the listing index at every chance, not only when big
            patch.setattr(listing, "REBUILD_AFTER", 0)
        _play(steps, houzz(era=era, window_field=window_field, rng=random.Random(1)))


def _play(steps: list[tuple[str, int]], h: FakeHouzz) -> None:
    window_field = h.window_field
    listable = set(h.table.states) - h.table.hidden
    shows = {
        "All": listable,
        "Active": listable - h.table.terminal,
        "New": {"New"},
        "Charged": {"Charged"},
    }
    ids: list[str] = []
    for what, n in steps:
        now = h.clock.now
        if what == "place":
            ids.append(h.place_order(created=max(0, now - n) if n > 30 else None))
        elif what == "wait":
            h.clock.run(until=now + n)
        elif what == "list":
            start = n % (now + 2) - 1
            end = start + n % 2000
            for status, wanted in shows.items():
                expected = sorted(
                    (getattr(o, window_field), o.order_id, o.status, o.created, o.modified)
                    for o in h.orders.values()
                    if start <= getattr(o, window_field) <= end and o.status in wanted
                )
                seen = [
                    (getattr(v, window_field), v.order_id, v.status, v.created, v.modified)
                    for offset in range(0, len(expected) + 3, 3)
                    for v in h.get_orders(status, start, end, offset, 3).orders
                ]
                assert seen == expected
        elif ids:
            # Mostly recent orders: several changes to one order in one second are the case
            # the listing index has to get right.
            recent = ids[-4:] if n % 5 else ids
            h.update_order(recent[n % len(recent)], what, tracking_number="1Z1,1Z2")
