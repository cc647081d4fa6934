"""Line diffs between two versions of a text or JSON artifact, ready to render."""

import difflib
from dataclasses import dataclass

from approvals.json_values import json_text
from approvals.models import Artifact, ArtifactKind

# Beyond this a diff is slow to compute and useless to read; the preview shows the whole text.
DIFF_INPUT_LIMIT = 100_000
DIFF_CONTEXT_LINES = 2


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "remove", "hunk" or "context": the CSS class of the line
    text: str


@dataclass(frozen=True)
class LineDiff:
    old_version: int
    new_version: int
    lines: list[DiffLine]
    added: int
    removed: int
    truncated: bool

    @property
    def identical(self) -> bool:
        return not self.lines


def comparable_text(artifact: Artifact) -> str | None:
    """The text a diff compares: the body of a text artifact, pretty JSON, or None for files."""
    if artifact.kind == ArtifactKind.TEXT:
        return artifact.body_text or ""
    if artifact.kind == ArtifactKind.JSON:
        return json_text(artifact.body_json)[0]
    return None


def line_diff(*, old: Artifact, new: Artifact) -> LineDiff | None:
    """A unified line diff of new against old, or None when either is a file."""
    old_text, new_text = comparable_text(old), comparable_text(new)
    if old_text is None or new_text is None:
        return None
    truncated = len(old_text) > DIFF_INPUT_LIMIT or len(new_text) > DIFF_INPUT_LIMIT
    diff = difflib.unified_diff(
        old_text[:DIFF_INPUT_LIMIT].splitlines(),
        new_text[:DIFF_INPUT_LIMIT].splitlines(),
        lineterm="",
        n=DIFF_CONTEXT_LINES,
    )
    lines, added, removed = [], 0, 0
    for index, raw in enumerate(diff):
        if index < 2:  # the ---/+++ file headers: the page already says which versions these are
            continue
        if raw.startswith("@@"):
            lines.append(DiffLine("hunk", raw))
        elif raw.startswith("+"):
            added += 1
            lines.append(DiffLine("add", raw))
        elif raw.startswith("-"):
            removed += 1
            lines.append(DiffLine("remove", raw))
        else:
            lines.append(DiffLine("context", raw))
    return LineDiff(
        old_version=old.version,
        new_version=new.version,
        lines=lines,
        added=added,
        removed=removed,
        truncated=truncated,
    )
