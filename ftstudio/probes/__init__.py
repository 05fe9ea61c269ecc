"""Before you pay for training: reward-hacking probes and calibration of a grader on real samples.

`probe(grader, rows)` grades each genuine `model_sample` and its probe variants (empty, padded, hedged,
injected, …) with the engine and flags the probes that game the grader, naming the node responsible and
a fix. `calibration(results, items)` says whether the rewards carry a learning signal; `calibrate` /
`trust_report` add agreement with human labels, self-consistency and agreement between graders meant to agree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ftstudio.core import LazyFace

if TYPE_CHECKING:
    from ._agreement import (
        AGREE_MIN,
        MIN_LABELS,
        RESAMPLES,
        bootstrap,
        disagreements,
        kappa,
        kappa_interval,
        label_passes,
        label_score,
        mean_interval,
        spearman,
        spearman_interval,
        threshold_max_kappa,
    )
    from ._calibration import SAME_SCORE_WARN, calibration, calibration_text, group_keys
    from ._fixes import fix_for
    from ._groups import Groups
    from ._judge import JUDGE_FAMILY, JUDGE_PROBES, MASTER_KEYS, JudgeResult, judge_nodes
    from ._judging import DEFAULT_PASS, grader_agreement, label_agreement, pass_threshold_of, self_consistency
    from ._run import (
        DEFAULT_THRESHOLD,
        FLAG_SHARE,
        ProbePlan,
        ProbeReport,
        ProbeResult,
        check_probes,
        plan,
        probe,
        run,
    )
    from ._sampling import GROUP_FIELD, SampleEstimate, SampleRun, generate, prompt_messages
    from ._sampling import estimate as estimate_samples
    from ._trust import calibrate, check_agree, compare_graders, label_values, trust_report
    from ._variants import CONTENT_PRESERVING, DEGENERATE, INCOMPLETE, INJECTION, PROBES, kind_of, variant

# Each name is imported from its module when first used, so a command pays only for what it uses (issue 23, start-up).
_FACE = LazyFace(__name__, {
    "_agreement": ("AGREE_MIN", "MIN_LABELS", "RESAMPLES", "bootstrap", "disagreements", "kappa", "kappa_interval",
                   "label_passes", "label_score", "mean_interval", "spearman", "spearman_interval",
                   "threshold_max_kappa"),
    "_calibration": ("SAME_SCORE_WARN", "calibration", "calibration_text", "group_keys"),
    "_fixes": ("fix_for",),
    "_groups": ("Groups",),
    "_judge": ("JUDGE_FAMILY", "JUDGE_PROBES", "MASTER_KEYS", "JudgeResult", "judge_nodes"),
    "_judging": ("DEFAULT_PASS", "grader_agreement", "label_agreement", "pass_threshold_of", "self_consistency"),
    "_run": ("DEFAULT_THRESHOLD", "FLAG_SHARE", "ProbePlan", "ProbeReport", "ProbeResult", "check_probes", "plan",
             "probe", "run"),
    "_sampling": ("GROUP_FIELD", "SampleEstimate", "SampleRun", "generate", "prompt_messages",
                  "estimate as estimate_samples"),
    "_trust": ("calibrate", "check_agree", "compare_graders", "label_values", "trust_report"),
    "_variants": ("CONTENT_PRESERVING", "DEGENERATE", "INCOMPLETE", "INJECTION", "PROBES", "kind_of", "variant"),
})


def __getattr__(name: str) -> object:
    return _FACE.get(name, globals())


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "AGREE_MIN", "JUDGE_FAMILY", "JUDGE_PROBES", "MASTER_KEYS", "MIN_LABELS", "RESAMPLES", "JudgeResult", "bootstrap",
    "disagreements", "judge_nodes", "kappa", "kappa_interval", "label_passes", "label_score", "mean_interval",
    "spearman", "spearman_interval", "threshold_max_kappa", "DEFAULT_PASS", "grader_agreement", "label_agreement",
    "pass_threshold_of", "self_consistency", "calibrate", "check_agree", "compare_graders", "label_values",
    "trust_report",
    "CONTENT_PRESERVING", "DEFAULT_THRESHOLD", "DEGENERATE", "FLAG_SHARE", "INCOMPLETE", "INJECTION", "PROBES",
    "SAME_SCORE_WARN", "GROUP_FIELD", "SampleEstimate", "SampleRun", "estimate_samples", "generate", "prompt_messages", "ProbePlan", "ProbeReport", "ProbeResult", "calibration", "calibration_text",
    "Groups", "check_probes", "fix_for", "group_keys", "kind_of", "plan", "probe", "run", "variant",
]
