"""OpenAI reinforcement rows as Gemini's reinforcement tuning examples (`ftstudio convert --to gemini`).

A row `{"messages": [...], <item fields>}` becomes `{"systemInstruction"?, "contents", "references"}`
(ReinforcementTuningExample in ProtoJSON): system and developer messages form the system instruction,
user stays user and assistant becomes model; text content parts are kept. Every other field is the
grader's item and goes to `references`, whose values must be strings: non-string values are
JSON-encoded and named (see _gemini_runtime). What can't be carried is reported per row, never
silently dropped: tool calls and tool messages, images and audio, `tools`, and the test-grading
output column.
"""

from __future__ import annotations

from typing import Any

from ftstudio.core import DEFAULT_SAMPLE_FIELD
from ftstudio.core.records import datarecord, field

from ._gemini_runtime import ftstudio_references

_ROLES = {"user": "user", "assistant": "model"}
_SYSTEM = ("system", "developer")


class GeminiRowError(ValueError):
    """A row that can't become a Gemini example (no user turn, messages not a list)."""


@datarecord
class GeminiRow:
    example: dict
    dropped: list[str] = field(default_factory=list)  # what the row lost, one phrase each
    encoded: list[str] = field(default_factory=list)  # reference keys JSON-encoded


def _parts(content: Any, where: str, dropped: list[str]) -> list[dict]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"text": content}]
    if isinstance(content, list):
        out = []
        for i, part in enumerate(content):
            if isinstance(part, str):
                out.append({"text": part})
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                out.append({"text": part["text"]})
            else:
                kind = part.get("type", "part") if isinstance(part, dict) else type(part).__name__
                dropped.append(f"{where}.content[{i}] ({kind})")
        return out
    raise GeminiRowError(f"{where}.content must be a string or a list of content parts")


def gemini_row(row: Any, sample_field: str = DEFAULT_SAMPLE_FIELD) -> GeminiRow:
    if not isinstance(row, dict):
        raise GeminiRowError(f"a row is a JSON object, not {type(row).__name__}")
    messages = row.get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise GeminiRowError('messages must be a list of {"role", "content"} objects')
    dropped: list[str] = []
    system: list[dict] = []
    contents: list[dict] = []
    for i, msg in enumerate(messages):
        role, where = msg.get("role"), f"messages[{i}]"
        if role in _SYSTEM:
            system += _parts(msg.get("content"), where, dropped)
        elif role in _ROLES:
            parts = _parts(msg.get("content"), where, dropped)
            if msg.get("tool_calls"):
                dropped.append(f"{where}.tool_calls")
            if parts:
                contents.append({"role": _ROLES[role], "parts": parts})
        else:
            dropped.append(f"{where} (role {role!r})")
    if not any(c["role"] == "user" for c in contents):
        raise GeminiRowError("no user message with text: Gemini's contents need the prompt")
    item = {k: v for k, v in row.items() if k not in ("messages", "tools", sample_field)}
    dropped += [k for k in ("tools", sample_field) if k in row]
    refs, encoded = ftstudio_references(item)
    example: dict[str, Any] = {}
    if system:
        example["systemInstruction"] = {"parts": system}
    example["contents"] = contents
    if refs:
        example["references"] = refs
    return GeminiRow(example, dropped, encoded)
