"""The harness judges a connector: the example connector passes every world of the
conformance battery; each deliberately broken variant is caught with the invariant or
etiquette rule it breaks, over HTTP (``GET /_houzzflow/verdict``) and from Python
(``HouzzHarness.verdict``)."""

from __future__ import annotations

import json
import sys
import threading
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import example_connector as example
import jsonschema
import pytest
from click.testing import CliRunner

from houzzflow.simulator.cli import main
from houzzflow.simulator.conformance import Session, run_conformance, run_world
from houzzflow.simulator.harness import HouzzHarness
from houzzflow.simulator.http.server import RunningServer
from houzzflow.simulator.judge.battery import World, load_battery
from houzzflow.simulator.validate import json_schema

EXAMPLE = Path(__file__).with_name("example_connector.py")
WORLDS = {world.name: world for world in load_battery()}


def in_process(kind: type[example.ExampleConnector] = example.ExampleConnector) -> Any:
    """A runner calling the example's ``run_once`` in this process (it still speaks HTTP)."""

    def run(session: Session) -> str:
        example.run_once(session.env(), kind)
        return ""

    return run


def admin_json(running: RunningServer, path: str) -> Any:
    with urllib.request.urlopen(running.admin_url + path, timeout=10) as answer:
        return json.loads(answer.read())


def test_the_example_connector_passes_every_world_and_every_world_does_its_part() -> None:
    result = run_conformance(list(WORLDS.values()), in_process())
    assert result.ok, result.render()
    by_name = {r.world.name: r for r in result.results}
    # Not vacuous: each world injected what it is about, and orders went all the way.
    assert by_name["page-drift"].faults.get("page_drift", 0) >= 3
    assert by_name["lost-replies"].faults.get("reply_lost", 0) >= 3
    assert by_name["rate-limits"].faults.get("rate_limit", 0) >= 3
    for r in result.results:
        confirmed = r.verdict.fates["confirmed"]
        assert confirmed >= r.world.orders.count - 4, (r.world.name, r.verdict.fates)
    assert by_name["customer-cancels"].verdict.fates["cancelled"] == 4
    table = result.table()
    assert table[0].split()[:3] == ["world", "lost", "twice"]
    assert all("✘" not in row for row in table)


BROKEN = [
    ("trusts-offsets", "page-drift", "lost"),
    ("redoes-after-lost-reply", "lost-replies", "lost"),
    ("ignores-retry-after", "rate-limits", "retry_after"),
    ("ships-uncharged", "lost-replies", "unpaid_shipped"),
    ("drops-second-tracking", "vendor", "unconfirmed"),
    ("ignores-cancellations", "customer-cancels", "cancelled_shipped"),
]


@pytest.mark.parametrize(("variant", "world", "invariant"), BROKEN)
def test_each_broken_connector_is_caught_with_the_invariant_it_breaks(
    variant: str, world: str, invariant: str
) -> None:
    over_http: dict[str, Any] = {}

    def ask(running: RunningServer) -> None:
        over_http.update(admin_json(running, "/verdict?final=1&poll_interval=30m"))

    result = run_world(WORLDS[world], in_process(example.BROKEN[variant]), ask)
    assert invariant in result.verdict.broken()  # from Python
    assert invariant in over_http["broken"]  # over HTTP
    assert over_http["ok"] is False
    if invariant in over_http["invariants"]:
        # Each violation carries the order's timeline in run's words.
        told = over_http["invariants"][invariant]["violations"]
        assert told and any("  connector  " in step["text"] for step in told[0]["timeline"])
    else:
        assert over_http["etiquette"][invariant]["breaches"][0]["message"]


def test_the_verdict_tells_an_invariant_broken_with_the_orders_story() -> None:
    result = run_world(WORLDS["vendor"], in_process(example.DropsSecondTracking))
    text = result.verdict.render()
    assert text.startswith("FAIL  connector verdict at 2026-01-01 12:00:00")
    assert "✘ confirmed with all tracking numbers" in text
    assert "Houzz shows tracking" in text and "the warehouse shipped" in text
    assert "warehouse  Ship: 2 package(s)" in text or "warehouse  Ship: 3 package(s)" in text


# --- the verdict from Python -----------------------------------------------------------


def test_orders_in_flight_are_reported_as_such_until_the_verdict_is_final() -> None:
    h = HouzzHarness(program="vendor", era="2021", seed=3)
    (order_id,) = h.place_orders(1)
    page = h.get_orders("All", -(10**9), h.now, 0, 50)
    assert [view.order_id for view in page.orders] == [order_id]
    h.send_to_warehouse(order_id, "Charged")
    verdict = h.verdict()
    assert verdict.ok and [v.order_id for v in verdict.in_flight] == [order_id]
    assert "at the warehouse, not shipped yet" in verdict.in_flight[0].message
    # settle: simulated time runs first; the warehouse ships, nobody confirms.
    settled = h.verdict(settle=86400, final=True)
    assert settled.broken() == ["stuck"]
    assert "shipped; the connector has not collected the shipment yet" in settled.render()
    (shipped,) = h.warehouse_shipments()
    numbers = ",".join(p.tracking_number for p in shipped.shipment.packages)
    assert h.update_order(order_id, "Ship", tracking_number=numbers).ok
    assert h.verdict(final=True).ok


def test_an_order_never_sent_is_lost_once_the_connector_has_listed_it_since() -> None:
    h = HouzzHarness(program="vendor", era="2021", seed=4)
    first, second = h.place_orders(2)
    h.advance(1)  # a change in the very second of a listing may not be in it yet
    h.get_orders("All", -(10**9), h.now, 0, 50)
    h.send_to_warehouse(first)
    verdict = h.verdict()
    assert verdict.broken() == ["lost"]
    (lost,) = verdict.violations["lost"]
    assert lost.order_id == second and "the connector skipped it" in lost.message


def test_an_order_no_listing_ever_showed_is_lost_and_unaccounted() -> None:
    h = HouzzHarness(program="vendor", era="2021", seed=5)
    h.place_orders(3)
    h.advance(100)
    h.get_orders("All", 50, h.now, 0, 50)  # a window that starts after the orders changed
    verdict = h.verdict()
    assert verdict.broken() == ["lost", "unaccounted"]
    assert "the connector never listed it (it is Charged in Houzz)" in verdict.render()
    assert "no poll of the connector's ever listed it" in verdict.render()


def test_a_listing_left_before_its_last_page_is_a_paging_breach_and_keeps_orders_in_flight() -> (
    None
):
    h = HouzzHarness(program="vendor", era="2021", seed=5)
    h.place_orders(3)
    h.get_orders("All", -(10**9), h.now, 0, 2)  # reads the first page only
    h.advance(60)
    h.get_orders("All", -(10**9), h.now, 0, 2)
    verdict = h.verdict()
    assert verdict.broken() == ["paging"]
    assert "began a new listing before reading orders 3 to 3" in verdict.render()
    assert len(verdict.in_flight) == 3  # no listing ever reached its end


def test_a_planned_act_keeps_an_order_in_flight_until_it_happens() -> None:
    h = HouzzHarness(program="seller", era="legacy", seed=6)
    (order_id,) = h.place_orders(1)
    h.act_at(600, order_id, "Cancel", "customer")
    h.get_orders("All", -(10**9), h.now, 0, 50)
    assert h.verdict().ok
    assert "its customer is yet to Cancel it" in h.verdict().in_flight[0].message
    h.advance(600)
    h.get_orders("All", -(10**9), h.now, 0, 50)
    assert h.status(order_id) == "Cancelled"
    assert h.verdict(final=True).ok


# --- wire etiquette ----------------------------------------------------------------------


def test_calls_during_a_retry_after_wait_are_a_breach_and_waiting_it_out_is_not() -> None:
    h = HouzzHarness(seed=7)
    h.add_fault("rate_limit", operation="getOrders", call=1, retry_after=120)
    with pytest.raises(Exception, match="rate limit"):
        h.get_orders("All", 0, h.now, 0, 50)
    h.advance(119)
    h.get_orders("All", 0, h.now, 0, 50)
    (breach,) = h.verdict().etiquette["retry_after"]
    assert "1 call during a 120 s Retry-After wait" in breach.message
    assert "119 s into it" in breach.message

    patient = HouzzHarness(seed=7)
    patient.add_fault("rate_limit", operation="getOrders", call=1, retry_after=120)
    with pytest.raises(Exception, match="rate limit"):
        patient.get_orders("All", 0, patient.now, 0, 50)
    patient.advance(120)
    patient.get_orders("All", 0, patient.now, 0, 50)
    assert patient.verdict().etiquette["retry_after"] == []


def test_a_skipped_page_and_a_page_read_twice_are_breaches() -> None:
    h = HouzzHarness(program="vendor", seed=8)
    h.place_orders(6)
    h.get_orders("All", 0, h.now, 0, 2)
    h.get_orders("All", 0, h.now, 4, 2)  # skips Start=2
    h.get_orders("All", 0, h.now, 4, 2)  # and reads this page twice
    breaches = [b.message for b in h.verdict().etiquette["paging"]]
    assert breaches == [
        "skipped from Start=2 to Start=4: orders 3 to 4 of 6 were never read",
        "read the page at Start=4 twice in a row",
    ]


def test_a_refused_write_repeated_unchanged_is_a_loop_and_a_forbidden_write_is_named() -> None:
    h = HouzzHarness(program="seller", era="legacy", seed=9)
    (order_id,) = h.place_orders(1)
    assert h.staff(order_id, "Process").ok
    h.get_orders("All", 0, h.now, 0, 50)  # the connector sees In Production
    for _ in range(3):
        assert not h.update_order(order_id, "Process").ok
    verdict = h.verdict()
    (loop,) = verdict.etiquette["refused_loop"]
    assert f"sent Process on order {order_id} 3 times unchanged" in loop.message
    forbidden = verdict.etiquette["forbidden_write"]
    assert len(forbidden) == 3 and "which it had listed as In Production" in forbidden[0].message


def test_polls_further_apart_than_the_interval_allows_are_a_breach() -> None:
    h = HouzzHarness(seed=10)
    for gap in (900, 900, 2700):
        h.advance(gap)
        h.get_orders("All", 0, h.now, 0, 50)
    assert h.verdict().etiquette["poll_gap"] == []  # no interval given: not checked
    (gap,) = h.verdict(poll_interval=900).etiquette["poll_gap"]
    assert gap.message.startswith("listed orders 2700 s after its previous listing")


# --- the contract: a connector as its own process, or a service ------------------------


def test_conformance_runs_a_connector_command_and_prints_the_table() -> None:
    command = f"{sys.executable} {EXAMPLE}"
    ok = CliRunner().invoke(
        main, ["conformance", "--connector-cmd", command, "--world", "customer-cancels"]
    )
    assert ok.exit_code == 0, ok.output
    assert ok.output.splitlines()[1].startswith("customer-cancels  ✔")
    assert ok.output.rstrip().endswith("1 of 1 worlds passed")
    broken = CliRunner().invoke(
        main,
        [
            "conformance",
            "--connector-cmd",
            f"{command} ignores-cancellations",
            "--world",
            "customer-cancels",
            "--format",
            "json",
        ],
    )
    assert broken.exit_code == 1
    document = json.loads(broken.output)
    jsonschema.validate(document, json_schema("conformance-report"))
    assert document["worlds"][0]["verdict"]["broken"] == ["cancelled_shipped", "forbidden_write"]
    shipped = document["worlds"][0]["verdict"]["invariants"]["cancelled_shipped"]["violations"]
    assert shipped and all(v["timeline"] for v in shipped)  # each with its order's story


def test_conformance_writes_junit_to_a_file_and_the_table_to_the_terminal(tmp_path: Path) -> None:
    """A CI job: one testcase per world and invariant, the broken one failed with its order."""
    report = tmp_path / "conformance.xml"
    command = f"{sys.executable} {EXAMPLE} ignores-cancellations"
    result = CliRunner().invoke(
        main,
        [
            *("conformance", "--connector-cmd", command, "--world", "customer-cancels"),
            *("--format", "junit", "-o", str(report)),
        ],
    )
    assert result.exit_code == 1
    assert result.output.splitlines()[1].startswith("customer-cancels  ")  # the text table
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None and suite.get("name") == "customer-cancels"
    failed = {
        case.get("name"): case.find("failure")
        for case in suite.iter("testcase")
        if case.find("failure") is not None
    }
    assert set(failed) == {"cancelled_shipped", "forbidden_write"}
    assert "order " in (failed["cancelled_shipped"].get("message") or "")
    quiet = CliRunner().invoke(
        main, ["conformance", "--connector-cmd", command, "--world", "customer-cancels", "-q"]
    )
    assert quiet.output == "0 of 1 worlds passed\n"


def test_a_connector_that_exits_non_zero_fails_its_world_without_showing_the_token() -> None:
    failing = (
        f"{sys.executable} -c \"import os,sys; sys.exit('token ' + os.environ['HOUZZFLOW_TOKEN'])\""
    )
    result = CliRunner().invoke(
        main, ["conformance", "--connector-cmd", failing, "--world", "vendor"]
    )
    assert result.exit_code == 1
    assert "the connector's run at 2026-01-01 00:30:00 exited 1: token ***" in result.output


@pytest.fixture
def connector_service() -> Iterator[str]:
    """The example connector as a service: each POST is one poll."""

    class Poll(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            session = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            env = {f"HOUZZFLOW_{key.upper()}": value for key, value in session.items()}
            example.run_once(env)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Poll)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/poll"
    finally:
        server.shutdown()
        server.server_close()


def test_conformance_drives_a_connector_running_as_a_service(connector_service: str) -> None:
    result = CliRunner().invoke(
        main, ["conformance", "--url", connector_service, "--world", "vendor"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].startswith("vendor  ✔")


def test_conformance_refuses_unusable_input(tmp_path: Path) -> None:
    runner = CliRunner()
    neither = runner.invoke(main, ["conformance"])
    assert neither.exit_code == 2 and "--connector-cmd COMMAND or --url URL" in neither.output
    unknown = runner.invoke(main, ["conformance", "--url", "http://x", "--world", "nope"])
    assert unknown.exit_code == 2 and "no world 'nope'" in unknown.output
    bad = tmp_path / "worlds.yaml"
    bad.write_text(
        "worlds:\n  - name: w\n    program: seller\n    era: legacy\n    orders: {count: -1}\n"
    )
    located = runner.invoke(main, ["conformance", "--url", "http://x", "--worlds", str(bad)])
    assert located.exit_code == 2 and f"{bad}:5:" in located.output
    assert "Traceback" not in located.output


def test_a_custom_battery_is_data(tmp_path: Path) -> None:
    battery = tmp_path / "worlds.yaml"
    battery.write_text(
        "worlds:\n"
        "  - name: two-packages\n"
        "    program: vendor\n"
        "    era: '2021'\n"
        "    orders: {count: 3, within: 10m}\n"
        "    warehouse: {packages: [2, 2]}\n"
        "    duration: 8h\n"
    )
    (world,) = load_battery(battery)
    assert isinstance(world, World) and world.warehouse.packages == (2, 2)
    result = run_world(world, in_process(example.DropsSecondTracking))
    assert result.verdict.broken() == ["unconfirmed"]
    assert len(result.verdict.violations["unconfirmed"]) == 3


def test_a_shipment_houzz_refused_to_confirm_is_unconfirmed_not_in_flight() -> None:
    h = HouzzHarness(program="seller", era="legacy", seed=11)
    (order_id,) = h.place_orders(1)
    h.advance(1)
    h.get_orders("All", -(10**9), h.now, 0, 50)
    h.send_to_warehouse(order_id, "New")  # unpaid: nobody charged it
    assert h.warehouse_ship(order_id)
    (shipped,) = h.warehouse_shipments()
    number = shipped.shipment.packages[0].tracking_number
    refused = h.update_order(order_id, "Ship", tracking_number=number)
    assert refused.reason == "order is New; Ship needs Charged"
    verdict = h.verdict()
    assert verdict.broken() == ["unpaid_shipped", "unconfirmed", "forbidden_write"]
    assert verdict.in_flight == []
    (unconfirmed,) = verdict.violations["unconfirmed"]
    assert f"the warehouse shipped it ({number}) but it is New in Houzz" in unconfirmed.message
