"""What a grader type is: one object, `GraderType`, holding everything the domain knows about it.

The facets that higher layers run (the scorer the engine calls, the checks validation runs, the row
explanation, the probe fix hint) are written here, in the type's module, against small ports
(`ScoringContext`, `Checker`, `Rows`) that grading and validation implement. So the type module stays
at the graders layer, below everything that uses it, and a new type is one file
(docs/architecture.md, "Add a grader type").
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ftstudio.core import RowErrors, RowStatus, Rule, Stage, Unavailable
from ftstudio.core.records import datarecord, field

from .._models import GraderModel
from .._templates import Sample

if TYPE_CHECKING:  # the sandbox is imported when a python grader first runs, not with the types
    from ftstudio.sandbox import PythonGraderPool

# A scorer's answer for `rows`: one value per row, and the errors of the rows that have any.
Scored = tuple[list[float], dict[int, RowErrors]]
Path = tuple[Any, ...]


# --- ports: what the facets are given (grading and validation implement them) ---------------

class Rows(Protocol):
    """The rows of one batch as a scorer reads them (grading's Batch)."""

    @property
    def outputs(self) -> list[str | None]: ...
    @property
    def items(self) -> list[Any]: ...
    @property
    def samples(self) -> list[Sample | None]: ...
    def __len__(self) -> int: ...


class CallResult(Protocol):
    """One answer of the model runner: a value, or an (error code, details) pair."""

    @property
    def value(self) -> Any: ...
    @property
    def error(self) -> tuple[str, str] | None: ...
    @property
    def usage(self) -> Any: ...
    @property
    def model(self) -> str | None: ...

    @property
    def cancelled(self) -> bool: ...  # a cancel kept the request from being sent

    @property
    def timed_out(self) -> bool: ...


class ModelCalls(Protocol):
    """The bounded, cached model runner (api.ModelRunner)."""

    def chat(self, requests: list[dict[str, Any]], progress: Callable[[int, int], None] | None = None,
             cancel: Any = None) -> Sequence[CallResult]: ...
    def embed(self, requests: list[dict[str, Any]], progress: Callable[[int, int], None] | None = None,
              cancel: Any = None) -> Sequence[CallResult]: ...


class EndpointInfo(Protocol):
    @property
    def configured(self) -> bool: ...


class ScoringOptions(Protocol):
    """The grading options a scorer reads (grading.GradeOptions)."""

    @property
    def concurrency(self) -> int: ...
    @property
    def max_retries(self) -> int: ...
    @property
    def embedding_model(self) -> str: ...
    @property
    def endpoint_timeout(self) -> float: ...
    @property
    def lambda_handlers(self) -> dict[str, str]: ...


class ScoringSession(Protocol):
    """What lives across batches: worker pools, the model runner, the options (grading.GradingSession)."""

    @property
    def endpoint(self) -> EndpointInfo: ...
    @property
    def options(self) -> ScoringOptions: ...
    def runner(self) -> ModelCalls: ...
    def python_pool(self, node: Any, source: str | None = None) -> PythonGraderPool: ...


class ScoringContext(Protocol):
    """One grading pass over one batch, as a scorer sees it (grading.GradingContext)."""

    @property
    def batch(self) -> Rows: ...
    @property
    def session(self) -> ScoringSession: ...
    @property
    def cancel(self) -> Any: ...
    @property
    def top(self) -> Any: ...
    cancelled: bool
    top_sub_rewards: dict[str, list[float]]
    top_sub_failed: dict[str, set[int]]  # rows where a top-level multi child had an error (shown as no value)
    def report(self, done: int, total: int, stage: Stage, node: str, waiting: int = 0,
               limit: float | None = None, timed_out: int = 0) -> None: ...
    def score(self, node: Any, rows: list[int]) -> Scored: ...
    def add_usage(self, model: str, usage: Any) -> None: ...


class Checker(Protocol):
    """Validation's grader checker as a type's checks see it (the rules registry gives severities).

    Checks run on the JSON form (a dict), so they also run when the schema fails.
    """

    @property
    def target(self) -> str: ...
    @property
    def reinforcement(self) -> bool: ...
    def add(self, path: Path, code: str, message: str, hint: str = "", blocks: bool = False) -> None: ...
    def node(self, g: dict[str, Any], path: Path, depth: int) -> None: ...
    def templates(self, g: dict[str, Any], path: Path, fields: tuple[str, ...]) -> None: ...
    def template(self, text: str, path: Path) -> None: ...
    def model_grader(self, g: dict[str, Any], path: Path) -> None: ...
    def formula(self, text: str, keys: list[str], path: Path, check_unused: bool = True) -> None: ...
    def is_placeholder(self, value: Any) -> bool: ...


class Translator(Protocol):
    """A target as a translation sees it: its name, and how it translates a child node."""

    @property
    def name(self) -> str: ...
    def translate(self, grader: Any) -> Any: ...


def is_cancelled(cancel: Any) -> bool:
    """`cancel` is None, a threading.Event, or a callable that returns True once the run is cancelled."""
    if cancel is None:
        return False
    return cancel.is_set() if isinstance(cancel, threading.Event) else bool(cancel())


def call_status(res: CallResult) -> RowStatus:
    """The status of a row whose model or embeddings request failed."""
    return RowStatus.NOT_RUN if res.cancelled else RowStatus.TIMED_OUT if res.timed_out else RowStatus.FAILED


# What a row a cancel stopped says to people. Code reads RowErrors.status, never these words.
CANCELLED = "cancelled"


# --- facets ----------------------------------------------------------------------------------

Scorer = Callable[[Any, ScoringContext, list[int]], Scored]
Check = Callable[[Checker, dict[str, Any], Path, int], None]
Explain = Callable[[Any, Rows], dict[str, Any]]
Fix = Callable[[Any, str], str]
# The grader as `target` takes it (JSON); children are translated through `target.translate`.
Translation = Callable[[Any, Translator], Any]
# A node's score over its rendered input and reference columns when every row rendered to a string: one value
# per pair, or None when this call is not for the short way (a row too long, a missing resource) and the
# scorer must grade it, with its per-row errors. The engine's small-call plan calls it (grading._plan).
PairScore = Callable[[list[str], list[str]], "list[float] | None"]


def as_is(grader: Any, target: Translator) -> Any:
    """The translation of a target that takes the grader exactly as the OpenAI API does (its JSON body)."""
    return grader.model_dump(mode="json", exclude_none=True)


# A probe's fix hint for graders with nothing more specific to say.
GENERIC_FIX = {
    "format_only": "the grader checks the shape, not the values: compare the field values with the reference",
    "extra_keys": "extra fields raise the score: ignore or penalise fields the task doesn't ask for",
}


@datarecord(frozen=True, kw_only=True)
class GraderType:
    """One grader type, described once. Every per-type table of the domain is derived from these.

    Facets without a default must be given; `facet_gaps` says which are missing or broken, and a test
    runs it over every registered type.
    """

    name: str                       # the JSON "type"
    model: type[GraderModel]        # its model (`type: Literal[name]`; graders/_light.py)
    order: int                      # where it is listed (menus, messages); built-ins 10, 20, ...
    default: Callable[[str], GraderModel]  # the node "Add grader" inserts, given its name
    remote: bool                    # scored by the provider (Azure's endpoint, Bedrock's Lambda): not added by the editor
    calls_model: bool               # a chat model grades each row (requests known up front: build_requests)
    inline: bool                    # cheap enough to grade on serve's event loop (no thread hand-off)
    score: Scorer                   # grades the node over a column of rows
    check: Check                    # its validation checks; rule codes are registered with evidence
    explain: Explain                # what the node's templates render to for one row (results drill-down)
    fix: Fix                        # a probe's fix hint: why the probe games this node and what to change
    # The user code it runs in the sandbox (python: its source); None when it carries no code.
    code: Callable[[Any], str] | None = None
    # Grading it calls the configured endpoint (a chat model, or embeddings for cosine); default: calls_model.
    needs_endpoint: Callable[[Any], bool] | None = None
    # The URL grading it POSTs to from wherever it runs (the endpoint grader's url); None when it calls none.
    posts_to: Callable[[Any], str] | None = None
    # string_check-like types: the node's PairScore over its `input` and `reference` columns, computed by the
    # same code as `score` (so both give the same values); None when the node has none (cosine calls a server).
    plain: Callable[[Any], PairScore | None] | None = None
    # The (relative path, template) pairs of one node (not its children): what the API renders.
    templates: Callable[[Any], list[tuple[Path, str]]] = field(default=lambda node: [])
    # Its own translations or refusals per target name (a target's module may also declare them), and
    # what every other target says when neither names the pair (a type most platforms don't take).
    targets: Mapping[str, Translation | Unavailable] = field(default_factory=dict[str, "Translation | Unavailable"])
    elsewhere: Unavailable | None = None
    rules: tuple[Rule, ...] = ()    # rules its checks or its Unavailable entries use that the registry lacks

    @property
    def runs_code(self) -> bool:
        return self.code is not None

    def uses_endpoint(self, node: Any) -> bool:
        return self.needs_endpoint(node) if self.needs_endpoint is not None else self.calls_model


FACETS = ("model", "default", "score", "check", "explain", "fix", "templates")


def facet_gaps(t: GraderType, *, build: bool = False) -> list[str]:
    """The facets of `t` that are missing or don't fit (empty when the type is complete).

    With `build`, also build its default node (only once every type is registered: a multi's default
    holds another type's node, and building a model builds the Grader union).
    """
    gaps = [f for f in FACETS if getattr(t, f, None) is None]
    gaps += [f for f in ("default", "score", "check", "explain", "fix", "templates", "code", "needs_endpoint",
                         "posts_to", "plain")
             if getattr(t, f, None) is not None and not callable(getattr(t, f))]
    # A type module builds its TYPE itself: each facet is checked for what it holds at run time, whatever
    # its annotation says (read through getattr, as above).
    model = getattr(t, "model", None)
    if model is not None and "default" not in gaps:
        if not (isinstance(model, type) and issubclass(model, GraderModel)):
            gaps.append("model (not a GraderModel subclass)")
        else:
            # The declared default, read without building the pydantic side (registration runs at import).
            if model.declared_default("type") != t.name:
                gaps.append(f"model (its type field must default to {t.name!r})")
            elif build and callable(t.default):
                node = t.default(t.name)
                if not isinstance(node, model):
                    gaps.append(f"default (returns {type(node).__name__}, not {model.__name__})")
    for flag in ("remote", "calls_model", "inline"):
        if not isinstance(getattr(t, flag, None), bool):
            gaps.append(flag)
    elsewhere = getattr(t, "elsewhere", None)
    if elsewhere is not None and not isinstance(elsewhere, Unavailable):
        gaps.append("elsewhere (not an Unavailable)")
    targets: dict[str, object] = dict(t.targets or {})
    for key, value in targets.items():
        if not (callable(value) or isinstance(value, Unavailable)):
            gaps.append(f"targets[{key!r}] (neither a translation nor Unavailable)")
    return gaps
