"""Fingerprints of what every bundled scenario reports, so a change meant to be invisible
(a faster store, a compiled module, a batched step) is shown to be.

Each case is a scenario file with overrides. Its fingerprint is the SHA-256 of its JSON
report and of its text report, and of its whole timeline (every happening of every order,
in the order they ran: stricter than the report, which tells only a few orders' stories),
with the counts beside them so a failure says what moved. ``tests/golden/reports.json``
holds them; ``tests/test_golden_reports.py`` compares.

A change that is meant to move the run (a new random stream, a new rule) re-baselines them
once, on purpose, and says so in its commit::

    python tests/golden_reports.py --write
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "reports.json"
SCENARIOS = ROOT / "scenarios"

# Beyond the files as they are: larger worlds, and seconds crowded with shipments and sends
# (where a batched or reordered step would show first).
EXTRA: dict[str, tuple[str, tuple[str, ...]]] = {
    "seller-default@20k": ("seller-default.yaml", ("world.orders.count=20000",)),
    "seller-default@2k-ship-1h": (
        "seller-default.yaml",
        ("world.backend.ship_delay=[1h,1h]",),
    ),
    "safe-vendor@20k-ship-1h": (
        "safe-vendor.yaml",
        ("world.orders.count=20000", "world.backend.ship_delay=[1h,1h]"),
    ),
    "seller-default@5k-staff-sometimes": (
        "seller-default.yaml",
        (
            "world.orders.count=5000",
            "policy.order_status=new",
            "world.staff.process=sometimes",
        ),
    ),
}


def cases() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Every case by name: each bundled scenario as it is, then the extras."""
    found = {p.stem: (p.name, ()) for p in sorted(SCENARIOS.glob("*.yaml"))}
    return {**found, **EXTRA}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fingerprint(file: str, overrides: tuple[str, ...]) -> dict[str, Any]:
    """What one case reports, as hashes and counts."""
    from houzzflow.simulator.kernel.timeline import Timeline
    from houzzflow.simulator.runs.report import json_report, text_report
    from houzzflow.simulator.runs.runner import _Run, run_scenario
    from houzzflow.simulator.runs.scenario import load_scenario

    scenario = load_scenario(SCENARIOS / file, list(overrides))
    result = run_scenario(scenario)
    # The scenario's path as given here, so the hashes do not depend on the checkout's place.
    as_json = json_report([result]).replace(str(SCENARIOS), "scenarios")
    as_text = text_report([result]).replace(str(SCENARIOS), "scenarios")
    traced = _Run(scenario, timeline=Timeline())
    traced.run(None)
    assert traced.timeline is not None
    lines = "\n".join(repr(h) for h in traced.timeline.happenings)
    return {
        "json": _sha(as_json),
        "text": _sha(as_text),
        "timeline": _sha(lines),
        "happenings": len(traced.timeline.happenings),
        "counts": dict(sorted(result.counts.items())),
        "placed": result.placed,
        "polls": result.polls,
    }


def read() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(GOLDEN.read_text(encoding="utf-8"))
    return data


def write() -> None:
    table = {name: fingerprint(f, o) for name, (f, o) in cases().items()}
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {len(table)} fingerprints to {GOLDEN.relative_to(ROOT)}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/golden_reports.py --write")
    write()
