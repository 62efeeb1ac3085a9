"""The journal: every Houzz API request served, with its answer, the tokens redacted.

Redaction covers every field of an entry (any header, the path, the query, the body, the
order ids, the answer) and the spellings a token takes on the way (percent-encoded, XML- or
JSON-escaped), and happens before a long text is cut, so no prefix of a token survives.
Bounded: past its limit the oldest entries are dropped and counted. It holds no lock of its
own; ``ServedHouzz`` calls it under the lock that guards the harness.
"""

from __future__ import annotations

import html
import json
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

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

    def __init__(
        self, limit: int, tokens: str | Iterable[str], method_name: Callable[[str], str]
    ) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=max(1, limit))
        given = [tokens] if isinstance(tokens, str) else list(tokens)
        spellings = {
            spelled
            for token in given
            if token
            for spelled in (
                token,
                quote(token, safe=""),
                quote_plus(token),
                html.escape(token),
                json.dumps(token)[1:-1],
            )
        }
        # Longest first: a spelling that contains another is replaced whole.
        self._secrets = sorted(spellings, key=len, reverse=True)
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
            self._redact(name): (
                _REDACTED if name.lower() == wire.TOKEN_HEADER.lower() else self._redact(value)
            )
            for name, value in request.headers.items()
            if name.lower().startswith("x-houzz-") or name.lower() == "content-type"
        }
        params = {
            self._redact(key): _REDACTED if "token" in key.lower() else self._redact(value)
            for key, value in query.items()
        }
        body = request.body.decode("utf-8", "replace")
        answer = reply.body.decode("utf-8", "replace")
        entry: dict[str, Any] = {
            "seq": self.last,
            "time": time,
            "at": at,
            "http_method": request.method,
            "path": self._redact(urlsplit(request.target).path),
            "query": params,
            "method": self._spelled(params.get("method", "")),
            "headers": headers,
            "body": self._redact(body)[:_KEPT_TEXT],
            "status": reply.status,
            "ack": outcome.ack,
            "error_code": outcome.code,
            "error": self._redact(outcome.message),
            "order_ids": [self._redact(order_id) for order_id in outcome.order_ids],
            "faults": faults,
            "dropped": reply.drop,
            "response": self._redact(answer)[:_KEPT_TEXT],
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
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, _REDACTED)
        return text
