"""Widgets for the job-level fields of step 1 (model, files, suffix, seed, metadata, W&B, response_format).

Each widget applies its value through state.replace only when it is valid; an invalid entry
stays in the widget with its message next to it, and the config keeps its last valid value.
"""

from __future__ import annotations

import datetime as dt
import json

import streamlit as st

from components import state
from ftstudio.config import (
    MAX_METADATA_KEY,
    MAX_METADATA_PAIRS,
    MAX_METADATA_VALUE,
    MAX_SEED,
    MAX_SUFFIX,
    ImportProblem,
    Integration,
    JobConfig,
    WandbIntegrationSettings,
    catalog,
    parse_json,
)


def _apply(cfg: JobConfig, label: str, **update) -> None:
    state.replace(cfg.model_copy(update=update), label)


def model_label(model_id: str, target: str = "openai") -> str:
    info = catalog.lookup(model_id, target)
    if info is None:
        return f"{model_id} · not in the model table"
    bits = []
    if info.methods and info.id == model_id:
        bits.append(", ".join(info.methods))
    if info.retired:
        gone = info.retired <= catalog.today()
        bits.append(("retired " if gone else "retires ") + info.retired.isoformat())
    return model_id + (f" · {' · '.join(bits)}" if bits else "")


def model_picker(cfg: JobConfig, target: str | None = None) -> None:
    method, target = cfg.method_type, target or state.target()
    day = catalog.today()
    now = {m.id for m in catalog.current(method, target, day)}
    listed = [m.id for m in catalog.fine_tunable(target=target)]  # the sidebar's target picks the table
    # Current models for the method first, then the others listed for it, then the rest.
    listed.sort(key=lambda mid: (mid not in now, method not in (catalog.lookup(mid, target).methods or ()), mid))
    options = listed if cfg.model in listed or not cfg.model else [cfg.model] + listed
    choice = st.selectbox("Base model", options, index=options.index(cfg.model) if cfg.model in options else None,
                          format_func=lambda mid: model_label(mid, target), accept_new_options=True,
                          key=state.wkey(f"model-{target}"),
                          placeholder="Pick a model or type any id (fine-tuned ids like ft:... too)",
                          help="Models the docs list for the chosen method come first. Type any other id — "
                               "your provider may serve models the table doesn't know.")
    if choice is not None and choice.strip() != cfg.model:
        _apply(cfg, "model", model=choice.strip())
        st.rerun()
    current_models(method, target, day)


def current_models(method: str, target: str, day: dt.date) -> None:
    """Which models a new job can use on `target` today, from the catalog's data (models and the
    provider's cut-off); when none can, where to go instead."""
    prov = catalog.provider(target)
    label = prov.label if prov else target
    if prov is not None and prov.closed_on(day):
        st.warning(f"{label} stopped creating fine-tuning jobs after {prov.new_jobs_until:%Y-%m-%d}: no model can be "
                   f"picked there any more. {prov.instead}", icon=":material/event_busy:")
        return
    now = catalog.current(method, target, day)
    until = f" New {label} jobs until {prov.new_jobs_until:%Y-%m-%d}." if prov and prov.new_jobs_until else ""
    if now:
        st.caption(f"Current for {method} on {label}: " + ", ".join(f"`{m.id}`" for m in now) + "." + until)
        return
    gone = [m for m in catalog.fine_tunable(method, target) if m.retired_on(day)]
    was = "; ".join(f"`{m.id}` retired {m.retired:%Y-%m-%d}" for m in gone if m.retired) or "none is listed"
    st.warning(f"No current {label} model for {method} ({was}).{until} {prov.instead if prov else ''}",
               icon=":material/event_busy:")


def files(cfg: JobConfig) -> None:
    left, right = st.columns(2)
    train = left.text_input("Training file id", value=cfg.training_file, key=state.wkey("training_file"),
                            placeholder="file-abc123", help="Upload a JSONL with purpose fine-tune; paste its id.")
    valid = right.text_input("Validation file id (optional)", value=cfg.validation_file or "",
                             key=state.wkey("validation_file"), placeholder="file-def456")
    if train.strip() != cfg.training_file or (valid.strip() or None) != cfg.validation_file:
        _apply(cfg, "files", training_file=train.strip(), validation_file=valid.strip() or None)
        st.rerun()


def suffix_and_seed(cfg: JobConfig) -> None:
    left, right = st.columns(2)
    with left:
        suffix = st.text_input("Suffix (optional)", value=cfg.suffix or "", key=state.wkey("suffix"), live=True,
                               placeholder="my-model", help="Added to the fine-tuned model's name: "
                               "ft:<base>:<org>:<suffix>:<id>. 1 to 64 characters.")
        n = len(suffix)
        if n > MAX_SUFFIX:
            st.error(f"{n}/{MAX_SUFFIX} characters: shorten it by {n - MAX_SUFFIX}. Not applied yet.")
        else:
            st.caption(f"{n}/{MAX_SUFFIX} characters")
            if (suffix or None) != cfg.suffix:
                _apply(cfg, "suffix", suffix=suffix or None)
    with right:
        text = st.text_input("Seed (optional)", value="" if cfg.seed is None else str(cfg.seed),
                             key=state.wkey("seed"), placeholder="generated when empty",
                             help=f"An integer from 0 to {MAX_SEED} for reproducibility.")
        seed = None
        if text.strip():
            try:
                seed = int(text.strip())
                if not 0 <= seed <= MAX_SEED:
                    raise ValueError
            except ValueError:
                st.error(f"Seed must be an integer from 0 to {MAX_SEED}. Not applied.")
                return
        if seed != cfg.seed:
            _apply(cfg, "seed", seed=seed)


def metadata(cfg: JobConfig) -> None:
    import pandas as pd

    rows = [{"key": k, "value": v} for k, v in (cfg.metadata or {}).items()]
    frame = pd.DataFrame(rows or [], columns=["key", "value"]).astype(str)
    edited = st.data_editor(
        frame, num_rows="dynamic", key=state.wkey("metadata"), width="stretch", hide_index=True,
        column_config={"key": st.column_config.TextColumn("Key", max_chars=MAX_METADATA_KEY, required=True),
                       "value": st.column_config.TextColumn("Value", max_chars=MAX_METADATA_VALUE)})
    pairs, problems = {}, []
    for _, row in edited.iterrows():
        key = "" if pd.isna(row["key"]) else str(row["key"]).strip()
        value = "" if pd.isna(row["value"]) else str(row["value"])
        if not key:
            continue
        if key in pairs:
            problems.append(f"key '{key}' appears twice")
        if len(key) > MAX_METADATA_KEY:
            problems.append(f"key '{key[:20]}…' is {len(key)} characters (at most {MAX_METADATA_KEY})")
        if len(value) > MAX_METADATA_VALUE:
            problems.append(f"value of '{key}' is {len(value)} characters (at most {MAX_METADATA_VALUE})")
        pairs[key] = value
    if len(pairs) > MAX_METADATA_PAIRS:
        problems.append(f"{len(pairs)} pairs; at most {MAX_METADATA_PAIRS}")
    st.caption(f"{len(pairs)}/{MAX_METADATA_PAIRS} pairs · keys ≤ {MAX_METADATA_KEY}, values ≤ {MAX_METADATA_VALUE} "
               "characters")
    if problems:
        st.error("Not applied: " + "; ".join(problems) + ".")
        return
    if (pairs or None) != cfg.metadata:
        _apply(cfg, "metadata", metadata=pairs or None)


def wandb(cfg: JobConfig) -> None:
    current = cfg.integrations[0].wandb if cfg.integrations else None
    on = st.toggle("Send metrics to Weights & Biases", value=current is not None, key=state.wkey("wandb_on"))
    if not on:
        if cfg.integrations:
            _apply(cfg, "W&B off", integrations=None)
        st.caption("Your W&B key is registered with the provider, never here.")
        return
    project = st.text_input("Project (required)", value=current.project if current else "", key=state.wkey("wb_p"))
    left, right = st.columns(2)
    name = left.text_input("Run name", value=(current.name or "") if current else "", key=state.wkey("wb_n"),
                           placeholder="the job id")
    entity = right.text_input("Entity", value=(current.entity or "") if current else "", key=state.wkey("wb_e"),
                              placeholder="your default entity")
    tags = st.multiselect("Tags", options=(current.tags or []) if current else [],
                          default=(current.tags or []) if current else [], accept_new_options=True,
                          key=state.wkey("wb_t"), placeholder="type a tag and press Enter")
    if not project.strip():
        st.error("W&B needs a project name. Not applied yet.")
        return
    settings = WandbIntegrationSettings(project=project.strip(), name=name.strip() or None,
                                        entity=entity.strip() or None, tags=list(tags) or None)
    new = [Integration(wandb=settings)]
    if new != (cfg.integrations or None):
        _apply(cfg, "W&B", integrations=new)


def response_format(cfg: JobConfig) -> None:
    rf = cfg.method.reinforcement
    st.caption("The RFT guide puts a `response_format` next to the grader so the model answers in JSON; graders "
               "then read `{{ sample.output_json.* }}`. Leave empty for plain text answers.")
    text = st.text_area("response_format (JSON)", value=json.dumps(rf.response_format, indent=2)
                        if rf.response_format else "", key=state.wkey("response_format"), height=160,
                        placeholder='{"type": "json_schema", "json_schema": {"name": "answer", "strict": true, '
                                    '"schema": {...}}}')
    if not text.strip():
        value = None
    else:
        try:
            value = parse_json(text)  # also refuses NaN, lone surrogates, absurd nesting
        except ImportProblem as exc:
            st.error(f"Not applied: {exc.message}.")
            return
        if not isinstance(value, dict):
            st.error("Not applied: response_format must be a JSON object.")
            return
    if value != rf.response_format:
        new_rf = rf.model_copy(update={"response_format": value})
        _apply(cfg, "response_format", method=cfg.method.model_copy(update={"reinforcement": new_rf}))
