"""The cyclic garbage collector paused while a run or a proof's search works.

Both allocate millions of short-lived objects (events and orders; states and successors)
and make no reference cycle worth chasing while they work, so the collector would only
re-scan every live object again and again: a third of a 100,000-order run, a tenth of an
explorer's search. It is paused for the work and put back as it was, whatever happens.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cycles_uncollected() -> Iterator[None]:
    """Pause the cyclic collector for the ``with`` block (nested or not); reference
    counting still frees everything that is not in a cycle."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
