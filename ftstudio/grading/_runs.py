"""A test-grading run in a background thread, and the record the Test grading page keeps of it.

No streamlit here: Streamlit reruns the page script on every click, so grading runs in a thread
that only writes to its `GradingJob` (never st.session_state); the page polls `progress()` and
collects `run` once `done`. Cancel is a threading.Event the engine checks between stages and
before each model request / python call.

Rows are graded in chunks so progress counts rows, and a cancelled run keeps every chunk that
finished (rows of the chunk that was interrupted are dropped rather than reported as errors).
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ftstudio.core import records
from ftstudio.core.records import datarecord, field
from ftstudio.datasets import Dataset, Entry, LineError
from ftstudio.graders import MODEL_TYPES, Grader, grader_type, walk

from ._engine import GradeOptions, GraderInput, GradingSession, InvalidGrader
from ._progress import JobProgress, Progress, Stage
from ._results import GradeResults, RowRecord, merge
from ._writer import records_bytes

if TYPE_CHECKING:
    import numpy as np

def calls_model(node: Grader) -> bool:
    """True when grading this node itself (not its children) calls a model on the configured endpoint (its
    grader type says: score_model and label_model, and text_similarity's cosine for its embeddings)."""
    return grader_type(node.type).uses_endpoint(node)


def uses_models(grader: Grader | None) -> bool:
    """True when grading calls an endpoint (model graders, or cosine similarity's embeddings)."""
    return grader is not None and any(calls_model(node) for _path, node in walk(grader))


def model_nodes(grader: Grader | None) -> int:
    return sum(1 for _p, n in walk(grader) if n.type in MODEL_TYPES) if grader is not None else 0


# --- which rows ----------------------------------------------------------------------------

@datarecord(frozen=True)
class Scope:
    mode: str = "all"  # "all" | "random" | "first"
    n: int | None = None
    seed: int = 0

    def describe(self, total: int) -> str:
        if self.mode == "all" or self.n is None or self.n >= total:
            return f"all {total:,} rows"
        if self.mode == "first":
            return f"the first {self.n:,} of {total:,} rows"
        return f"a random sample of {self.n:,} of {total:,} rows (seed {self.seed})"


def select_rows(total: int, scope: Scope) -> list[int]:
    """Indices of the rows to grade, in file order. The random sample depends only on the seed."""
    if scope.mode == "all" or scope.n is None or scope.n >= total:
        return list(range(total))
    n = max(0, int(scope.n))
    if scope.mode == "first":
        return list(range(n))
    return sorted(random.Random(scope.seed).sample(range(total), n))


def chunk_size(n: int) -> int:
    # Progress counts rows within a chunk, so chunks only bound the work between cancel checks.
    # They stay big: rows of a later chunk wait for a hung row of the current one (up to the
    # python limit), so a dataset of up to 1,000 rows is one chunk and no healthy row waits.
    return max(1000, min(5000, math.ceil(n / 20)))


def entry_pairs(dataset: Dataset) -> Sequence[Entry]:
    """(line, row dict or LineError) of every entry of the dataset, in file order."""
    return dataset.entries


# --- a finished run ------------------------------------------------------------------------

@datarecord
class GradingRun:
    id: int
    results: GradeResults = field(repr=False)
    row_index: list[int] = field(repr=False)  # dataset entry (file order, unreadable lines included) of each result row
    fingerprint: str  # components.state.grader_fingerprint() when the run started
    grader: Grader = field(repr=False)
    sample_field: str
    dataset: Dataset = field(repr=False)
    scope_text: str
    wall_seconds: float
    started_at: float = field(default_factory=time.time)
    total_rows: int = 0  # rows the run was asked to grade
    finished_rows: int | None = None  # rows graded before a cancel; None when the run was not cancelled

    @property
    def label(self) -> str:
        return f"Run {self.id} · {time.strftime('%H:%M:%S', time.localtime(self.started_at))}"

    @property
    def data_hash(self) -> str:
        return self.dataset.content_hash

    def __len__(self) -> int:
        return len(self.results)

    def record(self, i: int) -> RowRecord:
        """The CLI's --out record for result row i; `row` is the row's index in the file's order."""
        rec = self.results.record(i)
        rec["row"] = self.row_index[i]
        return rec

    def records(self):
        for i in range(len(self.results)):
            yield self.record(i)

    def entry(self, i: int) -> dict[str, Any] | LineError:
        """The dataset row (dict) of result row i, or the LineError of an unreadable line."""
        return self.dataset.entries[self.row_index[i]][1]

    def iter_entries(self) -> Iterator[dict[str, Any] | LineError]:
        """entry(i) of every result row in turn: one decoded row at a time, never all of them at once."""
        entries = self.dataset.entries
        for k in self.row_index:
            yield entries[k][1]


def to_jsonl(run: GradingRun) -> bytes:
    return records_bytes(run.records(), "jsonl")


def to_csv(run: GradingRun) -> bytes:
    """Same columns as `ftstudio grade --out results.csv`."""
    subs = list(run.results.sub_rewards)
    return records_bytes((_no_missing(run, i) for i in range(len(run))), "csv", subs)


def _no_missing(run: GradingRun, i: int) -> RowRecord:
    """Row i's record with no value (an empty CSV cell) where a child has no score of its own."""
    rec = run.record(i)
    rec["sub_rewards"] = {k: run.results.sub_value(k, i) for k in rec["sub_rewards"]}  # type: ignore[typeddict-item]
    return rec


# --- comparing two runs --------------------------------------------------------------------

@datarecord(frozen=True)
class Comparison:
    same_data: bool
    rows: list[int]  # file-order row indices both runs graded
    base_rewards: np.ndarray
    new_rewards: np.ndarray
    threshold: float

    def at(self, threshold: float) -> Comparison:
        """The same matched rows seen at another threshold (matching is the costly part)."""
        return records.replace(self, threshold=threshold)

    @property
    def base(self) -> list[float]:
        return self.base_rewards.tolist()

    @property
    def new(self) -> list[float]:
        return self.new_rewards.tolist()

    @property
    def deltas(self) -> list[float]:
        return (self.new_rewards - self.base_rewards).tolist()

    def _rows_where(self, mask: np.ndarray) -> list[int]:
        import numpy as np

        return [self.rows[i] for i in np.flatnonzero(mask)]

    @property
    def pass_to_fail(self) -> list[int]:
        t = self.threshold
        return self._rows_where((self.base_rewards >= t) & (self.new_rewards < t))

    @property
    def fail_to_pass(self) -> list[int]:
        t = self.threshold
        return self._rows_where((self.new_rewards >= t) & (self.base_rewards < t))


def compare_runs(base: GradingRun, new: GradingRun, threshold: float) -> Comparison:
    """Row-by-row comparison over the rows both runs graded (none when the data differ).
    `Comparison.at(t)` looks at the same rows at another threshold without matching them again."""
    import numpy as np  # lazily: importing the grading package stays light

    same = bool(base.data_hash) and base.data_hash == new.data_hash
    rows, bi, ni = [], [], []
    if same:
        where = {r: i for i, r in enumerate(base.row_index)}
        for j, r in enumerate(new.row_index):
            i = where.get(r)
            if i is not None:
                rows.append(r)
                bi.append(i)
                ni.append(j)
    b = np.asarray(base.results.rewards, dtype=float)[bi] if bi else np.zeros(0)
    n = np.asarray(new.results.rewards, dtype=float)[ni] if ni else np.zeros(0)
    return Comparison(same, rows, b, n, threshold)


def result_cancelled(parts: list[GradeResults]) -> list[int]:
    """How many rows of each part a cancel stopped (RowErrors.status, not their message)."""
    return [sum(1 for e in part.errors.values() if e.stopped) for part in parts]


# --- the background job --------------------------------------------------------------------

class GradingJob:
    """Grades `dataset` with `grader` in a daemon thread; everything the page needs is on self."""

    def __init__(self, run_id: int, grader: GraderInput, dataset: Dataset, sample_field: str, scope: Scope,
                 options: GradeOptions, fingerprint: str):
        self.run_id, self.grader, self.dataset = run_id, grader, dataset
        self.sample_field, self.scope, self.fingerprint = sample_field, scope, fingerprint
        # Retries (429, 5xx, timeouts) are counted so the progress line can show them.
        self.options = records.replace(options, on_retry=self._on_retry)
        self.retries, self.last_retry = 0, ""
        self.cancel_event = threading.Event()
        self.run: GradingRun | None = None
        self.error: str | None = None  # an unexpected failure, as text
        self.invalid: InvalidGrader | None = None
        self.total = 0
        self.cancelled = False
        self.finished_rows = 0  # rows graded before a cancel (the run covers every chosen row)
        self._lock = threading.Lock()
        self._rows_done = 0
        self._chunk_len = 0
        self._chunk_frac = 0.0
        self._stage, self._node = Stage.PREPARING, "preparing rows"
        self._waiting, self._limit = 0, None
        self._stage_done = self._timed_out = 0
        self._started = time.monotonic()
        self._finished = threading.Event()
        self._thread = threading.Thread(target=self._work, name=f"ftstudio-grading-{run_id}", daemon=True)

    def start(self) -> GradingJob:
        self._thread.start()
        return self

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds; True when the job has finished."""
        return self._finished.wait(timeout)

    @property
    def done(self) -> bool:
        return self._finished.is_set()

    def cancel(self) -> None:
        self.cancel_event.set()

    def progress(self) -> JobProgress:
        """Rows done (finished chunks plus the rows the current stage has done), the stage, and the rows
        waiting on a slow call (no ETA is guessed then)."""
        with self._lock:
            done = self._rows_done + round(self._chunk_len * self._chunk_frac)
            stage, node, total, waiting, limit = self._stage, self._node, self.total, self._waiting, self._limit
            stage_done, timed_out = self._stage_done, self._timed_out
        elapsed = time.monotonic() - self._started
        frac = min(1.0, done / total) if total else 0.0
        eta = elapsed * (1 - frac) / frac if frac >= 0.01 and elapsed > 0.5 and not waiting else None
        return JobProgress(int(done), total, stage, node, waiting, limit, elapsed, eta, self.cancel_event.is_set(),
                           self.retries, self.last_retry, stage_done, timed_out)

    def _on_retry(self, count: int, why: str) -> None:
        with self._lock:
            self.retries, self.last_retry = count, why

    def _on_progress(self, p: Progress) -> None:
        with self._lock:
            if (p.stage, p.node) != (self._stage, self._node):  # the next sub-grader counts its rows from zero
                self._stage, self._node, self._chunk_frac = p.stage, p.node, 0.0
            self._waiting, self._limit = p.waiting, p.limit
            self._stage_done, self._timed_out = p.done, p.timed_out
            frac = p.done / p.total if p.total else 1.0
            self._chunk_frac = max(self._chunk_frac, min(1.0, frac))

    def _work(self) -> None:
        try:
            self._grade()
        except InvalidGrader as exc:
            self.invalid = exc
        except Exception as exc:  # the page shows it; the thread must never die silently
            from ftstudio.core import log_failure, redact

            log_failure("background grading run", exc)
            self.error = redact(f"{type(exc).__name__}: {exc}")[:1000]
        finally:
            self._finished.set()

    def _grade(self) -> None:
        n_entries = len(self.dataset.entries)
        chosen = select_rows(n_entries, self.scope)
        self.total = len(chosen)
        parts: list[GradeResults] = []
        graded: list[int] = []
        size = chunk_size(len(chosen))
        with GradingSession(self.grader, self.sample_field, self.options) as session:
            for start in range(0, len(chosen), size):
                if self.cancel_event.is_set():
                    break
                idx = chosen[start:start + size]
                with self._lock:
                    self._chunk_len, self._chunk_frac = len(idx), 0.0
                result = session.grade(self.dataset.chunk(idx), self._on_progress, self.cancel_event)
                parts.append(result)
                graded.extend(idx)
                with self._lock:
                    self._rows_done += len(idx)
                    self._chunk_len, self._chunk_frac, self._waiting, self._limit = 0, 0.0, 0, None
                    self._stage_done = self._timed_out = 0
                if result.cancelled or self.cancel_event.is_set():
                    break
            self.cancelled = any(result_cancelled(parts)) or len(graded) < len(chosen)
            self.finished_rows = len(graded) - sum(result_cancelled(parts))
            rest = chosen[len(graded):]
            if rest and parts:  # rows never started: error rows saying so (the cancel is set: nothing runs)
                parts.append(session.grade(self.dataset.chunk(rest), None, self.cancel_event))
                graded.extend(rest)
        if not parts:
            return
        results = merge(parts)
        results.cancelled = self.cancelled
        results.elapsed = time.monotonic() - self._started
        self.run = GradingRun(self.run_id, results, graded, self.fingerprint, session.grader, self.sample_field,
                              self.dataset, self.scope.describe(n_entries), results.elapsed,
                              total_rows=len(chosen), finished_rows=self.finished_rows if self.cancelled else None)
