"""Is this document a dataset rather than a config? The app's Import JSON box answers a dropped dataset with
where it goes (Test grading) instead of a config error."""

from __future__ import annotations

from ftstudio.core import decode_json

_SNIFF_LINES = 3  # rows looked at: a dataset's first lines are enough to tell


def looks_like_rows(raw: bytes, name: str = "") -> bool:
    """True for a dataset: a .csv, a JSON array of objects, or JSON Lines (two or more lines, each an object).
    A single JSON object (a config, a grader, a preset) is not one."""
    if name.lower().endswith(".csv"):
        return True
    text = raw.decode("utf-8", "replace").lstrip("\ufeff")
    whole, problem = decode_json(text)
    if problem is None:
        return isinstance(whole, list) and bool(whole) and all(isinstance(r, dict) for r in whole[:_SNIFF_LINES])
    lines = [line for line in text.splitlines() if line.strip()][:_SNIFF_LINES]
    if len(lines) < 2:
        return False
    return all(isinstance(decode_json(line)[0], dict) for line in lines)
