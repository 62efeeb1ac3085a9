"""``houzzflow serve``: the fake Houzz over HTTP, for connectors written in any language.

Three layers, each thin: ``ServedHouzz.handle`` turns one request (plain data) into one
reply under a single lock, calling the ``HouzzHarness`` for state and ``wire`` for the
format; ``HouzzHTTPServer`` (the stdlib's ``ThreadingHTTPServer``: no dependency, one thread
per client) moves bytes; ``serve`` / ``run_server`` start it for tests and for the CLI.

Routes (``urls.py``): ``/api?format=xml|json&method=getOrders|updateOrder|updateInventory``
speaks Houzz's seller API, authenticated by the three ``X-HOUZZ-API-*`` headers; the admin
API under ``/_houzzflow/`` (JSON, no authentication: it binds to 127.0.0.1 by default)
arranges and inspects the world. Every ``/api`` request is kept in a journal with its
answer, the token replaced by ``***``. The token is never printed, logged or answered.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import signal
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any, NamedTuple, TextIO
from urllib.parse import parse_qsl, urlsplit

from houzzflow.engine.machine import Era, Program
from houzzflow.engine.policy import parse_duration
from houzzflow.engine.ports import Ack, ReplyLost, TransientError
from houzzflow.simulator.harness import (
    FaultRule,
    HarnessConfig,
    HistoryEntry,
    HouzzHarness,
    InjectedFault,
)
from houzzflow.simulator.houzz import wire
from houzzflow.simulator.houzz.state import BadRequest, HouzzOrder, WindowField
from houzzflow.simulator.houzz.wire import ErrorCode, Format, Reply, WireError
from houzzflow.simulator.http.urls import (
    ADMIN_PREFIX,
    API_METHODS,
    API_PATH,
    ORDER_ROUTE,
    admin_endpoint,
    admin_methods,
)
from houzzflow.simulator.kernel.faults import FaultPlan

DEFAULT_TOKEN = "houzzflow-token"
DEFAULT_USERNAME = "seller@example.com"
DEFAULT_APP_NAME = "houzzflow"
MAX_BODY = 1 << 20  # bytes in one request body
JOURNAL_LIMIT = 10_000  # entries kept; older ones are dropped (and counted)
MAX_ORDERS_PER_REQUEST = 10_000
_KEPT_TEXT = 4096  # characters of a body kept in a journal entry
_DRAIN_LIMIT = 8 << 20  # bytes of a refused body read (and dropped) before closing
_DRAIN_TIMEOUT = 2.0  # seconds a client may pause while a refused body is drained
_REDACTED = "***"
_STAFF_ACTORS = ("staff", "customer", "houzz")
_DETAILS = ("tracking_number", "shipping_method", "cancel_code", "comments")
_API_LOOKUP = {name.lower(): name for name in API_METHODS}


@dataclass(frozen=True)
class ServerConfig:
    """How to serve: where, which Houzz world, and the credentials clients must send."""

    host: str = "127.0.0.1"
    port: int = 0  # 0: the system picks a free port (see ``RunningServer.port``)
    program: Program = "seller"
    era: Era = "2021"
    seed: int = 0
    token: str = field(default=DEFAULT_TOKEN, repr=False)
    username: str = DEFAULT_USERNAME
    app_name: str = DEFAULT_APP_NAME
    epoch: dt.datetime = wire.DEFAULT_EPOCH
    window_field: WindowField = "modified"
    connection: Program | None = None
    faults: FaultPlan | None = None
    charge_failure_rate: float = 0.0
    max_body: int = MAX_BODY
    journal_limit: int = JOURNAL_LIMIT

    def harness_config(self) -> HarnessConfig:
        return HarnessConfig(
            program=self.program,
            era=self.era,
            seed=self.seed,
            epoch=self.epoch,
            window_field=self.window_field,
            connection=self.connection,
            faults=self.faults,
            charge_failure_rate=self.charge_failure_rate,
        )


@dataclass(frozen=True)
class ApiRequest:
    """One HTTP request as read off the socket (header names in any case)."""

    method: str
    target: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    # Content-Length as declared; a body over the limit is never read.
    declared_length: int = 0

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


class _Outcome(NamedTuple):
    """A reply plus what the journal says about it."""

    reply: Reply
    ack: str = ""  # Success | Error | "" (no Houzz answer: dropped, 5xx page)
    code: str = ""
    message: str = ""
    order_ids: tuple[str, ...] = ()


class ServedHouzz:
    """The fake Houzz as HTTP sees it: one harness, one journal, one lock around both.

    ``handle`` is safe to call from many threads; everything it touches is guarded by
    ``lock``. Test code may take the lock (``with served.locked() as harness``) to arrange
    or inspect the world while clients are connected.
    """

    def __init__(self, config: ServerConfig, harness: HouzzHarness | None = None) -> None:
        self.config = config
        self.harness = harness or HouzzHarness.from_config(config.harness_config())
        self.lock = threading.Lock()
        self._journal: deque[dict[str, Any]] = deque(maxlen=max(1, config.journal_limit))
        self._sequence = 0
        self._dropped = 0
        self._admin: dict[str, Callable[[ApiRequest, dict[str, str]], Reply]] = {
            "health": self._health,
            "list_orders": self._list_orders,
            "place_orders": self._place_orders,
            "advance_clock": self._advance_clock,
            "reset": self._reset,
            "list_faults": self._list_faults,
            "add_faults": self._add_faults,
            "clear_faults": self._clear_faults,
            "act": self._act,
            "journal": self._journal_page,
            "inventory": self._inventory,
        }

    @contextmanager
    def locked(self) -> Iterator[HouzzHarness]:
        with self.lock:
            yield self.harness

    def handle(self, request: ApiRequest) -> Reply:
        """The reply to one request (never raises: a bug answers 500 without a trace)."""
        split = urlsplit(request.target)
        path = split.path.rstrip("/") or "/"
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        with self.lock:
            if path == API_PATH:
                return self._api_journaled(request, query)
            if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
                return self._admin_request(request, path, query)
            message = f"nothing is served at {path[:60]!r}; the Houzz API is at {API_PATH}"
            return wire.render_error("", ErrorCode.UNKNOWN_METHOD, message, Format.XML, status=404)

    # --- the Houzz API -----------------------------------------------------------------

    def _api_journaled(self, request: ApiRequest, query: dict[str, str]) -> Reply:
        before = Counter(self.harness.faults_injected)
        try:
            outcome = self._api(request, query)
        except Exception as exc:  # a bug in the fake must not kill the client's test run
            message = f"the fake Houzz failed: {type(exc).__name__}"
            reply = wire.render_error("", ErrorCode.INTERNAL_ERROR, message, Format.XML, status=500)
            outcome = _Outcome(reply, "Error", str(ErrorCode.INTERNAL_ERROR), message)
        faults = sorted((Counter(self.harness.faults_injected) - before).elements())
        self._record(request, query, outcome, faults)
        return outcome.reply

    def _api(self, request: ApiRequest, query: dict[str, str]) -> _Outcome:
        given = {key.lower(): value for key, value in query.items()}
        raw_format = given.get("format", "xml").lower()
        fmt = Format.JSON if raw_format == "json" else Format.XML
        method = _API_LOOKUP.get(given.get("method", "").lower(), "")
        if raw_format not in ("xml", "json"):
            return _error(method, ErrorCode.INVALID_FORMAT, "format must be xml or json", fmt)
        if request.declared_length > self.config.max_body:
            limit = self.config.max_body
            message = f"request body is larger than the {limit:,} byte limit"
            return _error(method, ErrorCode.REQUEST_TOO_LARGE, message, fmt, status=413)
        refusal = self._authenticate(request)
        if refusal:
            return _error(method, ErrorCode.AUTHENTICATION, refusal, fmt)
        if not method:
            raw = given.get("method", "")
            message = f"Unknown method {raw[:40]!r}" if raw else "Unknown method: none given"
            known = ", ".join(API_METHODS)
            return _error("", ErrorCode.UNKNOWN_METHOD, f"{message}; use one of {known}", fmt)
        if request.method != API_METHODS[method]:
            message = f"{method} is called with HTTP {API_METHODS[method]}, not {request.method}"
            reply = _error(method, ErrorCode.WRONG_HTTP_METHOD, message, fmt, status=405)
            allow = (("Allow", API_METHODS[method]),)
            return reply._replace(reply=_with_headers(reply.reply, allow))
        try:
            if method == "getOrders":
                return self._get_orders(query, fmt)
            if method == "updateOrder":
                return self._update_order(request.body, fmt)
            return self._update_inventory(request.body, fmt)
        except WireError as exc:
            return _error(method, exc.code, exc.message, fmt)
        except BadRequest as exc:
            return _error(method, ErrorCode.INVALID_PARAMETER, str(exc), fmt)
        except InjectedFault as fault:
            return _injected(method, fault, fmt)
        except ReplyLost:
            return _Outcome(Reply(0, b"", "", drop=True))
        except TransientError as exc:  # a scenario's FaultPlan: 429 when it says when to retry
            if exc.retry_after:
                return _rate_limited(method, str(exc), exc.retry_after, fmt)
            code = ErrorCode.SERVICE_UNAVAILABLE
            return _error(method, code, str(exc), fmt, status=503)

    def _authenticate(self, request: ApiRequest) -> str:
        """Why the credentials are refused ("" when they are right); never the values."""
        expected = (
            (wire.TOKEN_HEADER, self.config.token),
            (wire.USER_HEADER, self.config.username),
            (wire.APP_HEADER, self.config.app_name),
        )
        for header, value in expected:
            sent = request.header(header)
            if sent is None or not sent.strip():
                return f"Authentication failed: header {header} is missing"
            if not hmac.compare_digest(sent.strip().encode(), value.encode()):
                return f"Authentication failed: {header} is not the one this account uses"
        return ""

    def _get_orders(self, query: Mapping[str, str], fmt: Format) -> _Outcome:
        h = self.harness
        asked = wire.parse_orders_query(query, now=h.now, epoch=h.epoch)
        page = h.get_orders(
            asked.status, asked.start_time, asked.end_time, asked.start, asked.count
        )
        documents = [wire.order_document(h.order(view.order_id), h.epoch) for view in page.orders]
        reply = wire.render_orders(documents, total=page.total, fmt=fmt)
        return _Outcome(reply, "Success", order_ids=tuple(v.order_id for v in page.orders))

    def _update_order(self, body: bytes, fmt: Format) -> _Outcome:
        update = wire.parse_order_update(body)
        known = update.order_id in self.harness.fake.orders
        ack = self.harness.update_order(
            update.order_id,
            update.action,
            shipping_method=update.shipping_method,
            tracking_number=update.tracking_number,
            cancel_code=update.cancel_code,
            comments=update.comments,
        )
        if ack.ok:
            reply = wire.render_success("updateOrder", fmt)
            return _Outcome(reply, "Success", order_ids=(update.order_id,))
        code = ErrorCode.ACTION_REFUSED if known else ErrorCode.ORDER_NOT_FOUND
        return _error("updateOrder", code, ack.reason, fmt)._replace(order_ids=(update.order_id,))

    def _update_inventory(self, body: bytes, fmt: Format) -> _Outcome:
        update = wire.parse_inventory_update(body)
        ack = self.harness.update_inventory(update.sku, update.quantity)
        if not ack.ok:
            return _error("updateInventory", ErrorCode.INVALID_PARAMETER, ack.reason, fmt)
        return _Outcome(wire.render_success("updateInventory", fmt), "Success")

    # --- the journal -------------------------------------------------------------------

    def _record(
        self, request: ApiRequest, query: Mapping[str, str], outcome: _Outcome, faults: list[str]
    ) -> None:
        if len(self._journal) == self._journal.maxlen:
            self._dropped += 1
        self._sequence += 1
        reply = outcome.reply
        headers = {
            name: _REDACTED if name.lower() == wire.TOKEN_HEADER.lower() else value
            for name, value in request.headers.items()
            if name.lower().startswith("x-houzz-") or name.lower() == "content-type"
        }
        params = {
            key: _REDACTED if "token" in key.lower() else self._redact(value)
            for key, value in query.items()
        }
        body = request.body.decode("utf-8", "replace")
        entry: dict[str, Any] = {
            "seq": self._sequence,
            "time": self.harness.now,
            "at": self.harness.time_text(),
            "http_method": request.method,
            "path": urlsplit(request.target).path,
            "query": params,
            "method": _API_LOOKUP.get(params.get("method", "").lower(), params.get("method", "")),
            "headers": headers,
            "body": self._redact(body[:_KEPT_TEXT]),
            "status": reply.status,
            "ack": outcome.ack,
            "error_code": outcome.code,
            "error": self._redact(outcome.message),
            "order_ids": list(outcome.order_ids),
            "faults": faults,
            "dropped": reply.drop,
            "response": self._redact(reply.body[:_KEPT_TEXT].decode("utf-8", "replace")),
        }
        self._journal.append(entry)

    def _redact(self, text: str) -> str:
        token = self.config.token
        return text.replace(token, _REDACTED) if token else text

    def journal(self, *, since: int = 0, method: str = "") -> list[dict[str, Any]]:
        """Journal entries after sequence number ``since``, of one API method if given."""
        wanted = _API_LOOKUP.get(method.lower(), method)
        return [
            dict(entry)
            for entry in self._journal
            if entry["seq"] > since and (not wanted or entry["method"] == wanted)
        ]

    # --- the admin API -----------------------------------------------------------------

    def _admin_request(self, request: ApiRequest, path: str, query: dict[str, str]) -> Reply:
        if request.declared_length > self.config.max_body:
            limit = self.config.max_body
            return _json({"error": f"request body is larger than the {limit:,} byte limit"}, 413)
        name = admin_endpoint(request.method, path)
        order_match = ORDER_ROUTE.match(path)
        try:
            if name is not None:
                return self._admin[name](request, query)
            if order_match and request.method == "GET":
                return self._one_order(order_match.group("order_id"))
        except _AdminError as exc:
            return _json({"error": exc.message}, exc.status)
        except Exception as exc:  # a bug in the fake must not kill the client's test run
            return _json({"error": f"the fake Houzz failed: {type(exc).__name__}"}, 500)
        allowed = admin_methods(path)
        if allowed:
            message = f"{path} answers {', '.join(allowed)}, not {request.method}"
            return _with_headers(_json({"error": message}, 405), (("Allow", ", ".join(allowed)),))
        return _json({"error": f"no admin endpoint {path[:60]!r}"}, 404)

    def _health(self, request: ApiRequest, query: dict[str, str]) -> Reply:
        return _json(self._health_document())

    def _health_document(self) -> dict[str, Any]:
        h = self.harness
        return {
            "status": "ok",
            "program": h.program,
            "era": h.era,
            "seed": h.config.seed,
            "now": h.now,
            "time": h.time_text(),
            "orders": len(h.fake.orders),
            "username": self.config.username,
            "app_name": self.config.app_name,
        }

    def _list_orders(self, request: ApiRequest, query: dict[str, str]) -> Reply:
        try:
            orders = self.harness.orders(query.get("status", "All") or "All")
        except ValueError as exc:
            raise _AdminError(str(exc)) from None
        return _json({"orders": [self._order_json(order) for order in orders]})

    def _one_order(self, order_id: str) -> Reply:
        if order_id not in self.harness.fake.orders:
            raise _AdminError(f"order {order_id[:40]} not found", 404)
        return _json(self._order_json(self.harness.order(order_id)))

    def _place_orders(self, request: ApiRequest, query: dict[str, str]) -> Reply:
        data = _json_body(request)
        h = self.harness
        placed: list[str] = []
        if "orders" in data:
            explicit = data["orders"]
            if not isinstance(explicit, list) or len(explicit) > MAX_ORDERS_PER_REQUEST:
                limit = MAX_ORDERS_PER_REQUEST
                raise _AdminError(f"orders must be a list of at most {limit} order objects")
            for entry in explicit:
                items, created = self._order_fields(entry)
                placed.append(self._place(items, created))
        else:
            count = data.get("count", 1)
            if not _whole(count) or count > MAX_ORDERS_PER_REQUEST:
                limit = MAX_ORDERS_PER_REQUEST
                raise _AdminError(f"count must be a whole number from 0 to {limit}")
            items = _optional_whole(data.get("items"), "items")
            placed = [self._place(items, None) for _ in range(count)]
        orders = [self._order_json(h.order(order_id)) for order_id in placed]
        return _json({"order_ids": placed, "orders": orders}, 201)

    def _order_fields(self, entry: object) -> tuple[int | None, int | None]:
        if not isinstance(entry, dict):
            raise _AdminError('each order is an object like {"items": 2, "created": 0}')
        unknown = sorted(set(entry) - {"items", "created"})
        if unknown:
            raise _AdminError(f"unknown order field {unknown[0]!r}; use items, created")
        created = entry.get("created")
        if isinstance(created, str):
            try:
                created = wire.parse_houzz_time(created, self.harness.epoch)
            except ValueError as exc:
                raise _AdminError(f"created: {exc}") from None
        elif created is not None and not (isinstance(created, int) and created is not True):
            raise _AdminError("created is simulated seconds or a time like 2026-01-01 00:00:00")
        return _optional_whole(entry.get("items"), "items"), created

    def _place(self, items: int | None, created: int | None) -> str:
        try:
            return self.harness.place_order(items=items, created=created)
        except ValueError as exc:
            raise _AdminError(str(exc)) from None

    def _advance_clock(self, request: ApiRequest, query: dict[str, str]) -> Reply:
        data = _json_body(request)
        raw = data.get("seconds")
        try:
            # Whole seconds, or a duration like the policy's: 30s, 15m, 4h, 2d.
            seconds = raw if isinstance(raw, int) and _whole(raw) else parse_duration(raw)
            self.harness.advance(seconds)
        except ValueError as exc:
            raise _AdminError(f"seconds: {exc}") from None
        return _json({"now": self.harness.now, "time": self.harness.time_text()})

    def _reset(self, request: ApiRequest, query: dict[str, str]) -> Reply:
        self.harness.reset()
        self._journal.clear()
        self._sequence = 0
        self._dropped = 0
        return _json(self._health_document())

    def _list_faults(self, request: ApiRequest, query: dict[str, str]) -> Reply:
        return _json(self._faults_document())

    def _faults_document(self) -> dict[str, Any]:
        return {
            "rules": [rule.to_json() for rule in self.harness.fault_rules],
            "injected": dict(self.harness.faults_injected),
        }

    def _add_faults(self, request: ApiRequest, query: dict[str, str]) -> Reply:
        data = _json_body(request)
        given = data.get("rules", [data]) if "rules" in data else [data]
        if not isinstance(given, list):
            raise _AdminError('rules must be a list of rule objects like {"kind": "ack_error"}')
        try:
            rules = [FaultRule.from_json(entry) for entry in given]
        except ValueError as exc:
            raise _AdminError(str(exc)) from None
        self.harness.add_faults(rules)
        return _json(self._faults_document(), 201)

    def _clear_faults(self, request: ApiRequest, query: dict[str, str]) -> Reply:
        self.harness.clear_faults()
        return _json(self._faults_document())

    def _act(self, request: ApiRequest, query: dict[str, str]) -> Reply:
        data = _json_body(request)
        order_id, action = data.get("order_id"), data.get("action")
        actor = data.get("actor", "staff")
        if not isinstance(order_id, str) or not isinstance(action, str):
            raise _AdminError('send {"order_id": "...", "action": "Process"} (strings)')
        if actor not in _STAFF_ACTORS:
            raise _AdminError(f"actor must be one of {', '.join(_STAFF_ACTORS)}")
        unknown = sorted(set(data) - {"order_id", "action", "actor", *_DETAILS})
        if unknown:
            raise _AdminError(f"unknown field {unknown[0]!r}")
        if order_id not in self.harness.fake.orders:
            raise _AdminError(f"order {order_id[:40]} not found", 404)
        details = {key: str(data[key]) for key in _DETAILS if key in data}
        ack: Ack = self.harness.act(order_id, action, str(actor), **details)
        order = self._order_json(self.harness.order(order_id))
        return _json({"ok": ack.ok, "reason": ack.reason, "order": order})

    def _journal_page(self, request: ApiRequest, query: dict[str, str]) -> Reply:
        since = query.get("since", "0")
        if not (since.isascii() and since.isdigit()):
            raise _AdminError("since must be a journal sequence number (0 or more)")
        entries = self.journal(since=int(since), method=query.get("method", ""))
        return _json({"entries": entries, "last": self._sequence, "dropped": self._dropped})

    def _inventory(self, request: ApiRequest, query: dict[str, str]) -> Reply:
        return _json({"inventory": self.harness.inventory})

    def _order_json(self, order: HouzzOrder) -> dict[str, Any]:
        h = self.harness
        return {
            "order_id": order.order_id,
            "status": order.status,
            "houzz_status": wire.status_spelling(order.status),
            "created": order.created,
            "created_at": h.time_text(order.created),
            "modified": order.modified,
            "modified_at": h.time_text(order.modified),
            "customer_name": order.customer_name,
            "order_total": str(order.order_total),
            "items": len(order.items),
            "tracking_numbers": list(order.tracking_numbers),
            "shipping_method": order.shipping_method,
            "history": [
                {"time": t, "at": h.time_text(t), "actor": actor, "action": action, "status": s}
                for t, actor, action, s in order.history
            ],
        }


class _AdminError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _optional_whole(value: object, name: str) -> int | None:
    if value is None:
        return None
    if not _whole(value):
        raise _AdminError(f"{name} must be a whole number")
    assert isinstance(value, int)
    return value


def _json_body(request: ApiRequest) -> dict[str, Any]:
    if not request.body.strip():
        return {}
    try:
        data = json.loads(request.body.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise _AdminError("request body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise _AdminError(f"malformed JSON: {exc.msg} (line {exc.lineno})") from None
    except RecursionError:
        raise _AdminError("malformed JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise _AdminError("the body must be a JSON object")
    return data


def _json(document: Mapping[str, Any], status: int = 200) -> Reply:
    body = json.dumps(document, ensure_ascii=False).encode("utf-8")
    return Reply(status, body, "application/json; charset=utf-8")


def _with_headers(reply: Reply, headers: tuple[tuple[str, str], ...]) -> Reply:
    return Reply(reply.status, reply.body, reply.content_type, reply.headers + headers, reply.drop)


def _error(
    method: str, code: ErrorCode, message: str, fmt: Format, *, status: int = 200
) -> _Outcome:
    reply = wire.render_error(method, code, message, fmt, status=status)
    return _Outcome(reply, "Error", str(code), message)


def _rate_limited(method: str, message: str, retry_after: int, fmt: Format) -> _Outcome:
    headers = (("Retry-After", str(retry_after)),)
    reply = wire.render_error(method, ErrorCode.RATE_LIMITED, message, fmt, status=429)
    return _Outcome(_with_headers(reply, headers), "Error", str(ErrorCode.RATE_LIMITED), message)


def _injected(method: str, fault: InjectedFault, fmt: Format) -> _Outcome:
    rule = fault.rule
    if rule.kind == "rate_limit":
        return _rate_limited(method, str(fault), rule.retry_after, fmt)
    if rule.kind == "http_5xx":
        return _error(method, ErrorCode.SERVICE_UNAVAILABLE, str(fault), fmt, status=rule.status)
    return _error(method, ErrorCode.INTERNAL_ERROR, str(fault), fmt)


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
    if config.host not in ("127.0.0.1", "localhost", "::1"):
        lines.append("warning: the admin API has no authentication; prefer --host 127.0.0.1")
    lines.append("press Ctrl-C to stop")
    return lines
