"""How trainers hand us a sample: completions as text or chat messages, labels as items.

Shared by the reward adapters (TRL, verl, OpenRLHF) and the HTTP service, so a label means the same
item and a completion the same text wherever a reward is computed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any


def completion_text(completion: Any) -> str:
    """A completion as text: a string as itself; a conversation (a list of {"role", "content"}) as the
    content of its last assistant message (content parts of type text are joined)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        completion = [completion]
    if isinstance(completion, list):
        for message in reversed(completion):
            if isinstance(message, dict) and message.get("role", "assistant") == "assistant":
                return _content_text(message.get("content"))
        return ""
    return "" if completion is None else str(completion)


class _NotPlain(Exception):
    pass


def _not_plain() -> str:
    raise _NotPlain


def plain_texts(completions: Sequence[Any]) -> list[str] | None:
    """Each completion's `completion_text` when all have a shape trainers send (strings; conversations whose last
    message is an assistant's with string content) and every text is a plain `str`; None otherwise. One pass, no
    call per completion: the engine's small-call plan starts here (a str subclass is the engine's to write)."""
    str_, list_, dict_ = str, list, dict  # local names: a third faster than c.__class__ per check
    try:
        if completions and type(completions[0]) is str_:
            return [c if type(c) is str_ else _not_plain() for c in completions]
        return [t if type(c) is list_ and type(m := c[-1]) is dict_ and m["role"] == "assistant"
                and type(t := m["content"]) is str_ else _not_plain() for c in completions]
    except (_NotPlain, IndexError, KeyError):  # an empty conversation, a message without role or content, ...
        return None


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return "" if content is None else str(content)


def item_from_label(label: Any) -> dict[str, Any]:
    """A label as the grader's `item`: a dict as itself; a string holding a JSON object as that object;
    anything else as {"reference_answer": label}."""
    if isinstance(label, dict):
        return label
    if isinstance(label, str):
        text = label.strip()
        if text.startswith("{"):
            try:
                value = json.loads(text)
            except ValueError:
                value = None
            if isinstance(value, dict):
                return value
    return {"reference_answer": label}


def strip_prompt(query: str, prompt: str) -> str:
    """The completion inside an OpenRLHF query (prompt + response): the query minus its prompt prefix.
    When the prompt isn't a prefix (a chat template re-rendered it), the text after the prompt's last
    occurrence; failing that, the whole query."""
    if prompt and query.startswith(prompt):
        return query[len(prompt):]
    if prompt:
        at = query.rfind(prompt)
        if at >= 0:
            return query[at + len(prompt):]
    return query
