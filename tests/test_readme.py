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
    assert "pip install -e '.[test,trainers,providers]'" in run_tests and "pytest" in run_tests
    head = (ROOT / "README.md").read_text().split("---")[0]
    assert head.count("```bash") == 2


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands()[1] in ci.splitlines()
    assert "apt-get update" in ci and "apt-get install -y chromium" in ci
    assert "playwright install" not in ci.replace("never `playwright install`", "")


CHECKS = ("ruff check .", "pyright", "lint-imports")
FAST = 'python -m pytest -m "not slow and not e2e"'


def test_development_section_names_the_checks_and_the_fast_run():
    text = (ROOT / "README.md").read_text()
    development = text.split("## Development", 1)[1].split("\n## ", 1)[0]
    for command in (*CHECKS, FAST):
        assert f"`{command}`" in development, command


def test_ci_runs_the_checks_after_installing_and_before_the_tests():
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    install = next(i for i, line in enumerate(lines) if "pip install -e '.[test" in line)
    tests = lines.index(commands()[1])
    for command in CHECKS:
        assert install < lines.index(command) < tests, command
    extra = (ROOT / "pyproject.toml").read_text().split("test = [", 1)[1].split("]", 1)[0]
    for package in ("ruff", "pyright", "import-linter"):
        assert f'"{package}' in extra, package
