"""Where time decides: an authorization that can lapse before CartRover is done with an order.

The proof is untimed, so the one deadline that matters (a charge authorizes the card for 7
days) is derived from the settings (engine.timing) and shared by the rules (HZ015) and the
explorer. These tests pin the arithmetic at the edges, the fix it suggests, and that the
simulator agrees: a setting the rule flags really loses orders to a lapse, and the fix it
suggests really does not.
"""

from __future__ import annotations

from typing import Any

import pytest

import houzzflow
from houzzflow.engine.policy import format_duration
from houzzflow.engine.rules import find, nearest_safe
from houzzflow.engine.table import houzz_table
from houzzflow.engine.timing import lapse_possible, longest_safe_poll_interval, longest_wait
from houzzflow.simulator.strategies import SAFE_SETUPS, resolved

DAY = 86400
SELLER_2021 = {"connection_type": "seller", "assume": {"era": "2021"}}
LEGACY = {"connection_type": "seller", "assume": {"era": "legacy"}}


def policy(base: dict[str, Any], **changes: Any) -> Any:
    data = {**base, **{k: v for k, v in changes.items() if k != "ships_within"}}
    if "ships_within" in changes:
        data["assume"] = {**data["assume"], "warehouse": {"ships_within": changes["ships_within"]}}
    return resolved(data)


@pytest.mark.parametrize(
    ("base", "poll", "ships", "total", "lapses"),
    [
        # 2021: Houzz charges first, so a poll until CartRover loads it counts too.
        (SELLER_2021, "1d", "3d", 1 + 3 + 1 + 1, False),
        (SELLER_2021, "2d", "3d", 2 + 3 + 2 + 2, True),
        (SELLER_2021, "4d", "3d", 4 + 3 + 4 + 4, True),
        # legacy default: CartRover charges and sends at once.
        (LEGACY, "1d", "3d", 0 + 3 + 1 + 1, False),
        (LEGACY, "2d", "3d", 0 + 3 + 2 + 2, True),  # exactly 7 days: the lapse can win
        (LEGACY, "15m", "7d", None, True),  # the warehouse alone takes a week
    ],
)
def test_the_longest_wait_from_charge_to_confirmation(
    base: dict[str, Any], poll: str, ships: str, total: int | None, lapses: bool
) -> None:
    p = policy(base, poll_interval=poll, ships_within=ships)
    if total is not None:
        assert longest_wait(p).total == total * DAY
    assert lapse_possible(p) is lapses
    assert any(f.code == "HZ015" for f in find(p)) is lapses


def test_the_issue_case_is_no_longer_proven_and_its_fix_is() -> None:
    report = houzzflow.validate({**SELLER_2021, "poll_interval": "4d"})
    assert report.verdict == "counterexample"
    (hz015,) = [d for d in report.diagnostics if d.code == "HZ015"]
    assert "up to 15d between its charge and CartRover's shipment confirmation" in hz015.message
    assert hz015.fix == "set poll_interval: 1d"
    assert hz015.location is not None and hz015.location.line == 4  # poll_interval
    fixed = houzzflow.validate({**SELLER_2021, "poll_interval": "1d"})
    assert fixed.verdict == "proven"


def test_no_poll_interval_helps_a_warehouse_slower_than_a_week() -> None:
    p = policy(LEGACY, ships_within="7d")
    assert longest_safe_poll_interval(p) is None
    assert nearest_safe(p) is None
    report = houzzflow.validate(p.to_file_dict())
    assert report.verdict == "counterexample"


def test_the_fix_is_the_longest_round_interval_that_avoids_the_lapse() -> None:
    for poll in ("2d", "30d", "36h"):
        p = policy(SELLER_2021, poll_interval=poll)
        interval = longest_safe_poll_interval(p)
        assert interval is not None and not lapse_possible(p.with_settings(poll_interval=interval))
        longer = [i for i in (interval * 2, interval + DAY) if i <= p.poll_interval]
        assert all(lapse_possible(p.with_settings(poll_interval=i)) for i in longer)
        assert format_duration(interval) == "1d"


def test_the_simulator_agrees_a_4_day_poll_loses_orders_to_the_lapse() -> None:
    """The issue's run: 20 days, a warehouse shipping within hours, polls every 4 days."""
    scenario: dict[str, Any] = {
        "name": "4-day-poll",
        "seed": 3,
        "duration": "20d",
        "policy": {**SELLER_2021, "poll_interval": "4d"},
        "world": {
            "orders": {"count": 30, "place_within": 0.3},
            "backend": {"ship_delay": ["1h", "2h"]},
        },
    }
    slow = houzzflow.run(scenario)
    held = slow.counts["held"] + slow.counts["unconfirmed"] + slow.counts["lost"]
    assert held > 0
    fixed = houzzflow.run(scenario, overrides={"policy.poll_interval": "1d"})
    assert fixed.counts["held"] == fixed.counts["unconfirmed"] == fixed.counts["lost"] == 0


@pytest.mark.parametrize(
    "program,era", [("seller", "legacy"), ("seller", "2021"), ("vendor", "2021")]
)
def test_a_cancellation_a_lapse_or_a_decline_is_never_progress(program: str, era: str) -> None:
    """reached(): only forward progress counts after a write whose outcome is unknown."""
    table = houzz_table(program, era)
    for target in ("InProduction", "Charged", "Shipped"):
        assert not table.reached(target, "Cancelled")
        assert not table.reached(target, "FailedToCharge") or target == "FailedToCharge"
    if program == "seller" and era == "legacy":
        assert table.reached("InProduction", "Charged")
        assert not table.reached("Charged", "InProduction")  # a lapse went back


def test_orders_charged_before_go_live_get_a_limit_for_earliest_order_date() -> None:
    def hz016(data: dict[str, Any]) -> str:
        found = [f.message for f in find(resolved(data)) if f.code == "HZ016"]
        return found[0] if found else ""

    assert "more than 3 days 23 hours before it" in hz016(SELLER_2021)
    assert "set Earliest Order Date to no more than 3 days before go-live" in hz016(SELLER_2021)
    with_date = {**SELLER_2021, "earliest_order_date": "2025-12-01"}
    assert "keep Earliest Order Date (2025-12-01) within 3 days of go-live" in hz016(with_date)
    assert hz016(LEGACY) == ""  # nobody charges an order before CartRover loads it
    assert hz016(SAFE_SETUPS["seller-legacy-manual-charge"])  # staff charge before loading


@pytest.mark.parametrize(("within", "lapses"), [("3d", False), ("30d", True)])
def test_the_simulator_agrees_on_the_backlog_limit(within: str, lapses: bool) -> None:
    scenario: dict[str, Any] = {
        "name": "backlog",
        "seed": 5,
        "duration": "4d",
        "policy": SELLER_2021,
        "world": {"orders": {"count": 20}, "backlog": {"count": 40, "within": within}},
    }
    result = houzzflow.run(scenario)
    harmed = sum(result.counts[k] for k in ("lost", "unpaid_shipped", "unconfirmed", "held"))
    assert (harmed > 0) is lapses


def test_a_run_starts_on_go_live_not_before_earliest_order_date() -> None:
    """A run's second 0 is go-live: by default 2026-01-01, or the policy's Earliest Order Date
    when later, so a cart going live next year does not skip every order by design."""
    vendor = {"connection_type": "vendor", "earliest_order_date": "2027-03-01"}
    scenario: dict[str, Any] = {"name": "go-live", "duration": "1d", "policy": vendor,
                                "world": {"orders": {"count": 20}}}  # fmt: skip
    live = houzzflow.run(scenario)
    assert live.counts["skipped_by_design"] == 0 and live.counts["confirmed"] == 20
    early = houzzflow.run({**scenario, "start": "2027-02-01"})  # a month before the date
    assert early.counts["skipped_by_design"] == 20


def test_a_lapse_comes_before_loading_only_when_a_poll_outlasts_the_authorization() -> None:
    """The counterexample is one the clock allows: with polls every 4 days CartRover loads a
    charged order before its authorization can lapse, so the lapse comes after; with polls
    every 7 days it can come first."""

    def story(poll: str) -> list[str]:
        report = houzzflow.validate({**SELLER_2021, "poll_interval": poll}).to_json()
        return [step["text"] for step in report["proof"]["counterexample"]["timeline"]]

    def first(lines: list[str], words: str) -> int:
        return next(i for i, line in enumerate(lines) if words in line)

    four_days = story("4d")
    assert first(four_days, "CartRover loaded it") < first(four_days, "authorization lapse")
    seven_days = story("7d")
    assert first(seven_days, "authorization lapse") < first(seven_days, "poll 1")
