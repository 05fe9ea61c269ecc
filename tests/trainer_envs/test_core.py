"""The grading core installs and imports without the app's and the service's dependencies: in a venv with
only `pip install -e .` (no extras), ftstudio.reward grades a tree (python grader and sandbox included) and
none of streamlit, plotly, pandas, starlette or uvicorn is installed."""

from __future__ import annotations

from envs import last_json, run_in

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
