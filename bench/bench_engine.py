"""Engine benchmarks (not tests): throughput per grader type, `ftstudio grade` end to end,
model graders against a local server that answers after 100 ms, and peak memory for a
million rows. Prints a table; `--write` puts it into bench/README.md between the markers.

    python bench/bench_engine.py            # everything (a few minutes)
    python bench/bench_engine.py --quick    # smaller sizes
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from ftstudio.api import Endpoint  # noqa: E402
from ftstudio.grading import GradeOptions, grade  # noqa: E402

WORDS = ("the model answer reference grader score reward value token sample item field output "
         "quick brown fox jumps over lazy dog alpha beta gamma delta").split()


def sentence(rnd, n):
    return " ".join(rnd.choice(WORDS) for _ in range(n))


def rows(n, seed=0, length=12):
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        ref = sentence(rnd, length)
        ans = ref if rnd.random() < 0.5 else sentence(rnd, length)
        out.append({"answer": ref, "label": f"l{i % 5}", "model_sample": ans})
    return out


def best_rate(fn, n, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return n / best


SC = {"type": "string_check", "name": "exact", "input": "{{ sample.output_text }}", "reference": "{{ item.answer }}",
      "operation": "eq"}


def ts(metric):
    return {"type": "text_similarity", "name": metric, "input": "{{ sample.output_text }}",
            "reference": "{{ item.answer }}", "evaluation_metric": metric}


MULTI3 = {"type": "multi", "name": "three", "calculate_output": "(exact + fuzzy + contains) / 3", "graders": {
    "exact": SC, "fuzzy": ts("fuzzy_match"),
    "contains": {"type": "string_check", "name": "contains", "input": "{{ sample.output_text }}",
                 "reference": "{{ item.label }}", "operation": "ilike"}}}


def bench_throughput(n):
    data = rows(n)
    grade(SC, data[:10])
    out = []
    for name, grader, target in (("string_check eq", SC, 500_000), ("text_similarity fuzzy_match", ts("fuzzy_match"), 500_000),
                                 ("multi of 3 non-model graders", MULTI3, None)):
        rate = best_rate(lambda g=grader: grade(g, data), n)
        out.append((name, f"{n:,} rows in memory", f"{rate:,.0f} rows/s", f">= {target:,} rows/s" if target else "—",
                    "pass" if target is None or rate >= target else "MISS"))
    return out


def bench_cli(n):
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data.jsonl"
        with data.open("w") as fh:
            for r in rows(n):
                fh.write(json.dumps(r) + "\n")
        grader = Path(tmp) / "grader.json"
        grader.write_text(json.dumps(MULTI3))
        out = Path(tmp) / "out.jsonl"
        cmd = [sys.executable, "-m", "ftstudio", "grade", str(grader), str(data), "--out", str(out)]
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            best = min(best, time.perf_counter() - t)
        lines = sum(1 for _ in out.open())
    assert lines == n
    return [("`ftstudio grade` multi of 3, end to end (start-up, read, grade, write --out)", f"{n:,} rows JSONL",
             f"{best:.2f} s", "<= 5 s" if n == 100_000 else "(5 s at 100,000)", "pass" if best <= 5 else "MISS")]


def bench_memory(n):
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "big.jsonl"
        rnd = random.Random(1)
        with data.open("w") as fh:
            for i in range(n):
                text = "".join(rnd.choice("abcdefghij ") for _ in range(200))
                fh.write(json.dumps({"answer": text if i % 3 else "x", "model_sample": text}) + "\n")
        size = data.stat().st_size
        grader = Path(tmp) / "g.json"
        grader.write_text(json.dumps(SC))
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ftstudio", "grade", str(grader), str(data), "--out",
                        str(Path(tmp) / "o.jsonl")], check=True, capture_output=True)
        elapsed = time.perf_counter() - t
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    note = "" if before == 0 else " (upper bound: peak of any child so far)"
    return [(f"`ftstudio grade` string_check, 200-char outputs ({size / 1e6:,.0f} MB file, {elapsed:.1f} s)",
             f"{n:,} rows", f"{peak_mb:,.0f} MB peak RSS{note}", "< 2,048 MB", "pass" if peak_mb < 2048 else "MISS")]


def bench_model(n, delay=0.1):
    """The server runs in its own process, as a real endpoint would (in-process it would compete
    with the client for the GIL and inflate the figure)."""
    from openai_stub import DEFAULT_API_KEY

    judge = {"type": "score_model", "name": "judge", "model": "gpt-4.1-mini-2025-04-14",
             "input": [{"role": "user", "content": "Score {{ sample.output_text }} against {{ item.answer }} #{{ item.i }}"}]}
    data = [{"answer": "a", "i": i, "model_sample": "b"} for i in range(n)]
    server = subprocess.Popen([sys.executable, "-m", "tests.openai_stub", "--port", "0", "--delay", str(delay)],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    base_url = server.stdout.readline().strip()
    opts = GradeOptions(endpoint=Endpoint(base_url=base_url, api_key=DEFAULT_API_KEY), concurrency=8)
    cold, warm, errors = float("inf"), 0.0, 0
    try:
        for _ in range(2):  # best of two cold runs, each with an empty cache, like best_rate's best of three
            with tempfile.TemporaryDirectory() as cache:
                os.environ["FTSTUDIO_CACHE_DIR"] = cache
                t = time.perf_counter()
                first = grade(judge, data, options=opts)
                cold = min(cold, time.perf_counter() - t)
                errors = max(errors, first.summary()["rows_with_errors"])
                t = time.perf_counter()
                grade(judge, data, options=opts)
                warm = time.perf_counter() - t
    finally:
        server.terminate()
        server.wait(10)
    ideal = n * delay / 8
    return [(f"score_model, server answers after {delay * 1000:.0f} ms, concurrency 8 (best of 2)", f"{n:,} rows",
             f"{cold:.2f} s ({cold / ideal:.3f}x ideal {ideal:.1f} s; {errors} errors)", "<= 1.15x ideal",
             "pass" if cold <= 1.15 * ideal and errors == 0 else "MISS"),
            ("same, fully cached rerun", f"{n:,} rows", f"{warm:.2f} s", "<= 1 s", "pass" if warm <= 1 else "MISS")]


def table(results):
    lines = ["| benchmark | size | measured | target | |", "| --- | ---: | ---: | ---: | --- |"]
    lines += [f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in results]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--only", choices=("throughput", "cli", "model", "memory"))
    a = ap.parse_args()
    q = a.quick
    results = []
    if a.only in (None, "throughput"):
        results += bench_throughput(50_000 if q else 200_000)
    if a.only in (None, "cli"):
        results += bench_cli(20_000 if q else 100_000)
    if a.only in (None, "model"):
        results += bench_model(200 if q else 1000)
    if a.only in (None, "memory"):
        results += bench_memory(100_000 if q else 1_000_000)
    header = (f"Measured {dt.date.today().isoformat()} on {platform.machine()}, {os.cpu_count()} cores, Python "
              f"{platform.python_version()}, with `python bench/bench_engine.py{' --quick' if q else ''}`.")
    text = header + "\n\n" + table(results)
    print(text)
    if a.write:
        from _readme import write_section

        write_section("Engine", text)


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    main()
