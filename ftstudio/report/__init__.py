"""The grading report: one run as a single self-contained HTML file to share (config summary, KPIs, the
app's charts, calibration, probe verdicts when probes were run for the run, the worst rows with their
rendered inputs). The app's "Download report" and `ftstudio grade --report OUT.html` build it the same way.

`charts` (public module) holds the plotly figures the Test grading page and the report share. plotly is the
app's dependency, not the grading core's: nothing here imports it until a report or a figure is drawn, and
`to_html` raises ReportUnavailable (saying how to install it) when it is missing.
"""

from __future__ import annotations

from ._html import HOW_TO_INSTALL, ReportUnavailable, plotting_missing, to_html
from ._report import WORST_ROWS, Report, ReportRow, default_threshold, grader_json, report_row, worst_indices

__all__ = ["HOW_TO_INSTALL", "WORST_ROWS", "Report", "ReportRow", "ReportUnavailable", "default_threshold", "grader_json", "plotting_missing",
           "report_row", "to_html", "worst_indices"]
