"""Python graders in isolated, reused worker processes (the worker/ folder is stdlib-only)."""

from __future__ import annotations

from ._pool import (
    DEFAULT_MEMORY_LIMIT,
    MAX_SOURCE_BYTES,
    OTHER_ERROR,
    RUNTIME_ERROR,
    SERVER_ERROR,
    PythonCallResult,
    PythonGraderPool,
    SandboxProtections,
    SourceProblem,
    protections,
    run_python_grader,
    static_check,
)
from ._residency import ResidencyLimits, residency_limits, set_residency_limits

__all__ = ['DEFAULT_MEMORY_LIMIT', 'MAX_SOURCE_BYTES', 'OTHER_ERROR', 'PythonCallResult', 'PythonGraderPool', 'RUNTIME_ERROR', 'SERVER_ERROR', 'ResidencyLimits', 'SandboxProtections', 'SourceProblem', 'protections', 'residency_limits', 'run_python_grader', 'set_residency_limits', 'static_check']
