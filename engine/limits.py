"""The stated limit of every number a user can give, in one place.

Scenario files, ``--set``, policies, CLI options, admin requests and Houzz API parameters all
check against these; the JSON Schema shows them (``maximum``) and README.md lists them. A
limit is where a bigger number stops meaning anything for a pre-go-live check and starts to
risk a run that exhausts memory or never ends; going past one is a located error, never a
hang. ``Count``, ``Amount`` and ``Seed`` are the strict field types: a boolean is not a count,
``1.5`` is not a count, and ``.inf`` is not a rate.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

DAY = 86400

MAX_ORDERS = 1_000_000  # orders one run places in all: count, rate, burst and backlog together
MAX_RATE_PER_HOUR = 100_000  # orders an hour (a Poisson rate)
MAX_ITEMS = 100  # items in one order
MAX_PACKAGES = 100  # packages in one shipment
MAX_RUN = 365 * DAY  # a scenario's duration
MAX_DELAY = 365 * DAY  # any delay, window or range in a world (ship_delay, within, ...)
MAX_DURATION = 10 * 365 * DAY  # any duration anywhere, before a field's own limit
MAX_DURATION_DIGITS = 12  # digits in a duration or a count read from text
MAX_SEED = 2**63 - 1  # a seed (random generators take any int; a seed is an id, not a size)
MAX_PAGE_SIZE = 10_000  # orders in one page of getOrders, simulated or served
MAX_RETRY_AFTER = DAY  # seconds a rate-limited call is told to wait
MAX_CALL_NUMBER = 1_000_000  # a call's number in fail_calls, crash_every_polls
MAX_LISTED_CALLS = 10_000  # entries in fail_calls
MAX_FAULT_RULES = 1_000  # fault rules armed at once on a served fake (each call checks all)
MAX_FAULT_MESSAGE = 1_000  # characters of a fault rule's error message
MAX_POLLS = 1_000_000  # polls in one run: (duration + drain) / poll_interval
MAX_ADMIN_ORDERS = 10_000  # orders one admin request places
MAX_ADVANCE = 365 * DAY  # seconds one admin clock advance moves


def Count(limit: int, low: int = 0) -> object:
    """A whole number from ``low`` to ``limit`` (strict: not a bool, a float or a string)."""
    return Field(strict=True, ge=low, le=limit)


def Amount(limit: float, low: float = 0.0) -> object:
    """A finite number from ``low`` to ``limit`` (an int is fine; a bool or ``.inf`` is not)."""
    return Field(strict=True, ge=low, le=limit, allow_inf_nan=False)


Seed = Annotated[int, Field(strict=True, ge=0, le=MAX_SEED)]
Probability = Annotated[float, Field(strict=True, ge=0.0, le=1.0, allow_inf_nan=False)]


def whole(value: object, limit: int, low: int = 0) -> bool:
    """Whether ``value`` is an int (not a bool) from ``low`` to ``limit``."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= limit
