"""`ftstudio export --format tinker --data DATA -o DIR` in the app's venv: what the folder holds, what it never
holds (a key), and the errors that name what to do. The folder's runs are in tests/tinker (its own venv)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from ftstudio.cli import main as ftstudio

ROOT = Path(__file__).resolve().parents[1]
QUIZ = ROOT / "ftstudio" / "data" / "examples" / "reinforcement-quiz.jsonl"
PRESET = ROOT / "presets" / "rft-exact-match.json"


def test_the_folder_holds_grader_rows_train_py_wheel_and_no_key(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TINKER_API_KEY", "tml-SECRET-do-not-write")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-SECRET-do-not-write")
    out = tmp_path / "t"
    assert ftstudio(["export", str(PRESET), "--format", "tinker", "--data", str(QUIZ), "-o", str(out)]) == 0
    assert "run: cd " in capsys.readouterr().err
    grader = json.loads((out / "grader.json").read_text())
    assert grader == json.loads(PRESET.read_text())["config"]["method"]["reinforcement"]["grader"]
    rows = [json.loads(line) for line in (out / "rows.jsonl").read_text().splitlines()]
    assert rows == [json.loads(line) for line in QUIZ.read_text().splitlines()]
    assert "SAMPLE_FIELD = 'model_sample'" in (out / "train.py").read_text()
    assert not (out / "response_format.json").exists()  # this job has none
    (wheel,) = (out / "wheels").iterdir()
    assert "ftstudio/reward/envs.py" in zipfile.ZipFile(wheel).namelist()
    requirements = (out / "requirements.txt").read_text().splitlines()
    assert "--find-links wheels" in requirements and "tinker==0.38.0" in requirements
    assert f"ftstudio=={wheel.name.split('-')[1]}" in requirements
    for path in out.rglob("*"):
        if path.is_file():
            assert b"SECRET-do-not-write" not in path.read_bytes(), path


def test_a_job_with_a_response_format_ships_it(tmp_path):
    out = tmp_path / "t"
    preset = ROOT / "presets" / "rft-classification-structured.json"
    assert ftstudio(["export", str(preset), "--format", "tinker", "--data", str(QUIZ), "-o", str(out)]) == 0
    written = json.loads((out / "response_format.json").read_text())
    assert written == json.loads(preset.read_text())["config"]["method"]["reinforcement"]["response_format"]
    assert "response_format_valid" in (out / "README.md").read_text()


@pytest.mark.parametrize(("args", "code", "says"), [
    (["--data", str(QUIZ)], 1, "give it with -o DIR"),
    (["-o", "OUT"], 1, "give them with --data DATA"),
    (["--data", "MISSING.jsonl", "-o", "OUT"], 2, "MISSING.jsonl"),
    (["--data", "BAD", "-o", "OUT"], 2, "line 2"),
])
def test_errors_say_what_to_do(tmp_path, capsys, args, code, says):
    (tmp_path / "BAD").write_text('{"answer": "1"}\n{not json\n')
    args = [a if a in ("--data", "-o") or a == str(QUIZ) else str(tmp_path / a) for a in args]
    assert ftstudio(["export", str(PRESET), "--format", "tinker", *args]) == code
    assert says in capsys.readouterr().err


def test_a_job_without_a_grader_is_refused(tmp_path, capsys):
    sft = ROOT / "presets" / "supervised-chat.json"
    assert ftstudio(["export", str(sft), "--format", "tinker", "--data", str(QUIZ), "-o", str(tmp_path / "o")]) == 1
    assert "needs a reinforcement job with a grader" in capsys.readouterr().err


# --- --format promptfoo: the mapping (promptfoo itself runs the folders in tests/promptfoo) ---------------------

def _promptfoo(tmp_path, grader: dict, rows: list[dict], capsys) -> tuple[str, list[dict], str]:
    (tmp_path / "g.json").write_text(json.dumps(grader))
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "pf"
    assert ftstudio(["export", str(tmp_path / "g.json"), "--format", "promptfoo", "--data", str(data), "-o",
                     str(out)]) == 0
    tests = [json.loads(line) for line in (out / "tests.jsonl").read_text().splitlines()]
    return (out / "promptfooconfig.yaml").read_text(), tests, capsys.readouterr().err


CHECK = {"type": "string_check", "name": "exact", "operation": "ilike", "input": "{{ sample.output_text }}",
         "reference": "{{ item.answer }}"}
PY = {"type": "python", "name": "py", "source": "def grade(sample, item):\n    return 0.5\n"}


def test_a_native_check_renders_the_reference_per_row_and_an_error_row_falls_back_to_python(tmp_path, capsys):
    rows = [{"answer": "Paris", "tags": ["a", "b"], "model_sample": "paris!"}, {"model_sample": "no answer field"}]
    yaml, tests, summary = _promptfoo(tmp_path, {**CHECK, "pass_threshold": 1}, rows, capsys)
    assert "providers: [echo]" in yaml and 'prompts: ["{{ftstudio_output}}"]' in yaml
    assert "threshold: 1" in yaml and "approximate" not in yaml + summary
    first, second = tests
    assert first["assert"] == [{"type": "icontains", "metric": "exact", "value": "{{ftstudio_ref_0}}"}]
    assert first["vars"]["ftstudio_ref_0"] == "Paris" and first["vars"]["ftstudio_output"] == "paris!"
    assert first["vars"]["tags"] == '["a","b"]'  # a list var would become one test per element
    assert json.loads(first["vars"]["ftstudio_row"]) == rows[0]
    assert second["assert"] == [{"type": "python", "value": "file://grader.py", "metric": "exact"}]


def test_a_weighted_average_is_an_assert_set_and_other_formulas_one_python_assertion(tmp_path, capsys):
    multi = {"type": "multi", "name": "m", "calculate_output": "0.25 * py + 0.75 * exact",
             "graders": {"exact": CHECK, "py": PY}, "pass_threshold": 0.5}
    yaml, tests, _ = _promptfoo(tmp_path, multi, [{"answer": "x", "model_sample": "x"}], capsys)
    (assert_set,) = tests[0]["assert"]
    assert assert_set["type"] == "assert-set" and assert_set["threshold"] == 0.5
    assert [(a["type"], a["weight"]) for a in assert_set["assert"]] == [("python", 0.25), ("icontains", 0.75)]
    assert assert_set["assert"][0]["value"] == "file://grader.py:get_assert_0_py"
    grader_py = (tmp_path / "pf" / "grader.py").read_text()
    assert "get_assert_0_py = _child('py')" in grader_py
    assert "approximate: m: a row where a python-graded child fails" in yaml
    for formula in ("max(py, exact)", "py + exact"):  # not an average: weights must sum to 1
        _yaml, tests, _ = _promptfoo(tmp_path, {**multi, "calculate_output": formula}, [{"answer": "x"}], capsys)
        assert tests[0]["assert"] == [{"type": "python", "value": "file://grader.py", "metric": "m"}]


def _grader_py(folder: Path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"grader_{folder.name}", folder / "grader.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_grader_py_grades_here_or_through_ftstudio_serve_alike(tmp_path, monkeypatch, capsys):
    """grader.py's assertions give grade's reward (and a child's sub-reward), graded in process or, with
    FTSTUDIO_SERVE_URL, by a running `ftstudio serve grader.json` (its token from FTSTUDIO_SERVE_TOKEN)."""
    from ftstudio.reward import Reward
    from tests.serve_process import ServeProcess

    multi = {"type": "multi", "name": "m", "calculate_output": "0.25 * py + 0.75 * exact",
             "graders": {"exact": CHECK, "py": PY}}
    rows = [{"answer": "Paris", "model_sample": "paris"}, {"answer": "Oslo", "model_sample": "Rome"}, {"q": 1}]
    _promptfoo(tmp_path, multi, rows, capsys)
    folder = tmp_path / "pf"
    outputs = ["paris", "Rome", "x"]
    with Reward.load(folder / "grader.json") as reward:
        records = reward.score_detailed(outputs, rows)
    assert records[-1]["errors"] and records[0]["reward"] == 0.875  # 0.25 * 0.5 + 0.75 * 1

    def answers(module) -> list[tuple[dict, dict]]:
        contexts = [{"vars": {"ftstudio_row": json.dumps(r)}} for r in rows]
        return [(module.get_assert(o, c), module.get_assert_0_py(o, c)) for o, c in zip(outputs, contexts)]

    monkeypatch.delenv("FTSTUDIO_SERVE_URL", raising=False)
    here = answers(_grader_py(folder))
    monkeypatch.setenv("SERVE_TEST_TOKEN", "t0ken-for-the-test")
    with ServeProcess(str(folder / "grader.json"), "--port", "0", "--token-env", "SERVE_TEST_TOKEN") as server:
        monkeypatch.setenv("FTSTUDIO_SERVE_URL", server.url)
        monkeypatch.setenv("FTSTUDIO_SERVE_TOKEN", "t0ken-for-the-test")
        served = answers(_grader_py(folder))
    for answer in (here, served):
        for (whole, child), record in zip(answer, records, strict=True):
            assert whole["score"] == pytest.approx(record["reward"], abs=1e-12)
            assert whole["pass"] is not bool(record["errors"])
            assert child["score"] == pytest.approx(0.0 if record["errors"] else record["sub_rewards"]["py"])


def test_the_readme_alone_is_the_folders_readme_without_encoding_the_rows():
    """The app's Export page shows README.md on every render: tinker_readme needs the row count, not the rows."""
    from ftstudio.config import JobConfig
    from ftstudio.reward import tinker_files, tinker_readme

    cfg = JobConfig.model_validate(json.loads(PRESET.read_text())["config"])
    rows = [json.loads(line) for line in QUIZ.read_text().splitlines()]
    readme = tinker_readme(cfg, len(rows), "model_sample")
    assert readme == tinker_files(cfg, rows, "model_sample")["README.md"]
    assert f"the {len(rows)} row(s) of the dataset" in readme
