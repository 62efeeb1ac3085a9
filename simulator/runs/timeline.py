"""The timeline: who did what to which order, when, in Houzz's and CartRover's terms.

Every actor (customer, Houzz, staff, connector, backend, faults) appends ``Happening``
records to one ``Timeline``; invariant violations and counterexamples are printed from it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field


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

    def add(self, happening: Happening) -> None:
        self.happenings.append(happening)
        if happening.order_id:
            self.by_order[happening.order_id].append(happening)

    def of(self, order_id: str) -> list[Happening]:
        return list(self.by_order.get(order_id, ()))


def clock_text(seconds: int) -> str:
    """Simulated time as ``day 2 10:15:00`` (day 1 is the first day)."""
    day, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"day {day + 1} {hours:02d}:{minutes:02d}:{secs:02d}"
