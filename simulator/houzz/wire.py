"""Houzz's wire format: parse API requests and render API answers, as pure functions.

The fake Houzz's state never sees XML or JSON (moto's lesson): the HTTP server parses a
request here into plain data, calls the fake, and renders the result here. Field names,
date format and status spellings follow public Houzz API clients (DOMAIN.md section 5).

Documented model choices where Houzz's own documentation is silent:
- every answer has a root named after the method (``GetOrdersResponse``...; ``ErrorResponse``
  for an unknown method) with ``Ack`` (``Success`` | ``Error``) as a direct child, and on error
  ``Errors/Error/{Code, Message}``; JSON answers are one object with the same keys;
- times on the wire are ``%Y-%m-%d %H:%M:%S`` counted from an epoch (default
  2026-01-01 00:00:00, UTC) plus the simulated seconds; ``From``/``To`` also accept
  ``YYYY-MM-DD`` (a date-only ``To`` means the end of that day) and an ISO offset;
- ``NumberOfItems`` defaults to 100 and is capped at 1000; ``Status`` defaults to ``All``;
- request XML must be UTF-8 without a DTD or entity declarations (refused, never expanded).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache
from typing import Any, Protocol, cast

from houzzflow.engine.machine import default_machine

TOKEN_HEADER = "X-HOUZZ-API-SSL-TOKEN"
USER_HEADER = "X-HOUZZ-API-USER-NAME"
APP_HEADER = "X-HOUZZ-API-APP-NAME"
AUTH_HEADERS = (TOKEN_HEADER, USER_HEADER, APP_HEADER)

DEFAULT_EPOCH = dt.datetime(2026, 1, 1)
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_XML_DEPTH = 16
ORDER_ACTIONS = ("Process", "Charge", "Ship", "Cancel")
# Filter values that are not a single state (the fake interprets them).
FILTER_GROUPS = ("All", "Active")

RESPONSE_ROOTS = {
    "getOrders": "GetOrdersResponse",
    "updateOrder": "UpdateOrderResponse",
    "updateInventory": "UpdateInventoryResponse",
}
ERROR_ROOT = "ErrorResponse"
_XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
# A list under one of these keys renders as repeated child elements of this name.
_ITEM_NAMES = {"Orders": "Order", "OrderItems": "OrderItem", "Errors": "Error"}


class Format(StrEnum):
    XML = "xml"
    JSON = "json"


class ErrorCode(StrEnum):
    """Stable codes in ``Errors/Error/Code``; messages may change, codes do not."""

    AUTHENTICATION = "AuthenticationFailed"
    UNKNOWN_METHOD = "UnknownMethod"
    WRONG_HTTP_METHOD = "WrongHttpMethod"
    INVALID_FORMAT = "InvalidFormat"
    INVALID_PARAMETER = "InvalidParameter"
    MALFORMED_REQUEST = "MalformedRequest"
    REQUEST_TOO_LARGE = "RequestTooLarge"
    ORDER_NOT_FOUND = "OrderNotFound"
    ACTION_REFUSED = "ActionRefused"
    RATE_LIMITED = "RateLimited"
    SERVICE_UNAVAILABLE = "ServiceUnavailable"
    INTERNAL_ERROR = "InternalError"


class WireError(Exception):
    """A request Houzz would answer with ``Ack: Error`` (the message never holds a secret)."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Reply:
    """One HTTP answer, ready to write: status, headers and body."""

    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()
    # True when the connection must close without any answer (a reply lost in transit).
    drop: bool = False

    def text(self) -> str:
        return self.body.decode("utf-8")


# --- times -------------------------------------------------------------------------------


_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")


def houzz_time(seconds: int, epoch: dt.datetime = DEFAULT_EPOCH) -> str:
    """Simulated seconds as Houzz writes a time: ``2026-01-01 00:30:00``."""
    return (epoch + dt.timedelta(seconds=seconds)).strftime(TIME_FORMAT)


def parse_houzz_time(
    text: str, epoch: dt.datetime = DEFAULT_EPOCH, *, end_of_day: bool = False
) -> int:
    """Simulated seconds for a ``From``/``To`` value (raises ``ValueError`` when unreadable).

    A date alone is the start of that day, or its last second with ``end_of_day``; a time
    with a UTC offset is converted to UTC, the epoch's zone.
    """
    value = text.strip()
    date_only = re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None
    if not (date_only or _DATE_TIME.fullmatch(value)):
        raise ValueError(f"expected YYYY-MM-DD or YYYY-MM-DD HH:MM:SS, not {_shown(value)}")
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"{_shown(value)} is not a real date and time ({exc})") from None
    try:
        if date_only and end_of_day:
            moment += dt.timedelta(days=1, seconds=-1)
        if moment.tzinfo is not None:
            moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    except OverflowError:  # 9999-12-31 23:59:59-01:00 is past the last representable moment
        raise ValueError(f"{_shown(value)} is past the year 9999") from None
    return int((moment - epoch).total_seconds())


# --- statuses ----------------------------------------------------------------------------


@cache
def _spellings() -> tuple[dict[str, str], dict[str, str]]:
    """(canonical -> answered spelling, folded accepted spelling -> canonical or group)."""
    answer: dict[str, str] = {}
    accepted: dict[str, str] = {_fold(group): group for group in FILTER_GROUPS}
    for name, state in default_machine().houzz.states.items():
        answer[name] = state.api or name
        for spelling in (name, state.api, *state.accepts):
            if spelling:
                accepted[_fold(spelling)] = name
    return answer, accepted


def _fold(spelling: str) -> str:
    return re.sub(r"[\s_-]", "", spelling).lower()


def status_spelling(canonical: str) -> str:
    """How an answer spells a canonical status (``Cancelled`` -> ``Canceled``)."""
    return _spellings()[0].get(canonical, canonical)


def canonical_status(spelling: str) -> str:
    """The canonical status (or ``All`` / ``Active``) for any public spelling.

    Case, spaces, dashes and underscores do not matter; raises ``ValueError`` otherwise.
    """
    found = _spellings()[1].get(_fold(spelling))
    if found is None:
        known = ", ".join(accepted_statuses())
        raise ValueError(f"unknown Status {_shown(spelling)}; use one of {known}")
    return found


def accepted_statuses() -> tuple[str, ...]:
    """The filter values to document: the answered spellings, then the groups."""
    return (*_spellings()[0].values(), *FILTER_GROUPS)


# --- requests ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrdersQuery:
    """A getOrders request: a status filter, a time window and a page."""

    status: str  # canonical state name, or All / Active
    start_time: int
    end_time: int
    start: int
    count: int


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """An ``UpdateOrderRequest``: one action on one order."""

    order_id: str
    action: str  # Process | Charge | Ship | Cancel
    shipping_method: str = ""
    tracking_number: str = ""
    cancel_code: str = ""
    comments: str = ""


@dataclass(frozen=True, slots=True)
class InventoryUpdate:
    """An ``UpdateInventoryRequest``: set the stock of one SKU."""

    sku: str
    quantity: int


def parse_orders_query(
    params: Mapping[str, str], *, now: int, epoch: dt.datetime = DEFAULT_EPOCH
) -> OrdersQuery:
    """Read getOrders parameters (names are case-insensitive); raises ``WireError``."""
    given = {key.lower(): value for key, value in params.items()}
    try:
        status = canonical_status(given.get("status", "All") or "All")
    except ValueError as exc:
        raise WireError(ErrorCode.INVALID_PARAMETER, str(exc)) from None
    start = _whole(given, "start", 0)
    count = min(_whole(given, "numberofitems", DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE)
    if count == 0:
        raise WireError(ErrorCode.INVALID_PARAMETER, "NumberOfItems must be at least 1")
    start_time = _time(given, "from", epoch, None)
    end_time = _time(given, "to", epoch, now)
    return OrdersQuery(status, start_time, end_time, start, count)


def _whole(given: Mapping[str, str], name: str, default: int) -> int:
    raw = given.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        label = {"start": "Start", "numberofitems": "NumberOfItems"}[name]
        message = f"{label} must be a whole number from 0 to 999999999, not {_shown(raw)}"
        raise WireError(ErrorCode.INVALID_PARAMETER, message)
    return int(raw)


def _time(given: Mapping[str, str], name: str, epoch: dt.datetime, default: int | None) -> int:
    raw = given.get(name, "").strip()
    if not raw:
        # No From: from the beginning of the world (orders are never placed before the epoch).
        return -(10**12) if default is None else default
    try:
        return parse_houzz_time(raw, epoch, end_of_day=name == "to")
    except ValueError as exc:
        label = "From" if name == "from" else "To"
        raise WireError(ErrorCode.INVALID_PARAMETER, f"{label}: {exc}") from None


def parse_order_update(body: bytes) -> OrderUpdate:
    """Read an ``UpdateOrderRequest`` (XML, or the same fields as a JSON object)."""
    fields = _request_fields(body, "UpdateOrderRequest")
    order_id = fields.get("OrderId", "")
    if not order_id:
        raise WireError(ErrorCode.INVALID_PARAMETER, "UpdateOrderRequest needs an OrderId")
    action = _one_of(fields.get("Action", ""), ORDER_ACTIONS, "Action")
    return OrderUpdate(
        order_id=order_id,
        action=action,
        shipping_method=fields.get("ShippingMethod", ""),
        tracking_number=fields.get("TrackingNumber", ""),
        cancel_code=fields.get("CancelCode", ""),
        comments=fields.get("Comments", ""),
    )


def parse_inventory_update(body: bytes) -> InventoryUpdate:
    """Read an ``UpdateInventoryRequest`` (``SKU``, ``Action`` = ``update``, ``Quantity``)."""
    fields = _request_fields(body, "UpdateInventoryRequest")
    sku = fields.get("SKU", "")
    if not sku:
        raise WireError(ErrorCode.INVALID_PARAMETER, "UpdateInventoryRequest needs a SKU")
    _one_of(fields.get("Action", "update"), ("update",), "Action")
    raw = fields.get("Quantity", "")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        message = f"Quantity must be a whole number from 0 to 999999999, not {_shown(raw)}"
        raise WireError(ErrorCode.INVALID_PARAMETER, message)
    return InventoryUpdate(sku, int(raw))


def _one_of(value: str, allowed: Sequence[str], label: str) -> str:
    for choice in allowed:
        if value.lower() == choice.lower():
            return choice
    message = f"{label} must be one of {', '.join(allowed)}, not {_shown(value)}"
    raise WireError(ErrorCode.INVALID_PARAMETER, message)


def _request_fields(body: bytes, root_name: str) -> dict[str, str]:
    """The text of each direct child of the request's root element (or JSON object keys)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise WireError(ErrorCode.MALFORMED_REQUEST, "request body is not UTF-8") from None
    if not text.strip():
        raise WireError(ErrorCode.MALFORMED_REQUEST, f"request body is empty; send {root_name}")
    if text.lstrip().startswith("{"):
        return _json_fields(text, root_name)
    root = _parse_xml(text)
    if root.tag != root_name:
        message = f"expected a {root_name} element, not {_shown(root.tag)}"
        raise WireError(ErrorCode.MALFORMED_REQUEST, message)
    return {child.tag: (child.text or "").strip() for child in root}


def _json_fields(text: str, root_name: str) -> dict[str, str]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        # ValueError beyond JSONDecodeError: an integer of more than 4,300 digits.
        reason = "nested too deeply" if isinstance(exc, RecursionError) else "a number too long"
        message = f"malformed JSON: {getattr(exc, 'msg', reason)}"
        raise WireError(ErrorCode.MALFORMED_REQUEST, message) from None
    if isinstance(data, dict) and isinstance(data.get(root_name), dict):
        data = data[root_name]
    if not isinstance(data, dict):
        raise WireError(ErrorCode.MALFORMED_REQUEST, f"expected a JSON object of {root_name}")
    fields: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, str | int) and not isinstance(value, bool):
            fields[str(key)] = str(value).strip()
    return fields


_DECLARATION = re.compile(r"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST)", re.IGNORECASE)


def _parse_xml(text: str) -> ET.Element:
    """Parse untrusted XML: no DTD, no entity declarations, bounded depth, no stack trace."""
    if _DECLARATION.search(text):
        # Entity expansion (billion laughs) and external entities both need a DTD.
        message = "DTDs and entity declarations are not accepted in requests"
        raise WireError(ErrorCode.MALFORMED_REQUEST, message)
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
    depth = 0
    root: ET.Element | None = None
    try:
        parser.feed(text)
        for entry in parser.read_events():
            # Only start/end events were asked for: each is (event, element).
            event, element = cast(tuple[str, Any], entry)
            if event == "start":
                depth += 1
                if root is None and isinstance(element, ET.Element):
                    root = element
                if depth > MAX_XML_DEPTH:
                    message = f"XML is nested more than {MAX_XML_DEPTH} levels deep"
                    raise WireError(ErrorCode.MALFORMED_REQUEST, message)
            else:
                depth -= 1
        parser.close()
    except ET.ParseError as exc:
        raise WireError(ErrorCode.MALFORMED_REQUEST, f"malformed XML: {exc}") from None
    if root is None:
        raise WireError(ErrorCode.MALFORMED_REQUEST, "malformed XML: no element found")
    return root


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:37] + "...")


# --- answers -----------------------------------------------------------------------------


class WireOrder(Protocol):
    """What rendering needs from an order (``simulator.houzz.orders.HouzzOrder`` has it)."""

    @property
    def order_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def created(self) -> int: ...
    @property
    def customer_name(self) -> str: ...
    @property
    def address(self) -> Mapping[str, str]: ...
    @property
    def items(self) -> Sequence[Any]: ...
    @property
    def order_total(self) -> Any: ...
    @property
    def flat_shipping(self) -> Any: ...
    @property
    def tracking_numbers(self) -> Sequence[str]: ...
    @property
    def shipping_method(self) -> str: ...


ADDRESS_FIELDS = ("Address", "Address1", "City", "State", "Zip", "Country", "Phone")
ITEM_FIELDS = ("Type", "SKU", "Quantity", "Price", "Shipping", "Tax")
_MONEY_FIELDS = frozenset({"Price", "Shipping", "Tax", "OrderTotal", "FlatShipping"})


def order_document(order: WireOrder, epoch: dt.datetime = DEFAULT_EPOCH) -> dict[str, Any]:
    """An order with Houzz's field names, in the order Houzz lists them."""
    address = {name: str(order.address.get(name, "")) for name in ADDRESS_FIELDS}
    document: dict[str, Any] = {
        "OrderId": order.order_id,
        "Status": status_spelling(order.status),
        "Created": houzz_time(order.created, epoch),
        "CustomerName": order.customer_name,
        "Address": address,
        "OrderTotal": money(order.order_total),
        "FlatShipping": money(order.flat_shipping),
        "OrderItems": [_item_document(item) for item in order.items],
    }
    if order.tracking_numbers:
        # Houzz tracks shipping per order: several packages are one comma-joined value.
        document["TrackingNumber"] = ",".join(order.tracking_numbers)
        document["ShippingMethod"] = order.shipping_method
    return document


def _item_document(item: Any) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for name in ITEM_FIELDS:
        # Items may be mappings with Houzz's names or objects with snake_case attributes.
        found = item.get(name) if isinstance(item, Mapping) else getattr(item, name.lower(), None)
        value: Any = "" if found is None else found
        if name in _MONEY_FIELDS:
            value = money(value)
        elif name == "Quantity":
            value = int(value or 0)
        else:
            value = str(value)
        document[name] = value
    return document


def money(value: Any) -> Decimal:
    """A money amount with two decimals (cents are exact: never a binary float)."""
    try:
        return Decimal(str(value if value not in (None, "") else 0)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return Decimal("0.00")


def render_orders(orders: Iterable[Mapping[str, Any]], *, total: int, fmt: Format) -> Reply:
    """A successful getOrders answer; ``total`` counts matches over every page."""
    fields = {"TotalCount": total, "Orders": list(orders)}
    return render_success("getOrders", fmt, fields)


def render_success(method: str, fmt: Format, fields: Mapping[str, Any] | None = None) -> Reply:
    document: dict[str, Any] = {"Ack": "Success", **(fields or {})}
    return _reply(RESPONSE_ROOTS.get(method, ERROR_ROOT), document, fmt, 200)


def render_error(
    method: str,
    code: ErrorCode,
    message: str,
    fmt: Format,
    *,
    status: int = 200,
    headers: tuple[tuple[str, str], ...] = (),
) -> Reply:
    """``Ack: Error`` with one ``Errors/Error`` (HTTP ``status``: 200 like Houzz's own)."""
    document = {"Ack": "Error", "Errors": [{"Code": str(code), "Message": message}]}
    reply = _reply(RESPONSE_ROOTS.get(method, ERROR_ROOT), document, fmt, status)
    return Reply(reply.status, reply.body, reply.content_type, headers)


def _reply(root_name: str, document: Mapping[str, Any], fmt: Format, status: int) -> Reply:
    if fmt is Format.JSON:
        body = json.dumps(document, default=_json_value, ensure_ascii=False).encode("utf-8")
        return Reply(status, body, "application/json; charset=utf-8")
    root = ET.Element(root_name)
    _fill(root, document)
    body = _XML_DECLARATION + ET.tostring(root, encoding="unicode").encode("utf-8")
    return Reply(status, body, "text/xml; charset=utf-8")


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"cannot put {type(value).__name__} in a Houzz answer")


def _fill(element: ET.Element, document: Mapping[str, Any]) -> None:
    for key, value in document.items():
        if isinstance(value, list):
            holder = ET.SubElement(element, key)
            for entry in value:
                child = ET.SubElement(holder, _ITEM_NAMES.get(key, "Item"))
                if isinstance(entry, Mapping):
                    _fill(child, entry)
                else:
                    child.text = str(entry)
        elif isinstance(value, Mapping):
            _fill(ET.SubElement(element, key), value)
        else:
            ET.SubElement(element, key).text = _xml_text(value)


def _xml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


# --- reading answers (for clients and tests) ---------------------------------------------


def read_answer(body: bytes) -> dict[str, Any]:
    """An XML or JSON answer as plain data: the inverse of the renderers above.

    Lists come back as lists (``Orders``, ``OrderItems``, ``Errors``); XML leaves stay text.
    """
    text = body.decode("utf-8-sig")
    if text.lstrip().startswith("{"):
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("a Houzz answer is a JSON object")
        return data
    return _element_data(_parse_xml(text))


def _element_data(element: ET.Element) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for child in element:
        if child.tag in _ITEM_NAMES:
            data[child.tag] = [
                _element_data(entry) if len(entry) else (entry.text or "") for entry in child
            ]
        elif len(child):
            data[child.tag] = _element_data(child)
        else:
            data[child.tag] = child.text or ""
    return data
