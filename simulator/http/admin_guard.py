"""Who may use the admin API: never a web page the developer happens to visit.

A browser lets any site send "simple" cross-site requests (a form's ``text/plain`` or
``application/x-www-form-urlencoded`` POST) to 127.0.0.1, and a DNS-rebinding site can even
read the answers under its own host name. So the admin API refuses:

- a ``Host`` that is not an address the fake serves at (a rebinding site's name), 403;
- an ``Origin`` that is not one either (a page of another site), 403;
- a body that is not ``application/json`` (a form cannot send that without CORS), 415;
- without the admin token when one is set (``--admin-token``, ``$HOUZZFLOW_ADMIN_TOKEN``),
  401. Serving beyond loopback needs one: ``beyond_loopback_refusal`` says why.
"""

from __future__ import annotations

import hmac
import ipaddress
from urllib.parse import urlsplit

from houzzflow.simulator.http.config import ServerConfig
from houzzflow.simulator.http.messages import ApiRequest

ADMIN_TOKEN_ENV = "HOUZZFLOW_ADMIN_TOKEN"
ADMIN_TOKEN_HEADER = "X-Houzzflow-Admin-Token"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "localhost.localdomain"})
_WILDCARDS = frozenset({"", "0.0.0.0", "::"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server on this machine."""
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def beyond_loopback_refusal(config: ServerConfig) -> str:
    """Why serving on ``config.host`` is refused ("" when it is not)."""
    if is_loopback(config.host) or config.admin_token:
        return ""
    return (
        f"refusing to serve on {config.host}: beyond loopback, anyone who can reach it could "
        "rearrange the fake through the admin API; set an admin token with --admin-token-file "
        f"or ${ADMIN_TOKEN_ENV} (clients send it as '{ADMIN_TOKEN_HEADER}' or as "
        "'Authorization: Bearer ...'), or serve on 127.0.0.1"
    )


def refusal(request: ApiRequest, config: ServerConfig) -> tuple[int, str] | None:
    """(status, reason) when an admin request must be refused, else None."""
    host = request.header("Host")
    if host is not None and not _served_name(_hostname(host), config):
        return 403, "the Host header names another site; the admin API answers its own address"
    origin = request.header("Origin")
    if origin is not None:
        name = urlsplit(origin).hostname if origin != "null" else None
        if name is None or not _served_name(name, config):
            return 403, "requests from a web page of another origin are refused"
    if config.admin_token and not _has_token(request, config.admin_token):
        return 401, f"send the admin token as '{ADMIN_TOKEN_HEADER}' or 'Authorization: Bearer'"
    if request.method in _BODY_METHODS and request.body.strip():
        kind = (request.header("Content-Type") or "").split(";")[0].strip().lower()
        if kind != "application/json":
            shown = f"'{kind[:40]}'" if kind else "none"
            return 415, f"send the body as Content-Type: application/json (got {shown})"
    return None


def _hostname(host_header: str) -> str:
    """The name in a Host header, without the port (``[::1]:8080`` is ``::1``)."""
    value = host_header.strip()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    return value.rpartition(":")[0] if value.count(":") == 1 else value


def _served_name(name: str, config: ServerConfig) -> bool:
    name = name.lower()
    if is_loopback(name) or name == config.host.strip("[]").lower():
        return True
    # Bound to every interface: any name may reach it, and the admin token guards it.
    return config.host in _WILDCARDS and bool(config.admin_token)


def _has_token(request: ApiRequest, token: str) -> bool:
    given = request.header(ADMIN_TOKEN_HEADER)
    if given is None:
        scheme, _, rest = (request.header("Authorization") or "").partition(" ")
        given = rest.strip() if scheme.lower() == "bearer" else ""
    return hmac.compare_digest(given.encode("utf-8", "replace"), token.encode("utf-8", "replace"))
