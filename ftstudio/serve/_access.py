"""Who may send a request, before the token is looked at: the Host and Origin headers and the body's type.

A web page the user visits can POST to a server on 127.0.0.1: with `Content-Type: text/plain` the browser
sends it without asking (no CORS preflight), and DNS rebinding (a name the page controls that resolves to
127.0.0.1) even lets it read the answer. So: on a loopback bind only the loopback names are accepted as
Host, a request that carries an Origin must come from an origin the operator named, and a POST must say
`application/json`, which a browser sends cross-origin only after a preflight this server answers only for
named origins.
"""

from __future__ import annotations

from ._config import ServeConfig, host_port, origin
from ._errors import ApiProblem

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
JSON_TYPES = frozenset({"application/json"})
# What a page from a named origin may send (the answer to its preflight), cached by the browser for 10 min.
PREFLIGHT_HEADERS = ((b"access-control-allow-methods", b"GET, POST"),
                     (b"access-control-allow-headers", b"authorization, api-key, content-type, accept"),
                     (b"access-control-max-age", b"600"))


class Seen:
    """The headers these checks read, found in one pass over the request's headers (raw bytes)."""

    __slots__ = ("content_type", "host", "origin", "preflight")

    def __init__(self, scope):
        self.host = self.origin = self.content_type = self.preflight = None
        for key, value in scope["headers"]:
            if key == b"host":
                self.host = value
            elif key == b"origin":
                self.origin = value
            elif key == b"content-type":
                self.content_type = value
            elif key == b"access-control-request-method":
                self.preflight = value


class Access:
    def __init__(self, config: ServeConfig):
        self.loopback = config.loopback
        try:
            bound = host_port(config.host)[0]
        except ValueError:  # not a host name: binding it fails before any request
            bound = config.host
        self._loopback_names = frozenset((*LOOPBACK_NAMES, bound))
        self._named = [host_port(h) for h in config.allow_hosts]
        self._origins = frozenset(origin(o) for o in config.allow_origins)
        # On a loopback bind the loopback names are always accepted; elsewhere only what --allow-host names.
        self._check_host = self.loopback or bool(self._named)
        self._exact: dict[int | None, frozenset[bytes]] = {}  # port -> Host values accepted as they come

    # -- checks, in the order the guard applies them --------------------------------------------------

    def refuse_host(self, scope, seen: Seen) -> ApiProblem | None:
        if not self._check_host or seen.host is None:
            return None
        port = _server_port(scope)
        exact = self._exact.get(port)
        if exact is None:
            exact = self._exact[port] = frozenset(
                f"{f'[{n}]' if ':' in n else n}:{port}".encode() for n in self._loopback_names) if self.loopback \
                else frozenset()
        if seen.host.lower() in exact or self.host_allowed(seen.host.decode("latin-1"), port):
            return None
        where = "a loopback address, which answers only to localhost, 127.0.0.1 and [::1]" if self.loopback \
            else "an address that answers only to the hosts named with --allow-host"
        return ApiProblem(403, f"This server is bound to {where} (with its port); the request came for "
                          f"another host. If that host is yours (a proxy or tunnel in front of this server), "
                          f"start the server with --allow-host HOST.", code="host_not_allowed", type="permission_error")

    def host_allowed(self, value: str, port: int | None) -> bool:
        try:
            host, given = host_port(value)
        except ValueError:
            return False
        if self.loopback and host in self._loopback_names and (given == port or (given is None and port == 80)):
            return True
        return any(host == name and (want is None or want == given) for name, want in self._named)

    def refuse_origin(self, seen: Seen) -> ApiProblem | None:
        if seen.origin is None or self.origin_allowed(seen.origin):
            return None
        return ApiProblem(403, "This request comes from a web page (it carries an Origin header), and this server "
                          "answers pages only from the origins named with --allow-origin ORIGIN.",
                          code="origin_not_allowed", type="permission_error")

    def origin_allowed(self, value: bytes) -> bool:
        try:
            return origin(value.decode("latin-1")) in self._origins
        except ValueError:
            return False

    @staticmethod
    def refuse_content_type(scope, seen: Seen) -> ApiProblem | None:
        if scope["method"] != "POST" or seen.content_type == b"application/json":  # the usual value, as it comes
            return None
        value = (seen.content_type or b"").decode("latin-1")
        if value.split(";", 1)[0].strip().lower() in JSON_TYPES:
            return None
        shown = f"'{value[:60]}'" if value else "none"
        return ApiProblem(415, f"The body's Content-Type is {shown}; this server reads JSON only: send "
                          "'Content-Type: application/json'.", code="unsupported_media_type")

    # -- CORS, for the named origins only ------------------------------------------------------------

    @staticmethod
    def is_preflight(scope, seen: Seen) -> bool:
        return scope["method"] == "OPTIONS" and seen.preflight is not None

    def cors_headers(self, seen: Seen) -> list[tuple[bytes, bytes]]:
        """Headers that let a page from a named origin read the answer (none for any other request)."""
        if seen.origin is None or not self.origin_allowed(seen.origin):
            return []
        return [(b"access-control-allow-origin", seen.origin), (b"vary", b"origin")]


def _server_port(scope) -> int | None:
    server = scope.get("server")
    return server[1] if server and len(server) > 1 else None
