"""A carousel slide's image, by artifact and slide number: never by a path from the request.

The path comes from the artifact's own JSON, goes through the storage layer's key
checks (inside the bucket flow-artifacts), and is served only when its bytes are
an image a browser shows; with the file view's sandboxing headers.
"""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe

from approvals.files import media
from approvals.files.storage import InvalidStoragePath, ObjectMissing, StorageUnavailable, artifact_storage
from approvals.files.views import FILE_CACHE_CONTROL, FILE_CONTENT_SECURITY_POLICY, ArtifactFileResponse
from approvals.models import Artifact, ArtifactKind
from approvals.networks.preview import slide_path
from approvals.permissions import review_required

# A slide is a picture in a post: far smaller than this; a larger object is not sent inline.
SLIDE_MAX_BYTES = 20 * 1024 * 1024


@review_required
@require_safe
def slide_image(request, artifact_id, index: int):
    artifact = get_object_or_404(Artifact, id=artifact_id, kind=ArtifactKind.JSON)
    path = slide_path(artifact, index)
    if path is None:
        return _plain(404, "This carousel has no image at that slide.")
    storage = artifact_storage()
    try:
        stored, head = storage.read_head(path, media.SNIFF_BYTES)
        found = media.stored_media(stored, declared=None, name=path, head=head)
        if found.family != media.IMAGE or not found.served_as()[1] or stored.size > SLIDE_MAX_BYTES:
            return _plain(404, f"The slide's file is not an image shown inline: {path}")
        reader = storage.open_slice(stored, start=0, length=stored.size) if request.method == "GET" else None
    except InvalidStoragePath as error:
        return _plain(404, f"The slide's path is not a valid key in the bucket: {error}.")
    except ObjectMissing:
        return _plain(404, f"The slide's image is missing from storage: {path}")
    except StorageUnavailable as error:
        return _plain(503, f"File storage is unavailable right now: {error}.")
    if reader is None:  # HEAD
        response = HttpResponse(content_type=found.mime)
    else:
        response = ArtifactFileResponse(reader, content_type=found.mime)
    response["Content-Length"] = str(stored.size)
    response["ETag"] = stored.etag
    response["Cache-Control"] = FILE_CACHE_CONTROL
    response["Content-Security-Policy"] = FILE_CONTENT_SECURITY_POLICY
    response["X-Content-Type-Options"] = "nosniff"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


def _plain(status: int, message: str) -> HttpResponse:
    response = HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response
