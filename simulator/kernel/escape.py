"""Text a report format can hold: every character XML or JSON forbids, escaped.

XML 1.0 has no way to write U+0008 or U+FFFE, not even as a character reference, and a
lone surrogate (a file name with undecodable bytes) cannot be encoded at all; JSON written
with raw non-ASCII trips strict parsers on the same characters. A name in a report comes
from a user's file, so every report passes through here.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Characters XML 1.0 cannot hold, not even as a character reference.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` with every character XML 1.0 forbids written as a visible escape (``\\x08``)."""
    return _NOT_XML.sub(lambda m: _escape(m.group()), text)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def json_text(data: Any, *, indent: int | None = 2, sort_keys: bool = False) -> str:
    """JSON for a report: non-ASCII written as escapes, so a lone surrogate (an undecodable
    file name), U+FFFE or a control character can never make it unparseable."""
    return json.dumps(data, indent=indent, sort_keys=sort_keys, ensure_ascii=True)
