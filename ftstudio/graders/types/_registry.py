"""The registry of grader types, and the `Grader` union pydantic validates against.

Each module of `ftstudio.graders.types` that does not start with "_" declares `TYPE = GraderType(...)`, and
is named after its type (`lambda_` for "lambda", a Python keyword). A type is loaded when first asked for by
name (`find`, `grader_type`): grading one string_check node imports string_check alone (issue 23, start-up).
Anything that needs every type (`grader_types()`, the `Grader` union) loads them all; registration then closes:
the union, and every model that embeds it, is built once from what is registered then.
"""

from __future__ import annotations

import importlib
import keyword
import threading
from functools import reduce
from typing import TYPE_CHECKING, Annotated, Any, cast

from .._light import NOT_FAST
from .._models import GraderModel
from ._type import GraderType, facet_gaps

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema

_PACKAGE = __name__.rpartition(".")[0]
_TYPES: dict[str, GraderType] = {}
_absent: set[str] = set()  # names asked for that no module declares
_closed: list[bool] = [False]  # every module is loaded, and registration closed
_loading = threading.RLock()  # serve's threads may ask for the same new type at once; a type may load another


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


def _load(module_name: str) -> GraderType | None:
    """Import one type module and register its TYPE; None when the package has no such module."""
    with _loading:
        return _load_locked(module_name)


def _load_locked(module_name: str) -> GraderType | None:
    full = f"{_PACKAGE}.{module_name}"
    try:
        module = importlib.import_module(full)
    except ModuleNotFoundError as exc:
        if exc.name != full:
            raise  # the module exists, and something it imports does not
        return None
    declared = getattr(module, "TYPE", None)
    if not isinstance(declared, GraderType):
        raise TypeError(f"{full} declares no TYPE = GraderType(...)")
    if module_name.removesuffix("_") != declared.name:
        raise TypeError(f"{full} declares the type {declared.name!r}: a type's module is named after it")
    if _TYPES.get(declared.name) is not declared:
        register(declared)
    return declared


def _load_all() -> None:
    if _closed[0]:
        return
    import pkgutil  # only here: listing the package's modules

    with _loading:
        for info in sorted(pkgutil.iter_modules(importlib.import_module(_PACKAGE).__path__), key=lambda m: m.name):
            if not info.name.startswith("_") and info.name.removesuffix("_") not in _TYPES:
                _load_locked(info.name)
        _closed[0] = True


def grader_types() -> tuple[GraderType, ...]:
    """Every type, in list order (`order`, then name); loads the modules not loaded yet."""
    _load_all()
    return tuple(sorted(_TYPES.values(), key=lambda t: (t.order, t.name)))


def find(name: Any) -> GraderType | None:
    """The type of this name, its module imported on first use; None for a name no module declares."""
    found = _TYPES.get(name) if isinstance(name, str) else None
    if found is not None or not isinstance(name, str) or _closed[0] or name in _absent:
        return found
    if name.isidentifier() and not name.startswith("_"):
        found = _load(name + "_" if keyword.iskeyword(name) else name)
        if found is not None and found.name != name:  # "lambda_" names a module, not a type
            found = None
    if found is None:
        _absent.add(name)
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


# A grader: statically any grader model; at run time pydantic's union of the registered types.
Grader = Annotated[GraderModel, GraderUnion()]
