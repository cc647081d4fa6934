"""The review page's revision pieces, read before rendering: the editor with its live check, and the
request for changes a version answers. The templates only lay them out (they run no queries)."""

from approvals.models import NOTES_MAX_LENGTH, Approval, ApprovalReason, Artifact
from approvals.networks.counting import graphemes
from approvals.networks.limits import network_for
from approvals.networks.preview import author_of, preview_of
from approvals.revisions import EDIT_MAX_CHARACTERS, EditRefused, editable_text, is_editable, parse_edit
from approvals.selectors.filters import uuid_or_none
from approvals.selectors.review import ReviewContext


def edit_check(*, artifact: Artifact, body: str) -> dict:
    """The editor's status line: the error that would refuse the edit, or its counts on its network."""
    try:
        value = parse_edit(kind=artifact.kind, body=body)
    except EditRefused as refusal:
        return {"edit_error": str(refusal), "edit_preview": None, "edit_characters": None}
    network = network_for(artifact.metadata)
    preview = None
    if network is not None:
        preview = preview_of(network=network, value=value, artifact_id=None, author=author_of(artifact))
    # Shown only when there is no card to show (the card counts by its network's rule).
    characters = graphemes(value) if isinstance(value, str) and preview is None else None
    return {"edit_error": None, "edit_preview": preview, "edit_characters": characters}


def editor_panel(*, review: ReviewContext, typed_edit: str | None) -> dict:
    """The "Edit" disclosure, for a pending text or JSON artifact that fits the editor.

    `typed_edit` is what a refused "Approve with edits" held: the editor opens
    again holding it, so nothing typed is lost.
    """
    artifact = review.artifact
    if not review.approval.is_pending or _past_the_editor(review) or not is_editable(artifact):
        return {"editable": False}
    text = typed_edit.replace("\r\n", "\n") if typed_edit is not None else editable_text(artifact)
    context = {
        "editable": True,
        "open": typed_edit is not None,
        "approval": review.approval,
        "artifact": artifact,
        "text": text,
    }
    return context | edit_check(artifact=artifact, body=text)


def _past_the_editor(review: ReviewContext) -> bool:
    """JSON too long for the editor, known from the page's own pretty-printing (is_editable would
    pretty-print it again: 0.1-0.5 s for a body of 100,000 posts or slides)."""
    return review.json_characters is not None and review.json_characters > EDIT_MAX_CHARACTERS


def requested_changes(*, review: ReviewContext) -> dict | None:
    """What the reviewer asked for, when this version answers a request for changes (its job's params
    say so); None otherwise."""
    params = next(
        (
            summary.job.params
            for summary in reversed(review.jobs)
            if isinstance(summary.job.params, dict) and "revision_of" in summary.job.params
        ),
        None,
    )
    if params is None:
        return None
    request_id = uuid_or_none(params.get("revision_of"))
    request = Approval.objects.select_related("artifact").filter(id=request_id).first() if request_id else None
    # The approval is the record; the job's params are the pipeline's copy, shown if the approval is gone.
    reasons = request.reasons if request else params.get("reasons")
    notes = request.notes if request else params.get("notes")
    return {
        "request": request,
        # The approval's notes are limited by a CHECK; the pipeline's copy is not.
        "notes": notes[:NOTES_MAX_LENGTH] if isinstance(notes, str) else "",
        "reasons": reason_labels(reasons),
    }


def reason_labels(reasons) -> list[str]:
    """The labels of the known reason codes in `reasons`, in order, each once.

    The job's params are the pipeline's JSON: a list of codes as the decision
    wrote it, one code alone, or any other value (a number, an object, a list
    of anything), of which only the known codes are shown.
    """
    codes = [reasons] if isinstance(reasons, str) else reasons if isinstance(reasons, list | tuple) else []
    known = dict.fromkeys(code for code in codes if isinstance(code, str) and code in ApprovalReason.values)
    return [ApprovalReason(code).label for code in known]


def revision_panels(*, review: ReviewContext | None, typed_edit: str | None) -> dict:
    """Both pieces for the review template (none when there is no item left to show)."""
    if review is None:
        return {"editor": {"editable": False}, "asked": None}
    return {"editor": editor_panel(review=review, typed_edit=typed_edit), "asked": requested_changes(review=review)}
