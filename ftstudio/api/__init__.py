"""OpenAI-compatible endpoints: the model runner, retries, failure meanings, the grader service and jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ftstudio.core import LazyFace

if TYPE_CHECKING:
    from . import _batches as batches
    from . import _jobs as jobs
    from ._batches import (
        TERMINAL as BATCH_TERMINAL,
    )
    from ._batches import (
        batch_lines,
        batch_url,
        cancel_batch,
        create_batch,
        read_result_file,
        result_files,
        result_lines,
        retrieve_batch,
        wait_batch,
    )
    from ._batches import (
        counts as batch_counts,
    )
    from ._calls import ApiError, call
    from ._endpoint import Endpoint, default_target
    from ._grader_service import DIFF_TOLERANCE, official_errors, run_grader, validate_grader
    from ._jobs import KEEP, SubmitError, control, events, follow, is_file_id, list_models, submit, upload
    from ._model_client import CallResult, ModelCache, ModelRunner, TokenUsage, cache_key, chat_cache_entry
    from ._pull import (
        INDEX_FIELDS,
        RESULT_FIELDS,
        ListingLimits,
        ListingStopped,
        grader_type,
        job_body,
        job_record,
        list_jobs,
    )

# Each name is imported from its module when first used, so a command pays only for what it uses (issue 23, start-up).
_FACE = LazyFace(__name__, {
    "_batches": ("TERMINAL as BATCH_TERMINAL", "batch_lines", "batch_url", "cancel_batch", "create_batch",
                 "read_result_file", "result_files", "result_lines", "retrieve_batch", "wait_batch", "counts as batch_counts"),
    "_calls": ("ApiError", "call"),
    "_grader_service": ("DIFF_TOLERANCE", "official_errors", "run_grader", "validate_grader"),
    "_jobs": ("KEEP", "SubmitError", "control", "events", "follow", "is_file_id", "list_models", "submit", "upload"),
    "_endpoint": ("Endpoint", "default_target"),
    "_model_client": ("CallResult", "ModelCache", "ModelRunner", "TokenUsage", "cache_key", "chat_cache_entry"),
    "_pull": ("INDEX_FIELDS", "RESULT_FIELDS", "ListingLimits", "ListingStopped", "grader_type", "job_body",
              "job_record", "list_jobs"),
}, {"batches": "_batches", "jobs": "_jobs"})


def __getattr__(name: str) -> object:
    return _FACE.get(name, globals())


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "list_models",
    "BATCH_TERMINAL", "CallResult", "DIFF_TOLERANCE", "INDEX_FIELDS", "KEEP", "RESULT_FIELDS",
    "ApiError", "Endpoint", "ListingLimits", "ListingStopped", "ModelCache",
    "ModelRunner", "SubmitError", "TokenUsage", "batch_counts", "batch_lines", "batch_url", "batches", "cache_key",
    "call", "cancel_batch", "chat_cache_entry", "default_target", "control", "create_batch", "events", "follow", "grader_type",
    "is_file_id", "job_body", "job_record", "jobs", "list_jobs", "official_errors", "read_result_file",
    "result_files", "result_lines", "retrieve_batch",
    "run_grader", "submit", "upload", "validate_grader", "wait_batch",
]
