"""Semantic checks of a grader tree, on its JSON form (so they run even when the schema fails).

Each rule knows whether the engine can still grade (blocks_grading=False: only the provider
would refuse) or not (a formula that doesn't parse, a malformed template).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ftstudio.core import DEFAULT_MODEL, Issue, Unavailable, join_path
from ftstudio.graders import find
from ftstudio.graders import templates as T
from ftstudio.targets import target as platform

from ._rules import issue

_TEXT_FIELDS = ("input", "reference")
# A value a reader must replace: <SUPPORTED_GRADER_MODEL_ID>, {{aoai_deployment_and_model}}.
_PLACEHOLDER = re.compile(r"^<[A-Za-z0-9_ .-]+>$|\{\{.*\}\}")
_STRAY_BRACES = re.compile(r"\{\{[^{}]*\}\}\}+")


def is_placeholder(value: Any) -> bool:
    return isinstance(value, str) and bool(_PLACEHOLDER.search(value.strip()))


class GraderChecker:
    """Each finding names its rule; the severity comes from the rules registry (and `resolve` per target).

    What is checked per grader type lives in the type's module (`GraderType.check`, given this checker);
    what a target can't take, in the target's or the type's module (`Unavailable`). Here: what every
    node shares (name, pass_threshold), and the helpers the types' checks call.
    """

    def __init__(self, dataset_fields: Iterable[str] | None, reinforcement: bool, has_response_format: bool,
                 target: str = "openai"):
        self.fields = set(dataset_fields) if dataset_fields is not None else None
        self.reinforcement = reinforcement
        self.has_response_format = has_response_format
        self.target = target
        self.out: list[Issue] = []

    def add(self, path: tuple, code: str, message: str, hint: str = "", blocks: bool = False):
        self.out.append(issue(join_path(path), code, message, hint, blocks))

    # --- tree ----------------------------------------------------------------------------
    def check(self, g: Any, path: tuple) -> list[Issue]:
        if not isinstance(g, dict):
            return self.out
        self.node(g, path, depth=0)
        return self.out

    def node(self, g: dict, path: tuple, depth: int) -> None:
        kind = g.get("type")
        name = g.get("name")
        if isinstance(name, str) and not name.strip():
            self.add(path + ("name",), "grader_name_empty", "the grader's name is empty",
                     "names appear in the API's metrics; give it a short descriptive one")
        if "name" not in g and isinstance(kind, str):
            self.add(path + ("name",), "grader_name_missing",
                     "grader without name: the SDK types require one, though the API has validated and "
                     "trained nameless graders", "add a name (the app's 'add names from keys' does it for a tree)")
        if "pass_threshold" in g:
            if self.target == "azure" and depth >= 1:
                msg = ("pass_threshold on a multi child: Azure's own sample removes it (\"they currently cannot "
                       "be used with multi-grader\"); the OpenAI guide shows it on a child")
            else:
                msg = "the fine-tuning service accepts and ignores pass_threshold (it matters only to evals)"
            self.add(path + ("pass_threshold",), "pass_threshold_ignored", msg,
                     "keep it if the grader doubles as an evals criterion; grading and export ignore it")
        # The type comes from user data: an unknown one is the schema's error.
        grader_type = find(kind)
        if grader_type is None:
            return
        offered = platform(self.target).translation(grader_type.name)
        if isinstance(offered, Unavailable):
            self.add(path, offered.rule, offered.reason, offered.hint)
        grader_type.check(self, g, path, depth)

    @staticmethod
    def is_placeholder(value: Any) -> bool:
        return is_placeholder(value)

    def formula(self, text: str, keys: list[str], path: tuple, check_unused: bool = True) -> None:
        from ftstudio.graders import formula as F  # only a multi grader has a formula (issue 23, start-up)

        try:
            node = F.parse(text)
        except F.FormulaError as exc:
            self.add(path, exc.code, exc.message, _formula_hint(exc.position, text), True)
            return
        used = set()
        for var in F.variables(node):
            used.add(var.name)
            if var.name not in keys:
                self.add(path, "formula_unknown_variable",
                         f"'{var.name}' at position {var.pos} is not a grader key",
                         f"grader keys: {', '.join(keys) or '(none)'}; the formula uses keys, not grader names", True)
        for key in keys if check_unused else ():
            if key not in used:
                self.add(path, "formula_unused_key", f"grader '{key}' is never used in calculate_output",
                         "use it in the formula or remove it: it costs grading time and does not count")

    # --- model graders -------------------------------------------------------------------
    def model_grader(self, g: dict, path: tuple) -> None:
        model = g.get("model")
        if isinstance(model, str):
            if not model.strip():
                self.add(path + ("model",), "model_empty", "the grader model is empty",
                         f"e.g. {DEFAULT_MODEL}", True)
            elif is_placeholder(model):
                self.add(path + ("model",), "model_placeholder",
                         f"model {model!r} is a placeholder that must be replaced", "name the grader model, "
                         "e.g. o3-mini-2025-01-31 or gpt-4.1-2025-04-14 (Azure: your grader deployment)")
            else:
                self.out += model_notes(model, path + ("model",), grader=True, target=self.target)
        messages = g.get("input")
        if isinstance(messages, list):
            if not messages:
                self.add(path + ("input",), "model_grader_no_input", "input has no messages",
                         "add a user message that shows the model output ({{ sample.output_text }})", True)
            texts = []
            for i, msg in enumerate(messages):
                if isinstance(msg, dict):
                    for rel, text in _content_strings(msg.get("content"), ("input", i, "content")):
                        texts.append(text)
                        self.template(text, path + rel)
            if messages and not any("sample." in t for t in texts):
                self.add(path + ("input",), "grader_ignores_sample",
                         "no message mentions {{ sample.* }}, so the grader never sees the model's output")
        self._sampling(g.get("sampling_params"), model if isinstance(model, str) else "", path)

    def _sampling(self, sp: Any, model: str, path: tuple) -> None:
        if not isinstance(sp, dict) or not model:
            return
        from ftstudio.config import catalog  # the model tables: model graders only (issue 23, start-up)

        info = catalog.lookup(model, self.target)
        effort = sp.get("reasoning_effort")
        p = path + ("sampling_params", "reasoning_effort")
        if isinstance(effort, str) and info is not None:
            support = catalog.effort_support(model, effort, self.target)
            if not info.reasoning:
                self.add(p, "reasoning_effort_non_reasoning",
                         f"{model} is not a reasoning model; reasoning_effort may be rejected", "remove it")
            elif support == "no":
                self.add(p, "reasoning_effort_unsupported",
                         f"{model} does not take reasoning_effort {effort!r}",
                         f"it takes: {', '.join(info.efforts)}" + (f" (default {info.default_effort})"
                                                                   if info.default_effort else ""))
            elif support == "maybe":
                self.add(p, "reasoning_effort_uncertain",
                         f"the model table can't tell whether {model} takes reasoning_effort {effort!r}")
        if info is not None and info.reasoning:
            for knob in ("temperature", "top_p"):
                value = sp.get(knob)
                # 1 is the default: the API's own example sends it to gpt-5-mini and gets a reward.
                if isinstance(value, (int, float)) and not isinstance(value, bool) and value != 1:
                    self.add(path + ("sampling_params", knob), "sampling_reasoning_model",
                             f"{model} is a reasoning model; it does not accept {knob} {value} (only the "
                             "default, 1)", "remove it or set it to 1")

    # --- templates -----------------------------------------------------------------------
    def templates(self, g: dict, path: tuple, fields: tuple) -> None:
        for f in fields:
            if isinstance(g.get(f), str):
                self.template(g[f], path + (f,))
        if isinstance(g.get("input"), str) and "sample." not in g["input"] and "sample." not in str(g.get("reference")):
            self.add(path + ("input",), "grader_ignores_sample",
                     "neither input nor reference reads {{ sample.* }}, so the score never depends on the model output")

    def template(self, text: str, path: tuple) -> None:
        stray = _STRAY_BRACES.search(text)
        if stray:
            self.add(path, "template_stray_braces",
                     f"stray braces after a template: {stray.group(0)!r}",
                     "the service most likely keeps them as literal text; remove the extra '}'")
        tpl = T.parse(text)
        for prob in tpl.problems:
            self.add(path, prob.code, prob.message, "templates look like {{ item.field }} or "
                     "{{ sample.output_text }}", True)
        for ref in tpl.refs:
            if ref.namespace == "item" and self.fields is not None and ref.path:
                head = ref.path[0]
                if head not in self.fields:
                    self.add(path, "template_item_field_missing",
                             f"{{{{ {ref.text} }}}} reads item field '{head}', which the dataset does not have",
                             f"dataset fields: {', '.join(sorted(self.fields)) or '(none)'}")
            if (self.reinforcement and ref.namespace == "sample" and ref.path[:1] == ("output_json",)
                    and not self.has_response_format):
                self.add(path, "output_json_without_response_format",
                         f"{{{{ {ref.text} }}}} reads output_json, which the API fills only when the job sets "
                         "method.reinforcement.response_format", "add a response_format, or parse in a python grader")



def _content_strings(content: Any, base: tuple) -> list[tuple[tuple, str]]:
    if isinstance(content, str):
        return [(base, content)]
    if isinstance(content, list):
        out = []
        for j, part in enumerate(content):
            out += _content_strings(part, base + (j,))
        return out
    if isinstance(content, dict):
        for key in ("text", "image_url"):
            if isinstance(content.get(key), str):
                return [(base + (key,), content[key])]
        audio = content.get("input_audio")
        if isinstance(audio, dict) and isinstance(audio.get("data"), str):
            return [(base + ("input_audio", "data"), audio["data"])]
    return []


def model_notes(model: str, path: tuple, *, grader: bool = False, method: str | None = None,
                target: str = "openai", today=None) -> list[Issue]:
    """Catalog notes about a model id: unknown (info), retired (warning), method support (warning)."""
    from ftstudio.config import catalog  # the model tables: model graders only (issue 23, start-up)

    where = join_path(path)
    if is_placeholder(model):
        return [issue(where, "model_placeholder", f"model {model!r} is a placeholder that must be replaced",
                      "name the model (on Azure: the deployment or model name)")]
    info = catalog.lookup(model, target)
    if info is None:
        hint = "fine if your provider serves it; checks that depend on the model are skipped"
        if grader and target == "azure":
            hint = "fine if it names your grader deployment; checks that depend on the model are skipped"
        return [issue(where, "model_unknown", f"unknown model: '{model}' is not in the {target} model table", hint)]
    out = []
    known = catalog.is_known(model, target)
    if not known and not model.startswith(catalog.FINE_TUNED_PREFIX):
        out.append(issue(where, "model_unknown",
                         f"unknown model: '{model}' is not a known {info.family or info.id} snapshot",
                         "check the id; checks use the family's traits (e.g. reasoning)"))
    if grader and known and not info.grader:
        listed = ", ".join(m.id for m in catalog.grader_models(target)) or "none"
        out.append(issue(where, "grader_model_unlisted",
                         f"the {target} docs don't list {model} as a grader model",
                         f"documented grader models: {listed}"))
    today = today or catalog.today()
    if grader and target in catalog.PROVIDER_TABLES:
        # A provider table's dates are training retirements (Azure lists gpt-4o-2024-08-06 as a grader
        # model past its training date); when a grader deployment stops serving is not published.
        return out
    if info.retired and today >= info.retired:
        said = f"{model} was shut down by the provider on {info.retired.isoformat()}"
        out.append(issue(where, "model_retired",
                     said + (f" (source: {info.retired_source})" if info.retired_source else ""),
                         "pick a current model; local grading against your own endpoint still works"))
    elif info.retired and (info.retired - today).days <= 90:
        out.append(issue(where, "model_retiring", f"{model} shuts down on {info.retired.isoformat()}"))
    if method and not model.startswith(catalog.FINE_TUNED_PREFIX) and method not in info.methods:
        listed = ", ".join(m.id for m in catalog.fine_tunable(method, target)) or "none"
        out.append(issue(where, "method_model_unlisted",
                         f"the {target} docs don't list {model} for {method} fine-tuning",
                         f"listed for {method}: {listed}"))
    return out


def _formula_hint(position: int, text: str) -> str:
    snippet = text[max(0, position - 15): position] + "⟨here⟩" + text[position: position + 15]
    return f"near: {snippet}"
