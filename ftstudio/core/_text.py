"""Names echoed back in messages are shortened: a message is repeated per row, so a 1 MB field name in a
request would otherwise cost 1 MB per row of memory and of answer."""

from __future__ import annotations

ECHO_CHARS = 80


def shorten(text: str, limit: int = ECHO_CHARS) -> str:
    """`text` as is when it has at most `limit` characters, else its start, '…' and how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """'1 line', '2 lines', '1,000 rows': a count with its noun in the right number (`plural` when it isn't
    noun + 's')."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
