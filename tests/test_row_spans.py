"""Uploaded JSON arrays and CSVs keep their rows as spans of the upload: each row event says which bytes it
was read from, the store reads the row again from them, and every row, line and error is the same as when
the rows are written into the store (a file object: no buffer to point into)."""

from __future__ import annotations

import io
import json
import tracemalloc

import pytest

from ftstudio.datasets import read_dataset
from ftstudio.datasets._csv import record_decoder
from ftstudio.datasets._read import _events, _open
from ftstudio.datasets._readers import CHUNK_BYTES, Header, RowRead


def row_events(data: bytes, name: str) -> tuple[list[RowRead], Header | None]:
    inp, fmt, _notes = _open(data, name, None, False)
    events = list(_events(inp, fmt))
    return [e for e in events if isinstance(e, RowRead)], next((e for e in events if isinstance(e, Header)), None)


def assert_same_as_written(data: bytes, name: str) -> None:
    """Spans of the upload give the rows (types and key order too: compared by repr), lines and errors
    that rows written into the store give."""
    spans, written = read_dataset(data, name=name), read_dataset(io.BytesIO(data), name=name)
    assert repr(spans.rows) == repr(written.rows) and repr([spans.store[i] for i in range(len(spans))]) == repr(written.rows)
    assert (spans.lines, spans.errors, spans.error_at, spans.blank_lines) == (written.lines, written.errors, written.error_at, written.blank_lines)
    assert (spans.notes, spans.columns) == (written.notes, written.columns)


# --- JSON arrays -------------------------------------------------------------------------------

ARRAYS = {
    "escaped quotes and brackets in strings": r'[{"a": "x\"]}[{,\\"}, {"b": "\\\\", "c": "\\\"]"}, {"d": "]"}]',
    "nested arrays and objects": '[{"a": [[1, [2, {"b": [3, []]}]], [], {}]}, {"e": {"f": {"g": [{}]}}}]',
    "unicode, raw and escaped": '[{"é": "日本語 😀", "k": "\u2028"}, {"s": "\\ud83d\\ude00\\u00e9"}, {"z": "ü"}]',
    "CRLF, BOM and indentation": '\ufeff[\r\n  {\r\n    "a": 1\r\n  },\r\n\t{"b": [\r\n1]}\r\n]\r\n',
    "trailing comma": '[{"a": 1}, {"b": 2},]',
    "trailing garbage": '[{"a": 1}]\n  x y',
    "garbage and non-objects between rows": '[{"a": 1}, 3, {"b": 2} x, "s", {"c": 3}, [1], {"d": 4}]',
    "a broken row among good ones": '[{"a": 1}, {"b": tru}, {"c": "ok"}, {"d": [1, }, {"e": 5}]',
    "unclosed row at the end": '[{"a": 1}, {"b": [2',
    "unclosed array": '[{"a": 1}, {"b": 2}',
    "rows orjson reads otherwise or refuses": ('[{"big": 123456789012345678901234567890}, {"f": 1e400, "g": -0.0},'
                                                 ' {"s": "\\ud800"}, {"a": 1, "b": 2, "a": 3}, {"n": NaN}, {"ok": 1.5e-3}]'),
}


@pytest.mark.parametrize("text", list(ARRAYS.values()), ids=list(ARRAYS))
def test_json_array_rows_are_spans_that_read_back_as_the_rows(text):
    data = text.encode()
    events, _ = row_events(data, "d.json")
    assert events
    for e in events:
        element = data[e.start:e.end]
        assert element[:1] == b"{" and element[-1:] == b"}"
        assert repr(json.loads(element)) == repr(e.row)
    assert_same_as_written(data, "d.json")


def big_array() -> bytes:
    """Rows of multi-byte characters, escapes and brackets in strings, some bigger than a read chunk, so
    chunk edges fall inside UTF-8 sequences, strings and rows."""
    pieces = ["日本", "😀", "é", '\\"', "]", "[{", "\\\\", "x" * 37, "\\u00e9"]
    rows = []
    for i in range(6000):
        text = "".join(pieces[(i * 7 + k) % len(pieces)] for k in range(i % 23))
        rows.append(f'{{"i": {i}, "t": "{text}", "n": [[{i}], {{"k": "{text}"}}]}}')
    rows.insert(2000, '{"long": "' + "日本語" * (CHUNK_BYTES // 4) + '"}')
    rows.insert(4000, '{"long": [' + ",".join(["[1, {\"a\": \"]\"}]"] * (CHUNK_BYTES // 8)) + "]}")
    return ("[\n" + ",\r\n".join(rows) + "\n]").encode()


def test_json_array_spans_stay_exact_across_read_chunks():
    data = big_array()
    assert len(data) > 3 * CHUNK_BYTES
    events, _ = row_events(data, "d.json")
    assert len(events) == 6002
    assert all(json.loads(data[e.start:e.end]) == e.row for e in events)
    assert_same_as_written(data, "d.json")


# --- CSV ---------------------------------------------------------------------------------------

CSVS = {
    "JSON cells, CRLF, BOM, a multi-line quoted field": (
        '\ufeffmessages,answer,meta,note\r\n'
        '"[{""role"": ""user"", ""content"": ""hi""}]",42,"{""k"": 1}",{not json}\r\n'
        '\r\n'
        '"[]","multi\r\nline\nmore","[1, 2]",  {"a": 1}  \r\n'
    ).encode(),
    "bad records among good ones": b'a,b\n1,2\n3\n4,"caf\xe9"\n5,6,\n7,8,9\n"x\ny",z',
    "semicolons and tabs": b"a;b\n1;2\n\"3;4\";5\n",
    "tabs": b"a\tb\n1\t2\n",
    "trailing empty cells and blank lines": b"a,b,,\n1,2,,\n\n3,4\n , \n5,\"\"\n",
    "quotes, unicode and a CR in a quoted field": 'a,b\n"x ""y"" z","日本 😀"\n"l\rm",é\n'.encode(),
    "a NUL and a stray quote": b'a,b\n1,x\x00y\n2,"q\n3,4\n',
    "no newline at the end": b"a,b\n1,2",
}


@pytest.mark.parametrize("data", list(CSVS.values()), ids=list(CSVS))
def test_csv_records_are_spans_that_read_back_as_the_rows(data):
    events, header = row_events(data, "d.csv")
    assert events and header is not None
    decode = record_decoder(header.columns, header.delimiter)
    for e in events:
        assert repr(decode(memoryview(data)[e.start:e.end])) == repr(e.row)
    assert_same_as_written(data, "d.csv")


# --- memory ------------------------------------------------------------------------------------

def rows(n: int) -> list[dict]:
    return [{"messages": [{"role": "user", "content": f"question {i} é " * 40}], "answer": str(i), "n": i}
            for i in range(n)]


def as_csv(rs: list[dict]) -> bytes:
    lines = ["messages,answer,n"]
    lines += ['"' + json.dumps(r["messages"]).replace('"', '""') + f'",{r["answer"]},{r["n"]}' for r in rs]
    return ("\r\n".join(lines) + "\r\n").encode()


def held_after_reading(source, name: str):
    tracemalloc.start()
    try:
        ds = read_dataset(source, name=name)
        return ds, tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("name", ["d.json", "d.csv"])
def test_uploaded_arrays_and_csvs_are_pointed_into_not_copied(name):
    """Uploaded bytes: what reading leaves held is lines and the store's index (tens of bytes a row), no
    copy of the rows; a file object (nothing to point into) leaves the rows written out, most of the file."""
    data = json.dumps(rows(2000)).encode() if name == "d.json" else as_csv(rows(2000))
    ds, held = held_after_reading(data, name)
    written, held_written = held_after_reading(io.BytesIO(data), name)
    assert len(ds) == 2000 and not ds.errors and ds.rows == written.rows
    assert held <= 0.1 * len(data) < 0.5 * len(data) <= held_written
