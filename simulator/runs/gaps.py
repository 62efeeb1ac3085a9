"""Where a scenario's world goes beyond what ``houzzflow validate`` assumes for its policy.

A proof judges a policy by its assumptions (``assume``) and by the register of open
questions (``engine/assumptions.yaml``); a run may put the policy in a world outside them.
Each such gap is reported with the run (text, JSON, JUnit), so that a failure there reads as
"the world left the proof's ground", not as a contradiction of the proof:

* the account's program or era differs from ``assume.account`` / ``assume.era``;
* staff by hand do what ``assume.staff`` does not say;
* a backlog order older than an authorization lasts (7 days): it may have lapsed back to In
  Production, or lapse before it ships, before CartRover ever sees it;
* a warehouse slower than ``assume.warehouse.ships_within``;
* an answer to an open question that the sources rule out, or that differs from the one the
  policy pins (``assume.houzz`` / ``assume.cartrover``);
* an answer a run cannot simulate (the register's ``simulated: false``): the run takes the
  question's default in its place, so its world is not the one the scenario names.

A person resolving held orders (``world.staff.resolve_errors``) is no gap: the proof treats
a visible hold as something a person may act on.
"""

from __future__ import annotations

from dataclasses import dataclass

from houzzflow.engine.assumptions import default_register, unsimulated
from houzzflow.engine.connector import epoch_seconds
from houzzflow.engine.machine import default_machine
from houzzflow.engine.policy import PROGRAM_NAMES, format_duration
from houzzflow.simulator.runs.scenario import Scenario


@dataclass(frozen=True, slots=True)
class Gap:
    """One way the world departs from the policy's assumptions: ``where`` the scenario says
    so (a dotted key), and what it means, in plain words."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.message} ({self.where})"

    def to_json(self) -> dict[str, str]:
        return {"where": self.where, "message": self.message}


def assumption_gaps(scenario: Scenario) -> list[Gap]:
    """Every way the scenario's world departs from what a proof of its policy assumes."""
    return [
        *_account(scenario),
        *_staff(scenario),
        *_backlog(scenario),
        *_warehouse(scenario),
        *_open_questions(scenario),
    ]


def _account(scenario: Scenario) -> list[Gap]:
    policy = scenario.policy
    gaps = []
    if scenario.program != policy.account:
        gaps.append(
            Gap(
                "world.houzz.program",
                f"the account is {PROGRAM_NAMES[scenario.program]}; the policy assumes "
                f"{PROGRAM_NAMES[policy.account]} (assume.account)",
            )
        )
    if scenario.era != policy.era:
        gaps.append(
            Gap(
                "world.houzz.era",
                f"the era is {scenario.era}; the policy assumes {policy.era} (assume.era)",
            )
        )
    return gaps


def _staff(scenario: Scenario) -> list[Gap]:
    policy, staff = scenario.policy, scenario.spec.world.staff
    gaps = []
    for action in ("process", "charge", "cancel"):
        habit = getattr(staff, action)
        assumed = getattr(policy, f"staff_{action}")
        if habit is not None and habit.mode != assumed:
            gaps.append(
                Gap(
                    f"world.staff.{action}",
                    f"staff {action} by hand: {habit.mode}; the policy assumes {assumed} "
                    f"(assume.staff.{action})",
                )
            )
    return gaps


def _backlog(scenario: Scenario) -> list[Gap]:
    backlog = scenario.spec.world.backlog
    if backlog is None or not backlog.count or scenario.spec.world.script:
        return []
    reach = backlog.within
    eod = scenario.policy.earliest_order_date
    if eod is not None:  # older orders are skipped by design: only the rest matter
        reach = min(reach, max(0, -epoch_seconds(eod, scenario.start)))
    authorization = default_machine().timing.authorization
    if reach <= authorization:
        return []
    return [
        Gap(
            "world.backlog.within",
            f"{backlog.count} backlog orders were placed up to {format_duration(reach)} before "
            f"CartRover starts, longer than a charge's authorization lasts "
            f"({format_duration(authorization)}): one charged back then and not shipped has "
            "lapsed to In Production, or lapses soon after CartRover loads it; the proof "
            "assumes CartRover runs from each order's placement",
        )
    ]


def _warehouse(scenario: Scenario) -> list[Gap]:
    if scenario.spec.world.script:
        return []  # a script decides when each order ships
    slowest = scenario.spec.world.backend.ship_delay[1]
    assumed = scenario.policy.ships_within
    if slowest <= assumed:
        return []
    return [
        Gap(
            "world.backend.ship_delay",
            f"the warehouse takes up to {format_duration(slowest)} to ship an order; the "
            f"policy assumes within {format_duration(assumed)} (assume.warehouse.ships_within)",
        )
    ]


def _open_questions(scenario: Scenario) -> list[Gap]:
    register = default_register()
    pinned = scenario.policy.pinned
    facts = scenario.spec.world.facts()
    gaps = []
    for name, answer in facts:
        entry = register.assumptions[name]
        where = f"world.{entry.about}.{name}"
        alternative = entry.alternatives[answer]
        if alternative.ruled_out_by:
            gaps.append(
                Gap(
                    where,
                    f"{name}: {answer}, an answer the sources rule out "
                    f"({', '.join(alternative.ruled_out_by)}): {alternative.why}",
                )
            )
        if name in pinned and pinned[name] != answer:
            gaps.append(
                Gap(
                    where,
                    f"{name}: {answer}; the policy pins {pinned[name]} "
                    f"(assume.{entry.about}.{name})",
                )
            )
    for name, answer, default, why in unsimulated(facts):
        gaps.append(
            Gap(
                f"world.{register.assumptions[name].about}.{name}",
                f"{name}: {answer} is not simulated; this run ran {default} in its place: {why}",
            )
        )
    return gaps
