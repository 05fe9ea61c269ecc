"""An exported folder that installs ftstudio from a wheel built at export time into `wheels/` (ftstudio is not
on PyPI), as the trainers' exports do: written to disk here, or zipped
for the app's download by `recipe_zip`."""

from __future__ import annotations

from pathlib import Path

from ._bundle import WHEELS
from ._wheel import build_wheel, wheel_name


def ftstudio_requirement() -> str:
    """The requirements.txt lines that take ftstudio from the folder's wheel, pinned to the exported version
    so no index can substitute another (pip resolves --find-links against the requirements file's folder)."""
    return f"--find-links {WHEELS}\nftstudio=={wheel_name().split('-')[1]}\n"


def with_wheel(files: dict[str, str]) -> dict[str, str | bytes]:
    name, data = build_wheel()
    return {**files, f"{WHEELS}/{name}": data}


def write_folder(files: dict[str, str | bytes], out_dir: str | Path) -> list[Path]:
    out = Path(out_dir)
    written: list[Path] = []
    for name, content in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        written.append(path)
    return written
