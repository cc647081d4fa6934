"""The artifact's file, its thumbnail and a carousel's slide images: never rendered as active content.

A URL names an artifact (and a slide number), never a storage path. What the
browser may render inline comes from a safe list decided by the stored bytes
(approvals.files.media); the bytes go out through approvals.files.serving, which
streams, answers ranges and validators, and sandboxes every response.
"""

from django.shortcuts import get_object_or_404
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_safe

from approvals.files import media
from approvals.files.serving import (
    file_response,
    local_file,
    plain_response,
    safe_filename,
    storage_problem,
    stored_file,
)
from approvals.files.storage import InvalidStoragePath, ObjectMissing, StorageUnavailable, artifact_storage
from approvals.files.thumbnails import NoThumbnail, thumbnail_for
from approvals.models import Artifact, ArtifactKind
from approvals.networks.preview import slide_path
from approvals.permissions import review_required

# A slide is a picture in a post: far smaller than this; a larger object is not sent inline.
SLIDE_MAX_BYTES = 20 * 1024 * 1024
_STORAGE_ERRORS = (InvalidStoragePath, ObjectMissing, StorageUnavailable)


@review_required
@require_safe
@xframe_options_sameorigin
def artifact_file(request, artifact_id):
    artifact = get_object_or_404(Artifact, id=artifact_id, kind=ArtifactKind.FILE)
    try:
        stored = artifact_storage().stat_object(artifact.storage_path)
        found = media.stored_media(stored, declared=artifact.mime_type, name=artifact.name)
        content_type, inline = found.served_as()
        if request.GET.get("download"):
            inline = False
        served = stored_file(stored, content_type=content_type, inline=inline, filename=safe_filename(artifact.name))
        return file_response(request, served)
    except _STORAGE_ERRORS as error:
        return storage_problem(error, subject="This artifact's storage path", key=artifact.storage_path)


@review_required
@require_safe
def artifact_thumbnail(request, artifact_id):
    artifact = get_object_or_404(Artifact, id=artifact_id, kind=ArtifactKind.FILE)
    try:
        thumbnail = thumbnail_for(artifact)
    except _STORAGE_ERRORS as error:
        return storage_problem(error, subject="This artifact's storage path", key=artifact.storage_path)
    except NoThumbnail as error:
        return plain_response(404, f"No thumbnail for this artifact: {error}.")
    served = local_file(
        thumbnail.path,
        size=thumbnail.size,
        etag=thumbnail.etag,
        last_modified=int(thumbnail.last_modified.timestamp()),
        content_type="image/webp",
    )
    return file_response(request, served)


@review_required
@require_safe
def slide_image(request, artifact_id, index: int):
    """A carousel slide's image: the path comes from the artifact's own JSON, and only an inline image is sent."""
    artifact = get_object_or_404(Artifact, id=artifact_id, kind=ArtifactKind.JSON)
    path = slide_path(artifact, index)
    if path is None:
        return plain_response(404, "This carousel has no image at that slide.")
    try:
        stored, head = artifact_storage().read_head(path, media.SNIFF_BYTES)
        found = media.stored_media(stored, declared=None, name=path, head=head)
        if found.family != media.IMAGE or not found.served_as()[1] or stored.size > SLIDE_MAX_BYTES:
            return plain_response(404, f"The slide's file is not an image shown inline: {path}")
        served = stored_file(stored, content_type=found.mime, inline=True, filename=safe_filename(path))
        return file_response(request, served)
    except _STORAGE_ERRORS as error:
        return storage_problem(error, subject="The slide's path", key=path)
