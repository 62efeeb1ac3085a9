"""A YAML loader users can trust: plain data, bounded cost, and a line number for every mistake.

Merchants write houzzflow configurations by hand and sometimes feed us files nobody has read, so
loading builds plain data only (SafeLoader) and turns every unusable file into an InputError with
a stable code (YAML001..YAML009) instead of a traceback: syntax, duplicate keys, size, alias
bombs, nesting, encoding, emptiness. Every key and value keeps its line and column, so later
findings (pydantic errors via ``validate_model``: SCHEMA001..003; ``--set`` overrides: SET001)
point at the exact place to fix, and never print a secret.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import enum
import os
import re
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal, NoReturn, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from yaml.constructor import ConstructorError
from yaml.error import Mark, MarkedYAMLError
from yaml.events import AliasEvent, Event, MappingStartEvent, SequenceStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from houzzflow.engine.diagnostics import Diagnostic, InputError, Location, Severity

MAX_BYTES = 1 << 20
MAX_NODES = 100_000
MAX_ALIASES = 1_000
MAX_DEPTH = 64

M = TypeVar("M", bound=BaseModel)
Path = tuple[Any, ...]
# (key line, key column, value line, value column), 1-based; a list item's key is the item itself.
_Pos = tuple[int, int, int, int]

_SECRET = re.compile("token|password|secret|credential", re.IGNORECASE)
# A line that sets a secret (``token: ...``, ``{token: ...}``), and a quoted bit of a message.
_SECRET_KEY = re.compile(r"(token|password|secret|credential)[\w-]*['\"]?\s*:", re.IGNORECASE)
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_MERGE_TAG = "tag:yaml.org,2002:merge"
_YAML_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


@dataclasses.dataclass(frozen=True)
class SourceDoc:
    """Loaded YAML data plus where each part of it came from."""

    file: str
    data: Any
    lines: list[str] = dataclasses.field(default_factory=list, repr=False)
    positions: Mapping[Path, _Pos] = dataclasses.field(default_factory=dict, repr=False)
    overrides: Mapping[Path, str] = dataclasses.field(default_factory=dict, repr=False)

    def locate(self, path: Sequence[str | int], *, key: bool = False) -> Location:
        """Where the value (or, with ``key=True``, the key) at ``path`` was written.

        A path that does not exist falls back to the key of its deepest existing ancestor, which
        is where a "missing setting" error should point.
        """
        parts = tuple(path)
        for n in range(len(parts), -1, -1):
            # An override replaced everything beneath it, so it shadows any position from the file.
            if (label := self.overrides.get(parts[:n])) is not None:
                return Location(label, 0, 0, parts)
        for n in range(len(parts), -1, -1):
            if (pos := self.positions.get(parts[:n])) is not None:
                if key or n < len(parts):
                    return Location(self.file, pos[0], pos[1], parts)
                return Location(self.file, pos[2], pos[3], parts)
        return Location(self.file, 0, 0, parts)


def _error(code: str, message: str, where: Location, fix: str = "") -> InputError:
    return InputError([Diagnostic(code, Severity.ERROR, message, where, fix)])


class _Loader(yaml.SafeLoader):
    """SafeLoader that bounds the cost of a document while composing it, before any data exists."""

    def __init__(self, text: str, file: str) -> None:
        super().__init__(text)
        self._file = file
        self._nodes = self._aliases = self._depth = 0
        self._sizes: dict[str, int] = {}  # anchor -> nodes it stands for, aliases included
        self._open: set[str] = set()  # anchors whose node is still being composed

    def _fail(self, code: str, message: str, mark: Any, fix: str = "") -> NoReturn:
        raise _error(code, message, Location(self._file, mark.line + 1, mark.column + 1), fix)

    def _grow(self, count: int, mark: Any) -> None:
        self._nodes += count
        if self._nodes > MAX_NODES:
            how = " through aliases (*name)" if self._aliases else ""
            message = f"document has more than {MAX_NODES:,} values{how}"
            self._fail("YAML004", message, mark, "a configuration never needs this many")

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event: Event = self.peek_event()  # type: ignore[no-untyped-call]
        mark, anchor = event.start_mark, getattr(event, "anchor", None)
        if isinstance(event, AliasEvent) and anchor is not None:
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                self._fail("YAML004", f"more than {MAX_ALIASES:,} aliases (*name)", mark)
            if anchor in self._open:
                self._fail("YAML004", f"alias *{anchor} is used inside its own anchor", mark)
            node = super().compose_node(parent, index)
            # Adding the anchor's whole size per alias is what stops "billion laughs" early.
            self._grow(self._sizes.get(anchor, 1), mark)
            return node
        nested = isinstance(event, MappingStartEvent | SequenceStartEvent)
        self._depth += nested
        if self._depth > MAX_DEPTH:
            self._fail("YAML005", f"nested more than {MAX_DEPTH} levels deep", mark)
        if anchor is not None:
            self._open.add(anchor)
        before = self._nodes
        self._grow(1, mark)
        node = super().compose_node(parent, index)
        if anchor is not None:
            self._open.discard(anchor)
            self._sizes[anchor] = self._nodes - before
        self._depth -= nested
        if isinstance(node, MappingNode):
            self._check_duplicates(node)
        return node

    def _check_duplicates(self, node: MappingNode) -> None:
        # Checked on the composed node, before merge keys (<<) add pairs that may legally repeat.
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node)
            if key in seen:
                message = f"duplicate key {_show(key)}: first defined on line {seen[key]}"
                fix = "keep one of them; YAML would silently use only the last"
                self._fail("YAML002", message, key_node.start_mark, fix)
            seen[key] = key_node.start_mark.line + 1

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:  # e.g. a date like 2024-13-45
            problem = f"cannot read value: {exc}"
            raise ConstructorError(None, None, problem, node.start_mark) from None


def _index(ld: _Loader, node: Node, path: Path, key: Mark | None, out: dict[Path, _Pos]) -> None:
    value = node.start_mark
    key = key or value
    out[path] = (key.line + 1, key.column + 1, value.line + 1, value.column + 1)
    if isinstance(node, MappingNode):
        # After construction node.value holds merged pairs first; later pairs win, as in the data.
        pairs = {ld.construct_object(k, deep=True): (k, v) for k, v in node.value}
        for name, (k, v) in pairs.items():
            _index(ld, v, (*path, name), k.start_mark, out)
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            _index(ld, item, (*path, i), None, out)


def _syntax_diagnostic(exc: MarkedYAMLError, file: str, lines: list[str]) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    indent = text[: len(text) - len(text.lstrip(" \t"))]
    fix = ""
    if exc.problem == "but found another document":
        message, fix = "one document expected, but found another ('---')", "remove the extra '---'"
    elif "\t" in indent and col <= len(indent) + 1:
        message, fix = "tab character used for indentation; YAML indents with spaces", "use spaces"
        col = indent.index("\t") + 1
    else:
        message = f"invalid YAML: {exc.problem or exc.context or 'cannot parse'}"
        if exc.problem and exc.context and exc.context_mark:
            message += f" ({exc.context} on line {exc.context_mark.line + 1})"
        if _SECRET_KEY.search(text):
            # PyYAML quotes what it could not read: an unquoted token starting with * or !
            # would be printed as an alias or tag name.
            message = _QUOTED.sub("(a secret, not shown)", message)
            fix = "put the secret in quotes: token: '...'"
    return Diagnostic("YAML001", Severity.ERROR, message, Location(file, line, col), fix)


def _parse(text: str, file: str, expect_mapping: bool) -> SourceDoc:
    lines = _YAML_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    loader: _Loader | None = None
    try:
        loader = _Loader(text, file)
        node = loader.get_single_node()
        if node is None or (node.tag.endswith(":null") and node.value == ""):
            raise _error("YAML007", "file is empty (or has only comments)", Location(file))
        data = loader.construct_document(node)
        positions: dict[Path, _Pos] = {}
        _index(loader, node, (), None, positions)
    except MarkedYAMLError as exc:
        raise InputError([_syntax_diagnostic(exc, file, lines)]) from None
    except yaml.reader.ReaderError as exc:
        pos = int(exc.position)
        line = text.count("\n", 0, pos) + 1
        where = Location(file, line, pos - (text.rfind("\n", 0, pos) + 1) + 1)
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        message = f"character U+{ord(char):04X} is not allowed in YAML (unprintable)"
        raise _error("YAML001", message, where) from None
    except yaml.YAMLError as exc:
        raise _error("YAML001", f"invalid YAML: {exc}", Location(file)) from None
    finally:
        if loader is not None:
            loader.dispose()
    if expect_mapping and not isinstance(data, dict):
        where = Location(file, positions[()][2], positions[()][3])
        message = f"the top level must be a mapping of settings (key: value), not {_show(data)}"
        raise _error("YAML009", message, where)
    return SourceDoc(file, data, lines, positions)


def load_yaml_text(
    text: str | bytes, file: str = "<string>", *, expect_mapping: bool = True
) -> SourceDoc:
    """Parse YAML text (bytes must be UTF-8); raise InputError with YAML00x codes if unusable."""
    raw = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_BYTES:
        message = f"file is {len(raw):,} bytes; the limit is {MAX_BYTES:,} (1 MiB)"
        raise _error("YAML003", message, Location(file))
    if isinstance(text, bytes):
        bom = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
        try:
            text = raw[bom:].decode("utf-8")
        except UnicodeDecodeError as exc:
            at = exc.start + bom
            line, column = raw.count(b"\n", 0, at) + 1, at - raw.rfind(b"\n", 0, at)
            message = f"file is not UTF-8: byte 0x{raw[at]:02x} at offset {at} (line {line})"
            utf16 = raw.startswith((b"\xff\xfe", b"\xfe\xff"))
            fix = ("it looks like UTF-16; " if utf16 else "") + "save the file as UTF-8"
            raise _error("YAML006", message, Location(file, line, column), fix) from None
    return _parse(text, file, expect_mapping)


@dataclasses.dataclass(frozen=True)
class NamedText:
    """A document read from somewhere other than a file (``-``: standard input), by name."""

    name: str
    data: bytes


STDIN = "<stdin>"


def load_yaml_source(
    source: str | os.PathLike[str] | NamedText, *, expect_mapping: bool = True
) -> SourceDoc:
    """A file by its path, or text already read (standard input) under its name."""
    if isinstance(source, NamedText):
        return load_yaml_text(source.data, source.name, expect_mapping=expect_mapping)
    return load_yaml_file(source, expect_mapping=expect_mapping)


def load_yaml_file(path: str | os.PathLike[str], *, expect_mapping: bool = True) -> SourceDoc:
    """Read and parse a YAML file; raise InputError (YAML00x) instead of any OS or YAML error."""
    file = os.fspath(path)
    try:
        with open(file, "rb") as stream:
            raw = stream.read(MAX_BYTES + 1)  # never read more than the limit of a hostile file
    except FileNotFoundError:
        raise _error("YAML008", "file not found", Location(file)) from None
    except IsADirectoryError:
        # The command line walks a directory for its *.yaml files; one that reaches here has none.
        message = "is a directory with no *.yaml file under it"
        raise _error("YAML008", message, Location(file)) from None
    except OSError as exc:
        message = f"cannot read file: {exc.strerror or exc}"
        raise _error("YAML008", message, Location(file)) from None
    if len(raw) > MAX_BYTES:
        message = f"file is larger than the {MAX_BYTES:,} byte (1 MiB) limit"
        raise _error("YAML003", message, Location(file))
    return load_yaml_text(raw, file, expect_mapping=expect_mapping)


def _show(value: Any) -> str:
    """A short, YAML-flavoured rendering; large inputs are described, never dumped."""
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, int) and value.bit_length() > 128:  # str() refuses > 4300 digits
        return "a very large number"
    if isinstance(value, dict | list):
        return "a mapping" if isinstance(value, dict) else "a list"
    return str(value)[:40]


def _dotted(path: Sequence[Any]) -> str:
    return ".".join(str(p) for p in path)


def _members(tp: Any) -> list[Any]:
    """The concrete types behind Annotated[...] and unions (Optional included)."""
    if get_origin(tp) is Annotated:
        return _members(get_args(tp)[0])
    if get_origin(tp) in (Union, types.UnionType):
        return [m for arg in get_args(tp) for m in _members(arg)]
    return [tp]


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _step(tp: Any, part: Any) -> list[Any]:
    found: list[Any] = []
    for member in _members(tp):
        origin, args = get_origin(member), get_args(member)
        if _is_model(member):
            for name, info in member.model_fields.items():
                if part in (name, info.alias, info.validation_alias):
                    found.append(info.annotation)
        elif origin in (list, set, frozenset, Sequence) and args and isinstance(part, int):
            found.append(args[0])
        elif origin is tuple and args and isinstance(part, int):
            found.append(args[0] if args[-1] is Ellipsis else args[min(part, len(args) - 1)])
        elif origin in (dict, Mapping) and len(args) == 2:
            found.append(args[1])
    return found


def _types_at(model: type[BaseModel], path: Sequence[Any]) -> list[Any]:
    current: list[Any] = [model]
    for part in path:
        current = [found for tp in current for found in _step(tp, part)]
    return [m for tp in current for m in _members(tp)]


def _field_names(model: type[BaseModel], path: Sequence[Any]) -> list[str]:
    names = [
        info.alias or name
        for tp in _types_at(model, path)
        if _is_model(tp)
        for name, info in tp.model_fields.items()
    ]
    return list(dict.fromkeys(names))


def _allowed_values(model: type[BaseModel], path: Sequence[Any], ctx: dict[str, Any]) -> list[str]:
    values: list[Any] = []
    for tp in _types_at(model, path):
        if get_origin(tp) is Literal:
            values += get_args(tp)
        elif isinstance(tp, type) and issubclass(tp, enum.Enum):
            values += [member.value for member in tp]
    if not values and "expected" in ctx:
        expected = str(ctx["expected"])
        values = re.findall(r"'([^']*)'", expected) or [expected]
    return list(dict.fromkeys(v if isinstance(v, str) else _show(v) for v in values))


def _data_path(data: Any, loc: Sequence[Any], missing: bool) -> Path:
    """The error's loc without pydantic's union labels ('int', 'Connector', ...) in it."""
    path: list[Any] = []
    for i, part in enumerate(loc):
        if (isinstance(data, dict) and part in data) or (
            isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        ):
            data = data[part]
        elif not (missing and i == len(loc) - 1):  # keep only the absent setting itself
            continue
        path.append(part)
    return tuple(path)


def _schema_diagnostic(doc: SourceDoc, model: type[BaseModel], err: Any) -> Diagnostic:
    kind: str = err["type"]
    path = _data_path(doc.data, err["loc"], kind == "missing")
    name = _dotted(path) or "top level"
    parent, last = path[:-1], (path[-1] if path else "")
    where = f" in '{_dotted(parent)}'" if parent else ""
    if kind == "extra_forbidden":
        allowed = _field_names(model, parent)
        close = difflib.get_close_matches(str(last), allowed, n=1)
        fix = f"did you mean '{close[0]}'?" if close else ""
        if not close and allowed:
            fix = "allowed here: " + ", ".join(allowed[:12]) + (" ..." if allowed[12:] else "")
        message = f"unknown setting {_show(last)}{where}"
        return Diagnostic("SCHEMA001", Severity.ERROR, message, doc.locate(path, key=True), fix)
    if kind == "missing":
        fix = f"add '{last}: ...' " + (f"under '{_dotted(parent)}'" if parent else "at top level")
        message = f"missing required setting {_show(last)}{where}"
        return Diagnostic("SCHEMA002", Severity.ERROR, message, doc.locate(path), fix)
    secret = any(_SECRET.search(str(part)) for part in err["loc"])
    value = err.get("input")
    shown = "the value given" if secret else _show(value)
    fix = ""
    allowed = _allowed_values(model, path, err.get("ctx") or {})
    if kind in ("literal_error", "enum") and allowed:
        message = f"{name}: {shown} is not one of {', '.join(allowed)}"
        close = [] if secret else difflib.get_close_matches(str(value), allowed, n=1)
        fix = f"did you mean '{close[0]}'?" if close else ""
    else:
        reason = re.sub(r"^(Value error, |Assertion failed, )", "", str(err["msg"]))
        reason = re.sub(r"^Input should be ", "expected ", reason)
        if secret and isinstance(value, str) and value:
            reason = reason.replace(value, "***")  # custom validators may echo the input
        message = f"{name}: {shown} is not valid: {reason[:1].lower()}{reason[1:]}"
    return Diagnostic("SCHEMA003", Severity.ERROR, message, doc.locate(path), fix)


def validate_model(doc: SourceDoc, model: type[M], *, context: dict[str, Any] | None = None) -> M:
    """Validate the loaded data; every pydantic error becomes a located SCHEMA00x diagnostic."""
    try:
        return model.model_validate(doc.data, context=context)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    # A union reports one error per member at the same place; say it once, with every reason.
    merged: dict[tuple[str, Location, str], Diagnostic] = {}
    for diagnostic in (_schema_diagnostic(doc, model, err) for err in errors):
        head, sep, reason = diagnostic.message.partition(" is not valid: ")
        key = (diagnostic.code, diagnostic.location, head if sep else diagnostic.message)
        if key in merged and sep and reason not in merged[key].message:
            merged[key] = dataclasses.replace(
                merged[key], message=f"{merged[key].message}, or {reason}"
            )
        merged.setdefault(key, diagnostic)
    diagnostics = _one_per_typo(list(merged.values()))
    diagnostics.sort(key=lambda d: (d.location.line, d.location.column))
    raise InputError(diagnostics)


def _one_per_typo(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """A misspelt required key is one mistake: drop 'missing X' where a typo means X."""
    meant = {
        (d.location.path[:-1], d.fix.removeprefix("did you mean '").removesuffix("'?"))
        for d in diagnostics
        if d.code == "SCHEMA001" and d.fix.startswith("did you mean '")
    }
    return [
        d
        for d in diagnostics
        if not (d.code == "SCHEMA002" and (d.location.path[:-1], str(d.location.path[-1])) in meant)
    ]


def apply_override(
    doc: SourceDoc, dotted: str, value: str, *, shown: str | None = None
) -> SourceDoc:
    """A copy of ``doc`` with ``dotted`` (``a.b.0.c``) set to ``value`` read as a YAML scalar.

    ``shown`` is the key as the user wrote it, when that differs from ``dotted`` (an override
    of a scenario's ``policy.*`` reaching into the policy file it names)."""
    written = shown or dotted
    label = f"--set {written}={'***' if _SECRET.search(written) else value}"
    parts = dotted.split(".")
    if not all(parts):
        raise _error("SET001", f"'{written}' is not a setting path like a.b.c", Location("--set"))
    # Copy each container on the path: aliases share objects, and the original must not change.
    root = _copy({} if doc.data is None else doc.data)
    current: Any = root
    path: list[str | int] = []
    overrides = dict(doc.overrides)
    for i, raw in enumerate(parts):
        number = int(raw) if raw.isascii() and raw.isdigit() else None
        if isinstance(current, dict):
            # YAML reads `1:` as an int key, so "a.1" must still find it.
            part: str | int = raw
            if number is not None and raw not in current and number in current:
                part = number
        elif isinstance(current, list) and number is not None and number < len(current):
            part = number
        else:
            where = f"'{'.'.join(parts[:i])}'" if i else "the top level"
            # Never echo the scalar itself: it may be a secret.
            kind = f"a list of {len(current)}" if isinstance(current, list) else "a single value"
            message = f"cannot set '{written}': {where} is {kind}, so '{raw}' cannot be in it"
            raise _error("SET001", message, Location("--set", path=tuple(parts)))
        path.append(part)
        if i == len(parts) - 1:
            current[part] = _override_value(value)
        else:
            child = current.get(part) if isinstance(current, dict) else current[part]
            if child is None:  # a mapping the override creates is located at the override too
                overrides[tuple(path)] = label
            child = {} if child is None else _copy(child)
            current[part] = child
            current = child
    overrides[tuple(path)] = label
    return dataclasses.replace(doc, data=root, overrides=overrides)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return dict(value)
    return list(value) if isinstance(value, list) else value


def _override_value(value: str) -> Any:
    try:
        parsed = load_yaml_text(value, "--set", expect_mapping=False).data
    except InputError:
        return value  # "@home", "" and the like are meant as plain text
    # "note=a: b" means the text, but "tags=[a, b]" asks for a list.
    if isinstance(parsed, dict | list) and not value.lstrip().startswith(("[", "{")):
        return value
    return parsed


def validate_checked(
    doc: SourceDoc, model: type[M], check: Callable[[M, SourceDoc], list[Diagnostic]]
) -> M:
    """Validate the loaded data, then run ``check`` over it (cross-references a schema cannot
    express); InputError with every problem found, located in the file."""
    value = validate_model(doc, model)
    problems = check(value, doc)
    if problems:
        raise InputError(problems)
    return value


# The shipped files' quick parse (``load_shipped``): libyaml's safe loader when there is one.
_QUICK_LOADER = yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader


def load_shipped(name: str, model: type[M], check: Callable[[M, SourceDoc], list[Diagnostic]]) -> M:
    """A data file shipped inside the engine (``engine/NAME``), validated and checked."""
    from importlib import resources

    text = resources.files("houzzflow.engine").joinpath(name).read_text(encoding="utf-8")
    return load_trusted(text, f"engine/{name}", model, check)


def load_trusted(
    text: str, file: str, model: type[M], check: Callable[[M, SourceDoc], list[Diagnostic]]
) -> M:
    """``validate_checked(load_yaml_text(text, file), model, check)`` for a file houzzflow
    ships, which every start-up reads: parsed without noting where each value was written
    (by libyaml when PyYAML has it), as only a broken file needs that, to say where. A file
    the quick way does not accept is read again the careful way, which says what is wrong
    and where. tests/test_startup.py checks that both ways give the same data."""
    loader = _QUICK_LOADER(text)  # a safe loader, libyaml's when PyYAML has it
    try:
        data = loader.get_single_data()
    except yaml.YAMLError:
        data = None
    finally:
        loader.dispose()
    if isinstance(data, dict):
        with contextlib.suppress(InputError):
            return validate_checked(SourceDoc(file, data), model, check)
    return validate_checked(load_yaml_text(text, file), model, check)
