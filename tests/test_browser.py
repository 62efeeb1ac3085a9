"""The HTML pages in a real browser: headless Chromium driven by Playwright.

The run report and the settings explorer load without console errors; toggling the
explorer's controls shows the verdict ``houzzflow validate`` gives the same policy (every
bundled policy, and a sample of cells); a deep link restores the state; the fix button lands
on a proven cell; a screenshot of each page is saved (under ``$HOUZZFLOW_ARTIFACTS``, or the
test's temporary directory).

Needs the ``browser`` extra (``pip install -e '.[browser]'``) and a system Chromium
(``apt-get install chromium``; Playwright's own browser download is not used). Without them
these tests are skipped, with that message, except under CI (``CI`` set): there a skip
would hide a page nobody checked, so it fails.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import yaml
from click.testing import CliRunner

import houzzflow
from houzzflow.engine.policy import Policy, format_duration
from houzzflow.simulator.cli import main
from houzzflow.simulator.html.browser import HOW, find_chromium, launch
from houzzflow.simulator.html.explorer import explorer_html
from houzzflow.simulator.proof.atlas import (
    POLLS,
    SETTING_CONTROLS,
    SETTINGS,
    WORLD_CONTROLS,
    Atlas,
    atlas_policy,
    run_atlas,
)
from houzzflow.simulator.proof.explorer import Bounds
from houzzflow.simulator.proof.matrix import WORLDS
from houzzflow.simulator.validate import load_policy

ROOT = Path(__file__).resolve().parent.parent
POLICIES = sorted((ROOT / "scenarios" / "policies").glob("*.yaml"))
LOSS = ROOT / "scenarios" / "loss-mark-processed-after-staff.yaml"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable, missing = find_chromium()
    if missing:
        message = f"{missing}; {HOW}"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests: {message}")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright, executable)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = os.environ.get("HOUZZFLOW_ARTIFACTS")
    path = Path(where) if where else tmp_path_factory.mktemp("artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


class Page:
    """A browser tab on a file, collecting every console error and uncaught exception."""

    def __init__(self, browser: Any, url: str) -> None:
        self.errors: list[str] = []
        self.tab = browser.new_page(viewport={"width": 1280, "height": 900})
        self.tab.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else 0)
        self.tab.on("pageerror", lambda e: self.errors.append(str(e)))
        self.tab.goto(url)

    def verdict(self) -> str:
        return str(self.tab.locator("#verdict").inner_text())

    def hash(self) -> dict[str, str]:
        raw = unquote(self.tab.evaluate("location.hash"))[1:]
        return dict(part.split("=", 1) for part in raw.split("&") if "=" in part)


# -- the run report ---------------------------------------------------------------------------


def test_the_run_report_in_a_browser(browser: Any, artifacts: Path, tmp_path: Path) -> None:
    out = CliRunner().invoke(main, ["run", str(LOSS), "--format", "html"])
    assert out.exit_code == 0, out.output
    page_file = tmp_path / "run.html"
    page_file.write_text(out.output, encoding="utf-8")
    page = Page(browser, page_file.as_uri())
    tab = page.tab
    text = tab.locator("body").inner_text()
    assert "PASS" in text and "loss-mark-processed-after-staff" in text
    assert "nothing lost" in text and "Orders by outcome" in text
    # Every picture is drawn: swimlanes with their lanes, the charts, the lifecycle.
    lanes = tab.locator("svg.swimlane").first.inner_html()
    for lane in ("customer", "staff", "Houzz", "CartRover", "warehouse"):
        assert f">{lane}<" in lanes
    assert tab.locator("svg.swimlane").count() >= 2
    assert tab.locator("svg.chart polyline").count() == 2
    assert tab.locator("svg.lifecycle rect.on-path").count() >= 2
    box = tab.locator("svg.chart").bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    tab.screenshot(path=str(artifacts / "run-report.png"), full_page=True)
    tab.emulate_media(color_scheme="dark")
    tab.screenshot(path=str(artifacts / "run-report-dark.png"))
    # Printed on a narrow page, every picture shrinks to fit rather than being cut off.
    tab.emulate_media(media="print", color_scheme="light")
    tab.set_viewport_size({"width": 600, "height": 900})
    widths = tab.eval_on_selector_all(
        ".figure svg", "nodes => nodes.map(n => n.getBoundingClientRect().right)"
    )
    assert widths and max(widths) <= 600
    assert page.errors == []


# -- the settings explorer --------------------------------------------------------------------


def _world_of(policy: Policy) -> tuple[str, str, str, str, str]:
    return (
        policy.account,
        policy.era,
        policy.staff_process,
        policy.staff_charge,
        policy.staff_cancel,
    )


@pytest.fixture(scope="module")
def atlas() -> Atlas:
    """The atlas for every bundled policy's world."""
    wanted = {_world_of(load_policy(p)) for p in POLICIES}
    return run_atlas(Bounds(), worlds=[w for w in WORLDS if w in wanted])


@pytest.fixture(scope="module")
def explorer_url(atlas: Atlas, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("explorer") / "explorer.html"
    path.write_text(explorer_html(atlas), encoding="utf-8")
    return path.as_uri()


def _controls(policy: Policy) -> dict[str, str]:
    """The explorer's control values (as a deep link spells them) for a policy."""
    values: dict[str, Any] = {
        "connection_type": policy.connection_type,
        "order_status": policy.order_status,
        "mark_processed": policy.mark_processed,
        "mark_charged": policy.mark_charged,
        "cancel_download": policy.cancel_download,
        "poll_interval": format_duration(policy.poll_interval),
        "account": policy.account,
        "era": policy.era,
        "staff_process": policy.staff_process,
        "staff_charge": policy.staff_charge,
        "staff_cancel": policy.staff_cancel,
    }
    spelt = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in values.items()}
    spelt.update({f"assume.{q}": a for q, a in policy.pins})
    return spelt


def _set(page: Page, controls: dict[str, str]) -> None:
    """Toggle the page's controls one by one, as a person would."""
    for key, value in controls.items():
        page.tab.select_option(f"#c-{key.removeprefix('assume.')}", value)


def _cell_of(controls: dict[str, str]) -> tuple[tuple[Any, ...], tuple[Any, ...], dict[str, str]]:
    def value(key: str, values: tuple[Any, ...]) -> Any:
        for v in values:
            if (str(v).lower() if isinstance(v, bool) else str(v)) == controls[key]:
                return v
        raise AssertionError(f"{key}={controls[key]} is not a value of the explorer")

    setting = tuple(value(k, vs) for k, _, vs in SETTING_CONTROLS)
    world = tuple(value(k, vs) for k, _, vs in WORLD_CONTROLS)
    pins = {k.removeprefix("assume."): v for k, v in controls.items() if k.startswith("assume.")}
    return setting, world, pins


def test_every_bundled_policy_shows_what_validate_says(browser: Any, explorer_url: str) -> None:
    page = Page(browser, explorer_url)
    seen = set()
    for path in POLICIES:
        policy = load_policy(path)
        controls = _controls(policy)
        assert controls["poll_interval"] in POLLS, path.name
        # Start every policy from the pins of the one before cleared.
        for select in page.tab.locator("select[data-group=assume]").all():
            select.select_option("")
        _set(page, controls)
        expected = houzzflow.validate(str(path)).verdict
        assert page.verdict() == expected, path.name
        seen.add(expected)
    assert seen == {"proven", "counterexample"}
    assert page.errors == []


def test_sampled_cells_show_what_validate_says(
    browser: Any, explorer_url: str, atlas: Atlas, tmp_path: Path
) -> None:
    page = Page(browser, explorer_url)
    rng = random.Random(14)
    pins_sample = [{}, {"mark_step_done": "no_op"}, {"wrong_connection": "error"}]
    # Cells where an answer to an open question decides the verdict, both ways, then others.
    hinge = [
        (c, pins)
        for c in atlas.cells
        if len({c.verdict(p) for p in pins_sample}) > 1
        for pins in pins_sample
    ][:6]
    assert hinge
    picks = [*hinge, *((rng.choice(atlas.cells), pins_sample[k % 3]) for k in range(6))]
    for k, (cell, pins) in enumerate(picks):
        policy = atlas_policy(cell.setting, cell.world, pins.items())
        for select in page.tab.locator("select[data-group=assume]").all():
            select.select_option("")
        _set(page, _controls(policy))
        file = tmp_path / f"cell{k}.yaml"
        file.write_text(yaml.safe_dump(policy.to_file_dict()), encoding="utf-8")
        assert page.verdict() == houzzflow.validate(str(file)).verdict, (cell.setting, pins)
    assert page.errors == []


def test_a_deep_link_restores_the_state(browser: Any, explorer_url: str, atlas: Atlas) -> None:
    policy = load_policy(POLICIES[0])
    controls = _controls(policy) | {"assume.mark_step_done": "no_op"}
    link = explorer_url + "#" + "&".join(f"{k}={v}" for k, v in controls.items())
    page = Page(browser, link)
    for key, value in controls.items():
        assert page.tab.locator(f"#c-{key.removeprefix('assume.')}").input_value() == value
    setting, world, pins = _cell_of(controls)
    assert page.verdict() == atlas.cell(setting, world).verdict(pins)  # type: ignore[arg-type]
    # Changing a control rewrites the link; opening that link shows the same page.
    page.tab.select_option("#c-order_status", "charged")
    after = page.hash()
    assert after["order_status"] == "charged" and after["assume.mark_step_done"] == "no_op"
    again = Page(browser, page.tab.url)
    assert again.hash() == after
    assert again.verdict() == page.verdict()
    assert again.tab.locator("#c-order_status").input_value() == "charged"
    assert page.errors == [] and again.errors == []


def test_the_fix_button_lands_on_a_proven_cell(
    browser: Any, explorer_url: str, atlas: Atlas, artifacts: Path, tmp_path: Path
) -> None:
    loss = ROOT / "scenarios" / "policies" / "loss-mark-processed-after-staff-processed.yaml"
    page = Page(browser, explorer_url)
    _set(page, _controls(load_policy(loss)))
    assert page.verdict() == "counterexample"
    page.tab.screenshot(path=str(artifacts / "explorer.png"), full_page=True)
    page.tab.click("#apply-fix")
    assert page.verdict() == "proven"
    setting, world, pins = _cell_of(page.hash())
    assert atlas.cell(setting, world).verdict(pins) == "proven"  # type: ignore[arg-type]
    # And houzzflow validate proves the settings the button applied.
    fixed = tmp_path / "fixed.yaml"
    fixed.write_text(
        yaml.safe_dump(atlas_policy(setting, world, pins.items()).to_file_dict()),  # type: ignore[arg-type]
        encoding="utf-8",
    )
    assert houzzflow.validate(str(fixed)).verdict == "proven"
    assert page.errors == []


def test_the_grid_colours_every_cell_and_opens_one(browser: Any, explorer_url: str) -> None:
    page = Page(browser, explorer_url)
    size = page.tab.evaluate("[grid.width, grid.height]")
    assert size == [len(WORLDS) * 8, len(SETTINGS) * 4]
    before = page.hash()
    # Click the grid's last row in the first world column this page holds.
    column = page.tab.evaluate("JSON.parse(atlas.textContent).worlds[0].split('.').map(Number)")
    x = sum(index * _stride(k) for k, index in enumerate(column)) * 8 + 4
    page.tab.locator("#grid").click(position={"x": x, "y": len(SETTINGS) * 4 - 2})
    after = page.hash()
    assert after != before
    assert after["poll_interval"] == POLLS[-1] and after["connection_type"] == "vendor"
    assert page.verdict() in ("proven", "counterexample", "inconclusive")
    assert page.errors == []


def _stride(k: int) -> int:
    stride = 1
    for _, _, values in WORLD_CONTROLS[k + 1 :]:
        stride *= len(values)
    return stride


def test_a_missing_browser_is_said_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOUZZFLOW_CHROMIUM", "/nonexistent/chromium")
    executable, missing = find_chromium()
    assert executable == ""
    assert missing in ("no Chromium at /nonexistent/chromium", "Playwright is not installed")
