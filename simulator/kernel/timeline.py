"""The timeline: who did what to which order, when, in Houzz's and CartRover's terms.

Every actor (customer, Houzz, staff, connector, backend, faults) appends ``Happening``
records to one ``Timeline``; invariant violations and counterexamples are printed from it.

A timeline may ``watch`` only some orders: a run of 100,000 orders cannot keep a record per
event per order within its memory budget, so the runner first runs with no timeline at all
and, when an invariant fails, runs the same seed again watching just the orders it reports.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from houzzflow.engine.table import connector_table, houzz_table


@dataclass(frozen=True, slots=True)
class Happening:
    time: int  # simulated seconds since the start of the run
    order_id: str  # "" for events about no single order (a poll, a crash)
    actor: str  # customer | houzz | staff | connector | backend | fault
    action: str  # e.g. Process, Charge, Poll, Load, Skip, Send, Hold, Ship, Cancel
    detail: str = ""  # plain words: the reason, the rejection, the tracking numbers
    houzz_status: str = ""  # Houzz status after it ("" when unchanged or unknown)
    connector_status: str = ""  # CartRover status after it ("" when unchanged or unknown)


@dataclass
class Timeline:
    happenings: list[Happening] = field(default_factory=list)
    by_order: dict[str, list[Happening]] = field(default_factory=lambda: defaultdict(list))
    # None: keep everything; otherwise keep only these orders' happenings (and no global ones).
    watch: Collection[str] | None = None

    def add(self, happening: Happening) -> None:
        watch = self.watch
        if watch is not None and happening.order_id not in watch:
            return
        self.happenings.append(happening)
        if happening.order_id:
            self.by_order[happening.order_id].append(happening)

    def wants(self, order_id: str) -> bool:
        """Whether a happening about ``order_id`` would be kept (skip building it if not)."""
        return self.watch is None or order_id in self.watch

    def record(
        self,
        time: int,
        order_id: str,
        action: str,
        detail: str,
        houzz_status: str,
        connector_status: str,
        actor: str = "connector",
    ) -> None:
        """Add one happening from its parts (the shape of ``engine.connector.EventSink``)."""
        if self.watch is None or order_id in self.watch:
            self.add(
                Happening(time, order_id, actor, action, detail, houzz_status, connector_status)
            )

    def of(self, order_id: str) -> list[Happening]:
        """One order's happenings in time order (ties in the order they happened).

        Recorded order is not always time order: an order placed before the run starts (a
        backlog) has its past replayed at once, Houzz's later moves before its earlier ones.
        """
        return sorted(self.by_order.get(order_id, ()), key=_time)

    def in_order(self) -> list[Happening]:
        """Every happening kept, in time order (ties in the order they happened)."""
        return sorted(self.happenings, key=_time)


def _time(happening: Happening) -> int:
    return happening.time


def clock_text(seconds: int) -> str:
    """Simulated time as ``day 2 10:15:00`` (day 1 is the first day; before it, day 0, -1...)."""
    day, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"day {day + 1} {hours:02d}:{minutes:02d}:{secs:02d}"


ACTORS = {
    "customer": "customer",
    "houzz": "Houzz",
    "staff": "staff",
    "connector": "CartRover",
    "client": "connector",  # a connector under test (judged by the harness)
    "backend": "warehouse",
    "fault": "fault",
}


def describe(happening: Happening, houzz_labels: Mapping[str, str] | None = None) -> str:
    """One happening in plain words: ``day 1 00:15:00  CartRover  Load: ...  [Houzz: New]``."""
    h = happening
    if houzz_labels is None:
        houzz_labels = houzz_table("seller", "legacy").labels  # the same names everywhere
    what = h.action + (f": {h.detail}" if h.detail else "")
    states = []
    if h.houzz_status:
        states.append(f"Houzz: {houzz_labels.get(h.houzz_status, h.houzz_status)}")
    if h.connector_status:
        mine = connector_table().labels.get(h.connector_status, h.connector_status)
        states.append(f"CartRover: {mine}")
    tail = f"  [{'; '.join(states)}]" if states else ""
    return f"{clock_text(h.time)}  {ACTORS.get(h.actor, h.actor):<9}  {what}{tail}"


def step_json(
    text: str,
    *,
    time: int | None = None,
    order: str = "",
    actor: str = "",
    action: str = "",
    detail: str = "",
    houzz_status: str = "",
    connector_status: str = "",
) -> dict[str, Any]:
    """One timeline step as every JSON report writes it (a run's happening, a proof's step):
    ``time`` and ``clock`` are null where time is not modelled (the proof), ``text`` is the
    step in plain words as the text report prints it."""
    return {
        "time": time,
        "clock": None if time is None else clock_text(time),
        "order": order,
        "actor": actor,
        "action": action,
        "detail": detail,
        "houzz_status": houzz_status,
        "connector_status": connector_status,
        "text": text,
    }


def happening_json(h: Happening, houzz_labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A run's happening as a timeline step."""
    return step_json(
        describe(h, houzz_labels),
        time=h.time,
        order=h.order_id,
        actor=h.actor,
        action=h.action,
        detail=h.detail,
        houzz_status=h.houzz_status,
        connector_status=h.connector_status,
    )
