"""``houzzflow serve``: the Houzz API over HTTP, the admin API, fault rules and the journal."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from houzzflow.simulator.houzz import wire
from houzzflow.simulator.http.server import (
    ApiRequest,
    RunningServer,
    ServedHouzz,
    ServerConfig,
    serve,
)
from houzzflow.simulator.runs.world_of import scenario_harness

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "s3cret-t0ken-value"
CONFIG = ServerConfig(
    program="seller",
    era="legacy",
    seed=11,
    token=TOKEN,
    username="shop@example.com",
    app_name="my-app",
)
AUTH = {
    "X-HOUZZ-API-SSL-TOKEN": TOKEN,
    "X-HOUZZ-API-USER-NAME": "shop@example.com",
    "X-HOUZZ-API-APP-NAME": "my-app",
}


def update_body(order_id: str, action: str, **fields: str) -> bytes:
    extra = "".join(f"<{name}>{value}</{name}>" for name, value in fields.items())
    return (
        f"<UpdateOrderRequest><OrderId>{order_id}</OrderId><Action>{action}</Action>{extra}"
        "</UpdateOrderRequest>"
    ).encode()


class Client:
    """Calls a ``ServedHouzz`` directly: the whole request path without a socket."""

    def __init__(self, served: ServedHouzz) -> None:
        self.served = served

    def call(
        self,
        method: str,
        target: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> wire.Reply:
        request = ApiRequest(method, target, AUTH if headers is None else headers, body, len(body))
        return self.served.handle(request)

    def api(self, method: str, target: str, body: bytes = b"") -> dict[str, Any]:
        reply = self.call(method, target, body)
        return wire.read_answer(reply.body)

    def get_orders(self, query: str = "Status=All") -> dict[str, Any]:
        return self.api("GET", f"/api?format=json&method=getOrders&{query}")

    def update(self, order_id: str, action: str, **fields: str) -> dict[str, Any]:
        body = update_body(order_id, action, **fields)
        return self.api("POST", "/api?format=xml&method=updateOrder", body)

    def admin(self, method: str, path: str, data: object = None) -> tuple[int, dict[str, Any]]:
        body = b"" if data is None else json.dumps(data).encode()
        headers = {"Content-Type": "application/json"} if body else {}
        reply = self.call(method, f"/_houzzflow/{path}", body, headers=headers)
        return reply.status, json.loads(reply.body)


@pytest.fixture
def client() -> Client:
    return Client(ServedHouzz(CONFIG))


@pytest.fixture
def running() -> Iterator[RunningServer]:
    server = serve(CONFIG)
    try:
        yield server
    finally:
        server.stop()


def http_call(
    server: RunningServer,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        server.url + path, data=body, method=method, headers=AUTH if headers is None else headers
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


# --- authentication ------------------------------------------------------------------------


@pytest.mark.parametrize("header", list(AUTH))
def test_a_wrong_credential_is_answered_with_ack_error_naming_the_header(
    client: Client, header: str
) -> None:
    headers = {**AUTH, header: "wrong"}
    reply = client.call("GET", "/api?format=xml&method=getOrders", headers=headers)
    root = ET.fromstring(reply.body)
    assert root.tag == "GetOrdersResponse"
    assert root.findtext("Ack") == "Error"
    assert root.findtext("Errors/Error/Code") == "AuthenticationFailed"
    assert header in (root.findtext("Errors/Error/Message") or "")
    assert TOKEN.encode() not in reply.body and b"wrong" not in reply.body


def test_a_missing_credential_is_answered_with_ack_error(client: Client) -> None:
    headers = {k: v for k, v in AUTH.items() if k != "X-HOUZZ-API-APP-NAME"}
    reply = client.call("GET", "/api?format=json&method=getOrders", headers=headers)
    answer = json.loads(reply.body)
    assert answer["Ack"] == "Error"
    assert answer["Errors"][0]["Message"].endswith("X-HOUZZ-API-APP-NAME is missing")


def test_header_names_are_case_insensitive(client: Client) -> None:
    headers = {name.lower(): value for name, value in AUTH.items()}
    reply = client.call("GET", "/api?format=json&method=getOrders", headers=headers)
    assert json.loads(reply.body)["Ack"] == "Success"


# --- the Houzz API -------------------------------------------------------------------------


def test_orders_placed_through_the_admin_api_are_listed_with_paging(client: Client) -> None:
    status, placed = client.admin("POST", "orders", {"count": 5})
    assert status == 201 and len(placed["order_ids"]) == 5
    first = client.get_orders("Status=New&Start=0&NumberOfItems=2")
    rest = client.get_orders("Status=New&Start=2&NumberOfItems=10")
    assert first["TotalCount"] == rest["TotalCount"] == 5
    listed = [o["OrderId"] for o in first["Orders"] + rest["Orders"]]
    assert sorted(listed) == sorted(placed["order_ids"])


def test_get_orders_filters_by_status_spelling_and_time_window(client: Client) -> None:
    old = client.admin("POST", "orders", {"count": 1})[1]["order_ids"][0]
    client.admin("POST", "clock/advance", {"seconds": 2 * 86400})
    new = client.admin("POST", "orders", {"count": 1})[1]["order_ids"][0]
    assert client.update(old, "Process")["Ack"] == "Success"
    processing = client.get_orders("Status=Processing")
    assert [o["OrderId"] for o in processing["Orders"]] == [old]
    assert processing["Orders"][0]["Status"] == "InProduction"
    # The window is over the last-modified time: the processed order changed today.
    today = client.get_orders("Status=All&From=2026-01-03")
    assert sorted(o["OrderId"] for o in today["Orders"]) == sorted([old, new])
    first_day = client.get_orders("Status=All&From=2026-01-01&To=2026-01-01")
    assert first_day["TotalCount"] == 0


def test_process_charge_ship_then_a_refused_action_is_ack_error_with_the_reason(
    client: Client,
) -> None:
    order_id = client.admin("POST", "orders", {"count": 1})[1]["order_ids"][0]
    assert client.update(order_id, "Process")["Ack"] == "Success"
    assert client.update(order_id, "Charge")["Ack"] == "Success"
    shipped = client.update(
        order_id, "Ship", ShippingMethod="UPS Ground", TrackingNumber="1Z001,1Z002"
    )
    assert shipped["Ack"] == "Success"
    refused = client.update(order_id, "Cancel", CancelCode="1")
    assert refused["Ack"] == "Error"
    assert refused["Errors"] == [
        {
            "Code": "ActionRefused",
            "Message": "order is Shipped; Cancel needs "
            "New or In Production or Charged or Failed to Charge",
        }
    ]
    listed = client.get_orders("Status=Shipped")["Orders"][0]
    assert (listed["TrackingNumber"], listed["ShippingMethod"]) == ("1Z001,1Z002", "UPS Ground")


def test_an_unknown_order_is_order_not_found(client: Client) -> None:
    answer = client.update("0000-0000-0000-0000", "Process")
    assert answer["Errors"][0]["Code"] == "OrderNotFound"


def test_update_inventory_sets_the_stock_of_a_sku(client: Client) -> None:
    body = (
        b"<UpdateInventoryRequest><SKU>LAMP-1</SKU><Action>update</Action>"
        b"<Quantity>4</Quantity></UpdateInventoryRequest>"
    )
    reply = client.call("POST", "/api?format=xml&method=updateInventory", body)
    assert ET.fromstring(reply.body).tag == "UpdateInventoryResponse"
    assert wire.read_answer(reply.body)["Ack"] == "Success"
    assert client.admin("GET", "inventory") == (200, {"inventory": {"LAMP-1": 4}})


def test_an_unknown_method_is_answered_like_houzz(client: Client) -> None:
    reply = client.call("GET", "/api?format=xml&method=getListingsPlease")
    root = ET.fromstring(reply.body)
    assert (root.tag, root.findtext("Ack")) == ("ErrorResponse", "Error")
    assert root.findtext("Errors/Error/Code") == "UnknownMethod"
    assert (root.findtext("Errors/Error/Message") or "").startswith(
        "Unknown method 'getListingsPlease'"
    )
    missing = wire.read_answer(client.call("GET", "/api?format=json").body)
    assert missing["Errors"][0]["Code"] == "UnknownMethod"


def test_a_method_called_with_the_wrong_http_verb_is_refused(client: Client) -> None:
    reply = client.call("GET", "/api?format=xml&method=updateOrder")
    assert reply.status == 405 and ("Allow", "POST") in reply.headers
    assert wire.read_answer(reply.body)["Errors"][0]["Code"] == "WrongHttpMethod"


def test_an_unknown_format_is_answered_in_xml(client: Client) -> None:
    reply = client.call("GET", "/api?format=yaml&method=getOrders")
    assert wire.read_answer(reply.body)["Errors"][0]["Code"] == "InvalidFormat"


@pytest.mark.parametrize(
    "body",
    [b"<UpdateOrderRequest><OrderId>1", b"{not json", b"\x00\x01\x02", b"<!DOCTYPE x []><x/>"],
)
def test_malformed_bodies_get_a_houzz_style_error_never_a_stack_trace(
    client: Client, body: bytes
) -> None:
    reply = client.call("POST", "/api?format=xml&method=updateOrder", body)
    answer = wire.read_answer(reply.body)
    assert reply.status == 200 and answer["Ack"] == "Error"
    assert answer["Errors"][0]["Code"] == "MalformedRequest"
    assert b"Traceback" not in reply.body and b'File "' not in reply.body


def test_bad_get_orders_parameters_are_ack_error(client: Client) -> None:
    answer = client.get_orders("Status=Paid")
    assert answer["Ack"] == "Error" and answer["Errors"][0]["Code"] == "InvalidParameter"


def test_other_paths_are_not_found(client: Client) -> None:
    reply = client.call("GET", "/orders")
    assert reply.status == 404 and wire.read_answer(reply.body)["Ack"] == "Error"


# --- the admin API -------------------------------------------------------------------------


def test_health_reports_the_world_and_never_the_token(client: Client) -> None:
    status, health = client.admin("GET", "health")
    assert status == 200
    assert health["status"] == "ok" and (health["program"], health["era"]) == ("seller", "legacy")
    assert TOKEN not in json.dumps(health)


def test_explicit_orders_can_be_placed_in_the_past(client: Client) -> None:
    client.admin("POST", "clock/advance", {"seconds": "2h"})
    status, placed = client.admin(
        "POST", "orders", {"orders": [{"items": 3}, {"created": "2026-01-01 00:30:00"}]}
    )
    assert status == 201
    first, second = placed["orders"]
    assert (first["items"], first["created"]) == (3, 7200)
    assert second["created_at"] == "2026-01-01 00:30:00"


@pytest.mark.parametrize(
    ("path", "data", "needle"),
    [
        ("orders", {"count": -1}, "count must be a whole number"),
        ("orders", {"orders": [{"colour": "red"}]}, "unknown order field 'colour'"),
        ("orders", {"orders": [{"created": 10**9}]}, "in the future"),
        ("clock/advance", {"seconds": "soon"}, "seconds: expected a duration"),
        ("faults", {"kind": "gremlins"}, "kind must be one of"),
        ("faults", {"kind": "ack_error", "call": 0}, "call counts matching calls from 1"),
        ("faults", {"kind": "ack_error", "when": 1}, "unknown fault rule field 'when'"),
        ("staff", {"order_id": 1}, "strings"),
    ],
)
def test_admin_mistakes_are_400_with_the_reason(
    client: Client, path: str, data: object, needle: str
) -> None:
    status, answer = client.admin("POST", path, data)
    assert status == 400 and needle in answer["error"]


def test_malformed_admin_json_is_400(client: Client) -> None:
    json_type = {"Content-Type": "application/json"}
    reply = client.call("POST", "/_houzzflow/orders", b"{count: 2}", headers=json_type)
    assert reply.status == 400 and "malformed JSON" in json.loads(reply.body)["error"]


def test_admin_routes_answer_404_and_405(client: Client) -> None:
    assert client.call("GET", "/_houzzflow/nothing", headers={}).status == 404
    wrong = client.call("DELETE", "/_houzzflow/health", headers={})
    assert wrong.status == 405 and ("Allow", "GET") in wrong.headers


def test_orders_are_inspected_with_their_history(client: Client) -> None:
    order_id = client.admin("POST", "orders", {"count": 1})[1]["order_ids"][0]
    client.admin("POST", "clock/advance", {"seconds": 600})
    status, acted = client.admin("POST", "staff", {"order_id": order_id, "action": "Process"})
    assert status == 200 and acted["ok"] is True
    client.update(order_id, "Charge")
    status, order = client.admin("GET", f"orders/{order_id}")
    assert status == 200 and order["status"] == "Charged"
    assert [(h["time"], h["actor"], h["action"], h["status"]) for h in order["history"]] == [
        (0, "customer", "Place", "New"),
        (600, "staff", "Process", "InProduction"),
        (600, "connector", "Charge", "Charged"),
    ]
    assert client.admin("GET", "orders?status=Charged")[1]["orders"][0]["order_id"] == order_id
    assert client.admin("GET", "orders/0000-0000-0000-0001")[0] == 404


def test_staff_refused_action_reports_the_reason(client: Client) -> None:
    order_id = client.admin("POST", "orders", {"count": 1})[1]["order_ids"][0]
    status, acted = client.admin("POST", "staff", {"order_id": order_id, "action": "Charge"})
    assert status == 200
    assert acted["ok"] is False and acted["reason"] == "order is New; Charge needs In Production"


def test_the_customer_may_cancel_only_within_the_window(client: Client) -> None:
    order_id = client.admin("POST", "orders", {"count": 1})[1]["order_ids"][0]
    client.admin("POST", "clock/advance", {"seconds": 1800})
    late = {"order_id": order_id, "action": "Cancel", "actor": "customer"}
    assert client.admin("POST", "staff", late)[1]["ok"] is False


def test_advancing_the_clock_runs_the_2021_auto_charge() -> None:
    client = Client(ServedHouzz(ServerConfig(era="2021", seed=3)))
    order_id = client.admin("POST", "orders", {"count": 1})[1]["order_ids"][0]
    status, moved = client.admin("POST", "clock/advance", {"seconds": 1799})
    assert status == 200 and moved == {"now": 1799, "time": "2026-01-01 00:29:59"}
    assert client.admin("GET", f"orders/{order_id}")[1]["status"] == "New"
    client.admin("POST", "clock/advance", {"seconds": 1})
    order = client.admin("GET", f"orders/{order_id}")[1]
    assert order["status"] == "Charged"
    assert order["history"][-1] == {
        "time": 1800,
        "at": "2026-01-01 00:30:00",
        "actor": "houzz",
        "action": "AutoCharge",
        "status": "Charged",
    }


def test_reset_forgets_orders_time_rules_and_journal_but_repeats_the_same_ids(
    client: Client,
) -> None:
    first = client.admin("POST", "orders", {"count": 2})[1]["order_ids"]
    client.admin("POST", "clock/advance", {"seconds": 60})
    client.admin("POST", "faults", {"kind": "ack_error"})
    client.get_orders()
    status, health = client.admin("POST", "reset")
    assert status == 200 and (health["orders"], health["now"]) == (0, 0)
    assert client.admin("GET", "faults")[1]["rules"] == []
    assert client.admin("GET", "journal")[1]["entries"] == []
    assert client.admin("POST", "orders", {"count": 2})[1]["order_ids"] == first


# --- fault rules ---------------------------------------------------------------------------


def test_ack_error_fails_the_chosen_call_without_effect(client: Client) -> None:
    order_id = client.admin("POST", "orders", {"count": 1})[1]["order_ids"][0]
    rule = {"kind": "ack_error", "operation": "updateOrder", "call": 1}
    status, rules = client.admin("POST", "faults", rule)
    assert status == 201 and rules["rules"] == [rule]
    failed = client.update(order_id, "Process")
    assert failed["Ack"] == "Error" and failed["Errors"][0]["Code"] == "InternalError"
    assert client.admin("GET", f"orders/{order_id}")[1]["status"] == "New"
    assert client.update(order_id, "Process")["Ack"] == "Success"


def test_http_5xx_answers_the_chosen_status(client: Client) -> None:
    client.admin("POST", "faults", {"kind": "http_5xx", "operation": "getOrders", "status": 502})
    reply = client.call("GET", "/api?format=xml&method=getOrders")
    assert reply.status == 502
    assert wire.read_answer(reply.body)["Errors"][0]["Code"] == "ServiceUnavailable"


def test_rate_limit_answers_429_with_retry_after_over_http(running: RunningServer) -> None:
    running.add_fault("rate_limit", operation="getOrders", call=2, retry_after=90)
    assert http_call(running, "GET", "/api?format=xml&method=getOrders")[0] == 200
    status, headers, body = http_call(running, "GET", "/api?format=xml&method=getOrders")
    assert status == 429 and headers["Retry-After"] == "90"
    assert wire.read_answer(body)["Errors"][0]["Code"] == "RateLimited"
    assert http_call(running, "GET", "/api?format=xml&method=getOrders")[0] == 200


def test_timeout_after_write_closes_without_answer_but_the_write_took_effect(
    running: RunningServer,
) -> None:
    (order_id,) = running.place_orders(1)
    running.add_fault("timeout_after_write", operation="updateOrder", call=1)
    body = update_body(order_id, "Process")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, urllib.error.URLError)):
        http_call(running, "POST", "/api?format=xml&method=updateOrder", body)
    assert running.order(order_id).status == "InProduction"
    (entry,) = running.journal(method="updateOrder")
    assert entry["dropped"] is True and entry["faults"] == ["reply_lost"]
    # Retrying what already happened is refused with the reason.
    _, _, answer = http_call(running, "POST", "/api?format=xml&method=updateOrder", body)
    assert wire.read_answer(answer)["Errors"][0]["Message"] == (
        "order is In Production; Process needs New"
    )


def test_page_drift_moves_an_unread_order_onto_the_page_already_read(client: Client) -> None:
    placed = client.admin("POST", "orders", {"count": 4})[1]["order_ids"]
    client.admin("POST", "clock/advance", {"seconds": 60})
    client.admin("POST", "faults", {"kind": "page_drift", "operation": "getOrders", "call": 1})
    first = client.get_orders("Status=All&Start=0&NumberOfItems=2")["Orders"]
    second = client.get_orders("Status=All&Start=2&NumberOfItems=2")["Orders"]
    seen = [o["OrderId"] for o in first + second]
    # A pager that trusts offsets sees one order twice and misses another.
    assert len(set(seen)) == 3 and set(placed) - set(seen)
    (drift,) = client.admin("GET", "journal?since=0")[1]["entries"][1:2]
    assert drift["faults"] == ["page_drift"]


def test_probability_rules_are_seeded() -> None:
    def outcomes() -> list[str]:
        client = Client(ServedHouzz(CONFIG))
        client.admin("POST", "faults", {"kind": "ack_error", "probability": 0.5})
        return [client.get_orders()["Ack"] for _ in range(30)]

    first = outcomes()
    assert first == outcomes()
    assert {"Success", "Error"} == set(first)


def test_times_caps_how_often_a_rule_fires(client: Client) -> None:
    client.admin("POST", "faults", {"rules": [{"kind": "ack_error", "times": 2}]})
    assert [client.get_orders()["Ack"] for _ in range(4)] == [
        "Error",
        "Error",
        "Success",
        "Success",
    ]
    assert client.admin("DELETE", "faults")[1]["rules"] == []


# --- the journal ---------------------------------------------------------------------------


def test_the_journal_keeps_every_api_request_with_its_answer_and_redacts_the_token(
    client: Client,
) -> None:
    order_id = client.admin("POST", "orders", {"count": 1})[1]["order_ids"][0]
    client.get_orders()
    client.update(order_id, "Charge")
    # A client that puts the token where it does not belong still never sees it echoed.
    client.call("POST", f"/api?format=xml&method=updateOrder&token={TOKEN}", TOKEN.encode())
    status, journal = client.admin("GET", "journal")
    assert status == 200 and journal["last"] == 3
    listed, refused, misplaced = journal["entries"]
    assert (listed["method"], listed["ack"], listed["order_ids"]) == (
        "getOrders",
        "Success",
        [order_id],
    )
    assert (refused["method"], refused["ack"], refused["error_code"]) == (
        "updateOrder",
        "Error",
        "ActionRefused",
    )
    assert refused["error"] == "order is New; Charge needs In Production"
    assert refused["headers"]["X-HOUZZ-API-SSL-TOKEN"] == "***"
    assert misplaced["query"]["token"] == "***" and misplaced["body"] == "***"
    assert TOKEN not in json.dumps(journal)
    only_updates = client.admin("GET", "journal?method=updateOrder&since=2")[1]["entries"]
    assert [entry["seq"] for entry in only_updates] == [3]


def test_the_journal_is_bounded() -> None:
    client = Client(ServedHouzz(ServerConfig(journal_limit=3)))
    for _ in range(5):
        client.call("GET", "/api?format=xml&method=getOrders", headers={})
    journal = client.admin("GET", "journal")[1]
    assert [e["seq"] for e in journal["entries"]] == [3, 4, 5] and journal["dropped"] == 2


# --- over HTTP -----------------------------------------------------------------------------


def test_a_body_over_the_limit_is_413_without_being_read() -> None:
    with serve(ServerConfig(max_body=1024, token=TOKEN, username="u", app_name="a")) as server:
        headers = {**AUTH, "X-HOUZZ-API-USER-NAME": "u", "X-HOUZZ-API-APP-NAME": "a"}
        body = b"<UpdateOrderRequest>" + b" " * 2048 + b"</UpdateOrderRequest>"
        status, _, answer = http_call(
            server, "POST", "/api?format=xml&method=updateOrder", body, headers
        )
        assert status == 413
        assert wire.read_answer(answer)["Errors"][0]["Code"] == "RequestTooLarge"
        assert server.journal()[0]["body"] == ""


def test_a_body_over_one_mib_is_refused_even_when_the_client_sends_it_all(
    running: RunningServer,
) -> None:
    body = b"<UpdateOrderRequest>" + b" " * (3 << 20) + b"</UpdateOrderRequest>"
    status, _, answer = http_call(running, "POST", "/api?format=xml&method=updateOrder", body)
    assert status == 413
    assert "1,048,576 byte limit" in wire.read_answer(answer)["Errors"][0]["Message"]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_gets_413_for_an_oversized_body_before_sending_it(
    running: RunningServer, tmp_path: Path
) -> None:
    big = tmp_path / "big.xml"
    big.write_bytes(b"<UpdateOrderRequest>" + b" " * (2 << 20) + b"</UpdateOrderRequest>")
    headers = [part for name, value in AUTH.items() for part in ("-H", f"{name}: {value}")]
    url = f"{running.api_url}?format=xml&method=updateOrder"
    done = subprocess.run(
        ["curl", "-s", "-w", "\n%{http_code}", *headers, "--data-binary", f"@{big}", url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    answer, _, status = done.stdout.rpartition("\n")
    assert status == "413" and "<Code>RequestTooLarge</Code>" in answer


def test_a_chunked_body_is_refused_with_411(running: RunningServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", running.port, timeout=10)
    try:
        connection.putrequest("POST", "/api?format=xml&method=updateOrder")
        for name, value in AUTH.items():
            connection.putheader(name, value)
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        connection.send(b"5\r\nhello\r\n0\r\n\r\n")
        answer = connection.getresponse()
        assert answer.status == 411
        assert wire.read_answer(answer.read())["Errors"][0]["Code"] == "MalformedRequest"
    finally:
        connection.close()


def test_the_server_binds_to_loopback_on_a_free_port(running: RunningServer) -> None:
    assert running.host == "127.0.0.1" and running.port > 0
    assert running.url == f"http://127.0.0.1:{running.port}"
    status, _, body = http_call(running, "GET", "/_houzzflow/health", headers={})
    assert status == 200 and json.loads(body)["status"] == "ok"


def test_concurrent_clients_are_all_answered_and_journaled_once(running: RunningServer) -> None:
    order_ids = running.place_orders(4)
    answers: list[str] = []
    lock = threading.Lock()

    def client(order_id: str) -> None:
        for action in ("Process", "Charge"):
            body = update_body(order_id, action)
            _, _, answer = http_call(running, "POST", "/api?format=xml&method=updateOrder", body)
            with lock:
                answers.append(wire.read_answer(answer)["Ack"])
        for _ in range(5):
            _, _, answer = http_call(running, "GET", "/api?format=json&method=getOrders")
            with lock:
                answers.append(json.loads(answer)["Ack"])

    threads = [threading.Thread(target=client, args=(order_id,)) for order_id in order_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert answers.count("Success") == 4 * 7
    journal = running.journal()
    assert sorted(entry["seq"] for entry in journal) == list(range(1, 29))
    assert {order.status for order in running.orders()} == {"Charged"}


def test_stop_is_clean_and_idempotent() -> None:
    server = serve(ServerConfig())
    server.stop()
    server.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(server.url + "/_houzzflow/health", timeout=5)


# --- the CLI entry -------------------------------------------------------------------------

SERVE = """
import sys
from houzzflow.simulator.http.server import run_server
sys.exit(run_server(host="127.0.0.1", port=0, program="seller", era="legacy", seed=5,
    token={token!r}, username="shop@example.com", app_name="my-app",
    scenario={scenario!r}, out=sys.stdout))
"""


def start_cli(scenario: str | None = None) -> subprocess.Popen[str]:
    code = SERVE.format(token=TOKEN, scenario=scenario)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=ROOT,
    )


@pytest.mark.parametrize("stop_with", [signal.SIGTERM, signal.SIGINT])
def test_run_server_prints_its_url_and_stops_cleanly_on_a_signal(stop_with: int) -> None:
    process = start_cli()
    assert process.stdout is not None
    try:
        banner = [process.stdout.readline() for _ in range(2)]
        assert banner[0].startswith("fake Houzz (seller, legacy era, seed 5) at http://127.0.0.1:")
        port = int(banner[1].removeprefix("port: "))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_houzzflow/health", timeout=10) as r:
            assert json.load(r)["status"] == "ok"
        process.send_signal(stop_with)
        rest, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)
    assert process.returncode == 0
    output = "".join(banner) + rest
    assert output.rstrip().endswith("stopped") and TOKEN not in output and "Traceback" not in output


def test_run_server_refuses_a_bad_scenario_with_file_and_line(tmp_path: Path) -> None:
    scenario = tmp_path / "world.yaml"
    scenario.write_text(
        "name: broken\nduration: 1d\npolicy:\n  connection_type: seller\n"
        "world:\n  orders: {count: -5}\n",
        encoding="utf-8",
    )
    process = start_cli(str(scenario))
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 2
    assert f"{scenario}:6:" in output and "count" in output and "Traceback" not in output


SHOP = """\
name: shop
seed: 3
duration: 1d
policy:
  connection_type: seller
  assume:
    era: legacy
world:
  orders: {count: 5}
  backlog: {count: 2, within: 1d}
"""


def test_a_scenario_world_brings_its_backlog_and_stream_and_comes_back_on_reset(
    tmp_path: Path,
) -> None:
    scenario = tmp_path / "shop.yaml"
    scenario.write_text(SHOP, encoding="utf-8")
    harness = scenario_harness(str(scenario))
    assert (harness.program, harness.era, harness.config.seed) == ("seller", "legacy", 3)
    backlog = harness.orders()
    assert len(backlog) == 2 and all(order.created < 0 for order in backlog)
    harness.advance(86400)
    assert len(harness.orders()) == 7
    harness.reset()
    assert [o.order_id for o in harness.orders()] == [o.order_id for o in backlog]


def test_run_server_serves_a_scenario_world(tmp_path: Path) -> None:
    scenario = tmp_path / "shop.yaml"
    scenario.write_text(SHOP, encoding="utf-8")
    process = start_cli(str(scenario))
    assert process.stdout is not None
    try:
        banner = [process.stdout.readline() for _ in range(2)]
        assert banner[0].startswith("fake Houzz (seller, legacy era, seed 3)")
        port = int(banner[1].removeprefix("port: "))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_houzzflow/health", timeout=10) as r:
            assert json.load(r)["orders"] == 2
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)
    assert process.returncode == 0


def test_a_scenario_whose_houzz_refuses_the_wrong_connection_is_served_as_ack_error() -> None:
    scenario = ROOT / "scenarios" / "loss-seller-connection-on-vendor-account.yaml"
    silent = scenario_harness(str(scenario))
    refusing = scenario_harness(str(scenario), overrides=["world.houzz.wrong_connection=error"])
    message = "this account is in the Houzz Vendor program; the connection is for Houzz Seller"
    for harness, answer in ((silent, "Success"), (refusing, "Error")):
        harness.advance(3600)  # orders were placed: the account has some
        assert harness.orders()
        client = Client(ServedHouzz(CONFIG, harness))
        listed = client.get_orders("Status=All")
        assert listed["Ack"] == answer
        if answer == "Success":
            assert listed.get("Orders", []) == []  # the silent loss: no orders at all
        else:
            assert listed["Errors"] == [{"Code": "ActionRefused", "Message": message}]
            (entry,) = client.served.journal(method="getOrders")
            assert (entry["ack"], entry["error_code"], entry["error"]) == (
                "Error",
                "ActionRefused",
                message,
            )
    xml = Client(ServedHouzz(CONFIG, refusing)).call(
        "GET", "/api?format=xml&method=getOrders&Status=All"
    )
    root = ET.fromstring(xml.body)
    assert (root.tag, root.findtext("Ack")) == ("GetOrdersResponse", "Error")
    assert root.findtext("Errors/Error/Message") == message
