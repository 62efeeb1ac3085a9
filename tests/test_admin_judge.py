"""The admin API around a connector under test: its warehouse, the verdict, reconfiguring
the world with ``POST /_houzzflow/reset``, the route listing, and time that follows the wall
clock (``--epoch``, ``--clock wall``) for connectors that ask by the real date."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from houzzflow.simulator.cli import main
from houzzflow.simulator.http.server import RunningServer, ServerConfig, serve
from houzzflow.simulator.kernel.pace import WallPace, parse_clock, parse_epoch
from houzzflow.simulator.validate import json_schema

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def admin(running: RunningServer, path: str, data: Any = None) -> tuple[int, Any]:
    body = None if data is None else json.dumps(data).encode()
    request = urllib.request.Request(
        running.admin_url + path, data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def get_orders(running: RunningServer, **params: str) -> list[str]:
    query = urllib.parse.urlencode({"format": "xml", "method": "getOrders", **params})
    request = urllib.request.Request(f"{running.api_url}?{query}", headers=running.headers)
    with urllib.request.urlopen(request, timeout=10) as answer:
        document = ET.fromstring(answer.read())
    assert document.findtext("Ack") == "Success", ET.tostring(document)
    return [order.findtext("OrderId", "") for order in document.findall("Orders/Order")]


@pytest.fixture
def running() -> Iterator[RunningServer]:
    with serve(ServerConfig(program="vendor", era="2021", seed=2)) as server:
        yield server


def test_the_admin_index_lists_every_route_with_what_it_does(running: RunningServer) -> None:
    status, document = admin(running, "")
    assert status == 200
    routes = {(r["method"], r["path"]): r["does"] for r in document["routes"]}
    assert routes[("GET", "/_houzzflow/verdict")].startswith("Judge the connector so far")
    assert ("POST", "/_houzzflow/warehouse/orders") in routes
    assert ("GET", "/_houzzflow/orders/{order_id}") in routes
    assert all(routes.values()), [key for key, does in routes.items() if not does]


def test_the_warehouse_takes_orders_ships_them_and_the_verdict_judges(
    running: RunningServer,
) -> None:
    _, placed = admin(running, "/orders", {"count": 2})
    first, second = placed["order_ids"]
    status, sent = admin(running, "/warehouse/orders", {"order_id": first, "believed": "Charged"})
    assert status == 201 and sent["received"][0]["houzz_status"] == "Charged"
    assert admin(running, "/warehouse/orders", {"order_id": "0000"})[0] == 404
    assert admin(running, "/warehouse/orders", {"order_id": first, "x": 1})[0] == 400
    # Nothing shipped yet; after a day of simulated time the fake warehouse has shipped it.
    assert admin(running, "/warehouse/shipments")[1] == {"shipments": [], "last": 0}
    _, verdict = admin(running, "/verdict?settle=1d")
    (shipment,) = admin(running, "/warehouse/shipments")[1]["shipments"]
    assert shipment["order_id"] == first and shipment["tracking_numbers"]
    assert admin(running, "/warehouse/shipments?since=1")[1]["shipments"] == []
    # The second order was never sent, and nobody listed it: it is not lost yet (no poll).
    assert verdict["ok"] is True and verdict["now"] == 86400
    jsonschema.validate(verdict, json_schema("verdict-report"))
    assert {entry["order_id"] for entry in verdict["in_flight"]} == {first, second}
    cancel = admin(running, "/warehouse/cancel", {"order_id": first})[1]
    assert cancel["ok"] is False and "already shipped" in cancel["reason"]
    status, refused = admin(running, "/verdict?settle=forever")
    assert status == 400 and "settle" in refused["error"]
    assert admin(running, "/verdict?bogus=1")[0] == 400


def test_the_verdict_as_text_reads_like_a_run(running: RunningServer) -> None:
    running.place_orders(1)
    with urllib.request.urlopen(running.admin_url + "/verdict?format=text", timeout=10) as answer:
        assert answer.headers["Content-Type"].startswith("text/plain")
        text = answer.read().decode()
    assert text.startswith("PASS  connector verdict at 2026-01-01 00:00:00")
    assert "  Invariants\n    ✔ nothing lost" in text and "  Wire etiquette" in text


def test_reset_takes_program_era_seed_and_warehouse(running: RunningServer) -> None:
    running.place_orders(3)
    status, health = admin(running, "/reset", {"program": "seller", "era": "legacy", "seed": 9})
    assert status == 200
    assert (health["program"], health["era"], health["seed"], health["orders"]) == (
        "seller",
        "legacy",
        9,
        0,
    )
    (order_id,) = running.place_orders(1)
    assert running.order(order_id).status == "New"  # a legacy Seller order, not a Vendor one
    admin(running, "/reset", {"warehouse": {"ships": False}})
    (order_id,) = running.place_orders(1)
    admin(running, "/warehouse/orders", {"order_id": order_id})
    admin(running, "/clock/advance", {"seconds": "10d"})
    assert admin(running, "/warehouse/shipments")[1]["shipments"] == []
    assert admin(running, "/warehouse/ship", {"order_id": order_id})[1] == {"shipped": True}
    # An empty reset keeps the configuration; a bad field is refused, and nothing changes.
    assert admin(running, "/reset", {})[1]["program"] == "vendor"
    status, refused = admin(running, "/reset", {"program": "marketplace"})
    assert status == 400 and "program must be one of seller, vendor" in refused["error"]
    assert admin(running, "/reset", {"colour": "red"})[0] == 400
    assert admin(running, "/health")[1]["program"] == "vendor"


def test_reset_loads_a_scenario_world(running: RunningServer) -> None:
    status, health = admin(running, "/reset", {"scenario": str(SCENARIOS / "seller-default.yaml")})
    assert status == 200 and (health["program"], health["era"], health["seed"]) == (
        "seller",
        "legacy",
        7,
    )
    admin(running, "/clock/advance", {"seconds": "1h"})
    assert admin(running, "/health")[1]["orders"] > 0  # the scenario's customers place orders
    status, refused = admin(running, "/reset", {"scenario": "no-such-file.yaml"})
    assert status == 400 and "no-such-file.yaml" in refused["error"]


# --- wall-clock time -----------------------------------------------------------------------


class FakeWall:
    """A wall clock the test moves by hand (seconds since 1970)."""

    def __init__(self, moment: dt.datetime) -> None:
        self.now = moment.replace(tzinfo=dt.UTC).timestamp()

    def __call__(self) -> float:
        return self.now


def test_a_client_asking_for_the_last_7_days_by_the_wall_clock_gets_its_orders() -> None:
    wall = FakeWall(dt.datetime(2026, 11, 30, 9, 0, 0))
    epoch = parse_epoch("now", wall)
    assert epoch == dt.datetime(2026, 11, 30, 9, 0, 0)
    config = ServerConfig(program="vendor", era="2021", epoch=epoch, clock_speed=1.0, wall=wall)
    with serve(config) as running:
        wall.now += 3600  # an hour of real time passes: the fake's clock follows
        (order_id,) = running.place_orders(1)
        assert running.order(order_id).created == 3600
        # The integration script's query: From a week ago to now, in the real date.
        today = dt.datetime.fromtimestamp(wall(), dt.UTC)
        listed = get_orders(
            running,
            From=(today - dt.timedelta(days=7)).strftime("%Y-%m-%d"),
            To=today.isoformat(sep=" ", timespec="seconds"),
        )
        assert listed == [order_id]
        _, clock = admin(running, "/clock")
        assert clock == {
            "now": 3600,
            "time": "2026-11-30 10:00:00",
            "epoch": "2026-11-30 09:00:00",
            "mode": "wall:1",
        }
        # The admin clock can still jump ahead; the wall clock carries on from there.
        admin(running, "/clock/advance", {"seconds": "1d"})
        wall.now += 60
        assert admin(running, "/clock")[1]["now"] == 3600 + 86400 + 60


def test_with_the_fixed_default_epoch_the_last_7_days_by_the_real_date_are_empty() -> None:
    with serve(ServerConfig(program="vendor", era="2021")) as running:
        running.place_orders(1)
        assert get_orders(running, From="2026-11-23", To="2026-11-30 09:00:00+00:00") == []
        assert len(get_orders(running, From="2026-01-01")) == 1


def test_a_wall_clock_can_run_faster_than_real_time() -> None:
    wall = FakeWall(dt.datetime(2026, 11, 30))
    pace = WallPace(60.0, wall)
    wall.now += 10
    assert pace.due(0) == 600
    pace.rebase(5000)
    wall.now += 1
    assert pace.due(5000) == 5060


def test_epoch_and_clock_options_are_checked() -> None:
    assert parse_epoch("2026-11-23") == dt.datetime(2026, 11, 23)
    assert parse_epoch("2026-11-23T09:00:00+02:00") == dt.datetime(2026, 11, 23, 7)
    assert parse_clock("wall") == 1.0 and parse_clock("wall:3600") == 3600.0
    assert parse_clock("simulated") is None
    for bad in ("yesterday", "1999-12-31", "2026-13-01"):
        with pytest.raises(ValueError):
            parse_epoch(bad)
    for bad in ("wall:0", "wall:fast", "sundial", "wall:1e9"):
        with pytest.raises(ValueError):
            parse_clock(bad)
    runner = CliRunner()
    result = runner.invoke(main, ["serve", "--clock", "wall:fast"])
    assert result.exit_code == 2 and "--clock: SPEED must be a number" in result.output
    result = runner.invoke(main, ["serve", "--epoch", "yesterday"])
    assert result.exit_code == 2 and "--epoch: expected now, YYYY-MM-DD" in result.output
    assert "Traceback" not in result.output
