"""The policy file as a merchant writes it: CartRover's defaults, durations, eras, and
credentials that never show up anywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from houzzflow.engine.diagnostics import Diagnostic, InputError
from houzzflow.engine.limits import MAX_DURATION
from houzzflow.engine.policy import Policy, PolicyFile, format_duration, parse_duration, resolve
from houzzflow.engine.validation import policy_from_doc
from houzzflow.engine.yamlsource import load_yaml_text
from houzzflow.simulator.cli import main

SECRET = "SUPERSECRET123"


def policy_from(text: str) -> Policy:
    return policy_from_doc(load_yaml_text(text, "policy.yaml"))


def errors_from(text: str) -> list[Diagnostic]:
    with pytest.raises(InputError) as raised:
        policy_from(text)
    return raised.value.diagnostics


# CartRover's defaults (DOMAIN.md section 3): the legacy Seller default loads New or In
# Production and marks both steps; where Houzz charges by itself CartRover waits for Charged.
@pytest.mark.parametrize(
    ("connection_type", "era", "order_status", "marks"),
    [
        ("seller", "legacy", "new_or_in_production", True),
        ("seller", "2021", "charged", False),
        ("vendor", "legacy", "charged", False),
        ("vendor", "2021", "charged", False),
    ],
)
def test_omitted_settings_take_cartrover_defaults_for_the_type_and_era(
    connection_type: str, era: str, order_status: str, marks: bool
) -> None:
    policy = policy_from(f'connection_type: {connection_type}\nassume:\n  era: "{era}"\n')
    assert policy.order_status == order_status
    assert policy.mark_processed is marks
    assert policy.mark_charged is marks
    assert policy.cancel_download is True
    assert policy.poll_interval == 15 * 60
    assert policy.account == connection_type
    assert (policy.staff_process, policy.staff_charge, policy.staff_cancel) == ("never",) * 3
    assert policy.earliest_order_date is None


def test_era_defaults_to_2021() -> None:
    assert policy_from("connection_type: seller\n").era == "2021"


def test_written_settings_win_over_defaults_and_are_remembered_as_written() -> None:
    policy = policy_from(
        "connection_type: seller\norder_status: charged\nmark_charged: false\n"
        "assume:\n  era: legacy\n  staff:\n    charge: always\n"
    )
    assert policy.order_status == "charged"
    assert policy.mark_charged is False
    assert policy.mark_processed is True  # left out: the legacy default
    assert {"order_status", "mark_charged", "assume.era", "assume.staff.charge"} <= (
        policy.explicit
    )
    assert "mark_processed" not in policy.explicit


def test_account_defaults_to_connection_type_but_can_differ() -> None:
    assert policy_from("connection_type: vendor\n").account == "vendor"
    text = "connection_type: vendor\nassume:\n  account: seller\n"
    assert policy_from(text).account == "seller"


@pytest.mark.parametrize(
    ("written", "seconds"),
    [("30s", 30), ("15m", 900), ("4h", 14400), ("2d", 172800), ("90", 90), ("' 5m '", 300)],
)
def test_poll_interval_durations(written: str, seconds: int) -> None:
    policy = policy_from(f"connection_type: seller\npoll_interval: {written}\n")
    assert policy.poll_interval == seconds


@pytest.mark.parametrize("written", ["'15'", "1w", "15 minutes", "-5m", "0s", "1.5h", "true"])
def test_bad_durations_are_located_and_explained(written: str) -> None:
    (error,) = errors_from(f"connection_type: seller\npoll_interval: {written}\n")
    assert (error.location.line, error.location.column) == (2, 16)
    assert error.location.dotted == "poll_interval"
    if written not in ("0s", "-5m"):
        assert "30s, 15m, 4h or 2d" in error.message


def test_a_zero_duration_is_refused() -> None:
    (error,) = errors_from("connection_type: seller\npoll_interval: 0s\n")
    assert "positive" in error.message


@settings(deadline=None)
@given(st.integers(min_value=1, max_value=10**6), st.sampled_from(["s", "m", "h", "d"]))
def test_durations_read_and_print_back_the_same(number: int, unit: str) -> None:
    expected = number * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    if expected > MAX_DURATION:  # past the stated limit: refused, never a huge number
        with pytest.raises(ValueError, match="longer than the 3650d limit"):
            parse_duration(f"{number}{unit}")
        return
    seconds = parse_duration(f"{number}{unit}")
    assert seconds == expected
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize("written", ["2021", '"2021"', "'2021'", "legacy"])
def test_era_2021_may_be_written_unquoted(written: str) -> None:
    expected = "legacy" if written == "legacy" else "2021"
    assert policy_from(f"connection_type: seller\nassume:\n  era: {written}\n").era == expected


def test_an_unknown_era_is_refused_at_its_place() -> None:
    (error,) = errors_from("connection_type: seller\nassume:\n  era: 2020\n")
    assert (error.location.line, error.location.column) == (3, 8)
    assert "legacy" in error.message and "2021" in error.message


def test_connection_type_is_required() -> None:
    (error,) = errors_from("order_status: charged\n")
    assert "connection_type" in error.message
    assert error.code == "SCHEMA002"


def test_earliest_order_date_is_a_date() -> None:
    policy = policy_from("connection_type: vendor\nearliest_order_date: 2026-01-01\n")
    assert policy.earliest_order_date is not None
    assert policy.earliest_order_date.isoformat() == "2026-01-01"
    (error,) = errors_from("connection_type: vendor\nearliest_order_date: soon\n")
    assert error.location.line == 2


WITH_CREDENTIALS = f"""\
connection_type: seller
credentials:
  application_id: my-app-{SECRET}
  username: {SECRET}@example.com
  token: {SECRET}
"""


def test_credentials_never_appear_in_the_model_or_the_resolved_policy() -> None:
    policy_file = PolicyFile.model_validate(load_yaml_text(WITH_CREDENTIALS, "policy.yaml").data)
    assert policy_file.credentials is not None
    assert policy_file.credentials.token is not None
    assert policy_file.credentials.token.get_secret_value() == SECRET
    shown = [
        repr(policy_file),
        str(policy_file),
        policy_file.model_dump_json(),
        repr(policy_file.credentials),
        str(policy_file.model_dump()),
    ]
    policy = resolve(policy_file)
    shown += [repr(policy), str(policy), json.dumps(policy.to_file_dict())]
    for text in shown:
        assert SECRET not in text


# Files where the credentials sit next to (or are themselves) a schema error.
LEAKY = {
    "typo-next-to-token": WITH_CREDENTIALS.replace("connection_type: seller", "conection_type: x"),
    "token-not-a-string": f"connection_type: seller\ncredentials:\n  token: [{SECRET}]\n",
    "credentials-pasted-as-a-value": f"connection_type: seller\ncredentials: {SECRET}\n",
    "numeric-username": "connection_type: seller\ncredentials:\n  username: 998877665544\n",
    "bad-token-and-bad-enum": (
        "connection_type: seller\norder_status: charge\ncredentials:\n"
        f"  token: {{value: {SECRET}}}\n"
    ),
    "valid-file": WITH_CREDENTIALS,
}


@pytest.mark.parametrize("case", sorted(LEAKY))
@pytest.mark.parametrize("output_format", ["text", "json"])
def test_credentials_never_appear_in_validate_output(
    case: str, output_format: str, tmp_path: Path
) -> None:
    path = tmp_path / f"{case}.yaml"
    path.write_text(LEAKY[case], encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", "--format", output_format, str(path)])
    assert result.exit_code in (0, 1, 2)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    secret = SECRET if case != "numeric-username" else "998877665544"
    assert secret not in result.output
    if case != "valid-file":
        assert result.exit_code == 2
