"""``ServedHouzz``: the fake Houzz as HTTP sees it, one request (plain data) to one reply.

It routes each request by ``urls``, refuses what no endpoint may see (too large, wrong
credentials, an unknown or wrongly called method), runs the endpoint under one lock and
journals every Houzz API request. No sockets here: ``server.py`` moves the bytes, and tests
can call ``handle`` directly.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from houzzflow.simulator.harness import HouzzHarness
from houzzflow.simulator.houzz import wire
from houzzflow.simulator.houzz.wire import ErrorCode, Format, Reply
from houzzflow.simulator.http import admin_guard
from houzzflow.simulator.http.admin_routes import AdminError
from houzzflow.simulator.http.config import ServerConfig
from houzzflow.simulator.http.journal import Journal
from houzzflow.simulator.http.messages import ApiRequest, json_reply, with_headers
from houzzflow.simulator.http.urls import (
    ADMIN_PREFIX,
    API_METHODS,
    API_PATH,
    ORDER_ENDPOINT,
    ORDER_METHOD,
    ORDER_ROUTE,
    admin_endpoint,
    admin_methods,
    api_method_name,
)
from houzzflow.simulator.http.wire_routes import Outcome, authenticate, call, error


class ServedHouzz:
    """The fake Houzz as HTTP sees it: one harness, one journal, one lock around both.

    ``handle`` is safe to call from many threads; everything it touches is guarded by
    ``lock``. Test code may take the lock (``with served.locked() as harness``) to arrange
    or inspect the world while clients are connected.
    """

    def __init__(self, config: ServerConfig, harness: HouzzHarness | None = None) -> None:
        self.config = config
        self.harness = harness or HouzzHarness.from_config(config.harness_config())
        # ``--clock wall[:SPEED]``: simulated time follows the wall clock (None: it moves
        # only when told to).
        self.pace = config.wall_pace()
        self.lock = threading.Lock()
        secrets = (config.token, config.admin_token)
        self.api_journal = Journal(config.journal_limit, secrets, api_method_name)

    @contextmanager
    def locked(self) -> Iterator[HouzzHarness]:
        with self.lock:
            self._keep_pace()
            yield self.harness

    def journal(self, *, since: int = 0, method: str = "") -> list[dict[str, Any]]:
        """Journal entries after sequence number ``since``, of one API method if given."""
        return self.api_journal.entries(since=since, method=method)

    def handle(self, request: ApiRequest) -> Reply:
        """The reply to one request (never raises: a bug answers 500 without a trace)."""
        with self.lock:
            return self._handle(request)

    def handle_now(self, request: ApiRequest) -> Reply | None:
        """The reply, or None at once when the lock is held (then call ``handle``)."""
        if not self.lock.acquire(blocking=False):
            return None
        try:
            return self._handle(request)
        finally:
            self.lock.release()

    def _handle(self, request: ApiRequest) -> Reply:
        """The reply, under the lock."""
        split = urlsplit(request.target)
        path = split.path.rstrip("/") or "/"
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        self._keep_pace()
        if path == API_PATH:
            return self._api_journaled(request, query)
        if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
            return self._admin(request, path, query)
        message = f"nothing is served at {path[:60]!r}; the Houzz API is at {API_PATH}"
        return wire.render_error("", ErrorCode.UNKNOWN_METHOD, message, Format.XML, status=404)

    def _keep_pace(self) -> None:
        """Run the world up to the wall clock's moment, in wall-clock mode."""
        if self.pace is not None:
            due = self.pace.due(self.harness.now)
            if due > self.harness.now:
                self.harness.advance(due - self.harness.now)

    # --- the Houzz API -----------------------------------------------------------------

    def _api_journaled(self, request: ApiRequest, query: dict[str, str]) -> Reply:
        before = Counter(self.harness.faults_injected)
        try:
            outcome = self._api(request, query)
        except Exception as exc:  # a bug in the fake must not kill the client's test run
            message = f"the fake Houzz failed: {type(exc).__name__}"
            outcome = error("", ErrorCode.INTERNAL_ERROR, message, Format.XML, status=500)
        faults = sorted((Counter(self.harness.faults_injected) - before).elements())
        h = self.harness
        self.api_journal.record(request, query, outcome, faults, time=h.now, at=h.time_text())
        return outcome.reply

    def _api(self, request: ApiRequest, query: dict[str, str]) -> Outcome:
        given = {key.lower(): value for key, value in query.items()}
        raw_format = given.get("format", "xml").lower()
        fmt = Format.JSON if raw_format == "json" else Format.XML
        method = api_method_name(given.get("method", ""))
        if raw_format not in ("xml", "json"):
            return error(method, ErrorCode.INVALID_FORMAT, "format must be xml or json", fmt)
        if request.declared_length > self.config.max_body:
            limit = self.config.max_body
            message = f"request body is larger than the {limit:,} byte limit"
            return error(method, ErrorCode.REQUEST_TOO_LARGE, message, fmt, status=413)
        refusal = authenticate(request, self.config)
        if refusal:
            return error(method, ErrorCode.AUTHENTICATION, refusal, fmt)
        if not method:
            raw = given.get("method", "")
            message = f"Unknown method {raw[:40]!r}" if raw else "Unknown method: none given"
            known = ", ".join(API_METHODS)
            return error("", ErrorCode.UNKNOWN_METHOD, f"{message}; use one of {known}", fmt)
        route = API_METHODS[method]
        if request.method != route.http_method:
            message = f"{method} is called with HTTP {route.http_method}, not {request.method}"
            reply = error(method, ErrorCode.WRONG_HTTP_METHOD, message, fmt, status=405)
            allow = (("Allow", route.http_method),)
            return reply._replace(reply=with_headers(reply.reply, allow))
        return call(method, route.endpoint, request, query, self.harness, fmt)

    # --- the admin API -----------------------------------------------------------------

    def _admin(self, request: ApiRequest, path: str, query: dict[str, str]) -> Reply:
        refused = admin_guard.refusal(request, self.config)
        if refused is not None:
            status, reason = refused
            return json_reply({"error": reason}, status)
        if request.declared_length > self.config.max_body:
            limit = self.config.max_body
            return json_reply(
                {"error": f"request body is larger than the {limit:,} byte limit"}, 413
            )
        endpoint = admin_endpoint(request.method, path)
        order_match = ORDER_ROUTE.match(path)
        try:
            if endpoint is not None:
                return endpoint(self, request, query)
            if order_match and request.method == ORDER_METHOD:
                return ORDER_ENDPOINT(self, order_match.group("order_id"))
        except AdminError as exc:
            return json_reply({"error": exc.message}, exc.status)
        except Exception as exc:  # a bug in the fake must not kill the client's test run
            return json_reply({"error": f"the fake Houzz failed: {type(exc).__name__}"}, 500)
        allowed = admin_methods(path)
        if allowed:
            message = f"{path} answers {', '.join(allowed)}, not {request.method}"
            reply = json_reply({"error": message}, 405)
            return with_headers(reply, (("Allow", ", ".join(allowed)),))
        return json_reply({"error": f"no admin endpoint {path[:60]!r}"}, 404)
