"""A wheel of the running ftstudio, built at export time: exported projects install it from `wheels/`
(ftstudio is not on PyPI). Built here from the package's files and its installed metadata, with no build
backend; file times are fixed, so the same tree gives the same bytes."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from importlib import metadata
from pathlib import Path

import ftstudio

_EPOCH = (1980, 1, 1, 0, 0, 0)
_WHEEL = "Wheel-Version: 1.0\nGenerator: ftstudio export\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


class WheelError(Exception):
    pass


def _metadata() -> tuple[str, str, str]:
    """(version, METADATA text, entry_points.txt text) of the installed ftstudio."""
    try:
        dist = metadata.distribution("ftstudio")
    except metadata.PackageNotFoundError:
        raise WheelError("ftstudio is not installed (its metadata is missing), so no wheel can be built for the "
                         "export: run `pip install -e .` in the checkout first") from None
    # an egg-info (a checkout on the path after `pip install -e`) names it PKG-INFO
    meta = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    return dist.version, meta, dist.read_text("entry_points.txt") or ""


def wheel_name() -> str:
    return f"ftstudio-{_metadata()[0]}-py3-none-any.whl"


def _package_files() -> list[tuple[str, bytes]]:
    root = Path(ftstudio.__file__).resolve().parent
    out = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
            out.append((f"ftstudio/{path.relative_to(root).as_posix()}", path.read_bytes()))
    return out


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel() -> tuple[str, bytes]:
    """(file name, bytes) of a py3-none-any wheel of the running ftstudio package."""
    version, meta, entry_points = _metadata()
    info = f"ftstudio-{version}.dist-info"
    files = _package_files() + [(f"{info}/METADATA", meta.encode()), (f"{info}/WHEEL", _WHEEL.encode())]
    if entry_points:
        files.append((f"{info}/entry_points.txt", entry_points.encode()))
    record = "\n".join([_record_line(n, d) for n, d in files] + [f"{info}/RECORD,,"]) + "\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in [*files, (f"{info}/RECORD", record.encode())]:
            entry = zipfile.ZipInfo(name, _EPOCH)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(entry, data)
    return f"ftstudio-{version}-py3-none-any.whl", buf.getvalue()
