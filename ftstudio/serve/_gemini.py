"""POST /gemini and /gemini/KEY: Google's Cloud Run reward scorer, for the server's own grader.

Gemini's reinforcement tuning POSTs `{"example", "response", "metadata"}` (google-genai 3.6.1,
ReinforcementTuningCloudRunRewardScorer): `example` is the dataset row in ProtoJSON, `response` a
Content. The row's item is `example.references` (with the keys `ftstudio convert --to gemini`
JSON-encoded decoded back), the completion is the response's text. The answer is `{"reward": float}`:
the tree's reward (or, at /gemini/KEY, the composite child KEY's) through the same affine map
`ftstudio export --format gemini` wrote, clipped to [-1, 1] as Gemini clips.
"""

from __future__ import annotations

import threading
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ftstudio.targets import GeminiExport, export_gemini
from ftstudio.targets import gemini_runtime as runtime

from ._errors import ApiProblem, missing, wrong_type
from ._guard import dumps
from ._shapes import free_field, need_object

PATH = "/gemini"


def routes(srv: Any) -> list[Route]:
    handler = _Gemini(srv)
    return [Route(PATH, handler.whole, methods=["POST"]), Route(PATH + "/{key}", handler.child, methods=["POST"])]


def gemini_row(body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """({**item, field: completion}, field) from a Cloud Run reward request."""
    example, response = body.get("example"), body.get("response")
    if example is None:
        raise missing("example")
    if not isinstance(example, dict):
        raise wrong_type("example", "an object (a ReinforcementTuningExample)", example)
    if response is None:
        raise missing("response")
    if not isinstance(response, dict):
        raise wrong_type("response", "an object (a Content with parts)", response)
    refs = example.get("references")
    if refs is not None and not (isinstance(refs, dict) and all(isinstance(v, str) for v in refs.values())):
        raise wrong_type("example.references", "an object of strings", refs)
    item = runtime.ftstudio_item(example)
    field = free_field([item])
    return {**item, field: runtime.ftstudio_completion(response)}, field


class _Gemini:
    def __init__(self, srv: Any):
        self.srv = srv
        self._export: GeminiExport | None = None
        self._lock = threading.Lock()

    def export(self, grader: Any) -> GeminiExport:
        with self._lock:  # worked out once: the server's grader never changes
            if self._export is None:
                self._export = export_gemini(grader)
            return self._export

    async def whole(self, request: Request) -> Response:
        return await self._answer(request, None)

    async def child(self, request: Request) -> Response:
        return await self._answer(request, request.path_params["key"])

    async def _answer(self, request: Request, key: str | None) -> Response:
        body = need_object(await self.srv.read_json(request))
        row, field = gemini_row(body)
        entry = self.srv.sessions.acquire_server()
        try:
            plan = self.export(entry.session.grader)
            affine = plan.affine if key is None else plan.affine_for(key)
            if affine is None:
                raise ApiProblem(404, f"{PATH}/{key} is not a Cloud Run part of this server's Gemini export; its "
                                 f"parts are {', '.join(p.key for p in plan.parts if p.key) or 'none'} "
                                 f"(POST {PATH} scores the whole tree).", code="not_found")
            results = await self.srv.grade(request, entry, [row], field)
        finally:
            entry.release()
        value = results.rewards[0] if key is None else results.sub_rewards[key][0]
        reward = min(max(affine(value), -1.0), 1.0)
        flags = results.record(0)["errors"]
        return Response(dumps({"reward": reward}), media_type="application/json",
                        headers={"x-ftstudio-errors": ",".join(flags)} if flags else None)
