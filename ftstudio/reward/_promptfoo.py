"""`ftstudio export CONFIG --format promptfoo --data DATA [--sample-field NAME] -o DIR`: promptfooconfig.yaml,
the rows as tests (tests.jsonl), grader.py for the python assertions (ftstudio from the wheel in wheels/),
the grader and a README. See _promptfoo_plan.py for the mapping."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ftstudio.config import JobConfig, to_json
from ftstudio.core import DEFAULT_SAMPLE_FIELD, compact_json

from ._folder import ftstudio_requirement, with_wheel, write_folder
from ._promptfoo_plan import OUTPUT_VAR, ROW_VAR, Part, Plan, plan_for, references
from ._recipe import GRADER_FILE, recipe_zip

PROMPTFOO_VERSION = "0.123.1"
CONFIG_FILE = "promptfooconfig.yaml"
TESTS_FILE = "tests.jsonl"
EVAL = (f"npx -y promptfoo@{PROMPTFOO_VERSION} eval -c {CONFIG_FILE} --no-cache --output results.json "
        "--no-progress-bar")
COMMAND = f"pip install -r requirements.txt && {EVAL}"

GRADER_PY = '''\
"""promptfoo python assertions over the grader tree, graded by ftstudio (the same numbers as `ftstudio grade`).
get_assert: the whole tree; get_assert_<i>_<key>: one child of the multi grader (its sub-reward). The item
is the row (var ftstudio_row, JSON); the sample is promptfoo's output.

By default ftstudio grades here (installed from wheels/). With FTSTUDIO_SERVE_URL set, a running
`ftstudio serve grader.json` grades instead (POST /v1/grade; FTSTUDIO_SERVE_TOKEN, when the server was
started with --token-env, goes in the Authorization header): promptfoo starts a Python process per
assertion, and a server skips importing ftstudio and starting graders each time."""

import json
import os
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLE_FIELD = %(sample_field)r
PASS_THRESHOLD = %(threshold)r
_reward = None
_records = {}


def _from_serve(url, output, row):
    body = json.dumps({"sample_field": SAMPLE_FIELD, "rows": [{**row, SAMPLE_FIELD: output}]}).encode()
    headers = {"Content-Type": "application/json"}
    if os.environ.get("FTSTUDIO_SERVE_TOKEN"):
        headers["Authorization"] = "Bearer " + os.environ["FTSTUDIO_SERVE_TOKEN"]
    request = urllib.request.Request(url.rstrip("/") + "/v1/grade", data=body, headers=headers)
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())["records"][0]


def _here(output, row):
    global _reward
    if _reward is None:
        from ftstudio.reward import Reward

        _reward = Reward.load(HERE / "grader.json", sample_field=SAMPLE_FIELD)
    return _reward.score_detailed([output], [row])[0]


def _record(output, context):
    row = context["vars"]["ftstudio_row"]
    key = (output, row)
    if key not in _records:
        url = os.environ.get("FTSTUDIO_SERVE_URL")
        _records[key] = _from_serve(url, output, json.loads(row)) if url else _here(output, json.loads(row))
    return _records[key]


def _answer(record, score, passed):
    reason = "; ".join(f"{code}: {(record.get('error_details') or {}).get(code, '')}" for code in record["errors"])
    return {"pass": passed and not record["errors"], "score": score, "reason": reason or f"ftstudio: {score:g}"}


def get_assert(output, context):
    record = _record(output, context)
    reward = record["reward"]
    return _answer(record, reward, PASS_THRESHOLD is None or reward >= PASS_THRESHOLD)


def _child(key):
    def get_assert_child(output, context):
        record = _record(output, context)
        return _answer(record, 0.0 if record["errors"] else record["sub_rewards"][key], True)
    return get_assert_child

%(children)s'''


def _output_text(row: dict[str, Any], sample_field: str) -> str:
    value = row.get(sample_field, "")
    return value if isinstance(value, str) else compact_json(value)


def _python(part: Part) -> dict[str, Any]:
    target = "file://grader.py" if not part.key else f"file://grader.py:{part.function}"
    out: dict[str, Any] = {"type": "python", "value": target, "metric": part.label}
    if part.key:
        out["weight"] = part.weight
    return out


def _assertions(plan: Plan, refs: list[str] | None) -> list[dict[str, Any]]:
    if refs is None:  # ftstudio scores this row 0 with an error: grade it whole, as ftstudio does
        return [_python(Part("", plan.name))]
    values = iter(refs)
    out: list[dict[str, Any]] = []
    for index, part in enumerate(plan.parts):
        if part.assertion is None:
            out.append(_python(part))
            continue
        # the rendered reference travels in a var: promptfoo renders `value` as a template with the vars
        next(values)
        item = {**part.assertion, "value": "{{" + f"ftstudio_ref_{index}" + "}}"}
        if plan.is_set:
            item["weight"] = part.weight
        out.append(item)
    if plan.is_set:
        return [{"type": "assert-set", "assert": out,
                 **({"threshold": plan.threshold} if plan.threshold is not None else {})}]
    return out


def tests(plan: Plan, rows: Sequence[dict[str, Any]], sample_field: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    natives = [i for i, p in enumerate(plan.parts) if p.assertion is not None]
    for n, row in enumerate(rows):
        output = _output_text(row, sample_field)
        refs = references(plan, row, output)
        # lists and objects as JSON text: promptfoo would expand a list var into one test per element
        variables: dict[str, Any] = {k: v if v is None or isinstance(v, (str, int, float, bool)) else compact_json(v)
                                     for k, v in row.items() if not k.startswith("ftstudio_")}
        variables[OUTPUT_VAR] = output
        variables[ROW_VAR] = json.dumps(row, ensure_ascii=False)
        for index, ref in zip(natives, refs or [], strict=False):
            variables[f"ftstudio_ref_{index}"] = ref
        out.append({"description": f"row {n + 1}", "vars": variables, "assert": _assertions(plan, refs)})
    return out


def _scalar(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def config_yaml(plan: Plan, name: str) -> str:
    """promptfooconfig.yaml: the provider returns the output column; the assertions are per test (a row ftstudio
    can't score gets the python one), listed here as comments."""
    lines = [f"# {name}: exported by Fine-Tune Studio (`ftstudio export --format promptfoo`) for promptfoo "
             f"{PROMPTFOO_VERSION}.",
             "# Each test is a dataset row; its top-level score is ftstudio's reward for the row.",
             "# Mapping of the grader tree (the assertions themselves are in each test of tests.jsonl, with the",
             "# row's reference rendered by ftstudio into a var):"]
    for part in plan.parts:
        kind = part.assertion["type"] if part.assertion else f"python ({part.function} in grader.py)"
        weight = f", weight {part.weight:g}" if plan.is_set else ""
        lines.append(f"#   {part.label}: {kind}{weight}{'' if part.exact else '  (approximate)'}")
    if plan.is_set:
        lines.append("#   together: one assert-set (promptfoo takes the weighted mean = calculate_output)")
    for note in plan.notes:
        lines.append(f"# approximate: {note}")
    lines += [f"description: {_scalar(name)}",
              "# the prompt is the output column and the echo provider returns it: no model is called. Put a real",
              "# provider here to grade a model's answers with the same assertions.",
              f"prompts: [{_scalar('{{' + OUTPUT_VAR + '}}')}]",
              "providers: [echo]",
              f"tests: {_scalar('file://' + TESTS_FILE)}"]
    if plan.threshold is not None:
        lines += ["defaultTest:", f"  threshold: {plan.threshold!r}  # the grader's pass_threshold"]
    return "\n".join(lines) + "\n"


def _readme(name: str, plan: Plan, rows: int, sample_field: str) -> str:
    approx = "".join(f"- {n}\n" for n in plan.notes) or "- none: every test's score is ftstudio's reward.\n"
    return f"""# {name}: the grader as promptfoo assertions

Exported by Fine-Tune Studio (`ftstudio export --format promptfoo`); tested with promptfoo {PROMPTFOO_VERSION}
(it needs Node 22.22 or later). Install ftstudio (for the python assertions) and score the {rows} row(s):

```bash
{COMMAND}
```

Each test is a row of the dataset (`{TESTS_FILE}`): its `vars` are the row's fields, the output is the
`{sample_field}` column (the prompt is `{{{{{OUTPUT_VAR}}}}}` and the `echo` provider returns it, so no model is
called), and its top-level `score` in `results.json` is ftstudio's reward for the row (`ftstudio grade
{GRADER_FILE} DATA --sample-field {sample_field}`). Replace the provider with a model to grade its answers the
same way. String checks are promptfoo's own assertions; everything else calls `grader.py` (a python assertion,
`get_assert`), which grades with ftstudio. Run it with the Python that has ftstudio (`PROMPTFOO_PYTHON`).
promptfoo starts a Python process per python assertion; to skip importing ftstudio in each, start
`ftstudio serve {GRADER_FILE}` and set `FTSTUDIO_SERVE_URL` (and `FTSTUDIO_SERVE_TOKEN` if it was started with
`--token-env`): `grader.py` then posts each row to its `/v1/grade`.

Approximate mappings:
{approx}"""


def promptfoo_files(config: JobConfig, rows: Sequence[dict[str, Any]],
                    sample_field: str = DEFAULT_SAMPLE_FIELD) -> tuple[dict[str, str], list[str]]:
    """({file name: text} (the wheel aside), the approximate mappings)."""
    grader = config.grader
    if config.method_type != "reinforcement" or grader is None:
        raise ValueError(f"--format promptfoo needs a reinforcement job with a grader (or a bare grader); this is "
                         f"a {config.method_type} job")
    plan = plan_for(grader)
    name = grader.name or grader.type
    children = "".join(f"{p.function} = _child({p.key!r})\n" for p in plan.parts if p.key and p.assertion is None)
    files = {
        CONFIG_FILE: config_yaml(plan, name),
        TESTS_FILE: "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in tests(plan, rows, sample_field)),
        "grader.py": GRADER_PY % {"sample_field": sample_field, "threshold": plan.threshold, "children": children},
        GRADER_FILE: to_json(grader) + "\n",
        "requirements.txt": ftstudio_requirement(),
        "README.md": _readme(name, plan, len(rows), sample_field),
    }
    return files, plan.notes


def write_promptfoo(config: JobConfig, rows: Sequence[dict[str, Any]], out_dir: str | Path,
                    sample_field: str = DEFAULT_SAMPLE_FIELD) -> tuple[list[Path], list[str]]:
    files, notes = promptfoo_files(config, rows, sample_field)
    return write_folder(with_wheel(files), out_dir), notes


def promptfoo_zip(config: JobConfig, rows: Sequence[dict[str, Any]], sample_field: str = DEFAULT_SAMPLE_FIELD,
                  folder: str = "promptfoo") -> bytes:
    """The folder as a zip (the app's download), wheel included."""
    return recipe_zip(with_wheel(promptfoo_files(config, rows, sample_field)[0]), folder)
