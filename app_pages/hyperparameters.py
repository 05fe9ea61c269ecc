"""Step 2: each hyperparameter of the chosen method, generated from the model's field metadata."""

from __future__ import annotations

import streamlit as st

from components import auto_or_number, bedrock_rft_panel, issues_panel, state
from ftstudio.config import HYPERPARAMETER_MODELS, method_block, specs
from ftstudio.core import under


def _render(cfg, method: str) -> None:
    block = getattr(cfg.method, method) or getattr(method_block(method), method)
    model_cls = HYPERPARAMETER_MODELS[method]
    current = block.hyperparameters or model_cls()
    st.markdown(f"**{method}** takes {len(specs(model_cls))} hyperparameters.")

    values, errors = {}, {}
    cols = st.columns(2)
    for i, spec in enumerate(specs(model_cls)):
        with cols[i % 2]:
            value, error = auto_or_number.render(spec, getattr(current, spec.name), state.wkey(f"hp-{spec.name}"))
            if error:
                st.error(error)
                errors[spec.name] = error
            else:
                values[spec.name] = value
            issues_panel.inline(under(state.issues(), f"method.{method}.hyperparameters.{spec.name}"))

    new_hp = current
    if not errors:
        new_hp = current.model_copy(update=values)
        if new_hp != block.hyperparameters:
            new_block = block.model_copy(update={"hyperparameters": new_hp})
            state.replace(cfg.model_copy(update={"method": cfg.method.model_copy(update={method: new_block})}),
                          "hyperparameters")
    else:
        st.warning("Fix the highlighted value(s); until then the config keeps the previous valid values.")

    shown = {f"method.{method}.hyperparameters.{s.name}" for s in specs(model_cls)}
    rest = [i for i in state.issues() if (".hyperparameters" in i.path or i.path == "hyperparameters")
            and i.path not in shown]
    if rest:
        st.subheader("Other hyperparameter issues")
        issues_panel.inline(rest, show_path=True)

    with st.expander("What the API receives"):
        st.json(new_hp.model_dump())


st.title("2 · Hyperparameters")
st.caption('Each one is "auto" (the platform picks from your dataset) or a number within the documented bounds. '
           "Start with auto; adjust after a first run: add 1-2 epochs if the model underfits, remove 1-2 if its "
           "outputs lose diversity, raise the learning-rate multiplier if training doesn't converge.")

config = state.config()
if config.method is None:
    st.info("This config has no method block yet (the API would run supervised with legacy settings).")
    if st.button("Add a supervised method block", type="primary"):
        state.load(config.model_copy(update={"method": method_block("supervised")}), "add method")
        st.rerun()
else:
    _render(config, config.method_type)
    if state.target() == "bedrock-rft":
        bedrock_rft_panel.render(config)
