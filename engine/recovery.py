"""What CartRover does after a fault: pure functions over plain data.

A write whose outcome is unknown is retried only after the order is re-read; the re-read
counts the step as done if the order got there (``reached``); a send whose reply was lost
asks the warehouse before sending again; an order cancelled in Houzz meanwhile is cancelled
instead; retries back off and give up. The connector runtime (``houzzflow.engine.connector``)
and the explorer both call these, so the simulation and the proof share one model of
recovery, as they share ``houzzflow.engine.decisions`` for what a poll decides.
"""

from __future__ import annotations

from enum import StrEnum

from houzzflow.engine.decisions import reached
from houzzflow.engine.table import Table

SEND = "Send"  # the send to the warehouse: a pipeline step, not a Houzz write
WITHDRAW = "Withdraw"  # cancelled in Houzz while a send's outcome is unknown
BACKOFF_FIRST = 60
BACKOFF_MAX = 3600  # "retried hourly"
GIVE_UP_AFTER = 15 * 86400  # "for about 15 days"


class Resume(StrEnum):
    """What CartRover does next with a step of a pipeline a fault interrupted."""

    RETRY = "retry"  # call the step (again)
    DONE = "done"  # the re-read shows the step's target reached: count it done, go on
    ASK_WAREHOUSE = "ask-warehouse"  # a send's outcome is unknown: ask ``has_order`` first
    SENT = "sent"  # the warehouse has it: an earlier send got through
    CANCEL_UNSENT = "cancel-unsent"  # cancelled in Houzz before it was sent: send nothing
    CANCEL_AT_BACKEND = "cancel-at-backend"  # cancelled in Houzz, but the warehouse has it


def resume(
    table: Table,
    step: str,
    status: str,
    target: str,
    *,
    cancelled: bool = False,
    send_unknown: bool = False,
) -> Resume:
    """What to do with ``step`` of an interrupted pipeline once the order was re-read.

    Once a fault interrupted a pipeline, every later step comes here before its call, not
    only the one that failed: someone (CartRover's own lost write, or staff meanwhile) may
    have done it, and a strict Mark step called again would be refused.

    ``status`` is the re-read Houzz status and ``target`` the status the step leads to ("":
    none, so never counted done); ``cancelled``: the re-read shows it cancelled with Order
    Cancel Download on (``decide`` says ``CANCEL_UNSENT``); ``send_unknown``: a send whose
    reply was lost, or that was in flight at a crash.
    """
    if step == WITHDRAW:
        # The warehouse was being asked whether an unknown send got through; until it
        # answers, the order may be there: never give up on it as unsent.
        return Resume.ASK_WAREHOUSE
    if step == SEND:
        if send_unknown:
            return Resume.ASK_WAREHOUSE  # before anything else: sending twice is worse
        return Resume.CANCEL_UNSENT if cancelled else Resume.RETRY
    if cancelled:
        return Resume.CANCEL_UNSENT
    if reached(table, target, status):
        return Resume.DONE
    return Resume.RETRY


def warehouse_answer(present: bool, *, cancelled: bool) -> Resume:
    """After asking the warehouse whether it has an order whose send's outcome was unknown.

    ``cancelled``: cancelled in Houzz meanwhile (with Order Cancel Download on).
    """
    if present:
        return Resume.CANCEL_AT_BACKEND if cancelled else Resume.SENT
    return Resume.CANCEL_UNSENT if cancelled else Resume.RETRY


def backoff(tries: int, retry_after: int = 0) -> int:
    """Seconds to wait before try ``tries + 1``: 60 s doubling to an hour, or what Houzz
    asked for (a rate limit's ``retry_after``) if that is longer."""
    wait = BACKOFF_FIRST << min(tries - 1, 10)
    return max(min(wait, BACKOFF_MAX), retry_after, 1)


def gives_up(since: int, now: int) -> bool:
    """Whether a step failing since ``since`` is given up at ``now`` (and held in Error)."""
    return now - since >= GIVE_UP_AFTER
