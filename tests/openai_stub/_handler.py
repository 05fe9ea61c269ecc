"""The request handler: auth, injected faults and latency, then routing to the API areas."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from . import _chat, _graders
from ._errors import ApiError, canned_error, error_body, invalid_key_error, model_not_found

if TYPE_CHECKING:
    from .server import OpenAIStub

KNOWN_MODELS = ("gpt-4.1-2025-04-14", "gpt-4.1-mini-2025-04-14", "gpt-4.1-nano-2025-04-14",
                "gpt-4o-mini-2024-07-18", "o4-mini-2025-04-16", "text-embedding-3-small")
MALFORMED_BODY = b'{"id": "broken", "object": "chat.completion", "choices": [{"index": 0,'


@dataclass
class RecordedRequest:
    method: str
    path: str                     # as sent, without the query string (e.g. "/v1/chat/completions")
    api_path: str                 # without the /v1, /openai/v1 or /openai/deployments/{d} prefix
    query: dict[str, str]
    headers: dict[str, str]       # lower-cased names
    json: Any                     # parsed JSON body, or None
    body_bytes: int
    deployment: str | None = None
    client_port: int = 0          # same port on consecutive requests = a reused keep-alive connection


def _api_path(path: str) -> tuple[str | None, str | None]:
    """(api_path, deployment) for the accepted prefixes; (None, None) for anything else."""
    match = re.match(r"^/openai/deployments/([^/]+)(/.*)$", path)
    if match:
        return match.group(2), match.group(1)
    for prefix in ("/openai/v1/", "/v1/", "/openai/"):
        if path.startswith(prefix):
            return path[len(prefix) - 1:], None
    return None, None


class _Handler(BaseHTTPRequestHandler):
    owner: OpenAIStub
    protocol_version = "HTTP/1.1"   # keep-alive
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    timeout = 120                   # idle keep-alive connections end eventually

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None,
              content_type: str = "application/json") -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:24]}")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        stub = self.owner
        split = urlsplit(self.path)
        raw = self._read_body()
        parsed: Any = None
        if raw and "json" in (self.headers.get("Content-Type") or ""):
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
        api_path, deployment = _api_path(split.path)
        request = RecordedRequest(method, split.path, api_path or split.path, dict(parse_qsl(split.query)),
                                  {k.lower(): v for k, v in self.headers.items()}, parsed, len(raw), deployment,
                                  self.client_address[1])
        stub._record(request)
        try:
            self._dispatch(stub, method, request, raw, api_path)
        except ApiError as exc:
            self._send(exc.status, exc.body, exc.headers)
        except Exception as exc:  # a stub bug should read as one, not as a dropped connection
            self._send(500, error_body(f"openai_stub internal error: {exc!r}", type="stub_error"),
                       {"x-should-retry": "false"})

    def _dispatch(self, stub: OpenAIStub, method: str, request: RecordedRequest, raw: bytes,
                  api_path: str | None) -> None:
        auth = self.headers.get("Authorization") or ""
        key = auth[7:].strip() if auth.lower().startswith("bearer ") else self.headers.get("api-key")
        if key != stub.api_key:
            raise invalid_key_error(key)
        path = request.api_path
        if stub._take("hold", path) is not None:
            stub._held.wait(120)
        slow = stub._take("slow", path)
        pause = stub.delay + (slow.seconds if slow else 0.0)
        if pause > 0:
            time.sleep(pause)
        fault = stub._take("status", path)
        if fault is not None:
            headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
            body = fault.body if fault.body is not None else canned_error(fault.status)
            raise _Raw(fault.status, body, headers)
        if stub._take("malformed", path) is not None:
            self._send(200, MALFORMED_BODY)
            return
        for verb, pattern, route in _ROUTES:
            match = re.fullmatch(pattern, path) if api_path is not None else None
            if verb == method and match:
                result = route(self, request, match, raw)
                if result is not None:
                    self._send(200, result)
                return
        raise ApiError(404, f"Invalid URL ({method} {request.path})")

    # ------------------------------------------------------------------ routes
    def chat(self, request: RecordedRequest, match: re.Match[str], raw: bytes) -> Any:
        body = request.json
        if isinstance(body, dict) and request.deployment and not body.get("model"):
            body = {**body, "model": request.deployment}
        return _run_chat(self.owner, body)

    def batches(self, request: RecordedRequest, match: re.Match[str], raw: bytes) -> Any:
        batches = self.owner.batches_store
        if not match.lastindex:
            if request.method == "POST":
                owner = self.owner
                return batches.create(request.json, lambda body: _chat_status(owner, body))
            return batches.list(request.query)
        if match.re.groups >= 2 and match.group(2):
            return batches.cancel(match.group(1))
        return batches.retrieve(match.group(1))

    def embeddings(self, request: RecordedRequest, match: re.Match[str], raw: bytes) -> Any:
        body = request.json
        if isinstance(body, dict) and request.deployment and not body.get("model"):
            body = {**body, "model": request.deployment}
        if isinstance(body, dict) and self.owner._unknown(body.get("model")):
            raise model_not_found(body["model"])
        return _chat.embeddings(body)

    def models(self, request: RecordedRequest, match: re.Match[str], raw: bytes) -> Any:
        def obj(model_id: str) -> dict[str, Any]:
            return {"id": model_id, "object": "model", "created": 1700000000, "owned_by": "system",
                    **self.owner.model_fields.get(model_id, {})}

        if match.lastindex:
            if self.owner._unknown(match.group(1)):
                raise model_not_found(match.group(1))
            return obj(match.group(1))
        extra = [m for m in self.owner.model_fields if m not in KNOWN_MODELS]
        return {"object": "list", "data": [obj(m) for m in (*KNOWN_MODELS, *extra)]}

    def upload(self, request: RecordedRequest, match: re.Match[str], raw: bytes) -> Any:
        return self.owner.store.upload(self.headers.get("Content-Type") or "", raw)

    def files(self, request: RecordedRequest, match: re.Match[str], raw: bytes) -> Any:
        store = self.owner.store
        if not match.lastindex:
            return store.list_files(request.query)
        if request.method == "DELETE":
            return store.delete_file(match.group(1))
        if match.group(2):
            self._send(200, store.file_content(match.group(1)), content_type="application/octet-stream")
            return None
        return store.file_object(match.group(1))

    def jobs(self, request: RecordedRequest, match: re.Match[str], raw: bytes) -> Any:
        store = self.owner.store
        if not match.lastindex:
            if request.method == "POST":
                return store.create_job(request.json, self.owner._grader_settings().unknown_models)
            return store.list_jobs(request.query)
        job_id, tail = match.group(1), match.group(2)
        if tail == "/events":
            return store.list_events(job_id, request.query)
        if tail:
            return store.action(job_id, tail[1:])
        return store.retrieve_job(job_id)

    def graders(self, request: RecordedRequest, match: re.Match[str], raw: bytes) -> Any:
        action = _graders.run if match.group(1) == "run" else _graders.validate
        return action(request.json, self.owner._grader_settings())


def _run_chat(owner: OpenAIStub, body: Any) -> Any:
    _chat.validate_chat_body(body)
    if owner._unknown(body["model"]):
        raise model_not_found(body["model"])
    answer = _chat.model_answer(body["messages"], body.get("response_format"),
                                obey_injection=owner.judge_obeys_injection, distinct_n=owner.distinct_choices,
                                judge=owner.judge_mode, asked=owner._asked(body["messages"]))
    if answer.delay:
        time.sleep(answer.delay)
    if answer.status is not None and answer.status != 200:
        raise _Raw(answer.status, canned_error(answer.status), {})
    if owner.ignore_n:  # like Ollama: one choice whatever n asks
        body = {**body, "n": 1}
    return _chat.chat_completion(body, answer)


def _chat_status(owner: OpenAIStub, body: Any) -> tuple[int, Any]:
    """One batch line: (status_code, body), the way the Batch API reports a line's HTTP result."""
    try:
        return 200, _run_chat(owner, body)
    except ApiError as exc:
        return exc.status, exc.body if isinstance(exc.body, dict) else {"error": {"message": str(exc.body)}}


class _Raw(ApiError):
    """An error response with a caller-chosen body (dict or bytes)."""

    def __init__(self, status: int, body: Any, headers: dict[str, str]) -> None:
        super().__init__(status, "")
        self.body = body if isinstance(body, (bytes, dict)) else error_body(str(body))
        self.headers = headers


_ROUTES: list[tuple[str, str, Callable[..., Any]]] = [
    ("POST", r"/chat/completions", _Handler.chat),
    ("POST", r"/embeddings", _Handler.embeddings),
    ("GET", r"/models(?:/([^/]+))?", _Handler.models),
    ("POST", r"/files", _Handler.upload),
    ("GET", r"/files(?:/([^/]+)(/content)?)?", _Handler.files),
    ("DELETE", r"/files/([^/]+)()", _Handler.files),
    ("POST", r"/fine_tuning/jobs", _Handler.jobs),
    ("GET", r"/fine_tuning/jobs(?:/([^/]+)(/events)?)?", _Handler.jobs),
    ("POST", r"/fine_tuning/jobs/([^/]+)(/cancel|/pause|/resume)", _Handler.jobs),
    ("POST", r"/fine_tuning/alpha/graders/(run|validate)", _Handler.graders),
    ("POST", r"/batches", _Handler.batches),
    ("GET", r"/batches(?:/([^/]+))?", _Handler.batches),
    ("POST", r"/batches/([^/]+)(/cancel)", _Handler.batches),
]
