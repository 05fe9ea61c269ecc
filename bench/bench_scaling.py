"""Scaling (issue 23): wall time and peak RSS of `ftstudio grade DATA --out OUT.jsonl` per grader type and size,
so a user can predict a run. Each run is a fresh process under a wrapper reporting the child's `ru_maxrss`.

Rows are the bench_grade_stream rows (a chat message, a 12-word answer and output, 240 bytes of JSONL).
Model graders go to the local fake server (tests/openai_stub, answers at once, its own process, a fresh
cache per run). Every cheap type runs every size; score_model costs about 4 ms of CPU a row on our side, so
it stops at 10,000 (the table says so). Measures only. With --write, replaces the "Scaling" section.

    python bench/bench_scaling.py                       # 10k, 100k, 1M and 10M rows
    python bench/bench_scaling.py --sizes 10000,100000  # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _readme import write_section
from bench_grade_stream import REPO, STRING_CHECK, conditions, env_of, make_data, measure

TITLE = "Scaling"
SIM = {"type": "text_similarity", "name": "sim", "input": "{{sample.output_text}}", "reference": "{{item.answer}}",
       "evaluation_metric": "fuzzy_match"}
TYPES = {
    "string_check": (STRING_CHECK, 10_000_000),
    "text_similarity fuzzy_match": (SIM, 10_000_000),
    "multi(string_check, text_similarity)": ({"type": "multi", "name": "m", "graders": {"a": STRING_CHECK, "b": SIM},
                                              "calculate_output": "0.5 * a + 0.5 * b"}, 10_000_000),
    "python (trivial body, sandboxed)": ({"type": "python", "name": "py",
                                          "source": "def grade(sample, item):\n    return 1.0\n"}, 10_000_000),
    "score_model (local fake server)": ({"type": "score_model", "name": "judge", "model": "gpt-4.1-mini-2025-04-14",
                                         "input": [{"role": "user", "content": "Score {{ sample.output_text }}"}]},
                                        10_000),
}


def run(sizes: list[int], tmp: Path) -> dict[str, dict[int, dict | None]]:
    env = env_of()
    server = subprocess.Popen([sys.executable, "-m", "tests.openai_stub", "--port", "0"], cwd=REPO,
                              stdout=subprocess.PIPE, text=True, env=env)
    base_url = (server.stdout.readline() if server.stdout else "").strip()
    sys.path.insert(0, str(REPO / "tests"))
    from openai_stub import DEFAULT_API_KEY

    out: dict[str, dict[int, dict | None]] = {name: {} for name in TYPES}
    try:
        for n in sizes:
            data = tmp / f"{n}.jsonl"
            make_data(data, n)
            for name, (grader, biggest) in TYPES.items():
                if n > biggest:
                    out[name][n] = None
                    continue
                g = tmp / "g.json"
                g.write_text(json.dumps(grader))
                with tempfile.TemporaryDirectory() as cache:
                    run_env = dict(env, FTSTUDIO_CACHE_DIR=cache, OPENAI_BASE_URL=base_url, OPENAI_API_KEY=DEFAULT_API_KEY)
                    out[name][n] = measure([sys.executable, "-m", "ftstudio", "grade", str(g), str(data), "--out",
                                            str(tmp / "o.jsonl")], run_env)
                print(name, n, out[name][n], flush=True)
            data.unlink()
    finally:
        server.terminate()
        server.wait(10)
    return out


def section(sizes: list[int], got: dict[str, dict[int, dict | None]], command: str) -> str:
    head = "| grader | " + " | ".join(f"{n:,} rows" for n in sizes) + " |"
    lines = [head, "| --- |" + " ---: |" * len(sizes)]
    for name, by in got.items():
        cells = [("not run" if r is None else f"{r['wall']:.1f} s, {r['rss_mib']:.0f} MiB")
                 for r in (by.get(n) for n in sizes)]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return f"""## {TITLE}

`ftstudio grade DATA --out OUT.jsonl`, wall time (start-up included) and peak RSS per grader type; rows of
240 bytes of JSONL (a chat message, a 12-word answer and output). Model graders go to the local fake server
(answers at once, its own process, an empty cache per run): the time is ftstudio's and the HTTP stack's, not
a model's. Records are written as graded and the summary comes from running aggregates: what grows is 16
bytes a row up to 1,000,000 rows (reward, group key); past that the keys spill to 16 partition files and the
end of the run groups one partition at a time (1/16 of the rows, 24 bytes each, plus numpy's sort): that
is the step from 1M to 10M. Time grows linearly past start-up, so a run's time is about its rows times the
1M column's rate. "not run": score_model past 10,000 rows, which would take hours here; it costs about 4 ms
of CPU a row on our side (the HTTP client's), so it extrapolates linearly too (about 6 min at 100,000 rows),
and against a real model the model's latency and rate limits, not ours, set the pace.

Measured {conditions()}, with `{command}`:

{chr(10).join(lines)}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000,10000000")
    parser.add_argument("--write", action="store_true", help="update bench/README.md")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        got = run(sizes, Path(tmp))
    print(section(sizes, got, "python bench/bench_scaling.py"))
    if args.write:
        write_section(TITLE, section(sizes, got, "python bench/bench_scaling.py"
                                     + ("" if args.sizes == parser.get_default("sizes") else f" --sizes {args.sizes}")))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
