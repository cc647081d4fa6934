"""The review page's social-post pieces: the platform card, the editor, the request a revision answers."""

import uuid

from django import template

from approvals.models import Approval, ApprovalReason, Artifact
from approvals.networks.preview import platform_preview
from approvals.revision_views import edit_check
from approvals.revisions import editable_text, is_editable
from approvals.selectors.review import ReviewContext

register = template.Library()


@register.inclusion_tag("approvals/networks/platform_preview.html")
def platform_preview_card(artifact: Artifact) -> dict:
    return {"preview": platform_preview(artifact)}


@register.inclusion_tag("approvals/revisions/editor.html")
def edit_panel(review: ReviewContext, decision_form=None) -> dict:
    """The "Edit" disclosure, for a pending text or JSON artifact that fits the editor.

    After a refused "Approve with edits" it opens again holding what was typed, so nothing is lost.
    """
    artifact = review.artifact
    if not review.approval.is_pending or not is_editable(artifact):
        return {"editable": False}
    refused = decision_form is not None and decision_form.is_bound
    typed = decision_form.data.get("edited_body") if refused else None
    reopen = refused and decision_form.data.get("decision") == "approved_with_edits" and typed is not None
    text = typed.replace("\r\n", "\n") if reopen else editable_text(artifact)
    context = {"editable": True, "open": reopen, "approval": review.approval, "artifact": artifact, "text": text}
    return context | edit_check(artifact=artifact, body=text)


@register.inclusion_tag("approvals/revisions/requested_changes.html")
def requested_changes_card(review: ReviewContext) -> dict:
    """What the reviewer asked for, when this version answers a request for changes (its job's params say so)."""
    params = next(
        (
            summary.job.params
            for summary in reversed(review.jobs)
            if isinstance(summary.job.params, dict) and "revision_of" in summary.job.params
        ),
        None,
    )
    if params is None:
        return {"asked": None}
    request_id = _uuid(params.get("revision_of"))
    request = Approval.objects.select_related("artifact").filter(id=request_id).first() if request_id else None
    # The approval is the record; the job's params are the pipeline's copy, shown if the approval is gone.
    reasons = request.reasons if request else params.get("reasons")
    notes = request.notes if request else params.get("notes")
    return {
        "asked": {
            "request": request,
            "notes": notes if isinstance(notes, str) else "",
            "reasons": [ApprovalReason(code).label for code in reasons or [] if code in ApprovalReason.values],
        }
    }


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
