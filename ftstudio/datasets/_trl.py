"""OpenAI fine-tuning JSONL rows -> TRL dataset rows (SFTTrainer, DPOTrainer, GRPOTrainer).

- supervised: `messages` stay conversational `messages` (TRL's language-modelling format); `tools`
  is kept (chat templates render it); the per-message `weight` key is dropped: TRL has no
  per-turn loss weight, it trains on every assistant turn (`assistant_only_loss`) or the whole chat.
- dpo: `input.messages` -> `prompt`, `preferred_output` -> `chosen`, `non_preferred_output` ->
  `rejected` (TRL's conversational preference format).
- reinforcement: `messages` -> `prompt`; every other field stays as a column, which GRPOTrainer
  hands to reward functions as keyword arguments (the grader's `item`).

A row that can't be converted raises TrlRowError naming what is wrong; `read_trl` adds the line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ._read import iter_rows

TRL_METHODS = ("supervised", "dpo", "reinforcement")
# GRPOTrainer passes these itself: a column with one of the first three names is a duplicate keyword
# argument (TypeError), one of the others is silently overwritten (trl 1.16 grpo_trainer.py).
RESERVED_COLUMNS = ("prompts", "completions", "completion_ids", "trainer_state", "log_extra", "log_metric",
                    "environments")


class TrlRowError(ValueError):
    """One row that can't become a TRL row; `line` is set when it came from a file."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(f"line {line}: {message}" if line is not None else message)
        self.message, self.line = message, line


def _messages(value: Any, where: str) -> list[dict]:
    if not isinstance(value, list) or not value or not all(isinstance(m, dict) and "role" in m for m in value):
        raise TrlRowError(f"{where} must be a non-empty list of {{\"role\", \"content\"}} messages")
    return [{k: v for k, v in m.items() if k != "weight"} for m in value]


def to_trl_row(row: dict, method: str) -> dict:
    """One OpenAI-format row as the row TRL's trainer for `method` reads."""
    if method not in TRL_METHODS:
        raise ValueError(f"unknown method {method!r}; one of {', '.join(TRL_METHODS)}")
    if not isinstance(row, dict):
        raise TrlRowError(f"a row is a JSON object, not {type(row).__name__}")
    if method == "supervised":
        out: dict[str, Any] = {"messages": _messages(row.get("messages"), "messages")}
        if row.get("tools"):
            out["tools"] = row["tools"]
        return out
    if method == "dpo":
        inp = row.get("input")
        if not isinstance(inp, dict):
            raise TrlRowError('input must be an object holding "messages"')
        out = {"prompt": _messages(inp.get("messages"), "input.messages"),
               "chosen": _messages(row.get("preferred_output"), "preferred_output"),
               "rejected": _messages(row.get("non_preferred_output"), "non_preferred_output")}
        if inp.get("tools"):
            out["tools"] = inp["tools"]
        return out
    clash = sorted(k for k in row if k in RESERVED_COLUMNS or k == "prompt")
    if clash:
        raise TrlRowError(f"field {clash[0]!r} clashes with an argument GRPOTrainer passes to reward functions; "
                          "rename it in the data and in the grader's templates")
    return {"prompt": _messages(row.get("messages"), "messages"),
            **{k: v for k, v in row.items() if k != "messages"}}


def to_trl_rows(rows: Iterable[dict], method: str) -> list[dict]:
    return [to_trl_row(r, method) for r in rows]


def iter_trl(path: str, method: str) -> Iterator[tuple[int, dict | TrlRowError]]:
    """(line, TRL row) for every row of an OpenAI-format file, or (line, TrlRowError) for a bad one.
    File-level problems raise DatasetError."""
    for chunk in iter_rows(path, max_bytes=None):
        for e in chunk.errors:
            yield e.line, TrlRowError(e.message, e.line)
        for line, row in zip(chunk.lines, chunk.rows):
            try:
                yield line, to_trl_row(row, method)
            except TrlRowError as exc:
                yield line, TrlRowError(exc.message, line)


def read_trl(path: str, method: str) -> list[dict]:
    """All rows of an OpenAI-format file as TRL rows; the first bad row raises TrlRowError (with its line)."""
    out = []
    for _, row in sorted(iter_trl(path, method), key=lambda e: e[0]):
        if isinstance(row, TrlRowError):
            raise TrlRowError(f"{path}: {row.message}", row.line)
        out.append(row)
    return out
