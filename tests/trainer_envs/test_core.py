"""The grading core installs and imports without the app's and the service's dependencies: in a venv with
only `pip install -e .` (no extras), ftstudio.reward grades a tree (python grader and sandbox included) and
none of streamlit, plotly, pandas, starlette or uvicorn is installed."""

from __future__ import annotations

from envs import ROOT, last_json, run_in

SCRIPT = """
import importlib.util, json, sys
from ftstudio.reward import Reward
grader = {"type": "multi", "name": "m", "calculate_output": "a + b", "graders": {
    "a": {"type": "string_check", "name": "a", "operation": "eq", "input": "{{ sample.output_text }}",
          "reference": "{{ item.reference_answer }}"},
    "b": {"type": "python", "name": "b", "source": "def grade(sample, item):\\n    return 0.5\\n"}}}
with Reward.load(grader) as reward:
    scores = reward.score(["paris", "rome"], [{"reference_answer": "paris"}] * 2)
absent = [m for m in ("streamlit", "plotly", "pandas", "starlette", "uvicorn") if importlib.util.find_spec(m) is None]
print(json.dumps({"scores": scores, "absent": absent, "loaded": sorted(m for m in ("streamlit", "plotly", "pandas",
      "starlette", "uvicorn", "openai") if m in sys.modules)}))
"""


def test_the_core_alone_grades(tmp_path):
    out = last_json(run_in("core", ["-c", SCRIPT], home=tmp_path))
    assert out == {"scores": [1.5, 0.5], "absent": ["streamlit", "plotly", "pandas", "starlette", "uvicorn"],
                   "loaded": []}


def test_grade_report_without_the_app_extra_says_what_to_install(tmp_path):
    """`grade --report` needs plotly (the [app] extra): in the core venv it exits 1 before grading, saying so."""
    import json
    import subprocess

    from envs import venv_python

    grader, data, out = tmp_path / "g.json", tmp_path / "d.jsonl", tmp_path / "r.html"
    grader.write_text(json.dumps({"type": "string_check", "name": "s", "operation": "eq",
                                  "input": "{{ sample.output_text }}", "reference": "a"}))
    data.write_text('{"model_sample": "a"}\n')
    env = {"HOME": str(tmp_path), "FTSTUDIO_HOME": str(tmp_path / ".ftstudio"), "PATH": "/usr/bin:/bin",
           "FTSTUDIO_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([str(venv_python("core")), "-m", "ftstudio", "grade", str(grader), str(data),
                           "--report", str(out)], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert "--report needs plotly" in proc.stderr and "pip install 'ftstudio[app]'" in proc.stderr
    assert not out.exists() and "graded" not in proc.stdout
