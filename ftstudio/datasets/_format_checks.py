"""Per-row format checks: what the fine-tuning API rejects before a job starts (facts §5).

`check_row(row, method)` returns (severity, code, path, message) tuples; `dataset_report` adds the
row index and line and builds the report. Messages say what to change.
"""

from __future__ import annotations

from typing import Any

from ._readers import kind_of

METHODS = ("supervised", "dpo", "reinforcement")
ROLES = ("system", "developer", "user", "assistant", "tool")
LEGACY_ROLES = ("function",)
SUPERVISED_KEYS = ("messages", "tools", "parallel_tool_calls", "functions")
DPO_KEYS = ("input", "preferred_output", "non_preferred_output")
DPO_INPUT_KEYS = ("messages", "tools", "parallel_tool_calls")
RFT_RESERVED_KEYS = ("messages", "tools")
CONTENT_PART_TYPES = ("text", "image_url")
_UNSUPPORTED_PARTS = {"input_audio": "audio", "audio": "audio", "file": "file", "input_file": "file"}

Finding = tuple[str, str, str, str]  # severity, code, path, message


def check_row(row: dict, method: str, ignore_keys: tuple[str, ...] = ()) -> list[Finding]:
    out: list[Finding] = []
    if method == "supervised":
        _supervised(row, out, ignore_keys)
    elif method == "dpo":
        _dpo(row, out, ignore_keys)
    elif method == "reinforcement":
        _reinforcement(row, out)
    else:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    return out


def _unknown_keys(obj: dict, known: tuple[str, ...], prefix: str, out: list[Finding], ignore=()) -> None:
    for key in obj:
        if key not in known and key not in ignore:
            out.append((
                "warning", "unknown_key", f"{prefix}{key}",
                f"unknown key {key!r}; the API expects {', '.join(known)}: remove it",
            ))


def _messages_list(value: Any, path: str, out: list[Finding], present: bool) -> list | None:
    if not present:
        out.append(("error", "missing_messages", path, f"no {path!r}; add a list of messages [{{\"role\": ..., \"content\": ...}}]"))
        return None
    if not isinstance(value, list):
        out.append(("error", "invalid_messages", path, f"{path!r} must be a list of messages, got {kind_of(value)}"))
        return None
    if not value:
        out.append(("error", "empty_messages", path, f"{path!r} is empty; add at least one message"))
        return None
    return value


def _message(msg: Any, path: str, out: list[Finding], *, roles: tuple[str, ...], images: bool, weight: bool) -> str | None:
    """Check one message; return its role when it has a valid one."""
    if not isinstance(msg, dict):
        out.append(("error", "invalid_message", path, f"a message must be an object with role and content, got {kind_of(msg)}"))
        return None
    role = msg.get("role")
    if "role" not in msg:
        out.append(("error", "missing_role", f"{path}.role", "the message has no role; add one of " + ", ".join(roles)))
        role = None
    elif role not in roles:
        out.append(("error", "invalid_role", f"{path}.role", f"role {role!r} is not one of {', '.join(roles)}"))
        role = None
    _content(msg, path, out, images=images)
    if "weight" in msg:
        w = msg["weight"]
        if not weight:
            out.append(("warning", "unexpected_weight", f"{path}.weight", "weight is only used by supervised fine-tuning; remove it"))
        elif role is not None and role != "assistant":
            out.append(("error", "weight_not_on_assistant", f"{path}.weight", f"weight is only allowed on assistant messages, not {role}; remove it"))
        elif isinstance(w, bool) or w not in (0, 1):
            out.append(("error", "invalid_weight", f"{path}.weight", f"weight must be 0 or 1, got {w!r}"))
    return role


def _content(msg: dict, path: str, out: list[Finding], *, images: bool) -> None:
    content = msg.get("content")
    cpath = f"{path}.content"
    if content is None:
        calls = msg.get("tool_calls") or msg.get("function_call")
        if not (msg.get("role") == "assistant" and calls):
            out.append(("error", "missing_content", cpath, "the message has no content; add the text (only an assistant message with tool_calls may omit it)"))
        return
    if isinstance(content, str):
        return
    if not isinstance(content, list):
        out.append(("error", "invalid_content", cpath, f"content must be a string or a list of parts, got {kind_of(content)}"))
        return
    for j, part in enumerate(content):
        ppath = f"{cpath}[{j}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in _UNSUPPORTED_PARTS:
            out.append(("error", "unsupported_content_type", f"{ppath}.type", f"{_UNSUPPORTED_PARTS[kind]} inputs are not supported for fine-tuning (text and images only); remove this part"))
        elif kind == "image_url" and not images:
            out.append(("error", "unsupported_content_type", f"{ppath}.type", "images are not supported here (DPO is text only); remove this part"))
        elif kind not in CONTENT_PART_TYPES:
            shown = repr(kind) if kind is not None else "missing"
            out.append(("error", "invalid_content_type", f"{ppath}.type", f"content part type {shown} is not one of text, image_url"))
        elif kind == "text" and not isinstance(part.get("text"), str):
            out.append(("error", "invalid_content", f"{ppath}.text", "a text part needs a string 'text'"))
        elif kind == "image_url" and not isinstance(part.get("image_url"), (dict, str)):
            out.append(("error", "invalid_content", f"{ppath}.image_url", "an image part needs 'image_url': {\"url\": ...}"))


def _optional_list(row: dict, key: str, path: str, out: list[Finding]) -> None:
    if key in row and not isinstance(row[key], list):
        out.append(("error", f"invalid_{key}", path, f"{key!r} must be a list, got {kind_of(row[key])}"))


def _parallel(row: dict, path: str, out: list[Finding]) -> None:
    if "parallel_tool_calls" in row and not isinstance(row["parallel_tool_calls"], bool):
        out.append(("error", "invalid_parallel_tool_calls", path, "parallel_tool_calls must be true or false"))


def _supervised(row: dict, out: list[Finding], ignore: tuple[str, ...]) -> None:
    _unknown_keys(row, SUPERVISED_KEYS, "", out, ignore)
    messages = _messages_list(row.get("messages"), "messages", out, "messages" in row)
    _optional_list(row, "tools", "tools", out)
    _optional_list(row, "functions", "functions", out)
    _parallel(row, "parallel_tool_calls", out)
    if "functions" in row:
        out.append(("info", "deprecated_functions", "functions", "functions is deprecated; prefer tools"))
    if messages is None:
        return
    assistants = weights_zero = 0
    for i, msg in enumerate(messages):
        role = _message(msg, f"messages[{i}]", out, roles=ROLES + LEGACY_ROLES, images=True, weight=True)
        if role == "assistant":
            assistants += 1
            weights_zero += msg.get("weight") == 0 and not isinstance(msg.get("weight"), bool)
    if assistants == 0:
        out.append(("error", "no_assistant_message", "messages", "no assistant message; add the reply the model should learn"))
    elif weights_zero == assistants:
        out.append(("warning", "all_weights_zero", "messages", "every assistant message has weight 0, so the row teaches nothing; set weight 1 on at least one"))


def _dpo_output(row: dict, key: str, out: list[Finding]) -> Any:
    if key not in row:
        out.append(("error", "missing_output", key, f"no {key!r}; add [{{\"role\": \"assistant\", \"content\": ...}}]"))
        return None
    value = row[key]
    if not isinstance(value, list):
        out.append(("error", "invalid_output", key, f"{key!r} must be a list holding one assistant message, got {kind_of(value)}"))
        return None
    if len(value) != 1:
        out.append(("error", "output_not_single", key, f"{key!r} must hold exactly one assistant message, got {len(value)}"))
    for i, msg in enumerate(value):
        role = _message(msg, f"{key}[{i}]", out, roles=ROLES, images=False, weight=False)
        if role is not None and role != "assistant":
            out.append(("error", "output_not_assistant", f"{key}[{i}].role", f"the output must be an assistant message, not {role}"))
    return value


def _dpo(row: dict, out: list[Finding], ignore: tuple[str, ...]) -> None:
    _unknown_keys(row, DPO_KEYS, "", out, ignore)
    source = row.get("input")
    if "input" not in row:
        out.append(("error", "missing_input", "input", "no 'input'; add {\"messages\": [...]} with the prompt"))
    elif not isinstance(source, dict):
        out.append(("error", "invalid_input", "input", f"'input' must be an object with messages, got {kind_of(source)}"))
    else:
        _unknown_keys(source, DPO_INPUT_KEYS, "input.", out)
        _optional_list(source, "tools", "input.tools", out)
        _parallel(source, "input.parallel_tool_calls", out)
        messages = _messages_list(source.get("messages"), "input.messages", out, "messages" in source)
        if messages is not None:
            roles = [_message(m, f"input.messages[{i}]", out, roles=ROLES, images=False, weight=False) for i, m in enumerate(messages)]
            if "assistant" in roles:
                out.append(("warning", "multi_turn_input", "input.messages", "DPO is single-turn: an assistant message in the input may be rejected; keep the prompt only"))
            if roles[-1] is not None and roles[-1] != "user":
                out.append(("warning", "last_message_not_user", f"input.messages[{len(roles) - 1}].role", "the input should end with the user's message that the outputs answer"))
    preferred = _dpo_output(row, "preferred_output", out)
    rejected = _dpo_output(row, "non_preferred_output", out)
    if preferred is not None and preferred == rejected:
        out.append(("warning", "identical_outputs", "non_preferred_output", "preferred and non-preferred outputs are identical, so the row teaches nothing"))


def _reinforcement(row: dict, out: list[Finding]) -> None:
    messages = _messages_list(row.get("messages"), "messages", out, "messages" in row)
    _optional_list(row, "tools", "tools", out)
    if messages is None:
        return
    roles = [_message(m, f"messages[{i}]", out, roles=ROLES, images=True, weight=False) for i, m in enumerate(messages)]
    if roles[-1] is not None and roles[-1] != "user":
        out.append(("warning", "last_message_not_user", f"messages[{len(roles) - 1}].role", "the last message should be from the user (Azure requires it); the model answers it"))


def item_fields(row: dict, ignore: tuple[str, ...] = ()) -> list[str]:
    """Top-level keys a reinforcement grader sees as {{item.<key>}}."""
    return [k for k in row if k not in RFT_RESERVED_KEYS and k not in ignore]
