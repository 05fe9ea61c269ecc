"""The model endpoint panel: base URL, API key, "Test connection", and the tokens of the last run.

The key comes from OPENAI_API_KEY or is typed here; a typed key lives only in this session's
memory (state.set_endpoint) — never saved, exported, logged or echoed back to the browser.
"""

from __future__ import annotations

import os

import streamlit as st

from components import state
from ftstudio.api import Endpoint
from ftstudio.core import records, redact

KINDS = {"openai": "OpenAI", "azure": "Azure OpenAI", "compatible": "OpenAI-compatible server"}
ENV_KEY = "OPENAI_API_KEY"
TEST_TIMEOUT = 15.0


def _env_key() -> str | None:
    return os.environ.get(ENV_KEY) or None


def _typed_key(ep: Endpoint) -> bool:
    return bool(ep.api_key) and ep.api_key != _env_key()


def _apply(prefix: str) -> None:
    """Rebuild the endpoint from the panel's widgets (on_change: runs before the rerun)."""
    old = state.endpoint()
    typed = state.widget(state.key(prefix, "key")) or ""
    if typed:
        key = typed.strip()
    elif _typed_key(old):
        key = old.api_key  # an empty box keeps the typed key; "Forget" clears it
    else:
        key = _env_key()
    kind = state.widget(state.key(prefix, "kind"), old.kind)
    version = (state.widget(state.key(prefix, "api-version")) or "").strip() or None if kind == "azure" else None
    base = (state.widget(state.key(prefix, "url")) or "").strip() or None
    state.set_endpoint(Endpoint(base_url=base, api_key=key, kind=kind, api_version=version, timeout=old.timeout))
    state.set_widget(state.key(prefix, "key"), "")  # the box never holds the key after it is applied
    state.app().connection_tests.pop(prefix, None)


def _forget(prefix: str) -> None:
    old = state.endpoint()
    state.set_endpoint(records.replace(old, api_key=_env_key()))
    state.app().connection_tests.pop(prefix, None)


def test_connection(ep: Endpoint) -> tuple[str, str]:
    """("ok" | "warning" | "error", message): lists the models, the cheapest authenticated call."""
    import openai

    label = ep.label
    try:
        page = records.replace(ep, timeout=TEST_TIMEOUT).sync_client().models.list()
        n = len(getattr(page, "data", None) or [])
        return "ok", f"Connected to {label}: {n} models available to this key."
    except openai.AuthenticationError:
        return "error", f"Authentication failed (401) at {label}: check the API key."
    except openai.PermissionDeniedError as exc:
        return "error", redact(f"Permission denied (403) at {label}: {_detail(exc)}")
    except openai.NotFoundError:
        return "warning", (f"{label} answered, but has no /models list (404). If model graders fail, check that "
                           "the URL ends with /v1.")
    except openai.APITimeoutError:
        return "error", f"Timed out after {TEST_TIMEOUT:.0f} s waiting for {label}."
    except openai.APIConnectionError:
        return "error", f"Could not connect to {label}: check the base URL and that the server is running."
    except openai.APIStatusError as exc:
        return "error", redact(f"HTTP {exc.status_code} from {label}: {_detail(exc)}")
    except Exception as exc:  # a malformed URL and the like: show it, never crash the page
        return "error", redact(f"{type(exc).__name__}: {exc}")[:300]


def _detail(exc) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error")
        err = inner if isinstance(inner, dict) else body
        message = err.get("message")
        if isinstance(message, str):
            return message[:300]
    return str(getattr(exc, "message", "") or exc)[:300]


def render(prefix: str = "conn", usage: dict | None = None) -> None:
    """The panel. `usage`: results.summary()["token_usage"] of the last run, shown below."""
    ep = state.endpoint()
    env_key, env_url = _env_key(), os.environ.get("OPENAI_BASE_URL")
    c1, c2 = st.columns([1, 2])
    kinds = list(KINDS)
    c1.selectbox("Provider", kinds, index=kinds.index(ep.kind) if ep.kind in kinds else 0,
                 format_func=KINDS.__getitem__, key=state.key(prefix, "kind"), on_change=_apply, args=(prefix,))
    c2.text_input("Base URL", value=ep.base_url or "", key=state.key(prefix, "url"), on_change=_apply, args=(prefix,),
                  placeholder="empty = https://api.openai.com/v1",
                  help="OpenAI-compatible servers: e.g. http://localhost:11434/v1. Azure: "
                       "https://NAME.openai.azure.com/openai/v1/" + (f" · default from OPENAI_BASE_URL ({env_url})"
                                                                      if env_url else ""))
    if state.widget(state.key(prefix, "kind"), ep.kind) == "azure":
        st.text_input("API version (only for the older deployment-style Azure endpoints)",
                      value=ep.api_version or "", key=state.key(prefix, "api-version"), on_change=_apply, args=(prefix,),
                      placeholder="empty = the v1 API")
    typed = _typed_key(ep)
    if typed:
        note = ":material/key: Using the key typed in this session (kept in memory only; never saved or exported)."
    elif env_key:
        note = f":material/key: Using {ENV_KEY} from the environment (value not shown). Type a key below to override it."
    else:
        note = f"No API key: set {ENV_KEY} before starting the app, or type one below (local servers may need none)."
    k1, k2 = st.columns([3, 1], vertical_alignment="bottom")
    k1.text_input("API key", type="password", key=state.key(prefix, "key"), on_change=_apply, args=(prefix,),
                  placeholder="•••••• (a key is set)" if (typed or env_key) else "sk-...",
                  help="Kept only in this browser session's memory: never written to disk, exports or logs.")
    k2.button("Forget typed key", key=state.key(prefix, "forget"), on_click=_forget, args=(prefix,), disabled=not typed,
              width="stretch")
    st.caption(note)
    b1, b2 = st.columns([1, 3], vertical_alignment="center")
    if b1.button("Test connection", key=state.key(prefix, "test-btn"), icon=":material/power:"):
        with st.spinner(f"Calling {ep.label} …"):
            state.app().connection_tests[prefix] = test_connection(ep)
    result = state.app().connection_tests.get(prefix)
    if result:
        level, message = result
        {"ok": b2.success, "warning": b2.warning}.get(level, b2.error)(message)
    else:
        b2.caption(f"Endpoint: {ep.label}")
    token_readout(usage)


def token_readout(usage: dict | None) -> None:
    """Tokens used by the last run, per model (from results.summary()["token_usage"])."""
    if not usage:
        st.caption("Tokens: the last run made no model calls.")
        return
    rows = [{"model": m, "requests": u.get("requests", 0), "answers from cache": u.get("cache_hits", 0),
             "prompt tokens": u.get("prompt_tokens", 0), "completion tokens": u.get("completion_tokens", 0),
             "total tokens": u.get("total_tokens", 0)} for m, u in usage.items()]
    st.markdown("**Tokens used by the last run**")
    st.dataframe(rows, hide_index=True, width="stretch")
