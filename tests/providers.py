"""Helpers for the provider-target tests: the `[providers]` extra (google-genai, botocore), the corpus, and a
local reading of Gemini's scorers as google-genai 3.6.1 documents them.

Without the extra the tests that need it skip, unless FTSTUDIO_REQUIRE_PROVIDERS=1 (set by .ci/run),
where its absence is a failure.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("FTSTUDIO_CONFORMANCE_DIR") or ROOT.parent / "shared" / "conformance" / "external")
QUIZ = ROOT / "ftstudio" / "data" / "examples" / "reinforcement-quiz.jsonl"
PRESETS = sorted((ROOT / "presets").glob("rft-*.json"))


def need(module: str) -> Any:
    """Import a package of the [providers] extra, or skip (fail under FTSTUDIO_REQUIRE_PROVIDERS=1)."""
    if importlib.util.find_spec(module.split(".")[0]) is None:
        message = f"the [providers] extra is missing ({module}): pip install -e '.[providers]'"
        if os.environ.get("FTSTUDIO_REQUIRE_PROVIDERS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return importlib.import_module(module)


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def grader_of(doc: Any) -> Any:
    doc = doc.get("config", doc) if isinstance(doc, dict) and "title" in doc else doc
    if isinstance(doc, dict) and "method" in doc:
        return ((doc.get("method") or {}).get("reinforcement") or {}).get("grader")
    return doc


# --- Gemini's scorers, as documented --------------------------------------------------------------

def _clip(x: float) -> float:
    return max(min(x, 1.0), -1.0)


def _substitute(expression: str, refs: dict[str, str]) -> str:
    return re.sub(r"\{\{references\.([A-Za-z0-9_]+)\}\}", lambda m: refs.get(m.group(1), ""), expression)


def _match(op: str, target: str, expression: str) -> bool:
    if op == "EXACT_MATCH":
        return target == expression
    if op == "PARTIAL_MATCH":
        return expression in target
    assert op == "REGEX_CONTAINS"
    return re.search(expression, target) is not None


def string_match(scorer: dict, example: dict, response_text: str) -> float:
    """ReinforcementTuningStringMatchRewardScorer with a stringMatchExpression (no parse config: identity)."""
    expr = scorer["stringMatchExpression"]
    hit = _match(expr["matchOperation"], response_text, _substitute(expr["expression"], example.get("references", {})))
    return _clip(scorer["correctAnswerReward"] if hit else scorer["wrongAnswerReward"])


def code_execution(snippet: str, example: dict, response: dict) -> float:
    namespace: dict[str, Any] = {"__name__": "gemini_snippet"}
    exec(compile(snippet, "<pythonCodeSnippet>", "exec"), namespace)  # the generated code, run as Gemini would
    return _clip(namespace["evaluate"](example, response))


def single(config: dict, example: dict, response: dict, cloud_run) -> float:
    text = "".join(p.get("text", "") for p in response.get("parts", []) if not p.get("thought"))
    if "stringMatchRewardScorer" in config:
        return string_match(config["stringMatchRewardScorer"], example, text)
    if "codeExecutionRewardScorer" in config:
        return code_execution(config["codeExecutionRewardScorer"]["pythonCodeSnippet"], example, response)
    if "cloudRunRewardScorer" in config:
        return _clip(cloud_run(config["cloudRunRewardScorer"]["cloudRunUri"], example, response))
    raise AssertionError(f"no local reading of {sorted(config)}")


def gemini_reward(document: dict, example: dict, response: dict, cloud_run) -> float:
    """The reward Gemini computes for one response: a single config, or the composite's weighted average."""
    assert len(document) == 1
    if "singleRewardConfig" in document:
        return single(document["singleRewardConfig"], example, response, cloud_run)
    parts = document["compositeRewardConfig"]["weightedRewardConfigs"]
    total = sum(p["weight"] for p in parts)
    return sum(p["weight"] * single(p["rewardConfig"], example, response, cloud_run) for p in parts) / total
