"""score_model: a model grades each row with a number in `range` (facts §7.3)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from ftstudio.core import DEFAULT_MODEL, ROW_ERROR, json_list

from .._light import Field
from .._models import InputMessage, SamplingParams
from ._model_family import ModelGraderModel, default_messages, explain, fix, is_number, score, templates
from ._type import Checker, GraderType, Path


class ScoreModelGrader(ModelGraderModel):
    type: Literal["score_model"] = "score_model"
    # The SDK types require name; the API validates and trains nameless graders (validation warns).
    name: str | None = None
    model: str
    input: list[InputMessage]
    # int | float: numbers stay as written (an imported [0, 5] exports as [0, 5], not [0.0, 5.0]).
    range: Annotated[list[int | float], Field(min_length=2, max_length=2)] | None = None
    sampling_params: SamplingParams | None = None
    pass_threshold: int | float | None = None

    def result_schema(self) -> tuple[str, dict[str, Any]]:
        lo, hi = self.range or [0.0, 1.0]
        return "score_model_grader", {"type": "number", "description": f"The score, from {lo:g} to {hi:g}"}

    def read_result(self, result: Any) -> tuple[float, tuple[str, str] | None]:
        if not is_number(result):
            return 0.0, (ROW_ERROR.MODEL_PARSE, f"the answer's result {result!r} is not a number")
        lo, hi = self.range or [0.0, 1.0]
        return float(min(max(result, lo), hi)), None


def default(name: str) -> ScoreModelGrader:
    return ScoreModelGrader(name=name, model=DEFAULT_MODEL, input=default_messages(), range=[0, 1])


def check(c: Checker, g: dict[str, Any], path: Path, depth: int) -> None:
    c.model_grader(g, path)
    rng = json_list(g.get("range")) if isinstance(g.get("range"), list) else None
    if rng is not None and len(rng) == 2 and all(isinstance(x, (int, float)) for x in rng):
        if not rng[0] < rng[1]:
            c.add(path + ("range",), "score_model_range", f"range {rng} needs low < high", "for example [0, 1]", True)


TYPE = GraderType(
    name="score_model", model=ScoreModelGrader, order=30, default=default, remote=False, calls_model=True,
    inline=False, score=score, check=check, explain=explain, fix=fix,
    templates=templates,
)
