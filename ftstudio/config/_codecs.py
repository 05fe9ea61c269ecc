"""Export a JobConfig as the exact create-job body, a Python SDK call or curl; import it back.

to_json is exactly the `POST /v1/fine_tuning/jobs` body: keys in the model's field order, None
fields left out, nothing else added. from_json(to_json(c)) == c. No export contains an API key:
the config has no field for one, and a secret pasted into a value (metadata, a prompt) is
replaced by a marker, which validation reports as an error.
"""

from __future__ import annotations

import json
import os
from typing import IO, Any, Protocol

from ftstudio.core import REDACTED, Issue, JsonTextKind, decode_json, json_problem, redact_data
from ftstudio.core.records import datarecord

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# A config or grader file is at most this big. Each python grader's source is capped at 256 kB and a real
# config is under 1 MB; the cap stops reading a device (/dev/zero never ends) or a file given by mistake.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024


class Dumpable(Protocol):
    """A config or grader model (pydantic's, or a grader model of graders/_light.py): what the codecs read."""

    def model_dump(self, *, mode: str = ..., exclude_none: bool = ...) -> dict[str, Any]: ...


class ImportProblem(Exception):
    """A document that can't become a config; `issues` say where and why. `readable`: the file is
    JSON text (the problem is in what it holds: nesting past the limits, values export can't write)."""

    def __init__(self, message: str, issues: list[Issue] | None = None, *, readable: bool = False):
        super().__init__(message)
        self.message = message
        self.issues = issues or []
        self.readable = readable


def to_data(config: Dumpable | dict[str, Any]) -> dict[str, Any]:
    """The body to send: a model's dump, or a JSON dict exactly as the user wrote it (key order,
    numbers as written, explicit nulls, unknown fields), with secrets redacted either way."""
    data = config if isinstance(config, dict) else config.model_dump(mode="json", exclude_none=True)
    return redact_data(data)


def to_json(config: Dumpable | dict[str, Any], indent: int | None = 2) -> str:
    return json.dumps(to_data(config), indent=indent, ensure_ascii=False)


def read_json_file(source: str | os.PathLike[str] | IO[bytes]) -> Any:
    """The JSON document in a file (or an open binary stream such as stdin), reading at most
    MAX_DOCUMENT_BYTES + 1 bytes. OSError when it can't be opened; ImportProblem when it is larger than a
    config could be or not usable JSON."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as fh:
            raw = fh.read(MAX_DOCUMENT_BYTES + 1)
    else:
        raw = source.read(MAX_DOCUMENT_BYTES + 1)
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise ImportProblem(f"more than {MAX_DOCUMENT_BYTES // 2**20} MB: far larger than any config or grader "
                            "(is it the right file?); nothing was read past that")
    return parse_json(raw)


def parse_json(source: str | bytes) -> Any:
    if isinstance(source, bytes):
        try:
            source = source.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportProblem(f"the file is not UTF-8 text (byte {exc.start})") from None
    source = source.lstrip("\ufeff")
    # NaN and Infinity are read, then refused by exportable() with the path where they are.
    data, problem = decode_json(source, constants=True)
    if problem is None:
        return exportable(data)
    if problem.kind is JsonTextKind.DEPTH:
        raise ImportProblem("the JSON nests too deeply to read", readable=True)
    if problem.kind is JsonTextKind.DIGITS:
        raise ImportProblem("not valid JSON here: a number has more than 4,300 digits")
    raise ImportProblem(f"not valid JSON: {problem.reason} at line {problem.line}, column {problem.column}")


def exportable(data: Any) -> Any:
    """`data`, unless it holds what export can't write back unchanged (NaN, lone surrogates, deep nesting)."""
    found = json_problem(data)
    if found is not None:
        issue = found.issue()
        where = issue.path if len(issue.path) <= 120 else issue.path[:117] + "..."
        raise ImportProblem(f"the JSON can't be used as it is: {where or '$'}: {issue.message}", [issue],
                            readable=found.too_deep)
    return data


# --- Python SDK snippet ------------------------------------------------------------------

SDK_MULTI_NOTE = ("openai SDK 3.x types a multi grader's `graders` as one grader, but the API takes a map "
                  "{key: grader}; so the `method` goes in `extra_body`, which the SDK sends as is.")


# The same body through the typed SDK, in one line (json.load of the exported job.json as `body`).
SDK_MULTI_WORKAROUND = ('client.fine_tuning.jobs.create(**{k: v for k, v in body.items() if k != "method"}, '
                        'extra_body={"method": body["method"]})')


def multi_map_path(data: Any, at: tuple[str | int, ...] = ()) -> tuple[str | int, ...] | None:
    """Where the first multi grader with a map of `graders` sits in `data` (its JSON path), or None: the body
    the openai SDK's types disagree with (SDK_MULTI_NOTE)."""
    if isinstance(data, dict):
        if data.get("type") == "multi" and isinstance(data.get("graders"), dict):
            return at
        items = list(data.items())
    elif isinstance(data, list):
        items = list(enumerate(data))
    else:
        return None
    for key, value in items:
        found = multi_map_path(value, (*at, key))
        if found is not None:
            return found
    return None


def _has_multi(data: Any) -> bool:
    return multi_map_path(data) is not None


def to_python(config: Dumpable | dict) -> str:
    """The SDK call that sends exactly to_json(config). With a multi grader the method is passed in
    `extra_body`: typed arguments would fail the SDK's own types (SDK_MULTI_NOTE)."""
    data = to_data(config)
    extra = {"method": data.pop("method")} if _has_multi(data.get("method")) else None
    args = "\n".join(f"    {key}={_py(value, 1)}," for key, value in data.items())
    if extra is not None:
        note = "\n".join("    # " + line for line in _wrap(SDK_MULTI_NOTE, 92))
        args += f"\n{note}\n    extra_body={_py(extra, 1)},"
    return (
        "from openai import OpenAI\n\n"
        "# Reads OPENAI_API_KEY (and OPENAI_BASE_URL, if set) from the environment.\n"
        "client = OpenAI()\n\n"
        "job = client.fine_tuning.jobs.create(\n"
        f"{args}\n"
        ")\n"
        "print(job.id, job.status)\n"
    )


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width)


def grader_to_python(grader: Dumpable | dict) -> str:
    return (
        "from openai import OpenAI\n\n"
        "client = OpenAI()\n\n"
        f"grader = {_py(to_data(grader), 0)}\n\n"
        "# Ask the API whether it accepts the grader (read the answer as a plain dict).\n"
        "print(client.fine_tuning.alpha.graders.validate(grader=grader).to_dict())\n"
    )


def _py(value: Any, level: int) -> str:
    """A Python literal that pretty-prints like JSON (repr keeps every string exact)."""
    pad, inner = "    " * level, "    " * (level + 1)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = ",\n".join(f"{inner}{key!r}: {_py(v, level + 1)}" for key, v in value.items())
        return "{\n" + items + ",\n" + pad + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        if all(isinstance(v, (int, float, bool)) or v is None for v in value):
            return "[" + ", ".join(_py(v, 0) for v in value) + "]"
        items = ",\n".join(f"{inner}{_py(v, level + 1)}" for v in value)
        return "[\n" + items + ",\n" + pad + "]"
    return repr(value)


# --- curl --------------------------------------------------------------------------------

def to_curl(config: Dumpable | dict, base_url: str | None = None) -> str:
    url = (base_url or "${OPENAI_BASE_URL:-" + DEFAULT_BASE_URL + "}").rstrip("/") + "/fine_tuning/jobs"
    body = to_json(config)
    # A quoted heredoc passes the body byte for byte: no shell quoting of prompts to get wrong.
    return (
        f'curl "{url}" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        '  -H "Authorization: Bearer $OPENAI_API_KEY" \\\n'
        "  --data-binary @- <<'FTSTUDIO_JSON'\n"
        f"{body}\n"
        "FTSTUDIO_JSON\n"
    )


# --- documents: job configs, bare graders and presets --------------------------------------

def is_grader_data(data: Any) -> bool:
    """A bare grader object (has a grader `type`, no job fields)."""
    return isinstance(data, dict) and "type" in data and "training_file" not in data and "method" not in data


@datarecord
class Document:
    kind: str  # "config" | "grader"
    data: Any
    title: str | None = None
    description: str | None = None


def read_document(data: Any) -> Document:
    """Recognise a job config, a bare grader, or a preset ({title, description, config})."""
    if isinstance(data, dict) and "config" in data and set(data) <= {"title", "description", "config"}:
        return Document("config", data["config"], data.get("title"), data.get("description"))
    if is_grader_data(data):
        return Document("grader", data)
    return Document("config", data)


class NoGrader(ImportProblem):
    """A document that holds no grader to use (its `issues` say where one was expected)."""


# Where a grader sits in the documents that carry one (a bare grader is the document itself).
_GRADER_PLACES: tuple[tuple[str, ...], ...] = (
    ("method", "reinforcement", "grader"),  # a job body
    ("reinforcement", "grader"),  # a method block alone: {"type": "reinforcement", "reinforcement": {...}}
    ("grader",),  # the body of a graders validate/run request: {"grader": {...}}
)


def grader_of(data: Any, where: str = "the document") -> dict[str, Any]:
    """The grader a document holds: a bare grader, a job body's method.reinforcement.grader, a
    reinforcement method block, {"grader": ...} as the graders API takes it, or any of these in a preset.

    The one resolver the CLI, Reward, serve and the app use; NoGrader (an ImportProblem) otherwise."""
    doc = read_document(data)
    body = doc.data
    if isinstance(body, dict):
        for place in _GRADER_PLACES:
            found: Any = body
            for key in place:
                found = found.get(key) if isinstance(found, dict) else None
            if found is None:
                continue
            if isinstance(found, dict):
                return found
            path = ".".join(place)
            raise NoGrader(f"{where}: {path} is not a grader object", [_no_grader(path, "this is not a grader object")])
        if is_grader_data(body):  # a bare grader, or a preset holding one
            return body
    why = "no grader: give a bare grader, or a reinforcement job config with method.reinforcement.grader"
    raise NoGrader(f"{where} holds {why}", [_no_grader("method.reinforcement.grader", why)])


def _no_grader(path: str, why: str) -> Issue:
    return Issue(path=path, severity="error", code="missing_grader", message=why, blocks_grading=True)


__all__ = [
    "REDACTED", "Document", "ImportProblem", "NoGrader", "grader_of", "grader_to_python", "is_grader_data",
    "parse_json", "read_document", "to_curl", "to_data", "to_json", "to_python",
]
