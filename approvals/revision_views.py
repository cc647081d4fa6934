"""The editor's live check: as the reviewer types, the edit is parsed (JSON errors with their line) and
counted against its network, by the same code that saves and previews it."""

import uuid

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from approvals.models import Artifact, ArtifactKind
from approvals.permissions import review_required
from approvals.selectors.revision_panels import edit_check


@review_required
@require_POST
def approval_edit_check(request: HttpRequest, approval_id: uuid.UUID) -> HttpResponse:
    artifact = Artifact.objects.select_related("project").filter(approvals__id=approval_id).first()
    if artifact is None or artifact.kind == ArtifactKind.FILE:
        raise Http404("No editable artifact for this approval.")
    body = request.POST.get("edited_body", "")
    return render(request, "approvals/review.html#edit-check", edit_check(artifact=artifact, body=body))
