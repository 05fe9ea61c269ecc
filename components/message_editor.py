"""The input messages of a score_model / label_model grader: role, and content as text or blocks.

Content blocks are input_text, output_text, input_image (image URL + detail) and input_audio
(data + format); every text in them is a template. Messages and blocks can be added, removed
and reordered. Callbacks re-read the messages from the config, so several edits in one rerun
(typing, then clicking a button) apply in order.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from components import grader_edit as E
from components import issues_panel, state
from components.template_field import template_field
from ftstudio.graders import MESSAGE_ROLES, AudioData, InputAudio, InputImage, InputMessage, InputText, OutputText, tree

BLOCK_TYPES = ("input_text", "output_text", "input_image", "input_audio")
BLOCK_HELP = {"input_text": "text", "output_text": "text (as if the assistant wrote it)",
              "input_image": "an image URL (or a template)", "input_audio": "base64 audio (or a template)"}
DETAILS = (None, "auto", "low", "high")


def _messages(path: tuple) -> list[InputMessage]:
    return list(tree.node_at(E.root(), path).input)


def _set_messages(path: tuple, messages: list, label: str, redraw: bool = False) -> None:
    E.set_fields(path, label, redraw=redraw, input=messages)


def _blocks(content: Any) -> list:
    if isinstance(content, list):
        return list(content)
    return [content]


def _is_text(block: Any) -> bool:
    return isinstance(block, (str, InputText, OutputText))


def _text_of(block: Any) -> str:
    return block if isinstance(block, str) else getattr(block, "text", "")


def message_editor(path: tuple, messages: list[InputMessage], bag: E.IssueBag) -> None:
    st.markdown("**Input messages** — what the grader model reads; use `{{ sample.output_text }}` to show it "
                "the answer being graded.")
    for i, msg in enumerate(messages):
        _message(path, i, msg, len(messages), bag)
    st.button("Add message", key=E.key(path, "msg-add"), icon=":material/add:", on_click=_add_message, args=(path,))


def _message(path: tuple, i: int, msg: InputMessage, n: int, bag: E.IssueBag) -> None:
    k = lambda name: E.key(path, f"m{i}-{name}")
    base = E.json_path(path, "input", i)
    text_mode = isinstance(msg.content, str)
    with st.container(border=True):
        with st.container(horizontal=True, vertical_alignment="center", gap="xsmall"):
            st.selectbox("Role", MESSAGE_ROLES, index=MESSAGE_ROLES.index(msg.role), key=k("role"),
                         on_change=_set_role, args=(path, i, k("role")), label_visibility="collapsed", width=150)
            st.segmented_control("Content", ["Text", "Blocks"], default="Text" if text_mode else "Blocks",
                                 key=k("mode"), required=True, on_change=_set_mode, args=(path, i, k("mode")),
                                 label_visibility="collapsed",
                                 help="Text: one template string. Blocks: a list of text, image and audio parts.")
            st.space("stretch")
            _move_buttons(k, i, n, lambda d: (_move_message, (path, i, d)), "message")
            st.button("", key=k("del"), icon=":material/delete:", type="tertiary", help="Remove this message",
                      on_click=_remove_message, args=(path, i))
        if isinstance(msg.content, str):
            template_field("Content", msg.content, key=k("text"), area=True, height=110,
                           on_change=lambda v, p=path, j=i: _set_content(p, j, v),
                           issues=bag.take(base + ".content"))
        else:
            _blocks_editor(path, i, msg.content, bag)
        issues_panel.inline(bag.take(base))


def _move_buttons(k, i: int, n: int, action, what: str) -> None:
    fn, args = action(-1)
    st.button("", key=k("up"), icon=":material/arrow_upward:", type="tertiary", disabled=i == 0,
              help=f"Move this {what} up", on_click=fn, args=args)
    fn, args = action(1)
    st.button("", key=k("down"), icon=":material/arrow_downward:", type="tertiary", disabled=i == n - 1,
              help=f"Move this {what} down", on_click=fn, args=args)


def _blocks_editor(path: tuple, i: int, content: Any, bag: E.IssueBag) -> None:
    blocks = _blocks(content)
    listed = isinstance(content, list)
    for j, block in enumerate(blocks):
        k = lambda name, j=j: E.key(path, f"m{i}-b{j}-{name}")
        base = E.json_path(path, "input", i, "content", *((j,) if listed else ()))
        kind = "text" if isinstance(block, str) else block.type
        with st.container(border=True):
            _block(path, i, j, block, kind, k, base, len(blocks), bag)
    st.menu_button("Add block", list(BLOCK_TYPES), key=E.key(path, f"m{i}-addblock"), icon=":material/add:",
                   format_func=lambda t: f"{t} — {BLOCK_HELP[t]}", on_click=_add_block,
                   args=(path, i, E.key(path, f"m{i}-addblock")))


def _block(path: tuple, i: int, j: int, block: Any, kind: str, k, base: str, n: int, bag: E.IssueBag) -> None:
    with st.container(horizontal=True, vertical_alignment="center", gap="xsmall"):
        st.markdown(f"`{kind}` · {BLOCK_HELP.get(kind, 'a plain string')}", width="content")
        st.space("stretch")
        _move_buttons(k, j, n, lambda d: (_move_block, (path, i, j, d)), "block")
        st.button("", key=k("del"), icon=":material/close:", type="tertiary", help="Remove this block",
                  on_click=_remove_block, args=(path, i, j))
    if _is_text(block):
        template_field("Text", _text_of(block), key=k("text"), area=True, height=90,
                       on_change=lambda v, b=block: _set_block(path, i, j, _with_text(b, v)),
                       issues=bag.take(base))
    elif isinstance(block, InputImage):
        cols = st.columns([3, 1])
        with cols[0]:
            template_field("Image URL", block.image_url or "", key=k("url"), placeholder="https://... or {{ item.image }}",
                           on_change=lambda v, b=block: _set_block(
                               path, i, j, b.model_copy(update={"image_url": v})),
                           issues=bag.take(base))
        with cols[1]:
            st.selectbox("Detail", DETAILS, index=DETAILS.index(block.detail), key=k("detail"),
                         format_func=lambda d: d or "(not set)", on_change=_set_detail,
                         args=(path, i, j, k("detail")))
    elif isinstance(block, InputAudio):
        cols = st.columns([3, 1])
        with cols[0]:
            template_field("Audio data (base64)", block.input_audio.data, key=k("data"),
                           placeholder="{{ item.audio }}",
                           on_change=lambda v, b=block: _set_block(path, i, j, b.model_copy(update={
                               "input_audio": b.input_audio.model_copy(update={"data": v})})),
                           issues=bag.take(base))
        with cols[1]:
            fmts = ("mp3", "wav")
            st.selectbox("Format", fmts, index=fmts.index(block.input_audio.format), key=k("format"),
                         on_change=_set_audio_format, args=(path, i, j, k("format")))


# --- callbacks ----------------------------------------------------------------------------

def _replace_message(path: tuple, i: int, label: str, redraw: bool = False, **update: Any) -> None:
    msgs = _messages(path)
    if i >= len(msgs):
        return
    msgs[i] = msgs[i].model_copy(update=update)
    _set_messages(path, msgs, label, redraw)


def _set_role(path: tuple, i: int, key: str) -> None:
    _replace_message(path, i, f"message {i + 1} role", role=state.widget(key))


def _set_content(path: tuple, i: int, value: str) -> None:
    _replace_message(path, i, f"message {i + 1} content", content=value)


def _set_mode(path: tuple, i: int, key: str) -> None:
    msgs = _messages(path)
    if i >= len(msgs):
        return
    mode, content = state.widget(key), msgs[i].content
    if mode == "Blocks" and isinstance(content, str):
        _replace_message(path, i, f"message {i + 1} as blocks", redraw=True, content=[InputText(text=content)])
    elif mode == "Text" and not isinstance(content, str):
        blocks = _blocks(content)
        if not all(_is_text(b) for b in blocks):
            E.flash("error", f"Message {i + 1} has image or audio blocks; remove them before switching to text.")
            E.refresh()
            return
        _replace_message(path, i, f"message {i + 1} as text", redraw=True,
                         content="\n\n".join(_text_of(b) for b in blocks))


def _move_message(path: tuple, i: int, delta: int) -> None:
    msgs = _messages(path)
    j = i + delta
    if 0 <= i < len(msgs) and 0 <= j < len(msgs):
        msgs[i], msgs[j] = msgs[j], msgs[i]
        _set_messages(path, msgs, f"move message {i + 1}", redraw=True)


def _remove_message(path: tuple, i: int) -> None:
    msgs = _messages(path)
    if 0 <= i < len(msgs):
        del msgs[i]
        _set_messages(path, msgs, f"remove message {i + 1}", redraw=True)


def _add_message(path: tuple) -> None:
    msgs = _messages(path)
    msgs.append(InputMessage(role="user", content=""))
    _set_messages(path, msgs, "add message", redraw=True)


def _with_text(block: Any, text: str) -> Any:
    return text if isinstance(block, str) else block.model_copy(update={"text": text})


def _set_block(path: tuple, i: int, j: int, block: Any, label: str | None = None, redraw: bool = False) -> None:
    msgs = _messages(path)
    if i >= len(msgs):
        return
    blocks = _blocks(msgs[i].content)
    if j >= len(blocks):
        return
    blocks[j] = block
    _replace_message(path, i, label or f"message {i + 1} block {j + 1}", redraw, content=blocks)


def _current_block(path: tuple, i: int, j: int) -> Any:
    msgs = _messages(path)
    blocks = _blocks(msgs[i].content) if i < len(msgs) else []
    return blocks[j] if j < len(blocks) else None


def _set_detail(path: tuple, i: int, j: int, key: str) -> None:
    block = _current_block(path, i, j)
    if isinstance(block, InputImage):
        _set_block(path, i, j, block.model_copy(update={"detail": state.widget(key)}))


def _set_audio_format(path: tuple, i: int, j: int, key: str) -> None:
    block = _current_block(path, i, j)
    if isinstance(block, InputAudio):
        audio = block.input_audio.model_copy(update={"format": state.widget(key)})
        _set_block(path, i, j, block.model_copy(update={"input_audio": audio}))


def _move_block(path: tuple, i: int, j: int, delta: int) -> None:
    msgs = _messages(path)
    if i >= len(msgs):
        return
    blocks = _blocks(msgs[i].content)
    k = j + delta
    if 0 <= j < len(blocks) and 0 <= k < len(blocks):
        blocks[j], blocks[k] = blocks[k], blocks[j]
        _replace_message(path, i, f"move block {j + 1}", redraw=True, content=blocks)


def _remove_block(path: tuple, i: int, j: int) -> None:
    msgs = _messages(path)
    if i >= len(msgs):
        return
    blocks = _blocks(msgs[i].content)
    if 0 <= j < len(blocks):
        del blocks[j]
        _replace_message(path, i, f"remove block {j + 1}", redraw=True, content=blocks)


def new_block(kind: str) -> Any:
    if kind == "input_text":
        return InputText(text="")
    if kind == "output_text":
        return OutputText(text="")
    if kind == "input_image":
        return InputImage(image_url="", detail="auto")
    return InputAudio(input_audio=AudioData(data="", format="wav"))


def _add_block(path: tuple, i: int, key: str) -> None:
    kind = state.widget(key)
    msgs = _messages(path)
    if not kind or i >= len(msgs):
        return
    blocks = _blocks(msgs[i].content) + [new_block(kind)]
    _replace_message(path, i, f"add {kind} block", redraw=True, content=blocks)
