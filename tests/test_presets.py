import json
from pathlib import Path

import pytest

from ftstudio.config import JobConfig
from ftstudio.validation import check

PRESETS = sorted(Path(__file__).resolve().parent.parent.joinpath("presets").glob("*.json"))


def test_at_least_eight_covering_the_cases():
    names = {p.stem for p in PRESETS}
    assert len(PRESETS) >= 8
    kinds = set()
    for p in PRESETS:
        cfg = json.loads(p.read_text())["config"]
        kinds.add(cfg["method"]["type"])
        grader = cfg["method"].get("reinforcement", {}).get("grader", {})
        kinds.add(grader.get("type"))
        kinds.update(c["type"] for c in grader.get("graders", {}).values())
    assert {"supervised", "dpo", "reinforcement", "string_check", "text_similarity", "score_model", "python",
            "multi"} <= kinds
    assert "rft-json-extraction" in names and "rft-summarization" in names


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_preset_is_complete_and_valid(path):
    doc = json.loads(path.read_text())
    assert set(doc) == {"title", "description", "config"}
    assert doc["title"].strip() and doc["description"].strip() and "\n" not in doc["description"]
    JobConfig.model_validate(doc["config"])
    errors = [i for i in check(doc["config"]) if i.severity == "error"]
    assert errors == []
