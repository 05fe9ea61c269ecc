"""Exports conform to the installed openai SDK's own TypedDict for jobs.create.

The SDK types multi.graders as ONE grader while the HTTP API takes a map (facts §7.6), so a
multi is checked with its map replaced by one child, and every child is checked on its own
against the SDK's sub-grader union. Beyond pydantic's TypeAdapter (which ignores unknown keys
in TypedDicts), a walker checks that no key exists that the SDK types don't declare.
"""

from __future__ import annotations

import copy
import json
import typing
from pathlib import Path

import pytest
import typing_extensions
from hypothesis import HealthCheck, given, settings
from openai.types.fine_tuning.job_create_params import JobCreateParams
from openai.types.graders.multi_grader_param import Graders as SdkSubGrader
from pydantic import TypeAdapter
from strategies import job_config

from ftstudio.config import JobConfig, to_json

ROOT = Path(__file__).resolve().parent.parent
PRESETS = sorted((ROOT / "presets").glob("*.json"))
BODY = TypeAdapter(JobCreateParams)
SUB = TypeAdapter(SdkSubGrader)
# Documented by the RFT guide, absent from the SDK types; the SDK sends it unchanged (facts §5).
UNTYPED_EXTRAS = {("method", "reinforcement", "response_format")}


def _split_multis(grader: dict, children: list) -> dict:
    if grader.get("type") != "multi":
        return grader
    graders = grader["graders"]
    for child in graders.values():
        children.append(child)
    first = next(iter(graders.values()))
    return dict(grader, graders=_split_multis(copy.deepcopy(first), children))


def sdk_check(body: dict) -> None:
    body = copy.deepcopy(body)
    children: list = []
    rf = body.get("method", {}).get("reinforcement")
    if rf:
        rf.pop("response_format", None)
        rf["grader"] = _split_multis(rf["grader"], children)
    BODY.validate_python(body)
    strict_keys(body, JobCreateParams)
    for child in children:
        if child.get("type") == "multi":
            continue  # nested multis are flagged by validation and not exported to the API
        SUB.validate_python(child)
        strict_keys(child, SdkSubGrader)


def strict_keys(value, tp, path=()) -> None:
    """Every dict key in `value` is declared by the TypedDict that `tp` resolves to."""
    options = _options(tp)
    if isinstance(value, dict):
        typed = [t for t in options if typing_extensions.is_typeddict(t) and _tag_ok(t, value)]
        if not typed:
            if any(typing.get_origin(t) in (dict, dict) or t is dict for t in options) or \
                    any(_is_mapping(t) for t in options):
                return
            raise AssertionError(f"{path}: no TypedDict among {options}")
        hints = typing_extensions.get_type_hints(typed[0])
        for key, sub in value.items():
            assert key in hints, f"{'.'.join(map(str, path + (key,)))}: not a field of {typed[0].__name__}"
            strict_keys(sub, hints[key], path + (key,))
    elif isinstance(value, list):
        item_types = [a for t in options for a in typing.get_args(t)] or [typing.Any]
        for i, sub in enumerate(value):
            strict_keys(sub, typing.Union[tuple(item_types)] if len(item_types) > 1 else item_types[0], path + (i,))  # noqa: UP007 - run-time Union; `|` gives types.UnionType


def _is_mapping(t) -> bool:
    return getattr(t, "__name__", "") in ("Metadata",) or typing.get_origin(t) is dict


def _tag_ok(td, value: dict) -> bool:
    hints = typing_extensions.get_type_hints(td)
    tag = hints.get("type")
    allowed = [a for o in _options(tag) for a in typing.get_args(o)] if tag is not None else []
    return tag is None or not allowed or "type" not in value or value["type"] in allowed


def _options(tp) -> list:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return [o for a in typing.get_args(tp) for o in _options(a)]
    if origin in (typing.Required, typing.NotRequired) or str(origin).endswith(("Required", "NotRequired")):
        return _options(typing.get_args(tp)[0])
    if origin is typing.Annotated:
        return _options(typing.get_args(tp)[0])
    return [tp]


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_presets_conform(path):
    cfg = JobConfig.model_validate(json.loads(path.read_text())["config"])
    sdk_check(json.loads(to_json(cfg)))


@pytest.mark.slow
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(job_config())
def test_generated_configs_conform(data):
    sdk_check(json.loads(to_json(JobConfig.model_validate(data))))


def test_walker_catches_unknown_keys():
    body = json.loads((ROOT / "presets" / "supervised-chat.json").read_text())["config"]
    body["method"]["supervised"]["hyperparameters"]["beta"] = 0.1
    with pytest.raises(AssertionError, match="beta"):
        sdk_check(body)
