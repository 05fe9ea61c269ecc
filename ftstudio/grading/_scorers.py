"""The {grader type: scorer} map, derived from the grader type registry (each type's module holds its scorer)."""

from __future__ import annotations

from ftstudio.graders import grader_types

from ._context import Scorer

SCORERS: dict[str, Scorer] = {t.name: t.score for t in grader_types()}
