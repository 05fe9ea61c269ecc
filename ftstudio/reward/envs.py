"""tinker-cookbook environments for a grader tree: `group_builders(grader_path, rows, renderer, group_size=4)`
and `GraderDatasetBuilder`, the RL dataset builder its training loop (`tinker_cookbook.rl.train`) takes.

A public module (no underscore): it is imported where tinker-cookbook is installed, and it is not imported by
`ftstudio.reward`, so the grading core never needs it. Followed and tested: tinker-cookbook 0.6.1 with
tinker 0.38.0 (`tinker_cookbook/rl/types.py`: Env, StepResult, EnvGroupBuilder, RLDataset, RLDatasetBuilder;
`rl/rollouts.py`: do_group_rollout). The same objects run on Together's Tinker-compatible shim
(`together.post_training.tinker`), which takes tinker-cookbook objects unchanged.

One row of the user's dataset is one problem:
- the prompt is the row's `messages`, rendered by the trainer's renderer (`build_generation_prompt`);
- the item is the row without its messages (what `{{ item.* }}` and a python grader's `item` read);
- the reward is the grader's reward on the rollout's text (`renderer.parse_response`, then its text content),
  exactly `ftstudio grade`'s for a row holding that item and that text; a rollout the grader can't score
  gets 0.0, as in `ftstudio grade`;
- the step's metrics carry the sub-rewards (a multi grader's children, by name) and `grader_error` (1.0 when
  the grader could not score the rollout, else 0.0); the error's text goes to the step's logs.

With a `response_format` (given, or read from the job config the grader file is), the metrics also carry
`response_format_valid`: 1.0 when the text is JSON that the schema accepts. OpenAI's service constrains
sampling to the schema; a Tinker sampler does not, so this says how often the policy misses it. The reward
is unchanged unless `format_coef` > 0, which subtracts `format_coef` for an invalid output (tinker-cookbook's
ProblemEnv: `format_coef * (format - 1)`).

Offline (no service, no model, no tokenizer download): `ByteRenderer` (tokens are UTF-8 bytes),
`GivenCompletions` (a policy answering given texts) and `smoke(grader_path, rows, sample_field)`, which rolls
each row's given completion out through the cookbook's own `do_group_rollout`; an exported folder's
`train.py --smoke` runs it.

Why not ProblemEnv: its reward is `format_coef * (format - 1) + float(check_answer(text))`, a pass/fail answer
check; a grader's reward is a number in the grader's range, and `ftstudio grade` must give the same one.
"""

# tinker-cookbook is not a dependency of ftstudio (tml-renderers needs Python 3.12, torch is large) and its
# classes are this module's base classes: pyproject's pyright run excludes this file, and
# tests/tinker/test_tinker_typing.py checks it in strict mode in the tinker venv (.ci/pyright-tinker.json).

from __future__ import annotations

import asyncio
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

import chz
import tinker
from tinker_cookbook import renderers
from tinker_cookbook.completers import StopCondition, TokenCompleter, TokensWithLogprobs
from tinker_cookbook.renderers import Message, ParseTermination
from tinker_cookbook.rl.types import (
    Action,
    ActionExtra,
    Env,
    EnvGroupBuilder,
    Observation,
    RLDataset,
    RLDatasetBuilder,
    StepResult,
)

from ftstudio.core import json_list, json_object
from ftstudio.reward import reward_at  # absolute: trainers may load this file by path

__all__ = ["ByteRenderer", "GivenCompletions", "GraderDataset", "GraderDatasetBuilder", "GraderEnv",
           "GraderGroupBuilder", "group_builders", "read_rows", "response_format_of", "smoke"]

PROMPT_KEY = "messages"


class RendererLike(Protocol):
    """What GraderEnv and the cookbook's rollout loop call on a renderer: the cookbook's own Renderer
    (`renderers.get_renderer`), or ByteRenderer offline."""

    def build_generation_prompt(self, messages: list[Message]) -> tinker.ModelInput: ...

    def get_stop_sequences(self) -> StopCondition: ...

    def parse_response(self, response: list[int]) -> tuple[Message, ParseTermination]: ...


def response_format_of(grader_path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The job config's `method.reinforcement.response_format` when the file is a job config (or preset)."""
    try:
        with open(grader_path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, ValueError):
        return None  # reward_at reports an unreadable file
    top = json_object(doc) or {}
    config = json_object(top.get("config"))  # a preset
    method = json_object((config if config is not None else top).get("method")) or {}
    rft = json_object(method.get("reinforcement")) or {}
    return json_object(rft.get("response_format"))


def _schema_of(response_format: Mapping[str, Any]) -> dict[str, Any] | None:
    """The JSON Schema inside a response_format (nested `json_schema.schema` or the flat form); None for
    json_object, which asks for any JSON object."""
    inner = json_object(response_format.get("json_schema"))
    return json_object(inner.get("schema") if inner is not None else response_format.get("schema"))


def format_valid(text: str, response_format: Mapping[str, Any]) -> bool:
    """Whether `text` is JSON the response_format accepts (a json_object format: any JSON object)."""
    try:
        value = json.loads(text)
    except ValueError:
        return False
    schema = _schema_of(response_format)
    if schema is None:
        return isinstance(value, dict)
    from jsonschema.exceptions import SchemaError
    from jsonschema.validators import validator_for

    try:
        return validator_for(schema)(schema).is_valid(value)
    except SchemaError:
        return False


def split_row(row: Mapping[str, Any]) -> tuple[list[Message], dict[str, Any]]:
    """(prompt messages, item): the item is the row without its messages."""
    messages = row.get(PROMPT_KEY)
    item = {k: v for k, v in row.items() if k != PROMPT_KEY}
    # the row's chat messages as they are (role, content, ...): the renderer reads them, as it reads the
    # cookbook's own datasets' messages
    return cast(list[Message], list(json_list(messages))), item


class GraderEnv(Env):
    """One rollout of one row: the row's messages as the prompt, the grader's reward for the answer."""

    def __init__(self, grader_path: str, messages: Sequence[Message], item: Mapping[str, Any],
                 renderer: RendererLike, *, response_format: Mapping[str, Any] | None = None,
                 format_coef: float = 0.0):
        self.grader_path = grader_path
        self.messages = [Message(**m) for m in messages]
        self.item = dict(item)
        self.renderer = renderer
        self.response_format = dict(response_format) if response_format else None
        self.format_coef = format_coef

    @property
    def stop_condition(self) -> StopCondition:
        return self.renderer.get_stop_sequences()

    async def initial_observation(self) -> tuple[Observation, StopCondition]:
        return self.renderer.build_generation_prompt(self.messages), self.stop_condition

    async def step(self, action: Action, *, extra: ActionExtra | None = None) -> StepResult:
        message, _termination = self.renderer.parse_response(action)
        text = renderers.get_text_content(message)
        reward = reward_at(self.grader_path)
        # grading may run python-grader workers or model calls: off the event loop, so the group's other
        # rollouts go on meanwhile
        record = (await asyncio.to_thread(reward.score_detailed, [text], [self.item]))[0]
        value = float(record["reward"])
        metrics: dict[str, float | int] = {k: float(v) for k, v in record["sub_rewards"].items()}
        metrics["grader_error"] = 1.0 if record["errors"] else 0.0
        logs: dict[str, str | int | float] = {}
        if record["errors"]:
            details = record.get("error_details") or {}
            logs["grader_error"] = "; ".join(f"{code}: {details.get(code, '')}" for code in record["errors"])
        if self.response_format is not None:
            valid = format_valid(text, self.response_format)
            metrics["response_format_valid"] = 1.0 if valid else 0.0
            value += self.format_coef * (float(valid) - 1.0)
        return StepResult(reward=value, episode_done=True, next_observation=tinker.ModelInput.empty(),
                          next_stop_condition=self.stop_condition, metrics=metrics, logs=logs)


@dataclass(frozen=True)
class GraderGroupBuilder(EnvGroupBuilder):
    """`group_size` GraderEnvs of one row, each with the row's prompt and item. Picklable (the grader is a
    path, loaded once per process), as the cookbook's distributed rollouts need."""

    grader_path: str
    messages: tuple[Message, ...]
    item: dict[str, Any]
    renderer: RendererLike
    group_size: int = 4
    response_format: dict[str, Any] | None = None
    format_coef: float = 0.0
    dataset_name: str = "ftstudio"

    async def make_envs(self) -> Sequence[Env]:
        return [GraderEnv(self.grader_path, self.messages, self.item, self.renderer,
                          response_format=self.response_format, format_coef=self.format_coef)
                for _ in range(self.group_size)]

    def logging_tags(self) -> list[str]:
        return [self.dataset_name]


def group_builders(grader_path: str | os.PathLike[str], rows: Iterable[Mapping[str, Any]], renderer: RendererLike,
                   group_size: int = 4, *, response_format: Mapping[str, Any] | None = None,
                   format_coef: float = 0.0) -> list[EnvGroupBuilder]:
    """One GraderGroupBuilder per row (`group_size` envs each). `grader_path`: a grader, job config or preset
    JSON file; it is loaded here, so an invalid grader raises InvalidGrader (with `.issues`) before training.
    `response_format` defaults to the job config's."""
    if group_size < 1:
        raise ValueError(f"group_size={group_size}: a group needs at least one env")
    path: str = os.path.abspath(os.fspath(grader_path))
    reward = reward_at(path)
    fmt = dict(response_format) if response_format is not None else response_format_of(path)
    builders: list[EnvGroupBuilder] = []
    for row in rows:
        messages, item = split_row(row)
        builders.append(GraderGroupBuilder(path, tuple(messages), item, renderer, group_size, fmt, format_coef,
                                           reward.name))
    return builders


class GraderDataset(RLDataset):
    """The builders in batches of `batch_size` groups (the last batch may be smaller)."""

    def __init__(self, builders: Sequence[EnvGroupBuilder], batch_size: int):
        if batch_size < 1:
            raise ValueError(f"batch_size={batch_size}: a batch needs at least one group")
        self.builders = list(builders)
        self.batch_size = batch_size

    def get_batch(self, index: int) -> Sequence[EnvGroupBuilder]:
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} of {len(self)}")
        return self.builders[index * self.batch_size:(index + 1) * self.batch_size]

    def __len__(self) -> int:
        return math.ceil(len(self.builders) / self.batch_size)


def read_rows(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The dataset's rows (JSONL, JSON array or CSV). A line that is not a JSON object is an error naming
    the file and line: a training set with holes would train on less than the user thinks."""
    from ftstudio.datasets import read_dataset

    ds = read_dataset(os.fspath(path), max_bytes=None)
    if ds.errors:
        first = ds.errors[0]
        raise ValueError(f"{path}: {len(ds.errors)} unreadable line(s); line {first.line}: {first.message}")
    return ds.rows


@chz.chz
class GraderDatasetBuilder(RLDatasetBuilder):
    """tinker-cookbook's RL dataset builder over a grader file and a dataset file, for `rl.train.Config`'s
    `dataset_builder`. The renderer is the cookbook's own (`get_renderer(renderer_name, tokenizer)`)."""

    grader_path: str
    train_path: str
    batch_size: int
    group_size: int
    model_name_for_tokenizer: str
    renderer_name: str
    test_path: str | None = None
    response_format: dict[str, Any] | None = None  # None: the job config's, when grader_path is one
    format_coef: float = 0.0
    seed: int = 0

    def renderer(self) -> RendererLike:
        from tinker_cookbook.tokenizer_utils import get_tokenizer

        return renderers.get_renderer(self.renderer_name, tokenizer=get_tokenizer(self.model_name_for_tokenizer))

    async def __call__(self) -> tuple[RLDataset, RLDataset | None]:
        import random

        renderer = self.renderer()
        train_rows = read_rows(self.train_path)
        random.Random(self.seed).shuffle(train_rows)
        train = GraderDataset(group_builders(self.grader_path, train_rows, renderer, self.group_size,
                                             response_format=self.response_format, format_coef=self.format_coef),
                              self.batch_size)
        if self.test_path is None:
            return train, None
        # evaluation: one rollout per problem, as the cookbook's own datasets do for their test split
        test = GraderDataset(group_builders(self.grader_path, read_rows(self.test_path), renderer, 1,
                                            response_format=self.response_format, format_coef=self.format_coef),
                             self.batch_size)
        return train, test


# --- offline runs: no service, no model, no tokenizer download ------------------------------------------------

class ByteRenderer:
    """A renderer whose tokens are the text's UTF-8 bytes, for offline runs (a real renderer loads a Hugging
    Face tokenizer). It has what GraderEnv and the cookbook's rollout loop call."""

    STOP = "\n\nUser:"

    @staticmethod
    def encode(text: str) -> list[int]:
        return list(text.encode("utf-8"))

    def build_generation_prompt(self, messages: list[Message], role: str = "assistant",
                                prefill: str | None = None) -> tinker.ModelInput:
        text = "".join(f"{m.get('role')}: {m.get('content')}\n\n" for m in messages) + f"{role}:"
        return tinker.ModelInput.from_ints(self.encode(text))

    def get_stop_sequences(self) -> list[str]:
        return [self.STOP]

    def parse_response(self, response: list[int]) -> tuple[Message, ParseTermination]:
        text = bytes(response).decode("utf-8", errors="replace")
        return Message(role="assistant", content=text), ParseTermination.STOP_SEQUENCE


class GivenCompletions(TokenCompleter):
    """A policy that answers the given texts, one per call, as ByteRenderer tokens."""

    def __init__(self, texts: Iterable[str]):
        self.texts = list(texts)

    async def __call__(self, model_input: tinker.ModelInput, stop: StopCondition, *,
                       max_tokens: int | None = None) -> TokensWithLogprobs:
        if not self.texts:
            raise RuntimeError("GivenCompletions: asked for more completions than it was given")
        tokens = ByteRenderer.encode(self.texts.pop(0))
        return TokensWithLogprobs(tokens=tokens, maybe_logprobs=[0.0] * len(tokens))


async def smoke(grader_path: str | os.PathLike[str], rows: Sequence[Mapping[str, Any]],
                sample_field: str = "model_sample", *,
                response_format: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Each row rolled out once by the cookbook's own `do_group_rollout`, the row's `sample_field` as the
    completion: [{"row", "reward", "metrics"}] (or {"row", "error"} for a row without that field)."""
    from tinker_cookbook.rl.rollouts import do_group_rollout

    from ftstudio.core import compact_json

    builders = group_builders(grader_path, rows, ByteRenderer(), 1, response_format=response_format)
    out: list[dict[str, Any]] = []
    for i, (row, builder) in enumerate(zip(rows, builders, strict=True)):
        if sample_field not in row:
            out.append({"row": i, "error": f"no '{sample_field}' field: nothing to roll out"})
            continue
        value = row[sample_field]
        text = value if isinstance(value, str) else compact_json(value)
        group = await do_group_rollout(builder, GivenCompletions([text]))
        (transition,) = group.trajectories_G[0].transitions
        out.append({"row": i, "reward": group.get_total_rewards()[0], "metrics": dict(transition.metrics)})
    return out
