"""The register of open questions: loaded and checked like the machine, pinned by policies,
printed by ``houzzflow assumptions``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from houzzflow.engine.assumptions import (
    answers,
    default_register,
    load_register_file,
    open_alternatives,
    unsimulated,
)
from houzzflow.engine.diagnostics import InputError
from houzzflow.engine.validation import validate_policy_file
from houzzflow.simulator.cli import main

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "engine" / "assumptions.yaml"


def test_the_register_holds_every_question_the_sources_leave_open() -> None:
    register = default_register()
    assert {
        "window_field",
        "mark_step_done",
        "charge_decline",
        "vendor_lapse",
        "wrong_connection",
        "release_2021",
        "listing",
    } <= set(register.assumptions)
    for name, entry in register.assumptions.items():
        assert entry.standing()[0] == entry.default, name
        assert entry.reasoning and entry.source and entry.question.endswith("?"), name
    # Each claim is a bundled scenario that runs its setup.
    for claim in register.claims.values():
        assert (ROOT / "scenarios" / f"{claim.scenario}.yaml").is_file()


def _broken(tmp_path: Path, change: str, old: str) -> list[tuple[str, int]]:
    text = SHIPPED.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "assumptions.yaml"
    path.write_text(text.replace(old, change, 1), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_register_file(path)
    return [(d.code, d.location.line) for d in caught.value.diagnostics]


def _line_of(text: str) -> int:
    return SHIPPED.read_text(encoding="utf-8").split(text, 1)[0].count("\n") + 1


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("    default: refused\n", "    default: refuse\n", "ASSUME002"),
        ("    default: modified\n", "    default: created\n", "ASSUME003"),
        ("ruled_out_by: [seller-legacy-default,", "ruled_out_by: [nobody,", "ASSUME005"),
        ("      no_op:\n        means: Ack Success without a change; CartRover goes on with the "
         "order\n", "", "ASSUME001"),
    ],
)  # fmt: skip
def test_a_broken_register_is_refused_where_it_breaks(
    tmp_path: Path, old: str, new: str, code: str
) -> None:
    found = _broken(tmp_path, new, old)
    assert [c for c, _ in found] == [code]
    assert found[0][1] > 0


def test_a_register_with_every_alternative_ruled_out_is_refused(tmp_path: Path) -> None:
    old = "      modified:\n        means: the window selects orders modified in it,"
    new = old.replace(
        "modified:\n", "modified:\n        ruled_out_by: [vendor]\n        why: test\n"
    )
    codes = [c for c, _ in _broken(tmp_path, new, old)]
    assert codes == ["ASSUME003", "ASSUME004"]


def test_an_alternative_runs_cannot_simulate_says_why_and_is_never_the_default(
    tmp_path: Path,
) -> None:
    why = (
        "        not_simulated_because: >-\n          a simulated world has no account time "
        "zone: its runs keep Houzz's times and the\n          Earliest Order Date boundary in UTC\n"
    )
    found = _broken(tmp_path, "", why)
    assert [c for c, _ in found] == ["ASSUME006"]
    # Located at the alternative's entry (its first line: what it means).
    assert found[0][1] == _line_of("        means: both are in the account's local time\n")
    default = _broken(tmp_path, "    default: account_local\n", "    default: utc\n")
    assert [c for c, _ in default] == ["ASSUME007"]


def test_a_world_answer_runs_cannot_simulate_is_replaced_by_the_default_and_named() -> None:
    said = (("mark_step_done", "no_op"), ("time_zone", "account_local"))
    assert answers(said, "houzz")["time_zone"] == "utc"
    assert answers(said, "houzz")["mark_step_done"] == "no_op"
    ((name, answer, default, why),) = unsimulated(said)
    assert (name, answer, default) == ("time_zone", "account_local", "utc") and "UTC" in why
    assert unsimulated((("time_zone", "utc"),)) == []


def test_a_policy_pins_an_open_question_and_typos_are_located() -> None:
    report = validate_policy_file(
        {"connection_type": "seller", "assume": {"houzz": {"mark_step_done": "no_op"}}}
    )
    assert report.policy is not None
    assert report.policy.pinned == {"mark_step_done": "no_op"}
    assert report.policy.to_file_dict()["assume"]["houzz"] == {"mark_step_done": "no_op"}
    assert open_alternatives(report.policy.pinned)["mark_step_done"] == ("no_op",)
    assert open_alternatives({})["mark_step_done"] == ("refused", "no_op")
    typo = validate_policy_file(
        {"connection_type": "seller", "assume": {"cartrover": {"charge_declin": "hold"}}}
    )
    (d,) = typo.diagnostics
    assert (d.code, d.fix, d.location.line) == ("SCHEMA001", "did you mean 'charge_decline'?", 4)
    wrong = validate_policy_file(
        {"connection_type": "seller", "assume": {"cartrover": {"charge_decline": "retries"}}}
    )
    assert "is not one of hold, retry" in wrong.diagnostics[0].message


def test_the_command_prints_the_register_and_what_a_proof_does_with_it(tmp_path: Path) -> None:
    text = CliRunner().invoke(main, ["assumptions"])
    assert text.exit_code == 0
    assert "mark_step_done (Houzz, unconfirmed)" in text.output
    assert "proof: explores refused and no_op" in text.output
    assert "proof: assumes modified (every other alternative is ruled out)" in text.output
    assert "      not simulated: a run takes utc in its place (and says so): " in text.output
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        yaml.safe_dump(
            {"connection_type": "seller", "assume": {"houzz": {"mark_step_done": "refused"}}}
        ),
        encoding="utf-8",
    )
    pinned = CliRunner().invoke(main, ["assumptions", "--format", "json", "--policy", str(policy)])
    data = json.loads(pinned.output)
    by_name = {a["name"]: a for a in data["assumptions"]}
    assert by_name["mark_step_done"]["proof"] == "pinned"
    assert by_name["mark_step_done"]["proof_alternatives"] == ["refused"]
    assert by_name["charge_decline"]["proof_alternatives"] == ["hold", "retry"]
    assert by_name["listing"]["proof"] == "settled"
    assert by_name["time_zone"]["proof"] == "not explored"
    zones = {a["name"]: a for a in by_name["time_zone"]["alternatives"]}
    assert zones["utc"]["simulated"] and not zones["account_local"]["simulated"]
    assert "UTC" in zones["account_local"]["not_simulated_because"]
    assert {c["name"] for c in data["claims"]} >= {"seller-legacy-default", "vendor"}
    bad = CliRunner().invoke(main, ["assumptions", "--policy", str(tmp_path / "missing.yaml")])
    assert bad.exit_code == 2
    assert "YAML008" in bad.output
