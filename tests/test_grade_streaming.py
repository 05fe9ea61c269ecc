"""`ftstudio grade` in flat memory: running aggregates equal the whole run's summary up to EXACT_ROWS rows,
a stated-error sketch past it, and identical-item groups from 64-bit keys (in memory, then spilled to disk)."""

from __future__ import annotations

import json
import math
import random
from array import array

import numpy as np
import pytest

from ftstudio.cli._main import main
from ftstudio.core import mean_std
from ftstudio.grading import SKETCH_RELATIVE_ERROR, RewardSketch, RunningResults, grade_chunks, merge, summary_text
from ftstudio.probes import Groups, calibration

MULTI = {"type": "multi", "name": "m", "calculate_output": "0.5 * exact + 0.5 * sim",
         "graders": {"exact": {"type": "string_check", "name": "exact", "input": "{{sample.output_text}}",
                               "reference": "{{item.answer}}", "operation": "eq"},
                     "sim": {"type": "text_similarity", "name": "sim", "input": "{{sample.output_text}}",
                             "reference": "{{item.answer}}", "evaluation_metric": "fuzzy_match"}}}


def _rows(n: int, seed: int = 0) -> list[dict]:
    rnd = random.Random(seed)
    out: list[dict] = []
    for i in range(n):
        ans = rnd.choice(["alpha", "beta gamma", "delta", "epsilon zeta eta"])
        row = {"q": f"q{i % 7}", "answer": ans, "model_sample": ans if rnd.random() < 0.4 else ans[::-1] + "x"}
        if i % 11 == 0:
            del row["model_sample"]  # a row error: no output
        out.append(row)
    return out


def test_running_results_equal_the_merged_summary_while_exact():
    chunks = [_rows(130, seed)[:130] for seed in range(4)]
    parts = list(grade_chunks(MULTI, chunks))
    running = RunningResults()
    for part in parts:
        running.add(part)
    assert running.exact
    assert running.summary() == merge(parts).summary()
    assert "quantiles_error" not in running.summary()


def test_past_the_exact_rows_quantiles_come_from_a_sketch_within_its_stated_error():
    rnd = np.random.default_rng(3)
    values = np.concatenate([rnd.lognormal(0, 2, 150_000), -rnd.lognormal(0, 1, 30_000), np.zeros(5_000)])
    rnd.shuffle(values)
    running = RunningResults(exact_rows=10_000)
    chunk = 7_000
    parts = []
    for start in range(0, len(values), chunk):
        part = merge(list(grade_chunks({"type": "string_check", "name": "x", "input": "a", "reference": "a",
                                        "operation": "eq"}, [[{"model_sample": "a"}] * len(values[start:start + chunk])])))
        part.rewards = array("d", values[start:start + chunk].tolist())
        parts.append(part)
        running.add(part)
    assert not running.exact and running.sketch is not None and running.sketch.bucketed
    s = running.summary()
    assert s["count"] == len(values)
    assert "0.5%" in s["quantiles_error"] and SKETCH_RELATIVE_ERROR <= 0.005
    exact = np.sort(values)
    for name, q in (("p10", 0.1), ("p25", 0.25), ("p50", 0.5), ("p75", 0.75), ("p90", 0.9)):
        pos = q * (len(exact) - 1)
        lo, hi = exact[math.floor(pos)], exact[math.ceil(pos)]
        bound = SKETCH_RELATIVE_ERROR * max(abs(lo), abs(hi)) + 1e-12
        assert min(lo, hi) - bound <= s["quantiles"][name] <= max(lo, hi) + bound, name
    assert s["quantiles"]["p0"] == exact[0] and s["quantiles"]["p100"] == exact[-1]
    m, sd = mean_std(values.tolist())
    assert s["mean"] == pytest.approx(m, rel=1e-9) and s["std"] == pytest.approx(sd, rel=1e-9)
    assert "streaming sketch" in summary_text("x", "string_check", s)
    c = calibration(running.distribution())
    assert c["min"] == exact[0] and c["max"] == exact[-1] and c["count"] == len(values)


def test_a_sketch_of_few_distinct_rewards_stays_exact():
    sketch = RewardSketch()
    values = np.array([0.0, 1.0, 0.25, 1.0, 0.0, 0.0, 0.5] * 1000)
    sketch.add(values)
    assert not sketch.bucketed
    exact = np.sort(values)
    assert sketch.quantiles()["p25"] == np.quantile(exact, 0.25)
    assert sketch.quantiles()["p50"] == np.quantile(exact, 0.5)


def _reference_groups(rewards, keys):
    """The per-group stds as the old code computed them: a dict of lists, in first-appearance order."""
    members: dict = {}
    for r, k in zip(rewards, keys):
        if k is not None:
            members.setdefault(k, []).append(r)
    return [mean_std(v)[1] for v in members.values() if len(v) >= 2]


@pytest.mark.parametrize("exact_rows", [10**9, 50])
def test_groups_from_64_bit_keys_in_memory_and_spilled_agree_with_a_dict_of_lists(exact_rows):
    rnd = random.Random(5)
    keys = [None if i % 13 == 0 else f"item{rnd.randrange(60)}" for i in range(400)]
    rewards = [rnd.choice([0.0, 1.0, 0.1, 0.7, 1e300]) for _ in keys]
    groups = Groups("prompt", exact_rows=exact_rows)
    done: list[float] = []
    for start in range(0, 400, 37):
        groups.add_hashables(keys[start:start + 37], rewards[start:start + 37], before=done)
        done += rewards[start:start + 37]
    section = groups.section(rewards)
    expected = _reference_groups(rewards, keys)
    assert section["groups"] == len(expected)
    assert section["rows_without_group"] == sum(k is None for k in keys)
    assert list(section["per_group_std"].values()) == expected  # same values, first-appearance order
    firsts = list(dict.fromkeys(k for k in keys if k is not None and keys.count(k) >= 2))
    assert list(section["per_group_std"]) == firsts
    assert section["std_median"] == sorted(expected)[len(expected) // 2]


def test_grade_chunked_writes_the_same_records_and_summary_as_one_chunk(tmp_path, capsys):
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in _rows(500)) + "not json\n")
    grader = tmp_path / "g.json"
    grader.write_text(json.dumps(MULTI))
    outs = []
    for size in ("7", "100000"):
        out = tmp_path / f"o{size}.jsonl"
        assert main(["grade", str(grader), str(data), "--out", str(out), "--json", "--chunk-size", size]) == 0
        summary = json.loads(capsys.readouterr().out)["summary"]
        summary.pop("elapsed_seconds"), summary.pop("rows_per_second")
        outs.append((out.read_bytes(), summary))
    assert outs[0] == outs[1]
    assert outs[0][1]["calibration"]["groups"]["groups"] == 28  # identical items: 7 questions x 4 answers


def test_jsonl_records_formatted_from_arrays_are_byte_identical_to_json_dumps_of_each_record():
    import io

    from ftstudio.grading import RecordWriter

    for part in grade_chunks(MULTI, [_rows(120)]):
        part.rewards[3], part.rewards[5] = 1e308, 0.1 + 0.2
        part.sub_rewards["sim"][4] = math.inf
        for lines in (part.lines, [None] * len(part), [i + 2 for i in range(len(part))]):
            part.lines = lines
            fast, slow = io.StringIO(), io.StringIO()
            RecordWriter(fast, "jsonl").write_results(part)
            RecordWriter(slow, "jsonl").write(part.records())
            assert part.errors and fast.getvalue() == slow.getvalue()
    plain = [r for r in _rows(200) if "model_sample" in r]
    for part in grade_chunks(MULTI["graders"]["exact"], [plain]):  # no errors, no sub-rewards: the one-format path
        part.rewards[2] = 0.1 + 0.2
        part.lines = [i + 1 for i in range(len(part))]
        fast, slow = io.StringIO(), io.StringIO()
        RecordWriter(fast, "jsonl").write_results(part)
        RecordWriter(slow, "jsonl").write(part.records())
        assert not part.errors and fast.getvalue() == slow.getvalue()


def test_jsonl_rows_read_by_orjson_equal_the_standard_decoder_and_refusals_keep_their_words(tmp_path):
    from ftstudio.datasets import read_dataset

    lines = ['{"a": 1, "a": 2, "b": [1.5, -0.0, 1e5, "\\u00e9"]}', '{"big": 123456789012345678901234567890}',
             '{"x": NaN}', '{"s": "\\ud800"}', '{"f": 1e400}', '[1]', '{"n": 0.30000000000000004441}', "{bad"]
    ds = read_dataset("\n".join(lines).encode(), name="d.jsonl")
    assert ds.rows[0] == {"a": 2, "b": [1.5, -0.0, 100000.0, "é"]}
    assert ds.rows[1]["big"] == 123456789012345678901234567890  # an int, not orjson's float
    assert ds.rows[2]["s"] == "\ud800" and ds.rows[3]["f"] == math.inf and ds.rows[4]["n"] == 0.30000000000000004
    assert [e.line for e in ds.errors] == [3, 6, 8]
    assert "NaN" in ds.errors[0].message and "JSON object" in ds.errors[1].message


def test_help_imports_no_heavy_module_and_the_core_face_is_whole():
    """Start-up (issue 23): `ftstudio --help` and `ftstudio grade --help` build the parser from constants only."""
    import os
    import subprocess
    import sys

    import ftstudio.core as core

    probe = ("import sys\nfrom ftstudio.cli._main import main\ntry:\n    main([%r, '--help'])\nexcept SystemExit:\n"
             "    pass\nprint(' '.join(sorted(sys.modules)))")
    heavy = {"numpy", "pydantic", "orjson", "openai", "httpx", "logging", "dataclasses", "inspect", "shutil", "hashlib",
             "ftstudio.grading",
             "ftstudio.datasets", "ftstudio.graders", "ftstudio.config", "ftstudio.validation", "ftstudio.core._log"}
    for command in ("grade", "validate"):
        out = subprocess.run([sys.executable, "-c", probe % command], capture_output=True, text=True, check=True,
                             env=dict(os.environ, PYTHONPATH=os.getcwd())).stdout.split("\n")[-2]
        assert not heavy & set(out.split()), heavy & set(out.split())
    assert set(core.__all__) == set(core._MODULE_OF)
    assert all(getattr(core, name) is not None for name in core.__all__)


def test_one_row_string_check_grade_imports_only_what_it_uses(tmp_path):
    """Start-up (issue 23): grading one string_check row imports the engine and string_check's module, not the other
    grader types, not pydantic, not numpy (its summary and calibration are plain Python up to core.PLAIN_ROWS rows), not the model client's
    asyncio/sqlite3/openai/httpx, the sandbox, logging, the formula language, the other targets' exports or the
    datasets' token tables and format report."""
    import json
    import os
    import subprocess
    import sys

    grader, data = tmp_path / "g.json", tmp_path / "one.jsonl"
    grader.write_text(json.dumps({"type": "string_check", "name": "exact", "input": "{{sample.output_text}}",
                                  "reference": "{{item.answer}}", "operation": "eq"}))
    data.write_text(json.dumps({"answer": "a b", "model_sample": "a b"}) + "\n")
    probe = (f"import sys\nfrom ftstudio.cli._main import main\ncode = main(['grade', {str(grader)!r}, {str(data)!r}])\n"
             "print(code, ' '.join(sorted(sys.modules)))")
    env = dict(os.environ, PYTHONPATH=os.getcwd(), HOME=str(tmp_path), FTSTUDIO_HOME=str(tmp_path / "h"),
               FTSTUDIO_CACHE_DIR=str(tmp_path / "c"))
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env,
                         cwd=tmp_path).stdout.splitlines()
    assert "graded 1 rows with string_check 'exact'" in out[0] and "mean reward 1.0000" in out[1]
    code, *modules = out[-1].split()
    assert code == "0"
    loaded = set(modules)
    # pydantic too: a grader that fits is validated by graders/_light.py alone
    heavy = {"pydantic", "pydantic_core", "numpy", "openai", "httpx", "asyncio", "sqlite3", "logging", "urllib.request",
             "concurrent.futures",
             "ftstudio.sandbox", "ftstudio.graders.formula", "ftstudio.graders._tree", "ftstudio.targets._gemini",
             "ftstudio.targets._bedrock_rft", "ftstudio.config._hyperparameters", "ftstudio.api._batches",
             "ftstudio.grading._batched", "ftstudio.grading._compare", "ftstudio.grading._runs",
             "ftstudio.validation._schema_issues", "ftstudio.datasets._tokens", "ftstudio.datasets._report", "ftstudio.api._model_client",
             "ftstudio.datasets._trl",
             # a job's rules (they read the model table as they load): a bare grader is checked without them
             "ftstudio.validation._job_rules", "ftstudio.config._catalog",
             # the other grader types: a type's module is imported when a tree has a node of it
             "ftstudio.graders.types.python", "ftstudio.graders.types.lambda_", "ftstudio.graders.types.endpoint",
             "ftstudio.graders.types.score_model", "ftstudio.graders.types.label_model",
             "ftstudio.graders.types.text_similarity", "ftstudio.graders.types._model_family",
             "ftstudio.targets._gemini_types", "ftstudio.targets._translation",
             # the other targets: validating for openai imports openai's module alone
             "ftstudio.targets.azure", "ftstudio.targets.bedrock", "ftstudio.targets.bedrock_rft",
             "ftstudio.targets.compatible", "ftstudio.targets.gemini",
             # argparse's formatter measures the terminal itself; hashlib is for Ray's stable keys only; csv for
             # CSV files and CSV records
             "shutil", "hashlib", "csv", "ftstudio.datasets._csv",
             # the other commands' modules: only the invoked command's builds its parser (cli._commands lists all)
             "ftstudio.cli._config_cmds", "ftstudio.cli._connected", "ftstudio.cli._convert", "ftstudio.cli._migrate",
             "ftstudio.cli._models", "ftstudio.cli._probe", "ftstudio.cli._calibrate", "ftstudio.cli._sample",
             "ftstudio.cli._pull", "ftstudio.cli._serve", "ftstudio.cli._rules", "ftstudio.cli._import_promptfoo"}
    assert not heavy & loaded, heavy & loaded
    assert {"ftstudio.graders.types.string_check", "ftstudio.grading._engine"} <= loaded


def test_grade_modules_of_their_own_import_neither_resources_nor_hashlib(tmp_path):
    """Start-up (issue 23): what pydantic imports anyway is not imported by ftstudio's own modules on the one-row path,
    so a grade that stops validating with pydantic stops paying for it: importlib.resources (the model table and the
    Gemini runtime import it when they read), hashlib (a dataset read imports it only when it wants the file's hash),
    tempfile (groups import it only when they spill to disk). Checked with pydantic refused, so what is seen is what
    these modules import themselves."""
    import ast
    import os
    import subprocess
    import sys

    (tmp_path / "one.jsonl").write_text('{"a": 1}\n')
    probe = ("import sys\n"
             "class Refuse:\n"
             "    def find_spec(self, name, path=None, target=None):\n"
             "        if name.partition('.')[0] in ('pydantic', 'pydantic_core'):\n"
             "            raise ImportError(name)\n"
             "sys.meta_path.insert(0, Refuse())\n"
             "from ftstudio.config import catalog\nfrom ftstudio.datasets import iter_rows\n"
             "from ftstudio.probes import Groups\n"
             f"for chunk in iter_rows({str(tmp_path / 'one.jsonl')!r}, chunk_size=10, max_bytes=None):\n"
             "    Groups().add([7] * len(chunk.rows), [1.0] * len(chunk.rows))\n"
             "print(' '.join(m for m in ('importlib.resources', 'hashlib', 'tempfile', 'pydantic') if m in sys.modules))\n"
             "assert catalog.provider('openai') is not None\n"
             "print('importlib.resources' in sys.modules)")
    env = dict(os.environ, PYTHONPATH=os.getcwd(), HOME=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env,
                         cwd=tmp_path).stdout.splitlines()
    assert out == ["", "True"]
    # The Gemini types load with the targets' registry (which needs pydantic): their top imports, read.
    from ftstudio.targets import _gemini_types

    tree = ast.parse(open(_gemini_types.__file__, encoding="utf-8").read())
    top = {a.name for node in tree.body if isinstance(node, ast.Import) for a in node.names}
    top |= {f"{node.module}.{a.name}" for node in tree.body if isinstance(node, ast.ImportFrom) for a in node.names}
    assert not {n for n in top if "resources" in n or n == "hashlib"}, top
