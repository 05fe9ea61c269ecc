"""Python grader runner: rows/s of ftstudio.sandbox against grade() called in-process, same run.

Rows are the grader's real shapes (sample = {choices, output_text, output_json, output_tools,
output_audio}, item = a dataset row). Two sources: the trivial body the target is set for
(`return 1.0`) and a small realistic one (a string comparison). The in-process reference runs the
same source with exec() and calls float(grade(sample, item)) row by row; it has no isolation and
is there for context only. With --write, replaces the "Python grader" section of bench/README.md.

    python bench/bench_python_grader.py            # 20,000 rows
    python bench/bench_python_grader.py --quick    # 2,000 rows
    python bench/bench_python_grader.py --write    # also update bench/README.md
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import sys
import time

from _readme import write_section

from ftstudio.sandbox import PythonGraderPool, protections

TARGET_ROWS_PER_S = 5_000
TRIVIAL = "def grade(sample, item):\n    return 1.0\n"
REALISTIC = '''
def grade(sample, item):
    answer = sample["output_text"].strip().lower()
    reference = item["reference"].strip().lower()
    if answer == reference:
        return 1.0
    words = set(answer.split())
    return len(words & set(reference.split())) / max(1, len(words))
'''
_WORDS = "the model answer is correct because the total cost rises by ten percent each year".split()


def make_rows(n: int, text_words: int) -> list[tuple[dict, dict]]:
    rows = []
    for i in range(n):
        text = " ".join(_WORDS[(i + k) % len(_WORDS)] for k in range(text_words))
        sample = {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}],
                  "output_text": text, "output_json": None, "output_tools": [], "output_audio": None}
        item = {"id": i, "reference": " ".join(_WORDS[:text_words]),
                "messages": [{"role": "user", "content": f"Question {i}?"}]}
        rows.append((sample, item))
    return rows


def in_process(source: str, rows) -> float:
    namespace: dict = {}
    exec(compile(source, "grader.py", "exec"), namespace)
    grade = namespace["grade"]
    start = time.perf_counter()
    for sample, item in rows:
        reward = float(grade(sample, item))
        if not math.isfinite(reward):
            raise AssertionError
    return time.perf_counter() - start


def measure(source: str, rows, repeats: int) -> dict:
    n = len(rows)
    reference = min(in_process(source, rows) for _ in range(repeats))
    start = time.perf_counter()
    with PythonGraderPool(source) as pool:
        first = pool.run(rows[:1])
        first_row = time.perf_counter() - start
    start = time.perf_counter()
    with PythonGraderPool(source) as pool:
        cold_results = pool.run(rows)
        cold = time.perf_counter() - start
        warm = []
        for _ in range(repeats):
            t = time.perf_counter()
            warm_results = pool.run(rows)
            warm.append(time.perf_counter() - t)
    ok = all(r.error is None for r in first + cold_results + warm_results)
    return {"rows": n, "reference": n / reference, "cold": n / cold, "warm": n / min(warm),
            "first_row_s": first_row, "ok": ok}


def table(results: dict[str, dict]) -> str:
    lines = ["| source | rows | pool, cold (rows/s) | pool, warm (rows/s) | target | in-process (rows/s) "
             "| in-process / warm | start + 1 row (s) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['rows']:,} | {r['cold']:,.0f} | {r['warm']:,.0f} | {TARGET_ROWS_PER_S:,} "
                     f"| {r['reference']:,.0f} | {r['reference'] / r['warm']:.0f}x | {r['first_row_s']:.3f} |")
    return "\n".join(lines)


def section(results: dict[str, dict], command: str) -> str:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    return f"""## Python grader

`ftstudio.sandbox.PythonGraderPool` (one worker process per CPU, rows sent in batches, every
call with its own wall limit) against the same `grade()` called in-process row by row, in the
same run. "cold" includes starting the workers; "warm" is a second run on the same pool (best
of several); "start + 1 row" is a fresh pool grading one row (a preview). The target is
{TARGET_ROWS_PER_S:,} rows/s for the trivial body on 2 cores. The in-process figure has no
isolation at all and is context, not a goal. Workers ran in the sandbox's `{protections().mode}` mode
(see SECURITY.md): namespaces, tmpfs and the uid change are part of "start + 1 row".

Measured {datetime.date.today().isoformat()} on {machine}, with `{command}`:

{table(results)}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 rows, one run each")
    parser.add_argument("--rows", type=int, help="rows per source (default 20,000)")
    parser.add_argument("--write", action="store_true", help="update bench/README.md")
    args = parser.parse_args(argv)
    n = args.rows or (2_000 if args.quick else 20_000)
    repeats = 1 if args.quick else 3
    results = {
        "trivial (`return 1.0`)": measure(TRIVIAL, make_rows(n, 12), repeats),
        "string comparison, 60-word texts": measure(REALISTIC, make_rows(n, 60), repeats),
    }
    print(table(results))
    if args.write:
        command = "python bench/bench_python_grader.py" + (" --quick" if args.quick else "")
        if args.rows:
            command += f" --rows {args.rows}"
        write_section("Python grader", section(results, command))
    trivial = results["trivial (`return 1.0`)"]
    return 0 if all(r["ok"] for r in results.values()) and trivial["cold"] >= TARGET_ROWS_PER_S else 1


if __name__ == "__main__":
    sys.exit(main())
