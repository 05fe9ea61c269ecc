"""Reward-function overhead: one TRL-shaped call (64 conversational completions, dataset columns,
trainer_state / log_metric) of `Reward.for_trl()`, p50 and p90 over many calls.

Targets (issue 12): string_check p50 ≤ 2 ms; multi(string_check, rouge_l, python) with a warm pool
≤ 20 ms. The reference, measured in the same run, is the engine alone (`GradingSession.grade` on the
same 64 rows already built as dicts), so "adapter cost" is what the TRL face adds. With --write,
replaces the "Reward functions (TRL call)" section of bench/README.md.

    python bench/bench_reward.py            # 300 calls per grader
    python bench/bench_reward.py --quick    # 50 calls
    python bench/bench_reward.py --write    # also update bench/README.md
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import time

from _readme import write_section

from ftstudio.reward import Reward

N = 64
TITLE = "Reward functions (TRL call)"
_WORDS = "the model answer is correct because the total cost rises by ten percent each year".split()
STRING_CHECK = {"type": "string_check", "name": "exact", "input": "{{ sample.output_text }}",
                "reference": "{{ item.reference_answer }}", "operation": "eq"}
MULTI = {
    "type": "multi", "name": "mixed",
    "graders": {
        "exact": STRING_CHECK,
        "rouge": {"type": "text_similarity", "name": "rouge", "input": "{{ sample.output_text }}",
                  "reference": "{{ item.reference_answer }}", "evaluation_metric": "rouge_l"},
        "length": {"type": "python", "name": "length",
                   "source": "def grade(sample, item):\n    return min(1.0, len(sample['output_text']) / 100)\n"},
    },
    "calculate_output": "0.5 * exact + 0.3 * rouge + 0.2 * length",
}
TARGETS_MS = {"string_check": 2.0, "multi(string_check, rouge_l, python)": 20.0}


class _State:
    global_step = 0


def trl_call_args(i: int) -> dict:
    texts = [" ".join(_WORDS[(i + r + k) % len(_WORDS)] for k in range(12)) for r in range(N)]
    return {"prompts": [[{"role": "user", "content": f"question {r}"}] for r in range(N)],
            "completions": [[{"role": "assistant", "content": t}] for t in texts],
            "completion_ids": [[1] * 12 for _ in range(N)],
            "reference_answer": [" ".join(_WORDS[:12])] * N,
            "trainer_state": _State(), "log_extra": lambda *a: None, "log_metric": lambda *a: None}


def percentiles(times: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(times, n=10)
    return statistics.median(times) * 1000, q[8] * 1000


def measure(grader: dict, calls: int) -> dict:
    with Reward.load(grader) as reward:
        f = reward.for_trl()
        args = [trl_call_args(i) for i in range(calls)]
        f(**args[0])  # warm: python workers started, metric tables loaded
        trl = []
        for a in args:
            t = time.perf_counter()
            f(**a)
            trl.append(time.perf_counter() - t)
        rows = [[{"reference_answer": a["reference_answer"][r], "model_sample": a["completions"][r][0]["content"]}
                 for r in range(N)] for a in args]
        engine = []
        for r in rows:
            t = time.perf_counter()
            reward.session.grade(r)
            engine.append(time.perf_counter() - t)
    p50, p90 = percentiles(trl)
    e50, _ = percentiles(engine)
    return {"p50": p50, "p90": p90, "engine_p50": e50, "calls": calls}


def table(results: dict[str, dict]) -> str:
    lines = ["| grader | calls | p50 (ms) | p90 (ms) | target p50 (ms) | engine alone p50 (ms) | adapter cost p50 (ms) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['calls']} | {r['p50']:.2f} | {r['p90']:.2f} | {TARGETS_MS[name]:.0f} | "
                     f"{r['engine_p50']:.2f} | {r['p50'] - r['engine_p50']:.2f} |")
    return "\n".join(lines)


def section(results: dict[str, dict], command: str) -> str:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"""## {TITLE}

One call of `Reward.load(grader).for_trl()` as GRPOTrainer makes it: {N} conversational completions,
a `reference_answer` column, `trainer_state`, `log_extra` and `log_metric` (each sub-reward's mean is
logged). The python grader's workers are warm (started by a first call that is not timed). The
reference is the engine alone on the same {N} rows, already built as dicts, in the same run. A tree without
python or model nodes (string_check here) is answered by the engine's small-call plan, compiled when the
reward loads (grading/_plan.py): the same rewards, without the whole-column set-up per call.

Measured {datetime.date.today().isoformat()} on {machine} (load average {load:.1f}: the machine is shared),
with `{command}`:

{table(results)}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50 calls per grader")
    parser.add_argument("--write", action="store_true", help="update bench/README.md")
    args = parser.parse_args(argv)
    calls = 50 if args.quick else 300
    results = {"string_check": measure(STRING_CHECK, calls),
               "multi(string_check, rouge_l, python)": measure(MULTI, calls)}
    command = "python bench/bench_reward.py" + (" --quick" if args.quick else "")
    print(table(results))
    ok = all(r["p50"] <= TARGETS_MS[name] for name, r in results.items())
    print("targets met" if ok else "TARGET MISSED")
    if args.write:
        write_section(TITLE, section(results, command))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
