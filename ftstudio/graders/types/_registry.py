"""The registry of grader types, and the `Grader` union pydantic validates against.

Each module of `ftstudio.graders.types` that does not start with "_" declares `TYPE = GraderType(...)`, and
is named after its type (`lambda_` for "lambda", a Python keyword). A type is loaded when first asked for by
name (`find`, `grader_type`): grading one string_check node imports string_check alone (issue 23, start-up).
Anything that needs every type (`grader_types()`, the `Grader` union) loads them all; registration then closes:
the union, and every model that embeds it, is built once from what is registered then.
"""

from __future__ import annotations

from functools import reduce
from typing import TYPE_CHECKING, Annotated, Any, cast

from ftstudio.core import Plugins

from .._light import NOT_FAST
from .._models import GraderModel
from ._type import GraderType, facet_gaps

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema

_TYPES: dict[str, GraderType] = {}


class UnknownGraderType(KeyError):
    """No registered grader type has this name."""


def register(t: GraderType) -> GraderType:
    """Add a grader type; refuses an incomplete one or a second type of the same name."""
    gaps = facet_gaps(t)
    if gaps:
        raise TypeError(f"grader type {t.name!r} is incomplete: {', '.join(gaps)}")
    if t.name in _TYPES:
        raise ValueError(f"grader type {t.name!r} is registered twice")
    if _PLUGINS.complete:
        raise RuntimeError(f"grader type {t.name!r} registered after the Grader union was built: declare it as "
                           "TYPE in a module of ftstudio/graders/types")
    _TYPES[t.name] = t
    return t


def grader_types() -> tuple[GraderType, ...]:
    """Every type, in list order (`order`, then name); loads the modules not loaded yet."""
    _PLUGINS.load_all()
    return tuple(sorted(_TYPES.values(), key=lambda t: (t.order, t.name)))


def find(name: Any) -> GraderType | None:
    """The type of this name, its module imported on first use; None for a name no module declares."""
    found = _TYPES.get(name) if isinstance(name, str) else None
    if found is None and isinstance(name, str) and _PLUGINS.load(name):
        found = _TYPES.get(name)
    return found


def grader_type(name: str) -> GraderType:
    found = find(name)
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

    @staticmethod
    def __light_checker__(node: Any) -> Any:
        """The fast path of graders/_light.py: a node by its own type's model (pydantic's union discriminates on
        `type` and would validate it by the same model); NOT_FAST when pydantic must decide."""
        if type(node) is dict:
            fields = cast("dict[str, Any]", node)
            tag = fields.get("type")
            found = find(tag) if type(tag) is str else None
            return found.model.fast(node) if found is not None else NOT_FAST
        if any(type(node) is t.model for t in _TYPES.values()):
            return node  # an instance is kept as it is, as pydantic keeps one
        return NOT_FAST

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        from pydantic import Field

        models = self.members()
        if not models:
            raise RuntimeError("no grader types are registered (import ftstudio.graders)")
        if len(models) == 1:
            return handler.generate_schema(models[0])
        return handler.generate_schema(Annotated[reduce(_union, models), Field(discriminator="type")])


_PLUGINS = Plugins(__name__.rpartition(".")[0], "TYPE", GraderType, lambda t: t.name, register,
                   lambda name: name in _TYPES)

# A grader: statically any grader model; at run time pydantic's union of the registered types.
Grader = Annotated[GraderModel, GraderUnion()]
