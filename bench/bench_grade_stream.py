"""`ftstudio grade` against its floor (issue 23): a hand-written streaming script, and start-up against Python's.

- Grade: `ftstudio grade string_check DATA --out OUT.jsonl` against a plain script that reads the same JSONL
  line by line (json.loads), compares the two fields, writes the same record per row (json.dumps) and keeps a
  running mean. Each run is a fresh process under a small wrapper that reports the child's peak RSS
  (`ru_maxrss`) and CPU (user + system). The two alternate; medians. Goals at 1M rows: peak RSS ≤ 100 MiB,
  CPU ≤ 1.5x the floor's.
- Start-up: `python -c pass` against `ftstudio --help`, `ftstudio grade --help` and `ftstudio grade` of one
  string_check row, pydantic's floor (its import; one model built and validated: what validating the grader with
  pydantic would cost) and the import floor (the one-row grade's modules imported alone: see
  grade_modules), alternating, medians
  (bytecode caches written first: PYTHONDONTWRITEBYTECODE is dropped for these runs). Goal ≤ 3x.

Measures only; nothing here is asserted in tests. With --write, replaces the "Grade against the floor"
section of bench/README.md.

    python bench/bench_grade_stream.py                 # 1M rows, 3 runs each; start-up 15 runs each
    python bench/bench_grade_stream.py --quick         # 100k rows
    python bench/bench_grade_stream.py --write
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _readme import write_section

TITLE, SCALE_TITLE = "Grade against the floor", "Scaling"
REPO = Path(__file__).resolve().parents[1]
WORDS = "the model answer reference grader score reward value token sample item field output quick brown fox".split()
STRING_CHECK = {"type": "string_check", "name": "exact", "input": "{{sample.output_text}}",
                "reference": "{{item.answer}}", "operation": "eq"}

# The floor under any grade that validates its grader with pydantic: importing it, and one model of string_check's
# shape built and validating a node (what `ftstudio grade` of one string_check row does with pydantic).
PYDANTIC_IMPORT, PYDANTIC_MODEL = "python -c 'from pydantic import BaseModel'", "one pydantic model validated"
# What the grade's reader brings in by itself: orjson imports dataclasses (with inspect), uuid (with platform),
# datetime and zoneinfo as it loads.
ORJSON_IMPORT = "python -c 'import orjson'"
# The import floor: the modules the one-row grade loads, imported alone (pydantic's left out, should it load).
IMPORT_FLOOR = "the one-row grade's modules, imported alone"
PYDANTIC_FAMILY = ("pydantic", "pydantic_core", "annotated_types", "typing_inspection")
_IMPORT_ALL = """
import importlib, sys
failed = set()
class LeftOut:  # pydantic is not there: a module that imports it at its top is left out with it, once
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in %r or name in failed:
            raise ImportError(name)
sys.meta_path.insert(0, LeftOut())
for name in %r:
    try:
        importlib.import_module(name)
    except ImportError:
        failed.add(name)
"""
_ONE_MODEL = """
from typing import Literal
from pydantic import BaseModel, ConfigDict
class StringCheck(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    type: Literal["string_check"] = "string_check"
    name: str | None = None
    input: str
    reference: str
    operation: Literal["eq", "ne", "like", "ilike"]
StringCheck.model_validate({"name": "exact", "input": "{{sample.output_text}}", "reference": "{{item.answer}}",
                            "operation": "eq"})
"""

# Runs one command; prints rc, wall time, the child's peak RSS (kB) and CPU seconds (user + system).
_WRAPPER = """
import resource, subprocess, sys, time
t = time.perf_counter()
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
wall = time.perf_counter() - t
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(rc, wall, u.ru_maxrss, u.ru_utime + u.ru_stime)
"""

# The floor: what a user would write to get the same records and the mean.
FLOOR = r"""
import json, sys
total = n = 0
with open(sys.argv[1], encoding="utf-8") as src, open(sys.argv[2], "w", encoding="utf-8") as out:
    for i, line in enumerate(src):
        row = json.loads(line)
        reward = 1.0 if row["model_sample"] == row["answer"] else 0.0
        out.write(json.dumps({"row": i, "reward": reward, "sub_rewards": {}, "errors": [], "error_details": None,
                              "line": i + 1}, ensure_ascii=False) + "\n")
        total += reward
        n += 1
print(n, total / n)
"""


def make_data(path: Path, n: int) -> None:
    rnd = random.Random(1)
    with path.open("w") as fh:
        for i in range(n):
            ref = " ".join(rnd.choice(WORDS) for _ in range(12))
            ans = ref if rnd.random() < 0.5 else " ".join(rnd.choice(WORDS) for _ in range(12))
            fh.write(json.dumps({"messages": [{"role": "user", "content": f"question {i % 50000}"}],
                                 "answer": ref, "model_sample": ans}) + "\n")


def measure(cmd: list[str], env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", _WRAPPER, *cmd], capture_output=True, text=True, env=env, check=True)
    rc, wall, rss, cpu = out.stdout.split()
    if rc != "0":
        raise RuntimeError(f"{cmd} exited {rc}")
    return {"wall": float(wall), "rss_mib": int(rss) / 1024, "cpu": float(cpu)}


def env_of() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # users run with bytecode caches; so do these runs
    return env


def grade_vs_floor(n: int, runs: int, tmp: Path) -> dict:
    data, grader, floor = tmp / "data.jsonl", tmp / "g.json", tmp / "floor.py"
    make_data(data, n)
    grader.write_text(json.dumps(STRING_CHECK))
    floor.write_text(FLOOR)
    env = env_of()
    ours_cmd = [sys.executable, "-m", "ftstudio", "grade", str(grader), str(data), "--out", str(tmp / "a.jsonl")]
    floor_cmd = [sys.executable, str(floor), str(data), str(tmp / "b.jsonl")]
    measure(ours_cmd, env)  # bytecode caches
    if (tmp / "a.jsonl").read_bytes() != (measure(floor_cmd, env) and (tmp / "b.jsonl").read_bytes()):
        raise AssertionError("the floor's records differ from ftstudio's")
    ours, theirs = [], []
    for i in range(runs):
        pair = ((ours_cmd, ours), (floor_cmd, theirs)) if i % 2 else ((floor_cmd, theirs), (ours_cmd, ours))
        for cmd, got in pair:
            got.append(measure(cmd, env))
    med = {side: {k: statistics.median(r[k] for r in rs) for k in ("wall", "rss_mib", "cpu")}
           for side, rs in (("ours", ours), ("floor", theirs))}
    med["size_mb"] = data.stat().st_size / 1e6
    return med


_MODULES_OF = """
import json, runpy, sys
out, sys.argv = sys.argv[1], sys.argv[2:]
try:
    if sys.argv[0] == "-c":
        exec(sys.argv[1])
    else:
        runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
except SystemExit:
    pass
with open(out, "w") as fh:
    json.dump(list(sys.modules), fh)
"""


def modules_of(cmd: list[str], env: dict[str, str], tmp: Path) -> list[str]:
    """The modules `python -m MODULE ARGS` or `python -c CODE` has loaded when it ends, in import order."""
    out = tmp / "modules.json"
    args = cmd[2:] if cmd[1] == "-m" else cmd[1:]
    subprocess.run([sys.executable, "-c", _MODULES_OF, str(out), *args], env=env, stdout=subprocess.DEVNULL,
                   check=True)
    return json.loads(out.read_text())


def grade_modules(cmd: list[str], env: dict[str, str], tmp: Path) -> list[str]:
    """The modules `cmd` has loaded when it ends, less pydantic's packages (should any have loaded)."""
    return [m for m in modules_of(cmd, env, tmp) if m.partition(".")[0] not in PYDANTIC_FAMILY
            and m != "__main__" and not m.endswith(".__main__")]


def startup(runs: int, tmp: Path) -> dict[str, float]:
    env = env_of()
    one, grader = tmp / "one.jsonl", tmp / "g1.json"
    make_data(one, 1)
    grader.write_text(json.dumps(STRING_CHECK))
    cmds = {"python -c pass": [sys.executable, "-c", "pass"],
            "ftstudio --help": [sys.executable, "-m", "ftstudio", "--help"],
            "ftstudio grade --help": [sys.executable, "-m", "ftstudio", "grade", "--help"],
            "ftstudio grade of one row": [sys.executable, "-m", "ftstudio", "grade", str(grader), str(one)],
            PYDANTIC_IMPORT: [sys.executable, "-c", "from pydantic import BaseModel"],
            PYDANTIC_MODEL: [sys.executable, "-c", _ONE_MODEL],
            ORJSON_IMPORT: [sys.executable, "-c", "import orjson"]}
    cmds[IMPORT_FLOOR] = [sys.executable, "-c", _IMPORT_ALL % (
        PYDANTIC_FAMILY, grade_modules(cmds["ftstudio grade of one row"], env, tmp))]
    for c in cmds.values():
        subprocess.run(c, env=env, stdout=subprocess.DEVNULL, check=True)
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for i in range(runs):
        for name, c in (cmds.items() if i % 2 else reversed(cmds.items())):
            times[name].append(measure(c, env)["wall"])
    return {k: statistics.median(v) for k, v in times.items()}


def conditions() -> str:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return (f"{datetime.date.today().isoformat()} on {platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (the cores are "
            "shared with other jobs: absolute figures move, the ratios of alternating runs much less)")


def section(n: int, runs: int, g: dict, s: dict[str, float], command: str) -> str:
    o, f = g["ours"], g["floor"]
    base = s["python -c pass"]
    one_row = "met" if s["ftstudio grade of one row"] <= 3 * base else "NOT met"
    rows = [f"| `ftstudio grade` string_check --out, peak RSS | {n:,} rows ({g['size_mb']:,.0f} MB) | "
            f"{o['rss_mib']:,.1f} MiB | {f['rss_mib']:,.1f} MiB | {o['rss_mib'] / f['rss_mib']:.1f}x | ≤ 100 MiB | "
            f"{'met' if o['rss_mib'] <= 100 else 'NOT met'} |",
            f"| `ftstudio grade` string_check --out, CPU (user + system) | {n:,} rows | {o['cpu']:.2f} s | "
            f"{f['cpu']:.2f} s | {o['cpu'] / f['cpu']:.2f}x | ≤ 1.5x | {'met' if o['cpu'] <= 1.5 * f['cpu'] else 'NOT met'} |"]
    for name in ("ftstudio --help", "ftstudio grade --help", "ftstudio grade of one row", PYDANTIC_IMPORT,
                 PYDANTIC_MODEL, ORJSON_IMPORT, IMPORT_FLOOR):
        r = s[name] / base
        goal = ("≤ 3x" if name.startswith("ftstudio") else "(the import floor)" if name == IMPORT_FLOOR
                else "(the reader's own imports)" if name == ORJSON_IMPORT else "(pydantic's floor)")
        verdict = ("met" if r <= 3 else "NOT met") if name.startswith("ftstudio") else ""
        rows.append(f"| `{name}`, start-up (wall) | {runs} runs each | {1000 * s[name]:.0f} ms | "
                    f"{1000 * base:.0f} ms (`python -c pass`) | {r:.2f}x | {goal} | {verdict} |")
    return f"""## {TITLE}

`ftstudio grade` in flat memory (issue 23): records are written as each chunk of 10,000 rows is graded, the
summary comes from running aggregates (every reward kept, 8 bytes a row, up to 1,000,000 rows, so the
summary is exact; past that a sketch whose quantiles are within 0.5 % of the value at their rank, which the
summary says), identical-item groups from one 64-bit key per row (spilled to 16 partition files past
1,000,000 rows). The floor is a plain script writing the same records (checked byte for byte) and the mean:
json.loads per line, a comparison, json.dumps per record. Fresh processes, alternating, medians.

Measured {conditions()}, with `{command}`:

| what | size | ftstudio | floor | ratio | goal | |
| --- | --- | ---: | ---: | ---: | --- | --- |
{chr(10).join(rows)}

- Wall times: ftstudio {o['wall']:.1f} s, the floor {f['wall']:.1f} s (median).
- Peak memory is Python with numpy and the grader models imported (about 50 MiB), one chunk of rows as
  Python objects (about 25 MiB) and the per-row arrays (16 bytes a row: reward and group key); the floor
  holds one row at a time.
- Start-up: the faces (core, graders, grading, api, config, probes, validation, targets) import
  each name on first use and the command modules import their domain inside the command, so building the
  parser reads constants only (and only the invoked command's module builds its arguments; cli/_commands lists
  the others), and a grade imports what it uses: a one-row string_check run imports no numpy
  (its summary, calibration and groups are plain Python with numpy's arithmetic up to 10,000 rows), no model
  client (asyncio, sqlite3, openai), sandbox, logging, formula language or other target's export, and no
  pydantic: a grader whose values all have exactly their declared types is validated by its model itself
  (graders/_light.py; pydantic's model of the same declaration is built only for what does not fit, a JSON
  schema, or a pydantic model holding a grader) (tests/test_grade_streaming.py checks both import sets,
  tests/test_light_models.py that the two validations agree). Importing pydantic would cost
  {s[PYDANTIC_IMPORT] / base:.1f}x `python -c pass` and one pydantic model validated
  {s[PYDANTIC_MODEL] / base:.1f}x, so the goal can only be met without it.
- What is left is ftstudio's own: "{IMPORT_FLOOR}" imports, in a fresh process, every module the one-row
  grade has loaded when it ends (pydantic's packages refused, should any have loaded): {s[IMPORT_FLOOR] / base:.1f}x
  against the grade's {s["ftstudio grade of one row"] / base:.1f}x, so a one-row grade is its imports (building the
  parser, validating, grading and reporting one row are within the noise of these runs). The one-row goal is
  {one_row}. What brought it there: record classes are `@datarecord`s (core/records.py: a dataclass's methods
  with one compile instead of six; some thirty load on this path); a grader type's or a target's module is
  imported when it is first named (core.Plugins: this grade imports string_check's, multi's and openai's), and
  the rules registry is built on first need; the commands argv does not invoke get no parser (argparse calls
  gettext three times for each); argparse's formatter measures the terminal without shutil; csv and hashlib
  are imported only for CSV files and Ray's keys; the process freezes what is alive before it exits, so the
  interpreter's last collections walk nothing (the import floor's process does not, which is most of why it
  is slower than the grade itself). Of what is
  left, orjson's own imports are {s[ORJSON_IMPORT] / base:.1f}x `python -c pass` (dataclasses with inspect, uuid
  with platform, datetime, zoneinfo), the reader's, which stdlib json cannot replace without changing which rows
  are errors (NaN, integers past 64 bits).
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 rows, 2 runs; start-up 6 runs")
    parser.add_argument("--write", action="store_true", help="update bench/README.md")
    args = parser.parse_args(argv)
    n, runs, starts = (100_000, 2, 6) if args.quick else (1_000_000, 4, 15)
    with tempfile.TemporaryDirectory() as tmp:
        g = grade_vs_floor(n, runs, Path(tmp))
        s = startup(starts, Path(tmp))
    print(json.dumps({"grade": g, "startup": s}, indent=1))
    if args.write:
        write_section(TITLE, section(n, starts, g, s, "python bench/bench_grade_stream.py"
                                     + (" --quick" if args.quick else "")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
