"""The `ftstudio` command line: one module per command group over the same functions the pages call."""

from __future__ import annotations

from ._data import check_data_main
from ._main import main, run

__all__ = ["check_data_main", "main", "run"]
