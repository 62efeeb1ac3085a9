"""The compiled build's contract, checked on both builds: which hot modules run compiled, how
houzzflow says so, and that every class code outside them subclasses may be subclassed."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from houzzflow.engine import native
from houzzflow.simulator.cli import main

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {"houzzflow.engine": ROOT / "engine", "houzzflow.simulator": ROOT / "simulator"}


def _source(module: str) -> Path:
    for prefix, folder in FOLDERS.items():
        if module.startswith(prefix + "."):
            return folder.joinpath(*module.removeprefix(prefix + ".").split(".")).with_suffix(".py")
    raise AssertionError(f"{module} is outside engine/ and simulator/")


def test_compiled_modules_are_the_hot_modules_imported_from_an_extension() -> None:
    imported = {name: importlib.import_module(name).__file__ or "" for name in native.HOT_MODULES}
    assert native.compiled_modules() == [
        name for name, path in imported.items() if not path.endswith(".py")
    ]
    assert all(_source(name).is_file() for name in native.HOT_MODULES)


@pytest.mark.parametrize(
    ("compiled", "shown"),
    [(list(native.HOT_MODULES), "(compiled)"), ([], "(pure Python)"), (["x"], "(partly")],
)
def test_version_says_which_build_runs(
    monkeypatch: pytest.MonkeyPatch, compiled: list[str], shown: str
) -> None:
    monkeypatch.setattr(native, "compiled_modules", lambda: compiled)
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert shown in result.output


def _marked(cls: ast.ClassDef) -> bool:
    """Decorated with ``mypyc_attr(allow_interpreted_subclasses=True)``."""
    for decorator in cls.decorator_list:
        if (
            isinstance(decorator, ast.Call)
            and isinstance(decorator.func, ast.Name)
            and decorator.func.id == "mypyc_attr"
        ):
            flags = {k.arg: k.value for k in decorator.keywords}
            value = flags.get("allow_interpreted_subclasses")
            return isinstance(value, ast.Constant) and value.value is True
    return False


def _base_names(cls: ast.ClassDef) -> set[str]:
    names = set()
    for base in cls.bases:
        node = base.value if isinstance(base, ast.Subscript) else base
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
    return names


def test_every_compiled_class_subclassed_elsewhere_allows_interpreted_subclasses() -> None:
    """A native class refuses an interpreted subclass at import time ("interpreted classes
    cannot inherit from compiled"); this finds the class to mark without building anything."""
    hot = {_source(name).resolve() for name in native.HOT_MODULES}
    compiled_classes: dict[str, tuple[Path, ast.ClassDef]] = {}
    for path in hot:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                compiled_classes[node.name] = (path, node)
    unmarked = []
    for folder in ("engine", "simulator", "tests", "bench"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.resolve() in hot:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.ClassDef):
                    continue
                for base in _base_names(node) & compiled_classes.keys():
                    where, cls = compiled_classes[base]
                    if not _marked(cls):
                        unmarked.append(f"{base} ({where.name}), subclassed in {path.name}")
    assert not unmarked, "mark with @mypyc_attr(allow_interpreted_subclasses=True): " + ", ".join(
        unmarked
    )
