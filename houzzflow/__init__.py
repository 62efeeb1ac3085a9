"""houzzflow: tells a merchant, before go-live, whether a CartRover configuration for a Houzz
cart can lose, duplicate or wrongly ship an order, and proves it cannot when it says so.

The public API is what ``__all__`` lists; ``houzzflow.engine`` and ``houzzflow.simulator`` are
internal and may change between versions.

>>> import houzzflow
>>> houzzflow.validate("scenarios/policies/vendor.yaml").verdict
'proven'

Names load on first use, so ``import houzzflow`` (and the CLI's start-up) stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from houzzflow.engine.diagnostics import Diagnostic, InputError
    from houzzflow.engine.validation import ValidationReport
    from houzzflow.simulator import strategies
    from houzzflow.simulator.api import matrix, run, sweep, validate
    from houzzflow.simulator.harness import HouzzHarness
    from houzzflow.simulator.http.server import ServerConfig, serve
    from houzzflow.simulator.judge.verdict import ConnectorVerdict
    from houzzflow.simulator.judge.warehouse import WarehouseConfig
    from houzzflow.simulator.proof.matrix import Matrix
    from houzzflow.simulator.runs.runner import RunResult
    from houzzflow.simulator.sweep.sweep import Sweep

__all__ = [
    "ConnectorVerdict",
    "Diagnostic",
    "HouzzHarness",
    "InputError",
    "Matrix",
    "RunResult",
    "ServerConfig",
    "Sweep",
    "ValidationReport",
    "WarehouseConfig",
    "__version__",
    "matrix",
    "run",
    "serve",
    "strategies",
    "sweep",
    "validate",
]

# public name -> the module that defines it (a module name alone: the module itself)
_HOME = {
    "Diagnostic": "houzzflow.engine.diagnostics",
    "InputError": "houzzflow.engine.diagnostics",
    "ValidationReport": "houzzflow.engine.validation",
    "HouzzHarness": "houzzflow.simulator.harness",
    "Matrix": "houzzflow.simulator.proof.matrix",
    "RunResult": "houzzflow.simulator.runs.runner",
    "ServerConfig": "houzzflow.simulator.http.server",
    "Sweep": "houzzflow.simulator.sweep.sweep",
    "ConnectorVerdict": "houzzflow.simulator.judge.verdict",
    "WarehouseConfig": "houzzflow.simulator.judge.warehouse",
    "serve": "houzzflow.simulator.http.server",
    "matrix": "houzzflow.simulator.api",
    "run": "houzzflow.simulator.api",
    "sweep": "houzzflow.simulator.api",
    "validate": "houzzflow.simulator.api",
    "strategies": "houzzflow.simulator.strategies",
}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("houzzflow")
        except PackageNotFoundError:  # a checkout used without installing
            return "0+unknown"
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'houzzflow' has no attribute {name!r}")
    module = importlib.import_module(home)
    value = module if home.endswith("." + name) else getattr(module, name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
