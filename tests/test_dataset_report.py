"""Per-method format reports and `check_data_main` (the `ftstudio check-data` command)."""

from __future__ import annotations

import io
import json

import pytest

from ftstudio.cli import check_data_main
from ftstudio.datasets import example_path, format_report, read_dataset


def sft(*messages, **extra):
    return {"messages": list(messages), **extra}


def msg(role, content="text", **extra):
    return {"role": role, "content": content, **extra}


GOOD_SFT = sft(msg("system", "Be terse."), msg("user", "2+2?"), msg("assistant", "4", weight=1))
GOOD_DPO = {
    "input": {"messages": [msg("user", "Capital of Japan?")]},
    "preferred_output": [msg("assistant", "Tokyo.")],
    "non_preferred_output": [msg("assistant", "Kyoto.")],
}
GOOD_RFT = {"messages": [msg("developer", "Answer briefly."), msg("user", "2+2?")], "answer": "4", "label": "math"}


def codes(report, severity=None):
    return [p.code for p in report.problems if severity is None or p.severity == severity]


def only(report, code):
    found = [p for p in report.problems if p.code == code]
    assert found, f"no {code} in {report.to_text()}"
    return found[0]


# --- supervised ------------------------------------------------------------------------------

def test_supervised_good_rows_are_ok():
    report = format_report([GOOD_SFT] * 50, "supervised", count_tokens=False)
    assert report.ok and report.problems == [] and report.n_rows == 50


@pytest.mark.parametrize(("n", "code", "severity"), [(9, "too_few_rows", "error"), (10, "few_rows", "warning"), (49, "few_rows", "warning")])
def test_supervised_row_count(n, code, severity):
    report = format_report([GOOD_SFT] * n, "supervised", count_tokens=False)
    assert codes(report) == [code] and report.problems[0].severity == severity


@pytest.mark.parametrize(
    ("row", "code", "path"),
    [
        ({"prompt": "x"}, "missing_messages", "messages"),
        (sft(), "empty_messages", "messages"),
        ({"messages": "hi"}, "invalid_messages", "messages"),
        (sft(msg("user"), "oops"), "invalid_message", "messages[1]"),
        (sft(msg("robot"), msg("assistant")), "invalid_role", "messages[0].role"),
        (sft({"content": "x"}, msg("assistant")), "missing_role", "messages[0].role"),
        (sft(msg("user")), "no_assistant_message", "messages"),
        (sft(msg("user"), msg("assistant", weight=2)), "invalid_weight", "messages[1].weight"),
        (sft(msg("user"), msg("assistant", weight=True)), "invalid_weight", "messages[1].weight"),
        (sft(msg("user", weight=1), msg("assistant")), "weight_not_on_assistant", "messages[0].weight"),
        (sft(msg("user", [{"type": "input_audio", "input_audio": {}}]), msg("assistant")), "unsupported_content_type", "messages[0].content[0].type"),
        (sft(msg("user", [{"type": "file", "file": {}}]), msg("assistant")), "unsupported_content_type", "messages[0].content[0].type"),
        (sft(msg("user", [{"type": "video"}]), msg("assistant")), "invalid_content_type", "messages[0].content[0].type"),
        (sft(msg("user", [{"type": "text", "text": 3}]), msg("assistant")), "invalid_content", "messages[0].content[0].text"),
        (sft(msg("user", 5), msg("assistant")), "invalid_content", "messages[0].content"),
        (sft({"role": "user"}, msg("assistant")), "missing_content", "messages[0].content"),
        (sft(msg("user"), msg("assistant"), tools={"f": 1}), "invalid_tools", "tools"),
        (sft(msg("user"), msg("assistant"), parallel_tool_calls="yes"), "invalid_parallel_tool_calls", "parallel_tool_calls"),
    ],
)
def test_supervised_errors_carry_row_line_and_path(row, code, path):
    rows = [GOOD_SFT] * 12 + [row]
    report = format_report(rows, "supervised", lines=list(range(1, 14)), count_tokens=False)
    assert not report.ok
    problem = only(report, code)
    assert (problem.severity, problem.row, problem.line, problem.path) == ("error", 12, 13, path)
    assert problem.message


def test_supervised_accepts_tools_images_legacy_roles_and_weight_zero():
    row = sft(
        msg("developer", "Use tools."),
        msg("user", [{"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": "data:,"}}]),
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "42"},
        {"role": "function", "name": "f", "content": "42"},
        msg("assistant", "It is 42.", weight=0),
        msg("assistant", "Final.", weight=1),
        tools=[{"type": "function", "function": {"name": "f"}}],
        parallel_tool_calls=False,
    )
    report = format_report([row] * 50, "supervised", count_tokens=False)
    assert report.ok and report.problems == []


def test_supervised_warnings():
    zero = sft(msg("user"), msg("assistant", weight=0))
    report = format_report([GOOD_SFT] * 60 + [zero, {**GOOD_SFT, "id": 1}, {**GOOD_SFT, "id": 2}], "supervised", count_tokens=False)
    assert report.ok
    assert only(report, "all_weights_zero").severity == "warning"
    unknown = [p for p in report.problems if p.code == "unknown_key"]
    assert len(unknown) == 1 and unknown[0].path == "id" and unknown[0].row == 61
    assert "in 2 rows" in unknown[0].message


# --- dpo -------------------------------------------------------------------------------------

def test_dpo_good_rows_are_ok():
    report = format_report([GOOD_DPO] * 12, "dpo", count_tokens=False)
    assert report.ok and report.problems == []


@pytest.mark.parametrize(
    ("change", "code", "severity", "path"),
    [
        ({"input": None}, "invalid_input", "error", "input"),
        ({"input": {"prompt": "x"}}, "missing_messages", "error", "input.messages"),
        ({"preferred_output": None}, "invalid_output", "error", "preferred_output"),
        ({"non_preferred_output": [msg("assistant"), msg("assistant")]}, "output_not_single", "error", "non_preferred_output"),
        ({"preferred_output": [msg("user")]}, "output_not_assistant", "error", "preferred_output[0].role"),
        ({"input": {"messages": [msg("user", [{"type": "image_url", "image_url": {"url": "x"}}])]}}, "unsupported_content_type", "error", "input.messages[0].content[0].type"),
        ({"input": {"messages": [msg("user"), msg("assistant"), msg("user")]}}, "multi_turn_input", "warning", "input.messages"),
        ({"input": {"messages": [msg("system")]}}, "last_message_not_user", "warning", "input.messages[0].role"),
        ({"non_preferred_output": GOOD_DPO["preferred_output"]}, "identical_outputs", "warning", "non_preferred_output"),
        ({"extra": 1}, "unknown_key", "warning", "extra"),
    ],
)
def test_dpo_problems(change, code, severity, path):
    report = format_report([GOOD_DPO] * 11 + [{**GOOD_DPO, **change}], "dpo", count_tokens=False)
    problem = only(report, code)
    assert (problem.severity, problem.row, problem.path) == (severity, 11, path)


def test_dpo_missing_keys():
    report = format_report([GOOD_DPO] * 11 + [{"input": GOOD_DPO["input"]}], "dpo", count_tokens=False)
    assert codes(report, "error") == ["missing_output", "missing_output"]


# --- reinforcement ---------------------------------------------------------------------------

def test_reinforcement_item_fields_and_partial_fields():
    rows = [GOOD_RFT] * 8 + [{"messages": GOOD_RFT["messages"], "answer": "5"}] * 2
    report = format_report(rows, "reinforcement", count_tokens=False)
    assert report.ok
    assert report.item_fields == {"answer": 10, "label": 8}
    problem = only(report, "field_in_some_rows")
    assert problem.path == "label" and "8 of 10 rows" in problem.message and "invalid_variable_error" in problem.message


def test_reinforcement_problems():
    rows = [
        GOOD_RFT,
        {"answer": "x"},
        {"messages": [], "answer": "x"},
        {"messages": [msg("user"), msg("assistant")], "answer": "x"},
        {**GOOD_RFT, "tools": "nope"},
    ]
    report = format_report(rows, "reinforcement", count_tokens=False)
    assert [(p.code, p.row) for p in report.problems if p.severity != "info"] == [
        ("field_in_some_rows", None),
        ("missing_messages", 1),
        ("empty_messages", 2),
        ("last_message_not_user", 3),
        ("invalid_tools", 4),
    ]
    assert only(report, "last_message_not_user").severity == "warning"
    no_fields = format_report([{"messages": [msg("user")]}] * 3, "reinforcement", count_tokens=False)
    assert codes(no_fields) == ["no_item_fields"]


def test_reinforcement_row_limits_per_role():
    rows = [GOOD_RFT] * 1001
    assert codes(format_report(rows, "reinforcement", count_tokens=False)) == []
    report = format_report(rows, "reinforcement", role="validation", count_tokens=False)
    assert codes(report) == ["too_many_rows"] and "at most 1,000" in report.problems[0].message
    big = format_report([GOOD_RFT] * 50_001, "reinforcement", count_tokens=False)
    assert codes(big) == ["too_many_rows"]


# --- report shape ----------------------------------------------------------------------------

def test_repeated_problems_are_capped_and_counted():
    bad = sft(msg("user"), msg("assistant", weight=3))
    report = format_report([bad] * 100, "supervised", count_tokens=False)
    shown = [p for p in report.problems if p.code == "invalid_weight"]
    assert len(shown) == 20 and report.counts[("error", "invalid_weight")] == 100
    assert report.n_errors == 100
    assert "... and 80 more [invalid_weight] (100 in all)" in report.to_text()
    data = report.to_dict()
    json.dumps(data)
    assert {"severity": "error", "code": "invalid_weight", "count": 100} in data["problem_counts"]
    assert len(data["problems"]) == 20


def test_dataset_line_errors_notes_and_sample_field():
    lines = [json.dumps({**GOOD_RFT, "model_sample": "4"})] * 5 + ["{broken", "", "[1]"]
    ds = read_dataset("\n".join(lines).encode(), name="d.txt")
    report = format_report(ds, "reinforcement", sample_field="model_sample", count_tokens=False)
    assert not report.ok
    assert [(p.line, p.code) for p in report.problems if p.code == "invalid_line"] == [(6, "invalid_line"), (8, "invalid_line")]
    assert {"read_note", "blank_lines", "sample_field_present"} <= set(codes(report, "info"))
    assert "model_sample" not in report.item_fields
    csv_report = format_report(read_dataset(b'messages,answer\n"[{""role"":""user"",""content"":""q""}]",1\n', name="d.csv"), "reinforcement", count_tokens=False)
    assert "not_jsonl" in codes(csv_report, "info") and csv_report.ok


def test_tokens_in_report_with_auto_and_fixed_epochs():
    report = format_report([GOOD_SFT] * 50, "supervised")
    assert report.tokens is not None and report.tokens.n_rows == 50
    assert report.tokens.n_epochs == 3 and report.tokens.billed_tokens == report.tokens.total * 3
    assert "cookbook heuristic" in report.to_text()
    fixed = format_report([GOOD_SFT] * 50, "supervised", n_epochs=7)
    assert fixed.tokens.billed_tokens == fixed.tokens.total * 7
    long_row = sft(msg("user", " a" * 66_000), msg("assistant"))
    report = format_report([GOOD_SFT] * 11 + [long_row], "supervised")
    assert only(report, "row_too_long").row == 11 and report.tokens.over_limit[0][0] == 11


def test_bundled_examples_pass_their_methods():
    for method in ("supervised", "dpo", "reinforcement"):
        report = format_report(read_dataset(example_path(method)), method, sample_field="model_sample")
        assert report.ok, report.to_text()
        assert report.n_warnings <= 1  # supervised: fewer than the recommended 50 rows


# --- check_data_main -------------------------------------------------------------------------

def run(path, method, as_json=False, **kw):
    out, err = io.StringIO(), io.StringIO()
    code = check_data_main(str(path), method, as_json, out=out, err=err, **kw)
    return code, out.getvalue(), err.getvalue()


def test_check_data_exit_codes_and_output(tmp_path):
    good = tmp_path / "good.jsonl"
    good.write_text("\n".join(json.dumps(GOOD_SFT) for _ in range(12)) + "\n")
    code, out, _ = run(good, "supervised")
    assert code == 0 and out.startswith("good.jsonl: supervised training data, 12 rows - OK")
    code, out, _ = run(good, "supervised", True)
    data = json.loads(out)
    assert code == 0 and data["ok"] and data["n_rows"] == 12 and data["tokens"]["total"] > 0

    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(GOOD_SFT) + "\n{oops\n")
    code, out, _ = run(bad, "supervised")
    assert code == 1 and "line 2: Expecting property name" in out and "too_few_rows" in out

    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    code, out, err = run(empty, "supervised")
    assert code == 2 and out == "" and err.startswith("error: empty.jsonl is empty")
    code, out, _ = run(tmp_path / "missing.jsonl", "dpo", True)
    assert code == 2 and json.loads(out) == {"ok": False, "error": f"{tmp_path / 'missing.jsonl'}: no such file. Check the path and try again."}
    code, _, err = run(good, "rlhf")
    assert code == 2 and "unknown method 'rlhf'" in err


def test_check_data_streams_in_chunks_like_the_whole_file_report(tmp_path, monkeypatch):
    from ftstudio.datasets import iter_rows

    path = tmp_path / "mixed.jsonl"
    rows = [json.dumps(GOOD_RFT if i % 5 else {"answer": "x"}) for i in range(40)]
    path.write_text("\n".join(rows[:20] + [""] + rows[20:]) + "\n")
    # Small chunks where check-data reads them, so the 40 rows arrive in six pieces.
    # check-data imports iter_rows from ftstudio.datasets when it runs (`--help` stays light): patch it there.
    monkeypatch.setattr("ftstudio.datasets.iter_rows", lambda p, **kw: iter_rows(p, **{**kw, "chunk_size": 7}))
    code, out, _ = run(path, "reinforcement", True)
    whole = format_report(read_dataset(path), "reinforcement", sample_field=None).to_dict()
    streamed = json.loads(out)
    assert code == 1
    for key in ("n_rows", "n_errors", "n_warnings", "problem_counts", "item_fields", "tokens"):
        assert streamed[key] == whole[key], key
    assert [p["row"] for p in streamed["problems"]] == [p["row"] for p in whole["problems"]]
