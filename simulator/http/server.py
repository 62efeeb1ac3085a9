"""``houzzflow serve``: the fake Houzz over HTTP, for connectors written in any language.

Three layers, each thin: ``ServedHouzz.handle`` (``app.py``) turns one request (plain data)
into one reply under a single lock, routing by ``urls.py`` to the endpoints of
``wire_routes.py`` and ``admin_routes.py``; ``HouzzHTTPServer`` (the stdlib's
``ThreadingHTTPServer``: no dependency, one thread per client) moves bytes; ``serve`` /
``run_server`` start it for tests and for the CLI.

Routes (``urls.py``): ``/api?format=xml|json&method=getOrders|updateOrder|updateInventory``
speaks Houzz's seller API, authenticated by the three ``X-HOUZZ-API-*`` headers; the admin
API under ``/_houzzflow/`` (JSON, no authentication: it binds to 127.0.0.1 by default)
arranges and inspects the world. Every ``/api`` request is kept in a journal with its
answer, the token replaced by ``***``. The token is never printed, logged or answered.
"""

from __future__ import annotations

import datetime as dt
import signal
import threading
from contextlib import AbstractContextManager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any, TextIO

from houzzflow.engine.machine import Era, Program
from houzzflow.engine.ports import Ack
from houzzflow.simulator.harness import FaultRule, HistoryEntry, HouzzHarness
from houzzflow.simulator.houzz import wire
from houzzflow.simulator.houzz.state import HouzzOrder
from houzzflow.simulator.houzz.wire import ErrorCode, Format, Reply
from houzzflow.simulator.http.app import ServedHouzz
from houzzflow.simulator.http.config import ServerConfig
from houzzflow.simulator.http.messages import ApiRequest
from houzzflow.simulator.http.urls import ADMIN_PREFIX, API_PATH

__all__ = [
    "ApiRequest",
    "HouzzHTTPServer",
    "RunningServer",
    "ServedHouzz",
    "ServerConfig",
    "banner",
    "run_server",
    "serve",
]

_DRAIN_LIMIT = 8 << 20  # bytes of a refused body read (and dropped) before closing
_DRAIN_TIMEOUT = 2.0  # seconds a client may pause while a refused body is drained


# --- HTTP ----------------------------------------------------------------------------------


class HouzzHTTPServer(ThreadingHTTPServer):
    """The stdlib's threading HTTP server, carrying the ``ServedHouzz`` it serves."""

    daemon_threads = True  # a client that hangs never blocks shutdown
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], served: ServedHouzz) -> None:
        self.served = served
        super().__init__(address, _Exchange)


class _Exchange(BaseHTTPRequestHandler):
    """Reads one request, asks ``ServedHouzz`` for the reply, writes it."""

    server: HouzzHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "houzzflow"
    timeout = 30  # seconds a silent client may hold its connection

    def do_GET(self) -> None:
        self._exchange()

    def do_POST(self) -> None:
        self._exchange()

    def do_DELETE(self) -> None:
        self._exchange()

    def do_PUT(self) -> None:
        self._exchange()

    def do_PATCH(self) -> None:
        self._exchange()

    def handle_expect_100(self) -> bool:
        declared = self._declared_length()
        if declared is not None and declared > self.server.served.config.max_body:
            # Refuse before the client sends the body ("Expect: 100-continue", as curl does).
            self._exchange(drain=False)
            return False
        return super().handle_expect_100()

    def _declared_length(self) -> int | None:
        """The body's Content-Length; None when chunked or not a number."""
        if self.headers.get("Transfer-Encoding"):
            return None
        raw = (self.headers.get("Content-Length") or "0").strip()
        return int(raw) if raw.isascii() and raw.isdigit() else None

    def _exchange(self, drain: bool = True) -> None:
        served = self.server.served
        limit = served.config.max_body
        declared = self._declared_length()
        if declared is None:
            # A chunked body cannot be size-checked before it is read; Houzz clients send lengths.
            self.close_connection = True
            message = "send the body with a numeric Content-Length (chunked bodies are refused)"
            code = ErrorCode.MALFORMED_REQUEST
            self._write(wire.render_error("", code, message, Format.XML, status=411))
            return
        body = self.rfile.read(declared) if declared <= limit else b""
        headers = {name: value for name, value in self.headers.items()}
        reply = served.handle(ApiRequest(self.command, self.path, headers, body, declared))
        if declared > limit:
            self.close_connection = True  # the unread body would be taken for the next request
        if reply.drop:
            self.close_connection = True  # the reply is lost: close without a word
            return
        self._write(reply)
        if declared > limit and drain:
            self._drain(declared)

    def _drain(self, declared: int) -> None:
        """Read and drop a refused body, up to a bound: closing a socket with unread data
        resets it, and the client could lose the answer it was about to read."""
        self.connection.settimeout(_DRAIN_TIMEOUT)
        left = min(declared, _DRAIN_LIMIT)
        try:
            while left > 0:
                chunk = self.rfile.read(min(left, 1 << 16))
                if not chunk:
                    return
                left -= len(chunk)
        except OSError:
            return

    def _write(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    def version_string(self) -> str:
        return self.server_version  # no Python version: nothing a client should rely on

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the journal is the record, and a log line could carry a secret."""


class RunningServer:
    """A fake Houzz served on a background thread: its URLs, credentials and admin helpers.

    The helpers work on the served world directly (under the server's lock), without HTTP;
    use ``.url`` with any HTTP client for what the connector under test does.
    """

    def __init__(self, http: HouzzHTTPServer, served: ServedHouzz) -> None:
        self._http = http
        self.served = served
        name, self.port = http.server_address[0], http.server_address[1]
        self.host = name if isinstance(name, str) else name.decode()
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{host}:{self.port}"
        self.api_url = f"{self.url}{API_PATH}"
        self.admin_url = f"{self.url}{ADMIN_PREFIX}"
        self._thread = threading.Thread(
            target=http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def __repr__(self) -> str:
        return f"RunningServer(url={self.url!r})"

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop serving and close the socket (idempotent)."""
        if self._thread.is_alive():
            self._http.shutdown()
            self._thread.join(timeout=10)
        self._http.server_close()

    @property
    def token(self) -> str:
        return self.served.config.token

    @property
    def username(self) -> str:
        return self.served.config.username

    @property
    def app_name(self) -> str:
        return self.served.config.app_name

    @property
    def headers(self) -> dict[str, str]:
        """The three authentication headers a Houzz client sends."""
        return {
            wire.TOKEN_HEADER: self.token,
            wire.USER_HEADER: self.username,
            wire.APP_HEADER: self.app_name,
        }

    def locked(self) -> AbstractContextManager[HouzzHarness]:
        """``with server.locked() as harness:`` arrange or inspect the world safely."""
        return self.served.locked()

    def place_orders(self, count: int = 1, *, items: int | None = None) -> list[str]:
        with self.served.locked() as harness:
            return harness.place_orders(count, items=items)

    def orders(self, status: str = "All") -> list[HouzzOrder]:
        with self.served.locked() as harness:
            return harness.orders(status)

    def order(self, order_id: str) -> HouzzOrder:
        with self.served.locked() as harness:
            return harness.order(order_id)

    def history(self, order_id: str) -> list[HistoryEntry]:
        """Every change in the order's life: (time, actor, action, status), oldest first."""
        with self.served.locked() as harness:
            return harness.history(order_id)

    def advance(self, seconds: int) -> int:
        """Let simulated time pass (see ``HouzzHarness.advance``); returns the new time."""
        with self.served.locked() as harness:
            return harness.advance(seconds)

    def staff(self, order_id: str, action: str, **details: str) -> Ack:
        with self.served.locked() as harness:
            return harness.staff(order_id, action, **details)

    def add_fault(self, kind: Any, **options: Any) -> FaultRule:
        """Add a fault rule (``HouzzHarness.add_fault``'s arguments)."""
        with self.served.locked() as harness:
            return harness.add_fault(kind, **options)

    def clear_faults(self) -> None:
        with self.served.locked() as harness:
            harness.clear_faults()

    def journal(self, *, since: int = 0, method: str = "") -> list[dict[str, Any]]:
        """Every Houzz API request served so far, with its answer (the token redacted)."""
        with self.served.lock:
            return self.served.journal(since=since, method=method)

    def reset(self) -> None:
        """Back to an empty world at time 0, with an empty journal."""
        self.served.handle(ApiRequest("POST", f"{ADMIN_PREFIX}/reset"))


def serve(config: ServerConfig | None = None, harness: HouzzHarness | None = None) -> RunningServer:
    """Start serving a fake Houzz on a background thread; ``port`` 0 picks a free port.

    Raises ``OSError`` when the address cannot be bound. Stop it with ``.stop()`` (or use it
    as a context manager).
    """
    config = config or ServerConfig()
    served = ServedHouzz(config, harness)
    http = HouzzHTTPServer((config.host, config.port), served)
    return RunningServer(http, served)


# --- the CLI's entry ---------------------------------------------------------------------


def run_server(
    *,
    host: str,
    port: int,
    program: Program,
    era: Era,
    seed: int,
    token: str,
    username: str,
    app_name: str,
    scenario: str | None,
    out: TextIO,
    epoch: dt.datetime | None = None,
    clock_speed: float | None = None,
) -> int:
    """``houzzflow serve``: serve until SIGINT or SIGTERM; the exit status (0, or 2)."""
    from houzzflow.engine.diagnostics import InputError
    from houzzflow.simulator.runs.world_of import scenario_harness

    config = ServerConfig(
        host=host,
        port=port,
        program=program,
        era=era,
        seed=seed,
        token=token,
        username=username,
        app_name=app_name,
        # In wall-clock mode simulated second 0 is when serving starts, unless told otherwise.
        epoch=epoch or (_wall_now() if clock_speed is not None else wire.DEFAULT_EPOCH),
        clock_speed=clock_speed,
    )
    harness: HouzzHarness | None = None
    if scenario:
        try:
            harness = scenario_harness(scenario, config.harness_config())
        except InputError as exc:
            for diagnostic in exc.diagnostics:
                print(diagnostic.render(), file=out)
            return 2
    try:
        running = serve(config, harness)
    except OSError as exc:
        print(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}", file=out)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for line in banner(running, asked_port=port):
            print(line, file=out)
        out.flush()
        stop.wait()  # a signal handler sets it; lock waits are interrupted by signals
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        running.stop()
    print("stopped", file=out)
    return 0


def _wall_now() -> dt.datetime:
    from houzzflow.simulator.kernel.pace import parse_epoch

    return parse_epoch("now")


def banner(running: RunningServer, *, asked_port: int) -> list[str]:
    """What ``houzzflow serve`` prints when it starts (never the token)."""
    h = running.served.harness
    config = running.served.config
    lines = [f"fake Houzz ({h.program}, {h.era} era, seed {h.config.seed}) at {running.api_url}"]
    if asked_port == 0:
        lines.append(f"port: {running.port}")
    lines += [
        f"admin API: {running.admin_url}/health, /orders, /clock/advance, /faults, /journal",
        f"credentials: username {config.username!r}, app name {config.app_name!r}, "
        "and the token you chose (never shown)",
    ]
    if running.served.pace is not None or running.served.harness.epoch != wire.DEFAULT_EPOCH:
        lines.append(_clock_line(running))
    if config.host not in ("127.0.0.1", "localhost", "::1"):
        lines.append("warning: the admin API has no authentication; prefer --host 127.0.0.1")
    lines.append("press Ctrl-C to stop")
    return lines


def _clock_line(running: RunningServer) -> str:
    h, pace = running.served.harness, running.served.pace
    zero = f"simulated second 0 is {h.time_text(0)} UTC"
    if pace is None:
        return f"clock: {zero}; it moves only when told to (POST /_houzzflow/clock/advance)"
    return f"clock: {zero}; it follows the wall clock at {pace.speed:g}x"
