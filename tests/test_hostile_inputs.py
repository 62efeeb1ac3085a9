"""A hostile-input corpus: scenario files, ``--set`` values and HTTP requests an attacker or a
load test would send, generated here, each with the located message and the status it must
get. None hangs, none tracebacks, none is taken as a smaller or different value.

File cases write one line of a small valid scenario and run ``houzzflow run`` on it: exit
2, the diagnostic's code and ``file:line``. HTTP cases go through ``ServedHouzz.handle`` (the
whole request path without a socket): a 400-class answer with Houzz's ``InvalidParameter``
or ``MalformedRequest`` on the wire, a JSON ``error`` on the admin API, and nothing changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from houzzflow.simulator.cli import main
from houzzflow.simulator.houzz import wire
from houzzflow.simulator.http.app import ServedHouzz
from houzzflow.simulator.http.config import ServerConfig
from houzzflow.simulator.http.messages import ApiRequest

SECRET = "Sup3rSecretValue"

# A small valid scenario; each case replaces one line (by its key) with a hostile one.
BASE = {
    "name": "name: hostile",
    "duration": "duration: 1d",
    "seed": "seed: 1",
    "policy": "policy:\n  connection_type: seller\n  poll_interval: 15m",
    "credentials": "  credentials: {application_id: app}",
    "world": "world:",
    "orders": "  orders: {count: 3}",
    "backlog": "  backlog: {count: 0}",
    "backend": "  backend: {packages: 1}",
    "faults": "  faults: {error_rate: 0}",
    "connector": "connector: {page_size: 100}",
}


@dataclass(frozen=True)
class FileCase:
    id: str
    key: str  # the line of BASE it replaces
    line: str
    code: str
    says: str  # a fragment of the message


FILE_CASES = [
    FileCase("duration-huge", "duration", "duration: 1000000000d", "SCHEMA003", "3650d limit"),
    FileCase("duration-over-run", "duration", "duration: 400d", "SCHEMA003", "365d limit"),
    FileCase(
        "duration-digits", "duration", "duration: " + "9" * 60 + "s", "SCHEMA003", "a duration"
    ),
    FileCase("seed-negative", "seed", "seed: -1", "SCHEMA003", "greater than or equal to 0"),
    FileCase("seed-huge", "seed", "seed: " + "9" * 30, "SCHEMA003", "less than or equal"),
    FileCase("seed-bool", "seed", "seed: true", "SCHEMA003", "valid integer"),
    *[
        FileCase(f"count-{name}", "orders", f"  orders: {{count: {value}}}", "SCHEMA003", says)
        for name, value, says in [
            ("huge", "1000000000000", "less than or equal to 1000000"),
            ("bool", "true", "valid integer"),
            ("float", "1.5", "valid integer"),
            ("string", "'5'", "valid integer"),
            ("negative", "-3", "greater than or equal to 0"),
        ]
    ],
    FileCase(
        "count-5000-digits", "orders", "  orders: {count: " + "9" * 5000 + "}", "YAML001", "digits"
    ),
    *[
        FileCase(f"rate-{name}", "orders", f"  orders: {{rate_per_hour: {value}}}", "SCHEMA003", s)
        for name, value, s in [
            ("inf", ".inf", "finite"),
            ("nan", ".nan", "finite"),
            ("huge", "1000000000", "less than or equal to 100000"),
            ("bool", "true", "valid number"),
        ]
    ],
    FileCase(
        "burst-huge",
        "orders",
        "  orders: {burst: {at: 0, count: 1000000000000}}",
        "SCHEMA003",
        "less than or equal to 1000000",
    ),
    FileCase("items-huge", "orders", "  orders: {items: [1, 1000000000]}", "SCHEMA003", "100"),
    *[
        FileCase(f"place-within-{name}", "orders", f"  orders: {{place_within: {v}}}", c, says)
        for name, v, c, says in [
            ("zero", "0", "SCHEMA003", "share of the run"),
            ("two", "2", "SCHEMA003", "share of the run"),
            ("bool", "true", "SCHEMA003", "share of the run"),
            ("past-the-run", "30d", "LIMIT001", "longer than the run"),
        ]
    ],
    FileCase(
        "backlog-huge", "backlog", "  backlog: {count: 1000000000000}", "SCHEMA003", "1000000"
    ),
    FileCase(
        "packages-huge",
        "backend",
        "  backend: {packages: [1000000000, 1000000000]}",
        "SCHEMA003",
        "less than or equal to 100",
    ),
    FileCase(
        "ship-delay-huge", "backend", "  backend: {ship_delay: 1000d}", "SCHEMA003", "365d limit"
    ),
    FileCase("retry-after-huge", "faults", "  faults: {retry_after: 2d}", "SCHEMA003", "1d limit"),
    FileCase("fail-call-zero", "faults", "  faults: {fail_calls: [0]}", "SCHEMA003", "1"),
    FileCase(
        "page-size-huge", "connector", "connector: {page_size: 1000000}", "SCHEMA003", "10000"
    ),
    # Each value is inside its limit; together the declared work is over the run's budget.
    FileCase(
        "orders-over-budget",
        "orders",
        "  orders: {count: 1000000, burst: {at: 0, count: 1000}}",
        "LIMIT001",
        "1,001,000 orders",
    ),
    FileCase(
        "rate-over-budget",
        "orders",
        "  orders: {rate_per_hour: 100000}",
        "LIMIT001",
        "2,400,000 orders",
    ),
    # A secret's value PyYAML cannot read is never quoted back.
    FileCase(
        "token-alias",
        "credentials",
        f"  credentials: {{application_id: app, token: *{SECRET}}}",
        "YAML001",
        "not shown",
    ),
    FileCase(
        "token-tag",
        "credentials",
        f"  credentials: {{application_id: app, token: !{SECRET}}}",
        "YAML001",
        "not shown",
    ),
]


def scenario_text(case: FileCase) -> tuple[str, int]:
    """The scenario with the case's line in, and the line number it starts on."""
    lines: list[str] = []
    at = 0
    for key, text in BASE.items():
        if key == case.key:
            at = len(lines) + 1 + (case.line.count("\n") if key == "policy" else 0)
            lines += case.line.split("\n")
        else:
            lines += text.split("\n")
    return "\n".join(lines) + "\n", at


@pytest.mark.parametrize("case", FILE_CASES, ids=[case.id for case in FILE_CASES])
def test_a_hostile_scenario_file_is_a_located_exit_2(case: FileCase, tmp_path: Path) -> None:
    text, line = scenario_text(case)
    path = tmp_path / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    done = CliRunner().invoke(main, ["run", str(path)])
    assert done.exit_code == 2, done.output
    assert done.exception is None or isinstance(done.exception, SystemExit)
    output = done.output
    assert case.code in output and case.says in output, output
    if case.code != "LIMIT001" or case.key == "orders":
        assert f"{path}:{line}:" in output, output
    assert "Traceback" not in output and SECRET not in output


def test_a_run_over_the_poll_budget_says_so_before_it_starts(tmp_path: Path) -> None:
    text, _ = scenario_text(FileCase("", "duration", "duration: 365d", "", ""))
    text = text.replace("poll_interval: 15m", "poll_interval: 1s")
    path = tmp_path / "polls.yaml"
    path.write_text(text, encoding="utf-8")
    done = CliRunner().invoke(main, ["run", str(path)])
    assert done.exit_code == 2
    assert "LIMIT001" in done.output and "poll_interval" in done.output
    assert f"{path}:2:" in done.output  # at `duration`


@pytest.mark.parametrize(
    ("override", "says"),
    [
        ("world.orders.rate_per_hour=.inf", "finite"),
        ("world.orders.count=1000000000000", "less than or equal to 1000000"),
        ("world.orders.count=true", "valid integer"),
        ("world.backend.packages=[1000000000,1000000000]", "less than or equal to 100"),
        ("duration=1000000000d", "3650d limit"),
        ("world.orders.burst={at: 0, count: 1000000000000}", "less than or equal to 1000000"),
        ("world.orders.items=[1, 1000000000]", "less than or equal to 100"),
        ("world.faults.retry_after=10000000000", "longer than"),
    ],
)
def test_a_hostile_set_value_is_refused_and_located_at_the_override(
    override: str, says: str
) -> None:
    done = CliRunner().invoke(main, ["run", "scenarios/seller-default.yaml", "--set", override])
    assert done.exit_code == 2, done.output
    assert f"--set {override}" in done.output and says in done.output
    assert "Traceback" not in done.output


# --- HTTP requests --------------------------------------------------------------------------

TOKEN = "hostile-corpus-token"
AUTH = {"X-HOUZZ-API-SSL-TOKEN": TOKEN, "X-HOUZZ-API-USER-NAME": "u", "X-HOUZZ-API-APP-NAME": "a"}
JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class HttpCase:
    id: str
    method: str
    target: str
    body: bytes
    status: int
    code: str  # Houzz's error code on /api; a fragment of the JSON error on the admin API


def update(inner: str) -> bytes:
    return f"<UpdateOrderRequest>{inner}</UpdateOrderRequest>".encode()


BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><UpdateOrderRequest>&b;</UpdateOrderRequest>'
)
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b"<UpdateOrderRequest><OrderId>&x;</OrderId><Action>Process</Action></UpdateOrderRequest>"
)
GET_ORDERS = "/api?format=json&method=getOrders"
UPDATE = "/api?format=xml&method=updateOrder"
INVENTORY = "/api?format=xml&method=updateInventory"

HTTP_CASES = [
    HttpCase("page-huge", "GET", f"{GET_ORDERS}&NumberOfItems=99999999999", b"", 200, "Invalid"),
    HttpCase("start-negative", "GET", f"{GET_ORDERS}&Start=-1", b"", 200, "InvalidParameter"),
    HttpCase("start-digits", "GET", f"{GET_ORDERS}&Start={'9' * 5000}", b"", 200, "Invalid"),
    HttpCase(
        "from-year-10000",
        "GET",
        f"{GET_ORDERS}&From=9999-12-31%2023:59:59-01:00",
        b"",
        200,
        "InvalidParameter",
    ),
    HttpCase("from-garbage", "GET", f"{GET_ORDERS}&From=%00%ff", b"", 200, "InvalidParameter"),
    HttpCase("status-huge", "GET", f"{GET_ORDERS}&Status={'x' * 10000}", b"", 200, "Invalid"),
    HttpCase(
        "json-int-5000-digits",
        "POST",
        "/api?format=json&method=updateOrder",
        b'{"OrderId": ' + b"9" * 5000 + b"}",
        200,
        "MalformedRequest",
    ),
    HttpCase("json-deep", "POST", UPDATE, b"[" * 100_000, 200, "MalformedRequest"),
    HttpCase("xml-bomb", "POST", UPDATE, BOMB, 200, "MalformedRequest"),
    HttpCase("xxe", "POST", UPDATE, XXE, 200, "MalformedRequest"),
    HttpCase("not-utf8", "POST", UPDATE, b"\xff\xfe<\x00", 200, "MalformedRequest"),
    HttpCase(
        "order-id-huge",
        "POST",
        UPDATE,
        update(f"<OrderId>{'1' * 100_000}</OrderId><Action>Process</Action>"),
        200,
        "OrderNotFound",
    ),
    HttpCase(
        "quantity-huge",
        "POST",
        INVENTORY,
        b"<UpdateInventoryRequest><SKU>a</SKU><Quantity>1e99</Quantity></UpdateInventoryRequest>",
        200,
        "InvalidParameter",
    ),
    HttpCase("body-too-large", "POST", UPDATE, b" " * ((1 << 20) + 1), 413, "RequestTooLarge"),
    # The admin API.
    *[
        HttpCase(f"admin-{name}", "POST", "/_houzzflow/orders", json.dumps(body).encode(), 400, s)
        for name, body, s in [
            ("items-huge", {"count": 1, "items": 1_000_000_000}, "from 1 to 100 items"),
            ("count-huge", {"count": 10**12}, "count must be"),
            ("count-bool", {"count": True}, "count must be"),
            ("count-float", {"count": 2.0}, "count must be"),
            ("created-far-past", {"orders": [{"created": -(10**15)}]}, "days before now"),
        ]
    ],
    HttpCase(
        "admin-int-5000-digits",
        "POST",
        "/_houzzflow/orders",
        b'{"count": ' + b"9" * 5000 + b"}",
        400,
        "malformed JSON",
    ),
    HttpCase(
        "admin-advance-huge",
        "POST",
        "/_houzzflow/clock/advance",
        b'{"seconds": "1000000000d"}',
        400,
        "3650d limit",
    ),
    HttpCase(
        "admin-retry-after-huge",
        "POST",
        "/_houzzflow/faults",
        b'{"kind": "rate_limit", "retry_after": 1000000000000}',
        400,
        "retry_after",
    ),
    HttpCase(
        "admin-call-huge",
        "POST",
        "/_houzzflow/faults",
        b'{"kind": "ack_error", "call": 1000000000000000000000000}',
        400,
        "call counts",
    ),
    HttpCase(
        "admin-too-many-rules",
        "POST",
        "/_houzzflow/faults",
        json.dumps({"rules": [{"kind": "ack_error"}] * 1001}).encode(),
        400,
        "at most 1,000 fault rules",
    ),
    HttpCase(
        "admin-since-digits", "GET", f"/_houzzflow/journal?since={'9' * 5000}", b"", 400, "since"
    ),
]


@pytest.mark.parametrize("case", HTTP_CASES, ids=[case.id for case in HTTP_CASES])
def test_a_hostile_request_is_a_400_class_answer_and_changes_nothing(case: HttpCase) -> None:
    served = ServedHouzz(ServerConfig(token=TOKEN, username="u", app_name="a"))
    admin = case.target.startswith("/_houzzflow")
    headers = {**JSON} if admin else AUTH
    request = ApiRequest(case.method, case.target, headers, case.body, len(case.body))
    reply = served.handle(request)
    assert reply.status == case.status, reply.body[:300]
    if admin:
        assert case.code in json.loads(reply.body)["error"]
    else:
        answer = wire.read_answer(reply.body)
        assert answer["Ack"] == "Error"
        assert answer["Errors"][0]["Code"].startswith(case.code), answer
    with served.locked() as harness:
        assert harness.orders() == [] and harness.fault_rules == () and harness.now == 0
