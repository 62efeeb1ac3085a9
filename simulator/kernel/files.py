"""Writing a file whole or not at all: a temporary file beside it, then a rename.

Reports and saved counterexamples go through here, so an interrupted run, a full disk or a
missing directory never leaves half a file. The temporary file is created as a plain ``open``
would create the file (mode 0o666 less the umask), so the report is as readable to others as
any file the user writes, not private like ``tempfile.mkstemp``'s.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def write_whole(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and a rename; OSError if
    it cannot be written, with nothing left behind."""
    import secrets  # only when a file is written: not on every start-up

    target = Path(path)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
