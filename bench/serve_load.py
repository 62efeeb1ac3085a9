"""``python -m bench.serve_load``: a load and fault test of ``houzzflow serve`` over loopback.

The fake is started as its own process (``houzzflow serve --port 0``), so the clients here
do not share its interpreter. Then, for ``--seconds`` (or ``--requests`` per client):

* ``--idle`` connections are opened first and held to the end, half of them sending a
  request's first line and never the rest (slowloris): they must not stop anyone else;
* ``--clients`` threads each place their own orders through the admin API and drive each
  one as a connector would, over the Houzz API: getOrders, then Process, Charge and Ship,
  with a new TCP connection for every request (``--keep-alive`` reuses one per client);
* fault rules make Houzz answer ``Ack: Error`` to 3% of updateOrder calls and lose the reply
  of 2% after the write took effect (the connection closes unanswered); a client retries an
  error and, after a lost reply, reads the order back before going on.

Reported: requests/s, p50/p99/max latency, errors (a refused or reset connection, a 5xx, a
timeout: never the injected faults), and afterwards Houzz's side is checked: every order a
client placed exists once and no other does (none lost or duplicated), every step of every
order's history is a legal move of Houzz's lifecycle, and every updateOrder a client saw
succeed is exactly one transition on the server, the others being lost replies. Exit 1 when
a check fails or an error was seen.

No figure is asserted anywhere; ``tests/test_bench.py`` runs a few requests through it to
keep it working. Figures go to bench/RESULTS.md by hand, with the machine's load.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from houzzflow.engine.table import houzz_table

TOKEN = "bench-token"
USER = "bench@example.com"
APP = "bench"
AUTH = {"X-HOUZZ-API-SSL-TOKEN": TOKEN, "X-HOUZZ-API-USER-NAME": USER, "X-HOUZZ-API-APP-NAME": APP}
STEPS = ("Process", "Charge", "Ship")
FAULTS = [
    {"kind": "ack_error", "operation": "updateOrder", "probability": 0.03},
    {"kind": "timeout_after_write", "operation": "updateOrder", "probability": 0.02},
]
TIMEOUT = 30.0  # seconds a client waits for one answer before counting an error


@dataclass
class Tally:
    """What one client saw."""

    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    injected: Counter[str] = field(default_factory=Counter)
    placed: list[str] = field(default_factory=list)
    succeeded: Counter[tuple[str, str]] = field(default_factory=Counter)  # (order, action)
    lost: Counter[tuple[str, str]] = field(default_factory=Counter)


class Client:
    """One connector: its own orders, driven one step at a time."""

    def __init__(self, port: int, keep_alive: bool, seed: int) -> None:
        self.port = port
        self.keep_alive = keep_alive
        self.rng = random.Random(seed)
        self.tally = Tally()
        self._connection: http.client.HTTPConnection | None = None

    def request(
        self, method: str, target: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes] | None:
        """(status, body); None when the connection closed unanswered (counted by caller)."""
        started = time.perf_counter()
        connection = self._connection
        if connection is None:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            connection.request(method, target, body=body or None, headers=headers or {})
            answer = connection.getresponse()
            data = answer.read()
            status = answer.status
        except (http.client.RemoteDisconnected, ConnectionResetError):
            connection.close()
            self._connection = None
            self.tally.latencies.append(time.perf_counter() - started)
            return None
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            self._connection = None
            self.tally.errors[type(exc).__name__] += 1
            return (0, b"")
        self.tally.latencies.append(time.perf_counter() - started)
        if self.keep_alive and not answer.will_close:
            self._connection = connection
        else:
            connection.close()
            self._connection = None
        if status >= 500:
            self.tally.errors[f"HTTP {status}"] += 1
        return status, data

    def place(self) -> str | None:
        body = b'{"count": 1}'
        answer = self.request(
            "POST", "/_houzzflow/orders", body, {"Content-Type": "application/json"}
        )
        if answer is None or answer[0] != 201:
            if answer is None:
                self.tally.errors["admin reply lost"] += 1
            return None
        order_id = str(json.loads(answer[1])["order_ids"][0])
        self.tally.placed.append(order_id)
        return order_id

    def list_new(self) -> None:
        target = "/api?format=json&method=getOrders&Status=New&NumberOfItems=20"
        answer = self.request("GET", target, headers=AUTH)
        if answer is None:
            self.tally.errors["getOrders reply lost"] += 1

    def status(self, order_id: str) -> str:
        answer = self.request("GET", f"/_houzzflow/orders/{order_id}")
        return str(json.loads(answer[1])["status"]) if answer and answer[0] == 200 else ""

    def act(self, order_id: str, action: str) -> bool:
        """One step, retried through injected errors; True once it is done on Houzz."""
        extra = "<TrackingNumber>1Z999</TrackingNumber>" if action == "Ship" else ""
        body = (
            f"<UpdateOrderRequest><OrderId>{order_id}</OrderId><Action>{action}</Action>"
            f"{extra}</UpdateOrderRequest>"
        ).encode()
        target = "/api?format=xml&method=updateOrder"
        for _ in range(20):
            answer = self.request("POST", target, body, {**AUTH, "Content-Type": "text/xml"})
            if answer is None:  # the injected lost reply: did the write happen?
                self.tally.lost[(order_id, action)] += 1
                self.tally.injected["reply lost"] += 1
                done = {"Process": "InProduction", "Charge": "Charged", "Ship": "Shipped"}
                return self.status(order_id) == done[action]
            status, data = answer
            if status != 200:
                return False
            if b"<Ack>Success</Ack>" in data:
                self.tally.succeeded[(order_id, action)] += 1
                return True
            if b"<Code>InternalError</Code>" in data:  # the injected Ack: Error: retry
                self.tally.injected["ack error"] += 1
                continue
            code = re.search(rb"<Code>(\w+)</Code>", data)
            self.tally.errors[f"refused: {code.group(1).decode() if code else '?'}"] += 1
            return False
        return False

    def run(self, stop: threading.Event, requests: int | None) -> None:
        order: str | None = None
        step = 0
        while not stop.is_set() and (requests is None or len(self.tally.latencies) < requests):
            if order is None:
                order, step = self.place(), 0
                continue
            if self.rng.random() < 0.3:
                self.list_new()
                continue
            if not self.act(order, STEPS[step]):
                order = None  # counted as an error where it was not a fault's doing
                continue
            step += 1
            if step == len(STEPS):
                order = None
        if self._connection is not None:
            self._connection.close()


def start_server() -> tuple[subprocess.Popen[str], int]:
    env = {**os.environ, "HOUZZFLOW_TOKEN": TOKEN}
    command = [
        sys.executable, "-m", "houzzflow.simulator.cli", "serve", "--port", "0",
        "--era", "legacy", "--username", USER, "--app-name", APP,
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("port: "):
            return process, int(line.split()[1])
    raise RuntimeError("houzzflow serve did not start")


def open_idle(port: int, count: int) -> list[socket.socket]:
    idle = []
    for k in range(count):
        connection = socket.create_connection(("127.0.0.1", port), timeout=10)
        if k % 2:
            connection.sendall(b"GET /api HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
        idle.append(connection)
    return idle


def closed_by_server(idle: list[socket.socket]) -> int:
    closed = 0
    for connection in idle:
        connection.setblocking(False)
        try:
            closed += connection.recv(1) == b""
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
        connection.close()
    return closed


def consistency(port: int, tallies: list[Tally]) -> dict[str, Any]:
    """Houzz's side after the run, against what the clients saw."""
    client = Client(port, keep_alive=False, seed=0)
    answer = client.request("GET", "/_houzzflow/orders")
    assert answer is not None and answer[0] == 200
    orders = json.loads(answer[1])["orders"]
    on_server = Counter(order["order_id"] for order in orders)
    placed = Counter(order_id for tally in tallies for order_id in tally.placed)
    table = houzz_table("seller", "legacy")
    illegal = []
    transitions: Counter[tuple[str, str]] = Counter()
    for order in orders:
        state = table.initial
        for entry in order["history"][1:]:
            after = table.step(state, entry["action"], entry["actor"])
            if after != entry["status"]:
                illegal.append((order["order_id"], state, entry["action"], entry["status"]))
            state = entry["status"]
            if entry["actor"] == "connector":  # what came through the Houzz API
                transitions[(order["order_id"], entry["action"])] += 1
    succeeded = sum((tally.succeeded for tally in tallies), Counter[tuple[str, str]]())
    lost = sum((tally.lost for tally in tallies), Counter[tuple[str, str]]())
    unexplained = [
        key
        for key in set(transitions) | set(succeeded)
        if transitions[key] != succeeded[key] and not (transitions[key] == 1 and lost[key])
    ]
    return {
        "orders_placed": sum(placed.values()),
        "orders_on_houzz": len(on_server),
        "lost": sorted(set(placed) - set(on_server)),
        "unknown": sorted(set(on_server) - set(placed)),
        "duplicated": sorted(k for k, n in (placed + on_server).items() if n != 2),
        "transitions": sum(transitions.values()),
        "client_successes": sum(succeeded.values()),
        "lost_replies": sum(lost.values()),
        "illegal": illegal[:10],
        "unexplained": sorted(unexplained)[:10],
    }


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def run(
    clients: int, seconds: float, requests: int | None, idle: int, keep_alive: bool
) -> dict[str, Any]:
    server, port = start_server()
    try:
        setup = Client(port, keep_alive=False, seed=0)
        for rule in FAULTS:
            added = setup.request(
                "POST", "/_houzzflow/faults", json.dumps(rule).encode(),
                {"Content-Type": "application/json"},
            )  # fmt: skip
            assert added is not None and added[0] == 201, added
        held = open_idle(port, idle)
        workers = [Client(port, keep_alive, seed) for seed in range(clients)]
        stop = threading.Event()
        threads = [threading.Thread(target=worker.run, args=(stop, requests)) for worker in workers]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        if requests is None:
            stop.wait(seconds)
            stop.set()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        idle_closed = closed_by_server(held)
        tallies = [worker.tally for worker in workers]
        checked = consistency(port, tallies)
    finally:
        server.terminate()
        server.wait(timeout=30)
    latencies = [t for tally in tallies for t in tally.latencies]
    errors = sum((tally.errors for tally in tallies), Counter[str]())
    injected = sum((tally.injected for tally in tallies), Counter[str]())
    return {
        "clients": clients,
        "seconds": round(elapsed, 2),
        "connection_per_request": not keep_alive,
        "idle_connections": idle,
        "idle_closed_by_server": idle_closed,
        "requests": len(latencies),
        "requests_per_second": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(quantile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(quantile(latencies, 0.99) * 1000, 2),
        "max_ms": round(max(latencies, default=0.0) * 1000, 2),
        "errors": dict(errors),
        "injected_faults_seen": dict(injected),
        "consistency": checked,
        "server_exit": server.returncode,
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def passed(result: dict[str, Any]) -> bool:
    c = result["consistency"]
    return not (
        result["errors"] or c["lost"] or c["unknown"] or c["duplicated"] or c["illegal"]
        or c["unexplained"]
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serve_load", description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--requests", type=int, help="per client, instead of --seconds")
    parser.add_argument("--idle", type=int, default=2000, help="idle connections held open")
    parser.add_argument("--keep-alive", action="store_true", help="one connection per client")
    args = parser.parse_args(argv)
    if not (1 <= args.clients <= 1000 and 0 <= args.idle <= 10_000 and args.seconds <= 3600):
        parser.error("--clients 1..1000, --idle 0..10000, --seconds up to 3600")
    result = run(args.clients, args.seconds, args.requests, args.idle, args.keep_alive)
    print(json.dumps(result, indent=2))
    return 0 if passed(result) else 1


if __name__ == "__main__":
    sys.exit(main())
