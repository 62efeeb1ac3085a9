"""houzzflow's public Python API, used as a user would: ``import houzzflow`` and nothing else.

Each result's ``to_json()`` must be exactly what the matching command prints with
``--format json``, so the two are compared on the same input.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import houzzflow

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "scenarios" / "policies"
SAFE = POLICIES / "vendor.yaml"
LOSS = POLICIES / "loss-vendor-order-status-new.yaml"
SCENARIO = ROOT / "scenarios" / "seller-default.yaml"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "houzzflow", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def test_all_lists_what_the_package_offers() -> None:
    assert set(houzzflow.__all__) >= {
        "validate",
        "run",
        "matrix",
        "HouzzHarness",
        "strategies",
        "InputError",
    }
    for name in houzzflow.__all__:
        assert getattr(houzzflow, name) is not None
        assert name in dir(houzzflow)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = houzzflow.nope  # type: ignore[attr-defined]
    assert callable(houzzflow.strategies.policy_files)


@pytest.mark.parametrize("policy", [SAFE, LOSS], ids=["proven", "counterexample"])
def test_validate_returns_what_the_cli_prints(policy: Path) -> None:
    report = houzzflow.validate(policy.relative_to(ROOT))
    printed = cli("validate", "--format", "json", str(policy.relative_to(ROOT)))
    assert report.to_json() == json.loads(printed.stdout)
    assert report.exit_code == printed.returncode
    assert report.verdict == ("proven" if policy == SAFE else "counterexample")


def test_validate_takes_a_mapping_and_judges_it_as_the_file() -> None:
    settings = yaml.safe_load(LOSS.read_text(encoding="utf-8"))
    from_mapping = houzzflow.validate(settings)
    from_file = houzzflow.validate(LOSS)
    assert from_mapping.verdict == from_file.verdict == "counterexample"
    assert [d.code for d in from_mapping.diagnostics] == [d.code for d in from_file.diagnostics]
    assert {d.location.file for d in from_mapping.diagnostics if d.location} <= {"<policy>"}


def test_unreadable_policy_is_a_verdict_not_an_exception() -> None:
    report = houzzflow.validate({"connection_type": "sellr"})
    assert report.verdict == "invalid"
    assert report.exit_code == 2
    assert report.diagnostics[0].fix == "did you mean 'seller'?"
    assert report.diagnostics[0].location is not None
    assert report.diagnostics[0].location.line == 1


def test_proof_bounds_are_checked_at_once() -> None:
    with pytest.raises(ValueError, match="orders=5: expected a whole number from 1 to 4"):
        houzzflow.validate(SAFE, orders=5)
    with pytest.raises(ValueError, match="max_states"):
        houzzflow.validate(SAFE, max_states=10**12)
    with pytest.raises(ValueError, match="faults"):
        houzzflow.matrix(faults=4)  # the same bounds as validate: 0 to 3


def test_validate_without_proof_stops_at_the_rules() -> None:
    report = houzzflow.validate(SAFE, proof=False)
    assert report.tier == "rules"
    assert "proof" not in report.to_json()


def test_run_returns_what_the_cli_prints() -> None:
    result = houzzflow.run(SCENARIO.relative_to(ROOT), overrides=["world.orders.count=40"])
    printed = cli(
        "run", "--format", "json", "--set", "world.orders.count=40", str(SCENARIO.relative_to(ROOT))
    )
    assert json.loads(printed.stdout)["scenarios"] == [result.to_json()]
    assert result.ok and result.exit_code == printed.returncode == 0
    assert result.placed == 40


def test_run_overrides_as_a_mapping_equal_the_texts() -> None:
    texts = houzzflow.run(SCENARIO, overrides=["world.orders.count=25", "seed=3"])
    mapping = houzzflow.run(SCENARIO, overrides={"world.orders.count": 25, "seed": 3})
    assert texts.to_json() == mapping.to_json()


def test_run_refuses_a_bad_scenario_with_its_location(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    policy = SAFE.relative_to(ROOT)
    bad.write_text(f"name: x\npolicy: {ROOT / policy}\nduraton: 1d\n", encoding="utf-8")
    with pytest.raises(houzzflow.InputError) as caught:
        houzzflow.run(bad)
    first = caught.value.diagnostics[0]
    assert first.location is not None
    assert (first.location.file, first.location.line) == (str(bad), 3)
    assert "duraton" in first.message


def test_matrix_returns_what_the_cli_prints() -> None:
    m = houzzflow.matrix(orders=1, faults=0, account="vendor", era="2021", jobs=1)
    printed = cli(
        "matrix", "--format", "json", "--orders", "1", "--faults", "0", "--account", "vendor",
        "--era", "2021", "--jobs", "1",
    )  # fmt: skip
    assert m.to_json() == json.loads(printed.stdout)
    assert m.exit_code == printed.returncode
    assert {row["account"] for row in m.to_json()} == {"vendor"}


def test_the_harness_is_public() -> None:
    harness = houzzflow.HouzzHarness(program="seller", era="2021")
    order = harness.place_order()
    assert harness.status(order) == "New"


def test_the_readme_python_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("\n## From Python\n")
    body = text[start : text.index("\n## ", start + 1)]
    (example,) = [b.split("\n", 1)[1] for b in body.split("```")[1::2] if b.startswith("python")]
    exec(compile(example, "README.md (From Python)", "exec"), {})
    assert capsys.readouterr().out == "set order_status: charged\n"
