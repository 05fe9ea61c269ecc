"""label_model: a model picks one of `labels` per row; passing labels score 1 (facts §7.4)."""

from __future__ import annotations

from typing import Any, Literal

from ftstudio.core import DEFAULT_MODEL, ROW_ERROR, json_list

from .._models import InputMessage, SamplingParams
from ._model_family import ModelGraderModel, default_messages, explain, fix, score, templates
from ._type import Checker, GraderType, Path


class LabelModelGrader(ModelGraderModel):
    type: Literal["label_model"] = "label_model"
    # The SDK types require name; the API validates and trains nameless graders (validation warns).
    name: str | None = None
    model: str
    input: list[InputMessage]
    labels: list[str]
    passing_labels: list[str]
    # In the 2025 guide's example, not in the SDK types (facts §7.4); validation warns.
    sampling_params: SamplingParams | None = None
    pass_threshold: int | float | None = None

    def result_schema(self) -> tuple[str, dict[str, Any]]:
        return "label_model_grader", {"type": "string", "enum": list(self.labels), "description": "The chosen label"}

    def read_result(self, result: Any) -> tuple[float, tuple[str, str] | None]:
        if not isinstance(result, str) or result not in self.labels:
            return 0.0, (ROW_ERROR.MODEL_PARSE, f"the answer's result {result!r} is not one of the labels "
                                                f"{self.labels}")
        return (1.0 if result in self.passing_labels else 0.0), None


def default(name: str) -> LabelModelGrader:
    return LabelModelGrader(name=name, model=DEFAULT_MODEL, input=default_messages(), labels=["pass", "fail"],
                            passing_labels=["pass"])


def check(c: Checker, g: dict[str, Any], path: Path, depth: int) -> None:
    if c.reinforcement and depth == 0:
        c.add(path, "label_model_top_level", "label_model can't be the top-level reinforcement grader",
              "wrap it in a multi (calculate_output = its key) or use score_model")
    if c.reinforcement and depth >= 1:
        c.add(path, "label_model_in_multi",
              "label_model inside multi is allowed by the SDK types, but whether the RFT service "
              "accepts it is undocumented (Azure accepts only string_check and text_similarity)")
    c.model_grader(g, path)
    # the lists as given (None when absent or not a list: the schema check reports that)
    labels = json_list(g.get("labels")) if isinstance(g.get("labels"), list) else None
    passing = json_list(g.get("passing_labels")) if isinstance(g.get("passing_labels"), list) else None
    if labels is not None:
        if not labels:
            c.add(path + ("labels",), "label_model_labels", "labels is empty", "list the labels "
                  "the model may choose from", True)
        if len(set(map(str, labels))) != len(labels):
            c.add(path + ("labels",), "label_model_labels_duplicate", "labels has duplicates")
    if labels is not None and passing is not None:
        extra = [p for p in passing if p not in labels]
        if extra:
            c.add(path + ("passing_labels",), "label_model_passing_not_subset",
                  f"passing_labels {extra} are not in labels", "passing_labels must be a subset of labels")
        if not passing:
            c.add(path + ("passing_labels",), "label_model_no_passing",
                  "passing_labels is empty, so every row scores 0")
    if "sampling_params" in g:
        c.add(path + ("sampling_params",), "label_model_sampling_params",
              "label_model sampling_params appear in the 2025 guide but not in the SDK types",
              "the API may reject them; remove them if it does")


TYPE = GraderType(
    name="label_model", model=LabelModelGrader, order=40, default=default, remote=False, calls_model=True,
    inline=False, score=score, check=check, explain=explain, fix=fix,
    templates=templates,
)
