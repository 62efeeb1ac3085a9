"""The modules that may run compiled with mypyc, and how to tell whether they do.

houzzflow is pure Python; ``HOUZZFLOW_COMPILE=1 pip install --no-build-isolation .`` (setup.py)
installs it with its ``HOT_MODULES`` as C extensions, and ``python -m bench.compiled`` builds
such a copy beside a checkout (see README, "Faster: compiled build"). The pure modules stay
the fallback and the builds must behave the same: the test suite runs on both.

``mypyc_attr`` is mypy_extensions' class decorator as mypy and mypyc see it, and a no-op at
run time, so the pure package needs nothing beyond its dependencies. mypyc reads the
decorator from the source when it compiles a class and does not call it, so the compiled
modules need nothing either. A class that code outside the compiled modules subclasses
(tests, users, other modules) is marked ``allow_interpreted_subclasses=True``: a native
class refuses interpreted subclasses otherwise.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

_T = TypeVar("_T")

if TYPE_CHECKING:
    from mypy_extensions import mypyc_attr as mypyc_attr
else:

    def mypyc_attr(*_names: str, **_flags: Any) -> Callable[[_T], _T]:
        """A no-op at run time (see the module's docstring)."""
        return lambda thing: thing


# The simulation's and the explorer's inner loops (``python -m bench --profile 100000``):
# what a compiled build compiles. Module names; every one passes ``mypy --strict``.
HOT_MODULES = (
    "houzzflow.engine.connector",
    "houzzflow.engine.ledger",
    "houzzflow.engine.pipeline",
    "houzzflow.engine.polling",
    "houzzflow.engine.shipments",
    "houzzflow.simulator.houzz.deadlines",
    "houzzflow.simulator.houzz.details",
    "houzzflow.simulator.houzz.lifecycle",
    "houzzflow.simulator.houzz.listing",
    "houzzflow.simulator.houzz.orders",
    "houzzflow.simulator.houzz.state",
    "houzzflow.simulator.kernel.clock",
    "houzzflow.simulator.kernel.faults",
    "houzzflow.simulator.kernel.ids",
    "houzzflow.simulator.kernel.streams",
    "houzzflow.simulator.kernel.tracking",
    "houzzflow.simulator.world.backend",
    "houzzflow.simulator.world.customers",
    "houzzflow.simulator.world.observed",
    "houzzflow.simulator.world.staff",
    "houzzflow.simulator.runs.invariants",
    "houzzflow.simulator.runs.runner",
    "houzzflow.simulator.proof.search",
)


def compiled_modules() -> list[str]:
    """The hot modules this process would import compiled (found without importing them)."""
    found = []
    for name in HOT_MODULES:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin and not spec.origin.endswith(".py"):
            found.append(name)
    return found


def build_name() -> str:
    """``compiled`` (every hot module), ``partly compiled`` or ``pure Python``."""
    count = len(compiled_modules())
    if count == len(HOT_MODULES):
        return "compiled"
    return "partly compiled" if count else "pure Python"
