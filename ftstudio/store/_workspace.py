"""The test-grading workspace on disk: the current dataset, the last runs with their records, the
baseline choice and the Undo/Redo history, so a browser refresh or a server restart loses no work.

Folder: $FTSTUDIO_HOME/workspace (home() of the autosave). Every file is written atomically
(temporary file + fsync + rename); a torn or foreign file is skipped on load, never fatal. One
local user: the last writer wins (the config itself has the autosave's per-tab revisions).

Bounds (README, "What survives a refresh"):
- a dataset is kept up to MAX_DATASET_BYTES (50 MB); a bigger upload is used in the session but
  not kept, and `save_dataset` says so;
- the newest MAX_RUNS (5) runs are kept, plus the baseline when it is older; a run over
  MAX_RUN_ROWS (200,000 rows) is not kept;
- MAX_HISTORY (50) Undo and 50 Redo steps.
Nothing secret is written: runs keep rewards, errors and the grader; endpoints and keys stay in memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from array import array
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ftstudio.api import TokenUsage
from ftstudio.config import JobConfig, to_data
from ftstudio.core import json_list, json_object, redact_data
from ftstudio.core.records import datarecord, field
from ftstudio.graders import parse_grader
from ftstudio.grading import GradeResults, GradingRun, RowErrors, RowStatus

from ._autosave import home
from ._files import atomic_write

MAX_DATASET_BYTES = 50 * 1024 * 1024
MAX_RUNS = 5
MAX_RUN_ROWS = 200_000
MAX_HISTORY = 50
_VERSION = 1


def folder() -> Path:
    return home() / "workspace"


@datarecord
class Session:
    """What the app restores: ids refer to files in the workspace folder."""

    dataset: str | None = None  # sha256 of the current dataset's bytes
    dataset_name: str | None = None
    sample_field: str | None = None
    runs: list[int] = field(default_factory=list[int])  # kept runs, oldest first
    run_data: dict[int, str] = field(default_factory=dict[int, str])  # run id -> sha256 of the dataset it graded
    current: int | None = None
    baseline: int | None = None
    counter: int = 0  # the last run id given out
    undo: list[tuple[str, JobConfig]] = field(default_factory=list[tuple[str, JobConfig]])
    redo: list[tuple[str, JobConfig]] = field(default_factory=list[tuple[str, JobConfig]])
    not_kept: str | None = None  # why the dataset on screen isn't on disk (too big)


def _write(target: Path, payload: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, payload, f".{target.name}-")


def _read_json(target: Path) -> dict[str, Any] | None:
    """The JSON object in the file, or None when it is unreadable or not an object."""
    try:
        return json_object(json.loads(target.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


# --- datasets ------------------------------------------------------------------------------

def _dataset_path(digest: str) -> Path:
    return folder() / "datasets" / f"{digest}.data"


def save_dataset(data: bytes, name: str) -> tuple[str, str | None]:
    """Keep an uploaded file's bytes; returns (sha256, why it was not kept or None)."""
    digest = hashlib.sha256(data).hexdigest()
    if len(data) > MAX_DATASET_BYTES:
        return digest, (f"{name} is {len(data) / 1e6:,.1f} MB; files up to {MAX_DATASET_BYTES // 2**20} MB are "
                        "kept across a refresh, so after one you will need to upload it again")
    target = _dataset_path(digest)
    if not target.exists():
        _write(target, data)
    _write(target.with_suffix(".json"), json.dumps({"name": name, "bytes": len(data)}).encode())
    return digest, None


def load_dataset(digest: str) -> tuple[bytes, str] | None:
    """(bytes, file name) of a kept dataset, or None when it is gone or damaged."""
    target = _dataset_path(digest)
    meta = _read_json(target.with_suffix(".json"))
    try:
        data = target.read_bytes()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != digest or meta is None:
        return None
    return data, str(meta.get("name") or "dataset.jsonl")


# --- runs ----------------------------------------------------------------------------------

def _run_path(run_id: int) -> Path:
    return folder() / "runs" / f"{int(run_id)}.json"


def run_to_data(run: GradingRun) -> dict[str, Any]:
    res = run.results
    return {
        "version": _VERSION, "id": run.id, "fingerprint": run.fingerprint, "sample_field": run.sample_field,
        "data_hash": run.data_hash, "scope_text": run.scope_text, "wall_seconds": run.wall_seconds,
        "started_at": run.started_at, "total_rows": run.total_rows, "finished_rows": run.finished_rows,
        "row_index": list(run.row_index), "grader": redact_data(to_data(run.grader)),
        "results": {"grader_name": res.grader_name, "grader_type": res.grader_type, "rewards": list(res.rewards),
                    "errors": {str(i): e.codes for i, e in res.errors.items()},
                    # a row's status when it is not a plain failure (a cancel, a timeout)
                    "statuses": {str(i): e.status.value for i, e in res.errors.items()
                                 if e.status is not RowStatus.FAILED},
                    "sub_rewards": {k: list(v) for k, v in res.sub_rewards.items()}, "lines": list(res.lines or []),
                    "token_usage": {m: u.to_dict() for m, u in res.token_usage.items()}, "elapsed": res.elapsed,
                    "cancelled": res.cancelled, "sub_missing": {k: sorted(v) for k, v in res.sub_missing.items()}},
    }


def run_from_data(doc: dict[str, Any], dataset: Any) -> GradingRun:
    """A GradingRun from run_to_data; `dataset` is the Dataset it graded (for row details)."""
    r = doc["results"]
    usage = {m: TokenUsage(**{k: int(v) for k, v in u.items()}) for m, u in r.get("token_usage", {}).items()}
    statuses = json_object(r.get("statuses")) or {}  # absent in runs saved before statuses were kept
    results = GradeResults(
        grader_name=r["grader_name"], grader_type=r["grader_type"], rewards=array("d", r["rewards"]),
        errors={int(i): RowErrors(dict(c), RowStatus(statuses.get(i, RowStatus.FAILED)))
                for i, c in r["errors"].items()},
        sub_rewards={k: array("d", v) for k, v in r["sub_rewards"].items()}, lines=list(r["lines"]),
        token_usage=usage, elapsed=float(r["elapsed"]), cancelled=bool(r["cancelled"]),
        sub_missing={k: {int(i) for i in json_list(v)} for k, v in (json_object(r.get("sub_missing")) or {}).items()})
    return GradingRun(int(doc["id"]), results, [int(i) for i in doc["row_index"]], str(doc["fingerprint"]),
                      parse_grader(doc["grader"]), str(doc["sample_field"]), dataset, str(doc["scope_text"]),
                      float(doc["wall_seconds"]), started_at=float(doc["started_at"]),
                      total_rows=int(doc["total_rows"]), finished_rows=doc.get("finished_rows"))


def save_run(run: GradingRun) -> bool:
    """Keep a finished run; False when it is over the row bound (it stays in the session only)."""
    if len(run) > MAX_RUN_ROWS:
        return False
    _write(_run_path(run.id), json.dumps(run_to_data(run), separators=(",", ":")).encode())
    return True


def load_run(run_id: int) -> dict[str, Any] | None:
    doc = _read_json(_run_path(run_id))
    return doc if doc is not None and doc.get("version") == _VERSION else None


# --- the session ---------------------------------------------------------------------------

def _history(items: Any) -> list[tuple[str, JobConfig]]:
    out: list[tuple[str, JobConfig]] = []
    for item in json_list(items):
        with contextlib.suppress(TypeError, ValueError, ValidationError, IndexError):
            out.append((str(item[0]), JobConfig.model_validate(item[1])))
    return out[-MAX_HISTORY:]


def load_session() -> Session:
    """The last saved session (an empty one when there is none or it is unreadable)."""
    doc = _read_json(folder() / "session.json")
    if doc is None or doc.get("version") != _VERSION:
        return Session()

    def opt_int(v: Any) -> int | None:
        return v if isinstance(v, int) else None

    return Session(dataset=doc.get("dataset") if isinstance(doc.get("dataset"), str) else None,
                   dataset_name=doc.get("dataset_name"), sample_field=doc.get("sample_field"),
                   runs=[r for r in json_list(doc.get("runs")) if isinstance(r, int)],
                   current=opt_int(doc.get("current")),
                   run_data={int(k): v for k, v in (json_object(doc.get("run_data")) or {}).items()
                             if str(k).isdigit() and isinstance(v, str)},
                   baseline=opt_int(doc.get("baseline")), counter=opt_int(doc.get("counter")) or 0,
                   undo=_history(doc.get("undo")), redo=_history(doc.get("redo")), not_kept=doc.get("not_kept"))


def save_session(s: Session) -> None:
    """Write the session and drop the runs and datasets it no longer refers to."""
    keep = s.runs[-MAX_RUNS:]
    if s.baseline is not None and s.baseline in s.runs and s.baseline not in keep:
        keep = [s.baseline] + keep
    s.runs = keep
    doc = {"version": _VERSION, "dataset": s.dataset, "dataset_name": s.dataset_name,
           "sample_field": s.sample_field, "runs": keep,
           "run_data": {str(r): s.run_data[r] for r in keep if r in s.run_data}, "current": s.current if s.current in keep else None,
           "baseline": s.baseline if s.baseline in keep else None, "counter": s.counter,
           "undo": [[label, to_data(c)] for label, c in s.undo[-MAX_HISTORY:]],
           "redo": [[label, to_data(c)] for label, c in s.redo[-MAX_HISTORY:]], "not_kept": s.not_kept}
    _write(folder() / "session.json", json.dumps(doc, ensure_ascii=False).encode())
    _prune(keep, {s.dataset, *(s.run_data.get(r) for r in keep)} - {None})


def _prune(runs: list[int], used: set[str | None]) -> None:
    for p in (folder() / "runs").glob("*.json"):
        if p.stem.isdigit() and int(p.stem) in runs:
            continue
        with contextlib.suppress(OSError):
            p.unlink()
    for p in (folder() / "datasets").glob("*.data"):
        if p.stem not in used:
            for stale in (p, p.with_suffix(".json")):
                with contextlib.suppress(OSError):
                    stale.unlink()


def clear() -> None:
    """Forget the whole workspace (tests, and a user who wants a clean slate)."""
    import shutil

    shutil.rmtree(folder(), ignore_errors=True)
