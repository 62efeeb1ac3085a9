"""The scenario runner and its reports, as `houzzflow run` users meet them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from observed import end_state as _end_state

from houzzflow.engine.connector import ConnectorState
from houzzflow.engine.diagnostics import InputError
from houzzflow.engine.ports import Package, Shipment
from houzzflow.simulator.houzz.state import FakeHouzz
from houzzflow.simulator.kernel.clock import Clock
from houzzflow.simulator.runs.invariants import check
from houzzflow.simulator.runs.report import json_report, run_files
from houzzflow.simulator.runs.runner import run_scenario
from houzzflow.simulator.runs.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"

SMALL = """\
name: small
seed: 3
duration: 1d
policy:
  connection_type: seller
  assume: {era: legacy}
world:
  orders: {count: 80, cancel_probability: 0.05}
  backend: {ship_delay: [1h, 6h], packages: [1, 3]}
expect:
  lost: 0
  duplicated: 0
"""

LOSSY = """\
name: lossy
seed: 5
duration: 1d
policy:
  connection_type: seller
  order_status: charged
  mark_processed: false
  mark_charged: false
  assume: {era: legacy}
world:
  orders: {count: 40}
expect:
  lost: 0
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_same_seed_gives_a_byte_identical_json_report(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", SMALL)
    first = json_report([run_scenario(load_scenario(path))])
    second = json_report([run_scenario(load_scenario(path))])
    assert first == second
    assert json.loads(first)["scenarios"][0]["orders"]["placed"] == 80


def test_a_different_seed_gives_a_different_run(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", SMALL)
    one = json_report([run_scenario(load_scenario(path))])
    other = json_report([run_scenario(load_scenario(path, ["seed=4"]))])
    assert one != other


def test_a_crashing_connector_is_deterministic_too() -> None:
    path = SCENARIOS / "crash-restart.yaml"
    overrides = ["world.orders.count=150", "duration=1d"]
    first = run_scenario(load_scenario(path, overrides))
    second = run_scenario(load_scenario(path, overrides))
    assert first.crashes > 5
    assert json_report([first]) == json_report([second])


def test_set_overrides_any_scenario_value(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", SMALL)
    result = run_scenario(load_scenario(path, ["world.orders.count=25"]))
    assert result.placed == 25
    lossy = run_scenario(load_scenario(path, ["policy.order_status=charged"]))
    assert lossy.counts["lost"] > 0
    assert not lossy.ok


def test_set_reaches_into_a_policy_file_the_scenario_names() -> None:
    path = SCENARIOS / "safe-vendor.yaml"
    scenario = load_scenario(path, ["policy.order_status=new", "world.orders.count=30"])
    assert scenario.policy.order_status == "new"
    result = run_scenario(scenario)
    assert result.counts["lost"] == result.placed - result.verdict.outcomes.get(
        "skipped: cancelled in Houzz before CartRover loaded it", 0
    )


def test_each_violation_carries_the_orders_timeline(tmp_path: Path) -> None:
    result = run_scenario(load_scenario(write(tmp_path, "l.yaml", LOSSY)))
    lost = result.verdict.violations["lost"]
    assert len(lost) == 40
    shown = result.shown("lost")
    assert shown and all(v.timeline for v in shown)
    story = shown[0].timeline
    assert story[0].actor == "customer" and story[0].action == "Place"
    assert any(h.actor == "connector" and h.action == "Skip" for h in story)
    assert all(h.order_id == shown[0].order_id for h in story)
    assert "status New is not Charged" in shown[0].message


def test_a_failed_expectation_cites_its_line_in_the_scenario(tmp_path: Path) -> None:
    path = write(tmp_path, "l.yaml", LOSSY)
    text, code = run_files([str(path)], [], "text", False)
    assert code == 1
    assert f"✘ lost = 0: got 40  ({path}:13:3)" in text
    assert "HZ003" in text  # what to change, from the validator
    assert "Skip: status New is not Charged (Order Status)" in text


def test_run_files_exit_codes_and_formats(tmp_path: Path) -> None:
    good = write(tmp_path, "good.yaml", SMALL)
    bad = write(tmp_path, "bad.yaml", LOSSY)
    text, code = run_files([str(good)], [], "text", False)
    assert code == 0 and text.startswith("PASS  small")
    out, code = run_files([str(good), str(bad)], [], "json", False)
    assert code == 1
    data = json.loads(out)
    assert [s["ok"] for s in data["scenarios"]] == [True, False]
    assert data["scenarios"][1]["invariants"]["lost"]["count"] == 40
    xml, code = run_files([str(good), str(bad)], [], "junit", False)
    assert code == 1
    suites = ET.fromstring(xml.split("\n", 1)[1])
    # One testsuite per scenario, with its run's time; one testcase per expectation.
    assert [s.get("name") for s in suites.findall("./testsuite")] == ["small", "lossy"]
    assert all(float(s.get("time") or "-1") >= 0 for s in suites.findall("./testsuite"))
    good_cases, bad_cases = (s.findall("testcase") for s in suites.findall("./testsuite"))
    assert all(c.find("failure") is None for c in good_cases)
    failed = [c for c in bad_cases if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["lost = 0"]
    message = failed[0].find("failure").get("message") or ""  # type: ignore[union-attr]
    assert "lost = 0: got 40" in message


def test_without_expect_every_invariant_must_hold(tmp_path: Path) -> None:
    text = LOSSY.split("expect:")[0]
    result = run_scenario(load_scenario(write(tmp_path, "n.yaml", text)))
    keys = [r.expectation.key for r in result.expectations]
    assert "lost" in keys and "duplicated" in keys
    assert not result.ok


def test_alert_expectations_match_text(tmp_path: Path) -> None:
    text = (
        SMALL.split("expect:")[0]
        + "  staff:\n    process: {mode: always, delay: [1m, 10m]}\n"
        + "expect:\n  alerts: ['held in Error', 'no such alert']\n"
    )
    result = run_scenario(load_scenario(write(tmp_path, "a.yaml", text)))
    check, settled = result.expectations
    assert (settled.expectation.key, settled.expectation.implied) == ("stuck", True)
    assert not check.ok
    assert check.missing == ("no such alert",)


def test_an_unknown_setting_is_reported_with_line_and_column(tmp_path: Path) -> None:
    text = SMALL.replace("  orders: {count: 80", "  order: {count: 80")
    path = write(tmp_path, "typo.yaml", text)
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    (d,) = caught.value.diagnostics
    assert d.code == "SCHEMA001"
    assert (d.location.file, d.location.line, d.location.column) == (str(path), 8, 3)
    assert "did you mean 'orders'" in d.fix


def test_a_bad_inline_policy_value_points_into_the_scenario(tmp_path: Path) -> None:
    path = write(
        tmp_path, "p.yaml", SMALL.replace("connection_type: seller", "connection_type: sellr")
    )
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    (d,) = caught.value.diagnostics
    assert (d.location.line, d.location.column) == (5, 20)
    assert "sellr" in d.message


def test_a_bad_policy_file_points_into_that_file(tmp_path: Path) -> None:
    write(tmp_path, "policy.yaml", "connection_type: seller\norder_status: chargd\n")
    path = write(
        tmp_path,
        "s.yaml",
        SMALL.replace(
            SMALL[SMALL.index("policy:") : SMALL.index("world:")], "policy: policy.yaml\n"
        ),
    )
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    (d,) = caught.value.diagnostics
    assert d.location.file.endswith("policy.yaml") and d.location.line == 2
    assert "did you mean 'charged'" in d.fix


def test_a_bad_file_is_a_failed_item_and_the_others_still_run(tmp_path: Path) -> None:
    good = write(tmp_path, "good.yaml", SMALL)
    broken = write(tmp_path, "broken.yaml", "name: x\nseed: [\n")
    text, code = run_files([str(good), str(broken)], [], "text", False)
    assert code == 2  # the worst of the two
    assert text.startswith("PASS  small")
    assert f"ERROR {broken} - cannot be used" in text
    assert f"{broken}:3:" in text and ": error YAML001 " in text
    text, code = run_files([str(good)], ["world.orders.count=-1"], "json", False)
    assert code == 2 and "--set world.orders.count=-1" in text


def test_progress_reports_simulated_time(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    run_scenario(
        load_scenario(write(tmp_path, "s.yaml", SMALL)), progress=lambda n, e: seen.append((n, e))
    )
    assert seen[-1] == (86400, 86400)
    assert [n for n, _ in seen] == sorted(n for n, _ in seen)


def test_the_json_report_is_the_same_in_another_process(tmp_path: Path) -> None:
    # Another process has another string-hash seed: nothing may depend on set order.
    path = write(tmp_path, "s.yaml", SMALL)
    program = (
        "import sys\n"
        "from houzzflow.simulator.runs.report import run_files\n"
        "sys.stdout.write(run_files([sys.argv[1]], ['world.faults.page_drift_rate=0.3', "
        "'connector.page_size=7', 'world.faults.crash_every_polls=4'], 'json', False)[0])\n"
    )
    root = Path(__file__).resolve().parent.parent
    outputs = {
        subprocess.run(
            [sys.executable, "-c", program, str(path)],
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(root)},
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1
    assert json.loads(outputs.pop())["scenarios"][0]["crashes"] > 0


def test_a_scenario_can_be_given_as_a_mapping_with_mapping_overrides() -> None:
    data = {
        "name": "inline",
        "seed": 1,
        "duration": "1d",
        "policy": {"connection_type": "vendor"},
        "world": {"orders": {"count": 10}},
    }
    scenario = load_scenario(data, {"world.orders.count": 12, "policy.cancel_download": False})
    assert scenario.spec.world.orders.count == 12
    assert scenario.policy.cancel_download is False
    assert run_scenario(scenario).placed == 12


def test_run_files_with_a_progress_bar_reports_the_same(tmp_path: Path) -> None:
    path = str(write(tmp_path, "s.yaml", SMALL))
    assert run_files([path], [], "json", True) == run_files([path], [], "json", False)


# -- the invariants on hand-made end states ---------------------------------------------------


def test_a_cancelled_order_shipped_after_cartrover_polled_is_a_violation() -> None:
    clock = Clock()
    houzz = FakeHouzz(program="seller", era="legacy", clock=clock)
    order = houzz.place_order()
    clock.now = 100
    houzz.act(order, "Cancel", "customer")
    parcel = {order: Shipment(order, (Package("1Z1", "UPS"),))}
    state = ConnectorState(ledger={order: "AtWMS"})
    late = _end_state(
        houzz=houzz,
        received={order: 1},
        shipped=parcel,
        state=state,
        cancelled_at_ship={order: 1000},
    )
    (violation,) = check(late).violations["cancelled_shipped"]
    assert "CartRover polled at day 1 00:15:00" in violation.message
    early = _end_state(
        houzz=houzz,
        received={order: 1},
        shipped=parcel,
        state=state,
        cancelled_at_ship={order: 800},
    )
    assert not check(early).violations["cancelled_shipped"]


def test_orders_still_moving_when_judged_are_stuck_not_lost() -> None:
    clock = Clock()
    houzz = FakeHouzz(program="seller", era="legacy", clock=clock)
    seen = houzz.place_order()
    clock.now = 2000
    houzz.place_order()  # after CartRover's last poll: not seen yet, and that is fine
    state = ConnectorState(skipped={seen: "status New is not Charged (Order Status)"})
    verdict = check(_end_state(houzz=houzz, state=state))
    assert [v.order_id for v in verdict.violations["lost"]] == [seen]
    assert "status New is not Charged" in verdict.violations["lost"][0].message
    assert not verdict.violations["unaccounted"]
    assert verdict.stuck == 1  # judged now: still in flight is stuck
    assert verdict.outcomes["placed, not yet seen by CartRover"] == 1


def test_orders_before_earliest_order_date_are_skipped_by_design_not_lost() -> None:
    clock = Clock()
    houzz = FakeHouzz(program="vendor", era="2021", clock=clock)
    houzz.place_order(created=-3600)
    verdict = check(_end_state(houzz=houzz, earliest=0))
    assert verdict.skipped_by_design == 1
    assert not verdict.violations["lost"] and not verdict.violations["unaccounted"]


def test_an_order_never_listed_is_unaccounted_and_lost() -> None:
    clock = Clock()
    houzz = FakeHouzz(program="vendor", era="2021", clock=clock)
    order = houzz.place_order()
    verdict = check(_end_state(houzz=houzz, connected=False))
    assert [v.order_id for v in verdict.violations["unaccounted"]] == [order]
    assert "no orders at all" in verdict.violations["lost"][0].message


def test_received_twice_and_unpaid_are_violations() -> None:
    clock = Clock()
    houzz = FakeHouzz(program="seller", era="legacy", clock=clock)
    order = houzz.place_order()
    state = ConnectorState(ledger={order: "AtWMS"})
    verdict = check(
        _end_state(
            houzz=houzz, state=state, received={order: 2}, unpaid_at_send={order: (0, "New")}
        )
    )
    assert "received it 2 times" in verdict.violations["duplicated"][0].message
    assert "while it was New in Houzz" in verdict.violations["unpaid_shipped"][0].message


def test_a_token_given_with_set_never_appears_in_a_report(tmp_path: Path) -> None:
    path = str(write(tmp_path, "s.yaml", SMALL))
    secret = ["policy.credentials.token=s3cr3t-t0ken", "policy.credentials.username=shop@x"]
    for fmt in ("text", "json", "junit"):
        out, code = run_files([path], secret, fmt, False)
        assert code == 0
        assert "s3cr3t-t0ken" not in out and "shop@x" not in out
        assert "policy.credentials.token=***" in out


def test_a_run_takes_a_new_clock_and_labels_the_world_on_it() -> None:
    """The public hook the benchmarks use: a Clock subclass sees what each event is."""
    from houzzflow.simulator.runs.runner import CONNECTOR_TICK
    from houzzflow.simulator.world.backend import SHIPMENT
    from houzzflow.simulator.world.customers import ARRIVAL

    seen: dict[str, int] = {}

    class Watching(Clock):
        def at(
            self, when: int, callback: Any, priority: int = 0, label: str = "", order_id: str = ""
        ) -> None:
            seen[label] = seen.get(label, 0) + 1
            super().at(when, callback, priority, label, order_id)

    here = Path(__file__).resolve().parent.parent / "scenarios" / "seller-default.yaml"
    scenario = load_scenario(here, ["world.orders.count=30"])
    result = run_scenario(scenario, clock=Watching())
    assert result.placed == 30
    assert seen[ARRIVAL] >= 1 and seen[SHIPMENT] == len(result.warehouse.received)  # type: ignore[union-attr]
    assert seen[CONNECTOR_TICK] >= result.polls  # the last one is due after the end
    used = Clock()
    used.at(5, lambda: None)
    with pytest.raises(ValueError, match="new clock"):
        run_scenario(scenario, clock=used)
