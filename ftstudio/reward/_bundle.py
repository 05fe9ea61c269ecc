"""`ftstudio export CONFIG --format trl|verl|openrlhf|verifiers|nemo-gym -o DIR`: a folder per trainer that
installs with the one command its README gives (`pip install -r requirements.txt`, ftstudio itself from a
wheel built at export time into `wheels/`) and has an offline smoke run."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path

from ftstudio.config import JobConfig, to_json
from ftstudio.core.records import datarecord
from ftstudio.grading import uses_models

from . import _nemo_files as ng
from . import _openrlhf_recipe as orl
from . import _verifiers_files as vrf
from . import _verl_files as vf
from ._examples import example_rows
from ._recipe import GRADER_FILE, recipe_files
from ._verl_recipe import VERL_VERSION, verl_overrides
from ._wheel import build_wheel, wheel_name

TRL_VERSION = "1.16.0"
WHEELS = "wheels"
EXAMPLES = "example_rows.jsonl"


@datarecord(frozen=True)
class TrainerFormat:
    format: str  # the --format value
    trainer: str
    version: str  # the release the tests run
    requirement: str  # the trainer's line in requirements.txt
    smoke: str  # the README's one command: install, then the offline smoke run
    needs_grader: bool = True  # False: SFT and DPO jobs export too (TRL only)


_INSTALL = "pip install -r requirements.txt && "
FORMATS: dict[str, TrainerFormat] = {f.format: f for f in (
    TrainerFormat("trl", "TRL", TRL_VERSION, "trl>=1.16", _INSTALL + "python train.py --smoke", needs_grader=False),
    TrainerFormat("verl", "verl", VERL_VERSION, f"verl=={VERL_VERSION}", _INSTALL + "python3 smoke.py"),
    TrainerFormat("openrlhf", "OpenRLHF", orl.OPENRLHF_VERSION, f"openrlhf=={orl.OPENRLHF_VERSION}",
                  _INSTALL + "python3 smoke.py"),
    TrainerFormat("verifiers", "verifiers", vrf.VERIFIERS_VERSION, f"verifiers=={vrf.VERIFIERS_VERSION}",
                  _INSTALL + "python3 smoke.py"),
    # NeMo-Gym itself needs Python >= 3.13.14: the folder runs `ftstudio serve` (the [serve] extra) for it.
    TrainerFormat("nemo-gym", "NeMo-Gym", ng.NEMO_GYM_VERSION, "", _INSTALL + "python3 smoke.py"),
)}


def requirements(fmt: TrainerFormat, extra: Sequence[str] = ()) -> str:
    """The trainer, then ftstudio from the wheel beside this file (pip resolves --find-links against the
    requirements file's folder), pinned to the exported version so no index can substitute another."""
    version = wheel_name().split("-")[1]
    ftstudio = f"ftstudio[serve]=={version}" if fmt.format == "nemo-gym" else f"ftstudio=={version}"
    lines = [f"--find-links {WHEELS}", *([fmt.requirement] if fmt.requirement else []), *extra, ftstudio]
    return "\n".join(lines) + "\n"


def _examples(config: JobConfig) -> str:
    return "".join(json.dumps(r) + "\n" for r in example_rows(config.method_type, config.grader))


def export_files(config: JobConfig, fmt: str, grader_path: str | Path | None = None) -> dict[str, str]:
    """{file name: text} of the folder (the wheel aside). `grader_path`: where grader.json will be, for the
    absolute path verl's overrides carry (default: grader.json in the current folder)."""
    spec = FORMATS[fmt]
    grader = config.grader
    if spec.needs_grader and (config.method_type != "reinforcement" or grader is None):
        raise ValueError(f"--format {fmt} needs a reinforcement job with a grader (or a bare grader); "
                         f"this is a {config.method_type} job: use --format trl")
    if fmt == "trl":
        files = recipe_files(config)
        files["requirements.txt"] = requirements(spec, files["requirements.txt"].split()[1:])
        return {**files, EXAMPLES: _examples(config)}
    assert grader is not None  # needs_grader, checked above
    name = grader.name or grader.type
    files = {GRADER_FILE: to_json(grader) + "\n", EXAMPLES: _examples(config), "requirements.txt": requirements(spec)}
    if fmt == "verl":
        overrides = verl_overrides(grader_path or GRADER_FILE, asynchronous=uses_models(grader))
        files.update({"overrides.txt": "\n".join(overrides) + "\n", "run.sh": vf.run_sh(),
                      "prepare_data.py": vf.PREPARE_DATA_PY, "smoke.py": vf.SMOKE_PY,
                      "README.md": vf.readme(name, overrides, uses_models(grader))})
    elif fmt == "openrlhf":
        files.update({"reward_func.py": orl.reward_func_py(), "prepare_data.py": orl.PREPARE_DATA_PY,
                      "run.sh": orl.run_sh(), "smoke.py": orl.SMOKE_PY, "README.md": orl.readme(name)})
    elif fmt == "verifiers":
        files.update({"taskset.py": vrf.taskset_py(), "smoke.py": vrf.SMOKE_PY, "README.md": vrf.readme(name)})
    else:  # nemo-gym
        data = ng.dataset_rows(example_rows("reinforcement", grader))
        server = f"resources_servers/{ng.SERVER}"
        files.update({"data/example.jsonl": data, f"{server}/app.py": ng.APP_PY,
                      f"{server}/configs/{ng.SERVER}.yaml": ng.config_yaml(), f"{server}/data/example.jsonl": data,
                      "smoke.py": ng.SMOKE_PY, "README.md": ng.readme(name)})
    return files


def write_export(config: JobConfig, fmt: str, out_dir: str | Path) -> list[Path]:
    out = Path(out_dir)
    (out / WHEELS).mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, text in export_files(config, fmt, out.resolve() / GRADER_FILE).items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if name.endswith(".sh"):
            path.chmod(0o755)
        written.append(path)
    wheel, data = build_wheel()
    (out / WHEELS / wheel).write_bytes(data)
    return [*written, out / WHEELS / wheel]


def export_zip(config: JobConfig, fmt: str, folder: str) -> bytes:
    """The folder as a zip (the app's download), wheel included."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in export_files(config, fmt, f"/path/to/{folder}/{GRADER_FILE}").items():
            info = zipfile.ZipInfo(f"{folder}/{name}")
            info.external_attr = (0o755 if name.endswith(".sh") else 0o644) << 16
            zf.writestr(info, text, zipfile.ZIP_DEFLATED)
        wheel, data = build_wheel()
        zf.writestr(f"{folder}/{WHEELS}/{wheel}", data)
    return buf.getvalue()
