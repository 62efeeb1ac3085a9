"""The journal: every Houzz API request served, with its answer, the token redacted.

Bounded: past its limit the oldest entries are dropped and counted. It holds no lock of its
own; ``ServedHouzz`` calls it under the lock that guards the harness.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from houzzflow.simulator.houzz import wire
from houzzflow.simulator.http.messages import ApiRequest
from houzzflow.simulator.http.wire_routes import Outcome

_KEPT_TEXT = 4096  # characters of a body kept in a journal entry
_REDACTED = "***"


class Journal:
    """The last ``limit`` Houzz API requests with their answers, oldest first.

    ``method_name`` spells a client's method parameter as Houzz does ("" when Houzz has no
    such method). It is passed in: ``urls``, which holds the names, imports this module
    (through the admin routes).
    """

    def __init__(self, limit: int, token: str, method_name: Callable[[str], str]) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=max(1, limit))
        self._token = token
        self._method_name = method_name
        self.last = 0  # the newest entry's sequence number
        self.dropped = 0

    def record(
        self,
        request: ApiRequest,
        query: Mapping[str, str],
        outcome: Outcome,
        faults: list[str],
        *,
        time: int,
        at: str,
    ) -> None:
        if len(self._entries) == self._entries.maxlen:
            self.dropped += 1
        self.last += 1
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
            "seq": self.last,
            "time": time,
            "at": at,
            "http_method": request.method,
            "path": urlsplit(request.target).path,
            "query": params,
            "method": self._spelled(params.get("method", "")),
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
        self._entries.append(entry)

    def entries(self, *, since: int = 0, method: str = "") -> list[dict[str, Any]]:
        """Entries after sequence number ``since``, of one API method if given."""
        wanted = self._spelled(method)
        return [
            dict(entry)
            for entry in self._entries
            if entry["seq"] > since and (not wanted or entry["method"] == wanted)
        ]

    def clear(self) -> None:
        self._entries.clear()
        self.last = 0
        self.dropped = 0

    def _spelled(self, method: str) -> str:
        return self._method_name(method) or method

    def _redact(self, text: str) -> str:
        return text.replace(self._token, _REDACTED) if self._token else text
