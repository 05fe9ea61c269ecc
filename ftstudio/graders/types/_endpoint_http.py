"""The HTTP POST of the endpoint grader, apart so that its urllib.request (http.client, ssl, email) is imported
when a row is first sent, not with the grader types (issue 23, start-up)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect would resend the headers (keys) elsewhere: treat it as the answer instead."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def post(url: str, headers: dict[str, str], body: dict[str, Any], timeout: float) -> tuple[int, str]:
    """(status, the answer's text); the text of an error answer is never read (it is never shown)."""
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Content-Type": "application/json", **headers})
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            return resp.status, resp.read(1 << 20).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code, ""
