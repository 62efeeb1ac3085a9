"""`houzzflow validate` with the proof tier, `houzzflow matrix`, and replayable counterexamples,
as a user meets them on the command line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from houzzflow.simulator.cli import main

POLICIES = Path(__file__).resolve().parent.parent / "scenarios" / "policies"
SAFE = str(POLICIES / "seller-legacy-default.yaml")
STAFF_FIRST = str(POLICIES / "loss-mark-processed-after-staff-processed.yaml")


def houzzflow(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_json_carries_the_proof_bounds_states_and_the_counterexample() -> None:
    code, out = houzzflow("validate", "--format", "json", STAFF_FIRST)
    assert code == 1
    report = json.loads(out)
    assert report["tier"] == "proof" and report["verdict"] == "counterexample"
    proof = report["proof"]
    assert proof["bounds"] == {"orders": 2, "faults": 1, "lapse": False, "max_states": 400_000}
    assert proof["states"] > 0
    story = proof["counterexample"]["timeline"]
    assert any("staff processed it by hand" in line for line in story)
    assert story[-1].startswith("=> order #1 breaks 'nothing lost'")
    assert proof["nearest_proven"]["patch"]


def test_text_tells_the_story_and_the_nearest_proven_settings() -> None:
    code, out = houzzflow("validate", STAFF_FIRST)
    assert code == 1
    assert "proof: counterexample within 2 orders, up to 1 API fault;" in out
    assert "shortest way to break it:" in out
    assert "Mark Orders as Processed was rejected by Houzz" in out
    assert "nearest proven settings:" in out


def test_a_user_applies_the_suggested_settings_and_gets_proven(tmp_path: Path) -> None:
    code, out = houzzflow(
        "validate", "--format", "json", str(POLICIES / "loss-legacy-charged-nobody-charges.yaml")
    )
    patch = json.loads(out)["proof"]["nearest_proven"]["patch"]
    data = yaml.safe_load(Path(POLICIES / "loss-legacy-charged-nobody-charges.yaml").read_text())
    for dotted, value in patch.items():
        here = data
        *parents, last = dotted.split(".")
        for part in parents:
            here = here.setdefault(part, {})
        here[last] = value
    fixed = tmp_path / "fixed.yaml"
    fixed.write_text(yaml.safe_dump(data))
    code, out = houzzflow("validate", str(fixed))
    assert code == 0, out
    assert "proven (proof)" in out


def test_saved_counterexamples_replay_to_the_same_violation(tmp_path: Path) -> None:
    code, out = houzzflow(
        "validate", "--format", "json", "--save-counterexample", str(tmp_path), STAFF_FIRST, SAFE
    )
    reports = [json.loads(line) for line in out.splitlines()]
    saved = reports[0]["proof"]["scenario"]
    assert "scenario" not in reports[1]["proof"]  # a proven policy has nothing to save
    assert [p.name for p in tmp_path.iterdir()] == [Path(saved).name]
    text = Path(saved).read_text()
    assert text.startswith("# A counterexample found by `houzzflow validate`")
    code, out = houzzflow("run", saved)
    assert code == 0, out  # its expectation is the violation, and the run shows it
    assert "✘ nothing lost" in out
    assert "held in Error" in out


def test_a_bound_that_cuts_the_proof_short_is_inconclusive_and_says_what_to_raise() -> None:
    code, out = houzzflow(
        "validate", "--max-states", "100", str(POLICIES / "seller-legacy-manual-charge.yaml")
    )
    assert code == 1
    assert "inconclusive" in out
    assert "raise --max-states" in out


def test_no_proof_leaves_the_rules_to_decide() -> None:
    code, out = houzzflow("validate", "--no-proof", "--format", "json", SAFE)
    assert code == 0
    assert json.loads(out)["tier"] == "rules"


def test_matrix_lists_every_cell_with_a_reason_for_each_unsafe_one() -> None:
    code, out = houzzflow(
        "matrix", "--format", "csv", "--account", "seller", "--era", "legacy", "--jobs", "1"
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 18 * 32  # staff habit worlds x settings
    unsafe = [r for r in rows if r["verdict"] != "proven"]
    assert unsafe and all(r["reason"] and r["codes"] for r in unsafe)
    default = [
        r
        for r in rows
        if r["staff_process"] == r["staff_charge"] == r["staff_cancel"] == "never"
        and r["connection_type"] == "seller"
        and r["order_status"] == "new_or_in_production"
        and r["mark_processed"] == r["mark_charged"] == "True"
    ]
    assert [r["verdict"] for r in default] == ["proven"]


def test_matrix_text_and_markdown_summarise_the_agreement() -> None:
    code, text = houzzflow("matrix", "--account", "vendor", "--era", "2021", "--jobs", "1")
    assert code == 0
    assert text.rstrip().endswith("rules and proof disagree on 0")
    assert "Houzz Vendor / Charged / process off / charge off" in text
    code, md = houzzflow(
        "matrix", "--format", "markdown", "--account", "vendor", "--era", "2021", "--jobs", "1"
    )
    assert "| settings | verdict | why |" in md
