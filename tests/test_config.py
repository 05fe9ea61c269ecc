import pytest
from pydantic import ValidationError

from ftstudio.config import JobConfig, method_block, new_config


def base(**kw):
    return {"model": "gpt-4.1-mini-2025-04-14", "training_file": "file-1", **kw}


def test_minimal_and_full():
    assert JobConfig.model_validate(base()).method is None
    cfg = JobConfig.model_validate(base(
        validation_file="file-2", suffix="s" * 64, seed=2147483647, metadata={f"k{i}": "v" * 512 for i in range(16)},
        integrations=[{"type": "wandb", "wandb": {"project": "p", "name": "n", "entity": "e", "tags": ["a"]}}],
        method={"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.2}}}))
    assert cfg.method.dpo.hyperparameters.beta == 0.2


@pytest.mark.parametrize("field,value", [
    ("suffix", ""), ("suffix", "s" * 65), ("seed", -1), ("seed", 2147483648),
    ("metadata", {f"k{i}": "v" for i in range(17)}), ("metadata", {"k" * 65: "v"}), ("metadata", {"k": "v" * 513}),
    ("integrations", [{"type": "slack", "wandb": {"project": "p"}}]), ("integrations", [{"type": "wandb", "wandb": {}}]),
    ("bogus", 1),
])
def test_rejects(field, value):
    with pytest.raises(ValidationError):
        JobConfig.model_validate(base(**{field: value}))


def test_method_blocks_and_defaults():
    for m in ("supervised", "dpo", "reinforcement"):
        cfg = new_config(m)
        assert cfg.method_type == m and getattr(cfg.method, m) is not None
    assert new_config("reinforcement").grader.type == "string_check"
    assert new_config("dpo").grader is None
    with pytest.raises(ValueError):
        method_block("rlhf")


def test_reinforcement_requires_grader():
    with pytest.raises(ValidationError):
        JobConfig.model_validate(base(method={"type": "reinforcement", "reinforcement": {}}))
