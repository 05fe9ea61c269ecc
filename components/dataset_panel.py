"""The dataset panel: upload a file or pick a bundled example, read it once, show what was read.

A file is read once per content (sha256 of its bytes): a rerun, or re-uploading the same file,
reuses the Dataset. The format report and token counts are components/dataset_report.py's.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import streamlit as st

from components import dataset_report, state
from ftstudio import datasets as D
from ftstudio.core import counted

EXAMPLES_DIR = Path(D.example_path("supervised")).parent
MAX_UPLOAD_MB = 200
PREVIEW_ROWS = 20
_KEEP = 2  # datasets kept in memory (the current one and the one before)


def example_files() -> list[str]:
    return sorted(p.name for p in EXAMPLES_DIR.iterdir() if p.suffix in (".jsonl", ".json", ".csv"))


def load_bytes(data: bytes, name: str, source: str | None = None) -> D.Dataset | None:
    """Read `data` (or reuse the Dataset read from the same bytes) and make it the current dataset.

    A DatasetError is kept for display and the previous dataset stays loaded. Used by the
    uploader and the example picker alike."""
    a = state.app()
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    key = f"{hashlib.sha256(data).hexdigest()}.{ext}"  # the extension picks the format
    cache: dict = a.datasets
    ds = cache.get(key)
    a.dataset_source = source
    if ds is None:
        try:
            ds = D.read_dataset(data, name=name)
        except D.DatasetError as exc:
            a.dataset_error = str(exc)
            return None
        cache[key] = ds
        while len(cache) > _KEEP:
            cache.pop(next(iter(cache)))
    a.dataset_error = None
    if state.dataset() is not ds:
        state.set_dataset(ds, data)
        if state.sample_field() not in ds.fields and D.DEFAULT_SAMPLE_FIELD in ds.fields:
            state.set_sample_field(D.DEFAULT_SAMPLE_FIELD)
    return ds


def _clear() -> None:
    state.set_dataset(None)
    a = state.app()
    a.dataset_error = a.dataset_source = a.seen_upload = None
    state.rekey("upload")  # a new, empty uploader: the old file's chip goes with the dataset


# --- rendering -----------------------------------------------------------------------------

def render(cfg) -> D.Dataset | None:
    """Source picker, status, output field, format report, tokens and preview. Returns the dataset."""
    up_tab, ex_tab = st.tabs([":material/upload: Upload a file", ":material/library_books: Bundled example"])
    with up_tab:
        up = st.file_uploader("Dataset (.jsonl, .json or .csv, up to 200 MB)", type=["jsonl", "json", "csv"],
                              max_upload_size=MAX_UPLOAD_MB, key=state.key("tg", "upload", follows=("upload",)),
                              help="One JSON object per row. The field holding the model's output (default "
                                   "model_sample) is graded; the other fields are the item ({{ item.* }}).")
        if up is not None and state.app().seen_upload != up.file_id:
            state.app().seen_upload = up.file_id
            with st.spinner(f"Reading {up.name} …"):
                load_bytes(up.getvalue(), up.name, f"upload:{up.file_id}")
    with ex_tab:
        files = example_files()
        wanted = D.EXAMPLES.get(cfg.method_type)
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        name = c1.selectbox("Example dataset", files, index=files.index(wanted) if wanted in files else 0,
                            key=state.key("tg", "example"), help="Small datasets bundled with the app, one per method.")
        if c2.button("Load example", key=state.key("tg", "load-example"), width="stretch", icon=":material/download:"):
            load_bytes((EXAMPLES_DIR / name).read_bytes(), name, f"example:{name}")
    ds = state.dataset()
    _kept_note(ds)
    error = state.app().dataset_error
    if error:
        st.error(f"**Could not read the file.** {error}", icon=":material/block:")
        if ds is not None:
            st.caption(f"Still using the previous dataset, {ds.name}.")
    if ds is None:
        st.info("No dataset yet: upload one, or load a bundled example.", icon=":material/description:")
        return None
    _status(ds)
    _sample_field(ds)
    dataset_report.render(ds, cfg)
    _preview(ds)
    return ds


def _kept_note(ds) -> None:
    """What a refresh would lose, said before it happens (and after, when it did)."""
    a = state.app()
    if a.dataset_not_kept:
        what = "This dataset" if ds is not None else "The last dataset"
        st.warning(f"{what} is not kept across a refresh: {a.dataset_not_kept}.", icon=":material/cloud_off:")
    if a.workspace_error:
        st.warning(a.workspace_error, icon=":material/cloud_off:")


def row_count(ds: D.Dataset) -> str:
    """One count everywhere: every line that holds a row, the unreadable ones included (they are
    graded as error rows, so "Grade all N rows" and this say the same N)."""
    total = len(ds) + len(ds.errors)
    bad = f" ({len(ds.errors):,} unreadable)" if ds.errors else ""
    return f"{total:,} rows{bad}"


def _status(ds: D.Dataset) -> None:
    with st.container(border=True):
        c1, c2 = st.columns([5, 1], vertical_alignment="center")
        size = f"{ds.size_bytes / 1024 / 1024:.1f} MB" if ds.size_bytes >= 1024 * 1024 else f"{ds.size_bytes / 1024:.1f} KB"
        c1.markdown(f":material/description: **{ds.name}** · {row_count(ds)} · {size} · {ds.format.upper()}")
        c2.button("Clear", key=state.key("tg", "clear-dataset"), on_click=_clear, width="stretch")
        for note in ds.notes:
            st.caption(f":material/info: {note}")
        if ds.blank_lines:
            st.caption(f"{ds.blank_lines:,} blank lines ignored.")
        if ds.errors:
            st.warning(f"{counted(len(ds.errors), 'line')} could not be read: kept in the dataset as unreadable rows "
                       "and graded as error rows (other_error).", icon=":material/warning:")
            with st.expander(f"Unreadable rows ({len(ds.errors):,})"):
                st.dataframe([{"line": e.line, "reason": e.message} for e in ds.errors[:1000]],
                             hide_index=True, width="stretch")
                if len(ds.errors) > 1000:
                    st.caption(f"… and {len(ds.errors) - 1000:,} more.")


def _sample_field(ds: D.Dataset) -> None:
    fields = ds.fields
    current = state.sample_field()
    c1, c2 = st.columns(2, vertical_alignment="bottom")
    choice = c1.selectbox("Field holding the model output", fields,
                          index=fields.index(current) if current in fields else None,
                          key=state.key("tg", "sample-field", ds.content_hash[:16]),
                          placeholder="choose the field that holds the model output",
                          help="Its text is {{ sample.output_text }} (and, when it is JSON, {{ sample.output_json }}); "
                               "the other fields are the item.")
    if choice is not None and choice != current:
        state.set_sample_field(choice)
    if choice is None:
        st.warning(f"This dataset has no '{current}' field: choose the field that holds the model output.", icon=":material/arrow_forward:")
    else:
        c2.caption("Item fields for `{{ item.* }}`: " + (", ".join(f"`{f}`" for f in fields if f != choice) or "none"))


def _preview(ds: D.Dataset) -> None:
    sf = state.sample_field()
    # The same count as the card above (unreadable lines included: they are graded as error rows too).
    with st.expander(f"Preview: the first {min(PREVIEW_ROWS, len(ds))} of {row_count(ds)}"):
        rows = []
        for row, line in zip(ds.store[:PREVIEW_ROWS], ds.lines):
            item, sample = D.split_sample(row, sf)
            text = json.dumps(item, ensure_ascii=False)
            rows.append({"line": line, "output": sample if sample is not None else "⚠ no output field",
                         "item": text if len(text) <= 400 else text[:400] + " …"})
        st.dataframe(rows, hide_index=True, width="stretch",
                     column_config={"output": st.column_config.TextColumn(f"output ({sf})", width="medium"),
                                    "item": st.column_config.TextColumn("item", width="large")})
