"""The lifecycle as data: the shipped machine, its two builds agreeing, and refused definitions.

The compiled table (the hot path) and the ``transitions`` reference must give the same
answer for every (program, era, state, action, actor), including actions that do not apply
and actors who may not perform them. A broken ``machine.yaml`` is refused when it is loaded,
with every problem found and the line and column of each.
"""

from __future__ import annotations

import logging
from functools import cache
from importlib import resources
from itertools import product
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from houzzflow.engine.diagnostics import Diagnostic, InputError
from houzzflow.engine.machine import (
    ERAS,
    PROGRAMS,
    MachineDef,
    check_definition,
    default_machine,
    load_machine_file,
)
from houzzflow.engine.reference import build_machine, reference_step
from houzzflow.engine.table import Rejection, Table, connector_table, houzz_table

MACHINE = default_machine()
SHIPPED_TEXT = (
    resources.files("houzzflow.engine").joinpath("machine.yaml").read_text(encoding="utf-8")
)
PARTS = ("houzz", "connector")
# Every name either lifecycle knows, plus one nobody declared, so that the product covers
# actions from the other lifecycle, actions no state allows, and strangers.
ACTIONS = sorted(
    {t.action for t in (*MACHINE.houzz.transitions, *MACHINE.connector.transitions)} | {"Refund"}
)
ACTORS = [*sorted(MACHINE.actors), "stranger"]


def _table(part: str, program: str, era: str) -> Table:
    return houzz_table(program, era) if part == "houzz" else connector_table()


@cache
def _reference(part: str, program: str, era: str) -> Any:
    return build_machine(getattr(MACHINE, part), program, era)


def _agree(part: str, program: str, era: str, state: str, action: str, actor: str) -> None:
    compiled = _table(part, program, era).step(state, action, actor)
    expected = reference_step(_reference(part, program, era), state, action, actor)
    if expected is None:
        assert isinstance(compiled, Rejection), (part, program, era, state, action, actor)
        assert compiled.reason  # a refusal always says why
    else:
        assert compiled == expected, (part, program, era, state, action, actor)


def test_shipped_machine_loads_clean() -> None:
    assert check_definition(MACHINE) == []
    path = resources.files("houzzflow.engine").joinpath("machine.yaml")
    with resources.as_file(path) as file:
        assert load_machine_file(file) == MACHINE


@st.composite
def _cases(draw: st.DrawFn) -> tuple[str, str, str, str, str, str]:
    part = draw(st.sampled_from(PARTS))
    states = sorted(getattr(MACHINE, part).states)
    return (
        part,
        draw(st.sampled_from(PROGRAMS)),
        draw(st.sampled_from(ERAS)),
        draw(st.sampled_from(states)),
        draw(st.sampled_from(ACTIONS)),
        draw(st.sampled_from(ACTORS)),
    )


@settings(deadline=None)
@given(case=_cases())
def test_table_and_reference_agree(case: tuple[str, str, str, str, str, str]) -> None:
    _agree(*case)


@pytest.mark.parametrize("part", PARTS)
@pytest.mark.parametrize(("program", "era"), list(product(PROGRAMS, ERAS)))
def test_table_and_reference_agree_on_the_whole_product(part: str, program: str, era: str) -> None:
    states = getattr(MACHINE, part).states
    for state, action, actor in product(states, ACTIONS, ACTORS):
        _agree(part, program, era, state, action, actor)
    assert (
        _table(part, program, era).initial
        == build_machine(getattr(MACHINE, part), program, era).state
    )


def test_reference_refusals_do_not_log(caplog: pytest.LogCaptureFixture) -> None:
    machine = _reference("houzz", "seller", "2021")
    with caplog.at_level(logging.DEBUG, logger="transitions"):
        assert reference_step(machine, "Shipped", "Cancel", "staff") is None
        assert reference_step(machine, "New", "Refund", "staff") is None
    assert caplog.records == []


def test_process_on_an_order_in_production_says_what_it_needs() -> None:
    refused = houzz_table("seller", "legacy").step("InProduction", "Process", "connector")
    assert isinstance(refused, Rejection)
    assert refused.reason == "order is In Production; Process needs New"


def test_a_wrong_actor_is_named_in_the_refusal() -> None:
    refused = houzz_table("seller", "legacy").step("New", "Process", "customer")
    assert isinstance(refused, Rejection)
    assert refused.reason == "Process is done by connector or staff, not customer"


@pytest.mark.parametrize("actor", ["staff", "connector"])
def test_2021_seller_process_is_refused(actor: str) -> None:
    refused = houzz_table("seller", "2021").step("New", "Process", actor)
    assert isinstance(refused, Rejection)
    assert "not available on seller orders in the 2021 era" in refused.reason
    assert houzz_table("seller", "legacy").step("New", "Process", actor) == "InProduction"


@pytest.mark.parametrize("era", ERAS)
def test_vendor_orders_start_charged(era: str) -> None:
    assert houzz_table("vendor", era).initial == "Charged"
    assert houzz_table("seller", era).initial == "New"


def test_failed_to_charge_is_hidden_in_2021_only() -> None:
    assert "FailedToCharge" in houzz_table("seller", "2021").hidden
    assert "FailedToCharge" not in houzz_table("seller", "legacy").hidden


def test_tables_for_a_machine_passed_in_are_compiled() -> None:
    # A MachineDef cannot be a cache key; passing one must still work.
    assert houzz_table("vendor", "2021", MACHINE).initial == "Charged"
    assert connector_table(MACHINE).initial == "New"


# --- refused definitions ------------------------------------------------------------------

HOUZZ_TRANSITIONS_END = "\nconnector:\n"
HOUZZ_STATES_END = (
    '      accepts: [FailedToCharge, Failed to Charge]\n      hidden_in_eras: ["2021"]\n'
)
CONNECTOR_STATES_END = (
    "      description: cancelled at the backend after Houzz cancelled it\n      terminal: true\n"
)


def _edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"anchor not unique in machine.yaml: {old!r}"
    return text.replace(old, new)


def _insert_after(text: str, anchor: str, addition: str) -> str:
    return _edit(text, anchor, anchor + addition)


def _position(text: str, needle: str, after: str = "") -> tuple[int, int]:
    """1-based line and column of ``needle`` (the first one after ``after``)."""
    at = text.index(needle, text.index(after) if after else 0)
    return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1


def _problems(tmp_path: Path, text: str) -> tuple[Path, list[Diagnostic]]:
    path = tmp_path / "machine.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as raised:
        load_machine_file(path)
    return path, raised.value.diagnostics


def _only(tmp_path: Path, text: str, code: str) -> tuple[Path, Diagnostic]:
    path, found = _problems(tmp_path, text)
    assert [d.code for d in found] == [code], [d.render() for d in found]
    return path, found[0]


def _at(diagnostic: Diagnostic, path: Path, position: tuple[int, int]) -> None:
    where = diagnostic.location
    assert (where.file, where.line, where.column) == (str(path), *position)
    assert diagnostic.render().startswith(f"{path}:{position[0]}:{position[1]}: error ")


def test_unknown_key_is_named_with_a_suggestion(tmp_path: Path) -> None:
    text = _edit(
        SHIPPED_TEXT, "      terminal: true\n    Cancelled:", "      terminl: true\n    Cancelled:"
    )
    path, found = _only(tmp_path, text, "SCHEMA001")
    assert "'terminl'" in found.message
    assert found.fix == "did you mean 'terminal'?"
    _at(found, path, _position(text, "terminl"))


def test_undeclared_destination_state(tmp_path: Path) -> None:
    ship = "    - action: Ship\n      source: Charged\n      dest: Shipped\n"
    text = _edit(SHIPPED_TEXT, ship, ship.replace("dest: Shipped", "dest: Shiped"))
    path, found = _only(tmp_path, text, "MACH001")
    assert "Ship" in found.message and "'Shiped'" in found.message
    _at(found, path, _position(text, "Shiped"))


def test_undeclared_source_state_in_a_list(tmp_path: Path) -> None:
    sources = "source: [New, InProduction, Charged, FailedToCharge]"
    text = _edit(SHIPPED_TEXT, sources, sources.replace("InProduction", "InProduktion"))
    path, found = _only(tmp_path, text, "MACH001")
    assert "Cancel" in found.message and "'InProduktion'" in found.message
    _at(found, path, _position(text, "InProduktion"))


def test_undeclared_actor(tmp_path: Path) -> None:
    process = "    - action: Process\n      source: New\n      dest: InProduction\n"
    actors = "      actors: [staff, connector]\n"
    text = _edit(SHIPPED_TEXT, process + actors, process + actors.replace("connector", "conector"))
    path, found = _only(tmp_path, text, "MACH002")
    assert "Process" in found.message and "'conector'" in found.message
    _at(found, path, _position(text, "conector"))


def test_one_trigger_firing_two_transitions_in_one_program_and_era(tmp_path: Path) -> None:
    twice = (
        "    - action: Process\n      source: New\n      dest: Cancelled\n"
        "      actors: [staff]\n      programs: [seller]\n      eras: [legacy]\n"
    )
    text = _edit(SHIPPED_TEXT, HOUZZ_TRANSITIONS_END, "\n" + twice + "connector:\n")
    path, found = _only(tmp_path, text, "MACH003")
    assert "Process from New" in found.message and "seller/legacy" in found.message
    _at(found, path, _position(text, "action: Process", after="action: AuthorizationLapse"))


def test_same_trigger_in_another_era_is_not_a_conflict(tmp_path: Path) -> None:
    other_era = (
        "    - action: Process\n      source: New\n      dest: Cancelled\n"
        '      actors: [staff]\n      programs: [seller]\n      eras: ["2021"]\n'
    )
    text = _edit(SHIPPED_TEXT, HOUZZ_TRANSITIONS_END, "\n" + other_era + "connector:\n")
    path = tmp_path / "machine.yaml"
    path.write_text(text, encoding="utf-8")
    loaded = load_machine_file(path)
    assert houzz_table("seller", "2021", loaded).step("New", "Process", "staff") == "Cancelled"


def test_unreachable_state(tmp_path: Path) -> None:
    text = _insert_after(SHIPPED_TEXT, HOUZZ_STATES_END, "    Refunded:\n      label: Refunded\n")
    text = _edit(
        text,
        HOUZZ_TRANSITIONS_END,
        "\n    - action: Close\n      source: Refunded\n      dest: Cancelled\n"
        "      actors: [houzz]\n" + "connector:\n",
    )
    path, found = _only(tmp_path, text, "MACH004")
    assert "Refunded" in found.message and "unreachable" in found.message
    _at(found, path, _position(text, "Refunded:"))


def test_terminal_state_with_a_way_out(tmp_path: Path) -> None:
    text = _edit(
        SHIPPED_TEXT,
        HOUZZ_TRANSITIONS_END,
        "\n    - action: Reopen\n      source: Shipped\n      dest: Charged\n"
        "      actors: [staff]\n" + "connector:\n",
    )
    path, found = _only(tmp_path, text, "MACH005")
    assert "houzz" in found.message and "Shipped" in found.message
    _at(found, path, _position(text, "Shipped:", after="houzz:"))


def test_trap_state(tmp_path: Path) -> None:
    text = _insert_after(SHIPPED_TEXT, HOUZZ_STATES_END, "    Lost:\n      label: Lost\n")
    text = _edit(
        text,
        HOUZZ_TRANSITIONS_END,
        "\n    - action: Misplace\n      source: New\n      dest: Lost\n"
        "      actors: [houzz]\n" + "connector:\n",
    )
    path, found = _only(tmp_path, text, "MACH006")
    assert "Lost" in found.message and "trap" in found.message
    assert "terminal: true" in found.fix
    _at(found, path, _position(text, "Lost:"))


def test_states_with_no_path_to_a_terminal_state(tmp_path: Path) -> None:
    text = _insert_after(
        SHIPPED_TEXT,
        CONNECTOR_STATES_END,
        "    Limbo:\n      label: Limbo\n    Purgatory:\n      label: Purgatory\n",
    )
    text += (
        "    - action: Stall\n      source: New\n      dest: Limbo\n      actors: [connector]\n"
        "    - action: Wait\n      source: Limbo\n      dest: Purgatory\n"
        "      actors: [connector]\n"
        "    - action: Wait\n      source: Purgatory\n      dest: Limbo\n"
        "      actors: [connector]\n"
    )
    path, found = _problems(tmp_path, text)
    assert [d.code for d in found] == ["MACH007", "MACH007"]
    assert "Limbo" in found[0].message and "Purgatory" in found[1].message
    _at(found[0], path, _position(text, "Limbo:"))
    _at(found[1], path, _position(text, "Purgatory:"))


def test_every_problem_is_reported_not_just_the_first(tmp_path: Path) -> None:
    # A naming mistake in Houzz's lifecycle must not hide a trap in CartRover's.
    process = "    - action: Process\n      source: New\n      dest: InProduction\n"
    actors = "      actors: [staff, connector]\n"
    text = _edit(SHIPPED_TEXT, process + actors, process + actors.replace("staff", "staf"))
    text = _insert_after(text, CONNECTOR_STATES_END, "    Stuck:\n      label: Stuck\n")
    text += "    - action: Jam\n      source: AtWMS\n      dest: Stuck\n      actors: [backend]\n"
    path, found = _problems(tmp_path, text)
    assert sorted(d.code for d in found) == ["MACH002", "MACH006"]
    by_code = {d.code: d for d in found}
    _at(by_code["MACH002"], path, _position(text, "staf,"))
    _at(by_code["MACH006"], path, _position(text, "Stuck:"))


def test_two_unknown_keys_are_both_reported(tmp_path: Path) -> None:
    text = _edit(
        SHIPPED_TEXT, "      terminal: true\n    Cancelled:", "      terminl: true\n    Cancelled:"
    )
    text = _edit(text, "  cancel_window: 1800\n", "  cancel_windw: 1800\n")
    _, found = _problems(tmp_path, text)
    unknown = [d for d in found if d.code == "SCHEMA001"]
    assert {d.fix for d in unknown} == {"did you mean 'terminal'?", "did you mean 'cancel_window'?"}
    assert {(d.location.line, d.location.column) for d in unknown} == {
        _position(text, "terminl"),
        _position(text, "cancel_windw"),
    }


def test_a_machine_def_checked_without_a_file_still_names_the_setting() -> None:
    data = MACHINE.model_dump()
    data["houzz"]["transitions"][0]["dest"] = "Nowhere"
    found = check_definition(MachineDef.model_validate(data))
    assert [d.code for d in found] == ["MACH001"]
    assert found[0].location.dotted == "houzz.transitions.0.dest"


@pytest.mark.parametrize(
    ("written", "says"),
    [
        ("{release_2021: after_charg}", "'after_charg' is not one of as_new, after_charge"),
        ("{release_2022: after_charge}", "'release_2022' is not an open question"),
    ],
)
def test_a_condition_names_an_open_question_and_one_of_its_answers(
    tmp_path: Path, written: str, says: str
) -> None:
    text = _edit(
        SHIPPED_TEXT, "hidden_when: {release_2021: after_charge}", f"hidden_when: {written}"
    )
    path, found = _only(tmp_path, text, "MACH008")
    assert says in found.message
    _at(found, path, _position(text, written))


@pytest.mark.parametrize(
    ("written", "says"),
    [
        ("{vendor_lapse: apply}", "'apply' is not one of applies, never"),
        ("{vendor_laps: applies}", "'vendor_laps' is not an open question"),
    ],
)
def test_a_transition_condition_is_checked_not_a_crash(
    tmp_path: Path, written: str, says: str
) -> None:
    text = _edit(SHIPPED_TEXT, "when: {vendor_lapse: applies}", f"when: {written}")
    path, found = _only(tmp_path, text, "MACH008")
    assert says in found.message
    _at(found, path, _position(text, written))


def test_the_lifecycle_follows_the_answers_to_open_questions() -> None:
    from houzzflow.engine.table import houzz_table

    strict = houzz_table("seller", "legacy")
    lenient = houzz_table("seller", "legacy", facts=(("mark_step_done", "no_op"),))
    assert isinstance(strict.step("InProduction", "Process", "connector"), Rejection)
    assert lenient.step("InProduction", "Process", "connector") == "InProduction"
    assert lenient.step("Charged", "Charge", "staff") == "Charged"
    # a no-op is for an order past the step, never one that went another way
    assert isinstance(lenient.step("Cancelled", "Process", "connector"), Rejection)
    assert isinstance(lenient.step("FailedToCharge", "Charge", "connector"), Rejection)
    assert "New" not in houzz_table("seller", "2021").hidden
    assert "New" in houzz_table("seller", "2021", facts=(("release_2021", "after_charge"),)).hidden
    lapse = ("Charged", "AuthorizationLapse")
    assert lapse in houzz_table("vendor", "2021").moves
    assert lapse not in houzz_table("vendor", "2021", facts=(("vendor_lapse", "never"),)).moves
    assert lapse in houzz_table("seller", "2021", facts=(("vendor_lapse", "never"),)).moves
