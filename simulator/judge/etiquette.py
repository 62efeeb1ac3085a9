"""The wire etiquette a real Houzz expects of a client, checked over the calls it made.

Read from the harness's call log (``judge.calls``), one rule each:

* ``retry_after`` - no call while a ``Retry-After`` wait is running (429 / rate limit);
* ``paging`` - a listing reads every page once: no page skipped (a Start past the end of
  the page before, or a listing left before its last page) and none read twice in a row
  after a good answer;
* ``refused_loop`` - a write Houzz refused is not sent again unchanged, over and over;
* ``forbidden_write`` - no write on an order the connector last listed in a status where
  Houzz forbids that action (it could have known);
* ``poll_gap`` - with a poll interval configured, listings start no further apart than
  twice that interval (and the last one is no older than that).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from houzzflow.engine.table import Rejection, Table
from houzzflow.simulator.judge.calls import FAULT, OK, REFUSED, ApiCall
from houzzflow.simulator.kernel.timeline import clock_text
from houzzflow.simulator.kernel.words import plural

ETIQUETTE: dict[str, str] = {
    "retry_after": "waits out Retry-After",
    "paging": "reads every page once",
    "refused_loop": "does not repeat a refused write",
    "forbidden_write": "writes only what the order's status allows",
    "poll_gap": "polls as often as configured",
}

LOOP = 3  # the same refused write this many times is a loop
GAP_FACTOR = 2  # listings may start up to this many poll intervals apart


@dataclass(frozen=True, slots=True)
class Breach:
    """One breach of the wire etiquette: the rule, when, in plain words, and its order."""

    rule: str  # a key of ETIQUETTE
    time: int
    message: str
    order_id: str = ""

    def render(self) -> str:
        return f"{clock_text(self.time)}  {self.message}"


def check_etiquette(
    calls: Iterable[ApiCall], table: Table, *, now: int, poll_interval: int | None = None
) -> dict[str, list[Breach]]:
    """Every breach, rule by rule (each rule's list is empty when it held)."""
    made = list(calls)
    return {
        "retry_after": _retry_after(made),
        "paging": _paging(made),
        "refused_loop": _refused_loops(made),
        "forbidden_write": _forbidden_writes(made, table),
        "poll_gap": [] if poll_interval is None else _poll_gaps(made, now, poll_interval),
    }


def _retry_after(calls: list[ApiCall]) -> list[Breach]:
    found: list[Breach] = []
    until, asked, during = 0, 0, 0
    first: ApiCall | None = None
    for call in calls:
        if call.time < until:
            during += 1
            first = first or call
        if call.outcome == FAULT and call.retry_after > 0:
            if during and first is not None:
                found.append(_too_soon(first, asked, until, during))
            until, asked, during, first = call.time + call.retry_after, call.time, 0, None
    if during and first is not None:
        found.append(_too_soon(first, asked, until, during))
    return found


def _too_soon(first: ApiCall, asked: int, until: int, during: int) -> Breach:
    wait = until - asked
    return Breach(
        "retry_after",
        first.time,
        f"{plural(during, 'call')} during a {wait} s Retry-After wait that began "
        f"{clock_text(asked)}: the first ({first.method}) {first.time - asked} s into it",
        first.order_id,
    )


def _paging(calls: list[ApiCall]) -> list[Breach]:
    found: list[Breach] = []
    key: tuple[str, int, int, int] | None = None
    expected = total = 0
    last_start: int | None = None
    last_ok = False
    for call in calls:
        query = call.query
        if call.method != "getOrders" or query is None:
            continue
        this = (query.status, query.start_time, query.end_time, query.count)
        if query.start == 0:
            if key is not None and last_ok and expected < total:
                found.append(
                    Breach(
                        "paging",
                        call.time,
                        f"began a new listing before reading orders {expected + 1} to "
                        f"{total} of the last one (Start={expected} was never asked for)",
                    )
                )
            key = this
        elif key is None or this != key:
            found.append(
                Breach(
                    "paging",
                    call.time,
                    f"asked for Start={query.start} without reading the pages before it",
                )
            )
            key = this
        elif query.start > expected:
            found.append(
                Breach(
                    "paging",
                    call.time,
                    f"skipped from Start={expected} to Start={query.start}: orders "
                    f"{expected + 1} to {query.start} of {total} were never read",
                )
            )
        elif last_ok and query.start == last_start:
            found.append(
                Breach(
                    "paging",
                    call.time,
                    f"read the page at Start={query.start} twice in a row",
                )
            )
        if call.outcome == OK:
            expected, total = query.start + query.count, call.total
        last_start, last_ok = query.start, call.outcome == OK
    return found


def _refused_loops(calls: list[ApiCall]) -> list[Breach]:
    found: list[Breach] = []
    refusals: dict[tuple[str, str, tuple[tuple[str, str], ...]], int] = {}
    for call in calls:
        if call.method != "updateOrder":
            continue
        write = call.write
        if call.outcome != REFUSED:
            refusals.pop(write, None)
            continue
        refusals[write] = refusals.get(write, 0) + 1
        if refusals[write] == LOOP:
            found.append(
                Breach(
                    "refused_loop",
                    call.time,
                    f"sent {call.action} on order {call.order_id} {LOOP} times unchanged, "
                    f"refused each time ({call.reason})",
                    call.order_id,
                )
            )
    return found


def _forbidden_writes(calls: list[ApiCall], table: Table) -> list[Breach]:
    found: list[Breach] = []
    # order id -> the status the connector last listed it in (or made it, by a write)
    seen: dict[str, str] = {}
    for call in calls:
        if call.method == "getOrders" and call.outcome == OK:
            seen.update(call.listed)
            continue
        if call.method != "updateOrder" or call.order_id not in seen:
            continue
        listed = seen[call.order_id]
        step = table.step(listed, call.action, "connector")
        if call.outcome == OK and not isinstance(step, Rejection):
            seen[call.order_id] = step  # it knows what its own accepted write did
        elif call.outcome == REFUSED and isinstance(step, Rejection):
            here = table.labels.get(listed, listed)
            found.append(
                Breach(
                    "forbidden_write",
                    call.time,
                    f"sent {call.action} on order {call.order_id}, which it had listed as "
                    f"{here}: Houzz forbids it there ({step.reason})",
                    call.order_id,
                )
            )
    return found


def _poll_gaps(calls: list[ApiCall], now: int, interval: int) -> list[Breach]:
    found: list[Breach] = []
    allowed = GAP_FACTOR * interval
    starts = [c.time for c in calls if c.method == "getOrders" and c.query and c.query.start == 0]
    previous = 0
    for time in starts:
        if time - previous > allowed:
            found.append(_gap(time, previous, interval, "listed orders"))
        previous = time
    if now - previous > allowed:
        found.append(_gap(now, previous, interval, "was judged"))
    return found


def _gap(time: int, previous: int, interval: int, what: str) -> Breach:
    return Breach(
        "poll_gap",
        time,
        f"{what} {time - previous} s after its previous listing ({clock_text(previous)}); "
        f"the poll interval is {interval} s (at most {GAP_FACTOR} intervals allowed)",
    )
