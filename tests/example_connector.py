"""An example connector, run by ``houzzflow conformance`` and by the tests; copy it to start.

It keeps to the connector contract (README, "Testing your connector"): each run is one
poll, like a cron job; it reads the fake's URLs, credentials and the simulated time from
``HOUZZFLOW_*`` environment variables and keeps its state in ``$HOUZZFLOW_STATE_DIR``:

    houzzflow conformance --connector-cmd "python tests/example_connector.py"

What a careful connector does, in order:

* list every order (``Status=All``) page by page, and list again when the pages shifted
  under it (fewer orders read than ``TotalCount`` says);
* legacy Seller: mark a New order Processed, then Charged (only Charge when staff already
  processed it by hand); elsewhere wait for Houzz to charge it;
* send Charged orders to the warehouse once (``POST /_houzzflow/warehouse/orders``);
* after a lost reply, re-read the order at the next poll instead of redoing the write;
* wait out every ``Retry-After`` on simulated time (``POST /_houzzflow/clock/advance``);
* cancel at the warehouse an order cancelled in Houzz after it was sent;
* confirm each shipment to Houzz with all its tracking numbers.

``BROKEN`` holds deliberately broken variants, each wrong in one way; the tests show the
verdict catches each with the invariant or etiquette rule it breaks.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


class RetryLater(Exception):
    def __init__(self, seconds: int) -> None:
        super().__init__(f"retry in {seconds} s")
        self.seconds = seconds


class ReplyLost(Exception):
    """The connection closed without an answer: the request may have taken effect."""


class GiveUp(Exception):
    """Houzz kept failing: stop this poll and try again at the next one."""


class HouzzClient:
    """The few Houzz seller API calls a connector makes."""

    def __init__(self, api_url: str, headers: dict[str, str]) -> None:
        self.api_url = api_url
        self.headers = headers

    def call(self, method: str, params: dict[str, str], body: bytes | None = None) -> ET.Element:
        query = urllib.parse.urlencode({"format": "xml", "method": method, **params})
        request = urllib.request.Request(f"{self.api_url}?{query}", data=body, headers=self.headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return ET.fromstring(answer.read())
        except urllib.error.HTTPError as error:
            if error.code == 429 or error.code >= 500:
                raise RetryLater(int(error.headers.get("Retry-After") or 60)) from None
            raise
        except (http.client.RemoteDisconnected, ConnectionResetError):
            raise ReplyLost(method) from None

    def orders(
        self, status: str, start: int, count: int, since: str = ""
    ) -> tuple[list[ET.Element], int]:
        params = {"Status": status, "Start": str(start), "NumberOfItems": str(count)}
        if since:
            params["From"] = since
        answer = self.call("getOrders", params)
        if answer.findtext("Ack") != "Success":
            raise RetryLater(60)
        return answer.findall("Orders/Order"), int(answer.findtext("TotalCount") or 0)

    def update(self, order_id: str, action: str, **fields: str) -> tuple[bool, str]:
        request = ET.Element("UpdateOrderRequest")
        for name, value in {"OrderId": order_id, "Action": action, **fields}.items():
            ET.SubElement(request, name).text = value
        answer = self.call("updateOrder", {}, ET.tostring(request))
        return answer.findtext("Ack") == "Success", answer.findtext("Errors/Error/Message") or ""


class Admin:
    """houzzflow's admin API: the warehouse the connector reports to, and the clock."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url

    def _call(self, path: str, data: Mapping[str, Any] | None = None) -> Any:
        body = None if data is None else json.dumps(data).encode()
        request = urllib.request.Request(
            self.admin_url + path, data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    def send(self, order_id: str, believed: str) -> None:
        self._call("/warehouse/orders", {"order_id": order_id, "believed": believed})

    def cancel(self, order_id: str) -> bool:
        return bool(self._call("/warehouse/cancel", {"order_id": order_id})["ok"])

    def shipments(self, since: int) -> list[dict[str, Any]]:
        return list(self._call(f"/warehouse/shipments?since={since}")["shipments"])

    def sleep(self, seconds: int) -> None:
        """Wait on the fake's simulated clock, never on the wall."""
        self._call("/clock/advance", {"seconds": seconds})


# The status (as Houzz's refusal names it) that shows an action already happened.
DONE = {"Process": "In Production", "Charge": "Charged", "Ship": "Shipped"}


@dataclass
class State:
    """What the connector keeps between runs (a JSON file in its state directory)."""

    sent: dict[str, str] = field(default_factory=dict)  # order -> status when sent
    held: dict[str, str] = field(default_factory=dict)  # order -> why it is held
    cancelled: list[str] = field(default_factory=list)  # cancelled at the warehouse
    to_confirm: dict[str, list[str]] = field(default_factory=dict)  # order -> [numbers, method]
    confirmed: list[str] = field(default_factory=list)
    shipments_since: int = 0
    last_poll: str = ""  # when the last poll began, as Houzz writes times

    @classmethod
    def load(cls, path: Path) -> State:
        return cls(**json.loads(path.read_text())) if path.exists() else cls()

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)))


class ExampleConnector:
    """One poll of a careful connector (see the module doc)."""

    page_size = 20

    def __init__(
        self, houzz: HouzzClient, admin: Admin, state: State, *, charges: bool, now: str = ""
    ) -> None:
        self.houzz = houzz
        self.admin = admin
        self.state = state
        self.charges = charges  # legacy Seller: the connector marks orders Processed, Charged
        self.now = now

    def poll_once(self) -> None:
        try:
            listed = self.list_orders()
            for order_id, status in listed.items():
                self.handle(order_id, status)
            self.confirm_shipments(listed)
        except GiveUp:
            pass  # the next poll starts over; nothing was left half-done
        self.state.last_poll = self.now

    # --- listing ---------------------------------------------------------------------

    def list_orders(self) -> dict[str, str]:
        seen: dict[str, str] = {}
        for _ in range(3):  # pages shift when orders change under the pager: list again
            total = self._read_pages(seen)
            if len(seen) >= total:
                break
        return seen

    def _read_pages(self, seen: dict[str, str], since: str = "") -> int:
        start, total = 0, 1
        while start < total:
            page, total = self.patiently(
                partial(self.houzz.orders, "All", start, self.page_size, since)
            )
            for order in page:
                seen[order.findtext("OrderId", "")] = order.findtext("Status", "")
            start += self.page_size
        return total

    # --- each order ------------------------------------------------------------------

    def handle(self, order_id: str, status: str) -> None:
        state = self.state
        if order_id in state.held:
            return
        if status in ("Canceled", "Cancelled"):
            self.cancelled_in_houzz(order_id)
            return
        if order_id in state.sent:
            return
        if self.charges and status == "New":
            if not self.mark(order_id, "Process"):
                return
            status = "InProduction"
        if self.charges and status == "InProduction":
            if not self.mark(order_id, "Charge"):
                return
            status = "Charged"
        if status == "Charged":
            self.send(order_id, status)

    def cancelled_in_houzz(self, order_id: str) -> None:
        state = self.state
        shipped = order_id in state.to_confirm or order_id in state.confirmed
        if order_id not in state.sent or order_id in state.cancelled or shipped:
            return  # nothing at the warehouse to stop
        if self.admin.cancel(order_id):
            state.cancelled.append(order_id)

    def send(self, order_id: str, status: str) -> None:
        self.admin.send(order_id, status)
        self.state.sent[order_id] = status

    def mark(self, order_id: str, action: str) -> bool:
        """Process or Charge; False when the order must wait (held, or to be re-read)."""
        try:
            ok, reason = self.patiently(lambda: self.houzz.update(order_id, action))
        except ReplyLost:
            return self.after_lost_reply(order_id, action)
        if not ok and not reason.startswith(f"order is {DONE[action]};"):
            self.state.held[order_id] = reason
            return False
        return True

    def after_lost_reply(self, order_id: str, action: str) -> bool:
        return False  # it may have happened: re-read the order at the next poll

    # --- shipments -------------------------------------------------------------------

    def confirm_shipments(self, listed: Mapping[str, str]) -> None:
        state = self.state
        for shipment in self.admin.shipments(state.shipments_since):
            state.shipments_since = shipment["seq"]
            numbers = self.tracking(shipment["tracking_numbers"])
            state.to_confirm[shipment["order_id"]] = [numbers, shipment["shipping_method"]]
        for order_id, (numbers, method) in list(state.to_confirm.items()):
            if listed.get(order_id) == "Shipped":
                del state.to_confirm[order_id]  # a confirmation whose reply was lost
                state.confirmed.append(order_id)
                continue
            try:
                ship = partial(
                    self.houzz.update,
                    order_id,
                    "Ship",
                    TrackingNumber=numbers,
                    ShippingMethod=method,
                )
                ok, reason = self.patiently(ship)
            except ReplyLost:
                continue  # re-read at the next poll
            del state.to_confirm[order_id]
            if ok:
                state.confirmed.append(order_id)
            else:
                state.held[order_id] = reason

    def tracking(self, numbers: list[str]) -> str:
        return ",".join(numbers)

    # --- waiting ---------------------------------------------------------------------

    def patiently(self, call: Callable[[], T]) -> T:
        for _ in range(5):  # bounded: a connector that retries forever hides the problem
            try:
                return call()
            except RetryLater as later:
                self.wait(later.seconds)
        raise GiveUp

    def wait(self, seconds: int) -> None:
        self.admin.sleep(seconds)


# --- deliberately broken variants ---------------------------------------------------------


class TrustsOffsets(ExampleConnector):
    """Lists only what changed since its last poll, and trusts Start offsets: an order that
    moves up onto a page already read is never seen again."""

    def list_orders(self) -> dict[str, str]:
        seen: dict[str, str] = {}
        self._read_pages(seen, since=self.state.last_poll)
        return seen


class RedoesAfterLostReply(ExampleConnector):
    """After a lost reply it sends the same Mark again at once, and takes Houzz's refusal
    (the step is already done) as a failure: the order is held, never sent."""

    def after_lost_reply(self, order_id: str, action: str) -> bool:
        try:
            ok, reason = self.patiently(lambda: self.houzz.update(order_id, action))
        except ReplyLost:
            ok, reason = False, "no answer twice"
        if not ok:
            self.state.held[order_id] = reason
        return ok


class IgnoresRetryAfter(ExampleConnector):
    """Asks again at once after a 429, however long Houzz said to wait."""

    def wait(self, seconds: int) -> None:
        pass


class ShipsUncharged(ExampleConnector):
    """Sends every order to the warehouse as soon as it sees it, charged or not."""

    def handle(self, order_id: str, status: str) -> None:
        if status in ("New", "InProduction", "Charged") and order_id not in self.state.sent:
            self.send(order_id, status)
        elif status in ("Canceled", "Cancelled"):
            self.cancelled_in_houzz(order_id)


class DropsSecondTracking(ExampleConnector):
    """Confirms a shipment with its first tracking number only."""

    def tracking(self, numbers: list[str]) -> str:
        return numbers[0]


class IgnoresCancellations(ExampleConnector):
    """Never tells the warehouse that an order it sent was cancelled in Houzz."""

    def cancelled_in_houzz(self, order_id: str) -> None:
        pass


BROKEN: dict[str, type[ExampleConnector]] = {
    "trusts-offsets": TrustsOffsets,
    "redoes-after-lost-reply": RedoesAfterLostReply,
    "ignores-retry-after": IgnoresRetryAfter,
    "ships-uncharged": ShipsUncharged,
    "drops-second-tracking": DropsSecondTracking,
    "ignores-cancellations": IgnoresCancellations,
}


def run_once(env: Mapping[str, str], kind: type[ExampleConnector] = ExampleConnector) -> None:
    """One poll with the contract's variables (``HOUZZFLOW_*``), state kept in its folder."""
    headers = {
        "X-HOUZZ-API-SSL-TOKEN": env["HOUZZFLOW_TOKEN"],
        "X-HOUZZ-API-USER-NAME": env["HOUZZFLOW_USERNAME"],
        "X-HOUZZ-API-APP-NAME": env["HOUZZFLOW_APP_NAME"],
    }
    path = Path(env["HOUZZFLOW_STATE_DIR"]) / "example-connector.json"
    state = State.load(path)
    charges = env["HOUZZFLOW_PROGRAM"] == "seller" and env["HOUZZFLOW_ERA"] == "legacy"
    connector = kind(
        HouzzClient(env["HOUZZFLOW_API_URL"], headers),
        Admin(env["HOUZZFLOW_ADMIN_URL"]),
        state,
        charges=charges,
        now=env["HOUZZFLOW_TIME"],
    )
    connector.poll_once()
    state.save(path)


if __name__ == "__main__":
    # python tests/example_connector.py [BROKEN-VARIANT]
    variant = sys.argv[1] if len(sys.argv) > 1 else ""
    run_once(os.environ, BROKEN[variant] if variant else ExampleConnector)
