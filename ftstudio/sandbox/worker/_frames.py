"""Frames and batches on the worker's two pipes (see _main.py for the protocol). Loaded by `_main.py`.

A frame is a 4-byte big-endian length plus a payload. The stdlib's C scanner reads the init message, the
batches marked "S" and the small batches before the first is done; orjson, where installed, the others
(BatchReader).
"""

import _json
import os


class Channel:
    def __init__(self, rfd, wfd):
        self.rfd, self.wfd = rfd, wfd

    def send(self, obj):
        self.send_raw(dumps(obj).encode("utf-8", "replace"))

    def send_raw(self, data):
        data = len(data).to_bytes(4, "big") + data
        view = memoryview(data)
        while view:
            view = view[os.write(self.wfd, view):]

    def _read_exact(self, n):
        chunks, left = [], n
        while left:
            chunk = os.read(self.rfd, min(left, 1 << 20))
            if not chunk:
                return None
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def recv(self):
        """The next frame's payload (bytes), or None once the parent has gone."""
        head = self._read_exact(4)
        if head is None:
            return None
        return self._read_exact(int.from_bytes(head, "big"))


class _Strict:
    """What the stdlib's C scanner reads from its decoder: the settings of json.loads."""
    strict, object_hook, object_pairs_hook, parse_float, parse_int, memo = True, None, None, float, int, {}
    parse_constant = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}.__getitem__


# The stdlib's own C scanner and encoder, without the `json` package, whose import (its regular expressions,
# enum) costs a cold start more than every other module the worker needs: json.loads and json.dumps(...,
# ensure_ascii=False, allow_nan=False) give exactly these results.
_scan = _json.make_scanner(_Strict)
_encode = _json.make_encoder(None, None, _json.encode_basestring, None, ": ", ", ", False, False, False)


def loads(body):
    text = str(body, "utf-8", "surrogatepass") if not isinstance(body, str) else body  # bytes or a view of the page
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        end, value = -1, None
    if end != len(text):  # whitespace around the value, or not JSON: the json package says which
        import json
        return json.loads(text)
    return value


def dumps(obj):
    return "".join(_encode(obj, 0))


BIG_BATCH = 64 * 1024  # bytes: a batch this big is read by orjson (imported then: it costs more than a
                       # whole cold start's other imports, and a preview's small batch does not need it)


class BatchReader:
    """A batch's JSON reader: the stdlib until the first batch is done, orjson where installed after that, or
    for a big batch before (several times faster, even on a trainer's 64 rows); both read what the parent
    writes the same way (see _encode.encode). orjson is imported while the worker is idle after its first
    batch (warm): its import costs a cold start more than the first batch's reading by the stdlib."""

    def __init__(self):
        self.fast = None

    def warm(self):
        if self.fast is None:
            try:
                import orjson
                self.fast = orjson.loads
            except BaseException:  # not installed, or refused: the stdlib reads everything too
                self.fast = loads
        return self.fast

    def __call__(self, body):
        if self.fast is not None:
            return self.fast(body)
        return loads(body) if len(body) < BIG_BATCH else self.warm()(body)

