"""Hypothesis strategies for houzzflow users: policies, orders, staff habits, faults.

Following Hypothesis' own conventions: plain functions, keyword-only arguments validated
eagerly (a bad argument raises at once, not when drawing), and an argument that varies
takes a strategy. Policies come as policy-file mappings (what a user writes, ready for
``yaml.safe_dump``); ``resolved`` turns one into an ``houzzflow.engine.policy.Policy``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from houzzflow.engine.assumptions import default_register
from houzzflow.engine.policy import (
    MAX_POLL_INTERVAL,
    MAX_SHIPS_WITHIN,
    ORDER_STATUSES,
    Policy,
    PolicyFile,
    resolve,
)
from houzzflow.engine.rules import CODES, is_safe
from houzzflow.engine.timing import authorization, longest_wait
from houzzflow.simulator.runs.scenario import MAX_DRAIN

# The setups the sources call safe (DOMAIN.md section 3), by name: the register's claims.
SAFE_SETUPS: dict[str, dict[str, Any]] = {
    name: dict(claim.setup) for name, claim in default_register().claims.items()
}

# (base setup, dotted changes, the rule code the change must trigger)
MUTATIONS: tuple[tuple[str, Mapping[str, Any], str], ...] = (
    ("seller-legacy-default", {"assume.account": "vendor"}, "HZ001"),
    ("vendor", {"assume.account": "seller"}, "HZ001"),
    ("vendor", {"order_status": "new_or_in_production"}, "HZ002"),
    ("vendor", {"order_status": "in_production"}, "HZ002"),
    ("seller-legacy-default", {"order_status": "charged"}, "HZ003"),
    ("seller-legacy-manual-charge", {"assume.staff.charge": "sometimes"}, "HZ003"),
    ("seller-legacy-default", {"order_status": "in_production", "mark_processed": False}, "HZ004"),
    (
        "seller-legacy-default",
        {"order_status": "new", "assume.staff.process": "sometimes"},
        "HZ005",
    ),
    ("seller-legacy-manual-process", {"assume.staff.charge": "always"}, "HZ005"),
    ("seller-2021", {"order_status": "new_or_in_production"}, "HZ006"),
    ("seller-2021", {"order_status": "new"}, "HZ006"),
    ("seller-legacy-default", {"assume.staff.process": "always"}, "HZ007"),
    ("seller-legacy-manual-charge", {"mark_charged": True}, "HZ007"),
    ("vendor", {"mark_processed": True}, "HZ007"),
    ("seller-legacy-manual-process", {"mark_charged": False}, "HZ011"),
    ("seller-legacy-default", {"cancel_download": False}, "HZ012"),
    ("vendor", {"cancel_download": False}, "HZ012"),
    ("seller-legacy-default", {"mark_processed": False}, "HZ014"),
    ("seller-2021", {"poll_interval": "7d"}, "HZ015"),
)


def _check_choice(name: str, value: Any, allowed: tuple[Any, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name}={value!r}: expected one of {', '.join(map(repr, allowed))}")


def set_dotted(data: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """A copy of a policy mapping with ``a.b.c`` set (intermediate mappings created)."""
    out: dict[str, Any] = {**data}
    parts = dotted.split(".")
    here = out
    for part in parts[:-1]:
        here[part] = dict(here.get(part) or {})
        here = here[part]
    here[parts[-1]] = value
    return out


def resolved(policy_file: Mapping[str, Any]) -> Policy:
    """The resolved policy of a policy-file mapping (CartRover's defaults applied)."""
    return resolve(PolicyFile.model_validate(dict(policy_file)))


# Durations worth drawing often: where the timing rule (HZ015) turns, and the limits.
_ROUND_INTERVALS = ("30s", "5m", "15m", "1h", "4h", "12h", "1d", "2d", "3d", "4d", "7d", "30d")
_WAREHOUSE_BOUNDS = ("1h", "1d", "2d", "3d", "5d", "7d", "60d")


def _durations(round_values: tuple[str, ...], low: int, high: int) -> st.SearchStrategy[str]:
    return st.sampled_from(round_values) | st.integers(low, high).map(_duration)


@st.composite
def _policy_files(draw: st.DrawFn, safe: bool | None, eras: tuple[str, ...]) -> dict[str, Any]:
    data: dict[str, Any] = {"connection_type": draw(st.sampled_from(("seller", "vendor")))}
    for key, values in (
        ("order_status", ORDER_STATUSES),
        ("mark_processed", (True, False)),
        ("mark_charged", (True, False)),
        ("cancel_download", (True, False)),
    ):
        if draw(st.booleans()):  # sometimes left out: CartRover's default applies
            data[key] = draw(st.sampled_from(values))
    if draw(st.booleans()):
        data["poll_interval"] = draw(_durations(_ROUND_INTERVALS, 30, MAX_POLL_INTERVAL))
    if draw(st.booleans()):
        data["earliest_order_date"] = draw(
            st.dates(dt.date(2024, 1, 1), dt.date(2027, 12, 31))
        ).isoformat()
    staff = {
        "process": draw(st.sampled_from(("never", "always", "sometimes"))),
        "charge": draw(st.sampled_from(("never", "always", "sometimes"))),
        "cancel": draw(st.sampled_from(("never", "sometimes"))),
    }
    data["assume"] = {
        "account": draw(st.sampled_from(("seller", "vendor"))),
        "era": draw(st.sampled_from(eras)),
        "staff": staff,
    }
    if draw(st.booleans()):
        bound = draw(_durations(_WAREHOUSE_BOUNDS, 60, MAX_SHIPS_WITHIN))
        data["assume"]["warehouse"] = {"ships_within": bound}
    # Sometimes pin an open question to an alternative the sources leave standing: every
    # question, those the proof does not explore too (a pin of one is still a setting).
    for name, entry in default_register().assumptions.items():
        if draw(st.integers(0, 3)) == 0:
            data["assume"].setdefault(entry.about, {})[name] = draw(
                st.sampled_from(entry.standing())
            )
    return data


def policy_files(
    *, safe: bool | None = None, eras: tuple[str, ...] = ("legacy", "2021")
) -> st.SearchStrategy[dict[str, Any]]:
    """Policy-file mappings over the whole settings space.

    ``safe=True`` draws only policies that validate clean, ``safe=False`` only ones the
    validator rejects, ``None`` both.
    """
    _check_choice("safe", safe, (None, True, False))
    if not eras or any(e not in ("legacy", "2021") for e in eras):
        raise ValueError(f"eras={eras!r}: expected a non-empty tuple of 'legacy', '2021'")
    base = _policy_files(safe, tuple(eras))
    if safe is None:
        return base
    # The settings space is small; the rules are exact, so filtering keeps every draw honest.
    return base.filter(lambda p: is_safe(resolved(p)) is safe)


def safe_setups() -> st.SearchStrategy[dict[str, Any]]:
    """The five documented safe setups (DOMAIN.md section 3), as policy-file mappings."""
    return st.sampled_from(list(SAFE_SETUPS.values()))


def mutated_policies(*, code: str | None = None) -> st.SearchStrategy[tuple[dict[str, Any], str]]:
    """(policy mapping, rule code): a safe setup with one documented mistake made in it.

    ``code`` restricts the draws to mutations that trigger that code.
    """
    if code is not None and code not in CODES:
        raise ValueError(f"code={code!r}: expected one of {', '.join(sorted(CODES))}")
    chosen = [m for m in MUTATIONS if code is None or m[2] == code]
    if not chosen:
        raise ValueError(f"code={code!r} has no mutation: it is a note, not a loss")

    def build(m: tuple[str, Mapping[str, Any], str]) -> tuple[dict[str, Any], str]:
        data = SAFE_SETUPS[m[0]]
        for dotted, value in m[1].items():
            data = set_dotted(data, dotted, value)
        return data, m[2]

    return st.sampled_from(chosen).map(build)


def _check_range(name: str, low: float, high: float, value: float) -> None:
    if not low <= value <= high:
        raise ValueError(f"{name}={value!r}: expected a value from {low} to {high}")


def _duration(seconds: int) -> str:
    return f"{seconds}s"


def orders(*, max_items: int = 5) -> st.SearchStrategy[dict[str, Any]]:
    """One order as the harness places it: ``{"items": n}``."""
    _check_range("max_items", 1, 100, max_items)
    return st.builds(lambda n: {"items": n}, st.integers(1, max_items))


def order_streams(
    *, min_count: int = 1, max_count: int = 30, cancel_probability: float = 0.3
) -> st.SearchStrategy[dict[str, Any]]:
    """A scenario's ``world.orders``: a seeded stream of up to ``max_count`` orders."""
    _check_range("min_count", 0, max_count, min_count)
    _check_range("max_count", min_count, 1_000_000, max_count)
    _check_range("cancel_probability", 0.0, 1.0, cancel_probability)
    return st.fixed_dictionaries(
        {
            "count": st.integers(min_count, max_count),
            "items": st.tuples(st.integers(1, 2), st.integers(2, 4)).map(list),
            "cancel_probability": st.sampled_from(
                [0.0, cancel_probability / 2, cancel_probability]
            ),
            "fix_payment_probability": st.sampled_from([0.0, 0.5, 1.0]),
        }
    )


def _habit(mode: str) -> st.SearchStrategy[dict[str, Any]]:
    low = st.integers(30, 3 * 3600)
    delays = st.tuples(low, st.integers(0, 6 * 3600)).map(
        lambda pair: [_duration(pair[0]), _duration(pair[0] + pair[1])]
    )
    probability = st.just(1.0) if mode == "always" else st.sampled_from([0.1, 0.5, 0.9])
    return st.fixed_dictionaries(
        {"mode": st.just(mode), "probability": probability, "delay": delays}
    )


def staff_habits(*, policy: Policy | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """A scenario's ``world.staff``: timings consistent with a policy's ``assume.staff``.

    ``always`` habits act on every order (after a random delay), ``sometimes`` on some,
    ``never`` on none. Without a policy, any habits.
    """
    if policy is not None and not isinstance(policy, Policy):
        raise TypeError(f"policy={policy!r}: expected an houzzflow.engine.policy.Policy or None")

    def habit(assumed: str | None, modes: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
        if assumed is not None:
            return _habit(assumed)
        return st.sampled_from(modes).flatmap(_habit)

    every = ("never", "always", "sometimes")
    return st.fixed_dictionaries(
        {
            "process": habit(policy.staff_process if policy else None, every),
            "charge": habit(policy.staff_charge if policy else None, every),
            "cancel": habit(policy.staff_cancel if policy else None, ("never", "sometimes")),
        }
    )


def backends(*, max_delay: int = 3 * 86400) -> st.SearchStrategy[dict[str, Any]]:
    """A scenario's ``world.backend``: shipping delays up to ``max_delay`` seconds (a policy's
    ``assume.warehouse.ships_within``, for a world consistent with it)."""
    _check_range("max_delay", 2, MAX_SHIPS_WITHIN, max_delay)
    delays = st.tuples(st.integers(1, max_delay), st.integers(1, max_delay)).map(
        lambda pair: [_duration(min(pair)), _duration(max(pair))]
    )
    return st.fixed_dictionaries(
        {"ship_delay": delays, "packages": st.sampled_from([[1, 1], [1, 3], [2, 4]])}
    )


def fault_plans(
    *, max_rate: float = 0.2, crashes: bool = True
) -> st.SearchStrategy[dict[str, Any]]:
    """A scenario's ``world.faults``: seeded API errors, lost replies, 429s, page drift and
    connector crashes, at rates up to ``max_rate``."""
    _check_range("max_rate", 0.0, 1.0, max_rate)
    rate = st.sampled_from(sorted({0.0, max_rate / 4, max_rate}))
    return st.fixed_dictionaries(
        {
            "error_rate": rate,
            "timeout_after_write_rate": rate,
            "rate_limit_rate": rate,
            "retry_after": st.sampled_from(["30s", "2m"]),
            "page_drift_rate": rate,
            "crash_every_polls": st.none() | (st.integers(2, 9) if crashes else st.nothing()),
            "seed": st.integers(0, 2**16),
        }
    )


def _retries_fit(policy: Policy) -> bool:
    """Whether a world with API faults at a rate stays within what the proof assumes of time.

    The proof's timing (engine.timing) allows one poll interval for a retry after an API
    fault; at a fault rate an order can meet several in a row, each putting it off to the
    next poll (a rate limit puts off every order CartRover has not reached yet). Only where
    many more polls still fit before the authorization lapses does a world with faults at a
    rate keep the proof's assumption.
    """
    margin = authorization() - longest_wait(policy).total
    return margin > 20 * policy.poll_interval


@st.composite
def _scenarios(
    draw: st.DrawFn,
    policy: st.SearchStrategy[dict[str, Any]],
    faults: st.SearchStrategy[dict[str, Any]],
    max_orders: int,
) -> dict[str, Any]:
    policy_file = draw(policy)
    resolved_policy = resolved(policy_file)
    interval, ships = resolved_policy.poll_interval, resolved_policy.ships_within
    # The world answers each open question as the policy pins it, else as any alternative
    # the sources leave standing: a proof covers the questions it explores, and says no
    # verdict depends on the rest, which only a run under every answer checks (for
    # ``write_order``; runs keep UTC whatever ``time_zone`` says, and their reports say so).
    answers: dict[str, dict[str, str]] = {"houzz": {}, "cartrover": {}}
    for name, entry in default_register().assumptions.items():
        pinned = resolved_policy.pinned.get(name)
        answers[entry.about][name] = pinned or draw(st.sampled_from(entry.standing()))
    return {
        "name": "hypothesis",
        "seed": draw(st.integers(0, 2**16)),
        "duration": "12d",
        # Long enough after the stream for two polls and a shipment, whatever the interval.
        "drain": _duration(min(MAX_DRAIN, max(14 * 86400, 2 * interval + ships + 86400))),
        "policy": policy_file,
        "world": {
            "orders": {**draw(order_streams(max_count=max_orders)), "place_within": 0.1},
            "staff": draw(staff_habits(policy=resolved_policy)),
            "backend": draw(backends(max_delay=resolved_policy.ships_within)),
            "faults": draw(faults) if _retries_fit(resolved_policy) else {},
            **answers,
        },
    }


def scenarios(
    *,
    policy: st.SearchStrategy[dict[str, Any]] | None = None,
    faults: st.SearchStrategy[dict[str, Any]] | None = None,
    max_orders: int = 30,
) -> st.SearchStrategy[dict[str, Any]]:
    """Whole scenario mappings (``load_scenario`` takes them; ``scenario_text`` prints them).

    The world is consistent with the policy's assumptions; every order is placed early
    enough to finish within the run. With no ``expect`` block a run must keep every
    invariant.
    """
    _check_range("max_orders", 1, 100_000, max_orders)
    return _scenarios(
        policy if policy is not None else policy_files(safe=True),
        faults if faults is not None else fault_plans(),
        max_orders,
    )


def scenario_text(scenario: Mapping[str, Any]) -> str:
    """A scenario mapping as a YAML file a user can save and ``houzzflow run``."""
    import yaml

    return yaml.safe_dump(dict(scenario), sort_keys=False, default_flow_style=None, width=100)
