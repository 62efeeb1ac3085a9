"""Optional mypyc build of houzzflow's hot modules, as mypy builds itself (MYPY_USE_MYPYC=1).

pyproject.toml holds every packaging setting; setuptools reads this file as well and it only
adds ``ext_modules``, and only when ``HOUZZFLOW_COMPILE=1``::

    pip install -e '.[dev]'                               # mypy (hence mypyc) and the deps
    HOUZZFLOW_COMPILE=1 pip install --no-build-isolation .

Without the variable the build is the pure-Python one. mypyc type-checks the code, so it
needs the runtime dependencies and mypy installed: hence ``--no-build-isolation``. The paths
go through the houzzflow/ links so mypyc names the modules ``houzzflow.engine.pipeline`` and
so on, and its shared runtime module is named inside the package (``group_name``) so the
wheel still puts nothing but ``houzzflow`` in site-packages.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from setuptools import setup


def _hot_modules() -> list[str]:
    """``houzzflow.engine.native.HOT_MODULES``, read from the source without importing the
    package (its dependencies need not be importable by whatever runs this file)."""
    import ast

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "engine", "native.py")
    with open(path, encoding="utf-8") as source:
        tree = ast.parse(source.read(), path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "HOT_MODULES" for t in node.targets
        ):
            return list(ast.literal_eval(node.value))
    raise RuntimeError(f"{path}: no HOT_MODULES")


def _ext_modules() -> list[Any]:
    if os.environ.get("HOUZZFLOW_COMPILE") != "1":
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        sys.exit(
            "HOUZZFLOW_COMPILE=1 needs mypyc (it comes with mypy): run pip install -e '.[dev]'"
            " first, then build with --no-build-isolation"
        )
    paths = [name.replace(".", "/") + ".py" for name in _hot_modules()]
    return list(mypycify(paths, group_name="houzzflow.hot"))


setup(ext_modules=_ext_modules())
