"""Tracking numbers kept compact: UPS-style numbers (1Z and 16 hex digits) as 64-bit ints.

A run keeps every shipped order's tracking numbers to its end, in the warehouse and in
Houzz; as text they take 70 to 110 bytes an order, packed in one int 40 to 56. Packing is a
few C calls (a pattern match, then one int read in hex), not a loop over the numbers.
"""

from __future__ import annotations

import re

# 1Z and 16 upper-case hex digits (%-formatting is the fastest way to write them).
UPS_TRACKING = "1Z%016X"
NUMBER_BITS = 64
_NUMBER_MASK = (1 << NUMBER_BITS) - 1
_UPS_NUMBERS = re.compile(r"1Z[0-9A-F]{16}(?:,1Z[0-9A-F]{16})*")


def pack_tracking(text: str) -> int | str:
    """Comma-joined tracking numbers packed in one int when every one is UPS-style, else
    ``text`` itself. The int is a leading 1 bit, then each number's 64 bits, first number
    first: in hex, "1" and the numbers' digits one after the other."""
    if _UPS_NUMBERS.fullmatch(text) is None:
        return text
    return int("1" + text.replace(",1Z", "")[2:], 16)


def ups_numbers(text: str) -> list[int] | None:
    """The 64-bit values of comma-joined tracking numbers when every one is UPS-style,
    else None."""
    if _UPS_NUMBERS.fullmatch(text) is None:
        return None
    if len(text) == 18:  # one number: the common case
        return [int(text[2:], 16)]
    return [int(number[2:], 16) for number in text.split(",")]


def unpack_tracking(packed: int | str) -> str:
    """The comma-joined tracking numbers ``pack_tracking`` was given."""
    if isinstance(packed, str):
        return packed
    if packed >> NUMBER_BITS == 1:  # one number: the common case
        return UPS_TRACKING % (packed & _NUMBER_MASK)
    numbers = []
    while packed > 1:
        numbers.append(UPS_TRACKING % (packed & _NUMBER_MASK))
        packed >>= NUMBER_BITS
    numbers.reverse()
    return ",".join(numbers)
