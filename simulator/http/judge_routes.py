"""Admin endpoints for judging a connector under test: its warehouse, its verdict, the clock,
reconfiguring the world (``POST /_houzzflow/reset`` with a body) and the route listing.

Plain functions like ``admin_routes``' (``urls.ADMIN_ROUTES`` says which runs); the logic is
the harness's (``HouzzHarness.send_to_warehouse``, ``verdict`` ...) and ``judge``'s.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from houzzflow.engine.diagnostics import InputError
from houzzflow.engine.machine import ERAS, PROGRAMS
from houzzflow.engine.policy import parse_duration
from houzzflow.simulator.harness import HarnessConfig, HouzzHarness
from houzzflow.simulator.houzz.wire import Reply
from houzzflow.simulator.http.admin_routes import (
    AdminError,
    Served,
    health_document,
    json_body,
)
from houzzflow.simulator.http.messages import ApiRequest, json_reply
from houzzflow.simulator.judge.warehouse import Shipped, WarehouseConfig

MAX_SEED = 2**63 - 1
MAX_SETTLE = 60 * 86400  # seconds a verdict may let pass before judging
MAX_SENT_PER_REQUEST = 10_000
_RESET_FIELDS = ("program", "era", "seed", "scenario", "warehouse")


def send_to_warehouse(served: Served, request: ApiRequest, query: Mapping[str, str]) -> Reply:
    """The connector reports orders it sent to its backend: {"order_id", "believed"} or
    {"orders": [...]}."""
    data = json_body(request)
    entries = data.get("orders", [data])
    if not isinstance(entries, list) or len(entries) > MAX_SENT_PER_REQUEST:
        raise AdminError(f"orders must be a list of at most {MAX_SENT_PER_REQUEST} objects")
    h = served.harness
    checked: list[tuple[str, str]] = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise AdminError('each order sent is an object like {"order_id": "..."}')
        unknown = sorted(set(entry) - {"order_id", "believed"})
        if unknown:
            raise AdminError(f"unknown field {unknown[0]!r}; use order_id, believed")
        order_id, believed = entry.get("order_id"), entry.get("believed", "")
        if not isinstance(order_id, str) or not isinstance(believed, str):
            raise AdminError("order_id and believed are strings")
        if order_id not in h.fake.orders:
            raise AdminError(f"order {order_id[:40]} not found", 404)
        checked.append((order_id, believed))
    receipts = [h.send_to_warehouse(order_id, believed) for order_id, believed in checked]
    return json_reply(
        {
            "received": [
                {
                    "seq": r.seq,
                    "order_id": r.order_id,
                    "time": r.time,
                    "receipts": r.times,
                    "houzz_status": r.houzz_status,
                }
                for r in receipts
            ]
        },
        201,
    )


def cancel_at_warehouse(served: Served, request: ApiRequest, query: Mapping[str, str]) -> Reply:
    """The connector asks its warehouse to stop an order: {"order_id"}."""
    order_id = _order_id(served, json_body(request))
    ack = served.harness.cancel_at_warehouse(order_id)
    return json_reply({"ok": ack.ok, "reason": ack.reason})


def ship_from_warehouse(served: Served, request: ApiRequest, query: Mapping[str, str]) -> Reply:
    """Ship a received order now, playing the warehouse by hand: {"order_id"}."""
    order_id = _order_id(served, json_body(request))
    return json_reply({"shipped": served.harness.warehouse_ship(order_id)})


def shipments(served: Served, request: ApiRequest, query: Mapping[str, str]) -> Reply:
    """Shipments the warehouse made (?since=SEQ): what the connector confirms to Houzz."""
    since = _since(query)
    h = served.harness
    made = h.warehouse_shipments(since)
    return json_reply(
        {
            "shipments": [_shipment_json(h, s) for s in made],
            "last": len(h.warehouse.shipped_log),
        }
    )


def warehouse(served: Served, request: ApiRequest, query: Mapping[str, str]) -> Reply:
    """Every order the connector reported sending (?since=SEQ), and the warehouse's counts."""
    since = _since(query)
    h = served.harness
    stock = h.warehouse.stock
    receipts = [
        {
            "seq": r.seq,
            "time": r.time,
            "at": h.time_text(r.time),
            "order_id": r.order_id,
            "believed": r.believed,
            "houzz_status": r.houzz_status,
            "receipts": r.times,
        }
        for r in h.warehouse.receipts[since:]
    ]
    return json_reply(
        {
            "receipts": receipts,
            "received": len(stock.received),
            "shipped": len(stock.shipped),
            "cancelled": sorted(stock.cancelled),
            "ships": h.warehouse.config.ships,
        }
    )


def verdict(served: Served, request: ApiRequest, query: Mapping[str, str]) -> Reply:
    """Judge the connector so far (?settle=1h lets simulated time run first; ?final=1 counts
    orders in flight as stuck; ?poll_interval=15m checks its polling; ?format=text)."""
    unknown = sorted(set(query) - {"settle", "final", "poll_interval", "format"})
    if unknown:
        raise AdminError(f"unknown parameter {unknown[0]!r}; use settle, final, poll_interval")
    settle = _duration(query.get("settle", "0"), "settle", 0, MAX_SETTLE)
    interval = query.get("poll_interval")
    poll = None if interval is None else _duration(interval, "poll_interval", 1, 30 * 86400)
    final = query.get("final", "0").lower()
    if final not in ("0", "1", "true", "false", ""):
        raise AdminError("final is 1 or 0")
    fmt = query.get("format", "json")
    if fmt not in ("json", "text"):
        raise AdminError("format is json or text")
    judged = served.harness.verdict(settle=settle, final=final in ("1", "true"), poll_interval=poll)
    if fmt == "text":
        return Reply(200, judged.render().encode("utf-8"), "text/plain; charset=utf-8")
    return json_reply(judged.to_json())


def clock(served: Served, request: ApiRequest, query: Mapping[str, str]) -> Reply:
    """The simulated clock: now in seconds and as Houzz writes it, the epoch, the mode."""
    h = served.harness
    pace = served.pace
    return json_reply(
        {
            "now": h.now,
            "time": h.time_text(),
            "epoch": h.time_text(0),
            "mode": "simulated" if pace is None else f"wall:{pace.speed:g}",
        }
    )


def reset(served: Served, request: ApiRequest, query: Mapping[str, str]) -> Reply:
    """Back to an empty world at time 0 with an empty journal; the body may change the world:
    {"program", "era", "seed", "scenario" (a file path, or the scenario itself),
    "warehouse": {"ships", "ship_delay", "packages"}}."""
    data = json_body(request)
    unknown = sorted(set(data) - set(_RESET_FIELDS))
    if unknown:
        raise AdminError(f"unknown field {unknown[0]!r}; use {', '.join(_RESET_FIELDS)}")
    if data:
        served.harness = _reconfigured(served, data)
    else:
        served.harness.reset()
    served.api_journal.clear()
    if served.pace is not None:
        served.pace.rebase(0)
    return json_reply(health_document(served))


def index(served: Served, request: ApiRequest, query: Mapping[str, str]) -> Reply:
    """Every admin route, with what it does."""
    from houzzflow.simulator.http.urls import admin_index  # urls imports this module

    return json_reply({"routes": admin_index()})


# --- helpers -------------------------------------------------------------------------------


def _reconfigured(served: Served, data: Mapping[str, Any]) -> HouzzHarness:
    base = served.config.harness_config()
    config = base
    scenario = data.get("scenario")
    if scenario is not None:
        config = _scenario_config(scenario, base)
    changes: dict[str, Any] = {}
    program, era, seed = data.get("program"), data.get("era"), data.get("seed")
    if program is not None:
        if program not in PROGRAMS:
            raise AdminError(f"program must be one of {', '.join(PROGRAMS)}")
        changes["program"] = program
        changes["connection"] = None
    if era is not None:
        if era not in ERAS:
            raise AdminError(f"era must be one of {', '.join(ERAS)}")
        changes["era"] = era
    if seed is not None:
        if not (isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed <= MAX_SEED):
            raise AdminError(f"seed must be a whole number from 0 to {MAX_SEED}")
        changes["seed"] = seed
    if "warehouse" in data:
        changes["warehouse"] = _warehouse_config(data["warehouse"])
    return HouzzHarness.from_config(dataclasses.replace(config, **changes))


def _scenario_config(scenario: object, base: HarnessConfig) -> HarnessConfig:
    from houzzflow.simulator.runs.scenario import load_scenario
    from houzzflow.simulator.runs.world_of import scenario_config

    if not isinstance(scenario, str | dict):
        raise AdminError("scenario is a scenario file's path or the scenario as an object")
    try:
        return scenario_config(load_scenario(scenario), base)
    except InputError as exc:
        found = "; ".join(d.render() for d in exc.diagnostics[:5])
        raise AdminError(f"scenario: {found}") from None


def _warehouse_config(data: object) -> WarehouseConfig:
    if not isinstance(data, dict):
        raise AdminError('warehouse is an object like {"ships": true, "ship_delay": [3600, 7200]}')
    names = ("ships", "ship_delay", "packages")
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise AdminError(f"unknown warehouse field {unknown[0]!r}; use {', '.join(names)}")
    given: dict[str, Any] = {}
    if "ships" in data:
        if not isinstance(data["ships"], bool):
            raise AdminError("warehouse.ships is true or false")
        given["ships"] = data["ships"]
    for name in ("ship_delay", "packages"):
        if name in data:
            pair = data[name]
            if not (isinstance(pair, list) and len(pair) == 2):
                raise AdminError(f"warehouse.{name} is a range [low, high]")
            given[name] = (pair[0], pair[1])
    try:
        return WarehouseConfig(**given)
    except ValueError as exc:
        raise AdminError(f"warehouse: {exc}") from None


def _order_id(served: Served, data: Mapping[str, Any]) -> str:
    unknown = sorted(set(data) - {"order_id"})
    if unknown:
        raise AdminError(f"unknown field {unknown[0]!r}; use order_id")
    order_id = data.get("order_id")
    if not isinstance(order_id, str):
        raise AdminError('send {"order_id": "..."}')
    if order_id not in served.harness.fake.orders:
        raise AdminError(f"order {order_id[:40]} not found", 404)
    return order_id


def _since(query: Mapping[str, str]) -> int:
    since = query.get("since", "0")
    if not (since.isascii() and since.isdigit() and len(since) <= 12):
        raise AdminError("since must be a sequence number (0 or more)")
    return int(since)


def _duration(raw: str, name: str, low: int, high: int) -> int:
    try:
        seconds = int(raw) if raw.isascii() and raw.isdigit() else parse_duration(raw)
    except ValueError as exc:
        raise AdminError(f"{name}: {exc}") from None
    if not low <= seconds <= high:
        raise AdminError(f"{name} must be from {low} to {high} seconds")
    return seconds


def _shipment_json(harness: HouzzHarness, shipped: Shipped) -> dict[str, Any]:
    packages = shipped.shipment.packages
    return {
        "seq": shipped.seq,
        "time": shipped.time,
        "at": harness.time_text(shipped.time),
        "order_id": shipped.shipment.order_id,
        "tracking_numbers": [p.tracking_number for p in packages],
        "shipping_method": packages[0].shipping_method if packages else "",
        "packages": [
            {"tracking_number": p.tracking_number, "shipping_method": p.shipping_method}
            for p in packages
        ],
    }
