"""Semantic checks of a grader tree, on its JSON form (so they run even when the schema fails).

Each rule knows whether the engine can still grade (blocks_grading=False: only the provider
would refuse) or not (a formula that doesn't parse, a malformed template).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ftstudio.config import catalog
from ftstudio.core import DEFAULT_MODEL, Issue, join_path
from ftstudio.graders import formula as F
from ftstudio.graders import templates as T

from ._rules import issue

_TEXT_FIELDS = ("input", "reference")
# A value a reader must replace: <SUPPORTED_GRADER_MODEL_ID>, {{aoai_deployment_and_model}}.
_PLACEHOLDER = re.compile(r"^<[A-Za-z0-9_ .-]+>$|\{\{.*\}\}")
_STRAY_BRACES = re.compile(r"\{\{[^{}]*\}\}\}+")
_LAMBDA_ARN = re.compile(r"^arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}(-gov)?-[a-z]+-\d{1}:\d{12}:function:"
                         r"[a-zA-Z0-9-_\.]+(:(\$LATEST|[a-zA-Z0-9-_]+))?$")


def is_placeholder(value: Any) -> bool:
    return isinstance(value, str) and bool(_PLACEHOLDER.search(value.strip()))


class GraderChecker:
    """Each finding names its rule; the severity comes from the rules registry (and `resolve` per target)."""

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
        if self.reinforcement and g.get("type") == "label_model":
            self.add(path, "label_model_top_level",
                     "label_model can't be the top-level reinforcement grader",
                     "wrap it in a multi (calculate_output = its key) or use score_model")
        self._node(g, path, depth=0)
        return self.out

    def _node(self, g: dict, path: tuple, depth: int) -> None:
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
        # An explicit map: the type comes from user data (an unknown one is the schema's error).
        handler = _HANDLERS.get(kind) if isinstance(kind, str) else None
        if handler is not None:
            handler(self, g, path, depth)

    def _multi(self, g: dict, path: tuple, depth: int) -> None:
        graders = g.get("graders")
        if depth >= 1:
            self.add(path, "multi_nested", "a multi grader inside a multi grader is not accepted by the API",
                     "use 'Flatten for the API' (CLI: ftstudio flatten FILE); local grading works as is")
        if "invalid_grade" in g:
            self.add(path + ("invalid_grade",), "multi_invalid_grade",
                     "unknown field 'invalid_grade': only Azure's RFT how-to documents it (on multi graders)",
                     "remove it, or validate for Azure (--target azure), where it is the reward of a row whose "
                     "sub-grader errors or whose calculate_output can't be evaluated")
        if not isinstance(graders, dict):
            if isinstance(graders, list):
                self.add(path + ("graders",), "multi_graders_list",
                         "graders is a list; it must be an object keyed by the names used in calculate_output",
                         'for example {"graders": {"similarity": {...}, "exact": {...}}, '
                         '"calculate_output": "0.5 * similarity + 0.5 * exact"}', True)
                formula = g.get("calculate_output")
                if isinstance(formula, str):
                    self._formula(formula, [], path + ("calculate_output",), check_unused=False)
            return
        if not graders:
            self.add(path + ("graders",), "multi_empty", "a multi grader needs at least one grader",
                     "add a child grader", True)
        for key in graders:
            if key in F.FUNCTIONS:
                self.add(path + ("graders", key), "multi_key_reserved",
                         f"grader key '{key}' is also a formula function name", "rename the key", True)
        for key, child in graders.items():
            if isinstance(child, dict):
                if child.get("type") == "label_model" and self.reinforcement:
                    self.add(path + ("graders", key), "label_model_in_multi",
                             "label_model inside multi is allowed by the SDK types, but whether the RFT service "
                             "accepts it is undocumented (Azure accepts only string_check and text_similarity)")
                self._node(child, path + ("graders", key), depth + 1)
        formula = g.get("calculate_output")
        if isinstance(formula, str):
            self._formula(formula, list(graders), path + ("calculate_output",))

    def _formula(self, text: str, keys: list[str], path: tuple, check_unused: bool = True) -> None:
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

    def _string_check(self, g: dict, path: tuple, depth: int) -> None:
        self._templates(g, path, _TEXT_FIELDS)

    def _text_similarity(self, g: dict, path: tuple, depth: int) -> None:
        self._templates(g, path, _TEXT_FIELDS)
        if self.reinforcement and g.get("evaluation_metric") == "cosine":
            self.add(path + ("evaluation_metric",), "cosine_in_reinforcement",
                     "cosine is documented for evals only, not for reinforcement fine-tuning",
                     "use fuzzy_match, bleu, gleu, meteor or rouge_*; local grading still computes cosine "
                     "with embeddings from your endpoint")

    def _score_model(self, g: dict, path: tuple, depth: int) -> None:
        self._model_grader(g, path)
        rng = g.get("range")
        if isinstance(rng, list) and len(rng) == 2 and all(isinstance(x, (int, float)) for x in rng):
            if not rng[0] < rng[1]:
                self.add(path + ("range",), "score_model_range", f"range {rng} needs low < high",
                         "for example [0, 1]", True)

    def _label_model(self, g: dict, path: tuple, depth: int) -> None:
        self._model_grader(g, path)
        labels, passing = g.get("labels"), g.get("passing_labels")
        if isinstance(labels, list):
            if not labels:
                self.add(path + ("labels",), "label_model_labels", "labels is empty", "list the labels "
                         "the model may choose from", True)
            if len(set(map(str, labels))) != len(labels):
                self.add(path + ("labels",), "label_model_labels_duplicate", "labels has duplicates")
        if isinstance(labels, list) and isinstance(passing, list):
            extra = [p for p in passing if p not in labels]
            if extra:
                self.add(path + ("passing_labels",), "label_model_passing_not_subset",
                         f"passing_labels {extra} are not in labels", "passing_labels must be a subset of labels")
            if not passing:
                self.add(path + ("passing_labels",), "label_model_no_passing",
                         "passing_labels is empty, so every row scores 0")
        if "sampling_params" in g:
            self.add(path + ("sampling_params",), "label_model_sampling_params",
                     "label_model sampling_params appear in the 2025 guide but not in the SDK types",
                     "the API may reject them; remove them if it does")

    def _python(self, g: dict, path: tuple, depth: int) -> None:
        source = g.get("source")
        if isinstance(source, str):
            from ftstudio.sandbox import static_check  # lazily: validation stays light for the CLI

            for p in static_check(source):
                self.add(path + ("source",), p.code, p.message, "", True)
        tag = g.get("image_tag")
        if isinstance(tag, str) and tag not in ("2025-05-08", "alpha"):
            self.add(path + ("image_tag",), "python_image_tag",
                     f"image_tag {tag!r} is not a documented tag", "documented: 2025-05-08 (also 'alpha' in a guide)")

    def _endpoint(self, g: dict, path: tuple, depth: int) -> None:
        self.add(path, "endpoint_grader",
                 f"endpoint graders are an Azure Foundry preview; the {self.target} target doesn't take them"
                 if self.target != "azure" else "endpoint grader: an Azure Foundry private preview (access required)",
                 "Azure POSTs {sample, item, trace_id} to the url and expects {\"score\": number}")
        url = g.get("url")
        if is_placeholder(url):
            self.add(path + ("url",), "model_placeholder", f"url {url!r} is a placeholder to replace")
        elif isinstance(url, str) and not url.startswith(("https://", "http://")):
            self.add(path + ("url",), "schema_value", f"url {url!r} is not an http(s) URL",
                     "the grader POSTs to it", True)

    def _lambda(self, g: dict, path: tuple, depth: int) -> None:
        self.add(path, "lambda_grader",
                 f"lambda graders run only on Amazon Bedrock, not on the {self.target} target"
                 if self.target != "bedrock" else "lambda grader", "grade locally with --lambda-handler ARN=handler.py")
        fn = g.get("lambda", {}).get("function") if isinstance(g.get("lambda"), dict) else None
        if is_placeholder(fn):
            self.add(path + ("lambda", "function"), "model_placeholder",
                     f"{fn!r} is a placeholder to replace with the Lambda function ARN")
        elif isinstance(fn, str) and not _LAMBDA_ARN.match(fn):
            self.add(path + ("lambda", "function"), "lambda_arn", f"{fn!r} is not a Lambda function ARN",
                     "arn:aws:lambda:<region>:<12-digit account>:function:<name>")

    # --- model graders -------------------------------------------------------------------
    def _model_grader(self, g: dict, path: tuple) -> None:
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
                        self._template(text, path + rel)
            if messages and not any("sample." in t for t in texts):
                self.add(path + ("input",), "grader_ignores_sample",
                         "no message mentions {{ sample.* }}, so the grader never sees the model's output")
        self._sampling(g.get("sampling_params"), model if isinstance(model, str) else "", path)

    def _sampling(self, sp: Any, model: str, path: tuple) -> None:
        if not isinstance(sp, dict) or not model:
            return
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
    def _templates(self, g: dict, path: tuple, fields: tuple) -> None:
        for f in fields:
            if isinstance(g.get(f), str):
                self._template(g[f], path + (f,))
        if isinstance(g.get("input"), str) and "sample." not in g["input"] and "sample." not in str(g.get("reference")):
            self.add(path + ("input",), "grader_ignores_sample",
                     "neither input nor reference reads {{ sample.* }}, so the score never depends on the model output")

    def _template(self, text: str, path: tuple) -> None:
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



_HANDLERS = {
    "string_check": GraderChecker._string_check, "text_similarity": GraderChecker._text_similarity,
    "score_model": GraderChecker._score_model, "label_model": GraderChecker._label_model,
    "python": GraderChecker._python, "multi": GraderChecker._multi,
    "endpoint": GraderChecker._endpoint, "lambda": GraderChecker._lambda,
}

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
