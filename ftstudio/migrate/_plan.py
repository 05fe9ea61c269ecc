"""One Move per target: azure (the same job body), gemini (reward config), bedrock-rft (job + Lambda), trl."""

from __future__ import annotations

import json
from typing import Any

from ftstudio.config import ImportProblem, catalog, method_block, new_config, read_document, to_json
from ftstudio.core.records import datarecord, field
from ftstudio.graders import parse_grader
from ftstudio.reward import MAPPING, recipe_files
from ftstudio.targets import (
    BedrockRftError,
    Change,
    bedrock_rft_changes,
    export_bedrock_rft,
    export_gemini,
    gemini_job_changes,
    rft_models,
)
from ftstudio.validation import check, check_grader, errors, from_json, grader_from_json

MOVE_TARGETS = ("azure", "bedrock-rft", "gemini", "trl")
GEMINI_FILE = "gemini_reward_config.json"
AZURE_FILE = "job.json"


class MoveError(ValueError):
    """The document can't be moved: invalid for the target (code 1) or missing a flag (code 1)."""

    def __init__(self, message: str, issues: list | None = None):
        super().__init__(message)
        self.message, self.issues = message, issues or []


@datarecord
class Move:
    target: str
    files: dict[str, str] = field(default_factory=dict)  # relative path -> text
    changes: list[Change] = field(default_factory=list)
    models: list[str] = field(default_factory=list)  # base models the target offers for the method
    method: str = "reinforcement"

    @property
    def lost(self) -> bool:
        return any(c.lost for c in self.changes)

    def lines(self) -> list[str]:
        out = [f"{'LOST' if c.lost else 'CHANGED'} {c.line()}" for c in self.changes]
        if self.models:
            out.append(f"MODELS {self.target} offers for {self.method}: {', '.join(self.models)}")
        return out

    def markdown(self) -> str:
        lost = sum(c.lost for c in self.changes)
        rows = ["| | where | what changes | what to do | rule |", "|---|---|---|---|---|"]
        rows += [f"| {'lost' if c.lost else 'changed'} | `{c.path or '(document)'}` | {_cell(c.message)} | "
                 f"{_cell(c.hint) or '—'} | `{c.rule}` |" for c in self.changes]
        models = (f"\n\nModels {self.target} offers for {self.method}: " + ", ".join(f"`{m}`" for m in self.models)
                  if self.models else "")
        return (f"# Moving this job to {self.target}\n\n{len(self.changes)} change(s), {lost} of them lose something. "
                f"Files: {', '.join(f'`{f}`' for f in self.files)}.\n\n" + "\n".join(rows) + models + "\n")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _issues_as_changes(issues) -> list[Change]:
    return [Change(i.path, i.code, i.message, i.hint, lost=i.severity == "error") for i in issues]


def _grader_json(doc) -> Any:
    if doc.kind == "grader":
        return doc.data
    method = doc.data.get("method") if isinstance(doc.data, dict) else None
    block = method.get("reinforcement") if isinstance(method, dict) else None
    grader = block.get("grader") if isinstance(block, dict) else None
    if grader is None:
        raise MoveError("the document has no method.reinforcement.grader: moving a job to this target needs one")
    return grader


def _checked(data: Any, target: str):
    doc = read_document(data)
    issues = check_grader(doc.data, target=target) if doc.kind == "grader" else check(doc.data, target=target)
    problems = errors(issues)
    if problems:
        raise MoveError(f"{len(problems)} error(s) for --to {target}", problems)
    return doc, issues


def _azure(data: Any) -> Move:
    doc, issues = _checked(data, "azure")
    if doc.kind == "grader":
        raise MoveError("moving to azure needs a whole job config, not a bare grader")
    move = Move("azure", {AZURE_FILE: to_json(doc.data) + "\n"}, _issues_as_changes(
        [i for i in issues if i.severity != "info" or i.code.startswith(("rft_", "endpoint"))]))
    move.method = _method(doc.data)
    move.models = [m.id for m in catalog.current(move.method, "azure")]
    return move


def _method(config: Any) -> str:
    method = config.get("method") if isinstance(config, dict) else None
    mtype = method.get("type") if isinstance(method, dict) else None
    return mtype if isinstance(mtype, str) else "supervised"


def _gemini(data: Any, cloud_run_uri: str | None) -> Move:
    doc, _ = _checked(data, "gemini")
    export = export_gemini(parse_grader(_grader_json(doc)), **({"cloud_run_uri": cloud_run_uri} if cloud_run_uri else {}))
    prefix = "" if doc.kind == "grader" else "method.reinforcement.grader"
    changes = [Change(".".join(p for p in (prefix, c.path) if p), c.rule, c.message, c.hint, c.lost)
               for c in export.changes]
    if doc.kind != "grader":
        changes = gemini_job_changes(doc.data) + changes
    files = {GEMINI_FILE: json.dumps(export.document, indent=2, ensure_ascii=False) + "\n"}
    return Move("gemini", files, changes)


def _bedrock(data: Any, flags: dict[str, Any]) -> Move:
    doc, _ = _checked(data, "bedrock-rft")
    config = doc.data if doc.kind != "grader" else {}
    try:
        export = export_bedrock_rft(config, _grader_json(doc), **flags)
    except BedrockRftError as exc:
        raise MoveError(str(exc)) from None
    changes = bedrock_rft_changes(config) if config else list(export.changes)
    if flags.get("model"):  # the base model was chosen: the config's own model is not a loss
        changes = [c for c in changes if c.rule != "bedrock_rft_model_unlisted"]
        changes.insert(0, Change("model", "bedrock_rft_job_field", f"base model {export.request['baseModelIdentifier']}"
                                 + (f" (the config had {config.get('model')})" if config.get("model") else ""),
                                 "; ".join(export.warnings), lost=False))
    return Move("bedrock-rft", dict(export.files), changes, rft_models())


def _trl(data: Any) -> Move:
    doc, _ = _checked(data, "compatible")
    try:
        if doc.kind == "grader":
            config = new_config("reinforcement").model_copy(
                update={"method": method_block("reinforcement", grader_from_json(doc.data))})
        else:
            config = from_json(doc.data)
    except ImportProblem as exc:
        raise MoveError(exc.message, exc.issues) from None
    changes = []
    raw = doc.data if doc.kind != "grader" else {}
    hp = _hyper(raw)
    for m in MAPPING:
        name = m.openai.split(" ")[0]
        value = raw.get(name, hp.get(name)) if name not in ("grader", "training_file") else None
        if name == "response_format":
            value = _sub(raw, "method", "reinforcement").get("response_format")
        if value in (None, "auto", "default", "", {}, []):
            continue
        lost = m.how == "no equivalent"
        changes.append(Change(name, "trl_mapping", f"{m.openai} → {m.trl} ({m.how})", m.note, lost=lost))
    return Move("trl", recipe_files(config), changes, ["any Hugging Face causal LM (--model)"],
                config.method_type or "supervised")


def _sub(data: Any, *keys: str) -> dict:
    """data[k1][k2]... when each step is an object, else {}."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def _hyper(config: dict) -> dict:
    mtype = _sub(config, "method").get("type")
    return _sub(config, "method", mtype, "hyperparameters") if isinstance(mtype, str) else {}


def plan_move(data: Any, target: str, *, cloud_run_uri: str | None = None, **bedrock: Any) -> Move:
    """The Move of a job config (or bare grader), JSON form, to `target`; MoveError when it can't be made."""
    if target == "azure":
        return _azure(data)
    if target == "gemini":
        return _gemini(data, cloud_run_uri)
    if target == "bedrock-rft":
        needed = [k for k in ("role_arn", "lambda_arn", "training_s3", "output_s3") if not bedrock.get(k)]
        if needed:
            raise MoveError("--to bedrock-rft needs " + ", ".join("--" + k.replace("_", "-") for k in needed))
        return _bedrock(data, bedrock)
    if target == "trl":
        return _trl(data)
    raise MoveError(f"unknown target {target!r}; use one of {', '.join(MOVE_TARGETS)}")
