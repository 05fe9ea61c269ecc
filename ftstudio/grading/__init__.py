"""The grading engine: `grade(grader, rows) -> GradeResults`, one scorer per grader type, the record
writer every face uses, background runs for the app, and comparison with the official service.

A row that fails anywhere is a row with an error code (ErrorCode) and reward 0, never an exception.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ftstudio.core import LazyFace

if TYPE_CHECKING:
    from ftstudio.core import RowStatus
    from ftstudio.graders import metrics

    from ._batched import MAX_BATCH_REQUESTS, BatchOutcome, pending_requests, plan_batch, run_batch, submit_all
    from ._compare import CompareReport, CompareRow, compare
    from ._context import Batch, Cancel, GradingContext, Rows, Scored, Scorer, prepare
    from ._engine import (
        GradeOptions,
        GradingSession,
        InvalidGrader,
        explain,
        grade,
        grade_chunks,
        node_path,
        rendered_inputs,
        to_grader,
    )
    from ._items import completion_text, item_from_label, plain_texts, strip_prompt
    from ._model_plan import CostEstimate, RequestEstimate, estimate_cost, estimate_requests, model_requests
    from ._plan import Planned
    from ._preflight import preflight
    from ._progress import ALL_TIMED_OUT_AFTER, JobProgress, Progress, ProgressFn, Stage
    from ._results import GradeResults, RowErrors, RowRecord, Summary, merge
    from ._runs import (
        Comparison,
        GradingJob,
        GradingRun,
        Scope,
        calls_model,
        chunk_size,
        compare_runs,
        entry_pairs,
        model_nodes,
        select_rows,
        to_csv,
        to_jsonl,
        uses_models,
    )
    from ._scorers import SCORERS
    from ._stream import EXACT_ROWS, SKETCH_RELATIVE_ERROR, RewardSketch, RunningResults
    from ._writer import FORMATS, RecordWriter, format_of, records_bytes, summary_text

# Each name is imported from its module when first used: `ftstudio grade` of a string_check needs the engine and the
# writer, not the Batch API, the comparison or the background runs of the app (issue 23, start-up).
_FACE = LazyFace(__name__, {
    "ftstudio.core": ("RowStatus",),
    "ftstudio.graders": ("metrics",),
    "_batched": ("MAX_BATCH_REQUESTS", "BatchOutcome", "pending_requests", "plan_batch", "run_batch", "submit_all"),
    "_compare": ("CompareReport", "CompareRow", "compare"),
    "_context": ("Batch", "Cancel", "GradingContext", "Rows", "Scored", "Scorer", "prepare"),
    "_engine": ("GradeOptions", "GradingSession", "InvalidGrader", "explain", "grade", "grade_chunks", "node_path",
                "rendered_inputs", "to_grader"),
    "_items": ("completion_text", "item_from_label", "plain_texts", "strip_prompt"),
    "_plan": ("Planned",),
    "_model_plan": ("CostEstimate", "RequestEstimate", "estimate_cost", "estimate_requests", "model_requests"),
    "_preflight": ("preflight",),
    "_progress": ("ALL_TIMED_OUT_AFTER", "JobProgress", "Progress", "ProgressFn", "Stage"),
    "_results": ("GradeResults", "RowErrors", "RowRecord", "Summary", "merge"),
    "_runs": ("Comparison", "GradingJob", "GradingRun", "Scope", "calls_model", "chunk_size", "compare_runs",
              "entry_pairs", "model_nodes", "select_rows", "to_csv", "to_jsonl", "uses_models"),
    "_scorers": ("SCORERS",),
    "_stream": ("EXACT_ROWS", "SKETCH_RELATIVE_ERROR", "RewardSketch", "RunningResults"),
    "_writer": ("FORMATS", "RecordWriter", "format_of", "records_bytes", "summary_text"),
})


def __getattr__(name: str) -> object:
    return _FACE.get(name, globals())


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "ALL_TIMED_OUT_AFTER", "FORMATS", "SCORERS", "Batch", "Cancel", "Rows", "CompareReport", "CompareRow", "Comparison", "GradeOptions", "GradeResults",
    "GradingContext", "GradingJob", "Planned", "JobProgress", "Progress", "ProgressFn", "Stage", "GradingRun", "GradingSession", "InvalidGrader", "RecordWriter", "RowErrors", "RowRecord", "RowStatus", "Summary",
    "Scope", "Scored", "Scorer", "calls_model", "chunk_size", "compare", "compare_runs", "entry_pairs", "explain", "format_of",
    "completion_text", "plain_texts", "grade", "grade_chunks", "item_from_label", "strip_prompt", "merge", "metrics", "model_nodes", "node_path", "preflight", "prepare", "records_bytes", "rendered_inputs", "select_rows",
    "summary_text", "to_csv", "to_grader", "to_jsonl", "uses_models",
    "EXACT_ROWS", "SKETCH_RELATIVE_ERROR", "RewardSketch", "RunningResults",
    "MAX_BATCH_REQUESTS", "BatchOutcome", "plan_batch", "submit_all", "CostEstimate", "RequestEstimate", "estimate_cost", "estimate_requests", "model_requests", "pending_requests", "run_batch",
]
