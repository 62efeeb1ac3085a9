"""What a scenario's ``world`` section builds: the order stream, staff and fault plan.

One place for the translation from the scenario file's specs to the world's objects, used
by the runner (``houzzflow run``) and the harness (``houzzflow serve --scenario``, the
pytest fixtures) alike.
"""

from __future__ import annotations

from houzzflow.engine.policy import Policy
from houzzflow.simulator.runs.scenario import FaultsSpec, HabitSpec, OrdersSpec, StaffSpec
from houzzflow.simulator.world.customers import Burst, OrderStream
from houzzflow.simulator.world.faults import FaultPlan
from houzzflow.simulator.world.staff import Habit, Staff


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
