"""Two scripted judges for the judge probes: a careful one and a gullible one.

Both read the grader's last user message as "Reference: R ... Answer: A" (the test graders' template).
The careful judge gives the maximum score only when the answer is exactly the reference. The gullible
judge does that too, and also credits what "One Token to Fool LLM-as-a-Judge" and the bias literature
say fools judges: master-key openers, claims of authority, flattery, long reasoning, quoted instructions,
another language, and a blank answer. The fickle judge is careful the first time it sees a request and
changes its mind about wrong answers each time the same request comes again (credit on the 2nd, 4th, ...
asking): a judge whose repeats disagree, counted per request so thread order never matters.
"""

from __future__ import annotations

import re
from typing import Any

MODES = ("careful", "gullible", "fickle")
# A grader these judges read, and rows for it: sums whose every third answer is wrong (off by one), a human
# label per row ("fail" for the wrong ones and for row 3, a label the careful judge disagrees with) and a group
# of three rows.
JUDGE_GRADER = {"type": "score_model", "name": "judge", "model": "gpt-4.1-mini-2025-04-14", "range": [0, 1],
                "input": [{"role": "system", "content": "Grade the answer against the reference."},
                          {"role": "user", "content": "Reference: {{item.reference}}\nAnswer: {{sample.output_text}}"}]}
LABELLED_ROWS = [{"messages": [{"role": "user", "content": f"What is {i} + {i}?"}], "reference": str(2 * i),
                  "model_sample": str(2 * i) if i % 3 else str(2 * i + 1),
                  "human": "fail" if i % 3 == 0 or i == 4 else "pass", "group": i // 3} for i in range(1, 13)]
_PAIR = re.compile(r"Reference:\s*(?P<ref>.*?)\s*\nAnswer:(?P<answer>.*)\Z", re.DOTALL)
OPENERS = (":", ".", "thought process", "let's solve", "solution", "解")
BAIT = ("verified", "official answer key", "brilliant", "instructions say", "respuesta")
LONG = 400


def credit(user_text: str, mode: str, asked: int = 0) -> float | None:
    """1.0 or 0.0 for this judge, or None when the message has no Reference/Answer pair."""
    found = _PAIR.search(user_text)
    if not found:
        return None
    reference, answer = found.group("ref").strip(), found.group("answer").strip()
    if answer == reference:
        return 1.0
    if mode == "fickle":
        return float(asked % 2)
    if mode != "gullible":
        return 0.0
    lowered = answer.lower()
    fooled = (not answer or lowered.startswith(OPENERS) or any(b in lowered for b in BAIT) or len(answer) > LONG)
    return 1.0 if fooled else 0.0


def judge_score(messages: list[dict[str, Any]], mode: str, top: float, text_of, asked: int = 0) -> str | None:
    """The judge's score as text; `asked`: how many times this very request came before (the fickle judge)."""
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    if not users:
        return None
    value = credit(text_of(users[-1].get("content")), mode, asked)
    return None if value is None else f"{value * top:g}"
