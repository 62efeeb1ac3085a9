"""When, where and on what a bench ran: the facts a figure means nothing without."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LIBRARIES = ("transitions", "simpy", "pydantic", "pyyaml")


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return ""
    return done.stdout.strip()


def _commit() -> str:
    commit = _git("rev-parse", "--short", "HEAD") or "unknown"
    changed = _git("status", "--porcelain", "--untracked-files=no")
    return f"{commit} (with uncommitted changes)" if changed else commit


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def describe(*, quick: bool, runs: int, largest_runs: int) -> dict[str, Any]:
    """The machine and the moment, taken when a bench starts."""
    return {
        "date": dt.datetime.now().astimezone().strftime("%a %b %d %H:%M:%S %Z %Y"),
        "commit": _commit(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count() or 0,
        "cpu": _cpu(),
        "load_before": list(os.getloadavg()),
        "load_after": list(os.getloadavg()),
        "libraries": ", ".join(f"{n} {_version(n)}" for n in LIBRARIES),
        "quick": quick,
        "runs": runs,
        "largest_runs": largest_runs,
    }
