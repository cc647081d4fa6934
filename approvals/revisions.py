"""A reviewer's edit of a draft, before any of it is written: what may be edited, what the editor starts
from, and the edit parsed and checked as it will be stored. Pure functions: the decision service
(approvals.decisions, "Approve with edits") is what writes it."""

import json
import math

from approvals.files.previews import TEXT_PREVIEW_LIMIT
from approvals.models import Artifact, ArtifactKind


class EditRefused(ValueError):
    """What is wrong with an edit, in words fit to show its reviewer."""


# An edit is made in the review page's editor, which holds what the preview
# holds: a draft longer than this is not offered for editing, and no edit may be longer.
EDIT_MAX_CHARACTERS = TEXT_PREVIEW_LIMIT
# Python's own limit on reading an integer from text; a longer one is no number a post needs.
JSON_INTEGER_MAX_DIGITS = 4_300


def is_editable(artifact: Artifact) -> bool:
    """Text and JSON whose whole body fits the editor; never a file."""
    if artifact.kind == ArtifactKind.TEXT:
        return len(artifact.body_text or "") <= EDIT_MAX_CHARACTERS
    if artifact.kind == ArtifactKind.JSON:
        return len(editable_text(artifact)) <= EDIT_MAX_CHARACTERS
    return False


def editable_text(artifact: Artifact) -> str:
    """What the editor starts from: the text, or the JSON pretty-printed as the preview shows it."""
    if artifact.kind == ArtifactKind.JSON:
        return json.dumps(artifact.body_json, indent=2, ensure_ascii=False)
    return artifact.body_text or ""


def parse_edit(*, kind: str, body: str | None) -> str | object:
    """The edited body as it will be stored (text, or a parsed JSON value); EditRefused says what is wrong."""
    if kind == ArtifactKind.FILE:
        raise EditRefused("A file cannot be edited here: approve it, reject it or request changes.")
    body = (body or "").replace("\r\n", "\n")
    if not body.strip():
        raise EditRefused("The edit is empty: write the post, or reject it instead.")
    if len(body) > EDIT_MAX_CHARACTERS:
        raise EditRefused(f"The edit is limited to {EDIT_MAX_CHARACTERS:,} characters (it has {len(body):,}).")
    if "\x00" in body:
        raise EditRefused("The edit cannot contain NUL characters.")
    if kind == ArtifactKind.TEXT:
        return body
    try:
        value = json.loads(body, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_bounded_int)
    except json.JSONDecodeError as error:
        raise EditRefused(f"Not valid JSON: {error.msg} (line {error.lineno}, column {error.colno}).") from error
    except RecursionError as error:
        raise EditRefused("Not accepted: the JSON is nested too deeply.") from error
    # PostgreSQL's jsonb refuses \u0000 and lone surrogates: say so here rather than fail in the INSERT.
    stored = json.dumps(value, ensure_ascii=False)
    if "\\u0000" in stored:
        raise EditRefused("The JSON cannot contain \\u0000 (PostgreSQL refuses it).")
    try:
        stored.encode("utf-8")
    except UnicodeEncodeError as error:
        raise EditRefused("The JSON holds an unpaired surrogate escape (\\ud800-\\udfff).") from error
    return value


def _refuse_constant(name: str):
    raise EditRefused(f"Not valid JSON: {name} is not a JSON number (write a number, a string or null).")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise EditRefused(f"The number {text[:40]} is too large to store: JSON numbers here must be finite.")
    return value


def _bounded_int(text: str) -> int:
    # Python refuses to read integers of over sys.get_int_max_str_digits() digits (4,300) with a bare ValueError.
    digits = len(text.lstrip("-"))
    if digits > JSON_INTEGER_MAX_DIGITS:
        raise EditRefused(f"A number of {digits:,} digits is too long: at most {JSON_INTEGER_MAX_DIGITS:,} digits.")
    return int(text)


def changes_nothing(draft: Artifact, edited) -> bool:
    """Whether the edit is the draft as it stands."""
    if draft.kind == ArtifactKind.TEXT:
        return edited == draft.body_text
    # As JSON text, keys sorted: Python's == would call 1, 1.0 and true the same value.
    return json.dumps(edited, sort_keys=True) == json.dumps(draft.body_json, sort_keys=True)
