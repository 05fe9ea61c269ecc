"""Example rows for an exported project's offline smoke run, in the job's own OpenAI format.

Reinforcement rows carry every `item.<field>` the grader's templates or python source read (the answer
as its value) and a `model_sample`, so `ftstudio grade grader.json example_rows.jsonl` scores them as
they are; half the samples are right, half wrong, so the batch has a spread of rewards.
"""

from __future__ import annotations

import re
from typing import Any

from ftstudio.graders import template_fields, walk

# (question, answer, a wrong answer): short words, so a tiny word-level tokenizer covers them.
QA = [("What is two plus two ?", "four", "five"), ("What is the capital of France ?", "paris", "london"),
      ("Say hello to the user .", "hello", "goodbye"), ("Is the sky blue ?", "yes", "no")]
_ITEM_FIELD = re.compile(r"item(?:\.|\[['\"])([A-Za-z_][A-Za-z0-9_]*)")


def item_fields(grader: Any) -> list[str]:
    """The item fields the tree reads, in order of appearance (reference_answer when it reads none)."""
    found: list[str] = []
    for _path, node in walk(grader):
        texts = [t for _p, t in template_fields(node)] + ([node.source] if getattr(node, "source", None) else [])
        for text in texts:
            for name in _ITEM_FIELD.findall(text or ""):
                if name not in found:
                    found.append(name)
    return found or ["reference_answer"]


def _user(text: str) -> dict:
    return {"role": "user", "content": text}


def _assistant(text: str) -> dict:
    return {"role": "assistant", "content": text}


def example_rows(method: str, grader: Any = None) -> list[dict]:
    """Four rows in the method's OpenAI format (reinforcement rows with a model_sample to grade)."""
    if method == "supervised":
        return [{"messages": [_user(q), _assistant(f"the answer is {a} .")]} for q, a, _ in QA]
    if method == "dpo":
        return [{"input": {"messages": [_user(q)]}, "preferred_output": [_assistant(a)],
                 "non_preferred_output": [_assistant(wrong)]} for q, a, wrong in QA]
    fields = item_fields(grader) if grader is not None else ["reference_answer"]
    return [{"messages": [_user(q)], **{f: a for f in fields}, "model_sample": a if i % 2 == 0 else wrong}
            for i, (q, a, wrong) in enumerate(QA)]
