"""Houzz order ids: sixteen digits in four dash-separated groups, like ``1656-9927-9120-7805``."""

from __future__ import annotations

import random
import re
from collections.abc import Container

_SHAPE = re.compile(r"\d{4}-\d{4}-\d{4}-\d{4}")
_LOWEST = 1_000_000_000_000_000
_SPAN = 9_000_000_000_000_000  # sixteen digits, no leading zero


def new_order_id(rng: random.Random, taken: Container[str]) -> str:
    """A fresh order id drawn from ``rng`` that is not in ``taken``."""
    while True:
        # getrandbits is a single C call; randrange would cost several Python frames.
        digits = str(_LOWEST + rng.getrandbits(63) % _SPAN)
        order_id = "-".join((digits[:4], digits[4:8], digits[8:12], digits[12:]))
        if order_id not in taken:
            return order_id


def is_order_id(text: str) -> bool:
    """Whether ``text`` has the shape of a Houzz order id."""
    return _SHAPE.fullmatch(text) is not None


def order_number(order_id: str) -> int:
    """The id's sixteen digits as one number (a stable seed for the order's details)."""
    return int(order_id.replace("-", ""))
