"""Text-similarity metrics: ftstudio.metrics vs the reference libraries, same rows, same run.

For each metric: the reference library called row by row (as the issue pins it) and
`ftstudio.metrics.score_many` on the same generated rows (realistic English sentences of
10-40 tokens; inputs are paraphrases, edits or unrelated sentences of the references).
Checks that every value is equal, prints a table, and with --write replaces the
"Text similarity" section of bench/README.md.

    python bench/bench_metrics.py            # 20,000 rows (meteor: 5,000)
    python bench/bench_metrics.py --quick    # 2,000 rows, a few seconds
    python bench/bench_metrics.py --write    # also update bench/README.md
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import sys
import tempfile
import time
import warnings

from _readme import write_section  # noqa: E402

_FUNCTION = ("the the the the a a a an of of of to to to in in and and and is is was are "
             "that that it it for on with as by at from this be or not but have has had "
             "we you they he she his her their our its there which will would can could "
             "should may all some no more most than then so if when while about into over")
_NOUNS = ("model data answer question result test value number report system user team "
          "customer order price product company market year month week day time people "
          "child children city country house car road river water food book letter page "
          "word sentence language problem reason example method process plan policy "
          "service account payment invoice request error file record table chart score "
          "group member manager teacher student doctor patient school hospital office "
          "meeting decision change rate growth risk cost budget revenue profit loss")
_VERBS = ("run runs running ran make makes made making take takes took taken give gives "
          "gave given use uses used using show shows showed shown find finds found "
          "increase increased increases decrease decreased improve improved improves "
          "buy bought purchase purchased sell sold pay paid send sent receive received "
          "explain explained describe described answer answered ask asked help helped "
          "need needs needed want wanted start started begin began finish finished "
          "grow grew grown reduce reduced check checked review reviewed update updated")
_ADJECTIVES = ("good better best bad worse worst big large small little new old high low "
               "quick fast slow rapid happy glad sad important main major minor clear "
               "simple complex correct wrong accurate exact final early late recent "
               "local global public private strong weak short long full empty")
_ADVERBS = "quickly rapidly slowly clearly simply really very quite often usually happily"
_SYNONYMS = [
    ("big", "large"), ("small", "little"), ("quick", "fast", "rapid"), ("happy", "glad"),
    ("buy", "purchase"), ("bought", "purchased"), ("begin", "start"), ("began", "started"),
    ("child", "kid"), ("children", "kids"), ("car", "automobile"), ("answer", "reply"),
    ("error", "mistake"), ("quickly", "rapidly"), ("correct", "right"), ("show", "display"),
    ("help", "assist"), ("helped", "assisted"), ("house", "home"), ("reduce", "cut"),
]
_SYNONYM = {word: group for group in _SYNONYMS for word in group}
_INFLECT = [("s", ""), ("ed", ""), ("ing", ""), ("", "s"), ("", "ed"), ("", "ing")]


class TextGen:
    """Seeded generator of reference sentences and inputs scored against them."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.function = _FUNCTION.split()
        self.content = (_NOUNS + " " + _VERBS + " " + _ADJECTIVES + " " + _ADVERBS).split()

    def word(self) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.45:
            return rng.choice(self.function)
        if r < 0.97:
            return rng.choice(self.content)
        return str(rng.choice([rng.randint(1, 100), rng.randint(1900, 2030), rng.random() * 100])
                   )[:5]

    def sentence(self) -> list[str]:
        rng = self.rng
        words = [self.word() for _ in range(rng.randint(10, 40))]
        words[0] = words[0].capitalize()
        for k in range(2, len(words) - 1):
            if rng.random() < 0.06:
                words[k] += ","
        words[-1] += rng.choice([".", ".", ".", "!", "?"])
        return words

    def edit(self, words: list[str]) -> list[str]:
        rng = self.rng
        out = list(words)
        for _ in range(rng.randint(1, 6)):
            k = rng.randrange(len(out))
            op = rng.random()
            bare = out[k].lower().strip(".,!?")
            if op < 0.25 and bare in _SYNONYM:
                out[k] = rng.choice(_SYNONYM[bare])
            elif op < 0.4:
                old, new = rng.choice(_INFLECT)
                if bare.endswith(old) and len(bare) > 3:
                    out[k] = bare[: len(bare) - len(old)] + new
            elif op < 0.55 and len(out) > 3:
                del out[k]
            elif op < 0.7:
                out.insert(k, self.word())
            elif op < 0.85 and k + 1 < len(out):
                out[k], out[k + 1] = out[k + 1], out[k]
            else:
                out[k] = self.word()
        return out

    def pairs(self, n: int) -> tuple[list[str], list[str]]:
        inputs, references = [], []
        for _ in range(n):
            reference = self.sentence()
            r = self.rng.random()
            if r < 0.7:
                hypothesis = self.edit(reference)
            elif r < 0.9:
                hypothesis = self.sentence()
            else:
                hypothesis = list(reference)
            inputs.append(" ".join(hypothesis))
            references.append(" ".join(reference))
        return inputs, references


def _reference_scorers() -> dict:
    """The reference implementations, exactly as pinned by the issue."""
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
    from nltk.translate.gleu_score import sentence_gleu
    from nltk.translate.meteor_score import meteor_score
    from rapidfuzz import fuzz
    from rouge_score import rouge_scorer

    method1 = SmoothingFunction().method1
    ratio = fuzz.ratio

    def rouge(kind: str):
        scorer = rouge_scorer.RougeScorer([kind], use_stemmer=False)
        return lambda i, r: scorer.score(r, i)[kind].fmeasure

    scorers = {
        "fuzzy_match": lambda i, r: ratio(i, r) / 100,
        "bleu": lambda i, r: sentence_bleu([r.split()], i.split(), weights=(0.25,) * 4,
                                           smoothing_function=method1),
        "gleu": lambda i, r: sentence_gleu([r.split()], i.split()),
        "meteor": lambda i, r: meteor_score([r.split()], i.split()),
        "rouge_l": rouge("rougeL"),
    }
    for n in range(1, 6):
        scorers[f"rouge_{n}"] = rouge(f"rouge{n}")
    return scorers


_TARGETS = {"fuzzy_match": "500,000 rows/s", "meteor": "2x"}


def _timed(fn) -> tuple[float, list]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def compare(metric: str, inputs: list[str], references: list[str], reference_fn,
            repeats: int, chunk: int = 1000) -> dict:
    """Time ours and the reference on the same chunks, alternating which goes first, and
    keep each chunk's best time: on a shared machine that cancels most of the noise."""
    from ftstudio.graders import metrics

    metrics.prepare(metric)
    with warnings.catch_warnings():  # first-call costs (imports) belong to neither side
        warnings.simplefilter("ignore")
        metrics.score_many(metric, ["warm up"], ["warm up"])
        reference_fn("warm up", "warm up")
    ours_best: dict[int, float] = {}
    ref_best: dict[int, float] = {}
    ours_values: list[float] = []
    ref_values: list[float] = []
    for rep in range(repeats):
        for k, lo in enumerate(range(0, len(inputs), chunk)):
            ins, refs = inputs[lo:lo + chunk], references[lo:lo + chunk]
            runs = [("ours", lambda ins=ins, refs=refs: metrics.score_many(metric, ins, refs)),
                    ("ref", lambda ins=ins, refs=refs: [reference_fn(i, r) for i, r in zip(ins, refs)])]
            for side, fn in runs if (rep + k) % 2 == 0 else runs[::-1]:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    seconds, values = _timed(fn)
                best = ours_best if side == "ours" else ref_best
                best[k] = min(best.get(k, float("inf")), seconds)
                if rep == 0:
                    (ours_values if side == "ours" else ref_values).extend(values)
    ours_s, ref_s = sum(ours_best.values()), sum(ref_best.values())
    mismatches = sum(1 for a, b in zip(ours_values, ref_values) if a != b)
    n = len(inputs)
    return {"metric": metric, "rows": n, "reference_rps": n / ref_s, "ours_rps": n / ours_s,
            "speedup": ref_s / ours_s, "target": _TARGETS.get(metric, "5x"),
            "equal": mismatches == 0 and len(ours_values) == n, "mismatches": mismatches}


def run(rows: int, meteor_rows: int, repeats: int, seed: int) -> tuple[list[dict], dict]:
    from ftstudio.graders import metrics

    inputs, references = TextGen(seed).pairs(rows)
    extra = {}
    start = time.perf_counter()
    metrics.prepare("meteor")  # converts WordNet into the cache on the very first run
    extra["ftstudio WordNet load, incl. converting it on a first run (s)"] = (
        time.perf_counter() - start)
    from nltk.corpus import wordnet

    start = time.perf_counter()
    wordnet.ensure_loaded()
    extra["nltk WordNet load (s)"] = time.perf_counter() - start
    reference = _reference_scorers()
    results = []
    for metric in metrics.METRICS:
        n = meteor_rows if metric == "meteor" else rows
        # METEOR caches per word, so it runs once, from cold caches.
        reps = 1 if metric == "meteor" else repeats
        results.append(compare(metric, inputs[:n], references[:n], reference[metric], reps))
    return results, extra


def table(results: list[dict]) -> str:
    lines = ["| metric | rows | reference rows/s | ftstudio rows/s | speed-up | target | equal |",
             "| --- | ---: | ---: | ---: | ---: | --- | --- |"]
    for r in results:
        equal = "yes" if r["equal"] else f"NO ({r['mismatches']})"
        lines.append(f"| {r['metric']} | {r['rows']:,} | {r['reference_rps']:,.0f} | "
                     f"{r['ours_rps']:,.0f} | {r['speedup']:.1f}x | {r['target']} | {equal} |")
    return "\n".join(lines)


def _import_time() -> float:
    import subprocess

    code = ("import time; t = time.perf_counter(); import ftstudio.graders.metrics; "
            "print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout)


def section(results: list[dict], extra: dict, command: str) -> str:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    facts = "\n".join(f"- {k}: {v:.3f}" for k, v in extra.items())
    return f"""## Text similarity

`ftstudio.metrics.score_many` against the reference libraries called row by row, on the same
generated rows (English-like sentences of 10-40 tokens; inputs are edited copies, paraphrases
or unrelated sentences), in the same run. "equal" means every value is identical (`==`).
Both sides run on the same chunks of 1,000 rows, alternating which goes first, and each
chunk keeps its best of 3 runs (1 with --quick), which cancels most of the noise of a shared
machine. METEOR runs once, from cold per-word caches (WordNet already loaded for both).

Measured {datetime.date.today().isoformat()} on {machine}, with `{command}`:

{table(results)}

{facts}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 rows, one run each")
    parser.add_argument("--rows", type=int, help="rows per metric (default 20,000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--write", action="store_true", help="update bench/README.md")
    parser.add_argument("--cache-dir", help="FTSTUDIO_CACHE_DIR for this run "
                        "(default: the usual one; 'tmp' for a throw-away directory)")
    args = parser.parse_args(argv)
    rows = args.rows or (2_000 if args.quick else 20_000)
    meteor_rows = min(rows, 5_000)
    repeats = 1 if args.quick else 3
    if args.cache_dir:
        os.environ["FTSTUDIO_CACHE_DIR"] = (tempfile.mkdtemp(prefix="ftstudio-bench-")
                                            if args.cache_dir == "tmp" else args.cache_dir)
    results, extra = run(rows, meteor_rows, repeats, args.seed)
    extra["`import ftstudio.graders.metrics` (s)"] = _import_time()
    print(table(results))
    for k, v in extra.items():
        print(f"{k}: {v:.3f}")
    if args.write:
        command = "python bench/bench_metrics.py" + (" --quick" if args.quick else "")
        if args.rows:
            command += f" --rows {args.rows}"
        write_section("Text similarity", section(results, extra, command))
    return 0 if all(r["equal"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
