"""verifiers' v1 tasks for a grader tree: `task_for(grader_path, item)` and `taskset(grader_path, rows)`.

A public module (no underscore): it is imported where verifiers is installed (its own venv: verifiers 0.4.0
needs openai>=2.54,<3). Followed and tested: verifiers 0.4.0 (`import verifiers.v1 as vf`), where a reward is
an `async` method tagged `@vf.reward(weight=...)` on a `vf.Task`, `await task.score(trace)` runs them on the
trace, and `trace.reward` is the weighted sum of what they returned.

The grader becomes a Task class: when the multi grader's calculate_output is a weighted sum of its children,
one reward per child with the formula's weight (verifiers logs each); otherwise one reward, the grader's own
output, weight 1. Either way `trace.reward` is `ftstudio grade`'s reward for the row, with the completion as
the trace's last reply; a row the grader could not score gives 0.0 for every reward and 1.0 for the
`grader_error` metric. The task's `data` carries the item (`data.item`) and the grader file (`data.grader`).
"""

# verifiers is not a dependency of ftstudio (it pins openai<3): this module is checked where it is installed.
# pyright: reportMissingImports=false, reportAttributeAccessIssue=false

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Mapping
from typing import Any

import verifiers.v1 as vf

from ftstudio.graders import MultiGrader
from ftstudio.reward import reward_at, weights_of  # absolute: trainers may load this file by path

__all__ = ["GraderData", "task_for", "taskset"]

_PROMPT_KEYS = ("messages", "prompt")


class GraderData(vf.TaskData):
    """A row: the prompt, the grader's item and the grader file."""

    item: dict[str, Any] = {}
    grader: str = ""


def _components(grader: Any) -> dict[str, float] | None:
    """{child: weight} when the tree is a weighted sum of its children, else None (one reward)."""
    if not isinstance(grader, MultiGrader):
        return None
    try:
        return weights_of(grader)
    except ValueError:
        return None


class _GraderTask(vf.Task[GraderData]):
    """Grades each trace once, whatever number of rewards read the record."""

    def _record(self, trace: Any) -> asyncio.Future:
        cache = self.__dict__.setdefault("_records", {})
        key = id(trace)
        if key not in cache:
            reward = reward_at(self.data.grader)
            completion = trace.last_reply or ""
            cache[key] = asyncio.ensure_future(
                asyncio.to_thread(lambda: reward.score_detailed([completion], [dict(self.data.item)])[0]))
        return cache[key]

    @vf.metric
    async def grader_error(self, trace) -> float:
        return 1.0 if (await self._record(trace))["errors"] else 0.0


def _child_reward(key: str, weight: float):
    async def fn(self, trace) -> float:
        record = await self._record(trace)
        return 0.0 if record["errors"] else float(record["sub_rewards"][key])

    fn.__name__ = fn.__qualname__ = key
    return vf.reward(fn, weight=weight)


def _whole_reward(name: str):
    async def fn(self, trace) -> float:
        return float((await self._record(trace))["reward"])

    fn.__name__ = fn.__qualname__ = name
    return vf.reward(fn, weight=1.0)


_classes: dict[tuple[str, float], type] = {}


def task_class(grader_path: str | os.PathLike[str]) -> type:
    """The Task class of the grader file (one per file version): its rewards follow the tree."""
    path = os.path.abspath(os.fspath(grader_path))
    reward = reward_at(path)
    key = (path, os.stat(path).st_mtime)
    if key not in _classes:
        weights = _components(reward.grader)
        name = reward.name
        methods = ({k: _child_reward(k, w) for k, w in weights.items()} if weights is not None
                   else {name: _whole_reward(name)})
        _classes[key] = type(f"GraderTask[{name}]", (_GraderTask,), methods)
    return _classes[key]


def _split(row: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
    prompt = next((row[k] for k in _PROMPT_KEYS if k in row), None)
    return prompt, {k: v for k, v in row.items() if k not in _PROMPT_KEYS}


def task_for(grader_path: str | os.PathLike[str], item: Mapping[str, Any]) -> Any:
    """A vf.Task for one row. `item` is the grader's item; an OpenAI-format row works too (its `messages`
    become the task's prompt, every other field the item). `await task.score(trace)` sets `trace.reward`."""
    cls = task_class(grader_path)
    prompt, fields = _split(item)
    # TaskData.artifact_max_bytes has a default, given positionally to pydantic's Field, which pyright's
    # dataclass_transform doesn't read as one: verifiers itself builds TaskData without it.
    data = GraderData(prompt=prompt, item=fields,  # pyright: ignore[reportCallIssue]
                      grader=os.path.abspath(os.fspath(grader_path)))
    return cls(data)


class _Rows(vf.Taskset):
    def __init__(self, grader_path: str, rows: list[Mapping[str, Any]]):
        super().__init__(vf.TasksetConfig())
        self.grader_path, self.rows = grader_path, rows

    def load(self) -> Iterable[Any]:
        for row in self.rows:
            yield task_for(self.grader_path, row)


def taskset(grader_path: str | os.PathLike[str], rows: Iterable[Mapping[str, Any]]) -> Any:
    """A vf.Taskset of the rows (OpenAI-format RFT rows, or items), one task_for(...) each."""
    return _Rows(os.fspath(grader_path), list(rows))
