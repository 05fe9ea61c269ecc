"""The openai SDK's disagreement with the API on multi graders, said once where the body is shown: the SDK types
`multi.graders` as one grader, the API takes a map, so `TypeAdapter(JobCreateParams)` rejects a correct export.
The validation badge lists the same fact as the info rule `multi_graders_sdk_types`."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ftstudio.config import SDK_MULTI_NOTE, SDK_MULTI_WORKAROUND, multi_map_path


def applies(body: dict[str, Any]) -> bool:
    return multi_map_path(body.get("method")) is not None


def render(body: dict[str, Any], *, workaround: bool = True) -> None:
    """The note (with the one line that sends this body through the typed SDK) when the body has a multi grader."""
    if not applies(body):
        return
    with st.container(border=True):
        st.markdown(f":material/info: **The openai SDK's types disagree with the API here.** {SDK_MULTI_NOTE} "
                    "Its `TypeAdapter(JobCreateParams)` rejects this body, which the API accepts."
                    + (" With the SDK, send it in one line (`body` is this file, loaded with `json.load`):"
                       if workaround else ""))
        if workaround:
            st.code(SDK_MULTI_WORKAROUND, language="python", wrap_lines=True)  # one line, shown whole
