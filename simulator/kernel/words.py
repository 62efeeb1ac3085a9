"""Small words every report shares: counts with their nouns in the right number."""

from __future__ import annotations


def plural(n: int, word: str, many: str = "") -> str:
    """``1 order``, ``2 orders`` (``many`` for an irregular plural)."""
    return f"{n} {word if n == 1 else many or word + 's'}"
