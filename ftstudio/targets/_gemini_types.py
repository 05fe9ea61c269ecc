"""Target gemini, one translation per grader type: a node as a SingleReinforcementTuningRewardConfig.

Each function takes the node, its reward name and the affine map from its reward to the reward
Gemini should give (`_gemini.py` works the map out for the whole tree), and returns a `Translated`
(the wire form, camelCase, and what it changes) or `Unavailable(reason, rule)`: such a node goes to
the Cloud Run scorer, which `ftstudio serve` answers at POST /gemini. Facts from google-genai 3.6.1
(`google/genai/types.py`): string match operations EXACT_MATCH / PARTIAL_MATCH (substring) /
REGEX_CONTAINS (GoogleSQL REGEXP_CONTAINS, RE2); `{{references.key}}` placeholders; the autorater's
model is a fully qualified Vertex model; every scorer's reward is clipped to [-1, 1].
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Callable

from ftstudio.core import Unavailable
from ftstudio.core.records import datarecord
from ftstudio.graders import (
    InputText,
    LabelModelGrader,
    PythonGrader,
    ScoreModelGrader,
    StringCheckGrader,
)
from ftstudio.graders import templates as T

from ._translation import Affine, Change

_REF_KEY = re.compile(r"^[A-Za-z0-9_]+$")
_RE2_SPECIAL = set("\\.^$|?*+()[]{}")
VERTEX_MODEL = "projects/PROJECT_ID/locations/LOCATION/publishers/google/models/{model}"


@datarecord(frozen=True)
class Translated:
    config: dict  # a SingleReinforcementTuningRewardConfig, wire form
    scorer: str  # stringMatch | codeExecution | autorater
    exact: bool  # the exported scorer computes our reward exactly (after the map), given the same output
    changes: tuple[Change, ...] = ()


Result = Translated | Unavailable


# --- templates ----------------------------------------------------------------------------------

def _is_output_text(source: str) -> bool:
    t = T.parse(source)
    return t.ok and len(t.parts) == 1 and isinstance(t.parts[0], T.Ref) and t.parts[0].namespace == "sample" \
        and t.parts[0].path == ("output_text",)


def _placeholders(source: str, response: str | None = None) -> str | None:
    """A template with item.KEY as {{references.KEY}} (and sample.output_text as `response`, when given);
    None when it reads anything else (a nested path, another sample field)."""
    t = T.parse(source)
    if not t.ok:
        return None
    out = []
    for part in t.parts:
        if isinstance(part, str):
            out.append(part)
        elif part.namespace == "item" and len(part.path) == 1 and _REF_KEY.match(str(part.path[0])):
            out.append("{{references." + str(part.path[0]) + "}}")
        elif response is not None and part.namespace == "sample" and part.path == ("output_text",):
            out.append(response)
        else:
            return None
    return "".join(out)


def re2_escape(text: str) -> str:
    """A literal as an RE2 (and Python re) pattern: a backslash before each special character only."""
    return "".join("\\" + c if c in _RE2_SPECIAL else c for c in text)


# --- string_check --------------------------------------------------------------------------------

_OPS = {"eq": ("EXACT_MATCH", True), "ne": ("EXACT_MATCH", False), "like": ("PARTIAL_MATCH", True),
        "ilike": ("REGEX_CONTAINS", True)}


def _json_key(source: str) -> str | None:
    """KEY when the template is exactly {{sample.output_json.KEY}} (a first-level key, as JSON match takes)."""
    t = T.parse(source)
    if t.ok and len(t.parts) == 1 and isinstance(t.parts[0], T.Ref):
        ref = t.parts[0]
        if ref.namespace == "sample" and len(ref.path) == 2 and ref.path[0] == "output_json" \
                and isinstance(ref.path[1], str):
            return ref.path[1]
    return None


def string_check(node: StringCheckGrader, name: str, aff: Affine) -> Result:
    key = _json_key(node.input)
    if not _is_output_text(node.input) and key is None:
        return Unavailable("string match compares the model's whole response or one first-level key of its "
                           f"JSON; this input is {node.input!r}", "gemini_string_match_input")
    op, positive = _OPS[node.operation]
    changes: tuple[Change, ...] = ()
    if node.operation == "ilike":
        ref = T.parse(node.reference)
        if not (ref.ok and all(isinstance(p, str) for p in ref.parts)) or not node.reference.isascii():
            return Unavailable("ilike with a reference read from the row (or non-ASCII): Gemini's only "
                               "case-insensitive match is REGEX_CONTAINS, which would read the row's value as "
                               "a pattern", "gemini_ilike")
        expression = "(?i)" + re2_escape(node.reference)
        changes = (Change("operation", "gemini_ilike", "ilike became REGEX_CONTAINS '(?i)<escaped reference>': "
                          "RE2's case-insensitive match of an ASCII literal; it differs from our casefold() "
                          "only where the response has characters whose case folding is several letters "
                          "(ß, ﬃ)", lost=False),)
    else:
        expression = _placeholders(node.reference)
        if expression is None:
            return Unavailable(f"the reference {node.reference!r} reads more than top-level item fields; "
                               "string match substitutes only {{references.key}}", "gemini_string_match_input")
    hit, miss = (aff(1.0), aff(0.0)) if positive else (aff(0.0), aff(1.0))
    match = {"matchOperation": op, "expression": expression}
    scorer: dict = {"correctAnswerReward": hit, "wrongAnswerReward": miss}
    if key is None:
        scorer["stringMatchExpression"] = match
    else:
        scorer["jsonMatchExpression"] = {"keyName": key, "valueStringMatchExpression": match}
        changes += (Change("input", "gemini_json_match", f"{{{{sample.output_json.{key}}}}} became JSON match on "
                           f"key {key!r}: the same for string values; how Gemini compares a number, an object or a "
                           "response that isn't JSON is not documented (ftstudio: compact JSON; not JSON scores 0)"),)
    if node.operation == "ne":
        changes += (Change("operation", "gemini_string_match_ne", "ne became EXACT_MATCH with the rewards "
                           "swapped (a match scores what a mismatch scores in ftstudio)", lost=False),)
    return Translated({"rewardName": name, "stringMatchRewardScorer": scorer}, "stringMatch", key is None, changes)


# --- python ---------------------------------------------------------------------------------------

def runtime_source() -> str:
    from importlib import resources  # here: the targets' registry loads this module for every validation

    return resources.files("ftstudio.targets").joinpath("_gemini_runtime.py").read_text(encoding="utf-8")


_EVALUATE = '''

# --- ftstudio: Gemini's evaluate(example, response) over grade(sample, item) above ---
FTSTUDIO_SCALE, FTSTUDIO_OFFSET = {scale!r}, {offset!r}


def evaluate(example, response):
    item = ftstudio_item(example)
    sample = ftstudio_sample(ftstudio_completion(response))
    try:  # as ftstudio's engine: a failing grade() or a value float() refuses scores 0.0
        value = float(grade(sample, item))
    except BaseException:
        value = 0.0
    if value != value or value in (float("inf"), float("-inf")):
        value = 0.0
    return FTSTUDIO_SCALE * value + FTSTUDIO_OFFSET
'''


def evaluate_snippet(source: str, aff: Affine) -> str:
    """The python grader's source with Gemini's evaluate(example, response) wrapped around its grade()."""
    return source.rstrip() + "\n\n\n" + runtime_source().rstrip() + "\n" + _EVALUATE.format(
        scale=aff.scale, offset=aff.offset)


def third_party_imports(source: str) -> list[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return sorted(n for n in names if n not in sys.stdlib_module_names)


def python(node: PythonGrader, name: str, aff: Affine) -> Result:
    config = {"rewardName": name, "codeExecutionRewardScorer": {"pythonCodeSnippet": evaluate_snippet(node.source,
                                                                                                       aff)}}
    changes = []
    extra = third_party_imports(node.source)
    if extra:
        changes.append(Change("source", "gemini_code_imports", f"imports {', '.join(extra)}: Gemini runs the code "
                              "in a sandbox without internet, and which packages it has is not documented",
                              "test it with client.tunings.validate_reward before tuning"))
    return Translated(config, "codeExecution", True, tuple(changes))


# --- score_model / label_model -----------------------------------------------------------------------

def vertex_model(model: str) -> str | None:
    """Our grader model as the autorater's fully qualified Vertex model; None when it is not a Gemini model."""
    if model.startswith("projects/"):
        return model
    short = model.rsplit("/", 1)[-1]
    return VERTEX_MODEL.format(model=short) if short.startswith("gemini-") else None


def _message_text(content) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, InputText):
        return content.text
    if isinstance(content, list) and all(isinstance(c, (str, InputText)) for c in content):
        return "".join(c if isinstance(c, str) else c.text for c in content)
    return None


def _autorater_prompt(node: ScoreModelGrader | LabelModelGrader) -> str | Unavailable:
    texts = []
    for msg in node.input:
        text = _message_text(msg.content)
        prompt = _placeholders(text, "{{response}}") if text is not None else None
        if prompt is None:
            return Unavailable("the autorater takes one text prompt with {{response}} and {{references.key}}; "
                               "these messages hold images, audio or nested item paths", "gemini_autorater_unavailable")
        texts.append(prompt if len(node.input) == 1 else f"{msg.role}: {prompt}")
    return "\n\n".join(texts)


def _autorater(node: ScoreModelGrader | LabelModelGrader, name: str, instruction: str, tag: str,
               scoring: dict) -> Result:
    model = vertex_model(node.model)
    if model is None:
        return Unavailable(f"the grader model {node.model!r} is not a Gemini model; Gemini's autorater runs "
                           "Vertex models only", "gemini_autorater_unavailable")
    prompt = _autorater_prompt(node)
    if isinstance(prompt, Unavailable):
        return prompt
    config: dict = {"autoraterModel": model, "samplingCount": 1}
    sp = node.sampling_params
    generation = {k: v for k, v in (("temperature", sp and sp.temperature), ("topP", sp and sp.top_p),
                                     ("seed", sp and sp.seed)) if v is not None}
    if generation:
        config["generationConfig"] = generation
    scorer = {"autoraterConfig": config, "autoraterPrompt": prompt + "\n\n" + instruction,
              "autoraterResponseParseConfig": {"parseType": "REGEX_EXTRACT",
                                               "regexExtractExpression": f"<{tag}>(.*?)</{tag}>"}, **scoring}
    changes = [Change("input", "gemini_autorater", f"the judge answers in <{tag}></{tag}> tags instead of "
                      "ftstudio's structured JSON; the messages became one prompt", "judges differ run to run: "
                      "compare with `ftstudio grade` on a sample before tuning")]
    if model != node.model:
        changes.append(Change("model", "gemini_autorater_model", f"the autorater model is {model}",
                              "replace PROJECT_ID and LOCATION with your Vertex project and region", lost=False))
    return Translated({"rewardName": name, "autoraterScorer": scorer}, "autorater", False, tuple(changes))


def score_model(node: ScoreModelGrader, name: str, aff: Affine) -> Result:
    lo, hi = node.range or [0.0, 1.0]
    if not aff.identity:
        return Unavailable("the autorater's parsed score is the reward as written: it can't apply the map onto "
                           "[-1, 1] this tree needs", "gemini_autorater_unavailable")
    return _autorater(node, name, f"Answer with a score from {lo:g} to {hi:g}, as <score>SCORE</score>.", "score",
                      {"parsedResponseConversionScorer": {}})


def label_model(node: LabelModelGrader, name: str, aff: Affine) -> Result:
    if len(node.passing_labels) != 1:
        return Unavailable("the autorater's exact match takes one passing label; this grader passes "
                           f"{len(node.passing_labels)}", "gemini_autorater_unavailable")
    return _autorater(node, name, "Answer with exactly one of these labels, as <label>LABEL</label>: "
                      + ", ".join(node.labels) + ".", "label",
                      {"exactMatchScorer": {"correctAnswerReward": aff(1.0), "wrongAnswerReward": aff(0.0),
                                            "expression": node.passing_labels[0]}})


def _cloud_only(reason: str) -> Callable[..., Result]:
    def translate(node, name: str, aff: Affine) -> Result:
        return Unavailable(reason, "gemini_cloud_run")
    return translate


# One entry per grader type (a multi is a composite, worked out in _gemini.py; inside a composite a
# nested multi goes to Cloud Run).
TRANSLATIONS: dict[str, Callable[..., Result]] = {
    "string_check": string_check,
    "python": python,
    "score_model": score_model,
    "label_model": label_model,
    "text_similarity": _cloud_only("Gemini has no text similarity metric (fuzzy_match, BLEU, ROUGE, METEOR, "
                                   "cosine)"),
    "multi": _cloud_only("a multi inside a multi: a composite holds single reward configs"),
    "endpoint": _cloud_only("an endpoint grader calls its own service"),
    "lambda": _cloud_only("a lambda grader runs on AWS"),
}
