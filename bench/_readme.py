"""Replace one "## Title" section of bench/README.md (every benchmark writes its own section)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).with_name("README.md")


def write_section(title: str, body: str, readme: Path = README) -> None:
    """`body` may start with its own '## title' line; it is added when missing."""
    text = body if body.lstrip().startswith(f"## {title}") else f"## {title}\n\n{body}"
    old = readme.read_text() if readme.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(old):
        new = pattern.sub(lambda _: text.rstrip("\n") + "\n\n", old, count=1)
    else:
        new = old.rstrip("\n") + "\n\n" + text
    readme.write_text(new.rstrip("\n") + "\n")
