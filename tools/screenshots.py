"""Regenerate the README's screenshots of a run report and of the settings explorer.

    python tools/screenshots.py [--out docs/screenshots]

Needs the ``browser`` extra and a system Chromium (see ``houzzflow.simulator.html.browser``).
The run report is ``houzzflow run scenarios/loss-mark-processed-after-staff.yaml --format
html``; the explorer is ``houzzflow matrix --format html`` (every world: a minute or two),
opened on a deep link to the setup of scenarios/policies/loss-mark-processed-after-staff-
processed.yaml, so the picture shows a counterexample and its fix.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "loss-mark-processed-after-staff.yaml"
SETUP = (
    "connection_type=seller&order_status=new_or_in_production&mark_processed=true"
    "&mark_charged=true&cancel_download=true&poll_interval=15m&account=seller&era=legacy"
    "&staff_process=always&staff_charge=never&staff_cancel=never"
)
WIDTH = 1280


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from houzzflow.simulator.html.browser import find_chromium, launch
    from houzzflow.simulator.html.explorer import explorer_html
    from houzzflow.simulator.html.reports import run_html
    from houzzflow.simulator.proof.atlas import run_atlas
    from houzzflow.simulator.runs.runner import run_scenario
    from houzzflow.simulator.runs.scenario import load_scenario

    executable, missing = find_chromium()
    if missing:
        print(f"error: {missing}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    os.chdir(ROOT)  # the pages name files as a user in a checkout would: relative
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "run.html"
        scenario = load_scenario(str(SCENARIO.relative_to(ROOT)), [])
        report.write_text(run_html([run_scenario(scenario, pictures=True)]))
        explorer = Path(scratch) / "explorer.html"
        explorer.write_text(explorer_html(run_atlas()))
        with sync_playwright() as playwright:
            browser = launch(playwright, executable)
            page = browser.new_page(viewport={"width": WIDTH, "height": 1500})
            page.goto(report.as_uri())
            page.screenshot(path=str(args.out / "run-report.png"))
            page.set_viewport_size({"width": WIDTH, "height": 1380})
            page.goto(f"{explorer.as_uri()}#{SETUP}")
            page.screenshot(path=str(args.out / "explorer.png"))
            browser.close()
    print(f"wrote {args.out / 'run-report.png'} and {args.out / 'explorer.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
