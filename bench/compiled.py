"""An optional compiled copy of houzzflow's hot modules, for the bench to measure beside the
pure-Python package.

``build`` copies the package (symlinks resolved) to ``build/compiled/`` and compiles
``HOT_MODULES`` there with mypyc (they pass ``mypy --strict``); the checkout itself is never
touched, so the installed package, the README's commands and the test suite stay pure Python.
A process that puts ``build/compiled`` first on ``sys.path`` imports the compiled modules
(``explorer_figures`` does, in a child process). Without a C compiler or mypyc, ``build``
says why and the bench reports the pure-Python figures alone.

The same tests run on the compiled copy from its folder (``python -m`` puts the working
folder first on ``sys.path``)::

    cd build/compiled && python -m pytest ../../tests/test_explorer.py
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from houzzflow.engine import native

ROOT = Path(__file__).resolve().parent.parent
DEST = ROOT / "build" / "compiled"
# What a compiled build compiles, as files of the copy (its symlinks resolved).
HOT_MODULES = tuple(name.replace(".", "/") + ".py" for name in native.HOT_MODULES)
_STAMP = ".sources"


def unavailable() -> str:
    """Why a compiled copy cannot be built here ("" when it can)."""
    if importlib.util.find_spec("mypyc") is None:
        return "mypyc is not installed (it comes with mypy: pip install -e '.[dev]')"
    if not (shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")):
        return "no C compiler (cc, gcc or clang) on PATH"
    return ""


def _fingerprint() -> str:
    """The sources the compiled copy is built from: a rebuild when any of them changes."""
    digest = hashlib.sha256(sys.version.encode())
    paths = [*(ROOT / "houzzflow").glob("*.py")]
    for folder in ("engine", "simulator"):  # what houzzflow/engine and /simulator link to
        paths += [p for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".yaml")]
    for path in sorted(paths):
        if "__pycache__" not in path.parts:
            digest.update(path.relative_to(ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def build(dest: Path = DEST) -> str:
    """Build (or reuse) the compiled copy in ``dest``; "" on success, else why not."""
    reason = unavailable()
    if reason:
        return reason
    fingerprint = _fingerprint()
    stamp = dest / _STAMP
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == fingerprint:
        return ""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    shutil.copytree(
        ROOT / "houzzflow",
        dest / "houzzflow",
        symlinks=False,
        ignore=shutil.ignore_patterns("__pycache__", "*.so"),
    )
    # mypyc runs setuptools in its working directory: ``dest`` holds no pyproject.toml, so
    # the checkout's packaging settings play no part in the build.
    done = subprocess.run(
        [sys.executable, "-m", "mypyc", *HOT_MODULES],
        cwd=dest,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return "mypyc failed: " + " / ".join(tail)
    stamp.write_text(fingerprint, encoding="utf-8")
    return ""


def child_command(*args: str) -> list[str]:
    """``python -P args...`` for a child that imports the compiled copy (see ``child_env``)."""
    return [sys.executable, "-P", *args]


def child_env(dest: Path = DEST) -> dict[str, str]:
    """The environment of such a child: the copy first on ``sys.path``, then the checkout
    (for ``bench``). ``-P`` keeps the working folder, where the pure package is, off it."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join((str(dest), str(ROOT)))}


def pure_env() -> dict[str, str]:
    """The environment of a child that must import the checkout's pure modules, even from a
    process started on the compiled copy (PYTHONSAFEPATH and PYTHONPATH, as CI's run of the
    suite there sets them, are inherited)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONSAFEPATH"}
    return {**env, "PYTHONPATH": str(ROOT)}


_PROGRAM = """
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import houzzflow.simulator.proof.search as search
from bench.proof_bench import explorer_throughput
figures = dict(explorer_throughput(quick=sys.argv[3] == "quick"))
figures["compiled"] = not search.__file__.endswith(".py")
print(json.dumps(figures))
"""


def explorer_figures(dest: Path = DEST, *, quick: bool = False) -> dict[str, Any]:
    """``proof_bench.explorer_throughput`` in a child process that imports the compiled copy."""
    done = subprocess.run(
        [sys.executable, "-c", _PROGRAM, str(dest), str(ROOT), "quick" if quick else "full"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return {"skipped": "the compiled explorer failed: " + done.stderr.strip()[-300:]}
    figures: dict[str, Any] = json.loads(done.stdout)
    if not figures.pop("compiled"):
        return {"skipped": "the compiled copy was not imported"}
    return figures


def main() -> int:
    """``python -m bench.compiled``: build (or reuse) the compiled copy and say how to use it."""
    print(f"bench.compiled: compiling {len(HOT_MODULES)} hot modules with mypyc", file=sys.stderr)
    reason = build()
    if reason:
        print(f"bench.compiled: no compiled build: {reason}", file=sys.stderr)
        return 1
    where = DEST.relative_to(ROOT) if DEST.is_relative_to(ROOT) else DEST
    print(
        f"{where}: houzzflow with its hot modules compiled. Use it with\n"
        f"  PYTHONPATH={where} houzzflow --version   # says (compiled)\n"
        f"  PYTHONPATH={where} houzzflow run scenarios/seller-default.yaml"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
