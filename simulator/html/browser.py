"""A headless system Chromium for the pages' browser tests and the README's screenshots.

Playwright (the ``browser`` extra) drives the Chromium the system's packages installed
(``apt-get install chromium``), never a browser of its own download; ``HOUZZFLOW_CHROMIUM``
names another binary. Nothing here is imported by houzzflow's commands.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

# Headless, and quiet on the network: the pages need none, and the browser should not call
# home either (no updates, sync or background requests).
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
HOW = (
    "browser tests need Playwright and a system Chromium: pip install -e '.[browser]' and "
    "apt-get install chromium (or set HOUZZFLOW_CHROMIUM to a Chromium binary)"
)


def find_chromium() -> tuple[str, str]:
    """The Chromium binary to drive, or "" and why there is none (Playwright is missing,
    or no Chromium)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "", "Playwright is not installed"
    named = os.environ.get("HOUZZFLOW_CHROMIUM")
    found = named or next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), "")
    if not found or not Path(found).exists():
        return "", f"no Chromium at {named}" if named else "no Chromium found"
    return found, ""


def launch(playwright: Any, executable: str) -> Any:
    """A headless Chromium browser (``playwright.chromium.launch``) on ``executable``."""
    return playwright.chromium.launch(executable_path=executable, args=list(CHROMIUM_ARGS))
