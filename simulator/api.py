"""houzzflow's public Python API: the three jobs as functions returning plain typed results.

``houzzflow`` re-exports these names (see its ``__all__``); everything else in the package is
internal and may change. Each result has ``to_json()`` giving exactly what the matching CLI
command prints with ``--format json``, and ``exit_code`` as the command would exit.

Arguments are keyword-only past the first and checked at once, like Hypothesis's strategies:
a bound out of range is a ``ValueError`` naming the limit, never a run that hangs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from houzzflow.engine.validation import PolicySource, ValidationReport
from houzzflow.engine.yamlsource import NamedText
from houzzflow.simulator.executors import check_jobs
from houzzflow.simulator.proof.explorer import Bounds
from houzzflow.simulator.proof.matrix import WORLDS, Matrix, run_matrix
from houzzflow.simulator.runs.runner import RunResult, run_scenario
from houzzflow.simulator.runs.scenario import load_scenario
from houzzflow.simulator.sweep.sweep import run_sweep
from houzzflow.simulator.validate import add_proof, validate_paths

# The limits the CLI states for the same options.
PROOF_ORDERS = (1, 4)
PROOF_FAULTS = (0, 3)
PROOF_DECLINES = (0, 2)
MAX_STATES = (100, 100_000_000)
# The matrix proves with the same bounds as validate (houzzflow.simulator.cli holds the same
# limits for the command line; a test checks).
MATRIX_ORDERS = PROOF_ORDERS
MATRIX_FAULTS = PROOF_FAULTS
ACCOUNTS = ("seller", "vendor")
ERAS = ("legacy", "2021")


def _check(name: str, value: int, limits: tuple[int, int]) -> None:
    low, high = limits
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name}={value!r}: expected a whole number from {low:,} to {high:,}")


def _check_choice(name: str, value: str | None, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        raise ValueError(f"{name}={value!r}: expected one of {', '.join(allowed)} or None")


def validate(
    source: PolicySource,
    *,
    orders: int = 2,
    faults: int = 1,
    max_states: int = 400_000,
    lapse: bool = False,
    proof: bool = True,
    declines: int = 1,
) -> ValidationReport:
    """Validate one policy, as ``houzzflow validate`` does: schema, rules, then the proof.

    ``source`` is a policy file's path, or the policy's settings as a mapping (diagnostics
    then name the file ``<policy>``). Input that cannot be read is not an exception: the
    report's verdict is ``invalid`` and its diagnostics say where and why. With ``proof``
    off, the verdict is the rules' alone. The bounds are the command's options: ``orders``,
    ``faults``, ``declines`` (cards declined at CartRover's Charge), ``max_states``, ``lapse``.
    """
    _check("orders", orders, PROOF_ORDERS)
    _check("faults", faults, PROOF_FAULTS)
    _check("declines", declines, PROOF_DECLINES)
    _check("max_states", max_states, MAX_STATES)
    if not isinstance(source, Mapping | NamedText):
        source = os.fspath(source)
    (report,) = validate_paths([source], proof=False)
    if proof and report.policy is not None:
        bounds = Bounds(
            orders=orders, faults=faults, declines=declines, lapse=lapse, max_states=max_states
        )
        add_proof(report, bounds)
    return report


def run(
    source: str | os.PathLike[str] | Mapping[str, Any],
    *,
    overrides: Sequence[str] | Mapping[str, Any] = (),
) -> RunResult:
    """Simulate one scenario, as ``houzzflow run`` does, and check its expectations.

    ``source`` is a scenario file or its content as a mapping; ``overrides`` are ``--set``
    texts (``"world.orders.count=500"``) or a mapping of dotted keys to values. Raises
    ``InputError`` (every mistake, with file:line:column) when the scenario cannot be used.
    """
    if not isinstance(source, Mapping | NamedText):
        source = os.fspath(source)
    return run_scenario(load_scenario(source, overrides))


def matrix(
    *,
    orders: int = 2,
    faults: int = 1,
    account: str | None = None,
    era: str | None = None,
    jobs: int | None = None,
    scheduler: str | None = None,
) -> Matrix:
    """Prove every setting combination against every world, as ``houzzflow matrix`` does.

    ``account`` and ``era`` keep only the worlds of that program or era; ``jobs`` is the
    number of processes (default: every core); ``scheduler`` a Dask scheduler's address
    (``tcp://host:8786``) to run on instead (the ``dask`` extra).
    """
    _check("orders", orders, MATRIX_ORDERS)
    _check("faults", faults, MATRIX_FAULTS)
    _check_choice("account", account, ACCOUNTS)
    _check_choice("era", era, ERAS)
    check_jobs(jobs)
    worlds = [w for w in WORLDS if account in (None, w[0]) and era in (None, w[1])]
    bounds = Bounds(orders=orders, faults=faults)
    cells = run_matrix(bounds, worlds=worlds, jobs=jobs, scheduler=scheduler)
    return Matrix(tuple(cells))


# ``houzzflow sweep`` as a function: the library's own, whose docstring is the API's.
sweep = run_sweep
