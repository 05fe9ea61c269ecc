"""Run the probes: grade every genuine sample and its variants with the engine, then flag what games it.

All variants go through one GradingSession pass (python pools and the model runner are reused, model
answers are cached like every model call). A degenerate probe is flagged when it scores at or above
the threshold on at least FLAG_SHARE of its rows; a content-preserving one when it scores above the
genuine answer on at least FLAG_SHARE of its rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ftstudio.core import DEFAULT_SAMPLE_FIELD, REWARD_TOLERANCE, mean
from ftstudio.core.records import asdict, datarecord, field
from ftstudio.grading import Cancel, GradeOptions, GradingSession, ProgressFn, prepare

from ._fixes import fix_for, node_label, why_text
from ._judge import JUDGE_FAMILY, JUDGE_PROBES, JudgeResult, judge_nodes, judge_verdicts, plan_rows
from ._variants import PROBES, kind_of, variant

DEFAULT_THRESHOLD = 0.5
FLAG_SHARE = 0.05
MAX_EXAMPLES = 5


@datarecord
class ProbeResult:
    probe: str
    rows: int
    mean_reward: float | None
    share_above_genuine: float  # strictly above the genuine answer's reward (beyond REWARD_TOLERANCE)
    share_tied_with_genuine: float  # equal to it within REWARD_TOLERANCE (both 0 is a tie, not a win)
    share_at_or_above_threshold: float
    flagged: bool
    why: str | None
    examples: list[int] = field(default_factory=list[int])

    @property
    def share_at_or_above_genuine(self) -> float:
        return self.share_above_genuine + self.share_tied_with_genuine

    def to_dict(self) -> dict[str, Any]:
        """The documented `ftstudio probe --json` record: ties and wins together as share_at_or_above_genuine."""
        d = asdict(self)
        above, tied = d.pop("share_above_genuine"), d.pop("share_tied_with_genuine")
        return {"probe": d.pop("probe"), "rows": d.pop("rows"), "mean_reward": d.pop("mean_reward"),
                "share_at_or_above_genuine": above + tied, **d}


@datarecord
class ProbeReport:
    genuine_mean: float | None
    threshold: float
    probes: list[ProbeResult]
    genuine_rows: int = 0
    cancelled: bool = False
    judge: list[JudgeResult] = field(default_factory=list[JudgeResult])

    @property
    def flagged(self) -> list[ProbeResult | JudgeResult]:
        return [p for p in [*self.probes, *self.judge] if p.flagged]

    def to_dict(self) -> dict[str, Any]:
        return {"genuine_mean": self.genuine_mean, "threshold": self.threshold,
                "probes": [p.to_dict() for p in self.probes] + [j.to_dict() for j in self.judge]}


@datarecord
class ProbePlan:
    """The rows to grade: genuine samples first, then each probe's variants (`owner` maps back)."""

    grader: Any
    sample_field: str
    probes: tuple[str, ...]
    genuine: list[int]               # data row index of each genuine sample
    rows: list[dict[str, Any]]       # genuine rows, then variant rows
    owner: list[tuple[str, int]]     # per variant row: (probe, position in `genuine`)
    # The judge family's rows follow the variants: known-wrong answers ('wrong'), then each judge probe's.
    judge_probes: tuple[str, ...] = ()
    judge_owner: list[tuple[str, int]] = field(default_factory=list[tuple[str, int]])

    @property
    def variant_count(self) -> int:
        return len(self.owner) + len(self.judge_owner)


def check_probes(names: Sequence[str] | None) -> tuple[str, ...]:
    """The probes to run, in order: the default set when none are named; `judge` names its whole family."""
    if not names:
        return PROBES
    known = (*PROBES, JUDGE_FAMILY, *JUDGE_PROBES)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown probe {', '.join(map(repr, unknown))}; choose from {', '.join(known)}")
    expanded = [m for n in names for m in (JUDGE_PROBES if n == JUDGE_FAMILY else (n,))]
    return tuple(dict.fromkeys(expanded))


def plan(grader: Any, rows: Any, probes: Sequence[str] | None = None, limit: int | None = None,
         sample_field: str = DEFAULT_SAMPLE_FIELD) -> ProbePlan:
    """Pick the rows with a genuine sample (the first `limit`) and make every probe's variants."""
    from ftstudio.grading import to_grader

    grader = to_grader(grader)
    names = check_probes(probes)
    judged = tuple(n for n in names if n in JUDGE_PROBES)
    names = tuple(n for n in names if n not in JUDGE_PROBES)
    if judged and not judge_nodes(grader):
        raise ValueError("the judge probes need a score_model or label_model grader (alone or anywhere inside a multi); "
                         f"'{grader.name}' is a {grader.type}")
    batch = prepare(rows, sample_field)
    genuine = [i for i in range(len(batch)) if i not in batch.base_errors and batch.outputs[i] is not None]
    if limit is not None:
        genuine = genuine[: max(0, limit)]
    samples = [batch.outputs[i] or "" for i in genuine]
    base = [batch.rows[i] for i in genuine]
    out_rows: list[dict[str, Any]] = list(base)
    owner: list[tuple[str, int]] = []
    for name in names:
        for j, (row, sample) in enumerate(zip(base, samples)):
            others = samples[j + 1:j + 8] + samples[max(0, j - 7):j]
            text = variant(name, sample, row, others)
            if text is None:
                continue
            out_rows.append({**row, sample_field: text})
            owner.append((name, j))
    judge_rows, judge_owner = plan_rows(grader, base, samples, judged, sample_field) if judged else ([], [])
    return ProbePlan(grader, sample_field, names, genuine, out_rows + judge_rows, owner, judged, judge_owner)


def run(p: ProbePlan, threshold: float = DEFAULT_THRESHOLD, options: GradeOptions | None = None,
        progress: ProgressFn | None = None, cancel: Cancel | None = None) -> ProbeReport:
    with GradingSession(p.grader, p.sample_field, options) as session:
        results = session.grade(p.rows, progress, cancel, node_scores=bool(p.judge_probes))
    n = len(p.genuine)
    rewards = list(results.rewards)
    subs = {k: list(v) for k, v in results.sub_rewards.items()}
    genuine_mean = mean(rewards[:n]) if n else None
    by_probe: dict[str, list[int]] = {name: [] for name in p.probes}
    for k, (name, _j) in enumerate(p.owner):
        by_probe[name].append(n + k)
    out = [_judge(p, name, idx, rewards, subs, threshold) for name, idx in by_probe.items()]
    nodes = {k: list(v) for k, v in results.node_rewards.items()}
    return ProbeReport(genuine_mean, threshold, out, n, results.cancelled, _judge_family(p, rewards, nodes))


def _judge_family(p: ProbePlan, rewards: list[float], nodes: dict[str, list[float]]) -> list[JudgeResult]:
    if not p.judge_probes:
        return []
    n, start = len(p.genuine), len(p.genuine) + len(p.owner)
    # Positions relative to the judge block: the known-wrong rows are [n, 2n) once the genuine rows lead.
    local = rewards[:n] + rewards[start:]
    local_nodes = {k: v[:n] + v[start:] for k, v in nodes.items()}
    variants: dict[str, list[int]] = {}
    for k, (name, _j) in enumerate(p.judge_owner):
        if name != "wrong":
            variants.setdefault(name, []).append(n + k)
    wrong = [local[n + k] for k, (name, _j) in enumerate(p.judge_owner) if name == "wrong"]
    return judge_verdicts(p.grader, p.judge_probes, local[:n], wrong, variants, local, local_nodes, n)


def probe(grader: Any, rows: Any, probes: Sequence[str] | None = None, limit: int | None = None,
          threshold: float = DEFAULT_THRESHOLD, sample_field: str = DEFAULT_SAMPLE_FIELD,
          options: GradeOptions | None = None, progress: ProgressFn | None = None,
          cancel: Cancel | None = None) -> ProbeReport:
    """Plan and run in one call."""
    return run(plan(grader, rows, probes, limit, sample_field), threshold, options, progress, cancel)


def _hit(kind: str, value: float, genuine: float, threshold: float) -> bool:
    if kind == "content":
        return value > genuine + REWARD_TOLERANCE
    return value >= threshold - REWARD_TOLERANCE


def _judge(p: ProbePlan, name: str, idx: list[int], rewards: list[float], subs: dict[str, list[float]],
           threshold: float) -> ProbeResult:
    kind = kind_of(name)
    if not idx:
        return ProbeResult(name, 0, None, 0.0, 0.0, 0.0, False, None, [])
    n = len(idx)
    pairs = [(k, p.owner[k - len(p.genuine)][1]) for k in idx]  # (variant row, genuine position)
    above = sum(1 for k, j in pairs if rewards[k] > rewards[j] + REWARD_TOLERANCE)
    tied = sum(1 for k, j in pairs if abs(rewards[k] - rewards[j]) <= REWARD_TOLERANCE)
    at_threshold = sum(1 for k, _j in pairs if rewards[k] >= threshold - REWARD_TOLERANCE)
    hits = [(k, j) for k, j in pairs if _hit(kind, rewards[k], rewards[j], threshold)]
    share = len(hits) / n
    flagged = share >= FLAG_SHARE - 1e-12 and bool(hits)
    why = _why(p, name, kind, hits, subs, share) if flagged else None
    examples = [p.genuine[j] for _k, j in hits[:MAX_EXAMPLES]]
    return ProbeResult(name, n, mean([rewards[k] for k in idx]), above / n, tied / n, at_threshold / n,
                       flagged, why, examples)


def _why(p: ProbePlan, name: str, kind: str, hits: list[tuple[int, int]], subs: dict[str, list[float]],
         share: float) -> str:
    grader = p.grader
    if grader.type != "multi" or not subs:
        return why_text(name, kind, node_label(None, grader), fix_for(grader, name), share)
    fooled: list[str] = []
    for key, values in subs.items():
        if kind == "content":
            count = sum(1 for k, j in hits if values[k] > values[j] + REWARD_TOLERANCE)
        else:
            count = sum(1 for k, j in hits if values[k] > REWARD_TOLERANCE and values[k] >= values[j] - REWARD_TOLERANCE)
        if count * 2 >= len(hits):
            fooled.append(key)
    if len(fooled) == 1:
        key = fooled[0]
        child = grader.graders[key]
        return why_text(name, kind, node_label(f"graders.{key}", child), fix_for(child, name), share)
    if not fooled:
        return why_text(name, kind, node_label(None, grader), fix_for(grader, name), share)
    parts = "; ".join(f"graders.{k} ({grader.graders[k].type}): {fix_for(grader.graders[k], name)}" for k in fooled)
    return f"{name} is credited by several children of {node_label(None, grader)}: {parts}"
