"""What a scenario's ``world`` section builds: the order stream, staff, fault plan, and a harness.

One place for the translation from the scenario file's specs to the world's objects, used
by the runner (``houzzflow run``) and, through ``scenario_harness``, by the harness
(``houzzflow serve --scenario``, the pytest fixtures): the harness itself knows nothing of
scenario files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from houzzflow.engine.policy import Policy
from houzzflow.simulator.kernel.faults import FaultPlan
from houzzflow.simulator.runs.scenario import (
    FaultsSpec,
    HabitSpec,
    OrdersSpec,
    Scenario,
    StaffSpec,
    load_scenario,
)
from houzzflow.simulator.world.customers import Burst, OrderStream
from houzzflow.simulator.world.staff import Habit, Staff

if TYPE_CHECKING:  # the harness (and the judge it carries) is not needed to run a scenario
    from houzzflow.simulator.harness import HarnessConfig, HouzzHarness


def order_stream(o: OrdersSpec) -> OrderStream:
    return OrderStream(
        count=o.count,
        rate_per_hour=o.rate_per_hour,
        burst=Burst(o.burst.at, o.burst.count) if o.burst else None,
        items=o.items,
        cancel_probability=o.cancel_probability,
        fix_payment_probability=o.fix_payment_probability,
        fix_payment_delay=o.fix_payment_delay,
        place_within=o.place_within,
    )


def habit(spec: HabitSpec | None, assumed: str) -> Habit:
    """The habit the scenario states, or else the one the policy assumes."""
    if spec is None:
        return Habit(mode=assumed)  # type: ignore[arg-type]
    return Habit(mode=spec.mode, probability=spec.probability, delay=spec.delay)


def staff(spec: StaffSpec, policy: Policy) -> Staff:
    return Staff(
        process=habit(spec.process, policy.staff_process),
        charge=habit(spec.charge, policy.staff_charge),
        cancel=habit(spec.cancel, policy.staff_cancel),
    )


def fault_plan(f: FaultsSpec) -> FaultPlan | None:
    """The fault plan, or None when it injects no API fault."""
    plan = FaultPlan(
        error_rate=f.error_rate,
        fail_calls=f.fail_calls,
        timeout_after_write_rate=f.timeout_after_write_rate,
        rate_limit_rate=f.rate_limit_rate,
        retry_after=f.retry_after,
        page_drift_rate=f.page_drift_rate,
        crash_every_polls=f.crash_every_polls,
        seed=f.seed,
    )
    return plan if plan.any_api_fault else None


def scenario_config(scenario: Scenario, base: HarnessConfig | None = None) -> HarnessConfig:
    """The world a loaded scenario describes, as a harness configuration.

    The Houzz account (program, era, its answers to the register's open questions, charge
    failures, the program the policy connects as), ``seed``, ``duration``, the order
    stream, the backlog, staff habits (a habit the scenario leaves out follows the policy's
    ``assume.staff``) and the fault plan, built the way ``houzzflow run`` builds them;
    ``base`` keeps its epoch. The warehouse and the connector are left out: over HTTP, the
    connector under test is the client.
    """
    from houzzflow.simulator.harness import HarnessConfig

    base = base or HarnessConfig()
    world = scenario.spec.world
    policy = scenario.policy
    plan = fault_plan(world.faults)
    backlog = world.backlog
    return replace(
        base,
        program=scenario.program,
        era=scenario.era,
        seed=scenario.seed,
        window_field=None,
        facts=world.facts(),
        connection=policy.connection_type,
        faults=None if plan is None else replace(plan, crash_every_polls=None),
        charge_failure_rate=world.houzz.charge_failure_rate,
        stream=order_stream(world.orders),
        staff=staff(world.staff, policy),
        duration=scenario.duration,
        backlog=(backlog.count, backlog.within) if backlog and backlog.count else None,
    )


def scenario_harness(
    path: str, base: HarnessConfig | None = None, overrides: Sequence[str] = ()
) -> HouzzHarness:
    """A harness holding the world of a scenario file (``houzzflow serve --scenario``);
    raises ``InputError`` (file:line:column for every mistake) when the file is unusable."""
    from houzzflow.simulator.harness import HouzzHarness

    return HouzzHarness.from_config(scenario_config(load_scenario(path, overrides), base))
