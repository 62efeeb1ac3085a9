"""What CartRover decides about one order it sees in a poll: pure functions over plain data.

The connector runtime (``houzzflow.engine.connector``) and the explorer both call these, so the
simulation and the proof share one definition of the connector's behaviour (XState's
lesson: a pure transition function beside the effectful runtime).
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

from houzzflow.engine.policy import LOADS, STATUS_NAMES, Policy
from houzzflow.engine.table import CANCELLED, FAILED_TO_CHARGE, Rejection, Table


class Decision(StrEnum):
    LOAD = "load"  # load it: run the Mark steps, then send it to the backend
    SKIP = "skip"  # not loaded now; recorded in the skipped log with the reason
    SKIP_BY_DESIGN = "skip-by-design"  # older than Earliest Order Date
    CANCEL_UNSENT = "cancel-unsent"  # loaded, not sent, now cancelled in Houzz
    CANCEL_AT_BACKEND = "cancel-at-backend"  # sent, now cancelled in Houzz
    NOTHING = "nothing"  # already handled


class Seen(NamedTuple):
    decision: Decision
    reason: str = ""


def decide(
    policy: Policy, houzz_status: str, connector_status: str | None, *, before_earliest: bool
) -> Seen:
    """CartRover's decision for an order in ``houzz_status`` seen in a poll.

    ``connector_status`` is None for an order CartRover has not loaded (deduplication is by
    Houzz order id: a loaded order is never loaded again).
    """
    if connector_status is None:
        if before_earliest:
            return Seen(Decision.SKIP_BY_DESIGN, "created before Earliest Order Date")
        if houzz_status == CANCELLED:
            return Seen(Decision.SKIP, "cancelled in Houzz before CartRover loaded it")
        if houzz_status in LOADS[policy.order_status]:
            return Seen(Decision.LOAD)
        return Seen(Decision.SKIP, skip_reason(policy, houzz_status))
    if houzz_status == CANCELLED and policy.cancel_download:
        if connector_status in ("New", "Error"):
            return Seen(Decision.CANCEL_UNSENT, "cancelled in Houzz before it was sent")
        if connector_status == "AtWMS":
            return Seen(Decision.CANCEL_AT_BACKEND, "cancelled in Houzz after it was sent")
    return Seen(Decision.NOTHING)


def skip_reason(policy: Policy, houzz_status: str) -> str:
    label = {"New": "New", "InProduction": "In Production", "FailedToCharge": "Failed to Charge"}
    return (
        f"status {label.get(houzz_status, houzz_status)} is not "
        f"{STATUS_NAMES[policy.order_status]} (Order Status)"
    )


def mark_steps(policy: Policy) -> tuple[str, ...]:
    """The Houzz actions CartRover performs after loading, in order."""
    steps = []
    if policy.mark_processed:
        steps.append("Process")
    if policy.mark_charged:
        steps.append("Charge")
    return tuple(steps)


class MarkOutcome(NamedTuple):
    state: str  # the Houzz status after the steps that succeeded
    rejection: Rejection | None  # the first refused step, if any


def apply_marks(table: Table, state: str, steps: tuple[str, ...]) -> MarkOutcome:
    """Run the Mark steps against the lifecycle table, stopping at the first refusal."""
    for step in steps:
        result = table.step(state, step, "connector")
        if isinstance(result, Rejection):
            return MarkOutcome(state, result)
        state = result
    return MarkOutcome(state, None)


def hold_reason(rejection: Rejection) -> str:
    """Why an order is held in Error, in CartRover's words."""
    setting = {"Process": "Mark Orders as Processed", "Charge": "Mark Orders as Charged"}
    step = setting.get(rejection.action, rejection.action)
    return f"{step} was rejected by Houzz: {rejection.reason}"


def reached(table: Table, target: str, current: str) -> bool:
    """True when an order now ``current`` has already reached ``target`` or gone past it.

    Used after a write whose outcome is unknown (a timeout, a transient error): CartRover
    re-reads the order and counts the step as done if someone (it, or staff meanwhile) made
    it happen. Only forward progress counts: a cancellation, a lapse or a declined charge is
    never "past" a step.
    """
    return table.reached(target, current)


def step_target(table: Table, step: str) -> str:
    """The Houzz status a Mark step leads to (Process: In Production, Charge: Charged)."""
    for (_, action), move in table.moves.items():
        if action == step:
            return move.dest
    return ""


class AfterDecline(StrEnum):
    """What CartRover does with a refused Charge once a poll has re-read the order
    (``charge_decline: retry``)."""

    WAIT = "wait"  # Failed to Charge: the card was declined; wait for the customer's fix
    CHARGE = "charge"  # the payment was fixed (or someone went on): Charge again, re-read first
    HOLD = "hold"  # never Failed to Charge: the refusal was not a decline, and stands


def maybe_declined(table: Table, action: str, status: str) -> bool:
    """Whether a refused ``action`` on an order CartRover saw ``status`` may be a declined
    card: a Charge from where Houzz allows it, so the only refusal left is the card's."""
    return action == "Charge" and status in table.sources.get(action, ())


def after_refused_charge(table: Table, status: str, *, declined: bool) -> AfterDecline:
    """A Charge refused as ``maybe_declined``; the re-read shows the order ``status``.
    ``declined``: an earlier re-read already showed it Failed to Charge."""
    if status == FAILED_TO_CHARGE:
        return AfterDecline.WAIT
    if declined or status in table.sources.get("Charge", ()):
        return AfterDecline.CHARGE
    return AfterDecline.HOLD
