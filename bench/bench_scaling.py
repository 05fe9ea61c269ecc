"""Scaling (issue 23): wall time and peak RSS of `ftstudio grade DATA --out OUT.jsonl` per grader type and size,
so a user can predict a run. Each run is a fresh process under a wrapper reporting the child's `ru_maxrss`.

Rows are the bench_grade_stream rows (a chat message, a 12-word answer and output, 240 bytes of JSONL).
Model graders go to the local fake server (tests/openai_stub, answers at once, its own process, a fresh
cache per run); the endpoint grader to a local scoring service (the stdlib's threading HTTP server, answers
{"score": 1} at once, its own process); the lambda grader runs a local handler file (--lambda-handler) in the
python sandbox. Every type that grades on this machine runs every size; the types that send each row over HTTP
cost milliseconds a row, so they stop at 100,000 (the table says so, with the rate that predicts the rest).
Measures only. With --write, replaces the "Scaling" section.

    python bench/bench_scaling.py                       # 10k, 100k, 1M and 10M rows
    python bench/bench_scaling.py --sizes 10000,100000  # a quick look
    python bench/bench_scaling.py --types score_model,label_model,endpoint --sizes 10000,1000000 --over-http 1000000
                                                        # the HTTP types further (section "Scaling over HTTP")
    python bench/bench_scaling.py --batch --types score_model --sizes 10000,100000,1000000 --over-http 1000000
                                                        # `grade --batch` (section "Scaling over the Batch API")
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from _readme import write_section
from bench_grade_stream import REPO, STRING_CHECK, conditions, env_of, make_data, measure

TITLE = "Scaling"
HTTP_TITLE = "Scaling over HTTP"  # a run of some types only (--types) writes this section instead
BATCH_TITLE = "Scaling over the Batch API"  # a --batch run writes this one
POLL = 30  # seconds between two looks at a batch (ftstudio.grading.run_batch's default)
SIM = {"type": "text_similarity", "name": "sim", "input": "{{sample.output_text}}", "reference": "{{item.answer}}",
       "evaluation_metric": "fuzzy_match"}
JUDGE = "gpt-4.1-mini-2025-04-14"
LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:reward"
LAMBDA_HANDLER = (
    "def lambda_handler(event, context):\n"
    "    return [{'id': r['id'], 'aggregate_reward_score': 1.0 if r['messages'][-1]['content'] == r.get('answer') "
    "else 0.0} for r in event]\n")
# A scoring service as Azure calls one (POST {sample, item, trace_id} -> {"score": n}); prints its URL.
SCORE_SERVICE = """
import http.server, json, sys
class Score(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        body = b'{"score": 1}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Score)
print(f"http://127.0.0.1:{server.server_address[1]}/score", flush=True)
server.serve_forever()
"""
ENDPOINT_URL = "{endpoint}"  # filled in when the service has started
OVER_HTTP = 100_000  # the largest size for a type that sends each row over HTTP
# name -> (grader, largest size, extra `ftstudio grade` arguments)
TYPES: dict[str, tuple[dict, int, tuple[str, ...]]] = {
    "string_check": (STRING_CHECK, 10_000_000, ()),
    "text_similarity fuzzy_match": (SIM, 10_000_000, ()),
    "multi(string_check, text_similarity)": ({"type": "multi", "name": "m", "graders": {"a": STRING_CHECK, "b": SIM},
                                              "calculate_output": "0.5 * a + 0.5 * b"}, 10_000_000, ()),
    "python (trivial body, sandboxed)": ({"type": "python", "name": "py",
                                          "source": "def grade(sample, item):\n    return 1.0\n"}, 10_000_000, ()),
    "lambda (local handler file, sandboxed)": ({"type": "lambda", "name": "reward", "lambda": {"function": LAMBDA_ARN}},
                                               10_000_000, ("--lambda-handler", f"{LAMBDA_ARN}={{handler}}")),
    "score_model (local fake server)": ({"type": "score_model", "name": "judge", "model": JUDGE,
                                         "input": [{"role": "user", "content": "Score {{ sample.output_text }}"}]},
                                        OVER_HTTP, ()),
    "label_model (local fake server)": ({"type": "label_model", "name": "label", "model": JUDGE,
                                         "input": [{"role": "user", "content": "Label {{ sample.output_text }} [[label: good]]"}],
                                         "labels": ["good", "bad"], "passing_labels": ["good"]}, OVER_HTTP, ()),
    "endpoint (local scoring service)": ({"type": "endpoint", "name": "service", "url": ENDPOINT_URL}, OVER_HTTP, ()),
}


def _started(cmd: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """A server in its own process, and the URL it prints first."""
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True, env=env)
    return proc, (proc.stdout.readline() if proc.stdout else "").strip()


def _clean_records(path: Path) -> int:
    """How many records of `path` carry no error (records as `grade --out` writes them)."""
    clean, tail = 0, b""
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 24):
            block = tail + chunk
            cut = block.rfind(b"\n") + 1
            clean += block[:cut].count(b'"errors": []')
            tail = block[cut:]
    return clean + tail.count(b'"errors": []')


def type_id(name: str) -> str:
    """A line's short name for --types: its grader type (score_model, multi, lambda, ...)."""
    found = re.match(r"[a-z_]+", name)
    return found.group() if found else name


def run(sizes: list[int], tmp: Path, types: dict[str, tuple[dict, int, tuple[str, ...]]]
        ) -> dict[str, dict[int, dict | None]]:
    env = env_of()
    servers = []
    try:
        stub, base_url = _started([sys.executable, "-m", "tests.openai_stub", "--port", "0"], env)
        servers.append(stub)
        service, endpoint = _started([sys.executable, "-c", SCORE_SERVICE], env)
        servers.append(service)
        sys.path.insert(0, str(REPO / "tests"))
        from openai_stub import DEFAULT_API_KEY

        handler = tmp / "handler.py"
        handler.write_text(LAMBDA_HANDLER)
        out: dict[str, dict[int, dict | None]] = {name: {} for name in types}
        for n in sizes:
            data = tmp / f"{n}.jsonl"
            make_data(data, n)
            for name, (grader, biggest, extra) in types.items():
                if n > biggest:
                    out[name][n] = None
                    continue
                g = tmp / "g.json"
                g.write_text(json.dumps(grader).replace(ENDPOINT_URL, endpoint))
                args = [a.format(handler=handler) for a in extra]
                with tempfile.TemporaryDirectory() as cache:
                    run_env = dict(env, FTSTUDIO_CACHE_DIR=cache, OPENAI_BASE_URL=base_url, OPENAI_API_KEY=DEFAULT_API_KEY)
                    out[name][n] = measure([sys.executable, "-m", "ftstudio", "grade", str(g), str(data), "--out",
                                            str(tmp / "o.jsonl"), *args], run_env)
                clean = _clean_records(tmp / "o.jsonl")
                if clean != n:  # a run whose rows failed would time the error path
                    raise AssertionError(f"{name}: {n - clean:,} of {n:,} records carry errors")
                print(name, n, out[name][n], flush=True)
            data.unlink()
    finally:
        for server in servers:  # the stub keeps every request it saw: after millions it is slow to stop
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    return out


def _predicted(by: dict[int, dict | None], always: bool = False) -> str | None:
    """For a line with sizes not run (or every line, `always`): its rate past start-up from its smallest to its
    largest run, and what that predicts."""
    ran = [(n, r) for n, r in sorted(by.items()) if r is not None]
    if (len(ran) == len(by) and not always) or len(ran) < 2:
        return None
    (n0, r0), (n1, r1) = ran[0], ran[-1]
    per_row = (r1["wall"] - r0["wall"]) / (n1 - n0)
    return (f"{per_row * 1e3:.2f} ms a row past start-up (from {n0:,} to {n1:,} rows): 1,000,000 rows about "
            f"{per_row * 1e6 / 60:,.0f} min, 10,000,000 about {per_row * 1e7 / 3600:,.1f} h")


def _table(sizes: list[int], got: dict[str, dict[int, dict | None]], cell: Callable[[dict], str]) -> list[str]:
    """A line per grader, a column per size: cell(run) where it ran, else "not run"."""
    lines = ["| grader | " + " | ".join(f"{n:,} rows" for n in sizes) + " |", "| --- |" + " ---: |" * len(sizes)]
    for name, by in got.items():
        cells = ["not run" if r is None else cell(r) for r in (by.get(n) for n in sizes)]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def section(sizes: list[int], got: dict[str, dict[int, dict | None]], command: str, rates: bool = False) -> str:
    lines = _table(sizes, got, lambda r: f"{r['wall']:.1f} s, {r['rss_mib']:.0f} MiB")
    notes = []
    for name, by in got.items():
        rate = _predicted(by, rates)
        if rate:
            notes.append(f"- {name}: {rate}.")
    return f"""## {TITLE}

`ftstudio grade DATA --out OUT.jsonl`, wall time (start-up included) and peak RSS per grader type; rows of
240 bytes of JSONL (a chat message, a 12-word answer and output). Model graders go to the local fake server
(answers at once, its own process, an empty cache per run), the endpoint grader to a local scoring service
(the stdlib's threading HTTP server answering {{"score": 1}}, its own process): the time is ftstudio's and the
HTTP stack's, not a model's or a service's. The lambda grader runs a local handler file in the python sandbox
(`--lambda-handler ARN=handler.py`), as a python grader does. Records are written as graded and the summary
comes from running aggregates: what grows is 16 bytes a row up to 1,000,000 rows (reward, group key); past
that the keys spill to 16 partition files and the end of the run groups one partition at a time (1/16 of the
rows, 24 bytes each, plus numpy's sort): that is the step from 1M to 10M. Time grows linearly past start-up,
so a run's time is about its rows times the 1M column's rate. "not run": the types that send each row over
HTTP stop at {OVER_HTTP:,} rows, which take minutes here (1M tens of minutes, 10M hours; the sections "{HTTP_TITLE}"
below have them past that). Their rate (below) predicts the rest, and against a real model or service its latency and rate limits, not
ours, set the pace. Model graders over millions of rows go through the Batch API (`--batch`): "{BATCH_TITLE}" below.

Measured {conditions()}, with `{command}`:

{chr(10).join(lines)}

{chr(10).join(notes)}
"""


def http_title(types: list[str]) -> str:
    """A section per set of types run apart: a run of one type does not overwrite another's figures."""
    return f"{HTTP_TITLE}: {', '.join(types)}"


def http_section(sizes: list[int], got: dict[str, dict[int, dict | None]], command: str) -> str:
    """The HTTP types past OVER_HTTP: the table and rates of "Scaling", run apart (they take tens of minutes)."""
    table = section(sizes, got, command, rates=True)
    body = table[table.index("Measured "):]
    return f"""## {http_title([type_id(name) for name in got])}

The types of "{TITLE}" that send each row over HTTP, at the sizes it leaves out, in a run of their own (same
rows, servers and wrapper): whether their time stays linear and their memory flat past {OVER_HTTP:,} rows. Their
memory grows as every type's does in "{TITLE}" (16 bytes a row up to 1,000,000 rows), above the HTTP client's
and the cache's own.

{body}"""


def batch_section(sizes: list[int], got: dict[str, dict[int, dict | None]], command: str) -> str:
    """`grade --batch`: its memory and CPU; its wall time is mostly waiting for the batches."""
    lines = _table(sizes, got, lambda r: f"{r['wall']:.0f} s ({r['cpu']:.1f} s CPU), {r['rss_mib']:.0f} MiB")
    notes = []
    for name, by in got.items():
        ran = [(n, r) for n, r in sorted(by.items()) if r is not None]
        if len(ran) >= 2:
            (n0, r0), (n1, r1) = ran[0], ran[-1]
            notes.append(f"- {name}: {(r1['cpu'] - r0['cpu']) / (n1 - n0) * 1e6:.0f} µs of CPU a row past start-up "
                         f"(from {n0:,} to {n1:,} rows); memory {r1['rss_mib'] - r0['rss_mib']:+.0f} MiB over that.")
    return f"""## {BATCH_TITLE}: {', '.join(type_id(name) for name in got)}

`ftstudio grade GRADER DATA --batch --out OUT.jsonl`, as in "{TITLE}" (same rows, fake server, wrapper), with the
model requests sent through the Batch API first: requests streamed into batches of at most 50,000 (the fake
server's Batch API runs each batch's lines through its chat answers when the batch is looked at), each batch
waited for, its result file read into the cache as it downloads, then the grade finds every answer there. A
cell is wall time (CPU time of ftstudio's process), peak RSS. The wall time is mostly waiting: a batch is looked
at every {POLL} s and the fake server takes three looks to finish one, as a real batch takes minutes to hours;
the CPU time and the memory are ftstudio's. Memory is bounded by a batch (its input file while it uploads),
not by the rows: a row costs only what every type's does in "{TITLE}".

Measured {conditions()}, with `{command}`:

{chr(10).join(lines)}

{chr(10).join(notes)}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000,10000000")
    parser.add_argument("--types", help="comma-separated grader types to run (default: all): "
                                        + ",".join(type_id(n) for n in TYPES))
    parser.add_argument("--over-http", type=int, default=OVER_HTTP,
                        help=f"the largest size for the types that send each row over HTTP (default {OVER_HTTP:,})")
    parser.add_argument("--batch", action="store_true",
                        help="the model graders through the Batch API (`grade --batch`): section " + repr(BATCH_TITLE))
    parser.add_argument("--write", action="store_true", help="update bench/README.md")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    wanted = set(args.types.split(",")) if args.types else {type_id(n) for n in TYPES}
    unknown = wanted - {type_id(n) for n in TYPES}
    if unknown:
        parser.error(f"unknown type(s) {', '.join(sorted(unknown))}; choose from "
                     + ", ".join(type_id(n) for n in TYPES))
    if args.batch and wanted - {"score_model", "label_model"}:
        parser.error("--batch applies to the model graders: give --types score_model, label_model or both")
    types = {n: (g, args.over_http if biggest == OVER_HTTP else biggest, extra + (("--batch",) if args.batch else ()))
             for n, (g, biggest, extra) in TYPES.items() if type_id(n) in wanted}
    command = "python bench/bench_scaling.py" + (" --batch" if args.batch else "") + "".join(
        f" {flag} {value}" for flag, value, default in (("--types", args.types, None),
                                                         ("--sizes", args.sizes, parser.get_default("sizes")),
                                                         ("--over-http", args.over_http, OVER_HTTP))
        if value is not None and value != default)
    with tempfile.TemporaryDirectory() as tmp:
        got = run(sizes, Path(tmp), types)
    names = [type_id(name) for name in types]
    if args.batch:
        text, title = batch_section(sizes, got, command), f"{BATCH_TITLE}: {', '.join(names)}"
    elif args.types:
        text, title = http_section(sizes, got, command), http_title(names)
    else:
        text, title = section(sizes, got, command), TITLE
    print(text)
    if args.write:
        write_section(title, text)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
