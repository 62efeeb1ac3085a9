"""Where a command's report goes: the terminal or ``-o FILE``, written whole or not at all.

Every command's ``--format`` and ``-o/--output`` go through this module:

- ``REPORT_FORMATS`` is the table of each command's formats, name -> renderer (given as
  ``module:function`` so that ``houzzflow --help`` imports nothing heavy). A new format is
  one entry; the CLI builds its ``--format`` choices from this table. A renderer takes the
  command's result (run: its items; validate: its reports; matrix: its cells; sweep: the
  sweep; matrix html: the atlas) and keyword options it may ignore (``quiet``, ``shown``,
  ``saved``, ``seconds``, ``proofs``, ``ascii_only``), and returns the whole text.
- ``write_report`` writes a file through a temporary name and a rename, so an interrupted
  run, a full disk or a missing directory leaves no half-written report; a failure is an
  ``OutputError`` with one line to print, never a traceback.
- ``write_stdout`` does the same for standard output: a closed pipe (``| head``) or a full
  device (``> /dev/full``) is an ``OutputError`` too.
- The reports themselves escape what their format forbids (``kernel.escape``).
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from houzzflow.simulator.kernel.files import write_whole

# command -> format -> "module:function" rendering that command's result in that format.
REPORT_FORMATS: dict[str, dict[str, str]] = {
    "run": {
        "text": "houzzflow.simulator.runs.report:text_report",
        "json": "houzzflow.simulator.runs.report:json_report",
        "junit": "houzzflow.simulator.runs.report:junit_report",
        "html": "houzzflow.simulator.html.reports:run_report",
    },
    "validate": {
        "text": "houzzflow.simulator.validate_report:text_report",
        "json": "houzzflow.simulator.validate_report:json_report",
        "junit": "houzzflow.simulator.validate_report:junit_report",
        "html": "houzzflow.simulator.html.reports:validate_report",
    },
    "sweep": {
        "text": "houzzflow.simulator.sweep.report:text_report",
        "json": "houzzflow.simulator.sweep.report:json_report",
        "csv": "houzzflow.simulator.sweep.report:csv_report",
    },
    "conformance": {
        "text": "houzzflow.simulator.conformance:text_report",
        "json": "houzzflow.simulator.conformance:json_report",
        "junit": "houzzflow.simulator.conformance:junit_report",
    },
    "matrix": {
        "text": "houzzflow.simulator.proof.matrix:text_report",
        "markdown": "houzzflow.simulator.proof.matrix:markdown_report",
        "csv": "houzzflow.simulator.proof.matrix:csv_report",
        "json": "houzzflow.simulator.proof.matrix:json_report",
        # the settings explorer page, drawn from the wider atlas (proof.atlas), not the cells
        "html": "houzzflow.simulator.html.explorer:explorer_report",
    },
}

STDOUT = "<stdout>"
# Set once standard output has failed and been reported, so the failure is told once.
_failed: list[bool] = []


class OutputError(Exception):
    """A report that could not be written: ``str()`` is the one line to print."""

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: error OUT001 cannot write the report: {reason}")


def formats(command: str) -> list[str]:
    """The ``--format`` choices of a command, in the table's order."""
    return list(REPORT_FORMATS[command])


def renderer(command: str, fmt: str) -> Callable[..., str]:
    """The function that renders ``command``'s result as ``fmt``."""
    module_name, _, function = REPORT_FORMATS[command][fmt].partition(":")
    found: Callable[..., str] = getattr(importlib.import_module(module_name), function)
    return found


def write_report(text: str, path: str | os.PathLike[str]) -> None:
    """Write ``text`` to ``path`` whole (temporary file, then rename); OutputError if not."""
    target = Path(path)
    where = os.fspath(path)
    if target.is_dir():
        raise OutputError(where, "it is a directory")
    directory = target.parent
    if not directory.is_dir():
        raise OutputError(where, f"no directory {os.fspath(directory)!r}")
    try:
        write_whole(target, text)
    except OSError as exc:
        raise OutputError(where, exc.strerror or str(exc)) from None


def write_stdout(text: str, stream: TextIO | None = None) -> None:
    """Write ``text`` to standard output and flush it; OutputError when that fails (a
    closed pipe, a full device). Afterwards standard output points at the null device, so
    Python's own flush at exit cannot fail again with a traceback."""
    out = stream if stream is not None else sys.stdout
    if out is None:  # the process started with standard output closed (>&-)
        _failed.append(True)
        raise OutputError(STDOUT, "it is closed")
    try:
        out.write(text)
        out.flush()
    except UnicodeEncodeError:
        encoding = getattr(out, "encoding", None) or "utf-8"
        with contextlib.suppress(OSError, ValueError):
            out.write(text.encode(encoding, "backslashreplace").decode(encoding))
            out.flush()
    except (OSError, ValueError) as exc:
        _silence(out)
        reason = "the pipe was closed" if isinstance(exc, BrokenPipeError) else None
        if isinstance(exc, ValueError):
            reason = "it is closed"
        if reason is None and isinstance(exc, OSError):
            reason = exc.strerror
        raise OutputError(STDOUT, reason or str(exc)) from None


def start() -> None:
    """Forget an earlier command's failed standard output (one process may run several
    commands: tests, an embedding program)."""
    _failed.clear()


def flush_stdout(stream: TextIO | None = None) -> None:
    """Flush standard output at the end of a command; OutputError (and standard output
    silenced) when that fails, like ``write_stdout``. (Writing "" would not do: on
    /dev/full even an empty write fails.)"""
    out = stream if stream is not None else sys.stdout
    if _failed:
        return
    if out is None:  # the process started with standard output closed (>&-)
        _failed.append(True)
        raise OutputError(STDOUT, "it is closed")
    try:
        out.flush()
    except (OSError, ValueError) as exc:
        _silence(out)
        failure = stdout_failure(exc) if isinstance(exc, OSError) else None
        raise failure or OutputError(STDOUT, "it is closed") from None


def stdout_failure(exc: BaseException) -> OutputError | None:
    """The OutputError for an exception raised while writing to standard output (a closed
    pipe, a full device), or None for any other exception."""
    if isinstance(exc, BrokenPipeError):
        _silence(sys.stdout)
        return OutputError(STDOUT, "the pipe was closed")
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EIO, errno.EBADF):
        _silence(sys.stdout)
        return OutputError(STDOUT, exc.strerror or str(exc))
    return None


def _silence(stream: TextIO) -> None:
    """Point a failed stream's descriptor at the null device (Python's documented recipe
    for SIGPIPE), so that the interpreter's flush at exit has nowhere left to fail."""
    _failed.append(True)
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
