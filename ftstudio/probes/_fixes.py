"""Why a probe games a grader node, and what to change: one sentence per (grader kind, probe), written in
each grader type's module (`GraderType.fix`)."""

from __future__ import annotations

from typing import Any

from ftstudio.graders import grader_type


def node_label(path: str | None, node: Any) -> str:
    where = f"{path} " if path else ""
    return f"{where}({node.type} '{node.name}')"


def fix_for(node: Any, probe: str) -> str:
    """Why `probe` games this node and what to change (the node's grader type says)."""
    return grader_type(node.type).fix(node, probe)


def why_text(probe: str, kind: str, node_desc: str, fix: str, share: float) -> str:
    what = ("scores at or above the threshold" if kind == "degenerate" else "scores above the genuine answer")
    return f"{probe} {what} on {100 * share:.0f}% of rows because of {node_desc}: {fix}"
