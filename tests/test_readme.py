"""The README opens with the two commands, and .ci/run runs the second one verbatim."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def commands():
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.+?)\n```", text, flags=re.S)[:2]


def test_two_commands_first():
    run_app, run_tests = commands()
    assert "pip install" in run_app and "streamlit run app.py" in run_app
    assert "pip install -e '.[test,trainers]'" in run_tests and "pytest" in run_tests
    head = (ROOT / "README.md").read_text().split("---")[0]
    assert head.count("```bash") == 2


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands()[1] in ci.splitlines()
    assert "apt-get update" in ci and "apt-get install -y chromium" in ci
    assert "playwright install" not in ci.replace("never `playwright install`", "")
