# One reading of Gemini's reward request, shared by `ftstudio serve`'s POST /gemini and, pasted verbatim,
# by the code-execution scorers `ftstudio export --format gemini` writes (they run in Google's sandbox,
# without ftstudio). So: standard library only, names prefixed `ftstudio_` (the file follows user code),
# and no `from __future__` import (it would have to be the snippet's first line).
#
# Gemini's `references` values must be strings (google-genai ReinforcementTuningExample.references:
# dict[str, str]). `ftstudio convert --to gemini` writes a non-string item value as compact JSON (the
# text a template renders for it) and names those keys in references["_ftstudio_json_keys"] (a JSON
# list); exactly those keys are decoded back here. `example` and `response` are ProtoJSON (camelCase).
import json as _ftstudio_json

FTSTUDIO_JSON_KEYS = "_ftstudio_json_keys"


def ftstudio_references(item):
    """(references, encoded keys): an item as Gemini's string-valued references."""
    refs, encoded = {}, []
    for key, value in item.items():
        if isinstance(value, str):
            refs[str(key)] = value
        else:
            refs[str(key)] = _ftstudio_json.dumps(value, separators=(",", ":"), ensure_ascii=False)
            encoded.append(str(key))
    if encoded:
        refs[FTSTUDIO_JSON_KEYS] = _ftstudio_json.dumps(encoded, separators=(",", ":"), ensure_ascii=False)
    return refs, encoded


def ftstudio_item(example):
    """The grader's `item`: the example's references, with the keys convert JSON-encoded decoded."""
    refs = example.get("references") if isinstance(example, dict) else None
    if not isinstance(refs, dict):
        return {}
    item = {k: v for k, v in refs.items() if k != FTSTUDIO_JSON_KEYS}
    try:
        encoded = _ftstudio_json.loads(refs.get(FTSTUDIO_JSON_KEYS) or "[]")
    except ValueError:
        encoded = []
    for key in encoded if isinstance(encoded, list) else []:
        if isinstance(item.get(key), str):
            try:
                item[key] = _ftstudio_json.loads(item[key])
            except ValueError:
                pass
    return item


def ftstudio_completion(response):
    """The completion: the text of the response Content's parts, thought parts left out."""
    parts = response.get("parts") if isinstance(response, dict) else None
    if not isinstance(parts, list):
        return ""
    return "".join(p["text"] for p in parts
                   if isinstance(p, dict) and isinstance(p.get("text"), str) and not p.get("thought"))


def ftstudio_sample(text):
    """The sample a python grader receives (what ftstudio's engine passes for this output text)."""
    sample = {"output_text": text, "output_json": None, "output_tools": [], "choices": [], "output_audio": None}
    try:
        data = _ftstudio_json.loads(text)
    except (ValueError, TypeError, RecursionError):
        return sample
    sample["output_json"] = data
    if isinstance(data, dict):
        for key in ("output_tools", "choices", "output_audio"):
            if key in data:
                sample[key] = data[key]
    return sample
