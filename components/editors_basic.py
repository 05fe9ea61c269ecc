"""The forms of the grader types without a model: string_check, text_similarity, python and multi.

Each is registered for its type in `components.grader_types`; a grader type without a form there is
edited as JSON.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from components import grader_edit as E
from components import issues_panel, state
from components.template_field import template_field
from ftstudio.graders import (
    PYTHON_IMAGE_TAGS,
    PYTHON_STUB,
    MultiGrader,
    PythonGrader,
    StringCheckGrader,
    TextSimilarityGrader,
    tree,
)
from ftstudio.graders import formula as F

MAX_SOURCE_BYTES = 256 * 1024  # the API's limit on a python grader's source (ftstudio.sandbox.MAX_SOURCE_BYTES)

OPERATIONS = {
    "eq": "1 when input equals reference exactly (case-sensitive), else 0",
    "ne": "1 when input differs from reference, else 0",
    "like": "1 when reference is a substring of input (case-sensitive)",
    "ilike": "like, ignoring case: both sides are casefolded first",
}
METRICS = {
    "fuzzy_match": "rapidfuzz ratio / 100: character edit similarity",
    "bleu": "BLEU-4 (nltk sentence_bleu, smoothing method 1) on words",
    "gleu": "Google BLEU (nltk sentence_gleu) on words",
    "meteor": "METEOR (nltk): word matches with stems and WordNet synonyms",
    "rouge_1": "ROUGE-1 F-measure: overlap of single words",
    "rouge_2": "ROUGE-2 F-measure: overlap of word pairs",
    "rouge_3": "ROUGE-3 F-measure: overlap of 3-word sequences",
    "rouge_4": "ROUGE-4 F-measure: overlap of 4-word sequences",
    "rouge_5": "ROUGE-5 F-measure: overlap of 5-word sequences",
    "rouge_l": "ROUGE-L F-measure: longest common word subsequence",
    "cosine": "embedding cosine — evals only, not accepted in fine-tuning",
}
def set_text(path: tuple, field: str, key: str) -> None:
    E.set_fields(path, f"{field} of {E.node_label(path)}", **{field: state.widget(key) or ""})


def _template(path: tuple, node: Any, field: str, label: str, bag: E.IssueBag, help: str) -> None:
    template_field(label, getattr(node, field), key=E.key(path, field), help=help,
                   on_change=lambda v: E.set_fields(path, f"{field} of {E.node_label(path)}", **{field: v}),
                   issues=bag.take(E.json_path(path, field)))


def string_check(path: tuple, node: StringCheckGrader, bag: E.IssueBag) -> None:
    _template(path, node, "input", "Input", bag, "Usually the model output: {{ sample.output_text }}")
    _template(path, node, "reference", "Reference", bag, "Usually a dataset field: {{ item.answer }}")
    ops = list(OPERATIONS)
    st.radio("Operation", ops, index=ops.index(node.operation), key=E.key(path, "operation"), horizontal=True,
             captions=[OPERATIONS[o] for o in ops], on_change=_set_choice,
             args=(path, "operation", E.key(path, "operation")))
    issues_panel.inline(bag.take(E.json_path(path, "operation")))


def _set_choice(path: tuple, field: str, key: str) -> None:
    E.set_fields(path, f"{field} of {E.node_label(path)}", **{field: state.widget(key)})


def text_similarity(path: tuple, node: TextSimilarityGrader, bag: E.IssueBag) -> None:
    _template(path, node, "input", "Input", bag, "Usually the model output: {{ sample.output_text }}")
    _template(path, node, "reference", "Reference", bag, "Usually a dataset field: {{ item.reference }}")
    metrics = list(METRICS)
    st.selectbox("Evaluation metric", metrics, index=metrics.index(node.evaluation_metric),
                 key=E.key(path, "metric"), format_func=lambda m: f"{m} — {METRICS[m]}",
                 on_change=_set_choice, args=(path, "evaluation_metric", E.key(path, "metric")),
                 help="The reward is the score in [0, 1].")
    issues_panel.inline(bag.take(E.json_path(path, "evaluation_metric")))


def python(path: tuple, node: PythonGrader, bag: E.IssueBag) -> None:
    k = lambda name: E.key(path, name)  # noqa: E731
    st.caption("`grade(sample, item) -> float`: sample has output_text, output_json, output_tools, choices and "
               "output_audio; item is the dataset row. Runs here in a sandboxed process without network.")
    with st.container(key="graders_code"):
        st.text_area("Source", value=node.source, key=k("source"), height=360, on_change=set_text,
                     args=(path, "source", k("source")), placeholder=PYTHON_STUB)
    size = len(node.source.encode("utf-8", "surrogatepass"))
    with st.container(horizontal=True, vertical_alignment="center"):
        st.progress(min(size / MAX_SOURCE_BYTES, 1.0), text=f"{size / 1024:.1f} kB of 256 kB")
        st.button("Starter code", key=k("stub"), icon=":material/restart_alt:", on_click=_stub, args=(path,),
                  help="Replace the source with the starter grade() function")
    issues_panel.inline(bag.take(E.json_path(path, "source")))
    tags = list(PYTHON_IMAGE_TAGS) + ([node.image_tag] if node.image_tag not in PYTHON_IMAGE_TAGS else [])
    st.selectbox("image_tag", tags, index=tags.index(node.image_tag), key=k("tag"), accept_new_options=True,
                 format_func=lambda t: t or "(not set)", on_change=_set_tag, args=(path, k("tag")),
                 help="The provider's runtime image; 2025-05-08 is the documented one.")
    issues_panel.inline(bag.take(E.json_path(path, "image_tag")))


def _stub(path: tuple) -> None:
    E.set_fields(path, "python starter code", redraw=True, source=PYTHON_STUB)


def _set_tag(path: tuple, key: str) -> None:
    E.set_fields(path, "image_tag", image_tag=(state.widget(key) or "").strip() or None)


MAX_CHIPS = 24


def multi(path: tuple, node: MultiGrader, bag: E.IssueBag) -> None:
    k = lambda name: E.key(path, name)  # noqa: E731
    initial = {} if state.has_widget(k("formula")) else {"value": node.calculate_output}  # a chip sets it
    st.text_input("calculate_output", key=k("formula"), **initial, on_change=set_text,
                  args=(path, "calculate_output", k("formula")), placeholder="e.g. 0.7 * exact + 0.3 * fuzzy",
                  help="A formula over the child keys (not their names). Click a chip to insert it.")
    issues_panel.inline(bag.take(E.json_path(path, "calculate_output")))
    with st.container(horizontal=True, gap="xsmall", vertical_alignment="center"):
        if len(node.graders) <= MAX_CHIPS:
            for child in node.graders:
                st.button(child, key=k(f"chip-{child}"), on_click=_insert, args=(path, k("formula"), child),
                          help=f"Insert {child}")
        else:  # hundreds of chips would slow every rerun; one menu holds them all
            st.menu_button(f"keys ({len(node.graders)})", list(node.graders), key=k("keys"),
                           on_click=_insert_fn, args=(path, k("formula"), k("keys"), False),
                           help="Insert a grader key")
        for op in ("+", "-", "*", "/", "^", "(", ")"):
            st.button(op, key=k(f"op-{op}"), type="tertiary", on_click=_insert, args=(path, k("formula"), op))
        st.menu_button("ƒ(x)", list(F.FUNCTIONS), key=k("fn"), format_func=lambda f: f"{f}(…)",
                       on_click=_insert_fn, args=(path, k("formula"), k("fn")), help="Insert a function")
    st.caption("Functions: " + ", ".join(f"`{f}`" for f in F.FUNCTIONS) + " (log is natural). Operators: "
               "`+ - * /` and `^` (power, right-associative; `-2^2` is -4). Numbers and parentheses.")
    issues_panel.inline(bag.take(E.json_path(path, "graders")))
    if not node.graders:
        st.info("This multi has no graders yet: use **Add grader** above.")


def _insert(path: tuple, key: str, token: str) -> None:
    node = tree.node_at(E.root(), path)
    current = state.widget(key, node.calculate_output) or ""
    sep = "" if not current or current[-1] in " (" or token == ")" else " "
    new = current + sep + token
    state.set_widget(key, new)
    E.set_fields(path, "calculate_output", calculate_output=new)


def _insert_fn(path: tuple, key: str, menu_key: str, call: bool = True) -> None:
    """Insert the menu's choice: a function (with its opening parenthesis) or a grader key."""
    chosen = state.widget(menu_key)
    if chosen:
        _insert(path, key, chosen + "(" if call else chosen)


