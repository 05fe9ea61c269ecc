"""UI responsiveness (a benchmark, not a test).

1. With a 10-node grader tree and a 10,000-row dataset loaded, edit a widget on the Graders page
   and time the server-side rerun (Streamlit's AppTest runs the real script; its own overhead is
   included, so the figure is an upper bound). Target: <= 150 ms.
2. Start `streamlit run app.py` and time until /_stcore/health answers. Target: <= 3 s.

    python bench/bench_ui.py [--write]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def ten_node_config():
    from ftstudio.config import new_config
    from ftstudio.graders import tree as T

    cfg = new_config("reinforcement")
    root = T.default_node("multi", "root")
    for kind in ("string_check", "text_similarity", "score_model", "label_model", "python", "text_similarity",
                 "string_check"):
        root, _ = T.add_child(root, (), kind)
    root, key = T.add_child(root, (), "multi")
    root, _ = T.add_child(root, (key,), "string_check")
    keys = list(root.graders)
    root = root.model_copy(update={"calculate_output": " + ".join(keys)})
    rf = cfg.method.reinforcement.model_copy(update={"grader": root})
    return cfg.model_copy(update={"method": cfg.method.model_copy(update={"reinforcement": rf})}), root


def wide_config(children: int = 200):
    """A multi with `children` leaf graders of mixed types, its formula the mean of all keys."""
    from ftstudio.config import new_config
    from ftstudio.graders import tree as T

    cfg = new_config("reinforcement")
    root = T.default_node("multi", "wide")
    kinds = ("string_check", "text_similarity", "score_model", "python")
    for i in range(children - 1):
        root, _ = T.add_child(root, (), kinds[i % len(kinds)])
    keys = list(root.graders)
    root = root.model_copy(update={"calculate_output": f"({' + '.join(keys)}) / {len(keys)}"})
    rf = cfg.method.reinforcement.model_copy(update={"grader": root})
    return cfg.model_copy(update={"method": cfg.method.model_copy(update={"reinforcement": rf})}), root


def bench_validate_wide(children: int = 200, repeat: int = 5) -> float:
    from ftstudio.validation import check

    cfg, _ = wide_config(children)
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        issues = check(cfg)
        best = min(best, time.perf_counter() - t)
    assert not [i for i in issues if i.blocks_grading]
    return best * 1000


def bench_rerun(edits: int = 30, config=None) -> dict:
    from streamlit.testing.v1 import AppTest

    from ftstudio.datasets import read_dataset
    from ftstudio.graders import walk
    from ftstudio.store import autosave

    cfg, root = config or ten_node_config()
    nodes = sum(1 for _ in walk(root))
    rows = "\n".join(f'{{"answer": "a{i}", "reference": "ref {i}", "model_sample": "a{i % 7}"}}' for i in range(10_000))
    dataset = read_dataset(rows.encode(), name="bench.jsonl")
    with tempfile.TemporaryDirectory() as home:
        os.environ["FTSTUDIO_HOME"] = home
        os.environ["FTSTUDIO_CACHE_DIR"] = os.path.join(home, "cache")
        autosave.save(cfg)
        os.chdir(ROOT)
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
        at.session_state["ftstudio_dataset"] = dataset
        at.switch_page("app_pages/graders.py").run()
        assert not at.exception, at.exception
        timings = []
        for i in range(edits):
            name = [t for t in at.text_input if t.label == "Name"][0]
            name.input(f"root {i}")
            t = time.perf_counter()
            at.run()
            timings.append((time.perf_counter() - t) * 1000)
            assert not at.exception, at.exception
        assert at.session_state["ftstudio_config"].grader.name == f"root {edits - 1}"
    timings = timings[3:]  # the first reruns warm caches
    return {"nodes": nodes, "median": statistics.median(timings), "p90": sorted(timings)[int(0.9 * len(timings))],
            "max": max(timings)}


def bench_health(runs: int = 3) -> float:
    worst = 0.0
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as home:
            port = 8700 + int(time.time() * 1000) % 200
            env = dict(os.environ, FTSTUDIO_HOME=home)
            t = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
                                     "--server.headless", "true", "--server.port", str(port),
                                     "--server.address", "127.0.0.1"], cwd=ROOT, env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                while True:
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                            if r.status == 200:
                                break
                    except OSError:
                        time.sleep(0.05)
                    if time.perf_counter() - t > 30:
                        raise RuntimeError("no health answer in 30 s")
                worst = max(worst, time.perf_counter() - t)
            finally:
                proc.terminate()
                proc.wait(10)
    return worst


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args()
    r = bench_rerun()
    wide = bench_rerun(edits=12, config=wide_config(200))
    validate_ms = bench_validate_wide(200)
    health = bench_health()
    lines = [
        f"Measured {dt.date.today().isoformat()} on {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, with `python bench/bench_ui.py`.",
        "",
        "| benchmark | measured | target | |",
        "| --- | ---: | ---: | --- |",
        f"| Graders page: widget edit rerun, {r['nodes']}-node tree, 10,000-row dataset loaded (AppTest, "
        f"median / p90 / max) | {r['median']:.0f} / {r['p90']:.0f} / {r['max']:.0f} ms | <= 150 ms | "
        f"{'pass' if r['p90'] <= 150 else 'MISS'} |",
        f"| Graders page: widget edit rerun, {wide['nodes']}-node tree (a multi of 200 graders), 10,000 rows "
        f"(median / p90 / max) | {wide['median']:.0f} / {wide['p90']:.0f} / {wide['max']:.0f} ms | stays usable "
        f"(< 500 ms) | {'pass' if wide['p90'] < 500 else 'MISS'} |",
        f"| validation.check of that 200-grader config (best of 5) | {validate_ms:.1f} ms | — | |",
        f"| `streamlit run app.py` until /_stcore/health answers (worst of 3) | {health:.2f} s | <= 3 s | "
        f"{'pass' if health <= 3 else 'MISS'} |",
    ]
    text = "\n".join(lines)
    print(text)
    if a.write:
        sys.path.insert(0, str(ROOT / "bench"))
        from _readme import write_section

        write_section("UI responsiveness", text)


if __name__ == "__main__":
    main()
