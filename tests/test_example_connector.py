"""An example connector test, written only against houzzflow's public API and fixtures.

Copy this file to start testing your own connector: ``TinyConnector`` stands in for yours.
It lists orders over HTTP with ``example_connector.HouzzClient`` (urllib, XML), marks what
it loads Processed and Charged, ships what the warehouse packed, and retries what failed.
``example_connector.py`` is the whole connector, which ``houzzflow conformance`` judges. The tests
arrange the world with ``houzz_server``'s helpers and check what the connector did through
the request journal and each order's history in Houzz. Time is simulated: the connector
waits by advancing the fake's clock, never by sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

import pytest
from example_connector import DONE, HouzzClient, ReplyLost, RetryLater

from houzzflow.simulator.http.server import RunningServer

T = TypeVar("T")

# Installed houzzflow registers its pytest plugin by itself; a source checkout names it here.
pytest_plugins = ["houzzflow.simulator.pytest_plugin"]


@dataclass
class TinyConnector:
    """Loads orders in ``load`` statuses once, runs its Mark steps, holds refused orders."""

    houzz: HouzzClient
    wait: Callable[[int], object]  # how to wait: the fake's clock in tests
    load: frozenset[str]
    mark_processed: bool = False
    mark_charged: bool = False
    page_size: int = 100
    loaded: dict[str, str] = field(default_factory=dict)  # order id -> Houzz status seen
    held: dict[str, str] = field(default_factory=dict)  # order id -> why

    def poll(self) -> None:
        start, total = 0, 1
        while start < total:
            page, total = self._patiently(partial(self.houzz.orders, "All", start, self.page_size))
            for order in page:
                order_id, status = order.findtext("OrderId", ""), order.findtext("Status", "")
                if status in self.load and order_id not in self.loaded:
                    self.loaded[order_id] = status
                    self._mark(order_id, status)
            start += self.page_size

    def ship(self, order_id: str, tracking: str, method: str) -> None:
        self._write(order_id, "Ship", TrackingNumber=tracking, ShippingMethod=method)

    def _mark(self, order_id: str, status: str) -> None:
        steps = [("Process", self.mark_processed), ("Charge", self.mark_charged)]
        for action, enabled in steps:
            if enabled and not self._write(order_id, action):
                return

    def _write(self, order_id: str, action: str, **fields: str) -> bool:
        try:
            ok, reason = self._patiently(lambda: self.houzz.update(order_id, action, **fields))
        except ReplyLost:
            # It may have happened: ask again, and take "already done" as done.
            ok, reason = self._patiently(lambda: self.houzz.update(order_id, action, **fields))
            ok = ok or reason.startswith(f"order is {DONE[action]};")
        if not ok:
            self.held[order_id] = reason
        return ok

    def _patiently(self, call: Callable[[], T]) -> T:
        for _ in range(5):  # bounded: a connector that retries forever hides the problem
            try:
                return call()
            except RetryLater as later:
                self.wait(later.seconds)
        return call()


def connector_for(houzz_server: RunningServer, **settings: object) -> TinyConnector:
    client = HouzzClient(houzz_server.api_url, houzz_server.headers)
    return TinyConnector(client, houzz_server.advance, **settings)  # type: ignore[arg-type]


def history(houzz_server: RunningServer, order_id: str) -> list[tuple[str, str]]:
    return [(entry.actor, entry.action) for entry in houzz_server.history(order_id)]


@pytest.mark.houzz(program="seller", era="legacy", seed=21)
def test_legacy_orders_are_processed_charged_and_shipped_exactly_once(
    houzz_server: RunningServer,
) -> None:
    order_ids = houzz_server.place_orders(3)
    connector = connector_for(
        houzz_server, load=frozenset({"New"}), mark_processed=True, mark_charged=True
    )
    connector.poll()
    connector.poll()  # a second poll loads nothing twice
    for n, order_id in enumerate(order_ids):
        connector.ship(order_id, f"1Z{n:03d}", "UPS Ground")

    assert connector.held == {}
    for order_id in order_ids:
        order = houzz_server.order(order_id)
        assert (order.status, order.shipping_method) == ("Shipped", "UPS Ground")
        assert history(houzz_server, order_id) == [
            ("customer", "Place"),
            ("connector", "Process"),
            ("connector", "Charge"),
            ("connector", "Ship"),
        ]
    updates = houzz_server.journal(method="updateOrder")
    assert len(updates) == 9 and {entry["ack"] for entry in updates} == {"Success"}


@pytest.mark.houzz(program="seller", era="2021", seed=22)
def test_2021_orders_are_loaded_once_houzz_has_charged_them(houzz_server: RunningServer) -> None:
    order_ids = houzz_server.place_orders(2)
    connector = connector_for(houzz_server, load=frozenset({"Charged"}))
    connector.poll()
    assert connector.loaded == {}
    houzz_server.advance(30 * 60)  # Houzz charges a 2021 Seller order itself after 30 minutes
    connector.poll()
    assert connector.loaded == dict.fromkeys(order_ids, "Charged")
    assert houzz_server.journal(method="updateOrder") == []


@pytest.mark.houzz(program="seller", era="legacy", seed=23)
def test_a_step_staff_already_did_is_refused_and_the_order_held(
    houzz_server: RunningServer,
) -> None:
    by_hand, untouched = houzz_server.place_orders(2)
    assert houzz_server.staff(by_hand, "Process").ok
    connector = connector_for(
        houzz_server,
        load=frozenset({"New", "InProduction"}),
        mark_processed=True,
        mark_charged=True,
    )
    connector.poll()
    assert connector.held == {by_hand: "order is In Production; Process needs New"}
    assert houzz_server.order(untouched).status == "Charged"
    refused = [e for e in houzz_server.journal(method="updateOrder") if e["ack"] == "Error"]
    assert [(e["order_ids"], e["error_code"]) for e in refused] == [([by_hand], "ActionRefused")]


@pytest.mark.houzz(program="seller", era="legacy", seed=24)
def test_the_connector_waits_out_a_rate_limit_and_survives_a_lost_reply(
    houzz_server: RunningServer,
) -> None:
    (order_id,) = houzz_server.place_orders(1)
    houzz_server.add_fault("rate_limit", operation="getOrders", call=1, retry_after=120)
    houzz_server.add_fault("timeout_after_write", operation="updateOrder", call=1)
    connector = connector_for(
        houzz_server, load=frozenset({"New"}), mark_processed=True, mark_charged=True
    )
    connector.poll()

    assert connector.held == {}
    assert houzz_server.order(order_id).status == "Charged"
    assert history(houzz_server, order_id)[1:] == [
        ("connector", "Process"),
        ("connector", "Charge"),
    ]
    journal = houzz_server.journal()
    assert [(e["method"], e["status"], e["faults"]) for e in journal[:2]] == [
        ("getOrders", 429, ["rate_limit"]),
        ("getOrders", 200, []),
    ]
    assert journal[1]["time"] == 120  # it waited on the simulated clock, not the wall
    lost, retried = journal[2:4]
    assert lost["dropped"] is True and lost["faults"] == ["reply_lost"]
    assert retried["error"] == "order is In Production; Process needs New"


@pytest.mark.houzz(program="vendor", era="2021", seed=25)
def test_every_order_is_listed_across_pages(houzz_server: RunningServer) -> None:
    order_ids = houzz_server.place_orders(120)
    connector = connector_for(houzz_server, load=frozenset({"Charged"}), page_size=50)
    connector.poll()
    assert sorted(connector.loaded) == sorted(order_ids)
    starts = [e["query"]["Start"] for e in houzz_server.journal(method="getOrders")]
    assert starts == ["0", "50", "100"]
