"""The checks a decision's input passes before anything is written: notes, reason codes, the approval id."""

import uuid
from collections.abc import Iterable

from approvals.decisions.errors import InvalidDecision, NotFound
from approvals.models import NOTES_MAX_LENGTH, ApprovalReason


def clean_notes(notes: str | None, *, required: bool) -> str:
    notes = (notes or "").strip()
    if required and not notes:
        raise InvalidDecision("A reason is required to reject: say what should change.")
    if len(notes) > NOTES_MAX_LENGTH:
        raise InvalidDecision(f"Notes are limited to {NOTES_MAX_LENGTH:,} characters (these have {len(notes):,}).")
    if "\x00" in notes:
        raise InvalidDecision("Notes cannot contain NUL characters.")
    return notes


def clean_reasons(reasons: Iterable[str] | None) -> list[str]:
    """Known reason codes, each once, in the list's order; an unknown one is refused."""
    given = set(reasons or ())
    unknown = given - set(ApprovalReason.values)
    if unknown:
        raise InvalidDecision(
            f"Unknown reason code {', '.join(sorted(unknown))}: use {', '.join(ApprovalReason.values)}."
        )
    return [code for code in ApprovalReason.values if code in given]


def clean_rejection(notes: str | None, reasons: Iterable[str] | None, *, verb: str = "reject") -> tuple[str, list[str]]:
    """A rejection (or a request for changes) needs a reason code or a note."""
    reasons = clean_reasons(reasons)
    notes = clean_notes(notes, required=False)
    if not notes and not reasons:
        raise InvalidDecision(rejection_needs_a_reason(verb))
    return notes, reasons


def rejection_needs_a_reason(verb: str) -> str:
    return f"A reason is required to {verb}: tick a reason code or write a note saying what should change."


def approval_uuid(approval_id: uuid.UUID | str) -> uuid.UUID:
    # A malformed id would otherwise reach PostgreSQL as a DataError and abort
    # the caller's transaction; it names no approval, so say so.
    try:
        return approval_id if isinstance(approval_id, uuid.UUID) else uuid.UUID(str(approval_id))
    except ValueError as exc:
        raise NotFound("This approval does not exist (the id is not valid).") from exc
