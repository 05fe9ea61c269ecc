"""The Export page's "Serve the grader" panel: the `ftstudio serve` command for the current grader, and the
Azure endpoint-grader JSON that points an Azure RFT job at that server's /score."""

from __future__ import annotations

import json

import streamlit as st

from ftstudio.serve import (
    DEFAULT_TOKEN_ENV,
    azure_endpoint_grader,
    base_url,
    is_loopback,
    serve_command,
    tunnel_host,
)
from ftstudio.validation import as_data


def render(cfg) -> None:
    if cfg.grader is None:
        st.info("Only a reinforcement config has a grader to serve: pick the reinforcement method and add a grader.")
        return
    grader = as_data(cfg.grader)
    file_name = f"{(grader.get('name') or 'grader').replace(' ', '-')}.json"
    st.download_button(f":material/download: Download {file_name}", json.dumps(grader, indent=2, ensure_ascii=False),
                       file_name=file_name, mime="application/json", key="serve_dl_grader")
    c1, c2, c3 = st.columns([2, 1, 2])
    host = c1.text_input("Host to bind", "127.0.0.1", key="serve_host",
                         help="127.0.0.1 serves this machine only; 0.0.0.0 serves the network and needs a token.")
    port = int(c2.number_input("Port", 1, 65535, 8000, key="serve_port"))
    local = is_loopback(host)
    typed = c3.text_input("Token variable", "", key="serve_token_env",
                          placeholder="none (loopback)" if local else DEFAULT_TOKEN_ENV,
                          help="The environment variable holding the bearer token every request must carry "
                               "(required off loopback). The token itself is never shown or exported.")
    token_env = typed.strip() or (None if local else DEFAULT_TOKEN_ENV)
    command = st.empty()  # filled once the public URL is known: a tunnel's name must be allowed
    shown = base_url("127.0.0.1" if host in ("0.0.0.0", "::") else host, port)
    st.caption(f"openai SDK: `OpenAI(base_url=\"{shown}/v1\", api_key=...)` · OpenRLHF: "
               f"`--reward.remote_url {shown}/openrlhf` · health: `{shown}/readyz`")
    public = st.text_input("Public URL of the server (Azure calls it from the cloud)", "", key="serve_public_url",
                           placeholder=shown, help="A tunnel or proxy in front of a server on 127.0.0.1 forwards "
                           "this URL's host name, which the command then allows with --allow-host.").strip() or shown
    tunnel = tunnel_host(public, host)
    command.code(serve_command(file_name, host=host, port=port, token_env=token_env,
                               allow_hosts=(tunnel,) if tunnel else ()), language="bash")
    st.markdown("**Azure endpoint grader** (Azure OpenAI v1 API; put it in `method.reinforcement.grader` or a multi "
                "grader's `graders`):")
    endpoint = azure_endpoint_grader(public, name=str(grader.get("name") or "ftstudio"),
                                     token_env=token_env)
    st.code(json.dumps(endpoint, indent=2), language="json")
