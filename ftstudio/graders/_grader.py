"""A grader tree as a whole: parse it, walk it, name its nodes, find its templates.

Every per-type fact comes from the type registry (`types`); only multi's children are structural.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ._light import LightModel
from .types import find, grader_type, grader_types
from .types.multi import MultiGrader

if TYPE_CHECKING:
    # Derived from the registry, in list order: the types the editor adds, the provider-side ones (Azure Foundry's
    # endpoint grader, Bedrock's lambda grader: scored remotely), every model by type, and the types whose rows a
    # chat model grades. Computed on first read (`__getattr__`): they load every type's module (issue 23).
    GRADER_TYPES: tuple[str, ...]
    REMOTE_GRADER_TYPES: tuple[str, ...]
    GRADER_CLASSES: dict[str, type[LightModel]]
    MODEL_TYPES: tuple[str, ...]


def _tables() -> dict[str, object]:
    every = grader_types()
    return {"GRADER_TYPES": tuple(t.name for t in every if not t.remote),
            "REMOTE_GRADER_TYPES": tuple(t.name for t in every if t.remote),
            "GRADER_CLASSES": {t.name: t.model for t in every},
            "MODEL_TYPES": tuple(t.name for t in every if t.calls_model)}


def __getattr__(name: str) -> object:
    if name in ("GRADER_TYPES", "REMOTE_GRADER_TYPES", "GRADER_CLASSES", "MODEL_TYPES"):
        globals().update(_tables())
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def label(grader: Any, key: str | None = None) -> str:
    """A name to show for a grader: its name, else its multi key, else its type (names are optional)."""
    return grader.name or key or grader.type


def walk(grader: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Yield (path, grader) for the grader and every descendant, parents first.

    `path` is the tuple of multi keys leading to the node, so callers can build JSON paths.
    """
    yield path, grader
    if isinstance(grader, MultiGrader):
        for key, child in grader.graders.items():
            yield from walk(child, path + (key,))


def template_fields(grader: Any) -> list[tuple[tuple[Any, ...], str]]:
    """The (relative path, template string) pairs of one grader node (not its children).

    Everything the API renders as a template: string_check / text_similarity input and
    reference, and the text of model-grader messages and content blocks.
    """
    return grader_type(grader.type).templates(grader)


def parse_grader(data: Any) -> Any:
    """The grader model of its JSON form; pydantic's ValidationError if it doesn't fit the schema.

    A node whose `type` names a registered type is validated by that type's model alone: the union
    discriminates on `type` and would validate it by the same model, so the result is the same, and a
    string_check builds one schema, not the union's (issue 23, start-up). Whatever that model refuses
    goes through the union, so an invalid grader gets the union's errors, messages and paths.

    A node (a tree) whose values all have exactly their declared types is validated without pydantic
    (graders/_light.py): what pydantic would hold, without importing it (issue 23, start-up)."""
    if isinstance(data, dict):
        found = find(data.get("type"))
        if found is not None:
            fast = found.model.fast_validate(data)
            if fast is not None:
                return fast
            from pydantic import ValidationError

            try:
                return found.model.model_validate(data)
            except ValidationError:
                pass
    from ._root import GraderRoot

    return GraderRoot.model_validate({"grader": data}).grader
