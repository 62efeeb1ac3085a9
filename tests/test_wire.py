"""Houzz's wire format: what a connector reads and sends, byte for byte where it matters."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from houzzflow.engine.machine import default_machine
from houzzflow.simulator.harness import HouzzHarness
from houzzflow.simulator.houzz import wire
from houzzflow.simulator.houzz.wire import ErrorCode, Format, WireError


def shipped_order(harness: HouzzHarness) -> str:
    order_id = harness.place_order(items=2)
    harness.advance(1800)  # 2021 era: Houzz charges it itself when the cancel window closes
    ack = harness.update_order(
        order_id, "Ship", tracking_number="1Z001, 1Z002", shipping_method="UPS Ground"
    )
    assert ack.ok, ack.reason
    return order_id


# --- times ---------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-(10**9), max_value=10**9))
def test_times_read_back_as_the_same_second(seconds: int) -> None:
    text = wire.houzz_time(seconds)
    assert dt.datetime.strptime(text, wire.TIME_FORMAT)  # Houzz's %Y-%m-%d %H:%M:%S
    assert wire.parse_houzz_time(text) == seconds


def test_second_zero_is_the_epoch_and_a_different_epoch_moves_every_time() -> None:
    assert wire.houzz_time(0) == "2026-01-01 00:00:00"
    assert wire.houzz_time(90061) == "2026-01-02 01:01:01"
    epoch = dt.datetime(2021, 9, 1)
    assert wire.houzz_time(1800, epoch) == "2021-09-01 00:30:00"
    assert wire.parse_houzz_time("2021-09-01 00:30:00", epoch) == 1800


def test_a_date_alone_is_the_start_of_the_day_or_its_last_second() -> None:
    assert wire.parse_houzz_time("2026-01-02") == 86400
    assert wire.parse_houzz_time("2026-01-02", end_of_day=True) == 2 * 86400 - 1


def test_times_with_a_utc_offset_are_converted_to_utc() -> None:
    # A public client sends To as "%Y-%m-%d %H:%M:%S+00:00".
    assert wire.parse_houzz_time("2026-01-01 01:00:00+00:00") == 3600
    assert wire.parse_houzz_time("2026-01-01 06:00:00+05:00") == 3600
    assert wire.parse_houzz_time("2026-01-01T01:00:00Z") == 3600


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "01/02/2026", "2026-01-01 25:00:00"])
def test_unreadable_times_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        wire.parse_houzz_time(text)


# --- statuses ------------------------------------------------------------------------------


def test_every_public_spelling_reads_as_its_canonical_status() -> None:
    for name, state in default_machine().houzz.states.items():
        for spelling in (name, state.api, *state.accepts):
            assert wire.canonical_status(spelling) == name
            assert wire.canonical_status(spelling.upper()) == name


def test_statuses_are_answered_in_one_documented_spelling() -> None:
    assert wire.status_spelling("Cancelled") == "Canceled"
    assert wire.status_spelling("InProduction") == "InProduction"
    assert wire.canonical_status("In Production") == "InProduction"
    assert wire.canonical_status("failed_to_charge") == "FailedToCharge"
    assert wire.canonical_status("all") == "All"
    assert wire.canonical_status("Active") == "Active"


def test_an_unknown_status_is_refused_with_the_spellings_to_use() -> None:
    with pytest.raises(ValueError, match=r"unknown Status 'Paid'.*Canceled.*All, Active"):
        wire.canonical_status("Paid")


# --- getOrders parameters ------------------------------------------------------------------


def test_get_orders_parameters_have_documented_defaults() -> None:
    query = wire.parse_orders_query({}, now=500)
    assert (query.status, query.start, query.count) == ("All", 0, wire.DEFAULT_PAGE_SIZE)
    assert query.start_time < 0 <= query.end_time == 500


def test_get_orders_parameters_are_read_whatever_their_letter_case() -> None:
    query = wire.parse_orders_query(
        {"status": "Processing", "START": "20", "NumberOfItems": "5", "from": "2026-01-02"},
        now=10**6,
    )
    assert (query.status, query.start, query.count, query.start_time) == (
        "InProduction",
        20,
        5,
        86400,
    )


def test_a_date_only_to_covers_that_whole_day() -> None:
    query = wire.parse_orders_query({"From": "2026-01-01", "To": "2026-01-01"}, now=0)
    assert (query.start_time, query.end_time) == (0, 86399)


def test_page_size_is_capped_at_one_thousand() -> None:
    assert wire.parse_orders_query({"NumberOfItems": "5000"}, now=0).count == 1000


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"Start": "-1"}, "Start must be a whole number"),
        ({"Start": "ten"}, "Start must be a whole number"),
        ({"NumberOfItems": "0"}, "NumberOfItems must be at least 1"),
        ({"From": "last week"}, "From: expected YYYY-MM-DD"),
        ({"To": "2026-02-30"}, "To: '2026-02-30' is not a real date and time"),
        ({"Status": "Paid"}, "unknown Status"),
    ],
)
def test_bad_get_orders_parameters_are_refused_with_the_reason(
    params: dict[str, str], needle: str
) -> None:
    with pytest.raises(WireError, match=needle) as caught:
        wire.parse_orders_query(params, now=0)
    assert caught.value.code is ErrorCode.INVALID_PARAMETER


# --- updateOrder / updateInventory bodies --------------------------------------------------


def test_an_update_order_request_is_read_with_every_field() -> None:
    body = (
        b"<UpdateOrderRequest><OrderId>1656-9927-9120-7805</OrderId><Action>Ship</Action>"
        b"<ShippingMethod>UPS Ground</ShippingMethod><TrackingNumber>1Z001,1Z002</TrackingNumber>"
        b"<CancelCode>2</CancelCode><Comments>gift &amp; wrap</Comments></UpdateOrderRequest>"
    )
    update = wire.parse_order_update(body)
    assert update == wire.OrderUpdate(
        "1656-9927-9120-7805", "Ship", "UPS Ground", "1Z001,1Z002", "2", "gift & wrap"
    )


def test_an_update_order_request_may_be_json_and_actions_ignore_case() -> None:
    body = json.dumps({"OrderId": "1", "Action": "cancel", "CancelCode": 1}).encode()
    update = wire.parse_order_update(body)
    assert (update.order_id, update.action, update.cancel_code) == ("1", "Cancel", "1")


@pytest.mark.parametrize(
    ("body", "code", "needle"),
    [
        (b"", ErrorCode.MALFORMED_REQUEST, "request body is empty"),
        (b"<UpdateOrderRequest><OrderId>1</OrderId>", ErrorCode.MALFORMED_REQUEST, "malformed"),
        (b"<Order><OrderId>1</OrderId></Order>", ErrorCode.MALFORMED_REQUEST, "UpdateOrderRequest"),
        (b"<UpdateOrderRequest><Action>Process</Action></UpdateOrderRequest>", None, "OrderId"),
        (
            b"<UpdateOrderRequest><OrderId>1</OrderId><Action>Cancle</Action></UpdateOrderRequest>",
            ErrorCode.INVALID_PARAMETER,
            "Action must be one of Process, Charge, Ship, Cancel, not 'Cancle'",
        ),
        (b"\xff\xfe<\x00", ErrorCode.MALFORMED_REQUEST, "not UTF-8"),
        (b'{"OrderId": ', ErrorCode.MALFORMED_REQUEST, "malformed JSON"),
        (b"[1, 2]", ErrorCode.MALFORMED_REQUEST, "malformed XML"),
    ],
)
def test_unusable_update_order_bodies_are_refused_with_the_reason(
    body: bytes, code: ErrorCode | None, needle: str
) -> None:
    with pytest.raises(WireError, match=needle) as caught:
        wire.parse_order_update(body)
    assert code is None or caught.value.code is code


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<UpdateOrderRequest><OrderId>&lol2;</OrderId><Action>Process</Action></UpdateOrderRequest>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!doctype r [<!entity x SYSTEM "file:///etc/passwd">]>
<UpdateOrderRequest><OrderId>&x;</OrderId><Action>Process</Action></UpdateOrderRequest>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_dtds_and_entities_are_refused_not_expanded(body: bytes) -> None:
    with pytest.raises(WireError, match="DTDs and entity declarations are not accepted"):
        wire.parse_order_update(body)


def test_deeply_nested_xml_is_refused() -> None:
    body = b"<UpdateOrderRequest>" + b"<a>" * 100 + b"</a>" * 100 + b"</UpdateOrderRequest>"
    with pytest.raises(WireError, match="nested more than 16 levels"):
        wire.parse_order_update(body)


def test_an_update_inventory_request_is_read() -> None:
    body = (
        b"<UpdateInventoryRequest><SKU>LAMP-1</SKU><Action>update</Action>"
        b"<Quantity>7</Quantity></UpdateInventoryRequest>"
    )
    assert wire.parse_inventory_update(body) == wire.InventoryUpdate("LAMP-1", 7)


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ("<Action>update</Action><Quantity>1</Quantity>", "needs a SKU"),
        (
            "<SKU>A</SKU><Action>delete</Action><Quantity>1</Quantity>",
            "Action must be one of update",
        ),
        ("<SKU>A</SKU><Quantity>-3</Quantity>", "Quantity must be a whole number"),
    ],
)
def test_bad_update_inventory_requests_are_refused(fields: str, needle: str) -> None:
    body = f"<UpdateInventoryRequest>{fields}</UpdateInventoryRequest>".encode()
    with pytest.raises(WireError, match=needle):
        wire.parse_inventory_update(body)


# --- answers -------------------------------------------------------------------------------


def test_get_orders_xml_has_the_response_root_with_ack_and_houzz_field_names() -> None:
    harness = HouzzHarness(seed=4)
    order_id = harness.place_order(items=2)
    document = wire.order_document(harness.order(order_id))
    reply = wire.render_orders([document], total=7, fmt=Format.XML)
    assert reply.status == 200 and reply.content_type.startswith("text/xml")
    assert reply.body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(reply.body)
    assert root.tag == "GetOrdersResponse"
    assert [child.tag for child in root] == ["Ack", "TotalCount", "Orders"]
    assert root.findtext("Ack") == "Success" and root.findtext("TotalCount") == "7"
    order = root.find("Orders/Order")
    assert order is not None
    assert [child.tag for child in order] == [
        "OrderId",
        "Status",
        "Created",
        "CustomerName",
        "Address",
        "OrderTotal",
        "FlatShipping",
        "OrderItems",
    ]
    assert order.findtext("OrderId") == order_id and order.findtext("Status") == "New"
    assert order.findtext("Created") == "2026-01-01 00:00:00"
    address = order.find("Address")
    assert address is not None
    assert [child.tag for child in address] == list(wire.ADDRESS_FIELDS)
    items = order.findall("OrderItems/OrderItem")
    assert len(items) == 2
    assert [child.tag for child in items[0]] == list(wire.ITEM_FIELDS)


def test_money_is_written_with_exactly_two_decimals_and_adds_up() -> None:
    harness = HouzzHarness(seed=9)
    order = harness.order(harness.place_order(items=3))
    document = wire.order_document(order)
    reply = wire.render_orders([document], total=1, fmt=Format.XML)
    node = ET.fromstring(reply.body).find("Orders/Order")
    assert node is not None
    total = node.findtext("OrderTotal") or ""
    assert total == f"{order.order_total:.2f}" and total.split(".")[1].isdigit()
    lines = [
        wire.money(item.findtext("Price")) * int(item.findtext("Quantity") or 0)
        + wire.money(item.findtext("Shipping"))
        + wire.money(item.findtext("Tax"))
        for item in node.findall("OrderItems/OrderItem")
    ]
    assert sum(lines) + wire.money(node.findtext("FlatShipping")) == wire.money(total)


def test_a_shipped_order_carries_its_tracking_numbers_joined_and_its_method() -> None:
    harness = HouzzHarness(seed=2)
    order_id = shipped_order(harness)
    document = wire.order_document(harness.order(order_id))
    assert document["Status"] == "Shipped"
    assert document["TrackingNumber"] == "1Z001,1Z002"
    assert document["ShippingMethod"] == "UPS Ground"
    unshipped = wire.order_document(harness.order(harness.place_order()))
    assert "TrackingNumber" not in unshipped and "ShippingMethod" not in unshipped


def test_a_cancelled_order_is_answered_as_canceled() -> None:
    harness = HouzzHarness(seed=2)
    order_id = harness.place_order()
    assert harness.customer_cancel(order_id).ok
    assert wire.order_document(harness.order(order_id))["Status"] == "Canceled"


def test_json_answers_carry_the_same_fields_as_xml() -> None:
    harness = HouzzHarness(seed=5)
    orders = [harness.order(harness.place_order(items=2)), harness.order(shipped_order(harness))]
    documents = [wire.order_document(order) for order in orders]
    as_json = wire.read_answer(wire.render_orders(documents, total=2, fmt=Format.JSON).body)
    as_xml = wire.read_answer(wire.render_orders(documents, total=2, fmt=Format.XML).body)
    assert as_json["Ack"] == as_xml["Ack"] == "Success"
    assert as_json["TotalCount"] == 2 and as_xml["TotalCount"] == "2"
    for from_json, from_xml in zip(as_json["Orders"], as_xml["Orders"], strict=True):
        assert list(from_json) == list(from_xml)
        assert from_json["OrderId"] == from_xml["OrderId"]
        assert wire.money(from_json["OrderTotal"]) == wire.money(from_xml["OrderTotal"])
        assert [i["SKU"] for i in from_json["OrderItems"]] == [
            i["SKU"] for i in from_xml["OrderItems"]
        ]
        assert from_json["OrderItems"][0]["Quantity"] == int(from_xml["OrderItems"][0]["Quantity"])


@pytest.mark.parametrize("fmt", [Format.XML, Format.JSON])
def test_errors_have_ack_error_and_a_code_and_message(fmt: Format) -> None:
    reply = wire.render_error(
        "updateOrder", ErrorCode.ACTION_REFUSED, "order is Charged; Process needs New", fmt
    )
    answer = wire.read_answer(reply.body)
    assert answer["Ack"] == "Error"
    assert answer["Errors"] == [
        {"Code": "ActionRefused", "Message": "order is Charged; Process needs New"}
    ]
    if fmt is Format.XML:
        root = ET.fromstring(reply.body)
        assert root.tag == "UpdateOrderResponse" and root[0].tag == "Ack"


def test_each_method_answers_under_its_own_root_and_unknown_ones_under_error_response() -> None:
    roots = {
        method: ET.fromstring(wire.render_success(method, Format.XML).body).tag
        for method in ("getOrders", "updateOrder", "updateInventory", "")
    }
    assert roots == {
        "getOrders": "GetOrdersResponse",
        "updateOrder": "UpdateOrderResponse",
        "updateInventory": "UpdateInventoryResponse",
        "": "ErrorResponse",
    }


def test_text_that_looks_like_markup_is_escaped_in_xml_answers() -> None:
    reply = wire.render_error("getOrders", ErrorCode.INVALID_PARAMETER, "<b>&</b>", Format.XML)
    assert b"&lt;b&gt;&amp;&lt;/b&gt;" in reply.body
    assert wire.read_answer(reply.body)["Errors"][0]["Message"] == "<b>&</b>"
