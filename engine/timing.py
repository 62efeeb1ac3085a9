"""Where time decides what can happen: can an authorization lapse before CartRover is done?

The proof is untimed: polls, staff, customers and Houzz act in any order. That is sound as
long as no deadline can pass, and Houzz has one: a charge authorizes the card for 7 days,
and an order not shipped by then falls back to In Production, where CartRover's shipment
confirmation is refused (and a send would be unpaid). Whether that can happen depends on
the settings, so it is derived here, once, for the rules (HZ015) and the explorer (which
then explores lapses) alike.

The longest an order can wait between its charge and CartRover's shipment confirmation:
- from the charge to CartRover's send: up to one poll interval when the order is charged
  before CartRover loads it (Houzz charges it, or staff do, and CartRover loads Charged
  orders); nothing when CartRover charges it itself, as it sends at once;
- from the send to the shipment: the warehouse's bound (``assume.warehouse.ships_within``);
- from the shipment to the confirmation: up to one poll interval (CartRover collects
  shipments when it polls);
- one more poll interval for each retry after an API fault within the proof's budget (a
  failed write waits for the next poll to re-read the order), and at least one, so that the
  rules and a proof without faults keep a margin.
"""

from __future__ import annotations

from typing import NamedTuple

from houzzflow.engine.machine import default_machine
from houzzflow.engine.policy import LOADS, Policy, format_duration

CHARGED = "Charged"
# Poll intervals a fix may suggest, longest first (a merchant picks a round number).
ROUND_INTERVALS = (
    7 * 86400,
    4 * 86400,
    3 * 86400,
    2 * 86400,
    86400,
    12 * 3600,
    6 * 3600,
    4 * 3600,
    2 * 3600,
    3600,
    1800,
    900,
    300,
)


class Wait(NamedTuple):
    """The longest wait from an order's charge to its shipment confirmation, by part."""

    to_send: int
    to_ship: int
    to_confirm: int
    retries: int

    @property
    def total(self) -> int:
        return self.to_send + self.to_ship + self.to_confirm + self.retries

    def words(self) -> str:
        parts = []
        if self.to_send:
            parts.append(f"up to {format_duration(self.to_send)} until CartRover loads it")
        parts.append(f"the warehouse's {format_duration(self.to_ship)}")
        parts.append(f"up to {format_duration(self.to_confirm)} until the next poll confirms it")
        if self.retries:
            parts.append(f"{format_duration(self.retries)} for a retry after an API fault")
        return ", ".join(parts)


def authorization() -> int:
    """How long a charge authorizes the card for (machine.yaml ``timing.authorization``)."""
    return default_machine().timing.authorization


def longest_wait(policy: Policy, *, faults: int = 1) -> Wait:
    """The longest an order can wait from its charge to CartRover's shipment confirmation."""
    poll = policy.poll_interval
    charged_before_load = CHARGED in LOADS[policy.order_status]
    return Wait(
        to_send=poll if charged_before_load else 0,
        to_ship=policy.ships_within,
        to_confirm=poll,
        retries=poll * max(1, faults),
    )


def lapse_possible(policy: Policy, *, faults: int = 1) -> bool:
    """True when an authorization can lapse before CartRover confirms the shipment."""
    return longest_wait(policy, faults=faults).total >= authorization()


def lapse_before_load_possible(policy: Policy) -> bool:
    """True when an order charged before CartRover loads it (by Houzz, or staff) can wait so
    long for CartRover's next poll that its authorization lapses first. Otherwise a lapse can
    only come after CartRover loaded the order, which is where the proof lets it happen."""
    charged_by_others = policy.charges_itself or policy.staff_charge != "never"
    return (
        charged_by_others
        and CHARGED in LOADS[policy.order_status]
        and policy.poll_interval >= authorization()
    )


def longest_safe_poll_interval(policy: Policy, *, faults: int = 1) -> int | None:
    """The longest round poll interval under which no authorization can lapse (None when
    none is short enough: the warehouse alone takes too long)."""
    for interval in ROUND_INTERVALS:
        trial = policy.with_settings(poll_interval=interval)
        if interval <= policy.poll_interval and not lapse_possible(trial, faults=faults):
            return interval
    return None


def lapse_free_backlog(policy: Policy, *, faults: int = 1) -> int | None:
    """How long before go-live an order may have been charged and still be confirmed before
    its authorization lapses, for a cart whose first download loads orders charged before
    go-live (None when no such order loads, or when lapses threaten every order anyway)."""
    charged_by_others = policy.charges_itself or policy.staff_charge != "never"
    if not charged_by_others or CHARGED not in LOADS[policy.order_status]:
        return None
    if lapse_possible(policy, faults=faults):
        return None
    return authorization() - longest_wait(policy, faults=faults).total
