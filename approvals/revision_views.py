"""The editor's live check: as the reviewer types, the edit is parsed (JSON errors with their line) and
counted against its network, by the same code that saves and previews it."""

import uuid

from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from approvals.models import Artifact, ArtifactKind
from approvals.networks.counting import graphemes
from approvals.networks.limits import network_for
from approvals.networks.preview import author_of, preview_of
from approvals.revisions import EditRefused, parse_edit


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
    characters = graphemes(value) if isinstance(value, str) else None
    return {"edit_error": None, "edit_preview": preview, "edit_characters": characters}


@permission_required("approvals.can_review", raise_exception=True)
@require_POST
def approval_edit_check(request: HttpRequest, approval_id: uuid.UUID) -> HttpResponse:
    artifact = Artifact.objects.select_related("project").filter(approvals__id=approval_id).first()
    if artifact is None or artifact.kind == ArtifactKind.FILE:
        raise Http404("No editable artifact for this approval.")
    body = request.POST.get("edited_body", "")
    return render(request, "approvals/revisions/editor.html#edit-check", edit_check(artifact=artifact, body=body))
