"""``houzzflow explain CODE``: a rule in the style of a linter's rule page.

For a rule code (``HZ001`` .. ``HZ016``): what it finds, why it matters, the source it comes
from (DOMAIN.md's list of known ways to lose orders, or the lifecycle it reasons over), an
example (a bundled policy file that triggers it, when one is given) and its fix. Other codes
(schema, YAML, open questions, the proof) get what they mean and what to do. The texts are
data in ``explain.yaml`` beside this module; a test checks every code the tool can emit has
an entry.
"""

from __future__ import annotations

import functools
import textwrap
from importlib.resources import files
from typing import Any

import yaml

from houzzflow.engine.rules import CODES

SECTIONS = ("finds", "why", "source", "example", "fix")
WIDTH = 88


@functools.cache
def catalog() -> dict[str, dict[str, Any]]:
    """Every explained code -> its entry (``finds``, ``why``, ``source``, ``example``, ``fix``)."""
    text = files("houzzflow.engine").joinpath("explain.yaml").read_text(encoding="utf-8")
    data: dict[str, dict[str, Any]] = yaml.safe_load(text)
    return data


def explain(code: str) -> str | None:
    """The rule page for ``code`` as text, or None for a code houzzflow does not have."""
    entry = catalog().get(code.upper())
    if entry is None:
        return None
    title = summary(code.upper())
    lines = [f"{code.upper()}: {title}", ""]
    for section in SECTIONS:
        body = str(entry.get(section, "")).strip()
        if body and body != title:
            lines.append(f"{section}:")
            if section == "example":  # a file: kept as written
                lines += ["  " + line for line in body.splitlines()]
            else:
                lines += textwrap.wrap(body, WIDTH, initial_indent="  ", subsequent_indent="  ")
            lines.append("")
    return "\n".join(lines)


def known_codes() -> list[str]:
    return sorted(catalog())


def summary(code: str) -> str:
    """One line about a code: the rule's title, or what the code finds."""
    entry = catalog()[code]
    return CODES.get(code, str(entry.get("finds", ""))).split(" [")[0]


def index() -> str:
    """Every code with its one line, rules first."""
    codes = sorted(catalog(), key=lambda c: (not c.startswith("HZ"), c))
    return "".join(f"{code:<10} {summary(code)}\n" for code in codes)
