"""Diagnostics as data: every finding is a record with a stable code, never a bare exception."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Location:
    """Where in a file a finding points (1-based line and column; 0 when unknown)."""

    file: str = ""
    line: int = 0
    column: int = 0
    path: tuple[str | int, ...] = ()

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column}"
        return self.file

    @property
    def dotted(self) -> str:
        return ".".join(str(p) for p in self.path)


@dataclass(frozen=True, slots=True, eq=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    location: Location = field(default_factory=Location)
    fix: str = ""
    # The fix as dotted setting -> value, where it can be applied mechanically.
    patch: dict[str, Any] | None = None

    def render(self) -> str:
        where = f"{self.location}: " if str(self.location) else ""
        fix = f"\n    fix: {self.fix}" if self.fix else ""
        return f"{where}{self.severity} {self.code}: {self.message}{fix}"

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": str(self.severity),
            "message": self.message,
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "setting": self.location.dotted,
            "fix": self.fix,
            "patch": self.patch,
        }


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)


class InputError(Exception):
    """Input that cannot be read: carries every diagnostic found, exit status 2."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__("\n".join(d.render() for d in diagnostics))
