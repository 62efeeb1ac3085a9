"""Houzz's seller API as the fake speaks it: its endpoints and how Houzz words each answer.

Each endpoint is a plain function of a parsed request and the harness, returning an
``Outcome`` (the reply plus what the journal keeps about it). ``call`` runs one and turns
what it raises into the error Houzz would answer; ``urls.API_METHODS`` says which runs.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from typing import NamedTuple

from houzzflow.engine.ports import AckError, ReplyLost, TransientError
from houzzflow.simulator.harness import HouzzHarness, InjectedFault
from houzzflow.simulator.houzz import wire
from houzzflow.simulator.houzz.state import BadRequest
from houzzflow.simulator.houzz.wire import ErrorCode, Format, Reply, WireError
from houzzflow.simulator.http.config import ServerConfig
from houzzflow.simulator.http.messages import ApiRequest, with_headers


class Outcome(NamedTuple):
    """A reply plus what the journal says about it."""

    reply: Reply
    ack: str = ""  # Success | Error | "" (no Houzz answer: dropped, 5xx page)
    code: str = ""
    message: str = ""
    order_ids: tuple[str, ...] = ()


WireEndpoint = Callable[[ApiRequest, Mapping[str, str], HouzzHarness, Format], Outcome]


def authenticate(request: ApiRequest, config: ServerConfig) -> str:
    """Why the credentials are refused ("" when they are right); never the values."""
    expected = (
        (wire.TOKEN_HEADER, config.token),
        (wire.USER_HEADER, config.username),
        (wire.APP_HEADER, config.app_name),
    )
    for header, value in expected:
        sent = request.header(header)
        if sent is None or not sent.strip():
            return f"Authentication failed: header {header} is missing"
        if not hmac.compare_digest(sent.strip().encode(), value.encode()):
            return f"Authentication failed: {header} is not the one this account uses"
    return ""


def call(
    method: str,
    endpoint: WireEndpoint,
    request: ApiRequest,
    query: Mapping[str, str],
    harness: HouzzHarness,
    fmt: Format,
) -> Outcome:
    """The endpoint's outcome, or the Houzz error for what it raised."""
    try:
        return endpoint(request, query, harness, fmt)
    except WireError as exc:
        return error(method, exc.code, exc.message, fmt)
    except BadRequest as exc:
        return error(method, ErrorCode.INVALID_PARAMETER, str(exc), fmt)
    except AckError as exc:  # Houzz refuses the request itself (wrong_connection: error)
        return error(method, ErrorCode.ACTION_REFUSED, exc.reason, fmt)
    except InjectedFault as fault:
        return _injected(method, fault, fmt)
    except ReplyLost:
        return Outcome(Reply(0, b"", "", drop=True))
    except TransientError as exc:  # a scenario's FaultPlan: 429 when it says when to retry
        if exc.retry_after:
            return _rate_limited(method, str(exc), exc.retry_after, fmt)
        code = ErrorCode.SERVICE_UNAVAILABLE
        return error(method, code, str(exc), fmt, status=503)


# --- the endpoints -------------------------------------------------------------------------


def get_orders(
    request: ApiRequest, query: Mapping[str, str], harness: HouzzHarness, fmt: Format
) -> Outcome:
    h = harness
    asked = wire.parse_orders_query(query, now=h.now, epoch=h.epoch)
    page = h.get_orders(asked.status, asked.start_time, asked.end_time, asked.start, asked.count)
    documents = [wire.order_document(h.order(view.order_id), h.epoch) for view in page.orders]
    reply = wire.render_orders(documents, total=page.total, fmt=fmt)
    return Outcome(reply, "Success", order_ids=tuple(v.order_id for v in page.orders))


def update_order(
    request: ApiRequest, query: Mapping[str, str], harness: HouzzHarness, fmt: Format
) -> Outcome:
    update = wire.parse_order_update(request.body)
    known = update.order_id in harness.fake.orders
    ack = harness.update_order(
        update.order_id,
        update.action,
        shipping_method=update.shipping_method,
        tracking_number=update.tracking_number,
        cancel_code=update.cancel_code,
        comments=update.comments,
    )
    if ack.ok:
        reply = wire.render_success("updateOrder", fmt)
        return Outcome(reply, "Success", order_ids=(update.order_id,))
    code = ErrorCode.ACTION_REFUSED if known else ErrorCode.ORDER_NOT_FOUND
    return error("updateOrder", code, ack.reason, fmt)._replace(order_ids=(update.order_id,))


def update_inventory(
    request: ApiRequest, query: Mapping[str, str], harness: HouzzHarness, fmt: Format
) -> Outcome:
    update = wire.parse_inventory_update(request.body)
    ack = harness.update_inventory(update.sku, update.quantity)
    if not ack.ok:
        return error("updateInventory", ErrorCode.INVALID_PARAMETER, ack.reason, fmt)
    return Outcome(wire.render_success("updateInventory", fmt), "Success")


# --- errors as Houzz words them ------------------------------------------------------------


def error(method: str, code: ErrorCode, message: str, fmt: Format, *, status: int = 200) -> Outcome:
    reply = wire.render_error(method, code, message, fmt, status=status)
    return Outcome(reply, "Error", str(code), message)


def _rate_limited(method: str, message: str, retry_after: int, fmt: Format) -> Outcome:
    headers = (("Retry-After", str(retry_after)),)
    reply = wire.render_error(method, ErrorCode.RATE_LIMITED, message, fmt, status=429)
    return Outcome(with_headers(reply, headers), "Error", str(ErrorCode.RATE_LIMITED), message)


def _injected(method: str, fault: InjectedFault, fmt: Format) -> Outcome:
    rule = fault.rule
    if rule.kind == "rate_limit":
        return _rate_limited(method, str(fault), rule.retry_after, fmt)
    if rule.kind == "http_5xx":
        return error(method, ErrorCode.SERVICE_UNAVAILABLE, str(fault), fmt, status=rule.status)
    return error(method, ErrorCode.INTERNAL_ERROR, str(fault), fmt)
