"""houzzflow's layers as data, and a checker over the import graph read from the source.

Every import counts, also the ones made inside a function to keep start-up fast: a lazy
import that runs back up a layer is still a dependency that runs back up. The checker reads
files as text (``ast``); nothing is imported, so a broken layer cannot hide behind a failed
import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The repository folders that make up the installed package, and their module prefix.
PACKAGE_DIRS = {
    "houzzflow.engine": ROOT / "engine",
    "houzzflow.simulator": ROOT / "simulator",
    "houzzflow": ROOT / "houzzflow",
}

# Top to bottom. A module may import from its own layer and from any layer below it, never
# from one above. Within a layer, modules may import each other.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("package", ("houzzflow",)),
    (
        "edges",
        (
            "houzzflow.simulator.cli",
            "houzzflow.simulator.pytest_plugin",
            "houzzflow.simulator.http",
            "houzzflow.simulator.api",
            "houzzflow.simulator.output",
            "houzzflow.simulator.conformance",
        ),
    ),
    # Pictures of runs and proofs (HTML pages): above every library result they draw.
    ("reports", ("houzzflow.simulator.html",)),
    (
        "verdicts",
        (
            "houzzflow.simulator.validate",
            "houzzflow.simulator.validate_report",
            "houzzflow.simulator.report_schemas",
        ),
    ),
    ("proof", ("houzzflow.simulator.proof",)),
    ("sweeps", ("houzzflow.simulator.sweep",)),
    ("runs", ("houzzflow.simulator.runs", "houzzflow.simulator.strategies")),
    ("harness", ("houzzflow.simulator.harness", "houzzflow.simulator.judge")),
    # The invariants read only the world's state: the harness judges a connector by them.
    ("invariants", ("houzzflow.simulator.runs.invariants",)),
    ("world", ("houzzflow.simulator.world",)),
    ("fake", ("houzzflow.simulator.houzz",)),
    ("kernel", ("houzzflow.simulator.kernel",)),
    ("executors", ("houzzflow.simulator.executors",)),
    ("engine", ("houzzflow.engine",)),
)
PACKAGES = ("houzzflow", "houzzflow.simulator")  # namespaces that sit above every layer


@dataclass(frozen=True)
class Breach:
    """One import that breaks the layering: where it is, and what rule it breaks."""

    module: str
    line: int
    imported: str
    why: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: imports {self.imported}: {self.why}"


def layer_of(module: str) -> int | None:
    """Index into LAYERS (0 is the top), or None for a module outside every layer."""
    best: tuple[int, int] | None = None  # (prefix length, layer index): the longest prefix wins
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            inside = module.startswith(prefix + ".") and prefix not in PACKAGES
            if (module == prefix or inside) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), index)
    return None if best is None else best[1]


def module_files() -> Iterator[tuple[str, Path]]:
    """(module name, file) for every module of the package, from the repository folders."""
    for prefix, folder in PACKAGE_DIRS.items():
        if prefix == "houzzflow":
            yield "houzzflow", folder / "__init__.py"
            continue
        for path in sorted(folder.rglob("*.py")):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            yield ".".join([prefix, *parts]), path


def imports_of(module: str, source: str) -> Iterator[tuple[int, str, tuple[str, ...]]]:
    """(line, imported module, names taken from it) for every import in ``source``."""
    package = module if module in PACKAGES or _is_package(module) else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, ()
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield node.lineno, base, tuple(alias.name for alias in node.names)


def _is_package(module: str) -> bool:
    for prefix, folder in PACKAGE_DIRS.items():
        if module == prefix:
            return True
        if module.startswith(prefix + ".") and prefix != "houzzflow":
            rest = module[len(prefix) + 1 :].split(".")
            return (folder.joinpath(*rest) / "__init__.py").is_file()
    return False


def breaches(graph: Mapping[str, list[tuple[int, str, tuple[str, ...]]]]) -> list[Breach]:
    """Every import in ``graph`` (module -> its imports) that breaks a rule:
    - a module imports from a layer above its own;
    - a module outside every layer (a new folder nobody placed) exists;
    - a module imports a private name (leading underscore) from another module."""
    found: list[Breach] = []
    for module, imports in sorted(graph.items()):
        here = layer_of(module)
        if here is None and module not in PACKAGES:
            found.append(Breach(module, 0, "", "this module belongs to no layer (see LAYERS)"))
            continue
        for line, imported, names in imports:
            if not imported.startswith("houzzflow"):
                continue
            # ``from package import module`` depends on the module; any other name, on the package.
            submodules = [f"{imported}.{n}" for n in names if f"{imported}.{n}" in graph]
            targets = submodules if names and len(submodules) == len(names) else [imported]
            for target in targets:
                there = layer_of(target)
                if here is not None and there is not None and there < here:
                    why = f"{LAYERS[here][0]} may not import from {LAYERS[there][0]} (above it)"
                    found.append(Breach(module, line, target, why))
            for name in names:
                if name.startswith("_") and not name.startswith("__") and imported != module:
                    why = f"{name} is private to {imported}"
                    found.append(Breach(module, line, f"{imported}.{name}", why))
    return found


def package_graph() -> dict[str, list[tuple[int, str, tuple[str, ...]]]]:
    return {
        module: list(imports_of(module, path.read_text(encoding="utf-8")))
        for module, path in module_files()
    }
