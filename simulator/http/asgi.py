"""The ASGI application: Starlette routes onto ``ServedHouzz.handle``, nothing more.

Every route reads one request into an ``ApiRequest`` (plain data), asks ``ServedHouzz`` for
the ``Reply`` and writes it. The routes only move bytes: which endpoint answers, and how, is
decided in ``app.py`` (by ``urls.py``), so the wire format does not depend on the framework.

What this layer adds is what only a transport can do: a body over the size limit is refused
without being kept (a client that sent ``Expect: 100-continue`` is never asked for it), a
chunked body is refused with 411, a body that trickles in slower than ``BODY_TIMEOUT`` is
answered 408, and a reply the fake decided to lose (``Reply.drop``) closes the connection
without a byte, through the ``houzzflow.drop`` scope extension the transport provides.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.routing import Route

from houzzflow.simulator.houzz import wire
from houzzflow.simulator.houzz.wire import ErrorCode, Format, Reply
from houzzflow.simulator.http.app import ServedHouzz
from houzzflow.simulator.http.messages import ApiRequest
from houzzflow.simulator.http.urls import ADMIN_PREFIX, API_PATH

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

BODY_TIMEOUT = 30.0  # seconds a client may pause while sending a body
DRAIN_LIMIT = 8 << 20  # bytes of a refused body read (and dropped) before answering
DRAIN_TIMEOUT = 2.0  # seconds a refused body may take to be drained
DROP_EXTENSION = "houzzflow.drop"  # scope["extensions"] key: closes the connection unanswered
RAW_HEADERS_EXTENSION = "houzzflow.raw_headers"  # the headers with their names as sent


class _Exchange:
    """One ASGI endpoint for every route: read, ask ``ServedHouzz``, write."""

    def __init__(self, served: ServedHouzz) -> None:
        self.served = served

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _headers(scope)
        declared = _declared_length(headers)
        if declared is None:
            # A chunked body cannot be size-checked before it is read; Houzz clients send lengths.
            message = "send the body with a numeric Content-Length (chunked bodies are refused)"
            code = ErrorCode.MALFORMED_REQUEST
            reply = wire.render_error("", code, message, Format.XML, status=411)
            await _write(send, scope, reply, close=True)
            return
        body = b""
        if declared <= self.served.config.max_body:
            try:
                body = await asyncio.wait_for(_read_body(receive, declared), BODY_TIMEOUT)
            except TimeoutError:
                message = f"the request body did not arrive within {BODY_TIMEOUT:g} seconds"
                reply = wire.render_error(
                    "", ErrorCode.MALFORMED_REQUEST, message, Format.XML, status=408
                )
                await _write(send, scope, reply, close=True)
                return
            except _Disconnected:
                return
        elif not _expects_continue(headers) and declared <= DRAIN_LIMIT:
            # Closing a socket with unread data resets it, and the client could lose the 413
            # it is about to read: drop the refused body first (a client that waits for
            # "100 Continue" is never asked for it).
            with contextlib.suppress(TimeoutError, _Disconnected):
                await asyncio.wait_for(_drain(receive), DRAIN_TIMEOUT)
        request = ApiRequest(scope["method"], _target(scope), headers, body, declared)
        # A reply takes well under a millisecond, less than a thread hop would cost, so it
        # is made here on the event loop; when test code holds the fake
        # (``RunningServer.locked``), it waits in a worker thread instead, so that the event
        # loop goes on accepting connections meanwhile.
        now = self.served.handle_now(request)
        reply = now if now is not None else await run_in_threadpool(self.served.handle, request)
        if reply.drop:
            await _drop(scope, receive)
            return
        # An unread body (over the limit) would be taken for the next request: close after.
        await _write(send, scope, reply, close=declared > self.served.config.max_body)


class _Disconnected(Exception):
    """The client went away before its body was read."""


def build_app(served: ServedHouzz) -> Starlette:
    """The Starlette application serving ``served``: the Houzz API, the admin API, the rest."""
    exchange = _Exchange(served)
    routes = [
        Route(API_PATH, exchange),
        Route(API_PATH + "/", exchange),
        Route(ADMIN_PREFIX, exchange),
        Route(ADMIN_PREFIX + "/{rest:path}", exchange),
        # Everything else is answered by ServedHouzz too (a Houzz-style 404).
        Route("/{rest:path}", exchange),
    ]
    return Starlette(routes=routes)


def _headers(scope: Scope) -> dict[str, str]:
    """The request's headers, named as the client spelled them when the server tells."""
    raw = scope.get("extensions", {}).get(RAW_HEADERS_EXTENSION) or scope["headers"]
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in raw}


def _declared_length(headers: dict[str, str]) -> int | None:
    """The body's Content-Length; None when chunked or not a number."""
    lowered = {name.lower(): value for name, value in headers.items()}
    if lowered.get("transfer-encoding"):
        return None
    raw = (lowered.get("content-length") or "0").strip()
    # The transport (h11) has already refused a Content-Length that is not a plain number.
    if not (raw.isascii() and raw.isdigit()):
        return None
    # A length longer than 18 digits is over any limit; int() of thousands of digits is slow.
    return int(raw) if len(raw) <= 18 else 10**18


def _target(scope: Scope) -> str:
    path = scope.get("raw_path") or scope["path"].encode("utf-8")
    query = scope.get("query_string", b"")
    target = path.decode("latin-1")
    return f"{target}?{query.decode('latin-1')}" if query else target


async def _read_body(receive: Receive, declared: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > declared:  # h11 enforces Content-Length; this is a second guard
            break
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _drain(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        if not message.get("more_body", False):
            return


def _expects_continue(headers: dict[str, str]) -> bool:
    expect = next((v for k, v in headers.items() if k.lower() == "expect"), "")
    return expect.strip().lower() == "100-continue"


async def _write(send: Send, scope: Scope, reply: Reply, *, close: bool = False) -> None:
    headers = [
        (b"content-type", reply.content_type.encode("latin-1")),
        (b"content-length", str(len(reply.body)).encode("ascii")),
    ]
    headers += [(name.encode("latin-1"), value.encode("latin-1")) for name, value in reply.headers]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    body = b"" if scope["method"] == "HEAD" else reply.body
    await send({"type": "http.response.body", "body": body})


async def _drop(scope: Scope, receive: Receive) -> None:
    """Close the connection without answering (the fake's ``timeout_after_write``)."""
    drop = scope.get("extensions", {}).get(DROP_EXTENSION)
    if drop is None:
        # Under another ASGI server: an exception after nothing was sent is the closest to a
        # lost reply it allows (most close the connection or answer a bare 500).
        raise ConnectionAbortedError("the reply is lost on purpose")
    drop()
    # Wait until the server has seen the connection go, so it does not answer in our place.
    while (await receive())["type"] != "http.disconnect":
        pass
