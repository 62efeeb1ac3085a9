"""The pytest plugin: fixtures, scenario files collected as tests, and how failures read."""

from __future__ import annotations

import textwrap

import pytest
import yaml

from houzzflow.engine.ports import ReplyLost
from houzzflow.simulator.harness import FaultRule, HouzzHarness, InjectedFault
from houzzflow.simulator.world.customers import OrderStream
from houzzflow.simulator.world.staff import Habit, Staff

pytest_plugins = ["pytester", "houzzflow.simulator.pytest_plugin"]

# In-process runs import the plugin that this process already imported: nothing to rewrite.
PLUGIN = (
    "-p",
    "houzzflow.simulator.pytest_plugin",
    "-W",
    "ignore::pytest.PytestAssertRewriteWarning",
)

LOSSY = """\
name: lossy
seed: 3
duration: 1d
policy:
  connection_type: seller
  order_status: new
  poll_interval: 4h
  assume:
    era: legacy
world:
  orders:
    count: 6
  staff:
    process: {mode: always, delay: [0, 60]}
expect:
  duplicated: 0
  lost: 0
  unpaid_shipped: 0
"""

FINE = """\
name: fine
seed: 3
duration: 1d
policy:
  connection_type: seller
  assume:
    era: legacy
world:
  orders:
    count: 20
expect:
  lost: 0
  duplicated: 0
"""


def test_each_test_gets_a_fresh_fake_configured_by_the_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        def test_places_orders(fake_houzz, houzz_clock):
            assert houzz_clock is fake_houzz.clock
            fake_houzz.place_orders(3)
            houzz_clock.run(until=1800)
            assert [o.status for o in fake_houzz.orders()] == ["Charged"] * 3

        def test_sees_none_of_them(fake_houzz):
            assert fake_houzz.orders() == [] and fake_houzz.now == 0
            assert (fake_houzz.program, fake_houzz.era) == ("seller", "2021")

        @pytest.mark.houzz(program="vendor", era="legacy", seed=9)
        def test_marker_configures_it(fake_houzz):
            order_id = fake_houzz.place_order()
            assert fake_houzz.program == "vendor" and fake_houzz.status(order_id) == "Charged"

        pytestmark = pytest.mark.houzz(seed=4)

        @pytest.mark.houzz(era="legacy")
        def test_markers_merge_nearest_last(fake_houzz):
            assert (fake_houzz.era, fake_houzz.config.seed) == ("legacy", 4)
        """
    )
    result = pytester.runpytest(*PLUGIN, "-W", "error::pytest.PytestUnknownMarkWarning")
    result.assert_outcomes(passed=4)


def test_an_unknown_marker_option_is_a_clear_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.houzz(programme="vendor")
        def test_it(fake_houzz):
            pass
        """
    )
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*@pytest.mark.houzz: unknown option 'programme'; use*"])


def test_houzz_server_serves_per_test_on_loopback_and_stops_after(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import json
        import urllib.error
        import urllib.request

        import pytest

        seen = []

        @pytest.mark.houzz(token="t-1", era="legacy")
        def test_served(houzz_server):
            assert houzz_server.url.startswith("http://127.0.0.1:")
            assert houzz_server.headers["X-HOUZZ-API-SSL-TOKEN"] == "t-1"
            houzz_server.place_orders(2)
            url = houzz_server.api_url + "?format=json&method=getOrders&Status=New"
            request = urllib.request.Request(url, headers=houzz_server.headers)
            with urllib.request.urlopen(request, timeout=10) as answer:
                assert json.load(answer)["TotalCount"] == 2
            assert [e["method"] for e in houzz_server.journal()] == ["getOrders"]
            seen.append(houzz_server.url)

        def test_stopped_after_the_test(houzz_server):
            assert houzz_server.url != seen[0]
            with pytest.raises(urllib.error.URLError):
                urllib.request.urlopen(seen[0] + "/_houzzflow/health", timeout=5)
        """
    )
    pytester.runpytest(*PLUGIN).assert_outcomes(passed=2)


def test_scenario_runner_runs_a_scenario_mapping_with_overrides(pytester: pytest.Pytester) -> None:
    scenario = yaml.safe_load(LOSSY)
    pytester.makepyfile(
        f"""
        def test_run(scenario_runner):
            scenario = {scenario!r}
            result = scenario_runner(scenario)
            assert not result.ok and result.counts["lost"] == 6
            # Staff process by hand: wait for In Production and leave Process to them.
            fixed = scenario_runner(
                scenario,
                {{"policy.order_status": "in_production", "policy.mark_processed": False}},
            )
            assert fixed.ok and fixed.counts["lost"] == 0
        """
    )
    pytester.runpytest(*PLUGIN).assert_outcomes(passed=1)


def test_only_houzzflow_scenario_files_are_collected_and_named_by_their_name(
    pytester: pytest.Pytester,
) -> None:
    # Another project's scenario_checkout.yaml is not houzzflow's: it is left alone.
    (pytester.path / "scenario_checkout.yaml").write_text("steps: [pay]\n", encoding="utf-8")
    for name in ("shop.houzzflow.yaml", "other.yaml"):
        (pytester.path / name).write_text(FINE, encoding="utf-8")
    result = pytester.runpytest(*PLUGIN, "--collect-only", "-q")
    result.stdout.fnmatch_lines(["shop.houzzflow.yaml::fine"])
    result.stdout.no_fnmatch_line("other.yaml*")
    result.stdout.no_fnmatch_line("scenario_checkout*")


def test_a_scenario_runs_once_per_seed_and_takes_its_marks(pytester: pytest.Pytester) -> None:
    seeded = FINE + "pytest:\n  seeds: [1, 2, 3]\n"
    skipped = FINE.replace("name: fine", "name: later") + "pytest:\n  marks: [{skip: not yet}]\n"
    failing = LOSSY + "pytest:\n  marks: [xfail]\n"
    (pytester.path / "seeded.houzzflow.yaml").write_text(seeded, encoding="utf-8")
    (pytester.path / "later.houzzflow.yaml").write_text(skipped, encoding="utf-8")
    (pytester.path / "lossy.houzzflow.yaml").write_text(failing, encoding="utf-8")
    result = pytester.runpytest(*PLUGIN, "-v", "-rs")
    result.assert_outcomes(passed=3, skipped=1, xfailed=1)
    result.stdout.fnmatch_lines_random(
        [
            "seeded.houzzflow.yaml::fine[[]seed=1[]] PASSED*",
            "seeded.houzzflow.yaml::fine[[]seed=3[]] PASSED*",
            "lossy.houzzflow.yaml::lossy XFAIL*",
            "SKIPPED * not yet",
        ]
    )


def test_a_bad_pytest_section_is_reported_when_the_item_runs(pytester: pytest.Pytester) -> None:
    bad = FINE + "pytest:\n  marks: [flaky]\n"
    (pytester.path / "bad.houzzflow.yaml").write_text(bad, encoding="utf-8")
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*bad.houzzflow.yaml:15:11: error SCHEMA003 pytest.marks.0: *"])
    assert "Traceback" not in result.stdout.str()


def test_the_ini_option_collects_scenario_files_by_glob(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nhouzzflow_scenarios =\n    worlds/*.yaml\n")
    worlds = pytester.mkdir("worlds")
    (worlds / "busy-day.yaml").write_text(FINE, encoding="utf-8")
    (pytester.path / "notes.yaml").write_text(FINE, encoding="utf-8")
    result = pytester.runpytest(*PLUGIN, "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["worlds/busy-day.yaml::fine PASSED*"])


def test_a_failing_scenario_reports_the_yaml_line_and_violations_not_a_stack(
    pytester: pytest.Pytester,
) -> None:
    (pytester.path / "lossy.houzzflow.yaml").write_text(LOSSY, encoding="utf-8")
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "lossy.houzzflow.yaml:17: expectation failed: lost = 0: got 6",
            "  16 |   duplicated: 0",
            "> 17 |   lost: 0",
            "  18 |   unpaid_shipped: 0",
            "violations:",
            "  nothing lost: order * never reached the warehouse: CartRover skipped it*",
            "      day 1 *  customer   Place  [[]Houzz: New[]]",
            "      day 1 *  staff      Process  [[]Houzz: In Production[]]",
        ]
    )
    text = result.stdout.str()
    assert "Traceback" not in text and "pytest_plugin.py" not in text
    assert "expectation failed: duplicated" not in text


def test_an_unusable_scenario_reports_file_line_and_column(pytester: pytest.Pytester) -> None:
    bad = FINE.replace("count: 20", "count: lots")
    (pytester.path / "bad.houzzflow.yaml").write_text(bad, encoding="utf-8")
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*bad.houzzflow.yaml:10:12: error SCHEMA003 world.orders.count*"])
    assert "Traceback" not in result.stdout.str()


def test_the_plugin_is_registered_once_under_either_name() -> None:
    import houzzflow.simulator.pytest_plugin as plugin

    # Installed, pytest loads it as the entry point "houzzflow"; a source checkout names the
    # module. Asking for it both ways must not register it twice (pluggy would refuse).
    manager = pytest.PytestPluginManager()
    manager.register(plugin, plugin.ENTRY_POINT)
    manager.import_plugin("houzzflow.simulator.pytest_plugin")
    assert manager.get_plugin(plugin.ENTRY_POINT) is plugin
    assert manager.get_plugin("houzzflow.simulator.pytest_plugin") is None

    other_way = pytest.PytestPluginManager()
    other_way.import_plugin("houzzflow.simulator.pytest_plugin")
    assert other_way.is_blocked(plugin.ENTRY_POINT)


def test_pytest_plugins_in_a_test_module_works_alongside_dash_p(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        textwrap.dedent(
            """
            pytest_plugins = ["houzzflow.simulator.pytest_plugin"]

            def test_it(fake_houzz):
                assert fake_houzz.place_orders(1)
            """
        )
    )
    pytester.runpytest(*PLUGIN).assert_outcomes(passed=1)
    pytester.runpytest().assert_outcomes(passed=1)


# --- the Python API behind the fixtures ----------------------------------------------------


@pytest.mark.houzz(era="legacy", seed=5)
def test_fault_rules_apply_to_in_process_calls_too(fake_houzz: HouzzHarness) -> None:
    first, second = fake_houzz.place_orders(2)
    fake_houzz.add_fault("ack_error", operation="updateOrder", call=2)
    fake_houzz.add_fault("timeout_after_write", operation="updateOrder", call=3)
    assert fake_houzz.update_order(first, "Process").ok
    with pytest.raises(InjectedFault) as failed:
        fake_houzz.update_order(second, "Process")
    assert failed.value.rule.kind == "ack_error" and fake_houzz.status(second) == "New"
    with pytest.raises(ReplyLost):
        fake_houzz.update_order(second, "Process")
    assert fake_houzz.status(second) == "InProduction"  # the write took effect
    faults = [(h.action, h.order_id) for h in fake_houzz.happenings() if h.actor == "fault"]
    assert faults == [("ApiError", second), ("ReplyLost", second)]
    assert fake_houzz.faults_injected == {"error": 1, "reply_lost": 1}


def test_a_rate_limit_rule_says_when_to_retry(fake_houzz: HouzzHarness) -> None:
    fake_houzz.add_faults([FaultRule("rate_limit", "getOrders", retry_after=45, times=1)])
    with pytest.raises(InjectedFault) as limited:
        fake_houzz.get_orders("All", 0, 0, 0, 10)
    assert limited.value.retry_after == 45
    assert fake_houzz.get_orders("All", 0, 0, 0, 10).total == 0
    fake_houzz.clear_faults()
    assert fake_houzz.fault_rules == ()


@pytest.mark.houzz(era="legacy", seed=8)
def test_an_attached_stream_and_staff_act_as_the_clock_advances(fake_houzz: HouzzHarness) -> None:
    fake_houzz.attach_stream(OrderStream(count=5, place_within=1.0), duration=3600)
    working = fake_houzz.attach_staff(Staff(process=Habit("always", delay=(60, 60))))
    assert fake_houzz.orders() == []
    fake_houzz.advance(3600 + 60)
    orders = fake_houzz.orders()
    assert len(orders) == 5 and {o.status for o in orders} == {"InProduction"}
    assert working.done == {"Process": 5}
    assert all(fake_houzz.history(o.order_id)[1].actor == "staff" for o in orders)


def test_orders_filter_by_any_spelling_and_active_leaves_out_finished_ones(
    fake_houzz: HouzzHarness,
) -> None:
    kept, cancelled = fake_houzz.place_orders(2)
    assert fake_houzz.customer_cancel(cancelled).ok
    assert [o.order_id for o in fake_houzz.orders("Active")] == [kept]
    assert [o.order_id for o in fake_houzz.orders("canceled")] == [cancelled]
    with pytest.raises(ValueError, match="unknown Status"):
        fake_houzz.orders("Gone")


def test_update_inventory_keeps_stock_by_sku(fake_houzz: HouzzHarness) -> None:
    assert fake_houzz.update_inventory("LAMP-1", 3).ok
    assert not fake_houzz.update_inventory("", 3).ok
    assert fake_houzz.inventory == {"LAMP-1": 3}
    fake_houzz.reset()
    assert fake_houzz.inventory == {}


def test_houzz_verdict_fails_a_test_with_the_connectors_verdict(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        textwrap.dedent(
            """
            import pytest
            from houzzflow.simulator.pytest_plugin import houzz_verdict

            @pytest.mark.houzz(program="vendor", era="2021")
            def test_sent_twice(fake_houzz):
                (order_id,) = fake_houzz.place_orders(1)
                fake_houzz.send_to_warehouse(order_id)
                fake_houzz.send_to_warehouse(order_id)
                houzz_verdict(fake_houzz)

            @pytest.mark.houzz(program="vendor", era="2021")
            def test_sent_once(houzz_server):
                (order_id,) = houzz_server.place_orders(1)
                with houzz_server.locked() as harness:
                    harness.send_to_warehouse(order_id)
                assert houzz_verdict(houzz_server).in_flight
            """
        )
    )
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*FAIL  connector verdict at 2026-01-01 00:00:00*",
            "*✘ exactly once: 1 order",
            "*the warehouse received it 2 times",
        ]
    )


def test_each_seed_runs_the_scenario_with_that_seed(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    import houzzflow.simulator.pytest_plugin as plugin

    ran: list[object] = []
    real = plugin.run_scenario_source

    def recording(source: object, overrides: object = ()) -> object:
        ran.append(overrides)
        return real(source, overrides)  # type: ignore[arg-type]

    monkeypatch.setattr(plugin, "run_scenario_source", recording)
    seeded = FINE + "pytest:\n  seeds: [5, 8]\n"
    (pytester.path / "seeded.houzzflow.yaml").write_text(seeded, encoding="utf-8")
    (pytester.path / "plain.houzzflow.yaml").write_text(FINE, encoding="utf-8")
    pytester.inline_run(*PLUGIN).assertoutcome(passed=3)
    assert sorted(ran, key=str) == sorted([{}, {"seed": 5}, {"seed": 8}], key=str)
