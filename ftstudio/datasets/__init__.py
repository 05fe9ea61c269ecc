"""Datasets: streaming readers (JSONL, JSON array, CSV), per-method format reports, token counts.

A bad line is data (a LineError row or a Problem), never an exception that stops a read; only a
file that can't be read at all raises DatasetError.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ftstudio.core import LazyFace

if TYPE_CHECKING:
    from . import _tokens as tokens
    from ._problems import Problem, ProblemLog
    from ._read import (
        DEFAULT_MAX_BYTES,
        DEFAULT_SAMPLE_FIELD,
        EXAMPLES,
        MAX_LINE_BYTES,
        Dataset,
        DatasetError,
        Entry,
        LineError,
        PreviewRow,
        RowChunk,
        RowStore,
        example_path,
        iter_rows,
        preview_rows,
        read_dataset,
        split_sample,
    )
    from ._report import METHODS, ROLES, FormatReport, ReportBuilder, format_report
    from ._sniff import looks_like_rows
    from ._tokens import EXAMPLE_TOKEN_LIMIT, TokenCounter, TokenStats, count_rows, estimate_auto_epochs, get_encoding
    from ._trl import RESERVED_COLUMNS, TRL_METHODS, TrlRowError, iter_trl, read_trl, to_trl_row, to_trl_rows

# Each name is imported from its module when first used: `ftstudio grade` reads rows and needs neither the token
# tables (importlib.resources, hashing: the face's costliest import) nor the format report (issue 23, start-up).
_FACE = LazyFace(__name__, {
    "_problems": ("Problem", "ProblemLog"),
    "_read": ("DEFAULT_MAX_BYTES", "DEFAULT_SAMPLE_FIELD", "EXAMPLES", "MAX_LINE_BYTES", "Dataset", "DatasetError",
              "Entry", "LineError", "PreviewRow", "RowChunk", "RowStore", "example_path", "iter_rows", "preview_rows",
              "read_dataset", "split_sample"),
    "_report": ("METHODS", "ROLES", "FormatReport", "ReportBuilder", "format_report"),
    "_sniff": ("looks_like_rows",),
    "_tokens": ("EXAMPLE_TOKEN_LIMIT", "TokenCounter", "TokenStats", "count_rows", "estimate_auto_epochs",
                "get_encoding"),
    "_trl": ("RESERVED_COLUMNS", "TRL_METHODS", "TrlRowError", "iter_trl", "read_trl", "to_trl_row", "to_trl_rows"),
}, modules={"tokens": "_tokens"})


def __getattr__(name: str) -> object:
    return _FACE.get(name, globals())


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "DEFAULT_MAX_BYTES", "DEFAULT_SAMPLE_FIELD", "EXAMPLES", "EXAMPLE_TOKEN_LIMIT", "MAX_LINE_BYTES", "METHODS",
    "ROLES", "Dataset", "DatasetError", "Entry", "FormatReport", "LineError", "PreviewRow", "Problem", "ProblemLog",
    "ReportBuilder", "RowChunk", "RowStore", "TokenCounter", "TokenStats", "count_rows", "estimate_auto_epochs", "example_path",
    "format_report", "get_encoding", "iter_rows", "looks_like_rows", "preview_rows", "read_dataset", "split_sample", "tokens",
    "RESERVED_COLUMNS", "TRL_METHODS", "TrlRowError", "iter_trl", "read_trl", "to_trl_row", "to_trl_rows",
]
