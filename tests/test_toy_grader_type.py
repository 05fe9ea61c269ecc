"""A new grader type is one file (issue 19): a toy type that scores `len(output) > 0`, written as one module
into a copy of the tree, appears in validation, grading, the CLI, the tree editor (as JSON), `serve` and the
reward adapters, with no other file changed.

The copy holds the package, the app and the presets exactly as in the repository plus the toy's module
(`ftstudio/graders/types/toy.py`); the test checks that, then runs everything in a child process whose
imports come from the copy only.
"""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COPIED = ("ftstudio", "components", "app_pages", "presets", "app.py")
TOY_MODULE = "ftstudio/graders/types/toy.py"

TOY = '''"""toy: 1 when the model output is not empty. A grader type added by a test, in this one file."""

from __future__ import annotations

from typing import Any, Literal

from ftstudio.core import Evidence, Rule, Unavailable

from .._models import GraderModel
from ._type import GENERIC_FIX, Checker, GraderType, Path, Rows, Scored, ScoringContext, as_is


class ToyGrader(GraderModel):
    type: Literal["toy"] = "toy"
    name: str | None = None


def score(node: ToyGrader, ctx: ScoringContext, rows: list[int]) -> Scored:
    outputs = ctx.batch.outputs
    return [1.0 if len(outputs[r] or "") > 0 else 0.0 for r in rows], {}


def check(c: Checker, g: dict[str, Any], path: Path, depth: int) -> None:
    if g.get("name") == "forbidden":
        c.add(path + ("name",), "toy_unavailable", "a toy named 'forbidden'")


def explain(node: ToyGrader, batch: Rows) -> dict[str, Any]:
    return {"output": batch.outputs[0]}


RULE = Rule("toy_unavailable", {"*": "error"}, (Evidence("none-our-reading", "OURS", "a test's own type"),),
            "toy graders exist only in a test")

TYPE = GraderType(
    name="toy", model=ToyGrader, order=1000, default=lambda name: ToyGrader(name=name), remote=False,
    calls_model=False, inline=True, score=score, check=check, explain=explain,
    fix=lambda node, probe: GENERIC_FIX.get(probe, "a toy passes anything that is not empty"),
    targets={"openai": as_is},
    elsewhere=Unavailable("toy graders exist only in a test; this target doesn't take them", "toy_unavailable"),
    rules=(RULE,),
)
'''

# Runs in the child, from the copy. Prints one JSON object the test reads.
SCRIPT = r'''
import json, os, re, subprocess, sys, time, urllib.request
from pathlib import Path

out = {}
TOY = {"type": "toy", "name": "nonempty"}
TREE = {"type": "multi", "name": "both", "calculate_output": "t + 0 * s",
        "graders": {"t": TOY, "s": {"type": "string_check", "name": "s", "input": "{{ sample.output_text }}",
                                     "reference": "x", "operation": "eq"}}}
ROWS = [{"model_sample": "an answer"}, {"model_sample": ""}, {"model_sample": "y"}]
here = Path(os.getcwd())
(here / "toy.json").write_text(json.dumps(TREE))
(here / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
config = {"model": "o4-mini-2025-04-16", "training_file": "file-x",
          "method": {"type": "reinforcement", "reinforcement": {"grader": TREE}}}
(here / "job.json").write_text(json.dumps(config))

import ftstudio.graders as G
out["from_copy"] = G.__file__.startswith(str(here))
out["types"] = list(G.GRADER_TYPES)

# validation
from ftstudio.validation import check, check_grader
out["check_openai"] = [(i.code, i.severity) for i in check_grader(TOY)]
out["check_azure"] = [(i.code, i.severity, i.path) for i in check_grader(TREE, target="azure")]
out["check_own_rule"] = [(i.code, i.severity) for i in check_grader(dict(TOY, name="forbidden"))]
out["schema"] = [(i.code, i.path) for i in check_grader(dict(TOY, extra=1))]
out["job_errors"] = [i.code for i in check(config) if i.severity == "error"]

# grading, the results drill-down and the probe hint
from ftstudio.grading import explain, grade
out["grade"] = list(grade(TREE, ROWS).rewards)
out["explain"] = explain(TOY, ROWS[0])["nodes"][0]["rendered"]
from ftstudio.probes import fix_for
out["fix"] = fix_for(G.parse_grader(TOY), "pad")

# the CLI
cli = lambda *a: subprocess.run([sys.executable, "-m", "ftstudio", *a], capture_output=True, text=True)
done = cli("grade", "toy.json", "rows.jsonl", "--out", "out.jsonl")
out["cli_grade"] = [done.returncode, [json.loads(l)["reward"] for l in Path("out.jsonl").read_text().splitlines()]]
done = cli("validate", "job.json", "--target", "azure")
out["cli_validate_azure"] = [done.returncode, "toy graders exist only in a test" in done.stdout + done.stderr]

# the tree editor: the domain's edits, and the app's Graders page (the toy has no form: JSON)
from ftstudio.graders import tree
multi = tree.add_child(G.parse_grader(TREE), (), "toy")[0]
out["added"] = sorted(n.type for n in multi.graders.values())
from components.grader_types import JSON_ONLY, ui_for
out["ui_json_only"] = ui_for("toy") is JSON_ONLY
from streamlit.testing.v1 import AppTest
from ftstudio.config import JobConfig
from ftstudio.store import autosave
autosave.save(JobConfig.model_validate(config))
at = AppTest.from_file(str(here / "app.py"), default_timeout=60)
at.run()
at.switch_page("app_pages/graders.py").run()
at.button(key="graders.tree.t").click().run()
out["page"] = {"exception": bool(at.exception), "captions": [c.value for c in at.caption],
               "json": [a.value for a in at.text_area if '"toy"' in (a.value or "")]}

# serve: the toy as the server's grader, and sent in a request
proc = subprocess.Popen([sys.executable, "-m", "ftstudio", "serve", "toy.json", "--port", "0"],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
try:
    port = None
    for line in proc.stdout:
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if m:
            port = int(m.group(1))
            break
    def post(path, body):
        req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read())
    while True:  # until ready
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.05)
    out["serve_score"] = [post("/score", {"sample": {"output_text": t}, "item": {}})["score"] for t in ("a", "")]
    body = post("/v1/grade", {"grader": TOY, "rows": ROWS})
    out["serve_grade"] = [r["reward"] for r in body["records"]]
finally:
    proc.terminate()
    proc.wait(30)

# the reward adapters
from ftstudio.reward import Reward
with Reward.load(TREE) as reward:
    out["reward"] = reward.score(["an answer", ""], [{}, {}])
os.environ["FTSTUDIO_GRADER"] = str(here / "toy.json")
from ftstudio.reward import openrlhf, verl
out["verl"] = verl.compute_score("d", "an answer", "", {})["score"]
rewards = openrlhf.reward_func(["q a", "q "], ["q ", "q "], ["", ""])["rewards"]
out["openrlhf"] = [float(x) for x in rewards]
print("RESULT " + json.dumps(out))
'''


def _files(base: Path) -> set[str]:
    found = set()
    for name in COPIED:
        path = base / name
        items = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        found |= {str(p.relative_to(base)) for p in items if "__pycache__" not in p.parts}
    return found


@pytest.fixture(scope="module")
def toy_world(tmp_path_factory) -> Path:
    world = tmp_path_factory.mktemp("toy")
    for name in COPIED:
        src = ROOT / name
        if src.is_file():
            shutil.copy2(src, world / name)
        else:
            shutil.copytree(src, world / name, ignore=shutil.ignore_patterns("__pycache__"))
    (world / TOY_MODULE).write_text(TOY, encoding="utf-8")
    return world


@pytest.fixture(scope="module")
def toy_result(toy_world, tmp_path_factory) -> dict:
    home = tmp_path_factory.mktemp("toy-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AZURE_"))}
    env.update(PYTHONPATH=str(toy_world), FTSTUDIO_HOME=str(home / "ftstudio"), HOME=str(home),
               FTSTUDIO_CACHE_DIR=str(home / "cache"), PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=toy_world, env=env, capture_output=True, text=True,
                          timeout=600)
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert line is not None, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(line[len("RESULT "):])


@pytest.mark.slow
def test_the_toy_is_one_added_file(toy_world):
    assert _files(toy_world) == _files(ROOT) | {TOY_MODULE}
    changed = [f for f in _files(ROOT) if not filecmp.cmp(ROOT / f, toy_world / f, shallow=False)]
    assert changed == []


@pytest.mark.slow
def test_the_toy_validates_on_openai_and_is_unavailable_elsewhere(toy_result):
    r = toy_result
    assert r["from_copy"] and r["types"][-1] == "toy"
    assert r["check_openai"] == []
    assert ["toy_unavailable", "error", "graders.t"] in r["check_azure"]
    assert r["check_own_rule"] == [["toy_unavailable", "error"]]
    assert ["schema_unknown_field", "extra"] in r["schema"]
    assert r["job_errors"] == []
    assert r["cli_validate_azure"] == [1, True]


@pytest.mark.slow
def test_the_toy_grades_everywhere(toy_result):
    r = toy_result
    assert r["grade"] == [1.0, 0.0, 1.0]
    assert r["cli_grade"] == [0, [1.0, 0.0, 1.0]]
    assert r["explain"] == {"output": "an answer"}
    assert r["fix"] == "a toy passes anything that is not empty"
    assert r["serve_score"] == [1.0, 0.0]
    assert r["serve_grade"] == [1.0, 0.0, 1.0]
    assert r["reward"] == [1.0, 0.0]
    assert r["verl"] == 1.0
    assert r["openrlhf"] == [1.0, 0.0]


@pytest.mark.slow
def test_the_tree_editor_adds_the_toy_and_edits_it_as_json(toy_result):
    r = toy_result
    assert r["added"] == ["string_check", "toy", "toy"]
    assert r["ui_json_only"]
    page = r["page"]
    assert not page["exception"]
    assert any("no form here: edit it as JSON" in c for c in page["captions"])
    assert page["json"] and json.loads(page["json"][0]) == {"type": "toy", "name": "nonempty"}
