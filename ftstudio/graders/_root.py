"""A bare grader wrapped in a pydantic model, so pydantic validates the discriminated union (and reports its
errors with their paths); apart from _grader.py so a grader that fits never imports pydantic."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from .types import Grader


class GraderRoot(BaseModel):
    """A bare grader wrapped in a model, so pydantic can validate the discriminated union."""

    model_config = ConfigDict(defer_build=True)  # the union's schemas are built when a tree first needs them

    grader: Grader
