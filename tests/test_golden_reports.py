"""Every bundled scenario reports exactly what it reported when the fingerprints were taken.

Speed work (a compact store, a compiled module, a batched step) must not move a run: the same
seed gives the same report and the same timeline, byte for byte. A change that is meant to
move runs re-baselines with ``python tests/golden_reports.py --write`` and says why.
"""

from __future__ import annotations

import pytest
from golden_reports import cases, fingerprint, read

CASES = cases()
GOLDEN = read()


def test_every_case_has_a_fingerprint() -> None:
    assert sorted(GOLDEN) == sorted(CASES), "re-baseline: python tests/golden_reports.py --write"


@pytest.mark.parametrize("name", sorted(CASES))
def test_report_and_timeline_unchanged(name: str) -> None:
    file, overrides = CASES[name]
    now = fingerprint(file, overrides)
    then = GOLDEN[name]
    assert now["counts"] == then["counts"], "the run's counts moved"
    assert (now["placed"], now["polls"], now["happenings"]) == (
        then["placed"],
        then["polls"],
        then["happenings"],
    ), "orders placed, polls or happenings moved"
    assert now["timeline"] == then["timeline"], "the same events ran in another order"
    assert now["json"] == then["json"], "the JSON report changed"
    assert now["text"] == then["text"], "the text report changed"
