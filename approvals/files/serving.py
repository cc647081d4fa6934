"""The one response that sends a file's bytes: artifact files, thumbnails and carousel slides.

Streamed, one HTTP Range per request (with If-Range), ETag and Last-Modified with
304s, and the same guard on every byte the app sends: a CSP sandbox, nosniff,
same-origin only, no copy in the browser's cache. Whether a file is shown inline
is the caller's decision (from the sniffed media type); this module never widens it.
"""

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import content_disposition_header, http_date

from approvals.files.byte_ranges import RangeNotSatisfiable, requested_range
from approvals.files.storage import (
    InvalidStoragePath,
    ObjectSlice,
    StorageUnavailable,
    StoredObject,
    artifact_storage,
)

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
# What a 304 repeats of the full response (RFC 9110 section 15.4.5), the guards included.
_VALIDATOR_HEADERS = ("ETag", "Last-Modified", "Cache-Control", "Content-Security-Policy", "X-Content-Type-Options")


class ArtifactFileResponse(FileResponse):
    # Larger reads than Django's 4 KB: fewer calls per megabyte when sendfile is not used (S3, runserver).
    block_size = 256 * 1024


@dataclass(frozen=True)
class ServedFile:
    """What the response needs to know before any byte is read, and how to read a slice of them."""

    size: int
    etag: str  # quoted, ready for the ETag header
    last_modified: int  # Unix seconds
    content_type: str
    inline: bool
    # (start, length) -> a reader of exactly those bytes; may raise ObjectMissing or StorageUnavailable.
    open_slice: Callable[[int, int], ObjectSlice]
    filename: str = ""  # the Content-Disposition name; none sent for an inline file without one


def stored_file(stored: StoredObject, *, content_type: str, inline: bool, filename: str = "") -> ServedFile:
    """An object in the artifact bucket, as stat_object or read_head described it."""
    storage = artifact_storage()
    return ServedFile(
        size=stored.size,
        etag=stored.etag,
        last_modified=stored.last_modified_timestamp,
        content_type=content_type,
        inline=inline,
        open_slice=lambda start, length: storage.open_slice(stored, start=start, length=length),
        filename=filename,
    )


def local_file(path: Path, *, size: int, etag: str, last_modified: int, content_type: str) -> ServedFile:
    """A file the app made on its own disk (a thumbnail), shown inline."""

    def open_slice(start: int, length: int) -> ObjectSlice:
        raw = path.open("rb")  # closed with the response, through the slice
        raw.seek(start)
        return ObjectSlice(raw, length)

    return ServedFile(
        size=size,
        etag=etag,
        last_modified=last_modified,
        content_type=content_type,
        inline=True,
        open_slice=open_slice,
    )


def file_response(request: HttpRequest, served: ServedFile) -> HttpResponse:
    """200, 206, 304, 412 or 416 for a GET or HEAD of `served`; storage errors from the read propagate."""
    headers = _guard_headers(served)
    not_modified = get_conditional_response(request, etag=served.etag, last_modified=served.last_modified)
    if not_modified is not None:
        return _with_headers(not_modified, {name: headers[name] for name in _VALIDATOR_HEADERS})
    try:
        byte_range = requested_range(
            request.headers.get("Range"),
            size=served.size,
            if_range=request.headers.get("If-Range"),
            etag=served.etag,
            last_modified=served.last_modified,
        )
    except RangeNotSatisfiable:
        response = HttpResponse(status=416, content_type="text/plain; charset=utf-8")
        response["Content-Range"] = f"bytes */{served.size}"
        return _with_headers(response, headers)
    return _with_headers(_bytes_response(request, served, byte_range), headers)


def _bytes_response(request: HttpRequest, served: ServedFile, byte_range: tuple[int, int] | None) -> HttpResponse:
    start, end = byte_range if byte_range is not None else (0, served.size - 1)
    length = end - start + 1
    status = 206 if byte_range is not None else 200
    if request.method == "HEAD":
        response = HttpResponse(status=status, content_type=served.content_type)
    else:
        reader = served.open_slice(start, length)
        response = ArtifactFileResponse(reader, status=status, content_type=served.content_type)
    response["Content-Length"] = str(length)
    if byte_range is not None:
        response["Content-Range"] = f"bytes {start}-{end}/{served.size}"
    return response


def _guard_headers(served: ServedFile) -> dict[str, str | None]:
    return {
        "ETag": served.etag,
        "Last-Modified": http_date(served.last_modified),
        "Cache-Control": FILE_CACHE_CONTROL,
        "Accept-Ranges": "bytes",
        "Content-Security-Policy": FILE_CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "same-origin",
        # An attachment always says so, with or without a name.
        "Content-Disposition": content_disposition_header(not served.inline, served.filename),
    }


def _with_headers(response: HttpResponse, headers: dict) -> HttpResponse:
    for name, value in headers.items():
        if value:
            response[name] = value
    return response


def safe_filename(name: str) -> str:
    """A name as a download file name: no folders, quotes, controls or leading dots."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(
        "_" if unicodedata.category(character)[0] in {"C", "Z"} and character != " " else character
        for character in base
    )
    cleaned = cleaned.replace('"', "_").strip().lstrip(".")
    return cleaned[:150] or "artifact"


def storage_problem(error: Exception, *, subject: str, key: str) -> HttpResponse:
    """The plain-text answer when storage cannot give the bytes: 503 to retry, else 404 saying why."""
    if isinstance(error, StorageUnavailable):
        response = plain_response(503, f"File storage is unavailable right now: {error}. Try again in a moment.")
        response["Retry-After"] = "30"
        return response
    if isinstance(error, InvalidStoragePath):
        return plain_response(404, f"{subject} is not a valid key in the bucket: {error}.")
    return plain_response(404, f"File missing from storage: {key}")


def plain_response(status: int, message: str) -> HttpResponse:
    response = HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response
