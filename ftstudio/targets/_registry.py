"""The registry of targets: every module of `ftstudio.targets` whose name does not start with "_"
declares `TARGET = Target(...)` and is named after it (`bedrock_rft.py` for "bedrock-rft"). A target's module
is imported when the target is first asked for by name (`target`: validating for openai imports openai's alone,
issue 23), every one when all are (`targets()`, `target_names()`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ftstudio.core import Plugins, Rule, Unavailable
from ftstudio.graders import GraderType, Translation, grader_types

from ._target import Target

_TARGETS: dict[str, Target] = {}


class UnknownTarget(ValueError):
    """No registered target has this name; the message lists the ones there are."""

    def __init__(self, name: object):
        super().__init__(f"unknown target {name!r}; use one of {', '.join(target_names())}")
        self.name = name


def register(t: Target) -> Target:
    if t.name in _TARGETS:
        raise ValueError(f"target {t.name!r} is registered twice")
    _TARGETS[t.name] = t
    return t


def targets() -> tuple[Target, ...]:
    """Every target, in list order (`order`, then name); loads the modules not loaded yet."""
    _PLUGINS.load_all()
    return tuple(sorted(_TARGETS.values(), key=lambda t: (t.order, t.name)))


def target_names() -> tuple[str, ...]:
    return tuple(t.name for t in targets())


def target(name: str) -> Target:
    found = _TARGETS.get(name)
    if found is None and isinstance(name, str) and _PLUGINS.load(name):
        found = _TARGETS.get(name)
    if found is None:
        raise UnknownTarget(name)
    return found


def is_target(name: object) -> bool:
    """Whether a target of this name exists (its module is imported if it does)."""
    try:
        target(name)  # type: ignore[arg-type]
    except UnknownTarget:
        return False
    return True


if TYPE_CHECKING:
    TARGETS: tuple[str, ...]  # every target's name, in list order (read through __getattr__: loads every target)


def __getattr__(name: str) -> object:
    if name == "TARGETS":
        return target_names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_PLUGINS = Plugins(__name__.rpartition(".")[0], "TARGET", Target, lambda t: t.name, register,
                   lambda name: name in _TARGETS)


def translation(target_name: str, grader_type: str) -> Translation | Unavailable | None:
    """The translation of a grader type on a target, or why there is none; None: nobody declared either."""
    return target(target_name).translation(grader_type)


def gaps(among: Sequence[Target] | None = None, types: Sequence[GraderType] | None = None) -> list[str]:
    """Every (target, grader type) pair that has neither a translation nor an Unavailable, and every pair
    declared twice (by the target and by the type): each should be declared exactly once. Default: the
    registered targets and types."""
    among = targets() if among is None else among
    types = grader_types() if types is None else types
    out = []
    for t in among:
        for g in types:
            mine, theirs = t.graders.get(g.name), g.targets.get(t.name)
            if mine is None and theirs is None and t.every is None and g.elsewhere is None:
                out.append(f"{t.name} x {g.name}: neither a translation nor Unavailable")
            elif mine is not None and theirs is not None:
                out.append(f"{t.name} x {g.name}: declared by the target and by the grader type")
        out += [f"{t.name} x {name}: declared by the target for an unknown grader type"
                for name in t.graders if name not in {g.name for g in grader_types()}]
    known = target_names()
    for g in types:
        out += [f"{name} x {g.name}: declared by the grader type for an unknown target"
                for name in g.targets if name not in known]
    return out


def declared_rules() -> tuple[Rule, ...]:
    """The rules targets and grader types declare themselves (validation adds them to its registry)."""
    return tuple(r for t in targets() for r in t.rules) + tuple(r for g in grader_types() for r in g.rules)


def unavailable_rules() -> set[tuple[str, str]]:
    """(target, rule id) of every Unavailable declared anywhere (a test checks each rule is registered and
    has a severity on that target)."""
    out = set()
    for t in targets():
        for g in grader_types():
            found = t.translation(g.name)
            if isinstance(found, Unavailable):
                out.add((t.name, found.rule))
    return out
