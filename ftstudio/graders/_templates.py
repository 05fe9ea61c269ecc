"""Parse and render `{{ item.* }}` / `{{ sample.* }}` templates (facts §6).

Pinned semantics (README, "Semantics"):
- `{{ namespace.path }}` with optional spaces; path segments are `.name`, `[0]` or `["any key"]`.
- A string value renders as itself; any other value as compact JSON.
- A path that does not exist raises RenderError("invalid_variable_error").
- `sample.output_json` when the output is not JSON raises RenderError("sample_parse_error").
A stray `}}` is literal text (prompts often embed JSON); an unclosed `{{` is malformed.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from ftstudio.core import ROW_ERROR, compact_json, shorten
from ftstudio.core.records import datarecord, field

NAMESPACES = ("item", "sample")
MAX_PROBLEMS = 20
SAMPLE_FIELDS = ("output_text", "output_json", "output_tools", "choices", "output_audio")

_OPEN, _CLOSE = "{{", "}}"
_NAME = re.compile(r"[^\s.\[\]{}\"']+")
_INDEX = re.compile(r"\[\s*(-?\d+)\s*\]")
# Possessive: a backtracking repeat kept ~75 bytes of regex stack per character of a long key.
_QUOTED = re.compile(r"\[\s*(\"(?:[^\"\\]|\\.)*+\"|'(?:[^'\\]|\\.)*+')\s*\]")


class RenderError(Exception):
    """A row-level rendering failure; `code` is the API's error flag name."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@datarecord(frozen=True)
class Ref:
    namespace: str
    path: tuple[str | int, ...]
    start: int  # offset of "{{" in the template
    end: int  # offset just after "}}"
    text: str  # the source between the braces, stripped

    @property
    def dotted(self) -> str:
        return self.namespace + "".join(
            f"[{p}]" if isinstance(p, int) else (f".{p}" if _NAME.fullmatch(p) else f"[{json.dumps(p)}]")
            for p in self.path
        )


@datarecord(frozen=True)
class TemplateProblem:
    code: str  # "template_malformed" | "template_namespace" | "template_sample_field"
    message: str
    position: int
    severity: str = "error"  # a Finding (ftstudio.core): the engine cannot render a malformed template

    def where(self) -> str:
        return f"position {self.position}"


@datarecord(frozen=True)
class Template:
    source: str
    parts: tuple[str | Ref, ...]
    problems: tuple[TemplateProblem, ...] = field(default=())

    @property
    def refs(self) -> list[Ref]:
        return [p for p in self.parts if isinstance(p, Ref)]

    @property
    def ok(self) -> bool:
        return not self.problems

    def render(self, item: Any, sample: Sample) -> str:
        out = []
        for part in self.parts:
            out.append(part if isinstance(part, str) else to_text(resolve(part, item, sample)))
        return "".join(out)


@lru_cache(maxsize=4096)
def parse(source: str) -> Template:
    """Parse a template; never raises. Problems carry the offset of the offending `{{`."""
    parts: list[str | Ref] = []
    problems: list[TemplateProblem] = []
    pos = 0
    while True:
        start = source.find(_OPEN, pos)
        if start < 0:
            parts.append(source[pos:])
            break
        parts.append(source[pos:start])
        nxt = source.find(_OPEN, start + 2)
        # A '}}' only counts before the next '{{': searching no further keeps a run of unclosed
        # '{{' linear (searching to the end for each one took 44 s on 400 kB of '{{').
        close = source.find(_CLOSE, start + 2, nxt + 1 if nxt >= 0 else len(source))
        if close < 0:
            problems.append(TemplateProblem(
                "template_malformed",
                f"'{{{{' at position {start} is never closed with '}}}}'; close it or remove it", start))
            parts.append(source[start:start + 2])
            pos = start + 2
            continue
        inner = source[start + 2:close]
        ref, problem = _parse_ref(inner.strip(), start, close + 2)
        if problem:
            problems.append(problem)
            parts.append(source[start:close + 2])
        elif ref is not None:
            parts.append(ref)
        pos = close + 2
    if len(problems) > MAX_PROBLEMS:  # one message per '{{' would drown the page on hostile input
        more = len(problems) - MAX_PROBLEMS
        problems = problems[:MAX_PROBLEMS] + [TemplateProblem(
            "template_malformed", f"… and {more} more problems like these in this template", problems[MAX_PROBLEMS].position)]
    return Template(source, tuple(p for p in parts if p != ""), tuple(problems))


def _parse_ref(text: str, start: int, end: int) -> tuple[Ref | None, TemplateProblem | None]:
    if not text:
        return None, TemplateProblem("template_malformed", f"empty '{{{{ }}}}' at position {start}; "
                                     "write a variable such as {{ item.answer }}", start)
    m = _NAME.match(text)
    if not m:
        return None, TemplateProblem("template_malformed", f"'{{{{ {text} }}}}' at position {start} "
                                     "does not start with a namespace; use item.<field> or sample.<field>", start)
    namespace, i, path = m.group(0), m.end(), []
    while i < len(text):
        if text[i] == "." and (m := _NAME.match(text, i + 1)):
            path.append(m.group(0))
        elif (m := _INDEX.match(text, i)):
            path.append(int(m.group(1)))
        elif (m := _QUOTED.match(text, i)):
            raw = m.group(1)
            path.append(json.loads(raw) if raw[0] == '"' else raw[1:-1])
        else:
            return None, TemplateProblem("template_malformed", f"cannot read '{{{{ {text} }}}}' at position "
                                         f"{start} from character {i + 1}; paths look like item.a.b[0]", start)
        i = m.end()
    if namespace not in NAMESPACES:
        return None, TemplateProblem("template_namespace", f"unknown namespace '{namespace}' in '{{{{ {text} }}}}'"
                                     " ; only item and sample exist", start)
    if namespace == "sample":
        if not path or not isinstance(path[0], str) or path[0] not in SAMPLE_FIELDS:
            got = path[0] if path else "(nothing)"
            return None, TemplateProblem("template_sample_field", f"sample has no field '{got}' in "
                                         f"'{{{{ {text} }}}}'; use one of {', '.join(SAMPLE_FIELDS)}", start)
    return Ref(namespace, tuple(path), start, end, text), None


# The first character (after JSON's whitespace) of every text json.loads accepts: most model outputs are
# prose, and a failed json.loads costs far more than this look (it builds an exception per row).
_JSON_START = frozenset('{["-0123456789')
_JSON_SPACE = frozenset(" \t\n\r")
# A text starting with a letter is JSON only as one of the stdlib's literals ("the answer ..." starts with t).
_JSON_WORDS = ("true", "false", "null", "NaN", "Infinity")
_JSON_LETTERS = frozenset(word[0] for word in _JSON_WORDS)


def _may_be_json(text: Any) -> bool:
    if not isinstance(text, str):
        return True  # json.loads decides (bytes are JSON too; anything else is its TypeError)
    head = text[:1]
    if head in _JSON_SPACE:
        text = text.lstrip(" \t\n\r")
        head = text[:1]
    if head in _JSON_LETTERS:
        return text.startswith(_JSON_WORDS)
    return head in _JSON_START


class Sample:
    """The `sample` namespace for one model output, parsed lazily and once."""

    __slots__ = ("output_text", "_json", "_json_state")

    def __init__(self, output_text: str, output_json: Any = None, has_json: bool | None = None):
        self.output_text = output_text
        self._json = output_json
        self._json_state = None if has_json is None else has_json

    def _parsed(self) -> bool:
        """Whether the output is JSON (then in self._json), parsed on the first look."""
        if self._json_state is None:
            if not _may_be_json(self.output_text):
                self._json_state = False  # what json.loads would refuse, without paying for its exception
            else:
                try:
                    self._json = json.loads(self.output_text)
                    self._json_state = True
                except (ValueError, TypeError, RecursionError):
                    self._json_state = False
        return self._json_state

    def output_json(self) -> Any:
        if not self._parsed():
            raise RenderError(ROW_ERROR.SAMPLE_PARSE,
                              "sample.output_json was read but the model output is not valid JSON")
        return self._json

    def field(self, name: str) -> Any:
        if name == "output_text":
            return self.output_text
        if name == "output_json":
            return self.output_json()
        # output_tools / choices / output_audio come from the output when it is a JSON object holding them.
        data = self._json if self._parsed() else None
        if isinstance(data, dict) and name in data:
            return data[name]
        raise RenderError(ROW_ERROR.INVALID_VARIABLE, f"sample.{name} is not available: the model output "
                          f"is not a JSON object with a '{name}' key")

    def as_dict(self) -> dict[str, Any]:
        """The sample dict the python grader receives.

        output_tools and choices are [] when the output holds none (code written for the official
        service does len(sample["output_tools"])); output_json is None when the output isn't JSON.
        """
        out = _prose_dict(self.output_text)
        if not self._parsed():  # prose, the usual case: no RenderError built per row (it costs more than the dict)
            return out
        data = self._json
        out["output_json"] = data
        if isinstance(data, dict):
            for key in ("output_tools", "choices", "output_audio"):
                if key in data:
                    out[key] = data[key]
        return out


def _prose_dict(text: str) -> dict[str, Any]:
    return {"output_text": text, "output_json": None, "output_tools": [], "choices": [], "output_audio": None}


def sample_dicts(outputs: list[str]) -> list[dict[str, Any]]:
    """`Sample(o).as_dict()` for each output, without a Sample object for prose (a third of the cost for a
    trainer's 64 completions: the small-call plan sends these to a python node)."""
    prose, may_be_json = _prose_dict, _may_be_json
    return [prose(o) if not may_be_json(o) else Sample(o).as_dict() for o in outputs]


_MISSING = object()


def resolve(ref: Ref, item: Any, sample: Sample) -> Any:
    if ref.namespace == "item":
        value, path = item, ref.path
    else:
        value, path = sample.field(str(ref.path[0])), ref.path[1:]
    for seg in path:
        parent, value = value, _step(value, seg)
        if value is _MISSING:
            raise RenderError(ROW_ERROR.INVALID_VARIABLE, f"{{{{ {shorten(ref.text)} }}}}: {_found(ref, parent, seg)}")
    return value


def _describe(value: Any) -> str:
    """The value a template actually met, in words: 'the number 65', 'a list of 3 items'."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {json.dumps(shown, ensure_ascii=False)}"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, dict):
        keys = ", ".join(f"'{k}'" for k in list(value)[:6]) + (", ..." if len(value) > 6 else "")
        return f"an object with keys {keys}" if value else "an empty object"
    return type(value).__name__


def _found(ref: Ref, parent: Any, seg: str | int) -> str:
    """Why a path step failed, naming the value found there (the output parsed to the number 65, ...)."""
    where = "the output parsed to" if ref.namespace == "sample" and ref.path[:1] == ("output_json",) and \
        parent is not None else "the value there is"
    if isinstance(seg, int):
        want = f"a list with an item [{seg}]"
    else:
        want = f"an object with '{shorten(seg)}'"
    if isinstance(parent, dict) and not isinstance(seg, int):
        return f"'{shorten(seg)}' does not exist in this row ({where} {_describe(parent)})"
    return f"{where} {_describe(parent)}, not {want}"


def _step(value: Any, seg: str | int) -> Any:
    if isinstance(seg, int):
        if isinstance(value, list) and -len(value) <= seg < len(value):
            return value[seg]
        return _MISSING
    if isinstance(value, dict):
        return value.get(seg, _MISSING)
    return _MISSING


def to_text(value: Any) -> str:
    """A string as itself, anything else as compact JSON; RenderError when it can't be written."""
    if isinstance(value, str):
        return value
    try:
        return compact_json(value)
    except RecursionError:
        why = "it nests too deeply"
    except (TypeError, ValueError) as exc:  # a set, bytes or object from Python; an int too long to print
        why = str(exc).split(";")[0]
    raise RenderError(ROW_ERROR.INVALID_VARIABLE, f"the value can't be written as JSON text: {why}")


def render(source: str, item: Any, sample: Sample) -> str:
    """Render one template string; RenderError for row-level failures (ValueError if malformed)."""
    tpl = parse(source)
    if tpl.problems:
        raise ValueError(tpl.problems[0].message)
    return tpl.render(item, sample)
