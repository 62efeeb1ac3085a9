"""Tracking numbers kept compact: UPS-style numbers (1Z and 16 hex digits) as 64-bit ints.

A run keeps every shipped order's tracking numbers to its end, in the warehouse and in
Houzz; as text they take 70 to 110 bytes an order, packed in one int 40 to 56.
"""

from __future__ import annotations

# 1Z and 16 upper-case hex digits (%-formatting is the fastest way to write them).
UPS_TRACKING = "1Z%016X"
NUMBER_BITS = 64
_NUMBER_MASK = (1 << NUMBER_BITS) - 1
_UPS_LENGTH = 18


def pack_tracking(text: str) -> int | str:
    """Comma-joined tracking numbers packed in one int (a leading 1 bit, then each number's
    64 bits, first number first) when every one is UPS-style, else ``text`` itself."""
    if len(text) == _UPS_LENGTH:  # one number: the common case
        return _pack_one(text)
    if not text:
        return text
    packed = 1
    for number in text.split(","):
        if len(number) != _UPS_LENGTH or number[:2] != "1Z":
            return text
        try:
            value = int(number[2:], 16)
        except ValueError:
            return text
        if UPS_TRACKING % value != number:  # lower case, "_" or a sign: kept as written
            return text
        packed = (packed << NUMBER_BITS) | value
    return packed


def _pack_one(text: str) -> int | str:
    if text[:2] != "1Z":
        return text
    try:
        value = int(text[2:], 16)
    except ValueError:
        return text
    return (1 << NUMBER_BITS) | value if UPS_TRACKING % value == text else text


def unpack_tracking(packed: int | str) -> str:
    """The comma-joined tracking numbers ``pack_tracking`` was given."""
    if isinstance(packed, str):
        return packed
    if packed >> NUMBER_BITS == 1:  # one number
        return UPS_TRACKING % (packed & _NUMBER_MASK)
    numbers = []
    while packed > 1:
        numbers.append(UPS_TRACKING % (packed & _NUMBER_MASK))
        packed >>= NUMBER_BITS
    numbers.reverse()
    return ",".join(numbers)
