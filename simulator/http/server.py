"""``houzzflow serve``: the fake Houzz over HTTP, for connectors written in any language.

Three layers, each thin: ``ServedHouzz.handle`` (``app.py``) turns one request (plain data)
into one reply under a single lock, routing by ``urls.py`` to the endpoints of
``wire_routes.py`` and ``admin_routes.py``; ``asgi.py`` is the Starlette application that
moves requests and replies between ASGI and ``handle``; ``HouzzHTTPServer`` (uvicorn, on its
own thread, with the limits below) moves bytes; ``serve`` / ``run_server`` start it for tests
and for the CLI. Starlette and uvicorn are imported only when a server starts, so the rest of
the CLI does not pay for them.

Routes (``urls.py``): ``/api?format=xml|json&method=getOrders|updateOrder|updateInventory``
speaks Houzz's seller API, authenticated by the three ``X-HOUZZ-API-*`` headers; the admin
API under ``/_houzzflow/`` (JSON only, from this machine's own pages, with an optional admin
token: ``admin_guard.py``) arranges and inspects the world; beyond loopback it is refused
without an admin token. Every ``/api`` request is kept in a journal with its answer, every
token replaced by ``***``. A chosen token is never printed, logged or answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
import socket
import threading
from contextlib import AbstractContextManager
from types import FrameType
from typing import Any, TextIO

from houzzflow.engine.assumptions import unsimulated
from houzzflow.engine.machine import Era, Program
from houzzflow.engine.ports import Ack
from houzzflow.simulator.harness import FaultRule, HistoryEntry, HouzzHarness
from houzzflow.simulator.houzz import wire
from houzzflow.simulator.houzz.state import HouzzOrder
from houzzflow.simulator.http.admin_guard import beyond_loopback_refusal
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

# --- HTTP ----------------------------------------------------------------------------------

BACKLOG = 2048  # connections the kernel queues before accept (capped by net.core.somaxconn)
MAX_CONNECTIONS = 4096  # open connections and requests in flight; past it new requests get 503
HEAD_TIMEOUT = 10.0  # seconds a connection may take to send a request's headers
KEEP_ALIVE = 5  # seconds an idle keep-alive connection stays open
MAX_HEAD = 64 << 10  # bytes of request line and headers
GRACE = 5  # seconds stop() lets requests in flight finish


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host`` (a name, IPv4 or IPv6 address) and ``port``."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class HouzzHTTPServer:
    """The fake served by uvicorn (h11) on its own thread and event loop, from a bound socket.

    uvicorn brings keep-alive timeouts, a bound on concurrent connections (``limit_concurrency``)
    and graceful shutdown; the protocol below adds what it lacks: a deadline for a request's
    headers (a client that never finishes them is closed) and a way to close a connection
    without answering.
    """

    def __init__(self, address: tuple[str, int], served: ServedHouzz) -> None:
        import uvicorn

        from houzzflow.simulator.http.asgi import build_app

        # uvicorn logs a client's malformed request to stderr; the journal is the record, and
        # a served fake must not fill a developer's terminal because a client misbehaves.
        logging.getLogger("uvicorn").addHandler(logging.NullHandler())
        logging.getLogger("uvicorn").propagate = False
        self.served = served
        self.socket = _bind(*address)
        self.server_address = self.socket.getsockname()[:2]
        config = uvicorn.Config(
            build_app(served),
            http=_protocol_class(),
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            date_header=False,
            backlog=BACKLOG,
            limit_concurrency=MAX_CONNECTIONS,
            timeout_keep_alive=KEEP_ALIVE,
            timeout_graceful_shutdown=GRACE,
            h11_max_incomplete_event_size=MAX_HEAD,
        )
        self._uvicorn = uvicorn.Server(config)
        self._started = threading.Event()
        self._failed: BaseException | None = None

    def serve_forever(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to the thread that waits for the start
            self._failed = exc
        finally:
            self._started.set()

    async def _serve(self) -> None:
        asyncio.get_running_loop().set_exception_handler(_quiet_about_clients)
        server = self._uvicorn
        server.config.load()
        server.lifespan = server.config.lifespan_class(server.config)
        await server.startup(sockets=[self.socket])
        self._started.set()
        if not server.should_exit:
            await server.main_loop()
        await server.shutdown(sockets=[self.socket])

    def wait_started(self) -> None:
        self._started.wait()
        if self._failed is not None:
            raise OSError(f"the server did not start: {self._failed}") from self._failed

    def shutdown(self) -> None:
        self._uvicorn.should_exit = True

    def server_close(self) -> None:
        self.socket.close()


def _quiet_about_clients(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """Out of file descriptors, asyncio pauses accepting for a second and says so with a
    traceback each time; a client's socket error is the client's. Neither is worth a
    traceback on the developer's terminal: anything else still goes to asyncio's handler."""
    if isinstance(context.get("exception"), OSError):
        return
    loop.default_exception_handler(context)


def raise_open_file_limit() -> None:
    """Let ``houzzflow serve`` hold ``MAX_CONNECTIONS`` and more: raise the soft limit on
    open files to the hard one (a CLI process only; a library never changes its host's)."""
    try:
        import resource
    except ImportError:  # not on POSIX
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def _protocol_class() -> type[Any]:
    """uvicorn's h11 protocol with a header deadline, a drop extension and quiet errors."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    from houzzflow.simulator.http.asgi import DROP_EXTENSION, RAW_HEADERS_EXTENSION

    class Protocol(H11Protocol):
        _head_timer: asyncio.TimerHandle | None = None
        _head_cycle: object = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._raw_headers: list[tuple[bytes, bytes]] = []
            self.conn.next_event = self._next_event  # type: ignore[method-assign]
            self._arm_head_timer()

        def _next_event(self) -> Any:
            # ASGI lowercases header names; the journal shows them as the client sent them.
            event = h11.Connection.next_event(self.conn)
            if isinstance(event, h11.Request):
                self._raw_headers = list(event.headers.raw_items())
            return event

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_head_timer()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            try:
                super().data_received(data)
            except (ValueError, h11.ProtocolError):
                # h11 reads a Content-Length of thousands of digits with int(), which refuses.
                self.send_400_response("Invalid HTTP request received.")
                return
            if self.cycle is not self._head_cycle:
                self._cancel_head_timer()  # a request has begun: its headers are in

        def handle_events(self) -> None:
            super().handle_events()
            scope: dict[str, Any] | None = self.scope  # type: ignore[assignment]
            if scope is not None and DROP_EXTENSION not in scope.get("extensions", {}):
                extensions = scope.setdefault("extensions", {})
                extensions[DROP_EXTENSION] = self.transport.abort
                extensions[RAW_HEADERS_EXTENSION] = self._raw_headers

        def on_response_complete(self) -> None:
            self._arm_head_timer()  # before: a pipelined request may begin inside
            super().on_response_complete()

        def _arm_head_timer(self) -> None:
            self._cancel_head_timer()
            self._head_cycle = self.cycle
            self._head_timer = self.loop.call_later(HEAD_TIMEOUT, self._head_timeout)

        def _cancel_head_timer(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_timeout(self) -> None:
            self._head_timer = None
            if self.cycle is self._head_cycle and not self.transport.is_closing():
                self.transport.close()

    return Protocol


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
            target=http.serve_forever, name="houzzflow-serve", daemon=True
        )
        self._thread.start()
        try:
            http.wait_started()
        except OSError:
            http.server_close()
            raise

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

    Raises ``OSError`` when the address cannot be bound, ``ValueError`` when ``config.host``
    is beyond loopback without an ``admin_token``. Stop it with ``.stop()`` (or use it
    as a context manager).
    """
    config = config or ServerConfig()
    refused = beyond_loopback_refusal(config)
    if refused:
        raise ValueError(refused)
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
    token_source: str = "the token you chose",
    admin_token: str = "",
    err: TextIO | None = None,
    epoch: dt.datetime | None = None,
    clock_speed: float | None = None,
) -> int:
    """``houzzflow serve``: serve until SIGINT or SIGTERM; the exit status (0, or 2).

    ``token_source`` says where the token came from (printed; never the token). Errors go
    to ``err`` (default ``out``)."""
    err = err or out
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
        admin_token=admin_token,
        # In wall-clock mode simulated second 0 is when serving starts, unless told otherwise.
        epoch=epoch or (_wall_now() if clock_speed is not None else wire.DEFAULT_EPOCH),
        clock_speed=clock_speed,
    )
    refused = beyond_loopback_refusal(config)
    if refused:
        print(f"error: {refused}", file=err)
        return 2
    harness: HouzzHarness | None = None
    if scenario:
        try:
            harness = scenario_harness(scenario, config.harness_config())
        except InputError as exc:
            for diagnostic in exc.diagnostics:
                print(diagnostic.render(), file=err)
            return 2
    raise_open_file_limit()
    try:
        running = serve(config, harness)
    except OSError as exc:
        shown = f"[{host}]" if ":" in host else host
        reason = exc.strerror or exc
        print(f"error: cannot listen on {shown}:{port}: {reason}", file=err)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for line in banner(running, asked_port=port, token_source=token_source):
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


def banner(
    running: RunningServer, *, asked_port: int, token_source: str = "the token you chose"
) -> list[str]:
    """What ``houzzflow serve`` prints when it starts (never a chosen token: its source)."""
    h = running.served.harness
    config = running.served.config
    lines = [f"fake Houzz ({h.program}, {h.era} era, seed {h.config.seed}) at {running.api_url}"]
    if asked_port == 0:
        lines.append(f"port: {running.port}")
    lines += [
        f"admin API: {running.admin_url}/health, /orders, /clock/advance, /faults, /journal",
        f"credentials: username {config.username!r}, app name {config.app_name!r}, "
        + (
            token_source
            if token_source.startswith("the default")
            else f"{token_source} (never shown)"
        ),
    ]
    if running.served.pace is not None or running.served.harness.epoch != wire.DEFAULT_EPOCH:
        lines.append(_clock_line(running))
    if config.admin_token:
        lines.append("admin API: needs the admin token (X-Houzzflow-Admin-Token)")
    for name, answer, default, why in unsimulated(h.config.facts):
        lines.append(
            f"not simulated: {name}: {answer}; this fake serves {default} in its place: {why}"
        )
    lines.append("press Ctrl-C to stop")
    return lines


def _clock_line(running: RunningServer) -> str:
    h, pace = running.served.harness, running.served.pace
    zero = f"simulated second 0 is {h.time_text(0)} UTC"
    if pace is None:
        return f"clock: {zero}; it moves only when told to (POST /_houzzflow/clock/advance)"
    return f"clock: {zero}; it follows the wall clock at {pace.speed:g}x"
