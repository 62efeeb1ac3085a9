"""Hypothesis strategies for houzzflow users: policies, orders, staff habits, faults.

Following Hypothesis' own conventions: plain functions, keyword-only arguments validated
eagerly (a bad argument raises at once, not when drawing), and an argument that varies
takes a strategy. Policies come as policy-file mappings (what a user writes, ready for
``yaml.safe_dump``); ``resolved`` turns one into an ``engine.policy.Policy``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from engine.policy import ORDER_STATUSES, Policy, PolicyFile, resolve
from engine.rules import CODES, is_safe

SAFE_SETUPS: dict[str, dict[str, Any]] = {
    "seller-legacy-default": {"connection_type": "seller", "assume": {"era": "legacy"}},
    "seller-legacy-manual-process": {
        "connection_type": "seller",
        "order_status": "in_production",
        "mark_processed": False,
        "assume": {"era": "legacy", "staff": {"process": "always"}},
    },
    "seller-legacy-manual-charge": {
        "connection_type": "seller",
        "order_status": "charged",
        "mark_processed": False,
        "mark_charged": False,
        "assume": {"era": "legacy", "staff": {"process": "always", "charge": "always"}},
    },
    "seller-2021": {"connection_type": "seller", "assume": {"era": "2021"}},
    "vendor": {"connection_type": "vendor"},
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
