"""One request and one reply as plain data: ``ApiRequest``, and the helpers that shape a ``Reply``.

Both APIs and the HTTP layer share these, so none of them depends on another for them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from houzzflow.simulator.houzz.wire import Reply


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


def json_reply(document: Mapping[str, Any], status: int = 200) -> Reply:
    body = json.dumps(document, ensure_ascii=False).encode("utf-8")
    return Reply(status, body, "application/json; charset=utf-8")


def with_headers(reply: Reply, headers: tuple[tuple[str, str], ...]) -> Reply:
    return Reply(reply.status, reply.body, reply.content_type, reply.headers + headers, reply.drop)
