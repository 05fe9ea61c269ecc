"""Reading datasets: formats, encodings, every error path, streaming and preview rows."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftstudio.datasets import (
    DEFAULT_MAX_BYTES,
    EXAMPLES,
    MAX_LINE_BYTES,
    DatasetError,
    LineError,
    _json_array,
    _readers,
    example_path,
    iter_rows,
    preview_rows,
    read_dataset,
    split_sample,
)


def errors_text(ds) -> list[str]:
    return [str(e) for e in ds.errors]


# --- JSONL -----------------------------------------------------------------------------------

def test_jsonl_with_bom_and_crlf_reads_rows_and_lines():
    data = b'\xef\xbb\xbf{"a": 1}\r\n{"a": 2, "b": "x"}\r\n'
    ds = read_dataset(data, name="d.jsonl")
    assert ds.format == "jsonl"
    assert ds.rows == [{"a": 1}, {"a": 2, "b": "x"}]
    assert ds.lines == [1, 2]
    assert ds.errors == [] and ds.blank_lines == 0
    assert ds.fields == ["a", "b"]
    assert ds.content_hash == hashlib.sha256(data).hexdigest()
    assert ds.size_bytes == len(data)


def test_broken_lines_are_reported_and_do_not_stop_the_rest():
    lines = [
        '{"ok": 1}',
        '{"a": 1 "b": 2}',
        "[1, 2]",
        "",
        '{"x": NaN}',
        "42",
        '{"ok": 2}',
        '{"unterminated": "x',
        '{"ok": 3}',
    ]
    ds = read_dataset("\n".join(lines).encode(), name="d.jsonl")
    assert ds.rows == [{"ok": 1}, {"ok": 2}, {"ok": 3}]
    assert ds.lines == [1, 7, 9]
    assert ds.blank_lines == 1
    msgs = errors_text(ds)
    assert msgs[0] == "line 2: Expecting ',' delimiter at column 9"
    assert msgs[1] == "line 3: a row must be a JSON object, got an array"
    assert msgs[2].startswith("line 5: NaN is not valid JSON")
    assert msgs[3] == "line 6: a row must be a JSON object, got a number"
    assert msgs[4].startswith("line 8: Unterminated string")
    assert len(ds.errors) == 5  # every skipped non-blank line is listed


def test_non_utf8_line_names_line_and_byte_offset():
    data = b'{"a": 1}\n{"b": "caf\xe9"}\n{"c": 3}\n'
    ds = read_dataset(data, name="d.jsonl")
    assert ds.rows == [{"a": 1}, {"c": 3}]
    (err,) = ds.errors
    assert err.line == 2
    assert "not valid UTF-8" in err.message and "0xE9" in err.message
    assert "at byte 11 of the line, byte offset 19 in the file" in err.message  # 9 bytes of line 1 + 10
    assert "Save the file as UTF-8" in err.message


def test_line_over_10_mb_is_skipped_with_a_clear_error(tmp_path):
    path = tmp_path / "big.jsonl"
    with open(path, "wb") as f:
        f.write(b'{"a": 1}\n')
        f.write(b'{"text": "' + b"x" * (MAX_LINE_BYTES + 10) + b'"}\n')
        f.write(b'{"a": 3}\n')
    ds = read_dataset(path)
    assert ds.rows == [{"a": 1}, {"a": 3}]
    assert ds.lines == [1, 3]
    (err,) = ds.errors
    assert err.line == 2 and "over the 10 MB limit" in err.message


@pytest.mark.parametrize("data", [b"", b"   \n\n\r\n", b"\xef\xbb\xbf"])
@pytest.mark.parametrize("name", ["empty.jsonl", "empty.json", "empty.csv"])
def test_empty_file_is_a_dataset_error_naming_the_file(data, name):
    with pytest.raises(DatasetError, match=rf"^{name} is empty\. Choose a file"):
        read_dataset(data, name=name)


def test_size_limit_names_file_and_the_cli_way_out(tmp_path):
    path = tmp_path / "large.jsonl"
    path.write_bytes(b'{"a": 1}\n' * 100)
    with pytest.raises(DatasetError) as e:
        read_dataset(path, max_bytes=500)
    assert str(e.value).startswith("large.jsonl is 900 bytes, over the 500 bytes limit")
    assert "ftstudio check-data" in str(e.value)
    assert len(read_dataset(path, max_bytes=None).rows) == 100
    assert DEFAULT_MAX_BYTES == 200 * 1024 * 1024


class _NoSeek(io.RawIOBase):
    """A stream whose size is unknown up front, like a pipe."""

    def __init__(self, data: bytes):
        self._inner = io.BytesIO(data)

    def readable(self):
        return True

    def seekable(self):
        return False

    def read(self, n=-1):
        return self._inner.read(n)


def test_size_limit_on_a_stream_of_unknown_size(monkeypatch):
    monkeypatch.setattr(_readers, "CHUNK_BYTES", 64)
    with pytest.raises(DatasetError, match="over the 500 bytes limit"):
        read_dataset(_NoSeek(b'{"a": 1}\n' * 100), name="pipe.jsonl", max_bytes=500)
    assert len(read_dataset(_NoSeek(b'{"a": 1}\n' * 100), name="pipe.jsonl").rows) == 100


def test_file_like_is_read_from_the_start_and_named_from_its_name():
    stream = io.BytesIO(b'{"a": 1}\n{"a": 2}\n')
    stream.name = "upload.jsonl"
    stream.read()  # a previous rerun consumed it
    ds = read_dataset(stream)
    assert ds.name == "upload.jsonl" and len(ds.rows) == 2
    assert not stream.closed  # the caller's object is not closed for them


def test_unknown_extension_and_no_name_read_as_jsonl_with_a_note():
    ds = read_dataset(b'{"a": 1}\n', name="data.txt")
    assert ds.format == "jsonl" and ds.rows == [{"a": 1}]
    assert ds.notes == ["data.txt: unknown extension '.txt'; read it as JSON Lines (one JSON object per line)."]
    ds = read_dataset(b'{"a": 1}\n')
    assert ds.name == "uploaded data" and "no file extension" in ds.notes[0]


def test_missing_path_folder_utf16_and_binary_are_dataset_errors(tmp_path):
    with pytest.raises(DatasetError, match="no such file"):
        read_dataset(tmp_path / "nope.jsonl")
    with pytest.raises(DatasetError, match="is a folder"):
        read_dataset(tmp_path)
    with pytest.raises(DatasetError, match="d.jsonl is saved as UTF-16. Save it as UTF-8"):
        read_dataset('{"a": 1}\n'.encode("utf-16"), name="d.jsonl")
    # UTF-32's little-endian BOM (FF FE 00 00) starts like UTF-16's: it is still named as what it is
    for codec in ("utf-32", "utf-32-le", "utf-32-be"):
        data = ('{"a": 1}\n'.encode(codec) if codec == "utf-32" else
                ("\ufeff" + '{"a": 1}\n').encode(codec))
        with pytest.raises(DatasetError, match="d.jsonl is saved as UTF-32. Save it as UTF-8"):
            read_dataset(data, name="d.jsonl")
    with pytest.raises(DatasetError, match="d.jsonl is saved as UTF-16. Save it as UTF-8"):
        read_dataset(("\ufeff" + '{"a": 1}\n').encode("utf-16-be"), name="d.jsonl")
    with pytest.raises(DatasetError, match=r"book.csv is not a text file \(it looks like an Excel workbook\)"):
        read_dataset(b"PK\x03\x04\x14\x00\x00\x00\x08\x00", name="book.csv")


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64])
def test_jsonl_chunk_boundaries_do_not_matter(monkeypatch, chunk):
    monkeypatch.setattr(_readers, "CHUNK_BYTES", chunk)
    data = '\ufeff{"é": "ü\\"x"}\r\n\n{"k": [1, {"n": "日本"}]}\n{"bad"\n{"z": 0}'.encode()
    ds = read_dataset(data, name="d.jsonl")
    assert ds.rows == [{"é": 'ü"x'}, {"k": [1, {"n": "日本"}]}, {"z": 0}]
    assert ds.lines == [1, 3, 5]
    assert [e.line for e in ds.errors] == [4] and ds.blank_lines == 1


# --- JSON arrays -----------------------------------------------------------------------------

PRETTY = """[
  {"messages": [{"role": "user", "content": "a [tricky] {string} with \\"quotes\\" and \\\\"}]},
  {
    "x": 1,
    "y": [1, 2, {"z": "]"}]
  },
  7,
  {"a" 1},
  "text",
  [1, 2],
  {"last": true}
]
"""


@pytest.mark.parametrize("chunk", [1, 2, 5, 13, 1 << 20])
def test_json_array_rows_lines_and_errors(monkeypatch, chunk):
    monkeypatch.setattr(_readers, "CHUNK_BYTES", chunk)
    ds = read_dataset(PRETTY.encode(), name="d.json")
    assert ds.format == "json"
    assert ds.rows == [
        {"messages": [{"role": "user", "content": 'a [tricky] {string} with "quotes" and \\'}]},
        {"x": 1, "y": [1, 2, {"z": "]"}]},
        {"last": True},
    ]
    assert ds.lines == [2, 3, 11]
    assert errors_text(ds) == [
        "line 7: a row must be a JSON object, got a number",
        "line 8: Expecting ':' delimiter at column 8",
        "line 9: a row must be a JSON object, got a string",
        "line 10: a row must be a JSON object, got an array",
    ]


def test_strings_and_escapes_split_at_every_chunk_position(monkeypatch):
    row = {"k": "abcdefghij", "m": "\\", "n": 'x"y', "o": "\\\"", "p": ["]", "}"]}
    for chunk in range(1, 24):
        monkeypatch.setattr(_readers, "CHUNK_BYTES", chunk)
        for pad in range(8):
            data = ("[" + " " * pad + json.dumps(row) + ", " + json.dumps(row) + "]").encode()
            ds = read_dataset(data, name="d.json")
            assert (ds.rows, ds.errors) == ([row, row], []), (chunk, pad)


def test_json_array_rows_across_many_chunks_keep_their_lines(monkeypatch):
    monkeypatch.setattr(_readers, "CHUNK_BYTES", 1 << 16)
    rows = [{"i": i, "text": "w" * (i % 50) + '\\"}{]['} for i in range(30_000)]
    data = ("[\n" + ",\n".join(json.dumps(r) for r in rows) + "\n]").encode()
    assert len(data) > 2 * _readers.CHUNK_BYTES
    ds = read_dataset(data, name="big.json")
    assert ds.rows == rows and ds.errors == []
    assert ds.lines == list(range(2, 30_002))


def test_json_array_structural_errors():
    ds = read_dataset(b'[{"a": 1}] trailing', name="d.json")
    assert ds.rows == [{"a": 1}]
    assert errors_text(ds) == ["line 1: text after the array's closing ']' was ignored; a .json file holds one array of rows"]
    ds = read_dataset(b'[{"a": 1},\n{"b": 2}', name="d.json")
    assert ds.rows == [{"a": 1}, {"b": 2}]
    assert "ends before the array's closing ']'" in ds.errors[0].message
    ds = read_dataset(b'[{"a": 1},\n{"b": [2, 3}', name="d.json")
    assert ds.rows == [{"a": 1}]
    assert ds.errors[0].line == 2 and "not closed" in ds.errors[0].message


@pytest.mark.parametrize("chunk", [16, 1 << 20])  # the scanner's slow path and its whole-row fast path
def test_json_array_element_over_the_limit_is_skipped(monkeypatch, chunk):
    monkeypatch.setattr(_readers, "CHUNK_BYTES", chunk)
    monkeypatch.setattr(_json_array, "MAX_LINE_BYTES", 100)
    ds = read_dataset(('[{"a": 1},\n{"big": "' + "x" * 300 + '"},\n{"c": 3}]').encode(), name="d.json")
    assert ds.rows == [{"a": 1}, {"c": 3}]
    assert ds.errors[0].line == 2 and "over the 100 bytes limit" in ds.errors[0].message


def test_json_file_special_cases():
    with pytest.raises(DatasetError, match=r"d.json holds an empty array: there are no rows"):
        read_dataset(b" [ ] ", name="d.json")
    ds = read_dataset(b'{"a": 1}\n{"a": 2}\n', name="d.json")
    assert ds.rows == [{"a": 1}, {"a": 2}] and "read it as JSON Lines" in ds.notes[0]
    with pytest.raises(DatasetError, match=r"d.json does not start with '\['"):
        read_dataset(b'"just a string"', name="d.json")
    with pytest.raises(DatasetError, match=r"d.json: the bytes at line 2 \(byte offset 18\) are not valid UTF-8"):
        read_dataset(b'[{"a": 1},\n{"b": "\xff"}]', name="d.json")


_TEXT = st.text(alphabet=st.sampled_from('ab "\\[]{},:\n\té日\u2028'), max_size=12)
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(st.dictionaries(_TEXT, _VALUES, max_size=4), min_size=1, max_size=6),
    indent=st.sampled_from([None, 1]),
    ascii_only=st.booleans(),
    chunk=st.integers(1, 40),
)
def test_any_json_array_and_jsonl_round_trip_at_any_chunk_size(rows, indent, ascii_only, chunk):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_readers, "CHUNK_BYTES", chunk)
        as_array = json.dumps(rows, indent=indent, ensure_ascii=ascii_only).encode()
        ds = read_dataset(as_array, name="d.json")
        assert ds.rows == rows and ds.errors == []
        as_lines = "\n".join(json.dumps(r, ensure_ascii=ascii_only) for r in rows).encode()
        ds = read_dataset(as_lines, name="d.jsonl")
        assert ds.rows == rows and ds.lines == list(range(1, len(rows) + 1))


# --- CSV -------------------------------------------------------------------------------------

def test_csv_header_json_cells_strings_and_line_numbers():
    data = (
        '\ufeffmessages,answer,meta,note\r\n'
        '"[{""role"": ""user"", ""content"": ""hi""}]",42,"{""k"": 1}",{not json}\r\n'
        '\r\n'
        '"[]","multi\nline","[1, 2]",  {"a": 1}  \r\n'
    ).encode()
    ds = read_dataset(data, name="d.csv")
    assert ds.format == "csv" and ds.columns == ["messages", "answer", "meta", "note"]
    assert ds.rows[0] == {
        "messages": [{"role": "user", "content": "hi"}],
        "answer": "42",  # numbers stay strings
        "meta": {"k": 1},
        "note": "{not json}",  # starts with { but does not parse: kept as text
    }
    assert ds.rows[1] == {"messages": [], "answer": "multi\nline", "meta": [1, 2], "note": {"a": 1}}
    assert ds.lines == [2, 4]  # CSV line numbers; the header is line 1
    assert ds.blank_lines == 1


def test_csv_bad_records_are_reported_and_skipped():
    data = b'a,b\n1,2\n3\n4,"caf\xe9"\n5,6,\n7,8,9\n'
    ds = read_dataset(data, name="d.csv")
    assert ds.rows == [{"a": "1", "b": "2"}, {"a": "5", "b": "6"}]
    assert ds.lines == [2, 5]
    msgs = errors_text(ds)
    assert msgs[0] == "line 3: 1 cells but the header has 2 columns; quote cells that contain the delimiter"
    assert msgs[1].startswith("line 4: not valid UTF-8")
    assert msgs[2].startswith("line 6: 3 cells")


def test_csv_line_over_the_limit_drops_only_its_record(monkeypatch):
    monkeypatch.setattr(_readers, "MAX_LINE_BYTES", 50)
    ds = read_dataset(b"a,b\n1,2\n3," + b"x" * 80 + b"\n5,6\n", name="d.csv")
    assert ds.rows == [{"a": "1", "b": "2"}, {"a": "5", "b": "6"}] and ds.lines == [2, 4]
    assert ds.errors[0].line == 3 and "over the 50 bytes limit" in ds.errors[0].message


def test_csv_semicolons_header_problems_and_header_only():
    ds = read_dataset(b"a;b\n1;2\n", name="d.csv")
    assert ds.rows == [{"a": "1", "b": "2"}] and "semicolons" in ds.notes[0]
    with pytest.raises(DatasetError, match="d.csv: columns 1 and 3 of the header row are both named 'a'"):
        read_dataset(b"a,b,a\n1,2,3\n", name="d.csv")
    with pytest.raises(DatasetError, match="d.csv: column 2 of the header row has no name"):
        read_dataset(b"a,,c\n1,2,3\n", name="d.csv")
    with pytest.raises(DatasetError, match=r"d.csv: the header row can't be read \(line 1: not valid UTF-8"):
        read_dataset(b"caf\xe9,b\n1,2\n", name="d.csv")
    with pytest.raises(DatasetError, match="d.csv has a header row but no data rows"):
        read_dataset(b"a,b\r\n\r\n", name="d.csv")


# --- streaming -------------------------------------------------------------------------------

def test_iter_rows_chunks_match_read_dataset(tmp_path):
    path = tmp_path / "d.jsonl"
    lines = [json.dumps({"i": i}) if i % 7 else "{broken" for i in range(1, 101)]
    path.write_text("\n".join(lines) + "\n\n")
    chunks = list(iter_rows(path, chunk_size=30))
    ds = read_dataset(path)
    assert [len(c.rows) for c in chunks] == [30, 30, 26]
    assert [c.start for c in chunks] == [0, 30, 60]
    assert [r for c in chunks for r in c.rows] == ds.rows
    assert [n for c in chunks for n in c.lines] == ds.lines
    assert [e for c in chunks for e in c.errors] == ds.errors
    assert len(ds.errors) == 14 and all(isinstance(e, LineError) for e in ds.errors)
    assert sum(c.blank_lines for c in chunks) == ds.blank_lines == 1


def test_iter_rows_raises_dataset_error_for_an_empty_file(tmp_path):
    (tmp_path / "e.jsonl").write_bytes(b"")
    with pytest.raises(DatasetError, match="e.jsonl is empty"):
        list(iter_rows(tmp_path / "e.jsonl"))


# --- preview rows ----------------------------------------------------------------------------

def test_split_sample():
    row = {"answer": "4", "model_sample": "four"}
    assert split_sample(row) == ({"answer": "4"}, "four")
    assert row == {"answer": "4", "model_sample": "four"}  # not mutated
    assert split_sample({"answer": "4"}) == ({"answer": "4"}, None)
    item, sample = split_sample({"out": {"label": "ä", "n": [1, 2]}}, "out")
    assert item == {} and sample == '{"label":"ä","n":[1,2]}'


def test_preview_rows_reports_missing_and_non_string_samples():
    lines = [json.dumps({"q": i, "model_sample": f"s{i}"}) for i in range(12)]
    lines.append(json.dumps({"q": 12}))
    lines.append(json.dumps({"q": 13, "model_sample": {"label": "x"}}))
    ds = read_dataset("\n".join(lines).encode(), name="d.jsonl")
    rows, log = preview_rows(ds)
    assert [r.sample for r in rows][-2:] == [None, '{"label":"x"}']
    assert rows[12].item == {"q": 12}
    missing = [p for p in log.shown if p.code == "missing_sample_field"]
    assert [str(p) for p in missing] == [
        "row 12 (line 13): no 'model_sample' field; choose the field that holds the model output"
    ]
    info = [p for p in log.shown if p.code == "sample_not_string"]
    assert info[0].severity == "info" and info[0].row == 13


def test_preview_rows_without_the_field_anywhere_is_one_error():
    ds = read_dataset(b'{"q": 1, "output": "a"}\n' * 30, name="d.jsonl")
    _, log = preview_rows(ds)
    (problem,) = log.shown
    assert problem.code == "missing_sample_field" and log.count("error") == 1
    assert "no row has a 'model_sample' field (fields: 'q', 'output')" in problem.message
    rows, log = preview_rows(ds, "output")
    assert not log.shown and rows[0].sample == "a"


# --- bundled examples ------------------------------------------------------------------------

def test_bundled_examples_load_cleanly():
    sizes = {m: len(read_dataset(example_path(m)).rows) for m in EXAMPLES}
    assert sizes["supervised"] >= 12 and sizes["dpo"] >= 12 and sizes["reinforcement"] >= 30
    rft = read_dataset(example_path("reinforcement"))
    assert rft.errors == [] and {"answer", "label", "reference", "model_sample"} <= set(rft.fields)
    rows, log = preview_rows(rft)
    assert not log.shown and all(isinstance(r.sample, str) for r in rows)
    parsed = []
    for r in rows:
        try:
            parsed.append(json.loads(r.sample))
        except ValueError:
            pass
    assert sum(isinstance(p, dict) and {"label", "reason"} <= set(p) for p in parsed) >= 10
