"""The grader types: one module each, every one declaring `TYPE = GraderType(...)`.

A type's module is imported when the type is first asked for by name, and every one when all are (the
registry, `_registry.py`: `grader_types()`, the `Grader` union). To add a grader type, add a module here named
after it (docs/architecture.md, "Add a grader type"); nothing else lists it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ftstudio.core import LazyFace

from ._registry import Grader, GraderUnion, UnknownGraderType, find, grader_type, grader_types, register
from ._type import (
    FACETS,
    GENERIC_FIX,
    Check,
    Checker,
    Explain,
    Fix,
    GraderType,
    PairScore,
    Rows,
    Scored,
    Scorer,
    ScoringContext,
    Translation,
    Translator,
    as_is,
    facet_gaps,
    is_cancelled,
)

if TYPE_CHECKING:
    from ._model_family import ModelGraderModel, build_requests, interpret, response_format, sampling_kwargs

# What only the model graders use is imported when first read (issue 23: a string_check grade needs none of it).
_FACE = LazyFace(__name__, {
    "_model_family": ("ModelGraderModel", "build_requests", "interpret", "response_format", "sampling_kwargs"),
})


def __getattr__(name: str) -> object:
    return _FACE.get(name, globals())


__all__ = [
    "FACETS", "GENERIC_FIX", "ModelGraderModel", "build_requests", "interpret", "response_format", "sampling_kwargs", "Check", "Checker", "Explain", "Fix", "Grader", "GraderType", "GraderUnion", "PairScore", "Rows", "Scored", "Scorer",
    "ScoringContext", "Translation", "Translator", "UnknownGraderType", "as_is", "facet_gaps", "find", "grader_type",
    "grader_types", "is_cancelled", "register",
]
