"""The layers hold: no import runs back up, every module has a layer, private names stay private.

The checker itself is tested on graphs with a layer broken on purpose, so a checker that
stopped seeing breaches would fail here rather than pass everything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from layers import LAYERS, ROOT, breaches, layer_of, package_graph


def test_the_package_keeps_its_layers() -> None:
    found = breaches(package_graph())
    assert not found, "layer breaches:\n" + "\n".join(map(str, found))


def test_every_folder_of_the_package_is_read() -> None:
    graph = package_graph()
    assert {"houzzflow.engine.connector", "houzzflow.simulator.kernel.clock"} <= set(graph)
    assert "houzzflow.simulator.http.server" in graph
    # Each layer holds at least one module: a layer emptied by a move is a stale rule.
    for name, _ in LAYERS:
        assert any(layer_of(m) == [n for n, _ in LAYERS].index(name) for m in graph), name


@pytest.mark.parametrize(
    ("module", "imported", "names", "why"),
    [
        # the fake's state reaching up into the world, as it once did
        (
            "houzzflow.simulator.houzz.state",
            "houzzflow.simulator.world.staff",
            (),
            "fake may not import from world",
        ),
        # the engine importing the simulator
        (
            "houzzflow.engine.policy",
            "houzzflow.simulator.kernel.clock",
            (),
            "engine may not import from kernel",
        ),
        # the kernel importing runs, through ``from package import module``
        (
            "houzzflow.simulator.kernel.faults",
            "houzzflow.simulator.runs",
            ("report",),
            "kernel may not import from runs",
        ),
        # the harness reading scenario files
        (
            "houzzflow.simulator.harness",
            "houzzflow.simulator.runs.scenario",
            (),
            "harness may not import from runs",
        ),
        # a private name taken from another module
        (
            "houzzflow.simulator.harness",
            "houzzflow.simulator.kernel.faults",
            ("_ACTIONS",),
            "_ACTIONS is private",
        ),
    ],
)
def test_a_broken_layer_is_found(
    module: str, imported: str, names: tuple[str, ...], why: str
) -> None:
    graph = package_graph()
    assert not [b for b in breaches(graph) if b.module == module]
    graph[module] = [*graph[module], (999, imported, names)]
    found = [b for b in breaches(graph) if b.module == module]
    assert [b.line for b in found] == [999]
    assert why in str(found[0])


def test_a_module_outside_every_layer_is_found() -> None:
    graph = package_graph()
    graph["houzzflow.simulator.newroom"] = []
    assert [b.module for b in breaches(graph)] == ["houzzflow.simulator.newroom"]


def test_the_benchmarks_use_public_names_only() -> None:
    """bench/ drives houzzflow through public names: no private import, no ``module._name``."""
    problems = []
    for path in sorted((ROOT / "bench").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = set()  # local names bound to houzzflow modules
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("houzzflow"):
                for alias in node.names:
                    if alias.name.startswith("_"):
                        problems.append(f"{_rel(path)}:{node.lineno}: imports {alias.name}")
                    modules.add(alias.asname or alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("houzzflow"):
                        modules.add(alias.asname or alias.name.split(".")[0])
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and isinstance(node.value, ast.Name)
                and node.value.id in modules
            ):
                problems.append(f"{_rel(path)}:{node.lineno}: uses {node.value.id}.{node.attr}")
    assert not problems, "\n".join(problems)


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_readme_draws_the_same_floors() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("\n## How it works\n")
    drawing = readme[start:].split("```text\n", 1)[1].split("```", 1)[0]
    # a floor's line starts at the drawing's margin; deeper lines continue the one above
    margin = min(len(line) - len(line.lstrip()) for line in drawing.splitlines() if line.strip())
    floors = [
        line.split()[0]
        for line in drawing.splitlines()
        if line.strip() and len(line) - len(line.lstrip()) == margin
    ]
    assert floors == [name if name != "package" else "houzzflow" for name, _ in LAYERS]
