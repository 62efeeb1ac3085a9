"""`houzzflow validate` with the proof tier, `houzzflow matrix`, and replayable counterexamples,
as a user meets them on the command line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import houzzflow as houzzflow_api
from houzzflow.engine.assumptions import default_register
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
    assert proof["bounds"] == {
        "orders": 2,
        "faults": 1,
        "declines": 1,
        "lapse": False,
        "max_states": 400_000,
    }
    assert proof["states"] > 0
    story = [step["text"] for step in proof["counterexample"]["timeline"]]
    assert any("staff processed it by hand" in line for line in story)
    assert story[-1].startswith("=> order #1 breaks 'nothing lost'")
    assert proof["nearest_proven"]["patch"]


def test_text_tells_the_story_and_the_nearest_proven_settings() -> None:
    code, out = houzzflow("validate", STAFF_FIRST)
    assert code == 1
    assert "proof: counterexample within 2 orders, up to 1 API fault, up to 1 declined card;" in out
    assert "shortest way to break it (visible: " in out
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
        and r["mark_processed"] == r["mark_charged"] == "true"
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


def _validate_json(*args: str) -> dict[str, object]:
    _, out = houzzflow("validate", "--format", "json", *args)
    report: dict[str, object] = json.loads(out)
    return report


def test_the_json_says_what_the_verdict_rests_on() -> None:
    report = _validate_json(str(POLICIES / "seller-legacy-manual-process.yaml"))
    assert report["verdict"] == "proven"
    proof = report["proof"]
    assert isinstance(proof, dict)
    rows = {row["name"]: row for row in proof["assumptions"]}
    assert set(rows) == set(default_register().assumptions)
    assert rows["mark_step_done"] == {
        "name": "mark_step_done",
        "about": "houzz",
        "value": "explored",
        "explored": ["refused", "no_op"],
        "status": "unconfirmed",
        "pinned": False,
        "use": "explored",
    }
    assert rows["charge_decline"]["explored"] == ["hold", "retry"]
    assert (rows["window_field"]["value"], rows["window_field"]["use"]) == ("modified", "settled")
    assert rows["time_zone"]["explored"] == [] and rows["time_zone"]["use"] == "not explored"
    assert proof["declines_explored"] is True


def test_a_counterexample_names_the_answers_it_needs_and_its_kind() -> None:
    proof = _validate_json(STAFF_FIRST)["proof"]
    assert isinstance(proof, dict)
    example = proof["counterexample"]
    # Under no_op the staff's Process is answered as done and the order goes on: proven.
    assert example["needs"] == {"mark_step_done": "refused"}
    assert example["kind"] == "visible"  # held in Error, with an alert
    assert example["world"]["mark_step_done"] == "refused"
    _, out = houzzflow("validate", STAFF_FIRST)
    assert "only if mark_step_done is refused (Ack Error with the reason;" in out
    assert "confirm it with Houzz" in out
    assert "shortest way to break it (visible: CartRover holds the order in Error" in out


def test_a_wrong_connection_is_a_silent_loss_unless_houzz_answers_with_an_error(
    tmp_path: Path,
) -> None:
    wrong = POLICIES / "loss-seller-connection-on-vendor-account.yaml"
    proof = _validate_json(str(wrong))["proof"]
    assert isinstance(proof, dict)
    assert proof["counterexample"]["kind"] == "silent"
    assert proof["counterexample"]["needs"] == {}  # either answer loses every order
    data = yaml.safe_load(wrong.read_text())
    data.setdefault("assume", {})["houzz"] = {"wrong_connection": "error"}
    pinned = tmp_path / "pinned.yaml"
    pinned.write_text(yaml.safe_dump(data))
    report = _validate_json(str(pinned))
    proof = report["proof"]
    assert isinstance(proof, dict)
    assert proof["counterexample"]["kind"] == "visible"
    assert "shows as an alert" in proof["counterexample"]["message"]
    rows = {row["name"]: row for row in proof["assumptions"]}
    assert rows["wrong_connection"]["pinned"] and rows["wrong_connection"]["value"] == "error"
    assert not [d for d in report["diagnostics"] if d["code"] == "PROOF001"]  # type: ignore[index]


def test_a_proven_verdict_lists_the_facts_it_rests_on() -> None:
    code, out = houzzflow("validate", SAFE)
    assert code == 0
    (line,) = [line for line in out.splitlines() if "rests on:" in line]
    assert "window_field=modified, listing=all_statuses (the sources rule out the rest)" in line
    assert "every answer explored for mark_step_done, charge_decline" in line
    assert "time_zone: no verdict depends on it" in line


@pytest.mark.parametrize(
    ("pin", "claims"),
    [
        (
            {"houzz": {"window_field": "created"}},
            "seller-legacy-default, seller-legacy-manual-process",
        ),
        (
            {"cartrover": {"listing": "status_filter"}},
            "seller-legacy-default, seller-legacy-manual-process",
        ),
    ],
)
def test_pinning_an_answer_the_sources_rule_out_is_inconclusive(
    tmp_path: Path, pin: dict[str, object], claims: str
) -> None:
    data = yaml.safe_load(Path(SAFE).read_text())
    data["assume"] = {**data.get("assume", {}), **pin}
    policy = tmp_path / "pinned.yaml"
    policy.write_text(yaml.safe_dump(data))
    for args in ((), ("--no-proof",)):
        code, out = houzzflow("validate", "--format", "json", *args, str(policy))
        report = json.loads(out)
        assert code == 1
        assert report["verdict"] == "inconclusive"
        codes = [d["code"] for d in report["diagnostics"]]
        assert "ASSUME010" in codes and "PROOF001" not in codes
        (d,) = [d for d in report["diagnostics"] if d["code"] == "ASSUME010"]
        assert d["severity"] == "error" and claims in d["message"]
        assert d["line"] > 1  # at the pin itself
    assert report["tier"] == "rules"
    code, out = houzzflow("validate", str(policy))
    assert "inconclusive (proof)" in out
    assert "nothing explored; the policy pins" in out


def test_a_saved_counterexample_replays_in_its_world_until_the_policy_is_fixed(
    tmp_path: Path,
) -> None:
    code, out = houzzflow(
        "validate", "--format", "json", "--save-counterexample", str(tmp_path), STAFF_FIRST
    )
    saved = Path(json.loads(out)["proof"]["scenario"])
    text = saved.read_text()
    assert "# visible: CartRover holds the order in Error" in text
    assert "# only if mark_step_done is refused" in text
    world = yaml.safe_load(text)["world"]
    assert world["houzz"]["mark_step_done"] == "refused"
    assert world["cartrover"] == {"charge_decline": "hold"}
    code, out = houzzflow("run", str(saved))
    assert code == 0, out
    assert "✔ lost >= 1 (else the counterexample no longer reproduces): got 1" in out
    # Fixed as the proof suggests, the replay fails: the counterexample no longer reproduces.
    code, out = houzzflow(
        "run", str(saved), "--set", "policy.order_status=in_production",
        "--set", "policy.mark_processed=false",
    )  # fmt: skip
    assert code == 1
    assert "✘ lost >= 1 (else the counterexample no longer reproduces): got 0" in out


def test_when_no_settings_nearby_are_proven_the_proof_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from houzzflow.simulator.proof import verdict
    from houzzflow.simulator.validate import load_policy

    # The rules' nearest safe settings, made wrong on purpose: the same settings again.
    monkeypatch.setattr(verdict, "nearest_safe", lambda policy: ({"poll_interval": "15m"}, {}))
    proof = verdict.prove(load_policy(STAFF_FIRST))
    assert proof.nearest is None and proof.unproven is not None
    assert proof.unproven["patch"] == {"poll_interval": "15m"}
    # It fails under refused only: confirm that with Houzz.
    assert proof.unproven["fails_if"] == {"mark_step_done": "refused"}
    assert proof.unproven["confirm"] == ["mark_step_done"]
    assert "confirm mark_step_done with Houzz" in proof.unproven["text"]
    assert proof.to_json()["nearest_unproven"] == proof.unproven


WRONG = POLICIES / "loss-seller-connection-on-vendor-account.yaml"


def _pinned_wrong_connection(tmp_path: Path) -> Path:
    data = yaml.safe_load(WRONG.read_text())
    data.setdefault("assume", {})["houzz"] = {"wrong_connection": "error"}
    policy = tmp_path / "wrong-connection-error.yaml"
    policy.write_text(yaml.safe_dump(data))
    return policy


def test_a_saved_counterexample_sets_the_answers_of_its_world(tmp_path: Path) -> None:
    policy = _pinned_wrong_connection(tmp_path)
    code, out = houzzflow(
        "validate", "--format", "json", "--save-counterexample", str(tmp_path), str(policy)
    )
    scenario = yaml.safe_load(Path(json.loads(out)["proof"]["scenario"]).read_text())
    assert scenario["world"]["houzz"]["wrong_connection"] == "error"
    assert scenario["policy"]["assume"]["houzz"] == {"wrong_connection": "error"}
    code, out = houzzflow("run", json.loads(out)["proof"]["scenario"])
    assert code == 0, out  # the order is never seen, whatever Houzz answers


# These replay a counterexample in a world that answers an open question other than the
# simulator's default: they pass once the simulator honours world.houzz.* / world.cartrover.*
# (being done on another branch); until then the replay runs the default world.
def test_a_replay_under_a_wrong_connection_error_shows_the_alert(tmp_path: Path) -> None:
    policy = _pinned_wrong_connection(tmp_path)
    _, out = houzzflow(
        "validate", "--format", "json", "--save-counterexample", str(tmp_path), str(policy)
    )
    result = houzzflow_api.run(json.loads(out)["proof"]["scenario"])
    assert result.ok
    assert result.alerts, "CartRover shows Houzz's error: the loss is visible"


def _declined_script(answer: str) -> dict[str, object]:
    return {
        "name": f"declined-{answer}",
        "duration": "3h",
        "policy": {"connection_type": "seller", "assume": {"era": "legacy"}},
        "world": {
            "cartrover": {"charge_decline": answer},
            "script": [
                {"at": "10s", "order": 1, "actor": "customer", "action": "Place"},
                {
                    "at": "20s",
                    "actor": "connector",
                    "action": "Poll",
                    "fault": {"order": 1, "write": "Charge", "kind": "declined"},
                },
                {"at": "1h", "order": 1, "actor": "customer", "action": "PaymentFixed"},
                {"at": "2h", "actor": "connector", "action": "Poll"},
            ],
        },
    }


def test_a_script_declines_the_card_at_cartrovers_charge() -> None:
    result = houzzflow_api.run(_declined_script("hold"))
    # held in Error by the customer's card, not by a setting: accounted
    assert result.counts["held_accounted"] == 1 and result.counts["held"] == 0
    assert any("the card was declined" in a.message for a in result.alerts)


def test_a_replayed_declined_card_held_in_error_is_accounted() -> None:
    result = houzzflow_api.run(_declined_script("hold"))
    assert result.counts["lost"] == 0


def test_a_replayed_declined_card_is_charged_again_under_retry() -> None:
    result = houzzflow_api.run(_declined_script("retry"))
    assert result.counts["lost"] == 0 and result.counts["held"] == 0
    assert result.counts["loaded"] == 1


def test_a_path_with_a_declined_card_becomes_a_script_that_declines_it() -> None:
    from houzzflow.simulator.proof.counterexample import scenario_of
    from houzzflow.simulator.proof.explorer import Bounds, Exploration
    from houzzflow.simulator.proof.model import DECLINED, Event
    from houzzflow.simulator.validate import load_policy

    policy = load_policy(SAFE)
    path = [Event("place", -1), Event("poll", -1, fault=(0, "Charge", DECLINED))]
    facts = (("charge_decline", "hold"),)
    exploration = Exploration("counterexample", Bounds(), 0, 0, 2, path=path, facts=facts)
    scenario = scenario_of(policy, exploration, name="declined")
    assert scenario["world"]["cartrover"] == {"charge_decline": "hold"}
    poll = scenario["world"]["script"][1]
    assert poll["fault"] == {"order": 1, "write": "Charge", "kind": "declined"}
    result = houzzflow_api.run({**scenario, "expect": {"held_accounted": 1}})
    assert result.ok, [e.message for e in result.expectations]
