"""`ftstudio grade --engine ray` and `ftstudio.grading.ray`: the same records and summary as the local run.

A local single-node Ray (2 CPUs, no dashboard, loopback only, its files under the test's tmp path) grades the
presets and datasets of the external conformance corpus. Without the [ray] extra these tests skip, unless
FTSTUDIO_REQUIRE_RAY=1 (set by .ci/run), where its absence is a failure.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest

from ftstudio.cli._main import main

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("FTSTUDIO_CONFORMANCE_DIR") or ROOT.parent / "shared" / "conformance" / "external")
QUIZ = ROOT / "ftstudio" / "data" / "examples" / "reinforcement-quiz.jsonl"
PRESETS = sorted((ROOT / "presets").glob("rft-*.json"))
EXTERNAL = [("azure-countdown-python-grader-no-name.json", "azure-countdown-model-outputs-from-notebook.jsonl"),
            ("azure-clausematching-multi-grader-pass-threshold.json",
             "azure-clausematching-validation-8rows-constructed-outputs.jsonl"),
            ("cookbook-receipt-text-similarity-fuzzy-list-value.json", "cookbook-receipt-ground-truth-pairs.jsonl")]

pytestmark = pytest.mark.slow  # starting Ray and its actors takes seconds


def _need_ray():
    if importlib.util.find_spec("ray") is None:
        message = "the [ray] extra is missing: pip install -e '.[ray]'"
        if os.environ.get("FTSTUDIO_REQUIRE_RAY") == "1":
            pytest.fail(message)
        pytest.skip(message)
    import ray

    return ray


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    ray = _need_ray()
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        # Set before Ray starts: its workers inherit this environment (no user files, no API, our tree).
        for var in [v for v in os.environ if v.startswith(("OPENAI_", "AZURE_OPENAI", "RAY_ADDRESS"))]:
            mp.delenv(var)
        mp.setenv("HOME", str(home))
        mp.setenv("FTSTUDIO_HOME", str(home / "ftstudio"))
        mp.setenv("FTSTUDIO_CACHE_DIR", str(home / "cache"))
        mp.setenv("RAY_USAGE_STATS_ENABLED", "0")
        mp.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
        ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
                 _temp_dir=str(tmp_path_factory.mktemp("ray")), object_store_memory=100 * 1024**2,
                 log_to_driver=False)
        try:
            yield ray
        finally:
            ray.shutdown()


def _mixed(tmp_path: Path) -> Path:
    """The quiz, each item twice (groups for the calibration), with an unreadable line, a blank line and a row
    without its model output in the middle."""
    lines = QUIZ.read_text(encoding="utf-8").splitlines()
    rows = lines + lines[:8] + ["{not json", "", json.dumps({"answer": "1"})] + lines[8:]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _grade(capsys, tmp_path: Path, name: str, config: Path, data: Path, *extra: str, fmt: str = "jsonl"
           ) -> tuple[bytes, dict]:
    out = tmp_path / f"{name}.{fmt}"
    capsys.readouterr()
    code = main(["grade", str(config), str(data), "--out", str(out), "--json", *extra])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    summary = json.loads(printed.out)
    for timing in ("elapsed_seconds", "rows_per_second"):
        summary["summary"].pop(timing)
    summary.pop("out")
    return out.read_bytes(), summary


def _same_as_local(capsys, tmp_path, config: Path, data: Path, *extra: str, fmt: str = "jsonl") -> dict:
    local_records, local_summary = _grade(capsys, tmp_path, "local", config, data, *extra, fmt=fmt)
    ray_records, ray_summary = _grade(capsys, tmp_path, "ray", config, data, "--engine", "ray", *extra, fmt=fmt)
    assert ray_records == local_records
    assert ray_summary == local_summary
    return ray_summary["summary"]


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.stem)
def test_presets_grade_the_same_on_ray(ray_cluster, preset, tmp_path, capsys):
    _same_as_local(capsys, tmp_path, preset, _mixed(tmp_path))


def test_a_group_field_and_csv_output_are_the_same_on_ray(ray_cluster, tmp_path, capsys):
    summary = _same_as_local(capsys, tmp_path, ROOT / "presets" / "rft-exact-match.json", _mixed(tmp_path),
                             "--group-field", "label", fmt="csv")
    groups = summary["calibration"]["groups"]
    assert groups["by"] == "label" and groups["groups"] > 0


def test_identical_items_group_the_same_on_ray(ray_cluster, tmp_path, capsys):
    summary = _same_as_local(capsys, tmp_path, ROOT / "presets" / "rft-exact-match.json", _mixed(tmp_path))
    assert summary["calibration"]["groups"]["groups"] > 0  # the quiz items written twice, at least


@pytest.mark.parametrize(("config", "data"), EXTERNAL, ids=[c for c, _ in EXTERNAL])
def test_external_datasets_grade_the_same_on_ray(ray_cluster, config, data, tmp_path, capsys):
    if not CORPUS.is_dir():
        pytest.skip(f"the conformance corpus is not at {CORPUS} (set FTSTUDIO_CONFORMANCE_DIR)")
    _same_as_local(capsys, tmp_path, CORPUS / "configs" / config, CORPUS / "data" / data)


def test_unreadable_data_exits_two_naming_the_file(ray_cluster, tmp_path, capsys):
    missing = tmp_path / "missing.jsonl"
    code = main(["grade", str(ROOT / "presets" / "rft-exact-match.json"), str(missing), "--engine", "ray"])
    err = capsys.readouterr().err
    assert code == 2
    assert str(missing) in err and "Traceback" not in err


def test_grade_batch_in_a_ray_pipeline_keeps_row_index_and_summary(ray_cluster, tmp_path):
    from ftstudio.grading import grade
    from ftstudio.grading.ray import GradeBatch, read_rows, records_of, summary_of

    grader = json.loads((ROOT / "presets" / "rft-json-extraction.json").read_text())["config"]["method"][
        "reinforcement"]["grader"]
    data = _mixed(tmp_path)
    out = read_rows(str(data), block_rows=7).map_batches(
        GradeBatch, fn_constructor_args=(grader,), batch_size=5, batch_format="pyarrow",
        compute=ray_cluster.data.ActorPoolStrategy(size=2))
    records = [record for record, _, _ in records_of(out.iter_batches(batch_size=None, batch_format="pyarrow"))]
    from ftstudio.datasets import read_dataset

    local = grade(grader, read_dataset(str(data)))
    assert records == list(local.records())
    assert [r["row"] for r in records] == list(range(len(local)))
    mine, theirs = summary_of(records), local.summary()
    for timing in ("elapsed_seconds", "rows_per_second"):
        mine.pop(timing)  # type: ignore[misc]
        theirs.pop(timing)  # type: ignore[misc]
    assert mine == theirs


def test_grade_batch_grades_a_plain_ray_dataset_by_its_columns(ray_cluster):
    from ftstudio.grading.ray import GradeBatch, records_of

    grader = {"type": "string_check", "name": "eq", "operation": "eq", "input": "{{ sample.output_text }}",
              "reference": "{{ item.answer }}"}
    ds = ray_cluster.data.from_items([{"i": i, "answer": str(i % 3), "model_sample": str(i % 2)} for i in range(10)])
    out = ds.map_batches(GradeBatch, fn_constructor_args=(grader,), fn_constructor_kwargs={"index_column": "i"},
                         batch_size=4, batch_format="pandas", compute=ray_cluster.data.ActorPoolStrategy(size=1))
    records = [r for r, _, _ in records_of(out.iter_batches(batch_size=None))]
    assert [r["row"] for r in records] == list(range(10))
    assert [r["reward"] for r in records] == [1.0 if i % 3 == i % 2 else 0.0 for i in range(10)]
