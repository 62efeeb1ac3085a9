"""Independent random streams: one per component of a simulated world, from the seed.

Every random choice of a run comes from the scenario's ``seed``, but no two components
share a stream, so batching, reordering or switching off one component cannot move another
component's draws. ``COMPONENTS`` names each stream and says how it is drawn:

* **sequential**: a ``random.Random`` of its own, seeded with ``derive(seed, name)``. Used
  where the order of the draws is the component's own (the arrivals, drawn in bulk when the
  stream is scheduled; order ids, in the order orders are placed).
* **keyed**: no state at all. The n-th draw about a thing (an order id) is a fixed function
  of (seed, component, thing, n): ``crc32`` of the id, started from the component's seed,
  then SplitMix64's finaliser over (that, n). Used where the component is called in an order
  other components decide (the warehouse, once per send and per shipment; staff, per status
  change; a charge, per attempt): however CartRover orders its calls across orders, each
  order gets the same draws. ``n`` is something the order itself counts (its history's
  length, the warehouse's own draw slots), never a position in a global sequence.

Cost (CPython 3.11, measured): a sequential draw is ``random()``, about 0.07 us; a keyed
draw about 0.6 us (one crc32 of the id, three multiplications), against 5 to 6 us for a
fresh ``random.Random`` per order. A keyed draw is made only where the order of calls is
not the component's own.

Not Python's ``hash()`` (randomized per process) and no ``random.Random(str)`` (SHA-512 on
every call): both would make a run slower or not reproducible.
"""

from __future__ import annotations

import copy
import random
from typing import Final, Literal
from zlib import crc32

Kind = Literal["sequential", "keyed"]

# Every stream a simulated world draws from, with how it is drawn and what it decides.
# A component's stream depends only on the seed and its name here.
COMPONENTS: Final[dict[str, tuple[Kind, str]]] = {
    "arrivals": ("sequential", "when each order is placed and how many items it has"),
    "backlog": ("sequential", "when each order already on Houzz at the start was placed"),
    "order ids": ("sequential", "Houzz's order ids, in the order orders are placed"),
    "customer cancels": ("sequential", "whether and when a customer cancels, as placed"),
    "payment fixes": ("keyed", "whether and when a customer fixes a declined payment"),
    "charges": ("keyed", "whether a charge fails (the auto-charge, a declined Charge)"),
    "staff": ("keyed", "whether and when staff act by hand on an order's change"),
    "warehouse": ("keyed", "ship delay, packages, tracking numbers, shipping methods"),
    "resolver": ("keyed", "whether and when a person resolves a held order"),
    # Seeded by ``world.faults.seed``, not the run's seed (kernel.faults): per kind, so
    # adding one kind of fault never moves another's. A listing's faults, page drifts and
    # crashes are drawn in call order from the streams they always had (their calls are
    # CartRover's own, in its own order).
    "fault error": ("keyed", "whether a call about an order fails before any effect"),
    "fault rate_limit": ("keyed", "whether a call about an order is rate limited"),
    "fault reply_lost": ("keyed", "whether the reply to a write about an order is lost"),
}

_MASK: Final = (1 << 64) - 1
_GOLDEN: Final = 0x9E3779B97F4A7C15
_UNIT: Final = 2.0**-53


def _mix(x: int) -> int:
    """SplitMix64's finaliser: a bijection of 64-bit numbers that scatters every bit."""
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9 & _MASK
    x = (x ^ (x >> 27)) * 0x94D049BB133111EB & _MASK
    return x ^ (x >> 31)


def derive(seed: int, name: str) -> int:
    """The 64-bit seed of stream ``name`` for a run seeded ``seed`` (any int)."""
    return _mix((seed & _MASK) ^ _mix(crc32(name.encode()) * _GOLDEN & _MASK))


def unit(key: int, n: int) -> float:
    """The n-th keyed draw for ``key`` (from ``Keyed.key``): a float in [0, 1), the top 53
    bits of ``bits(key, n)`` (``_mix`` inlined: a hot path)."""
    x = (key + n * _GOLDEN) & _MASK
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9 & _MASK
    x = (x ^ (x >> 27)) * 0x94D049BB133111EB & _MASK
    return ((x ^ (x >> 31)) >> 11) * _UNIT


def bits(key: int, n: int) -> int:
    """The n-th keyed draw for ``key`` as 64 random bits (``_mix``, inlined: a hot path)."""
    x = (key + n * _GOLDEN) & _MASK
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9 & _MASK
    x = (x ^ (x >> 27)) * 0x94D049BB133111EB & _MASK
    return x ^ (x >> 31)


class Keyed:
    """A keyed stream: ``key(thing)`` once, then ``unit(key, n)`` / ``bits(key, n)``."""

    __slots__ = ("_crc", "base")

    def __init__(self, base: int) -> None:
        self.base = base & _MASK
        self._crc = base & 0xFFFFFFFF

    def key(self, thing: str) -> int:
        """The key of one thing (an order id) in this stream."""
        return (crc32(thing.encode(), self._crc) << 32) ^ self.base

    def draw(self, thing: str, n: int) -> float:
        """``unit(key(thing), n)`` in one call."""
        return unit(self.key(thing), n)


class Streams:
    """The streams of one run seeded ``seed`` (see ``COMPONENTS``)."""

    __slots__ = ("seed",)

    def __init__(self, seed: int) -> None:
        self.seed = seed

    @classmethod
    def following(cls, rng: random.Random) -> Streams:
        """Streams seeded by the next 63 bits ``rng`` would give, read from a copy: a caller
        that hands in one ``random.Random`` keeps its own sequence untouched."""
        return cls(copy.copy(rng).getrandbits(63))

    def _derive(self, component: str, kind: Kind) -> int:
        known = COMPONENTS.get(component)
        if known is None or known[0] != kind:
            raise ValueError(f"no {kind} random stream is named {component!r}")
        return derive(self.seed, component)

    def sequence(self, component: str) -> random.Random:
        """The sequential stream of ``component``."""
        return random.Random(self._derive(component, "sequential"))

    def keyed(self, component: str) -> Keyed:
        """The keyed stream of ``component``."""
        return Keyed(self._derive(component, "keyed"))
