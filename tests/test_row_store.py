"""A read dataset keeps its rows as JSON bytes (RowStore), about the file's size, and every consumer sees the
same rows, lines, entries and results as from the rows decoded once into dicts."""

from __future__ import annotations

import io
import json
import math
import random
import tracemalloc

import pytest

from ftstudio.datasets import (
    LineError,
    RowStore,
    TokenCounter,
    format_report,
    preview_rows,
    read_dataset,
)
from ftstudio.datasets._read import file_order
from ftstudio.grading import grade, preflight
from ftstudio.grading._preflight import MAX_ROWS

WORDS = "order parcel refund account password delivery address customer label é 中文".split()
GRADER = {"type": "string_check", "name": "exact", "input": "{{ sample.output_text }}",
          "reference": "{{ item.answer }}", "operation": "eq"}


def rows_like_the_bench(n: int, seed: int = 3) -> list[dict]:
    rnd = random.Random(seed)
    text = lambda lo, hi: " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(lo, hi)))
    out = []
    for i in range(n):
        answer = text(1, 3)
        out.append({"messages": [{"role": "developer", "content": text(5, 15)}, {"role": "user", "content": text(20, 80)}],
                    "answer": answer, "model_sample": answer if rnd.random() < 0.6 else text(1, 3), "n": i,
                    "score": rnd.random(), **({"extra": [1, {"x": None}]} if i % 7 == 0 else {})})
    return out


def jsonl(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


# --- compact -----------------------------------------------------------------------------------

def traced_peak(source, name: str = "d.jsonl"):
    tracemalloc.start()
    try:
        ds = read_dataset(source, name=name)
        return ds, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("as_path", [False, True])
def test_the_rows_cost_about_the_file_not_five_times_it(tmp_path, as_path):
    """Bytes held in the store's buffers (its blocks, its index, the uploaded bytes it points into) stay
    within 1.1x the file. tracemalloc's peak while reading grows with the file by at most 0.4x the extra
    bytes for uploaded bytes (pointed into) and 1.4x for a path (copied into blocks): rows are never all
    dicts at once (as dicts they cost ~5x). The peak's fixed part (a 1 MiB read chunk, one event's
    rows) is left out by comparing two sizes."""
    small, big = jsonl(rows_like_the_bench(3000)), jsonl(rows_like_the_bench(15000))
    (tmp_path / "small.jsonl").write_bytes(small)
    (tmp_path / "big.jsonl").write_bytes(big)
    ds_small, peak_small = traced_peak(tmp_path / "small.jsonl" if as_path else small)
    ds, peak = traced_peak(tmp_path / "big.jsonl" if as_path else big)
    assert len(ds_small) == 3000 and len(ds) == 15000 and len(big) > 9_000_000
    assert ds.store.nbytes <= 1.1 * len(big)
    assert peak - peak_small <= (1.4 if as_path else 0.4) * (len(big) - len(small))


def test_uploaded_bytes_are_pointed_into_not_copied():
    data = jsonl(rows_like_the_bench(3000))
    tracemalloc.start()
    try:
        ds = read_dataset(data, name="d.jsonl")
        held, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held <= 0.2 * len(data)  # lines, the index arrays and the keys: no copy of the rows
    assert ds.store.nbytes >= len(data)  # the store says it holds the upload


# --- the same rows -------------------------------------------------------------------------------

def decoded_once(data: bytes) -> tuple[list[dict], list[int], list[LineError]]:
    """What the old reader kept: every good line as a dict (json.loads), its line, the bad lines."""
    rows, lines, errors = [], [], []
    for k, raw in enumerate(data.decode("utf-8-sig").split("\n"), 1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
        if isinstance(value, dict):
            rows.append(value)
            lines.append(k)
        else:
            errors.append(LineError(k, ""))
    return rows, lines, errors


SOURCES = {
    "bytes": lambda data: data,
    "bytearray": bytearray,
    "file object": io.BytesIO,
}


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_rows_lines_entries_and_fields_are_the_same_as_decoded_once(source):
    good = rows_like_the_bench(400)
    odd = ['{"big": 123456789012345678901234567890}', '{"f": 1e400, "g": -0.0}', '{"s": "\\ud800"}',
           '{"a": 1, "a": 2}', "{broken", "[1, 2]", "", '{"late": true}\r']
    lines_text = [json.dumps(r, ensure_ascii=False) for r in good]
    for k, text in enumerate(odd):
        lines_text.insert(37 * (k + 1), text)
    data = b"\xef\xbb\xbf" + "\n".join(lines_text).encode() + b"\n"
    ds = read_dataset(SOURCES[source](data), name="d.jsonl")
    rows, lines, errors = decoded_once(data)
    assert ds.rows == rows and list(ds.store) == rows and ds.store == rows
    assert ds.lines == lines and [e.line for e in ds.errors] == [e.line for e in errors]
    big = next(r for r in ds.store if "big" in r)
    assert big["big"] == 123456789012345678901234567890 and isinstance(big["big"], int)
    inf = next(r for r in ds.store if "f" in r)
    assert inf["f"] == math.inf and math.copysign(1, inf["g"]) == -1
    assert [ds.store[i] for i in range(len(rows))] == rows
    assert ds.store[-1] == rows[-1] and ds.store[5:9] == rows[5:9] and ds.store[::50] == rows[::50]
    with pytest.raises(IndexError):
        ds.store[len(rows)]
    eager = file_order(rows, lines, ds.errors, ds.error_at)
    assert ds.entries == eager and list(ds.entries) == eager and len(ds.entries) == len(eager)
    assert [ds.entries[i] for i in range(len(eager))] == eager and ds.entries[-3:] == eager[-3:]
    picked = [0, 36, 37, 38, 111, len(eager) - 1]
    chunk = ds.chunk(picked)
    assert chunk.entries() == [eager[i] for i in picked]
    keys: dict[str, None] = {}
    for r in rows:
        keys.update(dict.fromkeys(r))
    assert ds.fields == list(keys)


@pytest.mark.parametrize("name,data", [
    ("d.json", json.dumps([{"a": 1, "b": [1.5, "x"]}, 3, {"a": 2, "big": 10**30}, {"c": "\u00e9"}]).encode()),
    ("d.csv", b'a,b,c\n1,"{""k"": [1, 2]}",x\n2,[],y\n'),
])
def test_json_arrays_and_csv_keep_the_same_rows(name, data):
    ds = read_dataset(data, name=name)
    if name.endswith(".json"):
        assert ds.rows == [{"a": 1, "b": [1.5, "x"]}, {"a": 2, "big": 10**30}, {"c": "é"}] and len(ds.errors) == 1
    else:
        assert ds.rows == [{"a": "1", "b": {"k": [1, 2]}, "c": "x"}, {"a": "2", "b": [], "c": "y"}]
        assert ds.fields == ["a", "b", "c"]


def test_a_decoded_row_is_the_callers_to_change():
    ds = read_dataset(jsonl([{"a": 1}, {"a": 2}]), name="d.jsonl")
    ds.store[0]["a"] = 99
    ds.rows[1]["a"] = 99
    assert ds.rows == [{"a": 1}, {"a": 2}]


def test_a_store_filled_by_hand_reads_back_what_went_in():
    store = RowStore()
    rows = [{"a": i, "s": "x" * (i % 5000)} for i in range(2000)]  # over one block of bytes
    for r in rows:
        store.add(r)
    assert list(store) == rows and store[1999] == rows[1999]  # the last block read before finish()
    store.finish()
    assert store == rows and store.keys == ["a", "s"]


# --- every consumer sees the same rows -------------------------------------------------------------

def test_reports_tokens_preview_and_grading_see_the_same_rows():
    rows = rows_like_the_bench(300)
    rows[10].pop("model_sample")
    data = jsonl(rows).replace(b"\n", b"\n{broken\n", 1)
    ds = read_dataset(data, name="d.jsonl")
    plain, lines, _errors = decoded_once(data)
    as_list = format_report(plain, "reinforcement", lines=lines, sample_field="model_sample", count_tokens=False)
    of_ds = format_report(ds, "reinforcement", sample_field="model_sample", count_tokens=False)
    assert [p for p in of_ds.problems if p.code != "invalid_line"] == as_list.problems
    a, b = TokenCounter("reinforcement"), TokenCounter("reinforcement")
    a.add(ds.store, ds.lines)
    b.add(plain, lines)
    assert (a.total, a.max, a.over_limit) == (b.total, b.max, b.over_limit)
    preview, log = preview_rows(ds)
    assert [(p.line, p.item, p.sample) for p in preview] == [
        (line, {k: v for k, v in r.items() if k != "model_sample"}, r.get("model_sample")) for r, line in zip(plain, lines)]
    assert [p.code for p in log.shown] == ["missing_sample_field"]
    whole = grade(GRADER, ds)
    rewards = [r for r in whole.rewards.tolist()]
    assert rewards[0] == grade(GRADER, plain[:1]).rewards.tolist()[0] and len(rewards) == len(plain) + 1
    assert grade(GRADER, ds.chunk()).rewards.tolist() == rewards


def test_preflight_of_a_big_dataset_reads_only_the_rows_it_looks_at():
    rows = rows_like_the_bench(MAX_ROWS + 50)
    for r in rows[::3]:
        r.pop("answer")
    ds = read_dataset(jsonl(rows), name="d.jsonl")
    assert [i.message for i in preflight(GRADER, ds)] == [i.message for i in preflight(GRADER, rows)]
    assert any(f"of {MAX_ROWS:,} rows" in i.message and "first" in i.message for i in preflight(GRADER, ds))


def test_a_runs_entries_and_its_calibration_are_the_same_as_from_decoded_rows():
    from ftstudio.grading import GradeOptions, GradingJob, Scope
    from ftstudio.probes import calibration, label_values

    rows = rows_like_the_bench(200)
    data = jsonl(rows).replace(b"\n", b"\n{broken\n", 1)
    ds = read_dataset(data, name="d.jsonl")
    job = GradingJob(1, GRADER, ds, "model_sample", Scope("random", 120, 5), GradeOptions(), "fp").start()
    assert job.wait(60) and job.run is not None
    run = job.run
    by_index = [run.entry(i) for i in range(len(run))]
    assert list(run.iter_entries()) == by_index == [ds.entries[k][1] for k in run.row_index]
    assert calibration(run.results, run.iter_entries(), group_field="answer") == \
        calibration(run.results, by_index, group_field="answer")
    assert label_values(run.iter_entries(), "answer") == label_values(by_index, "answer")
