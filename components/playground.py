"""The single-sample playground: one model output and one item row, graded with engine.explain.

Cheap graders (string_check, local text_similarity, formulas) re-grade whenever the grader or the
inputs change; python and model graders (with an endpoint) wait for the Run button, so typing
never starts processes or API calls. Results are cached on a fingerprint of grader + inputs.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import streamlit as st

from components import issues_panel, state, trust_gate
from ftstudio.config import to_json
from ftstudio.graders import grader_type, walk
from ftstudio.grading import GradeOptions, InvalidGrader, explain

OUTPUT, ITEM, ROW = state.key("graders", "pg_output"), state.key("graders", "pg_item"), state.key("graders", "pg_row")
# Streamlit drops a widget's value when its page is left: the inputs are kept in AppState too.
_KEPT = {OUTPUT: "playground_output", ITEM: "playground_item"}
EXAMPLE_ITEM = {"answer": "42", "label": "math", "reference": "The answer is 42."}
EXAMPLE_OUTPUT = "42"
NO_ENDPOINT = ("Model graders call a model: set OPENAI_API_KEY (and OPENAI_BASE_URL for other servers) before "
               "starting the app, or configure the connection on 4 Test grading.")


def _row_texts(row: dict) -> tuple[str, str]:
    field = state.sample_field()
    output = row.get(field, "")
    if not isinstance(output, str):
        output = json.dumps(output, separators=(",", ":"), ensure_ascii=False)
    item = {k: v for k, v in row.items() if k != field}
    return output, json.dumps(item, indent=2, ensure_ascii=False)


def _seed() -> None:
    ds = state.dataset()
    marker = id(ds)
    a = state.app()
    if a.playground_seeded == marker:
        for widget_key, slot in _KEPT.items():
            if not state.has_widget(widget_key) and getattr(a, slot) is not None:
                state.set_widget(widget_key, getattr(a, slot))
        return
    a.playground_seeded = marker
    if ds is not None and len(ds):
        _set_inputs(*_row_texts(ds.store[0]))
    elif not state.has_widget(OUTPUT):
        _set_inputs(EXAMPLE_OUTPUT, json.dumps(EXAMPLE_ITEM, indent=2))


def _set_inputs(output: str, item: str) -> None:
    state.set_widget(OUTPUT, output)
    state.set_widget(ITEM, item)


def _keep_inputs() -> None:
    a = state.app()
    a.playground_output, a.playground_item = state.widget(OUTPUT), state.widget(ITEM)


def _load_row() -> None:
    ds = state.dataset()
    n = state.widget(ROW) or 1
    if ds is not None and 1 <= n <= len(ds):
        _set_inputs(*_row_texts(ds.store[n - 1]))


def needs_button(grader: Any) -> bool:
    """Grading that starts processes or calls an API waits for a click."""
    configured = state.endpoint().configured
    for _, node in walk(grader):
        kind = grader_type(node.type)
        if kind.runs_code or (configured and kind.uses_endpoint(node)):
            return True
    return False


def _parse_item(text: str) -> tuple[dict | None, str | None]:
    try:
        item = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        return None, f"The item is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
    if not isinstance(item, dict):
        return None, f"The item must be a JSON object ({{...}}), not {type(item).__name__}."
    return item, None


def _fingerprint(grader: Any, output: str, item_text: str) -> str:
    payload = "\x00".join([to_json(grader, indent=None), output, item_text, state.sample_field()])
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _run(grader: Any, output: str, item: dict, fp: str) -> None:
    field = state.sample_field()
    row = {**item, field: output}
    options = GradeOptions(endpoint=state.endpoint(), python_timeout=10, python_workers=1)  # one row, one worker
    try:
        result: dict[str, Any] = {"ok": explain(grader, row, field, options=options)}
    except InvalidGrader as exc:
        result = {"invalid": exc.issues}
    except Exception as exc:  # the playground reports, never crashes the page
        result = {"failed": f"{type(exc).__name__}: {exc}"}
    state.app().playground_result = (fp, result)


def _run_now() -> None:
    """The Run button: read the grader and inputs as they are now (a typed edit arrives with the click)."""
    grader = state.config().grader
    output = state.widget(OUTPUT) or ""
    item_text = state.widget(ITEM) or ""
    item, err = _parse_item(item_text)
    if grader is not None and item is not None:
        _run(grader, output, item, _fingerprint(grader, output, item_text))


def render(grader: Any) -> None:
    _seed()
    ds = state.dataset()
    st.markdown("#### :material/play_arrow: Try one sample")
    if ds is not None and len(ds):
        with st.container(horizontal=True, vertical_alignment="bottom", gap="xsmall"):
            st.number_input(f"Dataset row (1–{len(ds)})", min_value=1, max_value=len(ds), value=1, step=1,
                            key=ROW)
            st.button("Use row", key=state.key("graders", "pg_use"), icon=":material/download:", on_click=_load_row)
    st.text_area("Model output", key=OUTPUT, height=90,
                 help="What the model answered: sample.output_text (and sample.output_json when it is JSON).")
    st.text_area("Item (the dataset row as JSON)", key=ITEM, height=140,
                 help="The fields {{ item.<field> }} reads; the model-output field is not part of it.")
    _keep_inputs()
    output = state.widget(OUTPUT) or ""
    item_text = state.widget(ITEM) or ""
    item, err = _parse_item(item_text)
    if err:
        st.error(err)
        return
    fp = _fingerprint(grader, output, item_text)
    cached = state.app().playground_result
    if needs_button(grader):
        if not trust_gate.allowed(grader, state.key("graders", "pg_trust")):
            return
        st.button("Run", key=state.key("graders", "pg_run"), icon=":material/play_arrow:", type="primary",
                  on_click=_run_now,
                  help="Python and model graders run on demand (they start processes or call your endpoint).")
        if cached is None:
            return
        if cached[0] != fp:
            st.caption("The grader or the inputs changed since this result: run again.")
    elif (cached is None or cached[0] != fp) and item is not None:
        _run(grader, output, item, fp)
        cached = state.app().playground_result
    if cached is not None:
        show_result(cached[1])


def show_result(result: dict) -> None:
    if "invalid" in result:
        st.error("The grader can't be evaluated yet; fix these first:")
        issues_panel.inline(result["invalid"], show_path=True)
        return
    if "failed" in result:
        st.error(f"Grading failed: {result['failed']}")
        return
    out = result["ok"]
    with st.container(horizontal=True, vertical_alignment="center", gap="medium"):
        st.metric("Reward", _num(out["reward"]), border=True, width="content")
        if out["sub_rewards"]:
            st.markdown("**sub_rewards**  \n" + " · ".join(f"`{k}` {_num(v)}" for k, v in out["sub_rewards"].items()),
                        width="content")
    for code, details in (out.get("error_details") or {}).items():
        if code == "model_grader_server_error" and "no model endpoint" in str(details):
            st.warning(f"**{code}** — no model endpoint is configured. {NO_ENDPOINT}")
        else:
            st.error(f"**{code}** — {details}")
    with st.expander("Per grader: score, errors, rendered templates", expanded=bool(out["errors"])):
        for node in out["nodes"]:
            _node(node)


def _node(node: dict) -> None:
    where = node["path"] or "(root)"
    errors = node.get("errors") or {}
    mark = ":material/error:" if errors else ":material/check_circle:"
    st.markdown(f"{mark} **{node['key'] or 'root'}** · {node['type']} · score **{_num(node['score'])}**  \n"
                f"<small>`{where}`</small>", unsafe_allow_html=True)
    for code, details in errors.items():
        st.caption(f":red[{code}]: {details}")
    for name, value in (node.get("rendered") or {}).items():
        if isinstance(value, str):
            st.caption(name)
            st.code(value, language=None, wrap_lines=True)
        else:
            st.caption(f"{name} (as sent to the model)")
            st.code(json.dumps(value, indent=2, ensure_ascii=False), language="json", wrap_lines=True)


def _num(value: float) -> str:
    return f"{value:.4g}"
