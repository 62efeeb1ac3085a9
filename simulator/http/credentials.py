"""Where ``houzzflow serve`` takes its secrets from, and how it talks about them.

A secret is read from a file (``--token-file``) or the environment (``$HOUZZFLOW_TOKEN``):
a value on the command line is visible to every user of the machine in ``ps``, so it is
accepted with a warning. What is printed names the source, never the value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

MAX_SECRET_BYTES = 4096  # a token file larger than this is not a token file


class CredentialError(ValueError):
    """A secret that cannot be read: the message names the file, never its content."""


@dataclass(frozen=True)
class Secret:
    """A secret and where it came from (``source`` is safe to print)."""

    value: str = field(repr=False)
    source: str
    on_command_line: bool = False


def read_secret_file(path: str) -> str:
    """The first line of ``path``, stripped; CredentialError when unreadable or empty."""
    try:
        with Path(path).open("rb") as stream:
            raw = stream.read(MAX_SECRET_BYTES + 1)
    except OSError as exc:
        raise CredentialError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_SECRET_BYTES:
        raise CredentialError(f"{path} is larger than {MAX_SECRET_BYTES} bytes: not a token file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CredentialError(f"{path} is not UTF-8 text") from None
    lines = text.splitlines()
    value = lines[0].strip() if lines else ""
    if not value:
        raise CredentialError(f"{path} is empty: write the token on its first line")
    return value


def choose(
    *, option: str, given: str | None, from_env: bool, file: str | None, env: str, default: str
) -> Secret:
    """The secret from ``file``, else ``given`` (from ``env`` when ``from_env``), else
    ``default`` ("" for none); ``option`` names the command-line option."""
    if file:
        return Secret(read_secret_file(file), f"the token in {file}")
    if given:
        if from_env:
            return Secret(given, f"the token in ${env}")
        return Secret(given, f"the token given with {option}", on_command_line=True)
    if default:
        return Secret(default, f"the default token {default!r}")
    return Secret("", "none")


def command_line_warning(option: str, env: str) -> str:
    return (
        f"warning: {option} on the command line is visible to other users of this machine "
        f"(ps, /proc); prefer ${env} or {option}-file"
    )
