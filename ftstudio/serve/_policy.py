"""What a grader sent in a request may do. The server's own grader (GRADER.json) is the operator's and runs
as configured; a grader in a request body is the caller's, and three kinds of node act with the server's
powers rather than the caller's, so each needs the operator's flag:

- python runs code on the server's machine (in the sandbox): --allow-request-code;
- score_model, label_model and text_similarity's cosine call a model with the server's API key:
  --allow-request-models;
- endpoint makes the server POST to a URL (from inside its network): only to the hosts named with
  --allow-request-endpoint HOST.

Every node of the tree counts, those nested in a multi too. A refusal is a 403 naming the node's JSON path.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ftstudio.graders import grader_type, parse_grader, walk
from ftstudio.grading import calls_model

from ._config import ServeConfig, host_port
from ._errors import ApiProblem, under

_DEFAULT_PORTS = {"http": 80, "https": 443}


class RequestPolicy:
    def __init__(self, config: ServeConfig):
        self.code = config.allow_request_code
        self.models = config.allow_request_models
        self.endpoints = [host_port(h) for h in config.allow_request_endpoints]

    def check(self, grader: Any, param: str) -> None:
        """ApiProblem(403) for the first node of a request's grader that this server does not allow."""
        try:
            root = parse_grader(grader)
        except Exception:  # not a grader: the session refuses it with a 400 that names the place
            return
        for keys, node in walk(root):
            where = param + "".join(f".graders.{k}" if str(k).isidentifier() else f'.graders["{k}"]' for k in keys)
            problem = self._refuse(node, where)
            if problem is not None:
                raise problem

    def _refuse(self, node: Any, where: str) -> ApiProblem | None:
        kind = grader_type(node.type)  # what a node does comes from its grader type
        if kind.runs_code and not self.code:
            return _forbidden("This grader holds python code, and this server runs python code sent in requests "
                              "only when it was started with --allow-request-code.", where, "python_not_allowed")
        if calls_model(node) and not self.models:
            return _forbidden(f"This grader ({node.type}) calls a model with the server's API key, and this server "
                              "runs such graders sent in requests only when it was started with "
                              "--allow-request-models.", where, "models_not_allowed")
        if kind.posts_to is not None and not self.endpoint_allowed(kind.posts_to(node)):
            return _forbidden("This endpoint grader would make the server call a URL, and this server calls only "
                              "the hosts named with --allow-request-endpoint HOST for graders sent in requests.",
                              under(where, "url"), "endpoint_not_allowed")
        return None

    def endpoint_allowed(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
            host, port = (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(parts.scheme)
        except ValueError:
            return False
        if parts.scheme not in _DEFAULT_PORTS or not host:
            return False
        return any(host == name and (want is None or want == port) for name, want in self.endpoints)


def _forbidden(message: str, where: str, code: str) -> ApiProblem:
    return ApiProblem(403, message + " Use the server's own grader (`ftstudio serve GRADER.json`, then /score, "
                      "/openrlhf or /v1/grade without a grader), or ask the server's operator for the flag.",
                      param=where, code=code, type="permission_error")
