"""The README opens with the two commands, and .ci/run runs the second one verbatim."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def commands():
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.+?)\n```", text, flags=re.S)[:2]


def test_two_commands_first():
    run_app, run_tests = commands()
    # the app is an extra: the core installs without streamlit (pyproject.toml)
    assert "pip install -e '.[app]'" in run_app and "streamlit run app.py" in run_app
    assert "pip install -e '.[test,trainers,providers,ray]'" in run_tests and "pytest" in run_tests
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
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    for package in ("ruff", "pyright", "import-linter"):
        assert any(req.startswith(package) for req in extra), package
    # the trainers', tinker's and promptfoo's installs start after the project's venv where they layer over it,
    # and are awaited (a failed one fails the run) before the tests that use them
    for name, started in (("trainer-venvs", install), ("tinker-venv", install), ("promptfoo", 0)):
        start = lines.index(f"background {name} bash .ci/{name}")
        assert started <= start < lines.index(f"await {name}") < tests, name


RANDOM_RUN = 'python -m pytest -m "not slow and not e2e" -p randomly --randomly-seed="$seed"'


def test_ci_runs_the_tests_with_an_empty_home_and_fails_on_anything_written_there():
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    empty, tests = lines.index("export HOME=$EMPTY_HOME"), lines.index(commands()[1])
    back = lines.index("export HOME=$REAL_HOME")
    assert "EMPTY_HOME=$(mktemp -d)" in lines[:empty] and empty < tests < lines.index(RANDOM_RUN) < back
    check = "\n".join(lines[back:])
    assert '"$EMPTY_HOME/.ftstudio" "$EMPTY_HOME/.cache/ftstudio"' in check and "exit 1" in check
    # pip still finds the user's configuration and cache with HOME elsewhere
    assert any(line.startswith("export PIP_CACHE_DIR=") for line in lines[:empty])


def test_ci_runs_the_fast_tests_again_in_random_order_and_prints_the_seed():
    ci = (ROOT / ".ci" / "run").read_text()
    assert RANDOM_RUN in ci.splitlines() and 'echo "random order: ' in ci and "--randomly-seed=$seed" in ci
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert any(req.startswith("pytest-randomly")
               for req in tomllib.loads(pyproject)["project"]["optional-dependencies"]["test"])
    # the README's own run keeps file order: pytest-randomly is off unless `-p randomly` turns it back on
    assert "-p no:randomly" in pyproject.split("addopts = ", 1)[1].splitlines()[0]
    development = (ROOT / "README.md").read_text().split("## Development", 1)[1]
    assert '`python -m pytest -m "not slow and not e2e" -p randomly --randomly-seed=N`' in development
