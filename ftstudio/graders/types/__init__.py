"""The grader types: one module each, every one declaring `TYPE = GraderType(...)`.

Importing this package imports every module in it whose name does not start with "_" and registers
its TYPE; then registration closes and the `Grader` union is built from what is registered. To add a
grader type, add a module here (docs/architecture.md, "Add a grader type"); nothing else lists it.
"""

from __future__ import annotations

import importlib
import pkgutil

from ._model_family import ModelGraderModel, build_requests, interpret, response_format, sampling_kwargs
from ._registry import Grader, GraderUnion, UnknownGraderType, close, find, grader_type, grader_types, register
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


def _discover() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        declared = getattr(module, "TYPE", None)
        if not isinstance(declared, GraderType):
            raise TypeError(f"{module.__name__} declares no TYPE = GraderType(...)")
        register(declared)
    close()


_discover()

__all__ = [
    "FACETS", "GENERIC_FIX", "ModelGraderModel", "build_requests", "interpret", "response_format", "sampling_kwargs", "Check", "Checker", "Explain", "Fix", "Grader", "GraderType", "GraderUnion", "PairScore", "Rows", "Scored", "Scorer",
    "ScoringContext", "Translation", "Translator", "UnknownGraderType", "as_is", "facet_gaps", "find", "grader_type",
    "grader_types", "is_cancelled",
]
