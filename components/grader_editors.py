"""The editor of the selected grader node, one layout per type, plus its raw JSON (editable).

Each field applies on change (Undo records it) and shows its own validation issues right under
it; what no field claims is shown at the top of the node.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import streamlit as st

from components import editors_model, issues_panel, state
from components import grader_edit as E
from components.grader_tree import ICONS
from components.template_field import template_field
from ftstudio.config import ImportProblem, to_json
from ftstudio.core import Issue, redact
from ftstudio.graders import (
    PYTHON_IMAGE_TAGS,
    LabelModelGrader,
    MultiGrader,
    PythonGrader,
    ScoreModelGrader,
    StringCheckGrader,
    TextSimilarityGrader,
    tree,
)
from ftstudio.graders import formula as F
from ftstudio.validation import grader_from_json

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
_CSS = """<style>
.st-key-graders_code textarea, .st-key-graders_json textarea, .st-key-graders_pg_item textarea {
  font-family: "Source Code Pro", ui-monospace, Menlo, Consolas, monospace; font-size: 0.85rem;
  line-height: 1.35; tab-size: 4; }
.st-key-graders_tree button { min-height: 2rem; padding-top: 0.1rem; padding-bottom: 0.1rem; }
</style>"""


def style() -> None:
    """Monospace for code and JSON boxes, a tighter tree (scoped by container keys)."""
    st.html(_CSS)


def render_editor(root: Any, path: tuple, issues: list[Issue]) -> None:
    node = tree.node_at(root, path)
    bag = E.IssueBag(E.own_issues(issues, path, isinstance(node, MultiGrader)))
    st.markdown(f"#### {ICONS.get(node.type, '')} {node.type}")
    st.caption(f"`{E.json_path(path)}`")
    top = st.container()
    _identity(path, node, bag)
    if isinstance(node, StringCheckGrader):
        _string_check(path, node, bag)
    elif isinstance(node, TextSimilarityGrader):
        _text_similarity(path, node, bag)
    elif isinstance(node, (ScoreModelGrader, LabelModelGrader)):
        editors_model.render(path, node, bag)
    elif isinstance(node, PythonGrader):
        _python(path, node, bag)
    elif isinstance(node, MultiGrader):
        _multi(path, node, bag)
    else:  # provider graders (Azure endpoint, Bedrock lambda): shown as JSON, edited in the JSON view
        st.caption("Scored by your service (endpoint) or on Bedrock (lambda); edit it in the JSON view below.")
        st.code(redact(json.dumps(node.model_dump(mode="json", by_alias=True, exclude_none=True), indent=2)),
                language="json")
    _pass_threshold(path, node, bag)
    with top:
        issues_panel.inline(bag.left)


def _identity(path: tuple, node: Any, bag: E.IssueBag) -> None:
    k = lambda name: E.key(path, name)
    cols = st.columns(2) if path else [st.container()]
    if path:
        with cols[0]:
            st.text_input("Key", value=path[-1], key=k("key"), on_change=_rename, args=(path, k("key")),
                          help="The variable the parent's calculate_output uses; renaming updates the formula.")
            err = state.app().graders_key_error
            if err and err[0] == k("key"):
                st.error(err[1])
    with cols[-1]:
        st.text_input("Name", value=node.name, key=k("name"), on_change=_set_text, args=(path, "name", k("name")),
                      help="Shown in the API's metrics and results.")
        issues_panel.inline(bag.take(E.json_path(path, "name")))
    if path:
        _in_step(path, node)


def key_for(name: str) -> str:
    """The key a name suggests: `exact answer` -> `exact_answer` (letters, digits, _)."""
    slug = re.sub(r"\W+", "_", name.strip().lower()).strip("_")
    return ("g_" + slug if slug[:1].isdigit() else slug)[:40]


def _in_step(path: tuple, node: Any) -> None:
    """Key and name side by side, and an offer to bring them in step when they differ."""
    key, suggested = path[-1], key_for(node.name)
    st.caption(f"key `{key}` (in the formula) · name `{node.name or '(none)'}` (in the API's results)")
    if suggested and suggested != key and suggested not in tree.node_at(E.root(), path[:-1]).graders:
        st.button(f"Use `{suggested}` as the key (from the name)", key=E.key(path, "in-step"),
                  icon=":material/sync:", on_click=_rename_to, args=(path, suggested))


def _rename_to(path: tuple, new: str) -> None:
    try:
        new_root = tree.rename_key(E.root(), path[:-1], path[-1], new)
    except tree.TreeError as exc:
        state.app().graders_key_error = (E.key(path, "key"), f"Not renamed: {exc}")
        return
    E.commit(new_root, f"rename {path[-1]} to {new}", redraw=True)
    E.select(path[:-1] + (new,))


def _rename(path: tuple, key: str) -> None:
    new = (state.widget(key) or "").strip()
    state.app().graders_key_error = None
    try:
        new_root = tree.rename_key(E.root(), path[:-1], path[-1], new)
    except tree.TreeError as exc:
        state.app().graders_key_error = (key, f"Not renamed: {exc}")
        return
    E.commit(new_root, f"rename {path[-1]} to {new}", redraw=True)
    E.select(path[:-1] + (new,))


def _set_text(path: tuple, field: str, key: str) -> None:
    _set_text_value(path, field, state.widget(key) or "")


def _template(path: tuple, node: Any, field: str, label: str, bag: E.IssueBag, help: str) -> None:
    template_field(label, getattr(node, field), key=E.key(path, field), help=help,
                   on_change=lambda v: _set_text_value(path, field, v),
                   issues=bag.take(E.json_path(path, field)))


def _string_check(path: tuple, node: StringCheckGrader, bag: E.IssueBag) -> None:
    _template(path, node, "input", "Input", bag, "Usually the model output: {{ sample.output_text }}")
    _template(path, node, "reference", "Reference", bag, "Usually a dataset field: {{ item.answer }}")
    ops = list(OPERATIONS)
    st.radio("Operation", ops, index=ops.index(node.operation), key=E.key(path, "operation"), horizontal=True,
             captions=[OPERATIONS[o] for o in ops], on_change=_set_choice,
             args=(path, "operation", E.key(path, "operation")))
    issues_panel.inline(bag.take(E.json_path(path, "operation")))


def _set_choice(path: tuple, field: str, key: str) -> None:
    E.set_fields(path, f"{field} of {E.node_label(path)}", **{field: state.widget(key)})


def _text_similarity(path: tuple, node: TextSimilarityGrader, bag: E.IssueBag) -> None:
    _template(path, node, "input", "Input", bag, "Usually the model output: {{ sample.output_text }}")
    _template(path, node, "reference", "Reference", bag, "Usually a dataset field: {{ item.reference }}")
    metrics = list(METRICS)
    st.selectbox("Evaluation metric", metrics, index=metrics.index(node.evaluation_metric),
                 key=E.key(path, "metric"), format_func=lambda m: f"{m} — {METRICS[m]}",
                 on_change=_set_choice, args=(path, "evaluation_metric", E.key(path, "metric")),
                 help="The reward is the score in [0, 1].")
    issues_panel.inline(bag.take(E.json_path(path, "evaluation_metric")))


def _python(path: tuple, node: PythonGrader, bag: E.IssueBag) -> None:
    k = lambda name: E.key(path, name)
    st.caption("`grade(sample, item) -> float`: sample has output_text, output_json, output_tools, choices and "
               "output_audio; item is the dataset row. Runs here in a sandboxed process without network.")
    with st.container(key=state.key("graders", "code")):
        st.text_area("Source", value=node.source, key=k("source"), height=360, on_change=_set_text,
                     args=(path, "source", k("source")), placeholder=tree.PYTHON_STUB)
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
    E.set_fields(path, "python starter code", redraw=True, source=tree.PYTHON_STUB)


def _set_tag(path: tuple, key: str) -> None:
    E.set_fields(path, "image_tag", image_tag=(state.widget(key) or "").strip() or None)


def _set_text_value(path: tuple, field: str, value: str) -> None:
    update: dict[str, Any] = {field: value}
    E.set_fields(path, f"{field} of {E.node_label(path)}", **update)


MAX_CHIPS = 24


def _multi(path: tuple, node: MultiGrader, bag: E.IssueBag) -> None:
    k = lambda name: E.key(path, name)
    initial: dict[str, Any] = {} if state.has_widget(k("formula")) else {"value": node.calculate_output}  # a chip sets it
    st.text_input("calculate_output", key=k("formula"), **initial, on_change=_set_text,
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


def _pass_threshold(path: tuple, node: Any, bag: E.IssueBag) -> None:
    value = getattr(node, "pass_threshold", None)
    if value is None:
        return
    with st.container(horizontal=True, vertical_alignment="center"):
        st.markdown(f"`pass_threshold` = {value:g} (fine-tuning accepts and ignores it; it matters to evals)",
                    width="content")
        st.button("Remove", key=E.key(path, "rm-threshold"), icon=":material/delete:", on_click=lambda: E.set_fields(
            path, "remove pass_threshold", redraw=True, pass_threshold=None))
    issues_panel.inline(bag.take(E.json_path(path, "pass_threshold")))


# --- raw JSON of the selected node or the whole tree -------------------------------------

JSON_SCOPE = state.key("graders", "json_scope")


def json_editor(root: Any, path: tuple) -> None:
    scope = st.segmented_control("Show", ["Selected grader", "Whole tree"], key=JSON_SCOPE, default="Selected grader",
                                 required=True, label_visibility="collapsed")
    target = () if scope == "Whole tree" or not path else path
    text = to_json(tree.node_at(root, target))
    # The key follows the JSON: an edit elsewhere shows up here; a rejected edit keeps the typed text.
    digest = hashlib.sha1(text.encode()).hexdigest()[:10]
    key = E.key(target, f"json-{digest}")
    with st.container(key=state.key("graders", "json")):
        st.text_area("Grader JSON", value=text, key=key, height=420, on_change=_apply_json, args=(target, key),
                     help="Edit and click outside (or Ctrl+Enter) to apply. Invalid JSON is not applied.")
    err = state.app().graders_json_error
    if err and err[0] == key:
        st.error(err[1])
        issues_panel.inline(err[2], show_path=True)
    st.caption("This is exactly what the export puts at " + f"`{E.json_path(target)}`.")


def _apply_json(path: tuple, key: str) -> None:
    state.app().graders_json_error = None
    try:
        node = grader_from_json(state.widget(key) or "")
        new_root = tree.replace_at(E.root(), path, node)
    except ImportProblem as exc:
        state.app().graders_json_error = (key, f"Not applied: {exc.message}", exc.issues)
        return
    except tree.TreeError as exc:
        state.app().graders_json_error = (key, f"Not applied: {exc}", [])
        return
    E.commit(new_root, f"JSON edit of {E.node_label(path)}", redraw=True)
