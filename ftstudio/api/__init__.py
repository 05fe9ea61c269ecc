"""OpenAI-compatible endpoints: the model runner, retries, failure meanings, the grader service and jobs."""

from __future__ import annotations

from . import _jobs as jobs
from ._calls import ApiError, call
from ._grader_service import DIFF_TOLERANCE, official_errors, run_grader, validate_grader
from ._jobs import KEEP, SubmitError, control, events, follow, is_file_id, submit, upload
from ._model_client import Endpoint, ModelCache, ModelRunner, TokenUsage, cache_key, default_target
from ._pull import INDEX_FIELDS, RESULT_FIELDS, grader_type, job_body, job_record, list_jobs

__all__ = ['ApiError', 'DIFF_TOLERANCE', 'Endpoint', 'INDEX_FIELDS', 'KEEP', 'ModelCache', 'ModelRunner', 'RESULT_FIELDS', 'SubmitError', 'TokenUsage', 'cache_key', 'default_target', 'call', 'control', 'events', 'follow', 'grader_type', 'is_file_id', 'job_body', 'job_record', 'jobs', 'list_jobs', 'official_errors', 'run_grader', 'submit', 'upload', 'validate_grader']
