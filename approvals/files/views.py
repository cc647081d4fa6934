"""The artifact's file and its thumbnail: streamed, ranged, conditional, never rendered as active content.

The URL names the artifact, never a storage path. What the browser may render
inline comes from a safe list decided by the stored bytes (approvals.files.media);
every file response is sandboxed by its CSP and carries nosniff.
"""

import unicodedata

from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.cache import get_conditional_response
from django.utils.http import content_disposition_header, http_date
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_safe

from approvals.files.byte_ranges import RangeNotSatisfiable, requested_range
from approvals.files.media import stored_media
from approvals.files.storage import (
    InvalidStoragePath,
    ObjectMissing,
    StorageUnavailable,
    StoredObject,
    artifact_storage,
)
from approvals.files.thumbnails import NoThumbnail, thumbnail_for
from approvals.models import Artifact, ArtifactKind
from approvals.permissions import review_required

# A document opened from here can run nothing and load nothing but its own media:
# even a file the safe list got wrong could not script the app's origin.
FILE_CONTENT_SECURITY_POLICY = (
    "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; "
    "style-src 'unsafe-inline'; frame-ancestors 'self'"
)
# No copy in the browser's cache (a shared browser would keep drafts after
# logout). Ranges need no cache: a player asks for the bytes it lacks, and
# ETag/Last-Modified still let If-Range check that a resumed range comes from
# the same version; the price is a second download when a file is opened again.
FILE_CACHE_CONTROL = "private, no-store"
THUMBNAIL_CACHE_CONTROL = "private, no-store"
_VALIDATOR_HEADERS = ("ETag", "Last-Modified", "Cache-Control", "Content-Security-Policy", "X-Content-Type-Options")


class ArtifactFileResponse(FileResponse):
    # Larger reads than Django's 4 KB: fewer calls per megabyte when sendfile is not used (S3, runserver).
    block_size = 256 * 1024


@review_required
@require_safe
@xframe_options_sameorigin
def artifact_file(request, artifact_id):
    artifact = get_object_or_404(Artifact, id=artifact_id, kind=ArtifactKind.FILE)
    storage = artifact_storage()
    try:
        stored = storage.stat_object(artifact.storage_path)
        media = stored_media(stored, declared=artifact.mime_type, name=artifact.name)
    except (InvalidStoragePath, ObjectMissing, StorageUnavailable) as error:
        return _storage_problem(error, artifact)

    content_type, inline = media.served_as()
    if request.GET.get("download"):
        inline = False
    headers = {
        "ETag": stored.etag,
        "Last-Modified": http_date(stored.last_modified_timestamp),
        "Cache-Control": FILE_CACHE_CONTROL,
        "Accept-Ranges": "bytes",
        "Content-Security-Policy": FILE_CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Content-Disposition": content_disposition_header(not inline, safe_filename(artifact.name)),
    }
    not_modified = _not_modified(request, stored=stored, headers=headers)
    if not_modified is not None:
        return not_modified

    try:
        byte_range = requested_range(
            request.headers.get("Range"),
            size=stored.size,
            if_range=request.headers.get("If-Range"),
            etag=stored.etag,
            last_modified=stored.last_modified_timestamp,
        )
    except RangeNotSatisfiable:
        response = HttpResponse(status=416, content_type="text/plain; charset=utf-8")
        response["Content-Range"] = f"bytes */{stored.size}"
        return _with_headers(response, headers)

    start, end = byte_range if byte_range is not None else (0, stored.size - 1)
    length = end - start + 1
    status = 206 if byte_range is not None else 200
    if request.method == "HEAD":
        response = HttpResponse(status=status, content_type=content_type)
    else:
        try:
            reader = storage.open_slice(stored, start=start, length=length)
        except (ObjectMissing, StorageUnavailable) as error:
            return _storage_problem(error, artifact)
        response = ArtifactFileResponse(reader, status=status, content_type=content_type)
    response["Content-Length"] = str(length)
    if byte_range is not None:
        response["Content-Range"] = f"bytes {start}-{end}/{stored.size}"
    return _with_headers(response, headers)


@review_required
@require_safe
def artifact_thumbnail(request, artifact_id):
    artifact = get_object_or_404(Artifact, id=artifact_id, kind=ArtifactKind.FILE)
    try:
        thumbnail = thumbnail_for(artifact)
    except (InvalidStoragePath, ObjectMissing, StorageUnavailable) as error:
        return _storage_problem(error, artifact)
    except NoThumbnail as error:
        return _plain_response(404, f"No thumbnail for this artifact: {error}.")

    headers = {
        "ETag": thumbnail.etag,
        "Last-Modified": http_date(int(thumbnail.last_modified.timestamp())),
        "Cache-Control": THUMBNAIL_CACHE_CONTROL,
        "Content-Security-Policy": FILE_CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    not_modified = get_conditional_response(
        request, etag=thumbnail.etag, last_modified=int(thumbnail.last_modified.timestamp())
    )
    if not_modified is not None:
        return _with_headers(not_modified, {name: headers[name] for name in _VALIDATOR_HEADERS})
    response = FileResponse(thumbnail.path.open("rb"), content_type="image/webp")
    return _with_headers(response, headers)


def safe_filename(name: str) -> str:
    """The artifact's name as a download file name: no folders, quotes, controls or leading dots."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(
        "_" if unicodedata.category(character)[0] in {"C", "Z"} and character != " " else character
        for character in base
    )
    cleaned = cleaned.replace('"', "_").strip().lstrip(".")
    return cleaned[:150] or "artifact"


def _not_modified(request, *, stored: StoredObject, headers: dict) -> HttpResponse | None:
    response = get_conditional_response(request, etag=stored.etag, last_modified=stored.last_modified_timestamp)
    if response is None:
        return None
    return _with_headers(response, {name: headers[name] for name in _VALIDATOR_HEADERS})


def _with_headers(response: HttpResponse, headers: dict) -> HttpResponse:
    for name, value in headers.items():
        if value:
            response[name] = value
    return response


def _storage_problem(error: Exception, artifact: Artifact) -> HttpResponse:
    if isinstance(error, StorageUnavailable):
        response = _plain_response(503, f"File storage is unavailable right now: {error}. Try again in a moment.")
        response["Retry-After"] = "30"
        return response
    if isinstance(error, InvalidStoragePath):
        return _plain_response(404, f"This artifact's storage path is not a valid key: {error}.")
    return _plain_response(404, f"File missing from storage: {artifact.storage_path}")


def _plain_response(status: int, message: str) -> HttpResponse:
    response = HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response
