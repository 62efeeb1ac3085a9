"""Diagnostics as data: every finding is a record with a stable code, never a bare exception."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# Findings about a policy's meaning (rules, open questions, the proof): each ends, in text,
# with a hint to ``houzzflow explain CODE``.
EXPLAINED = ("HZ", "ASSUME010", "PROOF")


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

    def to_json(self) -> dict[str, Any]:
        """The location object every JSON report uses (line and column 0 when unknown)."""
        return {"file": self.file, "line": self.line, "column": self.column}

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

    @property
    def head(self) -> str:
        """``file:line:col: severity CODE message``: the one line editors and CI annotators
        parse (GCC's shape), the same in every command's text output."""
        where = f"{self.location}: " if str(self.location) else ""
        return f"{where}{self.severity} {self.code} {self.message}"

    @property
    def hint(self) -> str:
        """The command that explains a finding's rule ("" for input mistakes, whose message
        says all there is)."""
        return f"houzzflow explain {self.code}" if self.code.startswith(EXPLAINED) else ""

    def render(self) -> str:
        """The head line, then the finding's own fix and the hint to its rule, indented."""
        fix = f"\n    fix: {self.fix}" if self.fix else ""
        see = f"\n    see: {self.hint}" if self.hint else ""
        return f"{self.head}{fix}{see}"

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": str(self.severity),
            "message": self.message,
            **self.location.to_json(),
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
