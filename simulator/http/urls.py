"""The served fake Houzz's routes, as data (moto's ``urls.py``): what each request reaches.

``/api`` is Houzz's seller API (the method named by the ``method`` query parameter);
``/_houzzflow/...`` is the admin API test code uses to arrange and inspect the world.
"""

from __future__ import annotations

import re
from types import MappingProxyType

API_PATH = "/api"
ADMIN_PREFIX = "/_houzzflow"

# Houzz API method -> the HTTP method it is called with.
API_METHODS = MappingProxyType(
    {
        "getOrders": "GET",
        "updateOrder": "POST",
        "updateInventory": "POST",
    }
)

# (HTTP method, admin path) -> admin endpoint name.
ADMIN_ROUTES = MappingProxyType(
    {
        ("GET", f"{ADMIN_PREFIX}/health"): "health",
        ("GET", f"{ADMIN_PREFIX}/orders"): "list_orders",
        ("POST", f"{ADMIN_PREFIX}/orders"): "place_orders",
        ("POST", f"{ADMIN_PREFIX}/clock/advance"): "advance_clock",
        ("POST", f"{ADMIN_PREFIX}/reset"): "reset",
        ("GET", f"{ADMIN_PREFIX}/faults"): "list_faults",
        ("POST", f"{ADMIN_PREFIX}/faults"): "add_faults",
        ("DELETE", f"{ADMIN_PREFIX}/faults"): "clear_faults",
        ("POST", f"{ADMIN_PREFIX}/staff"): "act",
        ("GET", f"{ADMIN_PREFIX}/journal"): "journal",
        ("GET", f"{ADMIN_PREFIX}/inventory"): "inventory",
    }
)

# One order, inspected by id: GET /_houzzflow/orders/1656-9927-9120-7805
ORDER_ROUTE = re.compile(rf"^{ADMIN_PREFIX}/orders/(?P<order_id>[^/]+)$")


def admin_endpoint(http_method: str, path: str) -> str | None:
    """The admin endpoint a request reaches, or None."""
    return ADMIN_ROUTES.get((http_method, path.rstrip("/") or "/"))


def admin_methods(path: str) -> tuple[str, ...]:
    """The HTTP methods an admin path answers (for a 405's Allow header)."""
    clean = path.rstrip("/")
    found = [method for method, route in ADMIN_ROUTES if route == clean]
    if ORDER_ROUTE.match(clean):
        found.append("GET")
    return tuple(sorted(found))
