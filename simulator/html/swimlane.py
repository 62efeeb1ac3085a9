"""A swimlane timeline of one order as SVG: a lane per actor (customer, staff, Houzz,
CartRover, warehouse), Houzz's status as it changes along the top, CartRover's polls as
ticks, faults crossed out in red and the broken invariant marked at the end.

Steps come from a run's timeline (``Happening``) or from a proof's story (``Line``); each
step is a column (time moves left to right, but events in one second stay readable), and
the numbered list under the picture says each step in full words (it prints well).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from houzzflow.simulator.html.page import esc
from houzzflow.simulator.kernel.timeline import Happening, clock_text, describe

LANES = ("customer", "staff", "Houzz", "CartRover", "warehouse")
ACTOR_LANES = {
    "customer": "customer",
    "staff": "staff",
    "houzz": "Houzz",
    "connector": "CartRover",
    "backend": "warehouse",
    "fault": "CartRover",  # a fault strikes one of CartRover's calls
    "resolver": "staff",
}
COL = 92  # width of a step's column
LEFT = 92  # width of the lane names
LANE_H = 34
TOP = 40  # the Houzz status band sits above the lanes
SHOWN_POLLS = 3  # polls drawn one by one between two steps; more are one tick with a count


@dataclass(frozen=True, slots=True)
class Step:
    lane: str
    label: str  # a word or two, drawn in the picture
    text: str  # the step in full, for the list and the tooltip
    status: str = ""  # Houzz's status after the step, "" when unchanged
    time: int | None = None
    mark: str = ""  # "" | "fault" | "violation"
    polls_before: int = 0  # CartRover's polls since the step before
    # Every Houzz status the step passed through, in order (one step of a proof's story
    # may load, process and charge an order): the path a lifecycle drawing highlights.
    passed: tuple[str, ...] = ()


def steps_of_happenings(
    happenings: Sequence[Happening],
    labels: Mapping[str, str],
    poll_times: Sequence[int] = (),
    broken: str = "",
) -> list[Step]:
    """A run's timeline of one order as steps, with the polls that fell between them."""
    steps: list[Step] = []
    polls = sorted(poll_times)
    k = 0
    if happenings:
        while k < len(polls) and polls[k] < happenings[0].time:
            k += 1
    for h in happenings:
        count = 0
        while k < len(polls) and polls[k] <= h.time:
            count += 1
            k += 1
        status = labels.get(h.houzz_status, h.houzz_status) if h.houzz_status else ""
        mark = "fault" if h.actor == "fault" else ""
        steps.append(
            Step(
                ACTOR_LANES.get(h.actor, "CartRover"),
                h.action,
                describe(h, labels),
                status,
                h.time,
                mark,
                count if steps else 0,
            )
        )
    if broken and steps:
        last = steps[-1]
        steps.append(Step(last.lane, "broken", broken, time=last.time, mark="violation"))
    return steps


STATUS_IN_WORDS = re.compile(r"\((?:Houzz: )?(?:[^()]*?-> )?([A-Z][A-Za-z ]+)\)")
WHO = {"staff": "staff", "the customer": "customer", "Houzz": "Houzz"}


def steps_of_story(
    lines: Sequence[tuple[str, int, str]], houzz_labels: Sequence[str]
) -> list[Step]:
    """A proof's counterexample (``(kind, order, text)`` lines, as ``Proof.timeline``) as the
    steps of its violating order, with CartRover's polls as ticks."""
    culprit = lines[-1][1] if lines else 0
    steps: list[Step] = []
    polls = 0
    known = set(houzz_labels)
    for kind, order, text in lines:
        if kind == "poll":
            polls += 1
            continue
        if order not in (0, culprit):
            continue
        passed = tuple(found for found in STATUS_IN_WORDS.findall(text) if found in known)
        status = passed[-1] if passed else ""
        if kind == "violation":
            lane = steps[-1].lane if steps else "CartRover"
            steps.append(Step(lane, "broken", text, mark="violation", polls_before=polls))
        else:
            lane, label = _lane_of(kind, text)
            mark = "fault" if kind == "fault" or "failed" in text else ""
            steps.append(Step(lane, label, text, status, None, mark, polls, passed))
        polls = 0
    return steps


def _lane_of(kind: str, text: str) -> tuple[str, str]:
    if kind == "place":
        return "customer", "Place"
    if kind == "ship":
        return "warehouse", "Ship"
    if kind == "world":
        for who, lane in WHO.items():
            if text.startswith(who + " "):
                return lane, text[len(who) + 1 :].split(" (")[0].split(" it")[0]
        return "Houzz", text.split(":")[0]  # Houzz's own clock, e.g. "30 minutes passed"
    words = text.removeprefix("CartRover ").split(";")[0].split(" (")[0]
    return "CartRover", words[:24]


def swimlane_svg(steps: Sequence[Step], *, title: str = "") -> str:
    """The steps as an SVG swimlane (empty string when there are none)."""
    if not steps:
        return ""
    width = LEFT + COL * len(steps) + 20
    lanes_top = TOP + 8
    height = lanes_top + LANE_H * len(LANES) + 28
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="swimlane" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{esc(title or "timeline")}">'
    ]
    if title:
        out.append(f"<title>{esc(title)}</title>")
    out.append(f'<text x="4" y="{TOP - 12}" class="muted">Houzz status</text>')
    for i, lane in enumerate(LANES):
        y = lanes_top + i * LANE_H
        out.append(f'<rect class="lane" x="0" y="{y}" width="{width}" height="{LANE_H - 4}"/>')
        out.append(f'<text x="4" y="{y + LANE_H / 2 + 2}">{esc(lane)}</text>')
    # Houzz's status band: one box from each change to the next.
    changes: list[tuple[int, str]] = []
    for i, step in enumerate(steps):
        if step.status and (not changes or changes[-1][1] != step.status):
            changes.append((i, step.status))
    for n, (i, status) in enumerate(changes):
        end = changes[n + 1][0] if n + 1 < len(changes) else len(steps)
        x = LEFT + i * COL + 4
        w = (end - i) * COL - 8
        out.append(f'<rect class="status" x="{x}" y="{TOP - 26}" width="{w}" height="22" rx="4"/>')
        out.append(f'<text x="{x + 6}" y="{TOP - 11}">{esc(status)}</text>')
    cartrover = lanes_top + LANES.index("CartRover") * LANE_H
    for i, step in enumerate(steps):
        cx = LEFT + i * COL + COL / 2
        out.append(
            f'<line class="grid" x1="{cx}" y1="{lanes_top}" x2="{cx}" '
            f'y2="{lanes_top + LANE_H * len(LANES)}"/>'
        )
        if step.polls_before:
            out += _poll_ticks(cx - COL / 2, cartrover, step.polls_before)
        row = LANES.index(step.lane) if step.lane in LANES else LANES.index("CartRover")
        cy = lanes_top + row * LANE_H + (LANE_H - 4) / 2
        tip = f"<title>{i + 1}. {esc(step.text)}</title>"
        if step.mark == "fault":
            out.append(
                f'<g class="fault">{tip}<path class="fault" d="M{cx - 7},{cy - 7}L{cx + 7},'
                f'{cy + 7}M{cx + 7},{cy - 7}L{cx - 7},{cy + 7}"/></g>'
            )
        elif step.mark == "violation":
            out.append(
                f'<g class="violation">{tip}<path class="violation" d="M{cx},{cy - 10}'
                f'L{cx + 10},{cy}L{cx},{cy + 10}L{cx - 10},{cy}Z"/></g>'
            )
        else:
            out.append(
                f'<g class="event">{tip}<circle class="event" cx="{cx}" cy="{cy}" r="6"/></g>'
            )
        out.append(
            f'<text x="{cx}" y="{cy - 9}" text-anchor="middle">'
            f"{i + 1}. {esc(_short(step.label))}</text>"
        )
        if step.time is not None:
            out.append(
                f'<text class="muted" x="{cx}" y="{height - 8}" text-anchor="middle">'
                f"{esc(_clock(step.time))}</text>"
            )
    out.append("</svg>")
    return "".join(out)


def _poll_ticks(x0: float, lane_y: float, polls: int) -> list[str]:
    """CartRover's polls since the step before, as ticks on its lane just before the step."""
    out = []
    shown = min(polls, SHOWN_POLLS)
    for k in range(shown):
        x = x0 + 10 + k * 6
        out.append(
            f'<line class="poll" x1="{x}" y1="{lane_y + 2}" x2="{x}" y2="{lane_y + LANE_H - 6}">'
            f"<title>CartRover polled</title></line>"
        )
    if polls > SHOWN_POLLS:
        out.append(
            f'<text class="muted" x="{x0 + 10 + shown * 6}" y="{lane_y + LANE_H - 8}">'
            f"\u00d7{polls}</text>"  # a multiplication sign
        )
    return out


def _short(label: str) -> str:
    return label if len(label) <= 14 else label[:13] + "…"


def _clock(seconds: int) -> str:
    return clock_text(seconds)[:-3]  # day 2 10:15


def step_list(steps: Sequence[Step]) -> str:
    """The steps in full words, numbered as in the picture."""
    items = []
    for i, s in enumerate(steps, 1):
        klass = ' class="violation"' if s.mark == "violation" else ""
        polls = (
            f" (after {s.polls_before} poll{'s' if s.polls_before != 1 else ''})"
            if (s.polls_before)
            else ""
        )
        items.append(f'<li value="{i}"{klass}>{esc(s.text)}{esc(polls)}</li>')
    return '<ol class="story">' + "".join(items) + "</ol>"


def figure(steps: Sequence[Step], title: str) -> str:
    """The swimlane with its list, as one figure."""
    body: list[Any] = [f"<h3>{esc(title)}</h3>", '<div class="figure">']
    body.append(swimlane_svg(steps, title=title))
    body.append("</div>")
    body.append(step_list(steps))
    return "".join(body)
