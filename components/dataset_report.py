"""The dataset's format report and token counts, computed once per (data, method, output field) and
(data, method): a plain rerun computes nothing.

A dataset of more than BACKGROUND_ROWS rows is checked in a background thread, started once the page
is drawn (`start_pending`): reading every row takes seconds at 200 MB (the token counts tens of
seconds), and the page (status, output field, preview, Grade) must not wait for it. A fragment polls
until the checks are done, then reruns the page.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import streamlit as st

from components import state
from ftstudio import datasets as D
from ftstudio.core import counted

BACKGROUND_ROWS = 20_000  # above this, the checks run off the page's run
POLL_SECONDS = 1.0


def n_epochs_of(cfg) -> int | str:
    block = getattr(cfg.method, cfg.method_type, None) if cfg.method else None
    hp = getattr(block, "hyperparameters", None) or cfg.hyperparameters
    value = getattr(hp, "n_epochs", None)
    return value if isinstance(value, int) else "auto"


class _Check:
    """A check of one dataset: run now (`run`), or by `start_pending` in a background thread."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self.future: Future = Future()
        self.started = False
        self._build = build

    def run(self) -> None:
        self.started = True
        try:
            self.future.set_result(self._build())
        except BaseException as exc:  # the page shows it, as it would have shown it synchronously
            self.future.set_exception(exc)


def _derived(key: tuple, build: Callable[[], Any], background: bool) -> Future:
    """Per-dataset cache of reports/token counts; entries of other datasets are dropped."""
    store: dict = state.app().dataset_derived
    if key not in store:
        for k in [k for k in store if k[1] != key[1]]:
            del store[k]
        store[key] = _Check(build)
        if not background:
            store[key].run()
    return store[key].future


def start_pending() -> None:
    """Start the checks this page asked for, one after the other in one thread. The page calls this at
    its end: checks running while the page is drawn would slow it (they share the interpreter)."""
    checks = [c for c in state.app().dataset_derived.values() if isinstance(c, _Check) and not c.started]
    for c in checks:
        c.started = True
    if checks:
        # A daemon thread, not a pool's: a check still running must not hold up the server's exit.
        threading.Thread(target=lambda: [c.run() for c in checks], name="ftstudio-dataset-checks",
                         daemon=True).start()


def _count_tokens(ds: D.Dataset, method: str) -> tuple[D.TokenCounter | None, str | None]:
    """(the counter, None), or (None, why the counts are unavailable): token counts are a nicety and
    never block the page."""
    try:
        counter = D.TokenCounter(method)
        counter.add(ds.store, ds.lines)
        return counter, None
    except Exception as exc:
        return None, f"Token counts unavailable: {type(exc).__name__}: {exc}"


@st.fragment(run_every=POLL_SECONDS)
def _poll(pending: list[Future]) -> None:
    if all(f.done() for f in pending):
        st.rerun()  # the whole page: it shows the results


def render(ds: D.Dataset, cfg) -> None:
    method, sf = cfg.method_type, state.sample_field()
    background = len(ds) > BACKGROUND_ROWS
    report_f = _derived(("report", ds.content_hash, method, sf),
                        lambda: D.format_report(ds, method, n_epochs=n_epochs_of(cfg), sample_field=sf,
                                                count_tokens=False), background)
    if background:
        tokens_f = _derived(("tokens", ds.content_hash, method), lambda: _count_tokens(ds, method), True)
    else:
        with st.spinner("Counting tokens …"):
            tokens_f = _derived(("tokens", ds.content_hash, method), lambda: _count_tokens(ds, method), False)
    pending = [f for f in (report_f, tokens_f) if not f.done()]
    if not report_f.done():
        with st.expander(f":material/hourglass_top: Checking the format of {len(ds):,} rows …"):
            st.caption("The report and the token counts show here when they are done; the rest of the page "
                       "works meanwhile.")
        _poll(pending)
        return
    report = report_f.result()
    counter, why = tokens_f.result() if tokens_f.done() else (None, None)
    stats = counter.finish(n_epochs_of(cfg)) if counter is not None else None
    verdict = (f":material/check_circle: Format OK for {method} training data" if report.ok
               else f":material/error: {counted(report.n_errors, 'format error')} for {method} training data")
    with st.expander(f"{verdict} · {counted(report.n_warnings, 'warning')} · {counted(report.count('info'), 'note')}",
                     expanded=not report.ok):
        _problems(report)
        if why:
            st.caption(why)
        if pending:
            st.caption(f":material/hourglass_top: Counting the tokens of {len(ds):,} rows …")
            _poll(pending)
        if stats is not None:
            _token_metrics(stats, method)


def _problems(report: D.FormatReport) -> None:
    if report.problems:
        st.dataframe([{"severity": p.severity, "where": p.where() or "file", "code": p.code,
                       "message": p.message} for p in report.problems], hide_index=True, width="stretch")
        for (_sev, code), n in report.counts.items():
            if n > report.cap:
                st.caption(f"… and {n - report.cap:,} more {code} ({n:,} in all).")
    else:
        st.caption("No problems found.")
    if report.item_fields:
        st.caption("Item fields (rows that have each): "
                   + ", ".join(f"`{k}` ({n:,})" for k, n in report.item_fields.items()))


def _token_metrics(stats: D.TokenStats, method: str) -> None:
    cols = st.columns(4)
    cols[0].metric("Tokens", f"{stats.total:,}", help=f"{stats.encoding}; messages and tools of every row")
    cols[1].metric("Mean / max per row", f"{stats.mean:,.0f} / {stats.max:,}")
    cols[2].metric(f"Billed estimate (× {stats.n_epochs} epochs)", f"{stats.billed_tokens:,}",
                   help="n_epochs 'auto' estimated with OpenAI's cookbook heuristic" if stats.n_epochs_auto else None)
    cols[3].metric("Rows over 65,536 tokens", f"{len(stats.over_limit):,}")
    if method == "reinforcement":
        st.caption("Reinforcement jobs are billed by training time, not tokens: take this as a size indication.")
