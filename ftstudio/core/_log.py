"""Internal failures keep their traceback: the `ftstudio` logger writes to a rotating file under
$FTSTUDIO_HOME/logs/ (default ~/.ftstudio), and the failure becomes an Issue next to the others.

The file handler is attached on the first failure, not at import: most runs never log anything and
must not create folders (nor import logging: issue 23, start-up). Messages pass through `redact`, so a key
in an exception never reaches disk.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from ._issues import Issue
from ._redact import redact

if TYPE_CHECKING:
    import logging

LOG_FILE = "ftstudio.log"
_MAX_BYTES = 1_000_000
_BACKUPS = 3
LOGGER = "ftstudio"
_lock = threading.Lock()
_handler_dir: Path | None = None


def home() -> Path:
    """$FTSTUDIO_HOME, or ~/.ftstudio: where autosave, presets, trust decisions and logs live."""
    return Path(os.environ.get("FTSTUDIO_HOME") or Path.home() / ".ftstudio")


def cache_dir() -> Path:
    """$FTSTUDIO_CACHE_DIR, or ~/.cache/ftstudio: answers of model calls, tiktoken's files, the WordNet copy.
    Everything there can be rebuilt; tests point it (and $FTSTUDIO_HOME) at a temporary folder."""
    env = os.environ.get("FTSTUDIO_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "ftstudio"


def log_path() -> Path:
    return home() / "logs" / LOG_FILE


def _ensure_handler() -> logging.Logger:
    """The `ftstudio` logger, with the rotating file handler for the current home (tests switch homes between runs)."""
    import logging

    global _handler_dir
    logger = logging.getLogger(LOGGER)
    target = log_path()
    with _lock:
        if _handler_dir == target.parent:
            return logger
        for old in [h for h in logger.handlers if getattr(h, "_ftstudio", False)]:
            logger.removeHandler(old)
            old.close()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            from logging.handlers import RotatingFileHandler  # only when something is logged: socket, queue

            handler: logging.Handler = RotatingFileHandler(
                target, maxBytes=_MAX_BYTES, backupCount=_BACKUPS, encoding="utf-8")
        except OSError as exc:  # an unwritable home: say so once on stderr, keep logging there
            handler = logging.StreamHandler()
            logging.getLogger(__name__).warning("ftstudio: cannot write logs under %s (%s); logging to stderr",
                                                target.parent, exc)

        class _Redacting(logging.Formatter):
            def format(self, record: logging.LogRecord) -> str:
                return redact(super().format(record))

        handler.setFormatter(_Redacting("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._ftstudio = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        _handler_dir = target.parent
    return logger


def log_failure(where: str, exc: BaseException) -> None:
    """Log an unexpected exception with its traceback."""
    _ensure_handler().error("%s failed unexpectedly", where, exc_info=(type(exc), exc, exc.__traceback__))


def internal_issue(where: str, exc: BaseException, path: str = "") -> Issue:
    """Log `exc` and return the Issue that reports it beside the other findings."""
    log_failure(where, exc)
    return Issue(path=path, severity="error", code="internal_error",
                 message=redact(f"{where} failed unexpectedly: {type(exc).__name__}: {exc}")[:500],
                 hint=f"the traceback is in {log_path()}; please report it with the config")
