"""Issue: the one shape every check in the tool reports (validation, the CLI, the pages)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any, Literal, Protocol, runtime_checkable

from .records import asdict, datarecord

Severity = Literal["error", "warning", "info"]
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@runtime_checkable
class Finding(Protocol):
    """What every finding of the tool has, wherever it comes from: a code, a severity, a message that
    says what to do, and a place (`where()`: a JSON path, a dataset row and line, a template position,
    a source line; "" for the whole document or file).

    The concrete types keep the place their layer knows: Issue (a config or grader, by JSON path),
    datasets.Problem (a dataset row and line, or the whole file), graders TemplateProblem (a position in
    a template), sandbox SourceProblem (a line of python source; the sandbox sits beside core and shares
    this shape without importing it). Pages and the CLI show any of them through this protocol.
    """

    @property
    def code(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def message(self) -> str: ...
    def where(self) -> str: ...


@datarecord(frozen=True, kw_only=True)
class Issue:
    path: str
    severity: Severity
    code: str
    message: str
    hint: str = ""
    # False: only the provider would reject it (a nested multi, cosine in RFT, a retired model);
    # the engine can still grade. True: the engine itself cannot evaluate it (bad formula,
    # malformed template, missing required field), so grading refuses.
    blocks_grading: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def where(self) -> str:
        return self.path

    def line(self) -> str:
        text = f"{self.severity.upper()} {self.path or '$'}: {self.message}"
        return text + (f" ({self.hint})" if self.hint else "")


def join_path(parts: Iterable[object]) -> str:
    """('method', 'reinforcement', 'grader', 'input', 0, 'content') -> method.reinforcement.grader.input[0].content"""
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif _IDENT.match(str(p)):
            out += ("." if out else "") + str(p)
        else:
            out += f"[{json.dumps(str(p), ensure_ascii=False)}]"
    return out


def under(issues: Iterable[Issue], prefix: str) -> list[Issue]:
    """The issues at or below a path (a page or a grader node shows only its own)."""
    out: list[Issue] = []
    for i in issues:
        if not prefix or i.path == prefix or i.path.startswith(prefix + ".") or i.path.startswith(prefix + "["):
            out.append(i)
    return out


def count(issues: Iterable[Issue]) -> dict[str, int]:
    c = {"error": 0, "warning": 0, "info": 0}
    for i in issues:
        c[i.severity] += 1
    return c


def sort_issues(issues: Iterable[Issue]) -> list[Issue]:
    return sorted(issues, key=lambda i: (SEVERITY_ORDER[i.severity], i.path, i.code))
