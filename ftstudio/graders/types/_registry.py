"""The registry of grader types, and the `Grader` union pydantic validates against.

Types are registered when `ftstudio.graders.types` is imported (each module of that package that
does not start with "_" declares `TYPE = GraderType(...)`). Registration closes when the package has
finished importing: the `Grader` union, and every model that embeds it, is built once from what is
registered then.
"""

from __future__ import annotations

from functools import reduce
from typing import Annotated, Any

from pydantic import Field, GetCoreSchemaHandler
from pydantic_core import CoreSchema

from .._models import GraderModel
from ._type import GraderType, facet_gaps

_TYPES: dict[str, GraderType] = {}
_closed: list[bool] = [False]


class UnknownGraderType(KeyError):
    """No registered grader type has this name."""


def register(t: GraderType) -> GraderType:
    """Add a grader type; refuses an incomplete one or a second type of the same name."""
    gaps = facet_gaps(t)
    if gaps:
        raise TypeError(f"grader type {t.name!r} is incomplete: {', '.join(gaps)}")
    if t.name in _TYPES:
        raise ValueError(f"grader type {t.name!r} is registered twice")
    if _closed[0]:
        raise RuntimeError(f"grader type {t.name!r} registered after the Grader union was built: declare it as "
                           "TYPE in a module of ftstudio/graders/types")
    _TYPES[t.name] = t
    return t


def close() -> None:
    _closed[0] = True


def grader_types() -> tuple[GraderType, ...]:
    """Every registered type, in list order (`order`, then name)."""
    return tuple(sorted(_TYPES.values(), key=lambda t: (t.order, t.name)))


def find(name: Any) -> GraderType | None:
    return _TYPES.get(name) if isinstance(name, str) else None


def grader_type(name: str) -> GraderType:
    found = _TYPES.get(name)
    if found is None:
        raise UnknownGraderType(name)
    return found


def _union(a: Any, b: Any) -> Any:
    return a | b  # A | B of two models (or of a union and a model), as the annotation would write it


class GraderUnion:
    """pydantic builds the discriminated union on `type` from the registered models, in list order,
    exactly as `Annotated[A | B | ..., Field(discriminator="type")]` would (same errors, same schema)."""

    @staticmethod
    def members() -> tuple[type[GraderModel], ...]:
        return tuple(t.model for t in grader_types())

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        models = self.members()
        if not models:
            raise RuntimeError("no grader types are registered (import ftstudio.graders)")
        if len(models) == 1:
            return handler.generate_schema(models[0])
        return handler.generate_schema(Annotated[reduce(_union, models), Field(discriminator="type")])


# A grader: statically any grader model; at run time pydantic's union of the registered types.
Grader = Annotated[GraderModel, GraderUnion()]
