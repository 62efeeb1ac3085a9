"""CartRover's rules after a fault (houzzflow.engine.recovery), one by one.

The connector runtime and the explorer both call these; the agreement tests in
test_explorer.py, test_connector.py and test_central_property.py check the two callers
together, these check each rule on its own, so dropping one fails here by name.
"""

from __future__ import annotations

import pytest

from houzzflow.engine.decisions import AfterDecline, after_refused_charge, maybe_declined
from houzzflow.engine.recovery import (
    BACKOFF_FIRST,
    BACKOFF_MAX,
    GIVE_UP_AFTER,
    SEND,
    WITHDRAW,
    Resume,
    backoff,
    gives_up,
    resume,
    warehouse_answer,
)
from houzzflow.engine.table import houzz_table

LEGACY_SELLER = houzz_table("seller", "legacy")


@pytest.mark.parametrize(
    ("step", "status", "target"),
    [
        ("Process", "InProduction", "InProduction"),  # CartRover's own write, reply lost
        ("Process", "Charged", "InProduction"),  # staff went further meanwhile
        ("Charge", "Charged", "Charged"),
        ("Ship", "Shipped", "Shipped"),
    ],
)
def test_a_step_whose_target_the_re_read_shows_counts_as_done(
    step: str, status: str, target: str
) -> None:
    assert resume(LEGACY_SELLER, step, status, target) is Resume.DONE


@pytest.mark.parametrize(
    ("step", "status", "target"),
    [
        ("Process", "New", "InProduction"),  # the failed call had no effect
        ("Charge", "InProduction", "Charged"),
        ("Charge", "FailedToCharge", "Charged"),  # a declined charge is not past Charge
        ("Charge", "Cancelled", "Charged"),  # nor is a cancellation (Cancel Download off)
        ("Process", "InProduction", ""),  # no target: never counted done
    ],
)
def test_a_step_the_re_read_does_not_show_done_is_called_again(
    step: str, status: str, target: str
) -> None:
    assert resume(LEGACY_SELLER, step, status, target) is Resume.RETRY


def test_a_cancellation_seen_in_the_re_read_wins_over_a_step_done() -> None:
    then = resume(LEGACY_SELLER, "Process", "Cancelled", "InProduction", cancelled=True)
    assert then is Resume.CANCEL_UNSENT
    assert resume(LEGACY_SELLER, "Charge", "Charged", "Charged", cancelled=True) is (
        Resume.CANCEL_UNSENT
    )


def test_a_send_whose_outcome_is_unknown_asks_the_warehouse_before_anything() -> None:
    assert resume(LEGACY_SELLER, SEND, "Charged", "", send_unknown=True) is Resume.ASK_WAREHOUSE
    then = resume(LEGACY_SELLER, SEND, "Cancelled", "", cancelled=True, send_unknown=True)
    assert then is Resume.ASK_WAREHOUSE  # cancelled or not: it may be there already


def test_a_send_known_not_to_have_got_through_is_sent_again_or_cancelled() -> None:
    # A send is never counted done by a Houzz re-read, whatever the status shows.
    assert resume(LEGACY_SELLER, SEND, "Charged", "Charged") is Resume.RETRY
    assert resume(LEGACY_SELLER, SEND, "Cancelled", "", cancelled=True) is Resume.CANCEL_UNSENT


@pytest.mark.parametrize(
    ("present", "cancelled", "then"),
    [
        (True, False, Resume.SENT),  # never send it twice
        (True, True, Resume.CANCEL_AT_BACKEND),
        (False, False, Resume.RETRY),
        (False, True, Resume.CANCEL_UNSENT),
    ],
)
def test_the_warehouse_answer_decides_a_send_whose_outcome_was_unknown(
    present: bool, cancelled: bool, then: Resume
) -> None:
    assert warehouse_answer(present, cancelled=cancelled) is then


def test_retries_back_off_from_a_minute_doubling_to_an_hour() -> None:
    waits = [backoff(tries) for tries in range(1, 9)]
    assert waits == [60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert (waits[0], waits[-1]) == (BACKOFF_FIRST, BACKOFF_MAX)
    assert backoff(1000) == BACKOFF_MAX


def test_a_rate_limit_waits_as_long_as_houzz_asked() -> None:
    assert backoff(1, retry_after=7200) == 7200
    assert backoff(1, retry_after=5) == BACKOFF_FIRST


def test_a_step_is_given_up_after_fifteen_days_of_failures() -> None:
    assert GIVE_UP_AFTER == 15 * 86400
    assert not gives_up(100, 100 + GIVE_UP_AFTER - 1)
    assert gives_up(100, 100 + GIVE_UP_AFTER)


# --- a declined card at CartRover's Charge (charge_decline: retry) --------------------------


@pytest.mark.parametrize(
    ("action", "seen", "maybe"),
    [
        ("Charge", "InProduction", True),  # allowed there: only the card can refuse it
        ("Charge", "New", False),  # Charge needs In Production: a plain refusal
        ("Process", "New", False),  # only a Charge meets a card
    ],
)
def test_only_a_charge_houzz_allows_may_have_met_a_declined_card(
    action: str, seen: str, maybe: bool
) -> None:
    assert maybe_declined(LEGACY_SELLER, action, seen) is maybe
    assert not maybe_declined(houzz_table("seller", "2021"), "Charge", seen)  # no such step


@pytest.mark.parametrize(
    ("status", "declined", "then"),
    [
        ("FailedToCharge", False, AfterDecline.WAIT),  # the decline shows: wait for the fix
        ("FailedToCharge", True, AfterDecline.WAIT),
        ("InProduction", False, AfterDecline.CHARGE),  # fixed before the re-read
        ("InProduction", True, AfterDecline.CHARGE),  # fixed: charge again
        ("Charged", True, AfterDecline.CHARGE),  # fixed and charged by hand: re-read says done
        ("Charged", False, AfterDecline.HOLD),  # never declined: someone charged it first
    ],
)
def test_the_re_read_after_a_refused_charge_says_wait_charge_again_or_hold(
    status: str, declined: bool, then: AfterDecline
) -> None:
    assert after_refused_charge(LEGACY_SELLER, status, declined=declined) is then


def test_a_withdrawal_under_way_keeps_asking_the_warehouse() -> None:
    """Cancelled in Houzz while the warehouse was being asked about an unknown send: the
    next poll must not record it unsent (the warehouse may have it and ship it)."""
    table = houzz_table("seller", "2021")
    answer = resume(table, WITHDRAW, "Cancelled", "", cancelled=True, send_unknown=False)
    assert answer is Resume.ASK_WAREHOUSE
