"""GradeOptions: how a grading session runs its pools, requests and endpoints."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ftstudio.core import DEFAULT_CONCURRENCY
from ftstudio.core.records import datarecord, field

if TYPE_CHECKING:  # the model client is imported when a model node first runs (issue 23, start-up)
    from ftstudio.api import Endpoint


@datarecord
class GradeOptions:
    concurrency: int = DEFAULT_CONCURRENCY
    python_timeout: float = 120.0
    python_workers: int | None = None
    python_memory: int = 2 * 1024**3
    endpoint: Endpoint | None = None  # None: OPENAI_BASE_URL / OPENAI_API_KEY from the environment
    use_cache: bool = True
    max_retries: int = 4
    embedding_model: str = "text-embedding-3-large"
    on_retry: Callable[[int, str], None] | None = None
    # Endpoint graders (Azure): seconds per POST before the row is an unresponsive_reward_error.
    endpoint_timeout: float = 60.0
    # Lambda graders (Bedrock): function ARN -> a local handler file to run in the sandbox instead.
    lambda_handlers: dict[str, str] = field(default_factory=dict)
