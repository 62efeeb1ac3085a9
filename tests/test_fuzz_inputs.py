"""Hypothesis fuzzing of what reads user input: the YAML loaders (policy and scenario, with
``--set``) and the Houzz wire parsers, through the served fake's whole request path.

The property each time: any input is either read or refused with the reader's own error
(``InputError`` with located diagnostics, ``WireError``, a 400-class answer), never another
exception, never a 500. Runs under the suite's profiles: ``ci`` by default; ``thorough``
(``HYPOTHESIS_PROFILE=thorough``) searches 2,000 examples each, afresh.
"""

from __future__ import annotations

import json
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from houzzflow.engine.diagnostics import InputError
from houzzflow.engine.validation import policy_from_doc
from houzzflow.engine.yamlsource import load_yaml_text
from houzzflow.simulator.houzz import wire
from houzzflow.simulator.http.app import ServedHouzz
from houzzflow.simulator.http.config import ServerConfig
from houzzflow.simulator.http.messages import ApiRequest
from houzzflow.simulator.runs.scenario import load_scenario

SECRET = "fuzz-secret-token"

# Pieces YAML gives meaning to, so that generated text reaches past the first character.
YAML_PIECES = st.sampled_from(
    [
        "connection_type: seller\n",
        "poll_interval: ",
        "15m",
        "\n",
        "  ",
        "- ",
        ": ",
        "{",
        "}",
        "[",
        "]",
        ",",
        "&a ",
        "*a",
        "!tag ",
        "!!python/object ",
        "? ",
        "|\n",
        ">\n",
        "'",
        '"',
        "#",
        "---\n",
        "...\n",
        "\t",
        "%YAML 1.1\n",
        "true",
        "null",
        ".inf",
        "-.nan",
        "0x1F",
        "1e400",
        "9" * 5000,
        "2024-13-45",
        "\x00",
        "\ufeff",
        "credentials:\n  token: ",
        f"*{SECRET}",
        f"!{SECRET}",
        "mark_processed: ",
        "assume:\n  era: ",
        "2021",
        "legacy",
    ]
)
YAML_TEXT = st.one_of(
    st.text(max_size=200),
    st.lists(YAML_PIECES, max_size=25).map("".join),
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(YAML_TEXT)
def test_any_policy_text_is_read_or_refused_with_located_diagnostics(text: str) -> None:
    try:
        policy_from_doc(load_yaml_text(text, "fuzz.yaml"))
    except InputError as exc:
        assert exc.diagnostics
        # Where the secret is only ever a token's value, no diagnostic quotes it back, even
        # unquoted and unreadable (`token: *...`, `token: !...`).
        secret_lines = [line for line in text.splitlines() if SECRET in line]
        as_token = all(
            line.split(SECRET)[0].rstrip(" *!").endswith("token:") for line in secret_lines
        )
        for diagnostic in exc.diagnostics:
            assert diagnostic.location.file in ("fuzz.yaml", "--set")
            assert not as_token or SECRET not in diagnostic.render()


SCENARIO = {
    "name": "fuzz",
    "duration": "1h",
    "policy": {"connection_type": "seller"},
    "world": {"orders": {"count": 1}},
}
SET_KEYS = st.sampled_from(
    [
        "duration",
        "seed",
        "drain",
        "world.orders.count",
        "world.orders.rate_per_hour",
        "world.orders.burst",
        "world.orders.items",
        "world.orders.place_within",
        "world.orders.cancel_probability",
        "world.backlog",
        "world.backend.packages",
        "world.backend.ship_delay",
        "world.faults.retry_after",
        "world.faults.fail_calls",
        "world.faults.crash_every_polls",
        "connector.page_size",
        "policy.poll_interval",
        "world.staff.process",
        "expect.lost",
        "world.0",
        "a..b",
    ]
)
SET_VALUES = st.one_of(
    st.sampled_from(
        [
            "true",
            ".inf",
            "-1",
            "0",
            "1e400",
            "9" * 5000,
            "1000000000000",
            "[1, 1000000000]",
            "{at: 0, count: 1000000000000}",
            "1000000000d",
            "30d",
            "12h",
            "0.5",
            "'5'",
            "null",
            "[]",
            "{}",
            "*a",
            "!x",
            "&a [*a]",
            "[[[[[[[[[[",
            "ab: cd: ef",
        ]
    ),
    st.text(max_size=30),
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(SET_KEYS, SET_VALUES), max_size=3))
def test_any_set_value_is_read_or_refused_with_located_diagnostics(
    overrides: list[tuple[str, str]],
) -> None:
    try:
        scenario = load_scenario(SCENARIO, [f"{key}={value}" for key, value in overrides])
    except InputError as exc:
        assert exc.diagnostics
    else:
        # Whatever was accepted is inside the stated limits: no run can blow up on it.
        assert scenario.duration <= 365 * 86400


# --- the wire ------------------------------------------------------------------------------

TOKEN = "fuzz-token"
AUTH = {"X-HOUZZ-API-SSL-TOKEN": TOKEN, "X-HOUZZ-API-USER-NAME": "u", "X-HOUZZ-API-APP-NAME": "a"}
PARAM_NAMES = st.sampled_from(
    ["Status", "Start", "NumberOfItems", "From", "To", "status", "FROM", "method", "format"]
)
PARAM_VALUES = st.one_of(
    st.sampled_from(
        [
            "9999-12-31 23:59:59-01:00",
            "0001-01-01 00:00:00+01:00",
            "2026-01-01",
            "-1",
            "9" * 5000,
            "New",
            "All",
            "Active",
            "InProduction",
            "",
            " ",
            "1e3",
            "\uff10",
        ]
    ),
    st.text(max_size=40),
)


@settings(deadline=None)
@given(st.dictionaries(PARAM_NAMES, PARAM_VALUES, max_size=6))
def test_any_get_orders_parameters_are_read_or_refused_as_invalid_parameter(
    params: dict[str, str],
) -> None:
    try:
        query = wire.parse_orders_query(params, now=0)
    except wire.WireError as exc:
        assert exc.code is wire.ErrorCode.INVALID_PARAMETER
    else:
        assert 1 <= query.count <= wire.MAX_PAGE_SIZE and query.start >= 0


ELEMENTS = st.sampled_from(
    ["OrderId", "Action", "TrackingNumber", "ShippingMethod", "SKU", "Quantity", "Comments"]
)
XML_BODIES = st.builds(
    lambda root, fields: (
        f"<{root}>" + "".join(f"<{name}>{value}</{name}>" for name, value in fields) + f"</{root}>"
    ),
    st.sampled_from(["UpdateOrderRequest", "UpdateInventoryRequest", "Other"]),
    st.lists(st.tuples(ELEMENTS, st.text(alphabet=string.printable, max_size=20)), max_size=5),
)
JSON_BODIES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ELEMENTS, inner, max_size=4),
    max_leaves=10,
).map(lambda value: json.dumps(value).encode())
BODIES = st.one_of(
    st.binary(max_size=200),
    XML_BODIES.map(str.encode),
    JSON_BODIES,
    st.just(b'{"OrderId": ' + b"9" * 5000 + b"}"),
    st.just(b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>"),
)


@settings(deadline=None)
@given(BODIES)
def test_any_update_body_is_read_or_refused_with_a_houzz_error(body: bytes) -> None:
    for parse in (wire.parse_order_update, wire.parse_inventory_update):
        try:
            parse(body)
        except wire.WireError as exc:
            assert exc.code in (
                wire.ErrorCode.MALFORMED_REQUEST,
                wire.ErrorCode.INVALID_PARAMETER,
            )


SERVED = ServedHouzz(ServerConfig(token=TOKEN, username="u", app_name="a", admin_token=""))
TARGETS = st.sampled_from(
    [
        "/api?format=xml&method=getOrders",
        "/api?format=json&method=updateOrder",
        "/api?format=xml&method=updateOrder",
        "/api?format=xml&method=updateInventory",
        "/_houzzflow/orders",
        "/_houzzflow/clock/advance",
        "/_houzzflow/faults",
        "/_houzzflow/staff",
        "/_houzzflow/journal",
    ]
)
ADMIN_BODIES = st.dictionaries(
    st.sampled_from(["count", "items", "orders", "seconds", "kind", "call", "retry_after"]),
    st.one_of(
        st.integers(), st.booleans(), st.floats(), st.text(max_size=10), st.lists(st.integers())
    ),
    max_size=3,
).map(lambda value: json.dumps(value).encode())


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    TARGETS,
    st.dictionaries(PARAM_NAMES, PARAM_VALUES, max_size=3),
    st.one_of(BODIES, ADMIN_BODIES),
)
def test_the_served_fake_answers_any_request_without_a_500(
    method: str, target: str, params: dict[str, str], body: bytes
) -> None:
    from urllib.parse import urlencode

    query = ("&" if "?" in target else "?") + urlencode(params) if params else ""
    headers = {**AUTH, "Content-Type": "application/json"}
    with SERVED.locked() as harness:  # a fresh world each example, the same fake
        harness.reset()
        harness.clear_faults()
    reply = SERVED.handle(ApiRequest(method, target + query, headers, body, len(body)))
    assert reply.status < 500 or reply.drop or b"InternalError" not in reply.body
    assert b"InternalError" not in reply.body and b"failed:" not in reply.body
