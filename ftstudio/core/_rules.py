"""A rule with its evidence: the shape of every validation rule, wherever it is declared.

The rules registry (`validation.RULES`) holds most of them; a grader type or a target may declare
its own (a target that can't take a grader type says so with `Unavailable(reason, rule)`, and the
rule carries the evidence). They live here, at the bottom, so that any layer can declare one.
A rule's severity is a mapping target name -> "error" | "warning" | "info" | None (None, or a
target missing from the mapping: the rule doesn't apply there); the key "*" gives the severity on
every target the mapping doesn't name (for a rule declared where the list of targets isn't known).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .records import datarecord

EVIDENCE_KINDS = ("spec", "sdk", "docs-example", "observed", "none-our-reading")

# Short source names, spelled out once (targets.md research, 2026-12).
SOURCES = {
    "OAI-SPEC": "https://github.com/openai/openai-openapi (openapi.yaml @f85dbe2)",
    "OAI-SDK": "https://github.com/openai/openai-python (src/openai/types/graders, fine_tuning)",
    "OAI-GUIDE": "https://platform.openai.com/docs/guides/graders",
    "OAI-RFT": "https://platform.openai.com/docs/guides/reinforcement-fine-tuning",
    "OAI-DEPR": "https://platform.openai.com/docs/deprecations (fine-tuning wind-down)",
    "COOKBOOK-RFT": "https://github.com/openai/openai-cookbook/blob/main/examples/Reinforcement_Fine_Tuning.ipynb",
    "AZ-SPEC": "https://github.com/Azure/azure-rest-api-specs (specification/ai/data-plane/OpenAI.v1/"
               "azure-v1-preview-generated.yaml @0723d852)",
    "AZ-RFT": "https://learn.microsoft.com/azure/ai-foundry/openai/how-to/reinforcement-fine-tuning",
    "AZ-RFT-2025-05": "https://github.com/MicrosoftDocs/azure-ai-docs (articles/ai-services/openai/how-to/"
                      "reinforcement-fine-tuning.md, ms.date 05/11/2025: the how-to's Multi Grader section)",
    "AZ-QA-MULTI": "https://learn.microsoft.com/answers/questions/5596946/request-example-for-multigrader-with-custom-grader",
    "AZ-DPO": "https://learn.microsoft.com/azure/ai-foundry/openai/how-to/fine-tuning-direct-preference-optimization",
    "AZ-MODELS": "https://learn.microsoft.com/azure/ai-foundry/openai/concepts/models (fine-tune-models include)",
    "AZ-AGENTIC": "https://github.com/microsoft-foundry/fine-tuning/tree/main/Demos/Agentic_RFT_PrivatePreview",
    "AZ-COUNTDOWN": "https://github.com/microsoft-foundry/fine-tuning/tree/main/Demos/RFT_Countdown",
    "BR-CREATE": "https://docs.aws.amazon.com/bedrock/latest/userguide/fine-tuning-openai-job-create.html",
    "BR-REWARD": "https://docs.aws.amazon.com/bedrock/latest/userguide/reward-functions-open-weight.html",
    "BR-BLOG": "https://aws.amazon.com/blogs/machine-learning/ (RFT on Amazon Bedrock with OpenAI-compatible APIs)",
    "GENAI": "https://pypi.org/project/google-genai/3.6.1/ (google/genai/types.py: reinforcement tuning types "
             "and their docstrings)",
    "BR-BOTOCORE": "https://pypi.org/project/botocore/1.44.18/ (botocore/data/bedrock/2023-04-20/service-2.json: "
                   "CreateModelCustomizationJob, RFTConfig, RFTHyperParameters)",
    "BR-RFT-NOVA": "https://docs.aws.amazon.com/bedrock/latest/userguide/rft-nova-models.html",
    "BR-RFT-LAMBDA": "https://docs.aws.amazon.com/sagemaker/latest/dg/nova-implementing-reward-functions.html",
    "OURS": "Fine-Tune Studio's reading; no public source either way",
}


@datarecord(frozen=True)
class Evidence:
    kind: str
    source: str  # a key of SOURCES
    quote: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "source": self.source, "url": SOURCES.get(self.source, self.source),
                "quote": self.quote}


@datarecord(frozen=True)
class Rule:
    id: str
    severity: Mapping[str, str | None]  # target -> "error" | "warning" | "info" | None (the rule doesn't apply there)
    evidence: tuple[Evidence, ...]
    message: str
    family: bool = False  # the id is a prefix: schema_*, formula_*, python_*, template_*

    def severity_for(self, target: str) -> str | None:
        return self.severity[target] if target in self.severity else self.severity.get("*")

    def to_dict(self, target: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id + ("*" if self.family else ""), "message": self.message}
        out["severity"] = self.severity_for(target) if target else dict(self.severity)
        out["evidence"] = [e.to_dict() for e in self.evidence]
        return out



@datarecord(frozen=True)
class Unavailable:
    """A target can't take a grader type, said explicitly: `reason` (what the user reads, "... because ...")
    and `rule`, the id of the rule whose evidence backs it and whose severity on that target decides how
    loudly validation reports it. The rule is in `validation.RULES` or in the `rules` of the grader type
    or target that declares this."""

    reason: str
    rule: str
    hint: str = ""
