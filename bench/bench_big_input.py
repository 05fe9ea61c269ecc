"""Big but honest inputs: a ~200 MB JSONL graded by `ftstudio grade`, and read as the app reads it.

Each measurement runs in a fresh child process, started by a small wrapper that reports the
child's peak resident memory (`resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`) and wall time:
- `ftstudio grade` (string_check, records written to a .jsonl): streams the file in chunks of rows;
- the app's upload path: the file's bytes in memory (what Streamlit's uploader holds), then
  `datasets.read_dataset(bytes)`, which keeps every row (as spans of the upload), for the JSONL and for
  the same rows as a JSON array and as a CSV (messages as a JSON cell; cut to stay under 200 MiB);
- the app's Test grading page (Streamlit's AppTest, the real page script) with that dataset loaded:
  the wall time of the first run that shows it (status, output field, the preview, Grade), the time
  until the format report and token counts (a background thread started at the page's end) are done,
  and the process's peak RSS against the same page with a 20-row dataset (which loads the same code and
  token tables);
- the reference: the same bytes, then `[json.loads(line) for line in ...]`, the simplest code
  that holds the same rows;
- the baseline: Python with `ftstudio.datasets` imported and nothing read.
With --write, replaces the "Big inputs" section of bench/README.md. With --against DIR (another checkout,
e.g. main before a change), the app's upload reads are also run with that checkout's ftstudio, in the same
run, and shown beside them.

    python bench/bench_big_input.py            # ~200 MB (just under the app's 200 MiB limit)
    python bench/bench_big_input.py --quick    # ~20 MB
    python bench/bench_big_input.py --write    # also update bench/README.md
    python bench/bench_big_input.py --against /work/main
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
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from _readme import write_section

from ftstudio.cli._grade import CHUNK_ROWS

_WORDS = (
    "the a of to in and is was that it for on with as by at from this be or not but have we you they "
    "order parcel refund account password delivery address customer label insurance shipping tracking "
    "model answer question result value report system user team price product week day time people"
).split()

# Runs one command; prints its wall time and the peak RSS (kB) of it and its children.
_WRAPPER = """
import resource, subprocess, sys, time
t = time.perf_counter()
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
wall = time.perf_counter() - t
print(rc, wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""

_APP_READ = """
import sys
from ftstudio.datasets import read_dataset
data = open(sys.argv[1], "rb").read()
ds = read_dataset(data, name=sys.argv[3])
assert len(ds) == int(sys.argv[2]) and not ds.errors
"""

# argv: data file or "-" (no dataset), app.py, a scratch folder (FTSTUDIO_HOME), where to write the timings.
_APP_PAGE = """
import json, os, sys, time
sys.path.insert(0, os.path.dirname(sys.argv[2]))  # the repository: components/, app_pages/
os.environ["FTSTUDIO_HOME"] = sys.argv[3] + "/home"
os.environ["FTSTUDIO_CACHE_DIR"] = sys.argv[3] + "/cache"
from streamlit.testing.v1 import AppTest
from components.state import AppState
from ftstudio.config import JobConfig
from ftstudio.datasets import read_dataset
from ftstudio.store import autosave
grader = json.loads(open(sys.argv[3] + "/grader.json").read())
autosave.save(JobConfig.model_validate({"model": "o4-mini-2025-04-16", "training_file": "",
                                        "method": {"type": "reinforcement", "reinforcement": {"grader": grader}}}))
at = AppTest.from_file(sys.argv[2], default_timeout=900)
at.run()
at.switch_page("app_pages/test_grading.py").run()
out = {}
if sys.argv[1] != "-":
    ds = read_dataset(open(sys.argv[1], "rb").read(), name="upload.jsonl")  # what the uploader's load_bytes reads
    AppState(at.session_state).dataset = ds
    t = time.perf_counter()
    at.run()
    out["first"] = time.perf_counter() - t
    assert not at.exception and any(d.value.shape[0] == min(20, len(ds)) for d in at.dataframe), "no preview"
    for check in AppState(at.session_state).dataset_derived.values():
        check.future.result()
    out["checks"] = time.perf_counter() - t
    t = time.perf_counter()
    at.run()
    out["rerun"] = time.perf_counter() - t
    assert any(" for reinforcement training data" in e.label for e in at.expander), "no format report"
open(sys.argv[4], "w").write(json.dumps(out))
"""

_REFERENCE = """
import json, sys
data = open(sys.argv[1], "rb").read()
rows = [json.loads(line) for line in data.splitlines()]
assert len(rows) == int(sys.argv[2])
"""

_BASELINE = "import ftstudio.datasets"


def write_rows(path: Path, target_bytes: int, seed: int = 7) -> int:
    """RFT-style rows (a prompt, an answer, a model sample) until the file reaches target_bytes."""
    rnd = random.Random(seed)
    text = lambda lo, hi: " ".join(rnd.choice(_WORDS) for _ in range(rnd.randint(lo, hi)))
    n = size = 0
    with open(path, "w", encoding="utf-8") as fh:
        while True:
            answer = text(1, 3)
            row = {"messages": [{"role": "developer", "content": text(5, 15)}, {"role": "user", "content": text(20, 80)}],
                   "answer": answer, "model_sample": answer if rnd.random() < 0.6 else text(1, 3)}
            line = json.dumps(row) + "\n"
            if size + len(line) > target_bytes:
                return n
            fh.write(line)
            size += len(line)
            n += 1


def write_array_and_csv(jsonl: Path, array: Path, table: Path, limit: int) -> int:
    """The JSONL's rows as one JSON array (its lines joined by commas) and as a CSV cut to stay under
    `limit` bytes; the CSV's row count."""
    with open(jsonl, "rb") as src:
        array.write_bytes(b"[" + b",".join(line.rstrip(b"\n") for line in src) + b"]")
    record = io.StringIO(newline="")
    writer = csv.writer(record)
    writer.writerow(["messages", "answer", "model_sample"])
    size = n = 0
    with open(jsonl, encoding="utf-8") as src, open(table, "w", encoding="utf-8", newline="") as out:
        for line in src:
            row = json.loads(line)
            writer.writerow([json.dumps(row["messages"]), row["answer"], row["model_sample"]])
            text = record.getvalue()
            if size + len(text.encode()) > limit:
                break
            out.write(text)
            size += len(text.encode())
            n += 1
            record.seek(0)
            record.truncate()
    return n  # the header went out with the first row


def measure(cmd: list[str], pythonpath: str | None = None) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of cmd, in a fresh wrapper process; `pythonpath`: import ftstudio
    from that checkout (run outside this one, so that `python -c` does not find it first)."""
    env = dict(os.environ, PYTHONPATH=pythonpath) if pythonpath else None
    out = subprocess.run([sys.executable, "-c", _WRAPPER, *cmd], capture_output=True, text=True, check=True,
                         env=env, cwd=tempfile.gettempdir() if pythonpath else None)
    rc, wall, rss_kb = out.stdout.split()
    sys.stderr.write(out.stderr if rc != "0" else "")
    if rc != "0":
        raise SystemExit(f"{cmd[:4]} exited with {rc}")
    return float(wall), int(rss_kb) / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--against", metavar="DIR", help="another checkout: its app upload reads run beside these")
    args = ap.parse_args()
    target = (20 if args.quick else 200) * 1024 * 1024 - 1024  # just under the app's 200 MiB limit
    tmp = Path(tempfile.mkdtemp(prefix="ftbench-big-"))
    data, half, grader, out = tmp / "big.jsonl", tmp / "half.jsonl", tmp / "grader.json", tmp / "records.jsonl"
    n = write_rows(data, target)
    n_half = write_rows(half, target // 2)  # the same rows, first half: how memory grows with rows
    grader.write_text(json.dumps({"type": "string_check", "name": "exact", "input": "{{ sample.output_text }}",
                                  "reference": "{{ item.answer }}", "operation": "eq"}))
    array, table = tmp / "big.json", tmp / "big.csv"
    n_csv = write_array_and_csv(data, array, table, target)
    mb = lambda p: p.stat().st_size / 2**20
    size_mb = mb(data)
    py = sys.executable
    load_before = os.getloadavg()
    # (label, command, rows, file MB, the checkout it imports ftstudio from or None for this one)
    runs: list[tuple[str, list[str], int, float, str | None]] = [
        ("`ftstudio grade` (string_check, records to .jsonl)",
         [py, "-m", "ftstudio", "grade", str(grader), str(data), "--out", str(out)], n, size_mb, None),
        (f"the same on the first {n_half:,} rows ({mb(half):.0f} MB)",
         [py, "-m", "ftstudio", "grade", str(grader), str(half), "--out", str(out)], n_half, mb(half), None),
    ]
    uploads = [("JSONL", data, n, "upload.jsonl"), ("JSON array", array, n, "upload.json"),
               (f"CSV ({mb(table):.0f} MB)", table, n_csv, "upload.csv")]
    for what, path, rows, shown in uploads:
        for where in ([None, os.path.abspath(args.against)] if args.against else [None]):
            label = f"app upload, {what}: bytes in memory + `read_dataset(bytes)`"
            runs.append((label + (f" ({os.path.basename(where)} checkout)" if where else ""),
                         [py, "-c", _APP_READ, str(path), str(rows), shown], rows, mb(path), where))
    runs += [
        ("reference: bytes in memory + `json.loads` per line", [py, "-c", _REFERENCE, str(data), str(n)], n, size_mb, None),
        ("baseline: Python + `import ftstudio.datasets`", [py, "-c", _BASELINE], 0, 0, None),
    ]
    results = []
    for label, cmd, rows, _mb, where in runs:
        results.append((label, *measure(cmd, where)))
        if cmd[2] == "grade":
            assert sum(1 for _ in open(out, encoding="utf-8")) == rows, label
    base = results[-1][2]
    app_py, timings = str(Path(__file__).resolve().parents[1] / "app.py"), tmp / "page.json"
    grader_copy = tmp / "grader.json"  # the page script reads the grader from its scratch folder
    grader_copy.write_text(grader.read_text())
    small = tmp / "small.jsonl"  # the baseline page loads a dataset too: tiktoken's tables (~75 MB) are not the rows'
    with open(data, "rb") as src:
        small.write_bytes(b"".join(src.readline() for _ in range(20)))
    _w, page_base = measure([py, "-c", _APP_PAGE, str(small), app_py, str(tmp), str(timings)])
    _w, page_peak = measure([py, "-c", _APP_PAGE, str(data), app_py, str(tmp), str(timings)])
    page = json.loads(timings.read_text())
    load_after = os.getloadavg()
    lines = [
        "## Big inputs",
        "",
        f"A {size_mb:.0f} MB JSONL of {n:,} reinforcement rows (a developer and a user message, an `answer`, a",
        f"`model_sample`), also as one JSON array ({mb(array):.0f} MB) and as a CSV of its first {n_csv:,} rows (messages",
        "as a JSON cell), each command in a fresh process; peak RSS is the child's `ru_maxrss`",
        "(`resource.getrusage(RUSAGE_CHILDREN)` in a wrapper), wall time includes starting Python.",
        "",
        f"Measured {datetime.date.today()} on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, with `python bench/bench_big_input.py{' --quick' if args.quick else ''}"
        f"{' --against ' + args.against if args.against else ''}` "
        f"(load average {load_before[0]:.1f} before, {load_after[0]:.1f} after: the machine is shared):",
        "",
        "| run | wall (s) | rows/s | peak RSS (MB) | RSS above baseline (MB) | RSS / file size |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for (label, wall, rss), (_l, _c, rows, file_mb, _w) in zip(results, runs):
        is_base = label.startswith("baseline")
        lines.append(f"| {label} | {wall:.2f} | {'' if is_base else f'{rows / wall:,.0f}'} | {rss:,.0f} | "
                     f"{'' if is_base else f'{rss - base:,.0f}'} | {'' if is_base else f'{rss / file_mb:.2f}x'} |")
    peak = {label: rss for label, _wall, rss in results}
    grade_rss, half_rss = results[0][2], results[1][2]
    app_rss, ref_rss = peak[runs[2][0]], results[-2][2]
    ratios = ", ".join(f"{what} {peak[f'app upload, {what}: bytes in memory + `read_dataset(bytes)`'] / mb(path):.2f}x"
                       for what, path, _rows, _shown in uploads)
    per_row = (grade_rss - half_rss) * 2**20 / (n - n_half)
    lines += [
        "",
        f"- `ftstudio grade` streams the file in {CHUNK_ROWS:,}-row chunks: its peak ({grade_rss:,.0f} MB) is one chunk of",
        "  rows plus what it keeps per row for the summary (its reward and its 64-bit group key, 16 bytes), which",
        f"  grows by about {per_row:,.0f} bytes per row (the difference between the two grade runs), not with the",
        "  size of the rows.",
        "- The app holds every row as a span of the uploaded bytes (`RowStore`; a JSONL line or JSON array",
        "  element read with orjson, a CSV record read again with the CSV reader's steps, when a row is asked",
        f"  for): reading the JSONL upload peaks at {app_rss:,.0f} MB ({app_rss / size_mb:.2f}x the file, the upload's own",
        f"  bytes included; goal <= 2x; {ratios}), against {ref_rss:,.0f} MB for plain `json.loads`",
        "  holding the same rows as dicts. Bigger files belong to the CLI (`ftstudio grade`, `ftstudio check-data`), which",
        "  streams. The app keeps the current and the previous dataset (`_KEEP = 2` in",
        "  components/dataset_panel.py), so two such uploads in a row hold about twice this.",
        "- The Test grading page (AppTest of the real page) with this dataset loaded: the first run, which",
        f"  shows the preview and the Grade button, took {page['first']:.2f} s (goal <= 2 s); the format report",
        "  and token counts, computed in a background thread started at the page's end, were done",
        f"  {page['checks']:.1f} s after it; a rerun then took {page['rerun']:.2f} s. The page's process peaked at",
        f"  {page_peak:,.0f} MB against {page_base:,.0f} MB for the same page with a 20-row dataset: the dataset",
        f"  (read, shown, checked) cost {page_peak - page_base:,.0f} MB, {(page_peak - page_base) / size_mb:.1f}x the file.",
    ]
    section = "\n".join(lines) + "\n"
    print(section)
    if args.write:
        write_section("Big inputs", section)
    for p in (data, half, array, table, grader, out, timings, grader_copy, small):
        p.unlink(missing_ok=True)
    shutil.rmtree(tmp)


if __name__ == "__main__":
    sys.exit(main())
