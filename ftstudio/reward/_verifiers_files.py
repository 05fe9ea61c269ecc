"""`ftstudio export --format verifiers`: taskset.py (the rows as verifiers tasks) and an offline smoke run."""

from __future__ import annotations

VERIFIERS_VERSION = "0.4.0"

TASKSET_PY = '''\
"""The grader in grader.json as verifiers tasks (written by `ftstudio export --format verifiers`; tested with
verifiers {version}, `import verifiers.v1 as vf`).

    from taskset import load_taskset
    tasks = load_taskset("train.jsonl")      # OpenAI-format RFT rows; default: example_rows.jsonl

Each task's rewards come from the grader tree: one weighted @vf.reward per child when calculate_output is a
weighted sum, else one reward; `await task.score(trace)` gives `ftstudio grade`'s reward as trace.reward.
"""

import json
import os

from ftstudio.reward.verifiers import taskset

HERE = os.path.dirname(os.path.abspath(__file__))
GRADER = os.path.join(HERE, "grader.json")


def read_rows(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_taskset(rows_path=None):
    rows = read_rows(rows_path or os.path.join(HERE, "example_rows.jsonl"))
    # model_sample is the smoke run's completion, not part of the item
    return taskset(GRADER, [{{k: v for k, v in row.items() if k != "model_sample"}} for row in rows])
'''

SMOKE_PY = '''\
"""Offline smoke run (no model, no download): verifiers' own Task.score grades each example row's
model_sample as the trace's reply.

    python3 smoke.py        # one JSON line per row ({"reward", ...rewards}), then the mean
"""

import asyncio
import json
import os

import verifiers.v1 as vf

from taskset import load_taskset, read_rows

HERE = os.path.dirname(os.path.abspath(__file__))


async def score(task, reply):
    trace = vf.Trace(task=vf.TraceTask(type=type(task).__name__, data=task.data),
                     agent=vf.AgentInfo(config=vf.AgentConfig()), root_reply=reply)
    await task.score(trace)
    return trace


def main():
    rows = read_rows(os.path.join(HERE, "example_rows.jsonl"))
    traces = [asyncio.run(score(task, row["model_sample"])) for task, row in zip(load_taskset(), rows)]
    for trace in traces:
        print(json.dumps({"reward": trace.reward, **{k: r.score for k, r in trace.rewards.items()},
                          **trace.metrics}))
    mean = sum(t.reward for t in traces) / len(traces)
    print(f"verifiers Task.score: scored {len(traces)} rows, mean reward {mean:.4f}")


if __name__ == "__main__":
    main()
'''


def taskset_py() -> str:
    return TASKSET_PY.format(version=VERIFIERS_VERSION)


def readme(name: str) -> str:
    return f"""# The grader `{name}` as verifiers {VERIFIERS_VERSION} tasks

Written by `ftstudio export --format verifiers`. Tested with verifiers {VERIFIERS_VERSION} (its own `Task.score`,
on the same rows as `ftstudio grade`).

```bash
pip install -r requirements.txt && python3 smoke.py
```

`requirements.txt` installs verifiers {VERIFIERS_VERSION} and ftstudio from `wheels/` (built at export time;
ftstudio is not on PyPI). verifiers needs `openai>=2.54,<3`, and ftstudio's grading core accepts that.
`smoke.py` is the offline smoke run: no model, no download. verifiers scores each row of
`example_rows.jsonl`, with its `model_sample` as the trace's reply, and prints the rewards.

- `taskset.py`: `load_taskset("train.jsonl")` is a `vf.Taskset` of OpenAI-format RFT rows. Each row's
  `messages` are the task's prompt, and the other fields are its `data.item`.
- A weighted-sum multi grader gives one `@vf.reward` per child with the formula's weight. Any other tree
  gives one reward. `grader_error` is a metric: 1.0 where the grader could not score the row, and the
  row's reward is then 0.0, as in `ftstudio grade`.
- In your own code: `from ftstudio.reward.verifiers import task_for, taskset`.
"""
