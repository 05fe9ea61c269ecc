"""Keeps what a refresh or a restart must not lose (the dataset, the last runs, the baseline,
Undo/Redo) in ftstudio.store.workspace, and brings it back into a new session's AppState."""

from __future__ import annotations

from typing import Any

from components.app_state import AppState
from ftstudio.store import workspace


def restore(a: AppState) -> None:
    """Bring back the dataset, runs, baseline and Undo/Redo of the last session (refresh or restart)."""
    from ftstudio.datasets import DatasetError, read_dataset

    try:
        saved = workspace.load_session()
        read: dict[str, Any] = {}

        def dataset_of(digest: str | None) -> Any:
            if digest and digest not in read:
                got = workspace.load_dataset(digest)
                try:
                    read[digest] = read_dataset(got[0], name=got[1]) if got else None
                except DatasetError:
                    read[digest] = None
            return read.get(digest) if digest else None

        if not a.has("dataset"):  # a dataset given before the first run (tests) wins
            a.dataset = dataset_of(saved.dataset)
            a.dataset_not_kept = saved.not_kept
        if saved.sample_field:
            a.sample_field = saved.sample_field
        runs = {}
        for run_id in saved.runs:
            doc = workspace.load_run(run_id)
            ds = dataset_of(doc.get("data_hash")) if doc else None
            if doc is not None and ds is not None:
                runs[run_id] = workspace.run_from_data(doc, ds)
        a.runs = runs
        a.run = runs.get(saved.current) if saved.current is not None else None
        a.baseline = runs.get(saved.baseline) if saved.baseline is not None else None
        a.run_counter = max([saved.counter, *runs])
        a.undo, a.redo = saved.undo, saved.redo
    except (OSError, ValueError, KeyError, TypeError) as exc:  # a damaged workspace must not stop the app
        a.workspace_error = f"The last session's data could not be restored ({exc})."


def persist() -> None:
    """Write what a refresh must not lose; a disk problem is said in the sidebar, never raised."""
    a = AppState()
    ds = a.dataset
    runs = a.runs
    session = workspace.Session(
        dataset=getattr(ds, "content_hash", None) if ds is not None and a.dataset_not_kept is None else None,
        dataset_name=getattr(ds, "name", None), sample_field=a.sample_field, runs=sorted(runs),
        run_data={i: r.data_hash for i, r in runs.items()}, current=a.run.id if a.run is not None else None,
        baseline=a.baseline.id if a.baseline is not None else None, counter=a.run_counter,
        undo=a.undo, redo=a.redo, not_kept=a.dataset_not_kept)
    try:
        workspace.save_session(session)
        a.workspace_error = None
    except OSError as exc:
        a.workspace_error = f"Could not keep the session on disk ({exc}); it stays in this tab."


def add_run(run) -> None:
    """A finished run goes on screen and on disk; only the newest runs (and the baseline) are kept."""
    a = AppState()
    a.run = run
    runs = {**a.runs, run.id: run}
    keep = sorted(runs)[-workspace.MAX_RUNS:]
    a.runs = {i: r for i, r in runs.items() if i in keep or (a.baseline is not None and i == a.baseline.id)}
    try:
        if not workspace.save_run(run):
            a.workspace_error = (f"Run {run.id} has more than {workspace.MAX_RUN_ROWS:,} rows: it is shown but not "
                                 "kept across a refresh.")
    except OSError as exc:
        a.workspace_error = f"Could not keep run {run.id} on disk ({exc}); it stays in this tab."
    persist()


def set_baseline(run) -> None:
    a = AppState()
    a.baseline = run
    if run is not None and run.id not in a.runs:
        a.runs = {**a.runs, run.id: run}
    persist()


def open_run(run) -> None:
    """Put a kept run on screen (the history's Open)."""
    a = AppState()
    a.run = run
    persist()


def delete_run(run_id: int) -> None:
    """Forget a kept run (screen, baseline and disk); the newest remaining run goes on screen."""
    a = AppState()
    runs = {i: r for i, r in a.runs.items() if i != run_id}
    a.runs = runs
    if a.baseline is not None and a.baseline.id == run_id:
        a.baseline = None
    if a.run is not None and a.run.id == run_id:
        a.run = runs[max(runs)] if runs else None
    persist()  # save_session prunes the run's file
