"""houzzflow's admin API (``/_houzzflow/...``, JSON): endpoints that arrange and inspect the world.

Each endpoint is a plain function of what is served (``Served``: the config, the harness and
the journal), the request and its query, returning a JSON reply. A refusal is raised as
``AdminError``, which the dispatcher answers; ``urls.ADMIN_ROUTES`` says which endpoint runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from houzzflow.engine.policy import parse_duration
from houzzflow.engine.ports import Ack
from houzzflow.simulator.harness import FaultRule, HouzzHarness
from houzzflow.simulator.houzz import wire
from houzzflow.simulator.houzz.state import HouzzOrder
from houzzflow.simulator.houzz.wire import Reply
from houzzflow.simulator.http.config import ServerConfig
from houzzflow.simulator.http.journal import Journal
from houzzflow.simulator.http.messages import ApiRequest, json_reply
from houzzflow.simulator.kernel.pace import WallPace

MAX_ORDERS_PER_REQUEST = 10_000
_STAFF_ACTORS = ("staff", "customer", "houzz")
_DETAILS = ("tracking_number", "shipping_method", "cancel_code", "comments")


class Served(Protocol):
    """What an admin endpoint works on (``ServedHouzz`` is one), always under its lock;
    ``POST /_houzzflow/reset`` may replace its harness."""

    harness: HouzzHarness

    @property
    def config(self) -> ServerConfig: ...

    @property
    def pace(self) -> WallPace | None: ...

    @property
    def api_journal(self) -> Journal: ...


AdminEndpoint = Callable[[Served, ApiRequest, Mapping[str, str]], Reply]


class AdminError(Exception):
    """A refused admin request: the message and status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# --- the endpoints -------------------------------------------------------------------------


def health(served: Served, request: ApiRequest, query: Mapping[str, str]) -> Reply:
    """The world in brief: program, era, seed, now, orders, credentials' names."""
    return json_reply(health_document(served))


def list_orders(served: Served, request: ApiRequest, query: Mapping[str, str]) -> Reply:
    """Every order (?status=...), with its history."""
    try:
        orders = served.harness.orders(query.get("status", "All") or "All")
    except ValueError as exc:
        raise AdminError(str(exc)) from None
    return json_reply({"orders": [_order_json(served.harness, order) for order in orders]})


def one_order(served: Served, order_id: str) -> Reply:
    if order_id not in served.harness.fake.orders:
        raise AdminError(f"order {order_id[:40]} not found", 404)
    return json_reply(_order_json(served.harness, served.harness.order(order_id)))


def place_orders(served: Served, request: ApiRequest, query: Mapping[str, str]) -> Reply:
    """Customers place orders: {"count", "items"} or {"orders": [{"items", "created"}]}."""
    data = json_body(request)
    h = served.harness
    placed: list[str] = []
    if "orders" in data:
        explicit = data["orders"]
        if not isinstance(explicit, list) or len(explicit) > MAX_ORDERS_PER_REQUEST:
            limit = MAX_ORDERS_PER_REQUEST
            raise AdminError(f"orders must be a list of at most {limit} order objects")
        for entry in explicit:
            items, created = _order_fields(h, entry)
            placed.append(_place(h, items, created))
    else:
        count = data.get("count", 1)
        if not _whole(count) or count > MAX_ORDERS_PER_REQUEST:
            limit = MAX_ORDERS_PER_REQUEST
            raise AdminError(f"count must be a whole number from 0 to {limit}")
        items = _optional_whole(data.get("items"), "items")
        placed = [_place(h, items, None) for _ in range(count)]
    orders = [_order_json(h, h.order(order_id)) for order_id in placed]
    return json_reply({"order_ids": placed, "orders": orders}, 201)


def advance_clock(served: Served, request: ApiRequest, query: Mapping[str, str]) -> Reply:
    """Let simulated time pass: {"seconds": 900} or {"seconds": "15m"}."""
    data = json_body(request)
    raw = data.get("seconds")
    try:
        # Whole seconds, or a duration like the policy's: 30s, 15m, 4h, 2d.
        seconds = raw if isinstance(raw, int) and _whole(raw) else parse_duration(raw)
        served.harness.advance(seconds)
    except ValueError as exc:
        raise AdminError(f"seconds: {exc}") from None
    if served.pace is not None:
        served.pace.rebase(served.harness.now)  # the wall clock carries on from the jump
    return json_reply({"now": served.harness.now, "time": served.harness.time_text()})


def list_faults(served: Served, request: ApiRequest, query: Mapping[str, str]) -> Reply:
    """The fault rules and the faults injected so far."""
    return json_reply(_faults_document(served.harness))


def add_faults(served: Served, request: ApiRequest, query: Mapping[str, str]) -> Reply:
    """Add fault rules: {"kind": "rate_limit", ...} or {"rules": [...]}."""
    data = json_body(request)
    given = data.get("rules", [data]) if "rules" in data else [data]
    if not isinstance(given, list):
        raise AdminError('rules must be a list of rule objects like {"kind": "ack_error"}')
    try:
        rules = [FaultRule.from_json(entry) for entry in given]
        served.harness.add_faults(rules)
    except ValueError as exc:
        raise AdminError(str(exc)) from None
    return json_reply(_faults_document(served.harness), 201)


def clear_faults(served: Served, request: ApiRequest, query: Mapping[str, str]) -> Reply:
    """Remove every fault rule."""
    served.harness.clear_faults()
    return json_reply(_faults_document(served.harness))


def act(served: Served, request: ApiRequest, query: Mapping[str, str]) -> Reply:
    """Staff, the customer or Houzz act on an order: {"order_id", "action", "actor"}."""
    data = json_body(request)
    order_id, action = data.get("order_id"), data.get("action")
    actor = data.get("actor", "staff")
    if not isinstance(order_id, str) or not isinstance(action, str):
        raise AdminError('send {"order_id": "...", "action": "Process"} (strings)')
    if actor not in _STAFF_ACTORS:
        raise AdminError(f"actor must be one of {', '.join(_STAFF_ACTORS)}")
    unknown = sorted(set(data) - {"order_id", "action", "actor", *_DETAILS})
    if unknown:
        raise AdminError(f"unknown field {unknown[0]!r}")
    h = served.harness
    if order_id not in h.fake.orders:
        raise AdminError(f"order {order_id[:40]} not found", 404)
    details = {key: str(data[key]) for key in _DETAILS if key in data}
    ack: Ack = h.act(order_id, action, str(actor), **details)
    order = _order_json(h, h.order(order_id))
    return json_reply({"ok": ack.ok, "reason": ack.reason, "order": order})


def journal(served: Served, request: ApiRequest, query: Mapping[str, str]) -> Reply:
    """Every Houzz API request served (?since=SEQ&method=...), the token redacted."""
    since = query.get("since", "0")
    if not (since.isascii() and since.isdigit() and len(since) <= 18):
        raise AdminError("since must be a journal sequence number (0 or more)")
    kept = served.api_journal
    entries = kept.entries(since=int(since), method=query.get("method", ""))
    return json_reply({"entries": entries, "last": kept.last, "dropped": kept.dropped})


def inventory(served: Served, request: ApiRequest, query: Mapping[str, str]) -> Reply:
    """Stock by SKU, as set through updateInventory."""
    return json_reply({"inventory": served.harness.inventory})


# --- documents -----------------------------------------------------------------------------


def health_document(served: Served) -> dict[str, Any]:
    h = served.harness
    return {
        "status": "ok",
        "program": h.program,
        "era": h.era,
        "seed": h.config.seed,
        "now": h.now,
        "time": h.time_text(),
        "orders": len(h.fake.orders),
        "username": served.config.username,
        "app_name": served.config.app_name,
    }


def _faults_document(harness: HouzzHarness) -> dict[str, Any]:
    return {
        "rules": [rule.to_json() for rule in harness.fault_rules],
        "injected": dict(harness.faults_injected),
    }


def _order_json(harness: HouzzHarness, order: HouzzOrder) -> dict[str, Any]:
    h = harness
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


# --- reading a request ---------------------------------------------------------------------


def _order_fields(harness: HouzzHarness, entry: object) -> tuple[int | None, int | None]:
    if not isinstance(entry, dict):
        raise AdminError('each order is an object like {"items": 2, "created": 0}')
    unknown = sorted(set(entry) - {"items", "created"})
    if unknown:
        raise AdminError(f"unknown order field {unknown[0]!r}; use items, created")
    created = entry.get("created")
    if isinstance(created, str):
        try:
            created = wire.parse_houzz_time(created, harness.epoch)
        except ValueError as exc:
            raise AdminError(f"created: {exc}") from None
    elif created is not None and not (isinstance(created, int) and created is not True):
        raise AdminError("created is simulated seconds or a time like 2026-01-01 00:00:00")
    return _optional_whole(entry.get("items"), "items"), created


def _place(harness: HouzzHarness, items: int | None, created: int | None) -> str:
    try:
        return harness.place_order(items=items, created=created)
    except ValueError as exc:
        raise AdminError(str(exc)) from None


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _optional_whole(value: object, name: str) -> int | None:
    if value is None:
        return None
    if not _whole(value):
        raise AdminError(f"{name} must be a whole number")
    assert isinstance(value, int)
    return value


def json_body(request: ApiRequest) -> dict[str, Any]:
    if not request.body.strip():
        return {}
    try:
        data = json.loads(request.body.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise AdminError("request body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise AdminError(f"malformed JSON: {exc.msg} (line {exc.lineno})") from None
    except RecursionError:
        raise AdminError("malformed JSON: nested too deeply") from None
    except ValueError:  # an integer of more than 4,300 digits
        raise AdminError("malformed JSON: a number is too long") from None
    if not isinstance(data, dict):
        raise AdminError("the body must be a JSON object")
    return data
