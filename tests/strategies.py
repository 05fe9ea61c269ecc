"""Hypothesis strategies for valid job configs and grader trees (JSON form)."""

from __future__ import annotations

from hypothesis import strategies as st

IDENT = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
TEMPLATE = st.sampled_from([
    "{{ sample.output_text }}", "{{sample.output_json.label}}", "{{ item.answer }}", "{{ item.a.b[0] }}",
    "Answer: {{ sample.output_text }} / ref {{ item.reference }}", "plain text",
])
MODEL = st.sampled_from(["gpt-4.1-mini-2025-04-14", "gpt-4.1-2025-04-14", "gpt-4o-2024-08-06", "gpt-5-mini", "my-local-model"])


def auto_or(strategy):
    return st.one_of(st.just("auto"), strategy)


def _finite(lo, hi, **kw):
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False, **kw)


N_EPOCHS = auto_or(st.integers(1, 50))
BATCH = auto_or(st.integers(1, 256))
LR = auto_or(_finite(0.001, 100))
BETA = auto_or(_finite(0.001, 2))
COMPUTE = auto_or(_finite(0.001, 10))
EVAL = auto_or(st.integers(1, 1000))


def _optional_fields(draw, fields: dict) -> dict:
    out = {}
    for key, strategy in fields.items():
        if draw(st.booleans()):
            out[key] = draw(strategy)
    return out


@st.composite
def message(draw):
    block = st.one_of(
        st.fixed_dictionaries({"type": st.just("input_text"), "text": TEMPLATE}),
        st.fixed_dictionaries({"type": st.just("output_text"), "text": TEMPLATE}),
        st.fixed_dictionaries({"type": st.just("input_image"), "image_url": st.just("{{ item.image_url }}"),
                               "detail": st.sampled_from(["high", "low", "auto"])}),
        st.fixed_dictionaries({"type": st.just("input_audio"),
                               "input_audio": st.fixed_dictionaries({"data": st.just("{{ item.audio }}"),
                                                                     "format": st.sampled_from(["mp3", "wav"])})}),
    )
    content = draw(st.one_of(TEMPLATE, block, st.lists(st.one_of(TEMPLATE, block), min_size=1, max_size=3)))
    out = {"role": draw(st.sampled_from(["user", "system", "developer", "assistant"])), "content": content}
    if draw(st.booleans()):
        out["type"] = "message"
    return out


@st.composite
def leaf_grader(draw, allow_label=True):
    kinds = ["string_check", "text_similarity", "score_model", "python"] + (["label_model"] if allow_label else [])
    kind = draw(st.sampled_from(kinds))
    name = draw(TEXT.filter(lambda s: s.strip()))
    if kind == "string_check":
        return {"type": kind, "name": name, "input": draw(TEMPLATE), "reference": draw(TEMPLATE),
                "operation": draw(st.sampled_from(["eq", "ne", "like", "ilike"]))}
    if kind == "text_similarity":
        return {"type": kind, "name": name, "input": draw(TEMPLATE), "reference": draw(TEMPLATE),
                "evaluation_metric": draw(st.sampled_from(["fuzzy_match", "bleu", "gleu", "meteor", "rouge_1",
                                                            "rouge_2", "rouge_l"]))}
    if kind == "python":
        out = {"type": kind, "name": name, "source": "def grade(sample, item):\n    return 1.0\n"}
        out.update(_optional_fields(draw, {"image_tag": st.just("2025-05-08")}))
        return out
    msgs = draw(st.lists(message(), min_size=1, max_size=3))
    out = {"type": kind, "name": name, "model": draw(MODEL), "input": msgs}
    if kind == "score_model":
        lo = draw(_finite(-10, 10))
        out.update(_optional_fields(draw, {
            "range": st.just([lo, lo + draw(_finite(0.5, 10))]),
            "sampling_params": st.fixed_dictionaries({}, optional={
                "seed": st.integers(0, 2**31 - 1), "top_p": _finite(0, 1), "temperature": _finite(0, 2),
                "max_completions_tokens": st.integers(1, 10000),
                "reasoning_effort": st.sampled_from(["low", "medium", "high"])}),
        }))
    else:
        labels = draw(st.lists(IDENT, min_size=1, max_size=4, unique=True))
        out["labels"] = labels
        out["passing_labels"] = draw(st.lists(st.sampled_from(labels), max_size=len(labels), unique=True))
    return out


@st.composite
def multi_grader(draw, nested=False):
    keys = draw(st.lists(IDENT.filter(lambda k: k not in ("min", "max", "abs", "floor", "ceil", "exp", "sqrt", "log")),
                         min_size=1, max_size=4, unique=True))
    children = {}
    for key in keys:
        if nested and draw(st.integers(0, 3)) == 0:
            children[key] = draw(multi_grader(nested=False))
        else:
            children[key] = draw(leaf_grader())
    ops = draw(st.lists(st.sampled_from(["+", "-", "*"]), min_size=len(keys) - 1, max_size=len(keys) - 1))
    formula = keys[0] + "".join(f" {op} {k}" for op, k in zip(ops, keys[1:]))
    return {"type": "multi", "name": draw(TEXT.filter(lambda s: s.strip())), "graders": children,
            "calculate_output": draw(st.sampled_from([formula, f"({formula}) / {len(keys)}", f"max(0, {formula})"]))}


def grader(nested=False):
    return st.one_of(leaf_grader(allow_label=False), multi_grader(nested=nested))


@st.composite
def job_config(draw, method=None, nested=False):
    mtype = method or draw(st.sampled_from(["supervised", "dpo", "reinforcement"]))
    cfg = {"model": draw(MODEL), "training_file": "file-" + draw(IDENT)}
    cfg.update(_optional_fields(draw, {
        "validation_file": IDENT.map(lambda s: "file-v" + s),
        "suffix": st.text(st.sampled_from("abcdefghij-_.0123"), min_size=1, max_size=64),
        "seed": st.integers(0, 2147483647),
        "metadata": st.dictionaries(st.text(max_size=64), st.text(max_size=512), max_size=16),
        "integrations": st.lists(st.fixed_dictionaries(
            {"type": st.just("wandb"), "wandb": st.fixed_dictionaries(
                {"project": IDENT}, optional={"name": IDENT, "entity": IDENT, "tags": st.lists(IDENT, max_size=3)})}),
            max_size=1),
    }))
    hp_common = {"batch_size": BATCH, "learning_rate_multiplier": LR, "n_epochs": N_EPOCHS}
    if mtype == "supervised":
        block = {"hyperparameters": draw(st.fixed_dictionaries({}, optional=hp_common))}
    elif mtype == "dpo":
        block = {"hyperparameters": draw(st.fixed_dictionaries({}, optional={**hp_common, "beta": BETA}))}
    else:
        hp = draw(st.fixed_dictionaries({}, optional={
            **hp_common, "compute_multiplier": COMPUTE, "eval_interval": EVAL, "eval_samples": EVAL,
            "reasoning_effort": st.sampled_from(["default", "low", "medium", "high"])}))
        block = {"grader": draw(grader(nested=nested)), "hyperparameters": hp}
    cfg["method"] = {"type": mtype, mtype: block}
    return cfg
