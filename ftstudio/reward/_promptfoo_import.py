"""`ftstudio import-promptfoo promptfooconfig.yaml -o grader.json`: the assertions of a promptfoo config that
have an exact grader equivalent, as a grader tree; the others listed with the reason.

Exact equivalents (the provider's output is the sample; a `{{var}}` in a value is the item's field):
equals: string_check eq; not-equals: ne; contains: like; icontains: ilike. Several assertions: a multi whose
calculate_output is their weighted mean (as promptfoo scores a test); `defaultTest.threshold`: its
pass_threshold. Assertions given per test are listed: a grader applies the same tree to every row.
"""

from __future__ import annotations

import re
from typing import Any

from ftstudio.core import json_list, json_object
from ftstudio.core.records import datarecord

OPERATIONS = {"equals": "eq", "not-equals": "ne", "contains": "like", "icontains": "ilike"}
_VAR = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_ANY_TEMPLATE = re.compile(r"\{\{|\{%|\{#")


@datarecord(frozen=True)
class Skipped:
    where: str  # the place in the config, e.g. defaultTest.assert[2]
    type: str
    reason: str

    def line(self) -> str:
        return f"{self.where}: {self.type}: {self.reason}"


def _reference(value: Any) -> str | None:
    """The value as our template: `{{var}}` becomes `{{ item.var }}`; None when it uses more of nunjucks."""
    if not isinstance(value, str):
        return None
    converted = _VAR.sub(lambda m: "{{ item." + m.group(1) + " }}", value)
    leftover = _VAR.sub("", value)
    return None if _ANY_TEMPLATE.search(leftover) else converted


def _convert(value: Any, where: str) -> tuple[dict[str, Any] | None, Skipped | None]:
    assertion = json_object(value)
    if assertion is None:
        return None, Skipped(where, type(value).__name__, "not an assertion object")
    kind = str(assertion.get("type", ""))
    if kind not in OPERATIONS:
        reason = ("an assertion set inside the list: flatten it into the top-level assertions" if kind == "assert-set"
                  else "no grader computes it exactly the same way")
        return None, Skipped(where, kind or "?", reason)
    if assertion.get("transform") or assertion.get("contextTransform"):
        return None, Skipped(where, kind, "it transforms the output first (JavaScript)")
    reference = _reference(assertion.get("value"))
    if reference is None:
        return None, Skipped(where, kind, "its value is not text with plain {{var}} references")
    name = str(assertion.get("metric") or f"{kind}_{where.rsplit('[', 1)[-1].rstrip(']')}")
    return {"type": "string_check", "name": name, "operation": OPERATIONS[kind],
            "input": "{{ sample.output_text }}", "reference": reference}, None


def _assertions(value: Any, where: str, skipped: list[Skipped]) -> list[Any]:
    """The assertions of an `assert` field (absent or empty: none); one that is not a list is listed as skipped."""
    listed = json_list(value)
    if value and not listed:  # something, but not a (non-empty) list
        skipped.append(Skipped(where, type(value).__name__, "not a list of assertions"))
    return listed


def _key(name: str, taken: set[str]) -> str:
    key = re.sub(r"[^0-9A-Za-z_]", "_", name) or "check"
    if key[0].isdigit():
        key = "c_" + key
    base, n = key, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    taken.add(key)
    return key


def grader_from_promptfoo(config: Any) -> tuple[dict[str, Any] | None, list[Skipped]]:
    """(grader dict or None when nothing converts, the assertions left out)."""
    top = json_object(config)
    if top is None:
        return None, [Skipped("", type(config).__name__, "a promptfoo config is a mapping")]
    default = json_object(top.get("defaultTest")) or {}
    skipped: list[Skipped] = []
    children: list[tuple[dict[str, Any], float]] = []
    for i, assertion in enumerate(_assertions(default.get("assert"), "defaultTest.assert", skipped)):
        child, skip = _convert(assertion, f"defaultTest.assert[{i}]")
        fields = json_object(assertion)
        weight = fields.get("weight", 1) if fields is not None else 1
        if skip is not None:
            skipped.append(skip)
        elif isinstance(weight, (int, float)) and weight > 0 and child is not None:
            children.append((child, float(weight)))
    for i, test in enumerate(json_list(top.get("tests"))):
        fields = json_object(test)
        listed = _assertions(fields.get("assert"), f"tests[{i}].assert", skipped) if fields is not None else []
        for j, assertion in enumerate(listed):
            found = json_object(assertion)
            kind = found.get("type", "?") if found is not None else "?"
            skipped.append(Skipped(f"tests[{i}].assert[{j}]", str(kind),
                                   "given for one test: a grader applies the same tree to every row"))
    if not children:
        return None, skipped
    threshold = default.get("threshold")
    grader: dict[str, Any]
    if len(children) == 1:
        grader = dict(children[0][0])
    else:
        total = sum(w for _g, w in children)
        taken: set[str] = set()
        graders = {_key(g["name"], taken): g for g, _w in children}
        terms = [f"{w / total!r} * {key}" for key, (_g, w) in zip(graders, children, strict=True)]
        grader = {"type": "multi", "name": str(top.get("description") or "promptfoo"),
                  "calculate_output": " + ".join(terms), "graders": graders}
    if isinstance(threshold, (int, float)):
        grader["pass_threshold"] = threshold
    return grader, skipped
