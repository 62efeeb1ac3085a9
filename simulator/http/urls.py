"""The served fake Houzz's routes, as data (moto's ``urls.py``): what each request reaches.

``/api`` is Houzz's seller API (the method named by the ``method`` query parameter);
``/_houzzflow/...`` is the admin API test code uses to arrange and inspect the world.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import NamedTuple

from houzzflow.simulator.http import admin_routes, judge_routes, wire_routes
from houzzflow.simulator.http.admin_routes import AdminEndpoint
from houzzflow.simulator.http.wire_routes import WireEndpoint

API_PATH = "/api"
ADMIN_PREFIX = "/_houzzflow"


class ApiMethod(NamedTuple):
    """One Houzz API method: the HTTP method it is called with, and its endpoint."""

    http_method: str
    endpoint: WireEndpoint


# Houzz API method -> how it is called and what answers it.
API_METHODS = MappingProxyType(
    {
        "getOrders": ApiMethod("GET", wire_routes.get_orders),
        "updateOrder": ApiMethod("POST", wire_routes.update_order),
        "updateInventory": ApiMethod("POST", wire_routes.update_inventory),
    }
)

# (HTTP method, admin path) -> admin endpoint.
ADMIN_ROUTES = MappingProxyType(
    {
        ("GET", f"{ADMIN_PREFIX}/health"): admin_routes.health,
        ("GET", f"{ADMIN_PREFIX}/orders"): admin_routes.list_orders,
        ("POST", f"{ADMIN_PREFIX}/orders"): admin_routes.place_orders,
        ("POST", f"{ADMIN_PREFIX}/clock/advance"): admin_routes.advance_clock,
        ("POST", f"{ADMIN_PREFIX}/reset"): judge_routes.reset,
        ("GET", f"{ADMIN_PREFIX}/faults"): admin_routes.list_faults,
        ("POST", f"{ADMIN_PREFIX}/faults"): admin_routes.add_faults,
        ("DELETE", f"{ADMIN_PREFIX}/faults"): admin_routes.clear_faults,
        ("POST", f"{ADMIN_PREFIX}/staff"): admin_routes.act,
        ("GET", f"{ADMIN_PREFIX}/journal"): admin_routes.journal,
        ("GET", f"{ADMIN_PREFIX}/inventory"): admin_routes.inventory,
        ("GET", ADMIN_PREFIX): judge_routes.index,
        ("GET", f"{ADMIN_PREFIX}/clock"): judge_routes.clock,
        ("GET", f"{ADMIN_PREFIX}/verdict"): judge_routes.verdict,
        ("GET", f"{ADMIN_PREFIX}/warehouse"): judge_routes.warehouse,
        ("POST", f"{ADMIN_PREFIX}/warehouse/orders"): judge_routes.send_to_warehouse,
        ("POST", f"{ADMIN_PREFIX}/warehouse/cancel"): judge_routes.cancel_at_warehouse,
        ("POST", f"{ADMIN_PREFIX}/warehouse/ship"): judge_routes.ship_from_warehouse,
        ("GET", f"{ADMIN_PREFIX}/warehouse/shipments"): judge_routes.shipments,
    }
)

# One order, inspected by id: GET /_houzzflow/orders/1656-9927-9120-7805
ORDER_ROUTE = re.compile(rf"^{ADMIN_PREFIX}/orders/(?P<order_id>[^/]+)$")
ORDER_METHOD = "GET"
ORDER_ENDPOINT = admin_routes.one_order

_API_NAMES = {name.lower(): name for name in API_METHODS}


def api_method_name(given: str) -> str:
    """The Houzz method a client named, in any letter case, as Houzz spells it; "" if none."""
    return _API_NAMES.get(given.lower(), "")


def admin_endpoint(http_method: str, path: str) -> AdminEndpoint | None:
    """The admin endpoint a request reaches, or None."""
    return ADMIN_ROUTES.get((http_method, path.rstrip("/") or "/"))


def admin_index() -> list[dict[str, str]]:
    """Every admin route: its HTTP method, path and what it does (``GET /_houzzflow/``)."""
    routes = [
        {"method": method, "path": path, "does": _first_line(endpoint.__doc__)}
        for (method, path), endpoint in ADMIN_ROUTES.items()
    ]
    routes.append(
        {
            "method": ORDER_METHOD,
            "path": f"{ADMIN_PREFIX}/orders/{{order_id}}",
            "does": "One order, with its history.",
        }
    )
    return sorted(routes, key=lambda route: (route["path"], route["method"]))


def _first_line(doc: str | None) -> str:
    return " ".join((doc or "").split("\n\n")[0].split())


def admin_methods(path: str) -> tuple[str, ...]:
    """The HTTP methods an admin path answers (for a 405's Allow header)."""
    clean = path.rstrip("/")
    found = [method for method, route in ADMIN_ROUTES if route == clean]
    if ORDER_ROUTE.match(clean):
        found.append(ORDER_METHOD)
    return tuple(sorted(found))
