"""What ``houzzflow run`` loads before it runs: only what a run needs.

The harness, the judge of a connector under test, the proof, the HTML pages, the HTTP
server, JUnit's XML and rich (when standard output is a file) are imported by the commands
that use them, not by every run; the files houzzflow ships are read the quick way, with the
careful way (that says where a file is wrong) kept for a file the quick way refuses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from houzzflow.engine.assumptions import Register, check_register
from houzzflow.engine.diagnostics import InputError
from houzzflow.engine.machine import MachineDef, check_definition
from houzzflow.engine.yamlsource import load_trusted, load_yaml_text, validate_checked

ROOT = Path(__file__).resolve().parent.parent
NOT_FOR_A_RUN = (
    "houzzflow.simulator.harness",
    "houzzflow.simulator.judge",
    "houzzflow.simulator.proof",
    "houzzflow.simulator.html",
    "houzzflow.simulator.http",
    "houzzflow.simulator.houzz.wire",
    "xml",
    "rich",
    "starlette",
    "uvicorn",
    "dask",
)
SHIPPED = {
    "machine.yaml": (MachineDef, check_definition),
    "assumptions.yaml": (Register, check_register),
}


def test_a_run_imports_none_of_what_other_commands_need(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    out = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "houzzflow",
            "run",
            str(ROOT / "scenarios" / "seller-default.yaml"),
            "--set",
            "world.orders.count=3",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "confirmed" in out.stdout  # it ran, and printed its report
    imported = {line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines() if "|" in line}
    loaded = sorted(m for m in imported if m.startswith(NOT_FOR_A_RUN))
    assert not loaded


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_a_shipped_file_reads_the_same_the_quick_way_and_the_careful_way(name: str) -> None:
    model, check = SHIPPED[name]
    text = resources.files("houzzflow.engine").joinpath(name).read_text(encoding="utf-8")
    careful = validate_checked(load_yaml_text(text, name), model, check)  # also: no duplicate keys
    assert load_trusted(text, name, model, check) == careful


def test_a_broken_shipped_file_still_says_where() -> None:
    text = resources.files("houzzflow.engine").joinpath("machine.yaml").read_text(encoding="utf-8")
    broken = text.replace("      dest: Confirmed", "      dest: Confirmd", 1)
    assert broken != text
    with pytest.raises(InputError) as caught:
        load_trusted(broken, "engine/machine.yaml", MachineDef, check_definition)
    (where,) = {d.location for d in caught.value.diagnostics}
    assert where.file == "engine/machine.yaml" and where.line > 0
    assert broken.splitlines()[where.line - 1].strip() == "dest: Confirmd"
