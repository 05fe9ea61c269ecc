"""The {grader type: scorer} map, derived from the grader type registry (each type's module holds its scorer)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ftstudio.graders import Grader, find, grader_types

from ._context import Scorer


class _Scorers(Mapping[str, "Scorer[Grader]"]):
    """Each type's scorer, read from the registry when asked for: a type's module is imported only when a tree
    has a node of it (issue 23, start-up); iterating lists every type. Read per node and call (a TRL reward
    call, a serve request): a dict lookup once a type is known."""

    def __init__(self) -> None:
        self._known: dict[str, Scorer[Grader]] = {}

    def get(self, name: str, default: Any = None) -> Any:
        scorer = self._known.get(name)
        if scorer is None:
            found = find(name)
            if found is None:
                return default
            scorer = self._known[name] = found.score
        return scorer

    def __getitem__(self, name: str) -> Scorer[Grader]:
        scorer = self.get(name)
        if scorer is None:
            raise KeyError(name)
        return scorer

    def __iter__(self) -> Iterator[str]:
        return (t.name for t in grader_types())

    def __len__(self) -> int:
        return len(grader_types())


SCORERS: Mapping[str, Scorer[Grader]] = _Scorers()
