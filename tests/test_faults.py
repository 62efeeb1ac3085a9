"""Faults in the fake Houzz API: each kind observable, counted, seeded, and on the timeline."""

from __future__ import annotations

import random

import pytest

from houzzflow.engine.ports import ReplyLost, TransientError
from houzzflow.simulator.houzz.state import FakeHouzz
from houzzflow.simulator.kernel.clock import Clock
from houzzflow.simulator.kernel.faults import FaultPlan
from houzzflow.simulator.kernel.timeline import Timeline


def legacy(plan: FaultPlan, timeline: Timeline | None = None) -> FakeHouzz:
    return FakeHouzz(era="legacy", clock=Clock(), faults=plan, timeline=timeline)


@pytest.mark.parametrize(
    "bad",
    [
        {"error_rate": 1.5},
        {"page_drift_rate": -0.1},
        {"fail_calls": (0,)},
        {"retry_after": -1},
        {"crash_every_polls": 0},
    ],
)
def test_plan_refuses_impossible_values(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        FaultPlan(**bad)  # type: ignore[arg-type]


def test_the_nth_call_fails_before_any_effect() -> None:
    h = legacy(FaultPlan(fail_calls=(2,)))
    oid = h.place_order()
    h.get_orders("All", 0, 10, 0, 10)  # call 1
    with pytest.raises(TransientError) as failed:
        h.update_order(oid, "Process")  # call 2
    assert not isinstance(failed.value, ReplyLost)
    assert h.order(oid).status == "New"
    assert h.update_order(oid, "Process").ok  # call 3
    assert h.faults is not None
    assert h.faults.calls == 3
    assert h.faults.injected == {"fail_call": 1}


def test_error_rate_fails_calls_without_effect_and_counts_each() -> None:
    h = legacy(FaultPlan(error_rate=0.3, seed=11))
    oid = h.place_order()
    failures = 0
    for _ in range(400):
        try:
            h.get_orders("All", 0, 10, 0, 10)
        except TransientError:
            failures += 1
    assert h.faults is not None
    assert h.faults.injected["error"] == failures
    assert 80 < failures < 160
    while True:
        try:
            h.update_order(oid, "Process")
            break
        except TransientError:
            assert h.order(oid).status == "New"
    assert h.order(oid).status == "InProduction"


def test_rate_limit_carries_the_retry_after() -> None:
    h = legacy(FaultPlan(rate_limit_rate=1.0, retry_after=120))
    oid = h.place_order()
    with pytest.raises(TransientError) as limited:
        h.update_order(oid, "Process")
    assert limited.value.retry_after == 120
    assert h.order(oid).status == "New"
    assert h.faults is not None and h.faults.injected["rate_limit"] == 1


def test_reply_lost_after_the_write_took_effect() -> None:
    h = legacy(FaultPlan(timeout_after_write_rate=1.0))
    oid = h.place_order()
    with pytest.raises(ReplyLost):
        h.update_order(oid, "Process")
    assert h.order(oid).status == "InProduction", "the write took effect"
    with pytest.raises(ReplyLost):
        h.update_order(oid, "Process")  # refused this time, and that reply is lost too
    assert h.order(oid).status == "InProduction"
    assert h.faults is not None and h.faults.injected["reply_lost"] == 2
    h.get_orders("All", 0, 10, 0, 10)  # reads never lose their reply to this fault


def test_faults_are_on_the_timeline() -> None:
    timeline = Timeline()
    h = legacy(FaultPlan(timeout_after_write_rate=1.0, fail_calls=(1,)), timeline)
    oid = h.place_order()
    with pytest.raises(TransientError):
        h.get_orders("All", 0, 10, 0, 10)
    with pytest.raises(ReplyLost):
        h.update_order(oid, "Process")
    faults = [x for x in timeline.happenings if x.actor == "fault"]
    assert [x.action for x in faults] == ["ApiError", "ReplyLost"]
    assert faults[1].order_id == oid
    assert "took effect" in faults[1].detail


def test_faults_are_seeded_and_leave_the_order_stream_alone() -> None:
    def run(plan: FaultPlan | None) -> tuple[list[str], list[int]]:
        h = FakeHouzz(era="legacy", clock=Clock(), rng=random.Random(4), faults=plan)
        ids = [h.place_order() for _ in range(10)]
        failed = []
        for n in range(50):
            try:
                h.get_orders("All", 0, 10, 0, 10)
            except TransientError:
                failed.append(n)
        return ids, failed

    plain_ids, none_failed = run(None)
    ids_a, failed_a = run(FaultPlan(error_rate=0.2, seed=1))
    ids_b, failed_b = run(FaultPlan(error_rate=0.2, seed=1))
    _, failed_c = run(FaultPlan(error_rate=0.2, seed=2))
    assert plain_ids == ids_a == ids_b
    assert none_failed == []
    assert failed_a == failed_b and failed_a != failed_c
    # Adding another kind does not move the error faults.
    _, failed_d = run(FaultPlan(error_rate=0.2, seed=1, page_drift_rate=0.5))
    assert failed_d == failed_a


def naive_pages(h: FakeHouzz, end: int, size: int) -> list[str]:
    ids: list[str] = []
    start = 0
    while True:
        page = h.get_orders("All", 0, end, start, size)
        ids.extend(v.order_id for v in page.orders)
        start += size
        if start >= page.total:
            return ids


def test_page_drift_makes_a_naive_offset_pager_miss_an_order() -> None:
    h = legacy(FaultPlan(page_drift_rate=1.0, seed=3))
    for second in range(35):
        h.clock.now = second
        h.place_order()
    h.clock.now = 100
    everyone = set(h.orders)

    got = naive_pages(h, end=100, size=10)
    assert h.faults is not None
    assert h.faults.injected["page_drift"] >= 1
    assert everyone - set(got), "a shifted page must hide an order from a naive pager"
    assert len(got) != len(set(got)), "the modified order is listed again at the end"

    # Without drift the same pager sees everyone exactly once.
    calm = legacy(FaultPlan())
    for second in range(35):
        calm.clock.now = second
        calm.place_order()
    calm.clock.now = 100
    assert sorted(naive_pages(calm, end=100, size=10)) == sorted(calm.orders)


def test_page_drift_moves_an_order_out_of_a_window_that_ended_earlier() -> None:
    timeline = Timeline()
    h = legacy(FaultPlan(page_drift_rate=1.0), timeline)
    for second in range(20):
        h.clock.now = second
        h.place_order()
    h.clock.now = 500
    got = naive_pages(h, end=100, size=5)
    drifted = [x.order_id for x in timeline.happenings if x.action == "PageDrift"]
    assert drifted
    assert h.order(drifted[0]).modified == 500
    assert len(set(got)) < 20


def test_page_drift_never_touches_a_created_time_window_or_a_first_page() -> None:
    h = FakeHouzz(
        era="legacy", clock=Clock(), window_field="created", faults=FaultPlan(page_drift_rate=1.0)
    )
    for second in range(30):
        h.clock.now = second
        h.place_order()
    h.clock.now = 100
    assert sorted(naive_pages(h, end=100, size=7)) == sorted(h.orders)
    assert h.faults is not None and h.faults.injected["page_drift"] == 0
