"""`ftstudio grade --out` records of every config x every dataset, to compare two versions of the code.

Issue 19 asks for records byte-identical before and after a refactoring, on the presets and on the
external conformance corpus (`../shared/conformance/external`). Run it once with the old tree and
once with the new one (each on its own PYTHONPATH), then compare the two folders:

    PYTHONPATH=OLD_TREE python tests/tools/grade_records.py write /tmp/before
    PYTHONPATH=NEW_TREE python tests/tools/grade_records.py write /tmp/after
    python tests/tools/grade_records.py compare /tmp/before /tmp/after

Each pair writes `<config>__<data>.jsonl` (the records) and `<config>__<data>.rc` (the exit code and
stderr); model graders run without an endpoint (every row gets the same model_server error), python
graders in the sandbox. Nothing here depends on the clock.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("FTSTUDIO_CONFORMANCE_DIR") or REPO.parent / "shared" / "conformance" / "external")


def inputs() -> tuple[list[Path], list[Path]]:
    configs = sorted((CORPUS / "configs").glob("*.json")) + sorted((REPO / "presets").glob("*.json"))
    data = sorted((CORPUS / "data").glob("*.jsonl")) + sorted((REPO / "ftstudio" / "data" / "examples").glob("*.jsonl"))
    return configs, data


def write(out: Path) -> None:
    from ftstudio.cli._main import main

    out.mkdir(parents=True, exist_ok=True)
    configs, data = inputs()
    for c in configs:
        for d in data:
            name = f"{c.parent.name}-{c.stem}__{d.parent.name}-{d.stem}"
            records = out / f"{name}.jsonl"
            err = io.StringIO()
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
                try:
                    rc = main(["grade", str(c), str(d), "--out", str(records)])
                except SystemExit as exc:
                    rc = exc.code
            # The tree's own path (presets) differs between the two checkouts compared.
            stderr = err.getvalue().replace(str(REPO), "<repo>")
            (out / f"{name}.rc").write_text(f"{rc}\n{stderr}", encoding="utf-8")
        print(c.name, flush=True)


def compare(a: Path, b: Path) -> int:
    names = sorted({p.name for p in a.iterdir()} | {p.name for p in b.iterdir()})
    bad = [n for n in names if not (a / n).is_file() or not (b / n).is_file()
           or (a / n).read_bytes() != (b / n).read_bytes()]
    for n in bad:
        print("differs:", n)
    print(f"{len(names) - len(bad)} of {len(names)} files identical")
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["write"]:
        with tempfile.TemporaryDirectory() as home:  # never the user's ~/.ftstudio
            os.environ["FTSTUDIO_HOME"] = home
            os.environ["HOME"] = home
            os.environ.pop("OPENAI_API_KEY", None)
            os.environ.pop("OPENAI_BASE_URL", None)
            write(Path(sys.argv[2]))
    elif sys.argv[1:2] == ["compare"]:
        sys.exit(compare(Path(sys.argv[2]), Path(sys.argv[3])))
    else:
        sys.exit(__doc__)
