"""The grading report (ftstudio.report, `ftstudio grade --report`): one self-contained HTML file with the
configuration, the KPIs, the app's charts, calibration, probe verdicts and the worst rows with their rendered
inputs; nothing in it reaches the network; user text is escaped; secrets are masked; without plotly it says so."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from ftstudio.cli._main import main
from ftstudio.graders import parse_grader
from ftstudio.grading import grade, rendered_inputs
from ftstudio.probes import ProbeReport, ProbeResult, calibration
from ftstudio.report import Report, ReportUnavailable, report_row, to_html, worst_indices

GRADER = {"type": "multi", "name": "m <b>bold</b>", "calculate_output": "0.5 * a + 0.5 * b", "graders": {
    "a": {"type": "string_check", "name": "a", "operation": "eq", "input": "{{ sample.output_text }}",
          "reference": "{{ item.reference_answer }}"},
    "b": {"type": "score_model", "name": "judge", "model": "gpt-4o-mini",
          "input": [{"role": "user", "content": "Reference: {{ item.reference_answer }}\nAnswer: {{ sample.output_text }}"}]}}}
ROWS = [{"reference_answer": "paris", "model_sample": "paris"},
        {"reference_answer": "rome", "model_sample": "<script>alert(1)</script>"},
        {"reference_answer": "oslo", "model_sample": "bergen"}]


class _Tags(HTMLParser):
    """Every URL-bearing attribute and every <script>/<link> of the document."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.urls += [v or "" for k, v in attrs if k in ("src", "href")]


def _report(**kw) -> Report:
    grader = parse_grader(GRADER)
    string_only = parse_grader(GRADER["graders"]["a"])
    results = grade(string_only, ROWS)  # no endpoint needed: the report does not grade
    rows = [report_row(results, i, ROWS[i], grader) for i in worst_indices(results)]
    return Report(results, grader, "data.jsonl", "all 3 rows", "model_sample", 0.5,
                  calibration(results, ROWS), worst=rows, **kw)


def test_the_report_is_one_file_with_its_script_inlined_and_no_address_outside():
    page = to_html(_report())
    tags = _Tags()
    tags.feed(page)
    assert "link" not in tags.tags
    assert all(u.startswith("#") or not u for u in tags.urls), tags.urls  # no src=, no href= to anything
    assert "default-src 'none'" in page  # the browser refuses any request the page would make
    assert "Plotly.newPlot" in page and len(page) > 3_000_000  # plotly.js itself, inlined
    assert "Reward distribution" in page and "Calibration" in page


def test_user_text_is_escaped_and_the_rendered_inputs_are_shown():
    page = to_html(_report())
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "m &lt;b&gt;bold&lt;/b&gt;" in page
    # the judge's message as the model would receive it, rendered for the worst row (bergen vs oslo)
    assert "Reference: oslo\nAnswer: bergen" in page
    # lowest reward first, ties in file order
    assert page.index("row 2 · reward 0.0000") < page.index("row 3 · reward 0.0000") < page.index("row 1 · reward 1")


def test_rendered_inputs_never_grade():
    nodes = rendered_inputs(GRADER, ROWS[0])  # a score_model node, and no endpoint configured: nothing is called
    judge = next(n for n in nodes if n["type"] == "score_model")
    assert judge["rendered"]["messages"][0]["content"] == "Reference: paris\nAnswer: paris"
    missing = rendered_inputs(GRADER, {"reference_answer": "x"})
    assert all("model_sample" in n["problem"] for n in missing)


def test_probe_verdicts_appear_only_when_given():
    probes = ProbeReport(0.5, 0.5, [ProbeResult("empty", 3, 0.9, 0.4, 0.2, 0.9, True, "empty answers score 0.9"),
                                    ProbeResult("padded", 3, 0.1, 0.0, 0.3, 0.0, False, None)], genuine_rows=3)
    page = to_html(_report(probes=probes))
    assert "Can this grader be gamed?" in page
    assert "1 probe(s) game this grader" in page and "empty answers score 0.9" in page
    assert "<td>40.0%</td><td>20.0%</td>" in page  # above genuine and tied, two columns
    assert "Can this grader be gamed?" not in to_html(_report())


def test_secrets_and_endpoint_headers_are_masked():
    grader = parse_grader({"type": "endpoint", "name": "svc", "url": "https://grader.example/score",
                           "headers": {"Authorization": "Bearer abc123def456"}})
    results = grade(parse_grader(GRADER["graders"]["a"]), ROWS[:1])
    page = to_html(Report(results, grader, "d", "all 1 row", "model_sample", 0.5))
    assert "abc123def456" not in page
    assert "Authorization" in page and "[REDACTED]" in page


def test_without_plotly_the_report_says_what_to_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "plotly" else real(name, *a))
    with pytest.raises(ReportUnavailable, match=r"plotly.*pip install 'ftstudio\[app\]'"):
        to_html(_report())


# --- ftstudio grade --report -------------------------------------------------------------------

def _files(tmp_path):
    g = tmp_path / "g.json"
    g.write_text(json.dumps(GRADER["graders"]["a"]))
    d = tmp_path / "d.jsonl"
    d.write_text("\n".join(json.dumps(r) for r in ROWS) + "\nnot json\n")
    return str(g), str(d)


def test_grade_report_writes_the_html_beside_the_summary(tmp_path, capsys):
    g, d = _files(tmp_path)
    out = tmp_path / "r.html"
    assert main(["grade", g, d, "--report", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"wrote the report to {out}" in printed
    page = out.read_text()
    assert "all 4 rows" in page and "Unreadable line" in page  # the unreadable line is one of the worst rows
    assert re.search(r"row 4 · line 4 · reward 0\.0000 · ⚠ error", page)
    assert "Threshold failing" in page  # the calibration the CLI printed, in the file


def test_grade_report_without_plotly_exits_one_before_grading(tmp_path, capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "plotly" else real(name, *a))
    g, d = _files(tmp_path)
    out = tmp_path / "r.html"
    assert main(["grade", g, d, "--report", str(out), "--out", str(tmp_path / "o.jsonl")]) == 1
    err = capsys.readouterr().err
    assert "--report needs plotly" in err and "pip install 'ftstudio[app]'" in err
    assert not out.exists() and not (tmp_path / "o.jsonl").exists()  # nothing graded, nothing written


def test_grade_report_refuses_a_name_that_is_not_html(tmp_path, capsys):
    g, d = _files(tmp_path)
    assert main(["grade", g, d, "--report", str(tmp_path / "r.pdf")]) == 2
    assert "use an .html file name" in capsys.readouterr().err
