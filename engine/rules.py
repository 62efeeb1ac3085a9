"""The rules tier: the documented ways a CartRover configuration loses orders.

Each rule has a stable code (DOMAIN.md "Known ways a configuration loses orders"), reasons
over the lifecycle table and the policy's assumptions (``order_paths``), and reports in
CartRover's words with the setting at fault. Every error carries the nearest safe settings
for the same assumptions as its fix.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from houzzflow.engine.diagnostics import Diagnostic, Location, Severity
from houzzflow.engine.order_paths import order_paths, staff_habit
from houzzflow.engine.policy import (
    LOADS,
    ORDER_STATUSES,
    PROGRAM_NAMES,
    SETTING_NAMES,
    STATUS_NAMES,
    Policy,
    cartrover_defaults,
    format_duration,
    parse_duration,
)
from houzzflow.engine.table import Rejection, houzz_table
from houzzflow.engine.timing import (
    lapse_free_backlog,
    lapse_possible,
    longest_safe_poll_interval,
    longest_wait,
)

Locate = Callable[[str], Location]

# Rule codes and what each documents (DOMAIN.md numbering in brackets).
CODES: dict[str, str] = {
    "HZ001": "wrong Connection Type for the Houzz account [1]",
    "HZ002": "Vendor cart with Order Status other than Charged [2]",
    "HZ003": "waiting for Charged while nobody charges by hand [3]",
    "HZ004": "waiting for In Production while nobody processes by hand [4]",
    "HZ005": "orders can leave the Order Status before CartRover's poll [5]",
    "HZ006": "2021 Seller cart not loading Charged orders [6]",
    "HZ007": "a Mark step Houzz refuses: the order is already past it [7]",
    "HZ008": "Failed to Charge orders are held back by Houzz until paid [8]",
    "HZ009": "authorizations lapse after 7 days without shipment [9]",
    "HZ010": "orders before Earliest Order Date are skipped by design [10]",
    "HZ011": "orders sent to the warehouse before they are charged",
    "HZ012": "Order Cancel Download off while orders can be cancelled after loading",
    "HZ013": "a staff habit that cannot apply to this program and era",
    "HZ014": "Mark Orders as Charged refused: the order was never processed",
    "HZ015": "an authorization can lapse before CartRover confirms the shipment",
    "HZ016": "orders charged before go-live can lapse before CartRover confirms them",
}

SETTINGS_SPACE: dict[str, tuple[Any, ...]] = {
    "connection_type": ("seller", "vendor"),
    "order_status": ORDER_STATUSES,
    "mark_processed": (True, False),
    "mark_charged": (True, False),
    "cancel_download": (True, False),
}
HABIT_SPACE: dict[str, tuple[str, ...]] = {
    "staff_process": ("never", "always", "sometimes"),
    "staff_charge": ("never", "always", "sometimes"),
    "staff_cancel": ("never", "sometimes"),
}


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule's verdict before it is placed in a file: code, setting at fault, words."""

    code: str
    setting: str
    message: str
    severity: Severity = Severity.ERROR


def find(policy: Policy) -> list[Finding]:
    """Every rule finding for a resolved policy, errors first, one per code."""
    found: dict[str, Finding] = {}

    def add(f: Finding) -> None:
        found.setdefault(f.code, f)

    if policy.connection_type != policy.account:
        answer = (
            "with an error CartRover shows, so every order is missed (visibly)"
            if policy.pinned.get("wrong_connection") == "error"
            else "with no orders, so every order is missed silently"
        )
        add(
            Finding(
                "HZ001",
                "connection_type",
                f"Connection Type is {PROGRAM_NAMES[policy.connection_type]} but the account is "
                f"in the {PROGRAM_NAMES[policy.account]} program: Houzz answers such a "
                f"connection {answer}",
            )
        )
    else:
        _loss_findings(policy, add)
    _notes(policy, add)
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    return sorted(found.values(), key=lambda f: (order[f.severity], f.code))


def _loss_findings(policy: Policy, add: Callable[[Finding], None]) -> None:
    paths = order_paths(policy)
    table = paths.table
    label = table.labels
    loads = LOADS[policy.order_status]
    wanted = STATUS_NAMES[policy.order_status]
    program_rule = (
        "HZ002" if policy.account == "vendor" else "HZ006" if policy.era == "2021" else None
    )

    for state, _ in sorted(paths.resting):
        if not paths.visible(state) or state in loads or state in table.terminal:
            continue
        if program_rule == "HZ002":
            add(
                Finding(
                    "HZ002",
                    "order_status",
                    f"Houzz Vendor orders arrive {label[state]} and never become {wanted}: "
                    "CartRover skips every one",
                )
            )
        elif program_rule == "HZ006":
            add(
                Finding(
                    "HZ006",
                    "order_status",
                    f"from 2021 Houzz charges Seller orders itself 30 minutes after placement; "
                    f"an order that is {label[state]} before CartRover's poll is never {wanted} "
                    "again and is skipped",
                )
            )
        elif paths.leads_to(state, loads):
            code, habits = (
                ("HZ003", ("Process", "Charge"))
                if "Charged" in loads
                else (
                    "HZ004",
                    ("Process",),
                )
            )
            stated = ", ".join(
                f"assume.staff.{h.lower()}: {staff_habit(policy, h)}" for h in habits
            )
            verbs = " and ".join(h.lower() for h in habits)
            add(
                Finding(
                    code,
                    "order_status",
                    f"Order Status is {wanted}, but an order can wait {label[state]} forever: "
                    f"CartRover only loads {wanted} orders and staff do not always {verbs} "
                    f"by hand ({stated})",
                )
            )
        else:
            add(
                Finding(
                    "HZ005",
                    "order_status",
                    f"Order Status is {wanted}, but staff can move an order on to "
                    f"{label[state]} before CartRover's poll; it is skipped and never "
                    f"{wanted} again",
                )
            )

    steps = [
        s for s, on in (("Process", policy.mark_processed), ("Charge", policy.mark_charged)) if on
    ]
    for state, window in sorted(paths.reachable):
        if not paths.visible(state) or state not in loads:
            continue
        sent = _after_marks(policy, state, steps, add)
        if sent is None:
            continue
        if sent != "Charged":
            add(
                Finding(
                    program_rule or "HZ011",
                    "mark_charged" if program_rule is None else "order_status",
                    f"an order loaded {label[state]} is sent to the warehouse while it is "
                    f"{label[sent]} in Houzz: not yet charged"
                    + ("" if policy.mark_charged else " (Mark Orders as Charged is off)"),
                )
            )
        if not policy.cancel_download:
            cancel = paths.table.step(sent, "Cancel", "staff")
            by_staff = policy.staff_cancel != "never" and not isinstance(cancel, Rejection)
            if by_staff or window:
                who = "staff" if by_staff else "the customer (within 30 minutes)"
                add(
                    Finding(
                        "HZ012",
                        "cancel_download",
                        f"Order Cancel Download is off, and {who} can cancel an order after "
                        "CartRover sent it: the warehouse ships a cancelled order",
                    )
                )


def _after_marks(
    policy: Policy, state: str, steps: list[str], add: Callable[[Finding], None]
) -> str | None:
    """The Houzz status after CartRover's Mark steps, or None when Houzz refuses one."""
    paths = order_paths(policy)
    label = paths.table.labels
    setting = {"Process": "mark_processed", "Charge": "mark_charged"}
    here = state
    for step in steps:
        result = paths.table.step(here, step, "connector")
        if isinstance(result, Rejection):
            sources = frozenset(paths.table.sources.get(step, ()))
            name = SETTING_NAMES[setting[step]]
            if not sources:
                which = (
                    "Houzz Vendor orders (they arrive charged)"
                    if policy.account == "vendor"
                    else f"Houzz Seller orders in the {policy.era} era (Houzz charges them itself)"
                )
                message = (
                    f"{name} is on, but Houzz does not accept {step} on {which}; every "
                    "loaded order is held in Error"
                )
                add(Finding("HZ007", setting[step], message))
            elif paths.leads_to(here, sources):
                add(
                    Finding(
                        "HZ014",
                        "mark_processed",
                        f"an order loaded {label[here]} is not processed (Mark Orders as "
                        f"Processed is off), so Houzz refuses Mark Orders as Charged "
                        f"({result.reason}); the order is held in Error",
                    )
                )
            else:
                message = (
                    f"{name} is on, but an order can already be {label[here]} when CartRover "
                    f"loads it (staff did that step by hand); Houzz refuses {step} "
                    f"({result.reason}) and the order is held in Error"
                )
                add(Finding("HZ007", setting[step], message))
            return None
        here = result
    return here


def _notes(policy: Policy, add: Callable[[Finding], None]) -> None:
    table = houzz_table(policy.account, policy.era, facts=policy.pins)
    lapses = any(m.happens == "late" for m in table.moves.values())
    if lapses and lapse_possible(policy):
        wait = longest_wait(policy)
        add(
            Finding(
                "HZ015",
                "poll_interval",
                f"an order can wait up to {format_duration(wait.total)} between its charge "
                f"and CartRover's shipment confirmation ({wait.words()}): the 7-day "
                "authorization can lapse first, and Houzz then refuses the confirmation "
                "(the order is In Production again)",
            )
        )
    for action in ("Process", "Charge"):
        habit = staff_habit(policy, action)
        if habit != "never" and not any(
            a == action and "staff" in m.actors for (_, a), m in table.moves.items()
        ):
            add(
                Finding(
                    "HZ013",
                    f"assume.staff.{action.lower()}",
                    f"assume.staff.{action.lower()} is {habit}, but on "
                    f"{PROGRAM_NAMES[policy.account]} orders in the {policy.era} era Houzz "
                    f"has no {action} step for staff; the habit has no effect",
                    Severity.WARNING,
                )
            )
    held_states = sorted(
        {s for s, _ in order_paths(policy).reachable if s in table.hidden}
        if policy.connection_type == policy.account
        else set()
    )
    if held_states:
        held = ", ".join(table.labels[s] for s in held_states)
        add(
            Finding(
                "HZ008",
                "order_status",
                f"Houzz holds {held} orders back until the customer's payment succeeds; "
                "they load when they become Charged, later than the others",
                Severity.INFO,
            )
        )
    if lapses:
        add(
            Finding(
                "HZ009",
                "connection_type",
                "a charge authorizes the card for 7 days; an order the warehouse has not "
                "shipped by then falls back to In Production and Houzz refuses its shipment "
                "confirmation; the proof assumes the warehouse ships within "
                f"{format_duration(policy.ships_within)} (assume.warehouse.ships_within)",
                Severity.INFO,
            )
        )
    backlog_limit = lapse_free_backlog(policy)
    if backlog_limit is not None:
        days = backlog_limit // 86400
        hours = backlog_limit % 86400 // 3600
        exact = f"{days} day{'' if days == 1 else 's'}" + (
            f" {hours} hour{'' if hours == 1 else 's'}" if hours else ""
        )
        exact_days = f"{days} day{'' if days == 1 else 's'}"
        eod = policy.earliest_order_date
        if days == 0:
            advice = "start with no order from before go-live (Earliest Order Date: go-live)"
        elif eod is not None:
            advice = f"keep Earliest Order Date ({eod.isoformat()}) within {exact_days} of go-live"
        else:
            advice = f"set Earliest Order Date to no more than {exact_days} before go-live"
        add(
            Finding(
                "HZ016",
                "earliest_order_date",
                "orders Houzz or staff charged before go-live are loaded on CartRover's first "
                f"download; one charged more than {exact} before it can lapse before CartRover "
                f"confirms its shipment (the proof covers orders placed after go-live): {advice}",
                Severity.WARNING,
            )
        )
    if policy.earliest_order_date is not None:
        add(
            Finding(
                "HZ010",
                "earliest_order_date",
                f"orders created before {policy.earliest_order_date.isoformat()} are skipped "
                "by design on the first download (reported, not counted lost)",
                Severity.INFO,
            )
        )


def is_safe(policy: Policy) -> bool:
    return not any(f.severity is Severity.ERROR for f in find(policy))


def nearest_safe(policy: Policy) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The fewest changes that make the policy safe: (setting changes, assumption changes).

    Settings are tried first; only when no CartRover setting is safe for the assumptions is a
    staff habit changed too. Ties prefer CartRover's defaults for the account.
    """
    base = policy
    if lapse_possible(base):
        # A shorter poll interval, the longest round one that leaves no lapse, if any does.
        interval = longest_safe_poll_interval(base)
        if interval is None:
            return None
        base = base.with_settings(poll_interval=interval)
    setting_moves = _candidates(base, SETTINGS_SPACE)
    for habits in _habit_candidates(base):
        candidate_base = base.with_settings(**habits) if habits else base
        for changes in setting_moves:
            trial = candidate_base.with_settings(**changes) if changes else candidate_base
            if is_safe(trial):
                if base is not policy:
                    changes = {**changes, "poll_interval": format_duration(base.poll_interval)}
                return changes, habits
    return None


def _candidates(policy: Policy, space: dict[str, tuple[Any, ...]]) -> list[dict[str, Any]]:
    current = {k: getattr(policy, k) for k in space}
    defaults = cartrover_defaults(policy.account, policy.era)
    combos: list[tuple[int, int, dict[str, Any]]] = []
    for values in itertools.product(*space.values()):
        combo = dict(zip(space, values, strict=True))
        changes = {k: v for k, v in combo.items() if v != current[k]}
        off_default = sum(1 for k, v in combo.items() if k in defaults and v != defaults[k])
        combos.append((len(changes), off_default, changes))
    combos.sort(key=lambda c: (c[0], c[1]))
    return [c[2] for c in combos]


def _habit_candidates(policy: Policy) -> Iterable[dict[str, Any]]:
    return _candidates(policy, HABIT_SPACE)


def describe_fix(changes: dict[str, Any], habits: dict[str, Any]) -> str:
    def show(v: Any) -> str:
        return str(v).lower() if isinstance(v, bool) else str(v)

    parts = [f"{k}: {show(v)}" for k, v in changes.items()]
    text = "set " + ", ".join(parts) if parts else ""
    if habits:
        agreed = ", ".join(f"staff {k.removeprefix('staff_')} {v}" for k, v in habits.items())
        lead = "no CartRover setting is safe for these staff habits; agree " + agreed
        text = f"{lead}, and {text}" if text else lead
    return text


def fix_patch(changes: dict[str, Any], habits: dict[str, Any]) -> dict[str, Any]:
    """The fix as dotted policy-file keys, so a tool (or a test) can apply it."""
    patch = dict(changes)
    for k, v in habits.items():
        patch[f"assume.staff.{k.removeprefix('staff_')}"] = v
    return patch


def why_changes(
    policy: Policy, changes: dict[str, Any], habits: dict[str, Any]
) -> dict[str, list[str]]:
    """For each change of a fix (dotted patch keys), the error codes that fire when every
    other change is made but that one: the findings the change answers. A change with no
    finding on the policy as written (``cancel_download: true`` after a new Order Status)
    is explained by the finding the other changes would bring."""
    patch = fix_patch(changes, habits)
    why: dict[str, list[str]] = {}
    for key in patch:
        rest = {k: v for k, v in changes.items() if k != key}
        rest_habits = {k: v for k, v in habits.items() if _habit_key(k) != key}
        if "poll_interval" in rest:
            rest["poll_interval"] = parse_duration(rest["poll_interval"])
        trial = policy.with_settings(**rest, **rest_habits)
        why[key] = sorted({f.code for f in find(trial) if f.severity is Severity.ERROR})
    return why


def _habit_key(field_name: str) -> str:
    return f"assume.staff.{field_name.removeprefix('staff_')}"


def own_fix(
    finding: Finding, changes: dict[str, Any], habits: dict[str, Any], why: dict[str, list[str]]
) -> tuple[str, dict[str, Any]]:
    """The part of the nearest safe settings that is about one finding: the change to its
    own setting, and any change that answers its code; the whole fix only when no part of
    it is about the finding (a fix that changes staff habits)."""
    patch = fix_patch(changes, habits)
    mine = {k for k in patch if k == finding.setting or finding.code in why.get(k, [])}
    if not mine:
        return describe_fix(changes, habits), patch
    own_changes = {k: v for k, v in changes.items() if k in mine}
    own_habits = {k: v for k, v in habits.items() if _habit_key(k) in mine}
    return describe_fix(own_changes, own_habits), fix_patch(own_changes, own_habits)


def diagnose(policy: Policy, locate: Locate) -> list[Diagnostic]:
    """Rule findings as diagnostics placed in the policy file, each error with its own fix:
    the part of the nearest safe settings that is about that finding."""
    findings = find(policy)
    nearest: tuple[dict[str, Any], dict[str, Any]] | None = None
    why: dict[str, list[str]] = {}
    if any(f.severity is Severity.ERROR for f in findings):
        nearest = nearest_safe(policy)
        if nearest is not None:
            why = why_changes(policy, *nearest)
    out = []
    for f in findings:
        fix_text, patch = "", None
        if f.severity is Severity.ERROR:
            if nearest is None:
                fix_text = "no combination of settings and staff habits is safe; see DOMAIN.md"
            else:
                fix_text, patch = own_fix(f, *nearest, why)
        out.append(Diagnostic(f.code, f.severity, f.message, locate(f.setting), fix_text, patch))
    return out
