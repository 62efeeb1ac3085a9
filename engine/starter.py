"""``houzzflow init policy|scenario``: a commented starting file, valid as written.

The file opens with the ``yaml-language-server`` line naming the schema an editor checks it
against (``houzzflow schema policy > policy.schema.json``), writes out CartRover's defaults
for the program and era chosen, and says in a comment what each setting does.
"""

from __future__ import annotations

from houzzflow.engine.policy import cartrover_defaults

KINDS = ("policy", "scenario")


def _yaml(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def policy_text(program: str = "seller", era: str = "2021", *, indent: str = "") -> str:
    """A policy with CartRover's defaults for ``program`` and ``era``, every line explained."""
    d = cartrover_defaults(program, era)
    era_text = '"2021"' if era == "2021" else era
    pairs = [
        (f"connection_type: {program}", "seller | vendor: the Houzz program"),
        (
            f"order_status: {d['order_status']}",
            "new | in_production | new_or_in_production | charged",
        ),
        (f"mark_processed: {_yaml(d['mark_processed'])}", "CartRover calls Process after loading"),
        (f"mark_charged: {_yaml(d['mark_charged'])}", "CartRover calls Charge after loading"),
        ("cancel_download: true", "Order Cancel Download"),
        ("poll_interval: 15m", "30s, 15m, 4h, 2d (at most 30d)"),
        ("# earliest_order_date: 2026-01-01", "orders created before it are skipped"),
        ("assume:", "what the settings rely on"),
        (f"  account: {program}", "the program the account is really in"),
        (f"  era: {era_text}", 'legacy (before 2021-09-01) | "2021"'),
        ("  staff:", "what staff do by hand in Houzz's seller UI"),
        ("    process: never", "never | always | sometimes"),
        ("    charge: never", "never | always | sometimes"),
        ("    cancel: never", "never | sometimes"),
    ]
    width = 37 - len(indent)
    lines = [f"{setting:<{width}}  # {comment}" for setting, comment in pairs]
    return "".join(indent + line + "\n" for line in lines)


def starter(kind: str, program: str = "seller", era: str = "2021") -> str:
    """The starting file for ``kind`` (policy or scenario)."""
    if kind == "policy":
        return (
            "# yaml-language-server: $schema=policy.schema.json\n"
            f"# One Houzz cart's CartRover settings ({program}, {era} era): CartRover's "
            "defaults.\n"
            "# Check it: houzzflow validate FILE\n" + policy_text(program, era)
        )
    if kind != "scenario":
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    return (
        "# yaml-language-server: $schema=scenario.schema.json\n"
        "# A scenario: a policy, a world around it, and what the run must show.\n"
        "# Run it: houzzflow run FILE\n"
        "name: my-cart                          # required\n"
        "description: CartRover's defaults\n"
        "seed: 1                                # one seed drives every random choice\n"
        "duration: 2d                           # simulated time: 30s, 15m, 4h, 2d\n"
        "policy:                                # inline, or the path of a policy file\n"
        + policy_text(program, era, indent="  ")
        + "world:\n"
        "  orders: {count: 500, cancel_probability: 0.02}\n"
        "  backend: {ship_delay: [1h, 12h]}     # the warehouse\n"
        "drain: 14d                             # after the order stream, until all settled\n"
        "expect: {lost: 0, duplicated: 0, unpaid_shipped: 0, held: 0}\n"
    )
