"""A target: a platform a grader tree is validated for and exported to, described once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ftstudio.core import Rule, Unavailable
from ftstudio.core.records import datarecord, field
from ftstudio.graders import GraderType, Translation, find, walk


class NotTranslatable(ValueError):
    """A node of the tree has no translation on the target; `unavailable` says why (with its rule)."""

    def __init__(self, target: str, grader_type: str, path: tuple[str, ...], unavailable: Unavailable | None):
        where = "/".join(path) or "the root"
        why = unavailable.reason if unavailable else f"the {target} target has no translation for {grader_type}"
        super().__init__(f"{grader_type} grader at {where}: {why}")
        self.target, self.grader_type, self.path, self.unavailable = target, grader_type, path, unavailable


@datarecord(frozen=True, kw_only=True)
class Target:
    """One platform. `graders` maps a grader type to its translation (a function: node, target -> the
    JSON the platform takes) or to `Unavailable(reason, rule)`. A pair this table doesn't name may be
    declared by the grader type's own module (`GraderType.targets`), else by `every` (this target takes any
    type), else by the type's `elsewhere`; a pair named by both tables is an error (`gaps`).
    """

    name: str                        # the --target value
    title: str                       # how the app names it
    order: int                       # where it is listed (the app's target picker, the rules table)
    about: str                       # one line: where jobs go
    job_body: bool = True            # takes OpenAI's job body (False: the grader tree goes in a form of its own)
    graders: Mapping[str, Translation | Unavailable] = field(default_factory=dict)
    # The translation of every grader type nobody names for this target (one that runs ftstudio's own
    # engine takes any type); a type's own `elsewhere` applies only where this is None.
    every: Translation | None = None
    rules: tuple[Rule, ...] = ()     # rules its Unavailable entries use that validation.RULES lacks

    def translation(self, grader_type: str) -> Translation | Unavailable | None:
        """This target's translation of a grader type, or why it has none; None when nobody declared either."""
        own = self.graders.get(grader_type)
        if own is not None:
            return own
        t: GraderType | None = find(grader_type)
        if t is None:
            return None
        return t.targets.get(self.name) or self.every or t.elsewhere

    def unavailable(self, grader: Any) -> list[tuple[tuple[str, ...], Unavailable | None]]:
        """The nodes of a tree this target can't take: (path, why); why is None for an undeclared pair."""
        out: list[tuple[tuple[str, ...], Unavailable | None]] = []
        for path, node in walk(grader):
            found = self.translation(node.type)
            if found is None or isinstance(found, Unavailable):
                out.append((path, found))
        return out

    def translate(self, grader: Any) -> Any:
        """The grader tree as this target takes it; NotTranslatable names the first node it can't."""
        for path, why in self.unavailable(grader):
            node_type = _node_at(grader, path).type
            raise NotTranslatable(self.name, node_type, path, why)
        found = self.translation(grader.type)
        assert found is not None and not isinstance(found, Unavailable)  # unavailable() found none above
        return found(grader, self)


def _node_at(grader: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        grader = grader.graders[key]
    return grader
