"""What ``pip install .`` puts in site-packages: the ``houzzflow`` package and nothing else.

The repository keeps engine/ and simulator/ at its top level; pyproject.toml maps them into
``houzzflow``. A wheel built from the checkout must carry every module of both folders under
``houzzflow/`` (real files, not links), the machine definition, ``py.typed`` markers, and no
other top-level name that could collide with a user's own ``engine`` or ``simulator``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    out = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items() if k != "HOUZZFLOW_COMPILE"}  # the pure build
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = out.glob("houzzflow-*-py3-none-any.whl")  # pure Python: for any platform
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_only_houzzflow_lands_in_site_packages(wheel_names: set[str]) -> None:
    tops = {name.split("/")[0] for name in wheel_names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"houzzflow"}


@pytest.mark.parametrize("folder", ["engine", "simulator"])
def test_every_module_of_the_repository_is_in_the_wheel(wheel_names: set[str], folder: str) -> None:
    here = ROOT / folder
    modules = {f"houzzflow/{folder}/{p.relative_to(here).as_posix()}" for p in here.rglob("*.py")}
    assert modules, folder
    assert modules <= wheel_names, sorted(modules - wheel_names)


def test_the_default_build_compiles_nothing(wheel_names: set[str]) -> None:
    """Only HOUZZFLOW_COMPILE=1 asks setup.py for mypyc (README, "Faster: compiled build")."""
    assert not [name for name in wheel_names if name.endswith((".so", ".pyd", ".c"))]


def test_a_compiled_build_without_mypyc_says_what_to_install(tmp_path: Path) -> None:
    """HOUZZFLOW_COMPILE=1 where mypyc cannot be imported: one line naming the fix, no
    traceback, and no pure build passed off as the compiled one."""
    program = (
        "import runpy, sys; sys.modules['mypyc'] = None; sys.argv = ['setup.py', '--version'];"
        f" runpy.run_path({str(ROOT / 'setup.py')!r}, run_name='__main__')"
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "HOUZZFLOW_COMPILE": "1"},
        check=False,
    )
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        "HOUZZFLOW_COMPILE=1 needs mypyc (it comes with mypy): run pip install -e '.[dev]'"
        " first, then build with --no-build-isolation"
    ]
    assert "0.1.0" not in done.stdout


def test_data_and_type_markers_are_in_the_wheel(wheel_names: set[str]) -> None:
    assert {
        "houzzflow/py.typed",
        "houzzflow/engine/py.typed",
        "houzzflow/simulator/py.typed",
        "houzzflow/engine/machine.yaml",
        "houzzflow/simulator/html/explorer.js",  # the explorer page's script
        "houzzflow/__main__.py",
    } <= wheel_names
    entry_points = [n for n in wheel_names if n.endswith("entry_points.txt")]
    assert entry_points


def test_the_command_works_outside_the_checkout(tmp_path: Path) -> None:
    """Nothing may lean on the checkout's folders being importable from the working directory
    (as ``engine`` or ``simulator``): run the installed package from elsewhere."""
    scenario = ROOT / "scenarios" / "seller-default.yaml"
    policy = ROOT / "scenarios" / "policies" / "vendor.yaml"
    for args in (
        ["run", str(scenario), "--set", "world.orders.count=20"],
        ["validate", str(policy)],
        ["diagram"],
    ):
        done = subprocess.run(
            [sys.executable, "-I", "-m", "houzzflow", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            check=False,
        )
        assert done.returncode == 0, (args, done.stderr[-2000:])
