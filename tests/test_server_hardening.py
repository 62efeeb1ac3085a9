"""The served fake holds up: the admin API is no cross-site target, no secret reaches the
journal, and the HTTP stack bounds slow, idle and malformed clients."""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from houzzflow.simulator.cli import main
from houzzflow.simulator.houzz import wire
from houzzflow.simulator.http import server as server_module
from houzzflow.simulator.http.server import (
    ApiRequest,
    RunningServer,
    ServedHouzz,
    ServerConfig,
    serve,
)

TOKEN = "s3cret-t0ken-value"
ADMIN = "adm1n-t0ken-value"
CONFIG = ServerConfig(token=TOKEN, username="u", app_name="a")
AUTH = {"X-HOUZZ-API-SSL-TOKEN": TOKEN, "X-HOUZZ-API-USER-NAME": "u", "X-HOUZZ-API-APP-NAME": "a"}
JSON = {"Content-Type": "application/json"}


def admin(served: ServedHouzz, method: str, path: str, body: bytes, **headers: str) -> wire.Reply:
    named = {name.replace("_", "-"): value for name, value in headers.items()}
    return served.handle(ApiRequest(method, f"/_houzzflow/{path}", named, body, len(body)))


# --- the admin API is not a cross-site target -----------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "text/plain"},  # what a cross-site form or no-cors fetch can send
        {"Content-Type": "application/x-www-form-urlencoded"},
        {},  # a Blob body without a type
    ],
)
def test_an_admin_body_that_is_not_json_is_refused_without_effect(headers: dict[str, str]) -> None:
    served = ServedHouzz(CONFIG)
    reply = admin(served, "POST", "orders", b'{"count": 3}', **headers)
    assert reply.status == 415
    assert "application/json" in json.loads(reply.body)["error"]
    assert served.harness.orders() == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Host", "attacker.example:8080"),  # DNS rebinding: a foreign name for 127.0.0.1
        ("Origin", "https://attacker.example"),
        ("Origin", "null"),  # a sandboxed frame or a file: page
    ],
)
def test_admin_requests_from_another_site_are_refused(name: str, value: str) -> None:
    served = ServedHouzz(CONFIG)
    reply = admin(served, "POST", "orders", b'{"count": 1}', **JSON, **{name: value})
    assert reply.status == 403
    assert served.harness.orders() == []


@pytest.mark.parametrize(
    "host", ["127.0.0.1:8080", "localhost:8080", "[::1]:8080", "127.0.0.1", "LOCALHOST"]
)
def test_admin_requests_naming_the_loopback_address_are_answered(host: str) -> None:
    served = ServedHouzz(CONFIG)
    origin = f"http://{host}"
    reply = admin(served, "POST", "orders", b'{"count": 1}', **JSON, Host=host, Origin=origin)
    assert reply.status == 201


def test_an_admin_token_is_required_on_every_admin_request_when_set() -> None:
    served = ServedHouzz(ServerConfig(token=TOKEN, admin_token=ADMIN))
    assert admin(served, "GET", "health", b"").status == 401
    wrong = admin(served, "GET", "health", b"", X_Houzzflow_Admin_Token="guess")
    assert wrong.status == 401 and ADMIN not in wrong.body.decode()
    assert admin(served, "GET", "health", b"", X_Houzzflow_Admin_Token=ADMIN).status == 200
    assert admin(served, "GET", "health", b"", Authorization=f"Bearer {ADMIN}").status == 200


def test_serving_beyond_loopback_without_an_admin_token_is_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="admin token"):
        serve(ServerConfig(host="0.0.0.0"))


def test_the_cli_refuses_a_public_bind_and_warns_about_a_token_on_the_command_line() -> None:
    done = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--token", TOKEN])
    assert done.exit_code == 2
    assert "--token on the command line is visible to other users" in done.stderr
    assert "refusing to serve on 0.0.0.0" in done.stderr and "admin token" in done.stderr
    assert TOKEN not in done.output and "Traceback" not in done.output


def test_a_token_from_the_environment_or_a_file_gives_no_warning(tmp_path: Path) -> None:
    args = ["serve", "--host", "0.0.0.0"]
    done = CliRunner().invoke(main, args, env={"HOUZZFLOW_TOKEN": TOKEN})
    assert done.exit_code == 2 and "visible to other users" not in done.stderr
    empty = tmp_path / "token"
    empty.write_text("\n")
    done = CliRunner().invoke(main, [*args, "--token-file", str(empty)])
    assert done.exit_code == 2 and f"{empty} is empty" in done.stderr


# --- no secret in the journal ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "headers", "body"),
    [
        ("/api?format=xml&method=getOrders", {**AUTH, "X-HOUZZ-API-APP-NAME": TOKEN}, b""),
        ("/api?format=xml&method=getOrders", {**AUTH, "X-HOUZZ-API-NOTE": TOKEN}, b""),
        (
            "/api?format=xml&method=updateOrder",
            AUTH,
            f"<UpdateOrderRequest><OrderId>{TOKEN}</OrderId><Action>Process</Action>"
            "</UpdateOrderRequest>".encode(),
        ),
        ("/api?format=json&method=updateOrder", AUTH, json.dumps({"OrderId": TOKEN}).encode()),
        (f"/api?format=xml&method=getOrders&{TOKEN}=1", AUTH, b""),
        (f"/api?format=xml&method=getOrders&x={TOKEN.replace('-', '%2D')}", AUTH, b""),
        # A token cut by the journal's 4,096-character limit leaves no prefix behind.
        ("/api?format=xml&method=updateOrder", AUTH, b" " * 4090 + TOKEN.encode()),
    ],
)
def test_the_journal_redacts_the_token_wherever_the_client_puts_it(
    target: str, headers: dict[str, str], body: bytes
) -> None:
    served = ServedHouzz(CONFIG)
    served.handle(ApiRequest("POST" if body else "GET", target, headers, body, len(body)))
    (entry,) = served.journal()
    shown = json.dumps(entry)
    assert TOKEN not in shown and TOKEN[:6] not in shown


def test_the_admin_token_never_reaches_the_journal() -> None:
    served = ServedHouzz(ServerConfig(token=TOKEN, admin_token=ADMIN, username="u", app_name="a"))
    headers = {**AUTH, "X-HOUZZ-API-OTHER": ADMIN}
    served.handle(ApiRequest("GET", "/api?format=xml&method=getOrders", headers))
    assert ADMIN not in json.dumps(served.journal())


# --- client mistakes are 400-class answers, never 500 --------------------------------------


def test_a_json_integer_of_thousands_of_digits_is_a_houzz_error_not_a_500() -> None:
    served = ServedHouzz(CONFIG)
    body = b'{"OrderId": ' + b"9" * 5000 + b', "Action": "Process"}'
    reply = served.handle(ApiRequest("POST", "/api?format=json&method=updateOrder", AUTH, body))
    answer = wire.read_answer(reply.body)
    assert reply.status == 200 and answer["Ack"] == "Error"
    assert answer["Errors"][0]["Code"] == "MalformedRequest"
    admin_reply = admin(served, "POST", "orders", b'{"count": ' + b"9" * 5000 + b"}", **JSON)
    assert admin_reply.status == 400


def test_a_from_past_the_year_9999_is_invalid_parameter() -> None:
    served = ServedHouzz(CONFIG)
    target = "/api?format=json&method=getOrders&From=9999-12-31%2023:59:59-01:00"
    answer = json.loads(served.handle(ApiRequest("GET", target, AUTH)).body)
    assert answer["Ack"] == "Error" and answer["Errors"][0]["Code"] == "InvalidParameter"
    assert "past the year 9999" in answer["Errors"][0]["Message"]


@pytest.mark.parametrize(
    "body",
    [
        {"count": 1, "items": 1_000_000_000},
        {"count": 1, "items": True},
        {"count": 10_001},
        {"orders": [{"items": 2, "created": -(10**12)}]},
    ],
)
def test_admin_orders_past_their_limits_are_400_and_the_world_is_untouched(
    body: dict[str, object],
) -> None:
    served = ServedHouzz(CONFIG)
    reply = admin(served, "POST", "orders", json.dumps(body).encode(), **JSON)
    assert reply.status == 400, reply.body
    assert served.harness.orders() == []


# --- over a socket --------------------------------------------------------------------------


@pytest.fixture
def running() -> Iterator[RunningServer]:
    with serve(CONFIG) as server:
        yield server


def health(server: RunningServer) -> int:
    with urllib.request.urlopen(f"{server.url}/_houzzflow/health", timeout=10) as answer:
        status: int = answer.status
        return status


def test_a_content_length_of_thousands_of_digits_is_400_and_the_server_goes_on(
    running: RunningServer,
) -> None:
    with socket.create_connection(("127.0.0.1", running.port), timeout=10) as raw:
        head = b"POST /api HTTP/1.1\r\nHost: x\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n"
        raw.sendall(head)
        assert raw.recv(100).startswith(b"HTTP/1.1 400")
    assert health(running) == 200


def test_idle_connections_do_not_stop_other_clients(running: RunningServer) -> None:
    idle = [socket.create_connection(("127.0.0.1", running.port), timeout=10) for _ in range(300)]
    try:
        for connection in idle[::2]:
            connection.sendall(b"GET /api HTTP/1.1\r\nHost: x\r\n")  # headers never finished
        assert health(running) == 200
    finally:
        for connection in idle:
            connection.close()


def test_a_client_that_never_finishes_its_headers_is_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(server_module, "HEAD_TIMEOUT", 0.2)
    with (
        serve(CONFIG) as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=20) as slow,
    ):
        slow.sendall(b"GET /api HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        assert slow.recv(100) == b""  # closed by the server, not answered


def test_the_server_serves_ipv6_loopback_with_a_bracketed_url() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        server = serve(ServerConfig(host="::1"))
    except OSError:
        pytest.skip("IPv6 loopback is not configured here")
    with server:
        assert server.url == f"http://[::1]:{server.port}"
        assert health(server) == 200


def test_the_banner_names_the_default_token_or_where_a_chosen_one_came_from() -> None:
    from houzzflow.simulator.http import credentials
    from houzzflow.simulator.http.server import banner

    default = credentials.choose(
        option="--token", given=None, from_env=False, file=None, env="E", default="houzzflow-token"
    )
    chosen = credentials.choose(
        option="--token", given=TOKEN, from_env=True, file=None, env="HOUZZFLOW_TOKEN", default=""
    )
    with serve(ServerConfig(token=default.value)) as server:
        shown = "\n".join(banner(server, asked_port=0, token_source=default.source))
        assert "the default token 'houzzflow-token'" in shown
    with serve(ServerConfig(token=chosen.value)) as server:
        shown = "\n".join(banner(server, asked_port=0, token_source=chosen.source))
        assert "the token in $HOUZZFLOW_TOKEN (never shown)" in shown and TOKEN not in shown
        assert "not simulated" not in shown


def test_the_banner_says_which_answer_the_fake_serves_in_place_of_one_it_cannot() -> None:
    from houzzflow.simulator.http.server import banner

    with serve(ServerConfig(facts=(("time_zone", "account_local"),))) as server:
        shown = banner(server, asked_port=0)
        assert ("time_zone", "utc") in server.served.harness.fake.facts
    (line,) = [line for line in shown if line.startswith("not simulated")]
    assert line.startswith("not simulated: time_zone: account_local; this fake serves utc in its")
