"""The HTTP POSTs of the endpoint grader, apart so that http.client and ssl are imported when a row is first
sent, not with the grader types (issue 23, start-up).

Rows reuse connections (HTTP/1.1 keep-alive), as HTTP client libraries do: a new TCP connection for every
row, and over https a TLS handshake, cost more than the row (bench/README.md, "Scaling"). Each thread that
sends keeps one connection from row to row; when the rows are sent, the connections still open wait, idle,
for the next rows to the same scheme, host and port. A connection stays open only once its answer was read
in full and the server did not say it closes. One that the server closed while idle is found before it is
used (it reads as ready while idle); if the server closed it as the request went out, the request goes once
more on a new connection, which is not one of post_score's attempts. Connections carry no credentials:
headers (keys) go with each request. Through a proxy (the environment's http_proxy, https_proxy and
no_proxy, as urllib reads them) a row goes through urllib, a connection each.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import socket
import ssl
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

_MAX_ANSWER = 1 << 20  # the most of a 2xx answer that is read (a score is a few bytes)
_IDLE_PER_HOST = 64  # idle connections kept per (scheme, host, port); more are closed
_USER_AGENT = f"Python-urllib/{sys.version_info[0]}.{sys.version_info[1]}"  # what urllib sent: a service that looks sees no change
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)  # Linux

Key = tuple[str, str, int]  # scheme, host, port


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect would resend the headers (keys) elsewhere: treat it as the answer instead."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_lock = threading.Lock()
_idle: dict[Key, list[http.client.HTTPConnection]] = {}
_tls: list[ssl.SSLContext] = []  # the default context, made once (loading the CA store is most of it)


def _forget_in_child() -> None:
    # A forked child must not write on its parent's connections (two writers on one stream).
    global _idle
    _idle = {}


os.register_at_fork(after_in_child=_forget_in_child)


class Poster:
    """The POSTs of one grader's rows to its URL, from any number of threads. A context manager: leaving it
    gives the connections back to the idle ones."""

    def __init__(self, url: str, headers: dict[str, str], timeout: float):
        self.url, self.headers, self.timeout = url, headers, timeout
        self.head = _headers(headers)
        self.route: tuple[Key, str] | None = None
        self.proxied = False
        self.opener: urllib.request.OpenerDirector | None = None
        self.local = threading.local()
        self.opened: list[http.client.HTTPConnection] = []

    def __enter__(self) -> Poster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def post(self, body: dict[str, Any]) -> tuple[int, str]:
        """(status, the answer's text); the text of an error answer is never read (it is never shown).
        BadURL for a URL that is not http(s) with a host; OSError, http.client.HTTPException otherwise."""
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        if self.route is None and not self.proxied:
            self.route = _route(self.url)
            self.proxied = self.route is None
        if self.route is None:
            if self.opener is None:  # the proxies as the environment names them now (urllib's reads them once)
                self.opener = urllib.request.build_opener(_NoRedirect, urllib.request.ProxyHandler())
            return _post_proxied(self.opener, self.url, self.headers, data, self.timeout)
        key, target = self.route
        while True:
            conn, reused = self._conn(key)
            try:
                conn.request("POST", target, body=data, headers=self.head)
                if _QUICKACK is not None and conn.sock is not None:
                    # An answer written in two parts (headers, then body) by a server with Nagle's algorithm on
                    # would wait for our delayed ACK of the first: 40 ms a row on a reused connection.
                    conn.sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
                resp = conn.getresponse()
            except ConnectionError:
                self._drop(conn)
                if reused:  # closed by the server as the request went out: once more, on a new connection
                    continue
                raise
            except BaseException:
                self._drop(conn)
                raise
            try:
                status, text = _answer(resp)
            except BaseException:  # an answer cut short: the connection is in no state for the next row
                self._drop(conn)
                raise
            if not resp.isclosed() or conn.sock is None:  # not read in full, or the server closes it
                self._drop(conn)
            return status, text

    def close(self) -> None:
        """Give the connections still open back to the idle ones (one is open only between two rows)."""
        opened, self.opened = self.opened, []
        for conn in opened:
            if conn.sock is not None and self.route is not None:
                _give_back(self.route[0], conn)

    def _conn(self, key: Key) -> tuple[http.client.HTTPConnection, bool]:
        conn = getattr(self.local, "conn", None)
        if conn is not None:
            return conn, True
        conn, reused = _take(key, self.timeout)
        self.local.conn = conn
        with _lock:
            self.opened.append(conn)
        return conn, reused

    def _drop(self, conn: http.client.HTTPConnection) -> None:
        conn.close()
        self.local.conn = None


class BadURL(ValueError):
    """The grader's url can't be sent to (no retry can change that); the message says why."""


def _route(url: str) -> tuple[Key, str] | None:
    """The connection key and request target of a URL; None when a proxy of the environment applies."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:  # a port out of range, an unclosed IPv6 bracket
        raise BadURL(str(exc)) from None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in ("http", "https"):
        raise BadURL(f"its scheme is {scheme or 'missing'}, not http or https")
    if not host:
        raise BadURL("it names no host")
    port = port or (443 if scheme == "https" else 80)
    if scheme in urllib.request.getproxies() and not urllib.request.proxy_bypass(parts.netloc):
        return None
    return (scheme, host, port), (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _headers(headers: dict[str, str]) -> dict[str, str]:
    """The request's headers: the grader's, over ours, one of each name whatever its case."""
    given = {name.lower() for name in headers}
    head = {name: value for name, value in (("Content-Type", "application/json"), ("User-Agent", _USER_AGENT))
            if name.lower() not in given}
    head.update(headers)
    return head


def _take(key: Key, timeout: float) -> tuple[http.client.HTTPConnection, bool]:
    """An idle connection to key that the server has not closed, else a new one; and whether it was idle."""
    stale: list[http.client.HTTPConnection] = []
    conn = None
    with _lock:
        idle = _idle.get(key)
        while idle:
            candidate = idle.pop()
            if _closed(candidate):
                stale.append(candidate)
            else:
                conn = candidate
                break
    for old in stale:
        old.close()
    if conn is not None and conn.sock is not None:
        conn.timeout = timeout
        conn.sock.settimeout(timeout)
        return conn, True
    scheme, host, port = key
    if scheme == "https":
        if not _tls:
            _tls.append(ssl.create_default_context())
        return _HTTPS(host, port, timeout=timeout, context=_tls[0]), False
    return _HTTP(host, port, timeout=timeout), False


class _HTTP(http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        # http.client writes a request's headers and body apart: with Nagle's algorithm on, the body would wait
        # for the server's delayed ACK of the headers (40 ms) once a connection is reused.
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _HTTPS(http.client.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _closed(conn: http.client.HTTPConnection) -> bool:
    """An idle connection with something to read was closed by the server (or sent what no request asked for)."""
    if conn.sock is None:
        return True
    poller = select.poll()
    poller.register(conn.sock, select.POLLIN)
    return bool(poller.poll(0))


def _answer(resp: http.client.HTTPResponse) -> tuple[int, str]:
    status, text = resp.status, b""
    if 200 <= status < 300:
        text = resp.read(_MAX_ANSWER)
        if not resp.isclosed():  # a chunked answer's end takes another read; past the cap, the byte closes nothing
            resp.read(1)
    return status, text.decode("utf-8", "replace")


def _give_back(key: Key, conn: http.client.HTTPConnection) -> None:
    with _lock:
        idle = _idle.setdefault(key, [])
        if len(idle) < _IDLE_PER_HOST:
            idle.append(conn)
            return
    conn.close()


def _post_proxied(opener: urllib.request.OpenerDirector, url: str, headers: dict[str, str], data: bytes,
                  timeout: float) -> tuple[int, str]:
    req = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json", **headers})
    try:
        with opener.open(req, timeout=timeout) as resp:
            return resp.status, resp.read(_MAX_ANSWER).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code, ""
