"""The drain, stuck orders, loss by kind, held orders resolved, and the proof's ground.

What a `houzzflow run` user notices: a run does not pass with orders still in flight; each
stuck order says why; a lost order is told as silent or visible; a declined card is an
accounted hold; a person resolving held orders brings them back; and a world beyond what
the proof assumes says so in every format.
"""

from __future__ import annotations

import json
import random
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml
from observed import end_state

from houzzflow.engine.connector import ConnectorState
from houzzflow.engine.diagnostics import InputError
from houzzflow.engine.ledger import Alert
from houzzflow.engine.policy import PolicyFile, resolve
from houzzflow.engine.ports import Package, Shipment
from houzzflow.simulator.houzz.state import FakeHouzz
from houzzflow.simulator.html.reports import run_html
from houzzflow.simulator.kernel.clock import Clock
from houzzflow.simulator.runs.invariants import SILENT, VISIBLE, check
from houzzflow.simulator.runs.report import json_report, junit_report, run_files, text_report
from houzzflow.simulator.runs.runner import RunResult, run_scenario
from houzzflow.simulator.runs.scenario import EXPECT_KEYS, MAX_DRAIN, load_scenario
from houzzflow.simulator.world.staff import Habit, Staff

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def run(name: str, **overrides: Any) -> RunResult:
    return run_scenario(load_scenario(SCENARIOS / f"{name}.yaml", overrides))


def scripted(tmp_path: Path, policy: dict[str, Any], steps: list[str], **extra: Any) -> RunResult:
    """A scripted world: ``steps`` are ``at actor action [order]``, in script order."""
    script = []
    for step in steps:
        at, actor, action, *order = step.split()
        entry: dict[str, Any] = {"at": int(at), "actor": actor, "action": action}
        if order:
            entry["order"] = int(order[0])
        script.append(entry)
    doc = {
        "name": "tie",
        "duration": 400,
        "policy": policy,
        "world": {"script": script},
        "expect": {"duplicated": 0},
        **extra,
    }
    path = tmp_path / "tie.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return run_scenario(load_scenario(path))


# -- a run does not pass with orders in flight ------------------------------------------------


def test_the_20000_order_rate_limit_run_fails_with_its_stuck_orders_explained() -> None:
    # The scenario's own drain is a day; two hours tell the same story, faster.
    overrides = ["world.orders.count=20000", "drain=2h"]
    path = str(SCENARIOS / "faults-rate-limit.yaml")
    report, status = run_files([path], overrides, "text", False)
    assert status == 1
    assert report.startswith("FAIL  faults-rate-limit")
    assert "✘ nothing stuck in flight: " in report
    assert "put off to its next complete poll by a failed or rate-limited Houzz call" in report
    assert "calls answered 429 Retry-After" in report
    assert "✘ in_flight = 0: got " in report
    assert "at the drain's limit of 2h" in report


def test_the_rate_limit_scenario_keeps_up_at_its_own_size() -> None:
    result = run("faults-rate-limit")
    assert result.ok
    assert result.counts["in_flight"] == 0 and result.counts["stuck"] == 0
    assert result.counts["confirmed"] == 1000


def test_orders_in_flight_when_the_stream_ends_settle_in_the_drain() -> None:
    # The warehouse takes up to a day: orders placed late ship after the stream ends.
    result = run("safe-vendor")
    assert result.ok
    assert result.counts["in_flight"] > 0
    assert result.counts["stuck"] == 0
    assert result.drain.ended == "settled" and 0 < result.drain.used < 86400
    confirmed_or_cancelled = result.verdict.fates["confirmed"] + result.verdict.fates["cancelled"]
    assert confirmed_or_cancelled == result.placed


def test_without_a_drain_the_orders_in_flight_are_stuck_and_fail_the_run() -> None:
    result = run("safe-vendor", drain=0)
    assert not result.ok
    assert result.drain.ended == "off"
    assert result.counts["stuck"] == result.counts["in_flight"] > 0
    (implied,) = [r for r in result.expectations if r.expectation.implied]
    assert implied.expectation.key == "stuck" and not implied.ok
    assert "(implied: every order settles)" in implied.message


def test_a_world_that_goes_quiet_ends_the_drain_early() -> None:
    result = run("loss-legacy-charged-nobody-charges")
    assert result.ok
    assert result.drain.ended == "quiet" and result.drain.used == 0
    assert result.counts["lost_silently"] == result.counts["lost"] == 300


# -- the drain limit ---------------------------------------------------------------------------


def test_the_drain_is_bounded_and_the_limit_is_stated(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        load_scenario(SCENARIOS / "seller-default.yaml", ["drain=61d"])
    (problem,) = caught.value.diagnostics
    assert "61d is longer than the 60d limit" in problem.message
    assert MAX_DRAIN == 60 * 86400
    assert load_scenario(SCENARIOS / "seller-default.yaml").drain == 14 * 86400
    result = run("safe-vendor")
    text = text_report([result])
    assert "  Drain: the order stream ended with " in text and "(limit 14d)" in text
    data = json.loads(json_report([result]))["scenarios"][0]
    assert data["drain"]["limit"] == 14 * 86400 and data["drain"]["ended"] == "settled"
    assert data["orders"]["in_flight"] == result.counts["in_flight"]


def test_a_scripted_world_does_not_drain_and_says_why(tmp_path: Path) -> None:
    result = scripted(
        tmp_path,
        {"connection_type": "vendor"},
        ["10 customer Place 1", "20 connector Poll"],
    )
    assert result.drain.ended == "scripted" and result.end == 400
    assert "a scripted world has no clocks of its own" in text_report([result])
    assert result.counts["stuck"] == 1  # at the warehouse: the script never ships it
    assert not any(r.expectation.implied for r in result.expectations)


# -- staff habits apply again --------------------------------------------------------------------


def test_staff_who_always_charge_charge_again_after_the_customer_fixed_the_payment() -> None:
    clock = Clock()
    houzz = FakeHouzz(program="seller", era="legacy", clock=clock, charge_failure_rate=1.0)
    habit = Habit(mode="always", delay=(60, 60))
    Staff(process=habit, charge=habit).attach(houzz, clock, random.Random(1))
    order = houzz.place_order()
    clock.run(until=600)  # processed at 60, charged (declined) at 120
    assert houzz.orders[order].status == "FailedToCharge"
    houzz.fix_payment(order)  # back In Production: the step is possible again
    clock.run(until=1200)
    declines = [h for h in houzz.orders[order].history if h[2] == "ChargeDeclined"]
    assert len(declines) == 2


def test_staff_who_sometimes_charge_draw_again_each_time() -> None:
    clock = Clock()
    houzz = FakeHouzz(program="seller", era="legacy", clock=clock, charge_failure_rate=1.0)
    habit = Habit(mode="sometimes", probability=1.0, delay=(60, 60))
    Staff(process=habit, charge=habit).attach(houzz, clock, random.Random(1))
    order = houzz.place_order()
    clock.run(until=600)
    houzz.fix_payment(order)
    clock.run(until=1200)
    assert sum(h[2] == "ChargeDeclined" for h in houzz.orders[order].history) == 2


def test_manual_charge_with_declined_cards_loses_nothing_once_staff_charge_again() -> None:
    result = run("safe-legacy-manual-charge", **{"world.houzz.charge_failure_rate": 0.05})
    assert result.ok, [r.message for r in result.expectations if not r.ok]
    assert result.houzz is not None
    again = [
        o
        for o in result.houzz.orders.values()
        if [a for _, _, a, _ in o.history].count("ChargeDeclined") >= 1 and o.status == "Shipped"
    ]
    assert again  # declined, fixed by the customer, charged again by staff, shipped


# -- lost silently, held visibly, held accounted ---------------------------------------------


def test_silent_losses_are_told_before_visible_holds() -> None:
    clock = Clock()
    houzz = FakeHouzz(program="seller", era="legacy", clock=clock)
    held = houzz.place_order()
    skipped = houzz.place_order()
    state = ConnectorState(
        ledger={held: "Error"},
        held={held: "Mark Orders as Processed was rejected by Houzz: order is In Production"},
        skipped={skipped: "status New is not Charged (Order Status)"},
        alerts=[Alert(0, held, "held", "held in Error: ...")],
    )
    verdict = check(end_state(houzz=houzz, state=state))
    assert [(v.order_id, v.kind) for v in verdict.violations["lost"]] == [
        (skipped, SILENT),
        (held, VISIBLE),
    ]
    assert verdict.held_accounted == 0


def test_counts_split_silent_and_visible_losses() -> None:
    silent = run("seller-default", **{"policy.order_status": "charged"})
    assert silent.counts["lost"] == silent.counts["lost_silently"] > 0
    visible = run("loss-mark-processed-after-staff")
    assert visible.counts["lost_silently"] == 0
    assert visible.counts["lost"] == visible.counts["held"] > 0
    text = text_report([silent, visible])
    assert f"{silent.counts['lost']} {SILENT}" in text
    assert f"{visible.counts['held']} {VISIBLE}" in text


def test_a_card_declined_at_cartrovers_charge_is_an_accounted_hold() -> None:
    result = run("seller-default", **{"world.houzz.charge_failure_rate": 0.05})
    assert result.counts["held_accounted"] > 0
    assert result.counts["held"] == 0 and result.counts["lost"] == 0
    assert result.counts["stuck"] == 0
    failed = [r.expectation.key for r in result.expectations if not r.ok]
    assert failed == ["alerts"]  # the scenario's own alerts: 0; the holds are visible
    assert "accounted (a card declined at CartRover's Charge" in text_report([result])


# -- a person resolves held orders ----------------------------------------------------------


def test_resolving_refused_mark_steps_brings_every_held_order_to_the_warehouse() -> None:
    result = run(
        "loss-mark-processed-after-staff",
        **{"world.staff.resolve_errors": {"mode": "always", "delay": ["1h", "1d"]}},
    )
    assert result.counts["alerts"] > 0  # they were held ...
    assert result.counts["held"] == 0 and result.counts["lost"] == 0  # ... and came back
    assert result.counts["confirmed"] == result.placed
    assert result.counts["unpaid_shipped"] == 0 and result.counts["duplicated"] == 0
    assert "a person resolves held orders: always" in text_report([result])


def test_resolving_a_declined_card_charges_it_again_once_the_customer_paid() -> None:
    resolved = run(
        "seller-default",
        **{"world.houzz.charge_failure_rate": 0.05, "world.staff.resolve_errors": "always"},
    )
    assert resolved.counts["held_accounted"] == 0 and resolved.counts["stuck"] == 0
    assert resolved.counts["unpaid_shipped"] == 0
    assert resolved.counts["confirmed"] > run("seller-default").counts["confirmed"] - 50
    assert resolved.connector is not None and resolved.houzz is not None
    resent = [
        oid
        for oid, order in resolved.houzz.orders.items()
        if any(a == "ChargeDeclined" for _, _, a, _ in order.history)
        and resolved.connector.ledger.get(oid) == "Confirmed"
    ]
    assert resent


def test_resolve_errors_never_leaves_holds_alone() -> None:
    result = run("loss-mark-processed-after-staff", **{"world.staff.resolve_errors": "never"})
    assert result.counts["held"] == run("loss-mark-processed-after-staff").counts["held"] > 0


# -- where the world goes beyond the proof ----------------------------------------------------


GAPS = {
    "backlog": ("safe-seller-2021", {"world.backlog": {"count": 50}}, "world.backlog.within"),
    "warehouse": (
        "safe-vendor",
        {"world.backend.ship_delay": ["1h", "5d"]},
        "world.backend.ship_delay",
    ),
    "ruled out": (
        "safe-vendor",
        {"world.houzz.window_field": "created"},
        "world.houzz.window_field",
    ),
    "pinned": (
        "seller-default",
        {
            "policy.assume": {"era": "legacy", "houzz": {"mark_step_done": "refused"}},
            "world.houzz.mark_step_done": "no_op",
        },
        "world.houzz.mark_step_done",
    ),
    "not simulated": (
        "safe-vendor",
        {"world.houzz.time_zone": "account_local"},
        "world.houzz.time_zone",
    ),
}


@pytest.mark.parametrize("gap", sorted(GAPS))
def test_a_world_beyond_the_proof_says_so_in_text_json_and_junit(gap: str) -> None:
    name, overrides, where = GAPS[gap]
    result = run(name, **overrides)
    text = text_report([result])
    assert "Where this world goes beyond what houzzflow validate assumes" in text
    assert f"({where})" in text
    gaps = json.loads(json_report([result]))["scenarios"][0]["gaps"]
    assert [g["where"] for g in gaps] == [where]
    suite = ET.fromstring(junit_report([result])).find("testsuite")
    assert suite is not None
    assert [p.get("name") for p in suite.iter("property")] == [f"gap {where}"]


def test_the_backlog_gap_explains_a_failure_the_proof_did_not_predict() -> None:
    result = run("safe-seller-2021", **{"world.backlog": {"count": 50}})
    assert not result.ok and result.counts["lost"] > 0
    text = text_report([result])
    assert "longer than a charge's authorization lasts (7d)" in text
    assert "the proof assumes CartRover runs from each order's placement" in text


def test_an_answer_runs_cannot_simulate_is_named_with_what_ran_in_its_place() -> None:
    result = run("safe-vendor", **{"world.houzz.time_zone": "account_local"})
    (gap,) = json.loads(json_report([result]))["scenarios"][0]["gaps"]
    assert gap["message"].startswith(
        "time_zone: account_local is not simulated; this run ran utc in its place: "
    )
    assert "Earliest Order Date boundary in UTC" in gap["message"]
    assert result.houzz is not None and ("time_zone", "utc") in result.houzz.facts
    page = run_html([result])
    assert "account_local</b>" in page and "not simulated: this run ran utc in its place" in page


def test_a_backlog_within_an_authorization_and_resolving_errors_are_no_gaps() -> None:
    result = run(
        "safe-vendor",
        **{
            "world.backlog": {"count": 20, "within": "6d"},
            "world.staff.resolve_errors": "always",
            "world.houzz.time_zone": "utc",
        },
    )
    assert "beyond what houzzflow validate" not in text_report([result])
    assert json.loads(json_report([result]))["scenarios"][0]["gaps"] == []


# -- the new expect keys ----------------------------------------------------------------------


def test_every_new_count_is_an_expect_key_and_is_judged() -> None:
    new = ("lost_silently", "held_accounted", "stuck", "in_flight", "confirmed", "loaded")
    assert set(new) <= set(EXPECT_KEYS)
    wanted = {f"expect.{key}": 0 for key in new}
    result = run("safe-vendor", **wanted)
    got = {r.expectation.key: (r.actual, r.ok) for r in result.expectations}
    assert got["stuck"] == (0, True) and got["lost_silently"] == (0, True)
    assert got["in_flight"][1] is False and got["confirmed"][1] is False
    assert got["loaded"][1] is False
    assert not any(r.expectation.implied for r in result.expectations)  # stuck is stated


# -- confirmed means every tracking number ------------------------------------------------------


def test_a_shipped_order_missing_one_of_its_tracking_numbers_is_not_confirmed() -> None:
    clock = Clock()
    houzz = FakeHouzz(program="vendor", era="2021", clock=clock)
    order = houzz.place_order()
    houzz.update_order(order, "Ship", shipping_method="UPS Ground", tracking_number="1ZA")
    parcels = {order: Shipment(order, (Package("1ZA", "UPS Ground"), Package("1ZB", "UPS")))}
    state = ConnectorState(ledger={order: "Confirmed"})
    policy = resolve(PolicyFile(connection_type="vendor"))
    verdict = check(
        end_state(houzz=houzz, policy=policy, received={order: 1}, shipped=parcels, state=state)
    )
    (violation,) = verdict.violations["unconfirmed"]
    assert "Houzz shows tracking 1ZA, the warehouse shipped 1ZA, 1ZB" in violation.message
    assert verdict.fates["confirmed"] == 0 and verdict.fates["unconfirmed"] == 1


# -- ties within one second ---------------------------------------------------------------------

VENDOR_NO_CANCEL_DOWNLOAD = {"connection_type": "vendor", "cancel_download": False}


# After the order is placed and sent (a poll at 20 s): the events of one second run in the
# order written, and a poll saw a cancellation only if it ran after it.
CANCEL_TIES = {
    "cancel, then poll, in one second": (
        ["100 customer Cancel 1", "100 connector Poll", "200 backend Ship 1"],
        1,
    ),
    "poll, then cancel, in one second": (
        ["100 connector Poll", "100 customer Cancel 1", "200 backend Ship 1"],
        0,
    ),
    "poll, then ship, in one second": (
        ["100 customer Cancel 1", "200 connector Poll", "200 backend Ship 1"],
        1,
    ),
    "ship, then poll, in one second": (
        ["100 customer Cancel 1", "200 backend Ship 1", "200 connector Poll"],
        0,
    ),
}


@pytest.mark.parametrize("tie", sorted(CANCEL_TIES))
def test_a_cancellation_a_poll_and_a_shipment_in_one_second(tmp_path: Path, tie: str) -> None:
    steps, violated = CANCEL_TIES[tie]
    result = scripted(
        tmp_path,
        VENDOR_NO_CANCEL_DOWNLOAD,
        ["10 customer Place 1", "20 connector Poll", *steps],
    )
    assert result.counts["cancelled_shipped"] == violated
    if violated:
        (violation,) = result.verdict.violations["cancelled_shipped"]
        assert "cancelled in Houzz at day 1 00:01:40; CartRover polled at" in violation.message


LEGACY_CHARGED = {
    "connection_type": "seller",
    "order_status": "charged",
    "mark_processed": False,
    "mark_charged": False,
    "assume": {"era": "legacy"},
}


@pytest.mark.parametrize("change_first", [True, False])
def test_a_change_in_the_very_second_of_the_last_poll(tmp_path: Path, change_first: bool) -> None:
    # Seen by the poll if it ran before it (the order is lost for good), else still moving.
    both = ["100 staff Process 1", "100 connector Poll"]
    result = scripted(
        tmp_path,
        LEGACY_CHARGED,
        ["10 customer Place 1", "20 connector Poll", *(both if change_first else both[::-1])],
    )
    if change_first:
        assert result.counts["lost"] == 1 and result.counts["stuck"] == 0
        (lost,) = result.verdict.violations["lost"]
        assert "status In Production is not Charged" in lost.message
    else:
        assert result.counts["lost"] == 0 and result.counts["stuck"] == 1
        (stuck,) = result.verdict.violations["stuck"]
        assert stuck.message.startswith("changed after CartRover's last complete poll")
