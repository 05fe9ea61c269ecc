"""A seeded account: finished fine-tuning jobs shaped like the real API's objects (api_shapes §2).

`account_jobs(extra)` gives SFT, DPO and RFT jobs (single and multi graders, the multi as the map
the HTTP API sends), a failed and a cancelled one, `user_provided_suffix`, `error: {}` on healthy
jobs, `hyperparameters: null` on non-supervised ones, the fields the SDK doesn't model, and
`extra` plain SFT jobs to make the list span several pages. Seed them with `stub.add_jobs(...)`.
"""

from __future__ import annotations

import copy
import socket
from typing import Any

DAY = 86400
T0 = 1_760_000_000  # 2025-10-09, the oldest job; later ones are a day apart

_SFT_HP = {"batch_size": 4, "learning_rate_multiplier": 1.8, "n_epochs": 3}
_DPO_HP = {"batch_size": 8, "beta": 0.1, "learning_rate_multiplier": 0.5, "n_epochs": 2}
_RFT_HP = {"batch_size": "auto", "compute_multiplier": 1.5, "eval_interval": 5, "eval_samples": 3,
           "learning_rate_multiplier": "auto", "n_epochs": 2, "reasoning_effort": "medium"}

MULTI_GRADER = {
    "type": "multi", "name": "extraction",
    "graders": {
        "name": {"type": "string_check", "name": "name_exact", "input": "{{ sample.output_json.name }}",
                 "reference": "{{ item.name }}", "operation": "eq"},
        "address": {"type": "text_similarity", "name": "address_fuzzy",
                    "input": "{{ sample.output_json.address }}", "reference": "{{ item.address }}",
                    "evaluation_metric": "fuzzy_match"},
        "tone": {"type": "score_model", "name": "tone", "model": "gpt-4.1-mini-2025-04-14",
                 "input": [{"role": "system", "content": "Score the tone from 0 to 1."},
                           {"role": "user", "content": "{{ sample.output_text }}"}],
                 "range": [0, 1], "sampling_params": {"temperature": 0, "seed": 7}},
    },
    "calculate_output": "0.5 * name + 0.3 * address + 0.2 * tone",
}
STRING_GRADER = {"type": "string_check", "name": "exact", "input": "{{ sample.output_text }}",
                 "reference": "{{ item.answer }}", "operation": "eq"}
RESPONSE_FORMAT = {"type": "json_schema", "json_schema": {"name": "contact", "strict": True, "schema": {
    "type": "object", "properties": {"name": {"type": "string"}, "address": {"type": "string"}},
    "required": ["name", "address"], "additionalProperties": False}}}


def job(job_id: str, *, created_at: int, model: str, method: dict[str, Any], status: str = "succeeded",
        suffix: str | None = None, **fields: Any) -> dict[str, Any]:
    """A job object as GET /fine_tuning/jobs returns it (every field present, nulls included)."""
    done = status in ("succeeded", "failed", "cancelled")
    supervised = method["type"] == "supervised"
    obj: dict[str, Any] = {
        "object": "fine_tuning.job", "id": job_id, "model": model, "created_at": created_at,
        "finished_at": created_at + 3600 if done else None,
        "fine_tuned_model": f"ft:{model}:acme:{suffix or ''}:{job_id[-6:]}" if status == "succeeded" else None,
        "organization_id": "org-acme", "result_files": ["file-results" + job_id[-6:]] if status == "succeeded" else [],
        "status": status, "validation_file": None, "training_file": "file-train" + job_id[-6:],
        "hyperparameters": copy.deepcopy(method["supervised"]["hyperparameters"]) if supervised else None,
        "trained_tokens": 120_000 if status == "succeeded" else None, "error": {},
        "user_provided_suffix": suffix, "seed": 1234, "estimated_finish": None, "integrations": [],
        "metadata": None, "usage_metrics": None, "shared_with_openai": False, "method": copy.deepcopy(method),
    }
    obj.update(fields)
    return obj


def account_jobs(extra: int = 0) -> list[dict[str, Any]]:
    """The seeded account, oldest first (the stub lists newest first)."""
    jobs = [
        job("ftjob-sft000001", created_at=T0, model="gpt-4o-2024-08-06", suffix="support-bot",
            method={"type": "supervised", "supervised": {"hyperparameters": dict(_SFT_HP)}},
            validation_file="file-validsft001", metadata={"team": "support"},
            integrations=[{"type": "wandb", "wandb": {"project": "ft-support", "entity": None, "name": None,
                                                      "tags": ["sft"]}}]),
        job("ftjob-dpo000002", created_at=T0 + DAY, model="gpt-4.1-mini-2025-04-14", suffix="prefs",
            method={"type": "dpo", "dpo": {"hyperparameters": dict(_DPO_HP)}}),
        job("ftjob-rft000003", created_at=T0 + 2 * DAY, model="o4-mini-2025-04-16", suffix="extractor",
            method={"type": "reinforcement", "reinforcement": {
                "grader": copy.deepcopy(MULTI_GRADER), "hyperparameters": dict(_RFT_HP),
                "response_format": copy.deepcopy(RESPONSE_FORMAT)}},
            validation_file="file-validrft003",
            usage_metrics={"train_tokens": 1000, "grader_tokens": 300}),
        job("ftjob-rft000004", created_at=T0 + 3 * DAY, model="o4-mini-2025-04-16", status="failed",
            method={"type": "reinforcement", "reinforcement": {
                "grader": copy.deepcopy(STRING_GRADER), "hyperparameters": dict(_RFT_HP), "response_format": None}},
            validation_file="file-validrft004",
            error={"code": "invalid_training_file", "message": "The training file has 3 invalid lines.",
                   "param": "training_file"}),
        job("ftjob-sft000005", created_at=T0 + 4 * DAY, model="gpt-4.1-2025-04-14", status="cancelled",
            method={"type": "supervised", "supervised": {"hyperparameters": {
                "batch_size": "auto", "learning_rate_multiplier": "auto", "n_epochs": "auto"}}},
            error={"code": None, "message": None, "param": None}),
    ]
    for i in range(extra):
        jobs.append(job(f"ftjob-bulk{i:06d}", created_at=T0 + (5 + i) * DAY, model="gpt-4.1-nano-2025-04-14",
                        method={"type": "supervised", "supervised": {"hyperparameters": dict(_SFT_HP)}}))
    return jobs


def closed_port_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens: requests get "connection refused"."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
