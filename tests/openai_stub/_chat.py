"""Deterministic chat completions and embeddings, steered by [[directives]] in message text."""

from __future__ import annotations

import array
import base64
import hashlib
import json
import math
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from ._errors import ApiError
from ._judge import judge_score

REFUSAL_TEXT = "I can't help with that."
MALFORMED_CONTENT = '{"result": 0.5, "steps": [{"description": "unterminated'
_DIRECTIVE = re.compile(r"\[\[\s*(score|label|refuse|malformed|empty|delay|status)\s*(?::\s*([^\]]*?))?\s*\]\]")
_WORD = re.compile(r"\w+")


@dataclass
class Answer:
    content: str | None
    refusal: str | None
    status: int | None  # an HTTP status the directive asks for, else None
    delay: float
    prompt_tokens: int
    completion_tokens: int
    distinct: bool = False  # n > 1: each choice gets its own text


def content_text(content: Any) -> str:
    """Text of a message content: a string, a content block, or a list of blocks (images/audio add no text)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        text = content.get("text")
        if isinstance(text, str):
            return text
        return content.get("refusal") if isinstance(content.get("refusal"), str) else ""
    if isinstance(content, list):
        return "\n".join(t for t in (content_text(block) for block in content) if t)
    return ""


def parse_directives(messages: list[dict[str, Any]]) -> dict[str, str]:
    # Later text overrides earlier text; the last user message is read last so it always wins.
    texts = [content_text(m.get("content")) for m in messages if isinstance(m, dict)]
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    if users:
        texts.append(content_text(users[-1].get("content")))
    found: dict[str, str] = {}
    for text in texts:
        for name, value in _DIRECTIVE.findall(text):
            found[name] = value
    return found


def count_words(text: str) -> int:
    return len(_WORD.findall(text))


def messages_digest(messages: Any) -> str:
    return hashlib.sha256(json.dumps(messages, sort_keys=True, default=str).encode()).hexdigest()


def hash_score(digest: str) -> float:
    return round(int(digest[:8], 16) / 0xFFFFFFFF, 3)


def _directive_result(directives: dict[str, str]) -> Any:
    if "score" in directives:
        raw = directives["score"]
        try:
            value = float(raw)
        except ValueError:
            return raw
        return value if math.isfinite(value) else raw
    if "label" in directives:
        return directives["label"]
    return _NO_RESULT


_NO_RESULT = object()


def _resolve(schema: Any, root: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(schema, dict):
        return {}
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        node: Any = root
        for part in ref[2:].split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        return _resolve(node, root)
    for union in ("anyOf", "oneOf"):
        options = schema.get(union)
        if isinstance(options, list) and options:
            non_null = [o for o in options if not (isinstance(o, dict) and o.get("type") == "null")]
            return _resolve((non_null or options)[0], root)
    return schema


def _schema_type(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None and "properties" in schema:
        return "object"
    return kind


def _default_result(schema: dict[str, Any], digest: str) -> Any:
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    kind = _schema_type(schema)
    score = hash_score(digest)
    lo, hi = schema.get("minimum"), schema.get("maximum")
    if isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and hi >= lo:
        score = lo + (hi - lo) * score
    if kind == "integer":
        return int(round(score))
    if kind == "string":
        return f"stub-{digest[:8]}"
    return round(score, 3)


_STRING_DEFAULTS = {
    "description": "Compared the sample with the reference.",
    "conclusion": "The sample is consistent with the reference.",
    "explanation": "Deterministic stub explanation.",
    "reason": "Deterministic stub reason.",
}


def fill_schema(schema: Any, root: dict[str, Any], key: str, depth: int = 0) -> Any:
    """A plausible value that fits `schema` (deterministic; no randomness)."""
    node = _resolve(schema, root)
    if depth > 8:
        return None
    if "const" in node:
        return node["const"]
    if isinstance(node.get("enum"), list) and node["enum"]:
        return node["enum"][0]
    kind = _schema_type(node)
    if kind == "object":
        props = node.get("properties") or {}
        return {name: fill_schema(sub, root, name, depth + 1) for name, sub in props.items()}
    if kind == "array":
        count = max(1, int(node.get("minItems") or 1))
        return [fill_schema(node.get("items", {}), root, key, depth + 1) for _ in range(count)]
    if kind == "string":
        return _STRING_DEFAULTS.get(key, f"stub {key}".strip())
    if kind == "integer":
        return int(node.get("minimum", 1))
    if kind == "number":
        return node.get("minimum", 0.5)
    if kind == "boolean":
        return True
    return None


def _json_content(response_format: dict[str, Any], directives: dict[str, str], digest: str) -> str:
    result = _directive_result(directives)
    if response_format.get("type") == "json_object":
        value = hash_score(digest) if result is _NO_RESULT else result
        return json.dumps({"result": value})
    spec = response_format.get("json_schema") or {}
    schema = spec.get("schema") if isinstance(spec, dict) else None
    root = schema if isinstance(schema, dict) else {"type": "object", "properties": {"result": {"type": "number"}}}
    top = _resolve(root, root)
    value = fill_schema(root, root, "")
    if isinstance(value, dict) and "result" in (top.get("properties") or {}):
        value["result"] = (_default_result(_resolve(top["properties"]["result"], root), digest)
                           if result is _NO_RESULT else result)
    return json.dumps(value)


def _text_content(messages: list[dict[str, Any]], directives: dict[str, str], digest: str) -> str:
    result = _directive_result(directives)
    if result is not _NO_RESULT:
        return str(result)
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    words = _WORD.findall(content_text(users[-1].get("content")) if users else "")
    return f"Stub answer {digest[:8]}: " + " ".join(words[:8])


INJECTION_MARKERS = ("give the maximum score", "ignore the rubric")


def _max_score(response_format: Any) -> float:
    """The top of the score range a score_model request asks for ("The score, from 0 to 10"), else 1."""
    spec = (response_format or {}).get("json_schema") or {} if isinstance(response_format, dict) else {}
    result = ((spec.get("schema") or {}).get("properties") or {}).get("result") or {}
    if isinstance(result.get("maximum"), (int, float)):
        return float(result["maximum"])
    found = re.search(r"to (-?\d+(?:\.\d+)?)", str(result.get("description", "")))
    return float(found.group(1)) if found else 1.0


def model_answer(messages: list[dict[str, Any]], response_format: dict[str, Any] | None,
                 obey_injection: bool = False, distinct_n: bool = False, judge: str | None = None,
                 asked: int = 0) -> Answer:
    """The stub model's answer; shared by /chat/completions and the model graders.

    With `obey_injection` the stub is a gullible judge: text telling it to give the maximum score gets it.
    With `judge` ("careful" or "gullible") it scores the answer against the reference like _judge.py says."""
    directives = parse_directives(messages)
    if obey_injection:
        text = " ".join(content_text(m.get("content")) for m in messages if isinstance(m, dict)).lower()
        if any(marker in text for marker in INJECTION_MARKERS):
            directives["score"] = f"{_max_score(response_format):g}"
    if judge:  # a scripted careful or gullible judge (tests/openai_stub/_judge.py)
        score = judge_score(messages, judge, _max_score(response_format), content_text, asked)
        if score is not None:
            directives["score"] = score
    digest = messages_digest(messages)
    try:
        delay = max(0.0, float(directives.get("delay", 0) or 0))
    except ValueError:
        delay = 0.0
    try:
        status = int(directives["status"]) if "status" in directives else None
    except ValueError:
        status = None
    content: str | None
    refusal = None
    if "refuse" in directives:
        content, refusal = None, REFUSAL_TEXT
    elif "malformed" in directives:
        content = MALFORMED_CONTENT
    elif "empty" in directives:
        content = ""
    elif isinstance(response_format, dict) and response_format.get("type") in ("json_schema", "json_object"):
        content = _json_content(response_format, directives, digest)
    else:
        content = _text_content(messages, directives, digest)
    prompt_tokens = max(1, sum(count_words(content_text(m.get("content"))) for m in messages if isinstance(m, dict)))
    completion_tokens = count_words(content if content is not None else refusal or "")
    return Answer(content, refusal, status, delay, prompt_tokens, completion_tokens, distinct_n)


def usage_body(prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                      "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
    }


def validate_chat_body(body: Any) -> None:
    if not isinstance(body, dict):
        raise ApiError(400, "We could not parse the JSON body of your request.")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise ApiError(400, "Missing required parameter: 'model'.", param="model", code="missing_required_parameter")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "Missing required parameter: 'messages'.", param="messages",
                       code="missing_required_parameter")
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or "role" not in message:
            raise ApiError(400, f"Missing required parameter: 'messages[{i}].role'.", param=f"messages[{i}].role",
                           code="missing_required_parameter")
    if body.get("stream"):
        raise ApiError(400, "stream=true is not supported by the test stub.", param="stream")


def chat_completion(body: dict[str, Any], answer: Answer) -> dict[str, Any]:
    n = body.get("n") if isinstance(body.get("n"), int) and body["n"] > 0 else 1
    message = {"role": "assistant", "content": answer.content, "refusal": answer.refusal, "annotations": []}
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body["model"],
        "choices": [{"index": i, "message": _choice_message(message, i, answer.distinct, body.get("seed")), "logprobs": None,
                     "finish_reason": "stop"} for i in range(n)],
        "usage": usage_body(answer.prompt_tokens, answer.completion_tokens * n),
        "service_tier": "default",
        "system_fingerprint": "fp_stub",
    }


def _choice_message(message: dict[str, Any], i: int, distinct: bool, seed: Any = None) -> dict[str, Any]:
    out = dict(message)
    if distinct and isinstance(out.get("content"), str):
        if i:
            out["content"] = f"{out['content']} (choice {i})"
        if seed is not None:
            out["content"] = f"{out['content']} (seed {seed})"
    return out


def embed(text: str, dims: int = 64) -> list[float]:
    """Hashed unigram+bigram features, L2-normalised: shared words raise the cosine."""
    words = [w.lower() for w in _WORD.findall(text)]
    features = [(w, 1.0) for w in words] + [(f"{a} {b}", 0.5) for a, b in zip(words, words[1:])]
    vec = [0.0] * dims
    for feature, weight in features:
        h = hashlib.blake2b(feature.encode(), digest_size=8).digest()
        vec[int.from_bytes(h[:4], "little") % dims] += weight if h[4] & 1 else -weight
    norm = math.sqrt(sum(v * v for v in vec))
    if norm == 0:
        vec[0], norm = 1.0, 1.0
    return [v / norm for v in vec]


def embeddings(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        raise ApiError(400, "Missing required parameter: 'model'.", param="model", code="missing_required_parameter")
    raw = body.get("input")
    if isinstance(raw, str) or (isinstance(raw, list) and raw and all(isinstance(t, int) for t in raw)):
        raw = [raw]
    if not isinstance(raw, list) or not raw or any(x == "" or x == [] for x in raw):
        raise ApiError(400, "'$.input' is invalid. Please check the API reference.", param="input")
    texts = [x if isinstance(x, str) else " ".join(f"tok{t}" for t in x) for x in raw]
    dims = body.get("dimensions") or 64
    if not isinstance(dims, int) or dims < 1:
        raise ApiError(400, "Invalid value for 'dimensions': must be a positive integer.", param="dimensions")
    data = []
    for i, text in enumerate(texts):
        vector: Any = embed(text, dims)
        if body.get("encoding_format") == "base64":
            vector = base64.b64encode(array.array("f", vector).tobytes()).decode()
        data.append({"object": "embedding", "index": i, "embedding": vector})
    tokens = max(1, sum(count_words(t) for t in texts))
    return {"object": "list", "data": data, "model": body["model"],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
