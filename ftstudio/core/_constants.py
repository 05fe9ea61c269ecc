"""Values more than one layer relies on; each is named once here."""

from __future__ import annotations

DEFAULT_SAMPLE_FIELD = "model_sample"  # the row field that holds the model output, as in the API's run call
REWARD_TOLERANCE = 1e-6  # two rewards closer than this are the same reward (local vs official, adapters vs CLI)
DEFAULT_CONCURRENCY = 8  # parallel model-grader requests
DEFAULT_MODEL = "gpt-4.1-mini-2025-04-14"  # the model new SFT/DPO configs and new model graders start with
DEFAULT_RFT_MODEL = "o4-mini-2025-04-16"
PULL_MAX_PAGES = 1_000  # pages of the job list one pull reads at most (100 jobs a page)
PULL_DEADLINE_SECONDS = 600.0  # one pull's listing in all: every page, retry and slow read


def sample_field_problem(name: object) -> str | None:
    """Why `name` can't name the row field holding the model's answer (said the same way by every face), or None."""
    if not isinstance(name, str):
        return f"the sample field must be a field name (text), not {type(name).__name__}"
    if not name.strip():
        return (f"the sample field is empty: name the row field that holds the model's answer "
                f"(default \"{DEFAULT_SAMPLE_FIELD}\")")
    return None
