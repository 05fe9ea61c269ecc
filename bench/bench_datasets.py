"""Dataset reading, format checks and token counts against plain-Python references, same run.

Rows are supervised chat examples (system + user + assistant, 20-200 words each), written as
JSONL, a JSON array and CSV (messages as a JSON cell). References: the simplest code that gets
the rows with no line numbers, no error reporting and no streaming (`json.loads` per line,
`json.load` of the whole file, `csv.DictReader` + `json.loads` of the cell) and, for tokens, the
cookbook loop (`len(enc.encode(content))` per message) and tiktoken's `encode_ordinary_batch`.
With --write, replaces the "Datasets" section of bench/README.md.

    python bench/bench_datasets.py            # 50,000 rows
    python bench/bench_datasets.py --quick    # 5,000 rows
    python bench/bench_datasets.py --write    # also update bench/README.md
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

from _readme import write_section

from ftstudio.datasets import count_rows, format_report, get_encoding, read_dataset

_WORDS = (
    "the a of to in and is was that it for on with as by at from this be or not but have we you they "
    "order parcel refund account password delivery address customer label insurance shipping tracking "
    "model answer question result value report system user team price product week day time people "
    "quickly clearly usually really very new old high low correct wrong final early late 12 42 2026"
).split()


def make_rows(n: int, seed: int = 7) -> list[dict]:
    rnd = random.Random(seed)
    text = lambda lo, hi: " ".join(rnd.choice(_WORDS) for _ in range(rnd.randint(lo, hi)))
    return [{"messages": [
        {"role": "system", "content": text(8, 20)},
        {"role": "user", "content": text(20, 120) + "?"},
        {"role": "assistant", "content": text(20, 200) + ".", "weight": 1},
    ]} for _ in range(n)]


def best(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return min(times), result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    n = 5_000 if args.quick else 50_000
    repeat = 3
    rows = make_rows(n)
    tmp = Path(tempfile.mkdtemp(prefix="ftbench-"))
    jsonl, jarr, csvp = tmp / "d.jsonl", tmp / "d.json", tmp / "d.csv"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
    jarr.write_text("[\n" + ",\n".join(json.dumps(r, indent=1) for r in rows) + "\n]\n")
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["messages"])
    for r in rows:
        w.writerow([json.dumps(r["messages"])])
    csvp.write_text(buf.getvalue())
    mb = jsonl.stat().st_size / 1e6

    def ref_jsonl():
        with open(jsonl, "rb") as f:
            return [json.loads(line) for line in f]

    def ref_json():
        with open(jarr, "rb") as f:
            return json.load(f)

    def ref_csv():
        with open(csvp, newline="", encoding="utf-8") as f:
            return [{"messages": json.loads(r["messages"])} for r in csv.DictReader(f)]

    table = []
    for label, path, ref in (("JSONL", jsonl, ref_jsonl), ("JSON array", jarr, ref_json), ("CSV", csvp, ref_csv)):
        t_ref, expected = best(ref, repeat)
        t_ours, ds = best(lambda p=path: read_dataset(p, max_bytes=None), repeat)
        assert ds.rows == expected and not ds.errors, label
        table.append((f"read {label} ({path.stat().st_size / 1e6:.0f} MB)", t_ours, t_ref, "plain json/csv, whole file"))

    t_check, report = best(lambda: format_report(rows, "supervised", count_tokens=False), repeat)
    assert report.ok
    enc = get_encoding()
    contents = [m["content"] for r in rows for m in r["messages"]]
    t_cook, cook = best(lambda: sum(len(enc.encode(c)) for c in contents), repeat)
    t_batch, _ = best(lambda: sum(len(t) for t in enc.encode_ordinary_batch(contents)), repeat)
    t_tok, counts = best(lambda: count_rows(rows, "supervised", enc), repeat)
    assert sum(counts) >= cook
    table.append(("count tokens (o200k_base)", t_tok, t_cook, "cookbook loop, enc.encode per message"))
    table.append(("count tokens (o200k_base)", t_tok, t_batch, "encode_ordinary_batch (8 threads)"))

    lines = [
        "## Datasets",
        "",
        f"`ftstudio.datasets.read_dataset` (streaming, line numbers, per-line errors), "
        f"`dataset_report.format_report` and `tokens.count_rows` on {n:,} supervised chat rows "
        f"({mb:.0f} MB as JSONL), against the simplest code that gets the same result, same run, best of {repeat}.",
        "",
        f"Measured {datetime.date.today()} on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, with `python bench/bench_datasets.py{' --quick' if args.quick else ''}`:",
        "",
        "| task | ftstudio (s) | rows/s | reference (s) | reference | ftstudio / reference |",
        "| --- | ---: | ---: | ---: | --- | ---: |",
    ]
    for task, ours, ref, what in table:
        lines.append(f"| {task} | {ours:.2f} | {n / ours:,.0f} | {ref:.2f} | {what} | {ours / ref:.2f}x |")
    lines.append(f"| format checks (supervised) | {t_check:.2f} | {n / t_check:,.0f} | | | |")
    section = "\n".join(lines) + "\n"
    print(section)
    if args.write:
        write_section("Datasets", section)
    for p in (jsonl, jarr, csvp):
        p.unlink()
    tmp.rmdir()


if __name__ == "__main__":
    sys.exit(main())
