"""The HTML pages read as files: self-contained, and showing what the text reports show.

What a browser does with them (console errors, controls, deep links, screenshots) is
tests/test_browser.py's.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import houzzflow
from houzzflow.simulator.cli import main
from houzzflow.simulator.html.explorer import explorer_data
from houzzflow.simulator.html.lifecycle import lifecycle_svg
from houzzflow.simulator.html.reports import run_html, validate_html
from houzzflow.simulator.html.swimlane import steps_of_story
from houzzflow.simulator.proof.atlas import POLLS, SETTINGS, Atlas, atlas_policy, run_atlas
from houzzflow.simulator.proof.explorer import Bounds
from houzzflow.simulator.proof.matrix import WORLDS
from houzzflow.simulator.runs.invariants import INVARIANTS
from houzzflow.simulator.runs.report import json_report
from houzzflow.simulator.runs.runner import run_scenario
from houzzflow.simulator.runs.scenario import load_scenario
from houzzflow.simulator.validate import proven_paths

ROOT = Path(__file__).resolve().parent.parent
LOSS = ROOT / "scenarios" / "loss-mark-processed-after-staff.yaml"
POLICIES = ROOT / "scenarios" / "policies"


def assert_self_contained(page: str) -> None:
    """Nothing a browser would fetch: no links, sources, imports or remote urls."""
    assert page.startswith("<!DOCTYPE html>")
    for fetch in ("<link", " src=", "@import", "<iframe", "<img"):
        assert fetch not in page, fetch
    assert re.findall(r"url\((?!#)", page) == []
    # The only address is SVG's namespace, which names and fetches nothing.
    addresses = set(re.findall(r"https?://[^\s\"'<>)\\\\]+", page))
    assert addresses <= {"http://www.w3.org/2000/svg"}, addresses


@pytest.fixture(scope="module")
def loss_run() -> houzzflow.RunResult:
    return run_scenario(load_scenario(str(LOSS), []), pictures=True)


def test_pictures_leave_the_run_as_it_was(loss_run: houzzflow.RunResult) -> None:
    plain = run_scenario(load_scenario(str(LOSS), []))
    assert json_report([plain]) == json_report([loss_run])
    assert not plain.series and not plain.healthy


def test_a_run_samples_orders_in_flight_and_the_backlog(loss_run: houzzflow.RunResult) -> None:
    series = loss_run.series
    assert series[0].time == 0 and series[-1].placed == loss_run.placed
    assert [s.time for s in series] == sorted(s.time for s in series)
    assert all(0 <= s.in_flight <= s.placed and s.backlog <= s.placed for s in series)
    assert max(s.in_flight for s in series) > 0
    assert len(loss_run.poll_times) == loss_run.polls
    # The healthy sample: orders CartRover confirmed, none of them a violation.
    wrong = {v.order_id for v in loss_run.violations}
    assert loss_run.healthy and not set(loss_run.healthy) & wrong
    for happenings in loss_run.healthy.values():
        assert happenings[0].action == "Place"
        assert any(h.houzz_status == "Shipped" for h in happenings)


def test_the_run_page_shows_what_the_text_shows(loss_run: houzzflow.RunResult) -> None:
    page = run_html([loss_run])
    assert_self_contained(page)
    assert loss_run.scenario.name in page
    told = [v for key in INVARIANTS for v in loss_run.shown(key)]
    assert told
    # One swimlane for every violation told and every healthy order in the sample.
    assert page.count('class="swimlane"') == len(told) + len(loss_run.healthy)
    for violation in told:
        assert f"order {violation.order_id}" in page
    lost = len(loss_run.verdict.violations["lost"])
    assert f"✘ {lost:,}" in page
    for outcome, n in loss_run.verdict.outcomes.items():
        assert f"{outcome}: {n}" in page.replace("&#x27;", "'")
    assert 'class="chart"' in page and "CartRover&#x27;s backlog" in page
    # The lifecycle carries the first violation's path.
    assert 'class="state on-path"' in page


def test_the_proof_page_tells_the_counterexample() -> None:
    files = [
        str(POLICIES / "loss-mark-processed-after-staff-processed.yaml"),
        str(POLICIES / "vendor.yaml"),
    ]
    proven = proven_paths(files)
    page = validate_html(proven)
    assert_self_contained(page)
    (bad, proof), (good, _) = proven
    assert bad.verdict == "counterexample" and good.verdict == "proven"
    assert page.count('class="swimlane"') == 1
    assert proof is not None and proof.nearest_text
    assert proof.nearest_text in page
    for d in bad.diagnostics:
        if d.fix:
            assert f"fix: {d.fix}" in page
    # Every step of the story is told, the last as the broken invariant.
    story = [line for line in proof.timeline if line.order in (0, proof.timeline[-1].order)]
    assert page.count('<li value="') == len([s for s in story if s.kind != "poll"])
    assert 'class="violation"' in page


def test_a_story_becomes_lanes_with_houzz_statuses() -> None:
    lines = [
        ("place", 1, "the customer placed it (Houzz: New)"),
        ("world", 1, "staff processed it by hand in Houzz (New -> In Production)"),
        ("poll", 0, "CartRover's poll 1"),
        ("poll", 0, "CartRover's poll 2"),
        ("connector", 1, "CartRover loaded it (New); Process accepted (In Production)"),
        ("world", 2, "staff processed it by hand in Houzz (New -> In Production)"),
        ("violation", 1, "it never reached the warehouse"),
    ]
    steps = steps_of_story(lines, ["New", "In Production"])
    assert [s.lane for s in steps] == ["customer", "staff", "CartRover", "CartRover"]
    assert [s.status for s in steps] == ["New", "In Production", "In Production", ""]
    assert steps[2].polls_before == 2  # the ticks before CartRover's step
    assert steps[2].passed == ("New", "In Production")  # a step through two statuses
    assert steps[-1].mark == "violation"


def test_the_lifecycle_draws_the_path_in_red() -> None:
    svg = lifecycle_svg("seller", "legacy", ["New", "In Production", "In Production", "Charged"])
    assert svg.count('class="state on-path"') + svg.count('class="state terminal on-path"') == 3
    assert svg.count('class="edge on-path"') == 2
    plain = lifecycle_svg("seller", "legacy")
    assert "on-path" not in plain.replace('"arrow-path"', "").replace("arrow on-path", "")
    # A Vendor order never starts New: drawn faded, and said.
    assert "never reached here" in lifecycle_svg("vendor", "2021")


def test_run_and_validate_write_html_from_the_command_line() -> None:
    runner = CliRunner()
    out = runner.invoke(main, ["run", str(LOSS), "--format", "html"])
    assert out.exit_code == 0, out.output
    assert_self_contained(out.output)
    out = runner.invoke(main, ["validate", str(POLICIES / "vendor.yaml"), "--format", "html"])
    assert out.exit_code == 0, out.output
    assert_self_contained(out.output)
    assert "proven" in out.output


@pytest.fixture(scope="module")
def vendor_atlas() -> Atlas:
    # Two Vendor worlds, and a Seller one where staff process by hand: there a verdict
    # depends on an open question (whether Houzz refuses a Process on an order past it).
    worlds = [w for w in WORLDS if w[:2] == ("vendor", "legacy")][:2]
    worlds.append(("seller", "legacy", "always", "never", "never"))
    return run_atlas(Bounds(), worlds=worlds, jobs=1)


def test_the_atlas_agrees_with_validate(vendor_atlas: Atlas, tmp_path: Path) -> None:
    """A sample of cells, with and without pinned answers, against ``houzzflow.validate`` on
    the same policy written as a file; every poll interval is in the sample."""
    sample = [{}, {"wrong_connection": "error"}, {"mark_step_done": "no_op"}]
    cells = vendor_atlas.cells
    # Cells whose verdict an answer changes, then a spread of the rest and the slow polls.
    hinge = [k for k, c in enumerate(cells) if len({c.verdict(p) for p in sample}) > 1]
    assert hinge
    slow = [k for k, c in enumerate(cells) if c.setting[5] != POLLS[0]]
    picks = [*hinge[:3], 0, 37, 95, 131, 190, len(cells) - 1, *slow[::97]]
    for k, index in enumerate(picks):
        cell = cells[index]
        for pins in sample:
            policy = atlas_policy(cell.setting, cell.world, pins.items())
            path = tmp_path / f"p{k}-{len(pins)}.yaml"
            path.write_text(yaml.safe_dump(policy.to_file_dict()))
            assert cell.verdict(pins) == houzzflow.validate(str(path)).verdict, (cell, pins)


def test_the_explorer_page_holds_every_cell(vendor_atlas: Atlas) -> None:
    data = explorer_data(vendor_atlas)
    assert [len(column) for column in data["cells"]] == [len(SETTINGS)] * 3
    assert data["worlds"] == ["1.0.0.0.0", "1.0.0.0.1", "0.0.1.0.0"]
    assert len(data["stories"]) == len(
        {p.story for c in vendor_atlas.cells for p in c.parts} - {()}
    )
    assert all('class="swimlane"' in story for story in data["stories"])


def test_the_explorer_page_is_self_contained_and_safe(vendor_atlas: Atlas) -> None:
    from houzzflow.simulator.html.explorer import explorer_html

    page = explorer_html(vendor_atlas)
    assert_self_contained(page)
    # The data block cannot end the script element early.
    block = page.split('id="atlas">', 1)[1].split("</script>", 1)[0]
    assert "</" not in block


def test_the_proof_page_draws_the_counterexample_path_through_every_status() -> None:
    # Loaded New, processed and charged in one step, then cancelled: three edges in red.
    page = validate_html(proven_paths([str(POLICIES / "loss-cancel-download-off.yaml")]))
    lifecycle = page[page.index('class="lifecycle"') :]
    assert lifecycle.count('class="edge on-path"') == 3


def test_an_unusable_file_is_a_failed_section_of_the_page(tmp_path: Path) -> None:
    """Batch-safe, as in every format: the bad file is shown with its located diagnostic,
    the good one still runs, and the exit status is the worst (2)."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("connection_type: [\n", encoding="utf-8")
    good = {"validate": str(POLICIES / "vendor.yaml"), "run": str(LOSS)}
    for command in ("validate", "run"):
        page = tmp_path / f"{command}.html"
        out = CliRunner().invoke(
            main, [command, str(bad), good[command], "--format", "html", "-o", str(page)]
        )
        assert out.exit_code == 2, out.output
        assert "Traceback" not in out.output
        text = page.read_text(encoding="utf-8")
        assert_self_contained(text)
        said = {"run": "This file cannot be used", "validate": "invalid"}[command]
        assert said in text and f"{bad}:2:1" in text
        assert text.count("<section") == 2


def test_html_to_a_file_leaves_the_text_report_on_the_terminal(tmp_path: Path) -> None:
    page = tmp_path / "r.html"
    out = CliRunner().invoke(main, ["run", str(LOSS), "--format", "html", "-o", str(page)])
    assert out.exit_code == 0, out.output
    assert_self_contained(page.read_text(encoding="utf-8"))
    assert "<html" not in out.stdout and "PASS" in out.stdout
