"""Line diffs between two versions of a text or JSON artifact, ready to render."""

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from diff_match_patch import diff_match_patch

from approvals.json_values import json_text
from approvals.models import Artifact, ArtifactKind

# Beyond this a diff is slow to compute and useless to read; the preview shows the whole text.
DIFF_INPUT_LIMIT = 100_000
DIFF_CONTEXT_LINES = 2
# The most one diff may take before it settles for a less minimal answer.
DIFF_SECONDS = 0.05
# Lines of one diff kept for the page: thousands of spans are slow to render and to read.
DIFF_LINES_SHOWN = 400


_LINE_KINDS = {"+": "add", "-": "remove"}
_MARKS = {0: " ", -1: "-", 1: "+"}


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
    lines_cut: bool = False  # only the first DIFF_LINES_SHOWN lines are kept

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


def line_diff(*, old: Artifact, new: Artifact, texts: dict | None = None) -> LineDiff | None:
    """A unified line diff of new against old, or None when either is a file.

    `texts` remembers each artifact's comparable text across calls, so a page
    diffing a chain of versions formats each body once.
    """
    texts = {} if texts is None else texts
    for artifact in (old, new):
        if artifact.id not in texts:
            texts[artifact.id] = comparable_text(artifact)
    old_text, new_text = texts[old.id], texts[new.id]
    if old_text is None or new_text is None:
        return None
    truncated = len(old_text) > DIFF_INPUT_LIMIT or len(new_text) > DIFF_INPUT_LIMIT
    marked = _marked_lines(old_text[:DIFF_INPUT_LIMIT].splitlines(), new_text[:DIFF_INPUT_LIMIT].splitlines())
    # One line past what is kept says whether anything was cut.
    lines = list(itertools.islice(_hunks(marked), DIFF_LINES_SHOWN + 1))
    return LineDiff(
        old_version=old.version,
        new_version=new.version,
        lines=lines[:DIFF_LINES_SHOWN],
        added=sum(mark == "+" for mark, _ in marked),
        removed=sum(mark == "-" for mark, _ in marked),
        truncated=truncated,
        lines_cut=len(lines) > DIFF_LINES_SHOWN,
    )


def _marked_lines(old: list[str], new: list[str]) -> list[tuple[str, str]]:
    """Every line of both, marked " " (in both), "-" (old only) or "+" (new only).

    diff-match-patch in line mode, with a time limit: difflib's cost depends on
    what the lines hold (100 KB of JSON took 0.1 s, 50 KB of it 0.3 s); past the
    limit this returns a correct diff that is less minimal.
    """
    matcher = diff_match_patch()
    matcher.Diff_Timeout = DIFF_SECONDS
    old_chars, new_chars, line_table = matcher.diff_linesToChars(
        "".join(f"{line}\n" for line in old), "".join(f"{line}\n" for line in new)
    )
    operations = matcher.diff_main(old_chars, new_chars, False)
    matcher.diff_charsToLines(operations, line_table)
    return [(_MARKS[operation], line) for operation, text in operations for line in text.splitlines()]


def _joined(lines: list[str]) -> str:
    # Every line ends in a newline, so a last line without one still compares equal.
    return "".join(f"{line}\n" for line in lines)


def _hunks(marked: list[tuple[str, str]]) -> Iterator[DiffLine]:
    """Unified-diff hunks: the changed lines with DIFF_CONTEXT_LINES of context, under an @@ header each."""
    changed = [index for index, (mark, _) in enumerate(marked) if mark != " "]
    if not changed:
        return
    spans = []  # [first, last] indexes of marked lines per hunk, context included
    for index in changed:
        first, last = max(0, index - DIFF_CONTEXT_LINES), min(len(marked) - 1, index + DIFF_CONTEXT_LINES)
        if spans and first <= spans[-1][1] + 1:
            spans[-1][1] = last
        else:
            spans.append([first, last])
    old_numbers, new_numbers = [], []
    old_line = new_line = 1
    for mark, _ in marked:
        old_numbers.append(old_line)
        new_numbers.append(new_line)
        old_line += mark != "+"
        new_line += mark != "-"
    for first, last in spans:
        span = marked[first : last + 1]
        old_count = sum(mark != "+" for mark, _ in span)
        new_count = sum(mark != "-" for mark, _ in span)
        yield DiffLine("hunk", f"@@ -{old_numbers[first]},{old_count} +{new_numbers[first]},{new_count} @@")
        for mark, text in span:
            yield DiffLine(_LINE_KINDS.get(mark, "context"), f"{mark}{text}")
