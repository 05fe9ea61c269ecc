"""Reward: a grader tree as a reward function, scored by the same engine as `ftstudio grade`.

One Reward holds one GradingSession, so python graders keep their warm sandbox workers across
calls (a trainer calls once per generation batch) and model graders share one bounded runner
whose requests run concurrently. Calls are serialised by a lock: trainers such as verl may call
from several threads, and a session's pools are not meant to be shared mid-call.
"""

from __future__ import annotations

import atexit
import threading
import weakref
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any, cast

from ftstudio.config import ImportProblem, NoGrader, grader_of, read_json_file
from ftstudio.core import DEFAULT_SAMPLE_FIELD, Issue, sample_field_problem
from ftstudio.grading import (
    GradeOptions,
    GradeResults,
    GradingSession,
    InvalidGrader,
    Planned,
    RowRecord,
    completion_text,
    plain_texts,
)

from ._trl import (
    AsyncRewardFunction,
    RewardFunction,
    item_column,
    item_rows,
    trl_async_function,
    trl_components,
    trl_function,
)


def _load_document(grader: Any) -> tuple[Any, str]:
    if isinstance(grader, dict):
        return cast(dict[str, Any], grader), "the grader"
    if hasattr(grader, "model_dump"):  # a grader model
        return grader, "the grader"
    path = Path(grader)
    try:
        return read_json_file(path), str(path)
    except OSError as exc:
        raise FileNotFoundError(f"cannot read grader file {path}: {exc.strerror or exc}") from None
    except ImportProblem as exc:
        raise InvalidGrader([Issue(path="", severity="error", code="unreadable_json", message=f"{path}: {exc.message}",
                                   blocks_grading=True)]) from None


class Reward:
    """Use `Reward.load(...)`. Close it (or use `with`) to stop python-grader workers; it also closes at exit."""

    def __init__(self, session: GradingSession):
        self.session = session
        self.grader = session.grader
        self.sample_field = session.sample_field
        self._lock = threading.Lock()
        self._finalizer = weakref.finalize(self, session.close)
        atexit.register(self._finalizer)

    @classmethod
    def load(cls, grader: Any, *, sample_field: str = DEFAULT_SAMPLE_FIELD,
             options: GradeOptions | None = None) -> Reward:
        """`grader`: a path to a grader / job config / preset JSON file, a dict, or a grader model.
        Raises InvalidGrader (with `.issues`) when the engine can't evaluate the tree, ValueError for an empty
        `sample_field`."""
        problem = sample_field_problem(sample_field)
        if problem:
            raise ValueError(problem)
        data, where = _load_document(grader)
        if isinstance(data, dict):
            try:
                data = grader_of(data, where)
            except NoGrader as exc:
                raise InvalidGrader(exc.issues) from None
        return cls(GradingSession(data, sample_field, options))

    @property
    def name(self) -> str:
        return self.grader.name or self.grader.type

    # --- scoring ------------------------------------------------------------------------------

    def _rows(self, completions: Sequence[Any], items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(completions) != len(items):
            raise ValueError(f"{len(completions)} completions but {len(items)} items: give one item per completion")
        sf = self.sample_field
        return [{**item, sf: completion_text(c)} for c, item in zip(completions, items)]

    def grade(self, completions: Sequence[Any], items: Sequence[dict[str, Any]]) -> GradeResults:
        """The full GradeResults of these rows (what `ftstudio grade` computes for them)."""
        rows = self._rows(completions, items)
        with self._lock:
            return self.session.grade(rows)

    def score_columns(self, completions: Sequence[Any], columns: dict[str, Any]) -> Planned | GradeResults | None:
        """(rewards, a multi's child scores) as `grade` computes them, from the engine's small-call plan, for a
        trainer's call given as dataset columns (TRL's keyword lists); `grade`'s GradeResults when a python node
        ran and a row has an error (GradingSession.score_columns); None when the grader or these rows need the
        engine: call `grade`. A plan with a python node runs the session's pools: under the lock, as `grade`."""
        texts = plain_texts(completions)
        if texts is None:
            return None
        n, sf = len(texts), self.sample_field
        column = item_column(columns, n, sf)
        if not self.session.plan_runs_code:
            return self.session.score_columns(texts, column)  # no lock: such a plan holds no pools
        with self._lock:
            return self.session.score_columns(texts, column, partial(item_rows, columns, n, sf))

    def score(self, completions: Sequence[Any], items: Sequence[dict[str, Any]]) -> list[float]:
        """One reward per completion, exactly `ftstudio grade`'s; rows with errors score 0.0.
        A completion is a string or a conversation (its last assistant message is scored)."""
        return list(self.grade(completions, items).rewards)

    def score_detailed(self, completions: Sequence[Any], items: Sequence[dict[str, Any]]) -> list[RowRecord]:
        """The records `ftstudio grade --out` writes: row, reward, sub_rewards, errors, error_details."""
        return list(self.grade(completions, items).records())

    # --- trainer faces (see _trl.py) ------------------------------------------------------------

    def for_trl(self, *, on_error: float | None = 0.0) -> RewardFunction:
        """A reward function with GRPOTrainer's signature; see ftstudio.reward for the contract."""
        return trl_function(self, on_error=on_error)

    def for_trl_async(self, *, on_error: float | None = 0.0) -> AsyncRewardFunction:
        """The same as an `async` function: TRL gathers async reward functions concurrently and the grading
        runs in a thread, so model graders' requests for the batch go out together."""
        return trl_async_function(self, on_error=on_error)

    def trl_components(self, *, asynchronous: bool = False) -> tuple[list[RewardFunction | AsyncRewardFunction], list[float]]:
        """(funcs, weights) for GRPOConfig(reward_weights=weights) when calculate_output is a weighted
        sum of the children; ValueError saying why otherwise. `asynchronous=True`: for_trl_async functions."""
        return trl_components(self, type(self).load, asynchronous)

    # --- lifetime ------------------------------------------------------------------------------

    def close(self) -> None:
        self._finalizer()

    def __enter__(self) -> Reward:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Reward({self.grader.type} {self.grader.name!r})"
