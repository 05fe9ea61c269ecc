""""Download report" on the Test grading page: the run on screen as one self-contained HTML file to share
(ftstudio.report builds it, the same report as `ftstudio grade --report`).

It holds what the page shows for the run: the pass threshold of the slider, the calibration with the grouping
chosen under "Before you train", and the probe verdicts when the probes were run for this run's grader and data.
The file is built only on click (it inlines plotly.js, ~5 MB).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from components import run_cache, state
from ftstudio.grading import GradingRun
from ftstudio.probes import ProbeReport, calibration
from ftstudio.report import Report, report_row, to_html, worst_indices

IDENTICAL = "(identical items)"  # the calibration's grouping choice meaning "rows with identical items"
PROBE_REPORT = state.key("tg", "probe_report")  # (grader fingerprint, ProbeReport) of the last probes run
CAL_GROUP = state.key("tg", "cal-group")


def calibration_of(run: GradingRun, choice: str | None) -> dict[str, Any]:
    """The run's calibration with samples grouped by the field `choice` (IDENTICAL or None: identical items);
    built once per run and grouping."""
    field = None if choice in (None, IDENTICAL) else choice
    return run_cache.derived(run, ("calibration", field), lambda: calibration(
        run.results, run.iter_entries(), group_field=field, sample_field=run.sample_field))


def probes_for(run: GradingRun, saved: tuple[str, ProbeReport] | None) -> ProbeReport | None:
    """The probe report `saved` (grader fingerprint, report) when the probes ran for this run's grader and data."""
    return saved[1] if saved and saved[0] == run.fingerprint else None


def build(run: GradingRun, threshold: float, group_choice: str | None, probes: ProbeReport | None) -> Report:
    """The report of `run` as the page shows it. Pure (no session state): the download calls it on click,
    outside the page's script run."""
    res = run.results
    worst = [report_row(res, i, run.entry(i), run.grader, run.sample_field, run.row_index[i])
             for i in worst_indices(res)]
    return Report(res, run.grader, run.dataset.name, run.scope_text, run.sample_field, threshold,
                  calibration_of(run, group_choice), probes, worst,
                  title=f"Grading report · {run.label} · {res.grader_type} '{res.grader_name}'",
                  total_rows=run.total_rows)


def button(run: GradingRun, threshold: float) -> None:
    probes, choice = probes_for(run, state.widget(PROBE_REPORT)), state.widget(CAL_GROUP)
    with_probes = " and the probe verdicts" if probes is not None else ""
    st.download_button("Download report", data=lambda: to_html(build(run, threshold, choice, probes)).encode("utf-8"),
                       file_name=f"grading-run-{run.id}-report.html", mime="text/html",
                       key=state.key("tg", "dl-report"), icon=":material/summarize:", on_click="ignore", width="stretch",
                       help="One HTML file that opens offline in any browser: the configuration, these KPIs, the "
                            f"charts (interactive), the calibration{with_probes} and the worst rows with their rendered "
                            f"inputs, at the pass threshold {threshold:g}.")
