"""`ftstudio grade ... --report OUT.html`: the run as one self-contained HTML file (ftstudio.report), the same
report the app's "Download report" writes.

The report's charts need plotly, the [app] extra: without it `--report` stops before any grading (exit 1,
saying what to install). The file is opened up front, so a bad path fails before grading too. The worst
rows are read again from the data file afterwards (grading streams the data; only those rows are kept).
"""

from __future__ import annotations

from typing import IO, Any

from ._common import EXIT_INVALID, EXIT_UNREADABLE, CliError


class ReportFile:
    def __init__(self, path: str | None):
        self.path, self.fh = path, None
        if not path:
            return
        from ftstudio.report import HOW_TO_INSTALL, plotting_missing

        if plotting_missing():
            raise CliError("ftstudio: --report needs plotly, the app's plotting dependency (the [app] extra), which "
                           f"is not installed: {HOW_TO_INSTALL}", EXIT_INVALID)
        if not path.lower().endswith((".html", ".htm")):
            raise CliError(f"ftstudio: --report {path}: use an .html file name", EXIT_UNREADABLE)
        try:
            self.fh: IO[str] | None = open(path, "w", encoding="utf-8")
        except OSError as exc:
            raise CliError(f"ftstudio: cannot write {path}: {exc.strerror or exc}", EXIT_UNREADABLE) from None

    def close(self) -> None:
        if self.fh:
            self.fh.close()

    def write(self, grader: Any, results: Any, calibration: dict[str, Any], args: Any) -> None:
        if not self.fh:
            return
        from ftstudio.grading import to_grader
        from ftstudio.report import Report, default_threshold, report_row, to_html, worst_indices

        model = to_grader(grader)
        wanted = worst_indices(results)
        entries = _entries_at(args.data, set(wanted), args.chunk_size)
        worst = [report_row(results, i, entries.get(i), model, args.sample_field) for i in wanted]
        report = Report(results, model, args.data, f"all {len(results):,} rows", args.sample_field,
                        default_threshold(results, model), calibration, None, worst,
                        title=f"Grading report · {results.grader_type} '{results.grader_name}'")
        self.fh.write(to_html(report))
        self.fh.close()
        self.fh = None


def _entries_at(path: str, wanted: set[int], chunk_size: int) -> dict[int, Any]:
    """The dataset entries (row dicts or LineErrors, in the file's order as graded) at the wanted indices."""
    from ftstudio.datasets import iter_rows

    found: dict[int, Any] = {}
    at = 0
    for chunk in iter_rows(path, chunk_size=chunk_size, max_bytes=None):
        for _line, entry in chunk.entries():
            if at in wanted:
                found[at] = entry
            at += 1
        if len(found) == len(wanted):
            break
    return found
