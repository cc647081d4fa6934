"""What a stored file is, decided from its bytes: the pipeline's mime_type may be missing or wrong.

Binary formats are recognised by their signatures (`filetype`); text is told
apart from binary by its bytes, and only then do the declared type and the
name's extension choose how to show it (markdown, CSV, JSON). A file never
becomes an image, a PDF or a video because of its name or declared type.
"""

import codecs
import hashlib
import re
from dataclasses import dataclass

import filetype
from django.core.cache import cache

from approvals.files.families import MediaFamily
from approvals.files.storage import StoredObject, artifact_storage

SNIFF_BYTES = 8192

IMAGE, VIDEO, AUDIO, PDF = "image", "video", "audio", "pdf"
TEXT, MARKDOWN, JSON, CSV = "text", "markdown", "json", "csv"
HTML, SVG, XML, OTHER = "html", "svg", "xml", "other"

# What browsers show natively; other recognised formats (TIFF, AVI...) are downloads.
BROWSER_IMAGES = {
    "image/png",
    "image/apng",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/avif",
    "image/bmp",
    "image/x-icon",
}
BROWSER_VIDEO = {"video/mp4", "video/webm", "video/ogg", "video/quicktime", "video/x-m4v", "video/x-matroska"}
BROWSER_AUDIO = {
    "audio/mpeg",
    "audio/mp4",
    "audio/ogg",
    "audio/webm",
    "audio/x-wav",
    "audio/wav",
    "audio/x-flac",
    "audio/flac",
    "audio/aac",
}
# One container holds audio or video; the signature cannot say which, the declared type can.
_SAME_CONTAINER = {
    ("video/webm", "audio/webm"),
    ("audio/webm", "video/webm"),
    ("video/mp4", "audio/mp4"),
    ("audio/mp4", "video/mp4"),
    ("audio/ogg", "video/ogg"),
    ("video/ogg", "audio/ogg"),
}
MARKDOWN_TYPES = {"text/markdown", "text/x-markdown"}
CSV_TYPES = {"text/csv", "application/csv", "text/tab-separated-values"}
HTML_TYPES = {"text/html", "application/xhtml+xml"}

_SVG_START = re.compile(rb"^(?:<\?xml[^>]*>|<!--.*?-->|<!doctype[^>]*>|\s)*<svg[\s>/]", re.IGNORECASE | re.DOTALL)
_HTML_START = re.compile(rb"^(?:<!--.*?-->|\s)*<(?:!doctype\s+html|html|head|body|script|iframe)[\s>]", re.I | re.S)
_ALLOWED_CONTROL_BYTES = {0x09, 0x0A, 0x0C, 0x0D, 0x1B}

# What the file view may send inline; everything else is an attachment.
INLINE_FAMILIES = {IMAGE, VIDEO, AUDIO, PDF}
TEXT_FAMILIES = {TEXT, MARKDOWN, JSON, CSV}
TEXT_PLAIN = "text/plain; charset=utf-8"
DOWNLOAD_TYPE = "application/octet-stream"
# Markup is text to a reviewer, except SVG, which is an image however it is shown.
_FILTER_FAMILIES = {
    IMAGE: MediaFamily.IMAGE,
    SVG: MediaFamily.IMAGE,
    VIDEO: MediaFamily.VIDEO,
    PDF: MediaFamily.PDF,
    JSON: MediaFamily.JSON,
    TEXT: MediaFamily.TEXT,
    MARKDOWN: MediaFamily.TEXT,
    CSV: MediaFamily.TEXT,
    HTML: MediaFamily.TEXT,
    XML: MediaFamily.TEXT,
}


@dataclass(frozen=True)
class MediaType:
    mime: str  # what the bytes are, as far as they tell
    family: str

    @property
    def filter_family(self) -> MediaFamily:
        """What the bytes say, in the families the queue and the admin filter by."""
        return _FILTER_FAMILIES.get(self.family, MediaFamily.OTHER)

    @property
    def is_text(self) -> bool:
        return self.family in TEXT_FAMILIES | {HTML, SVG, XML}

    def served_as(self) -> tuple[str, bool]:
        """(Content-Type, inline?) for the file view: only a safe list is ever rendered by the browser."""
        if self.family in INLINE_FAMILIES:
            return self.mime, True
        if self.family in TEXT_FAMILIES:
            return TEXT_PLAIN, True
        # HTML, SVG, XML and unknown bytes would run or render in the app's origin.
        return DOWNLOAD_TYPE, False


def declared_mime(mime_type: str | None) -> str:
    return (mime_type or "").split(";", 1)[0].strip().lower()


def looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        # Not final: the sample may end inside a multi-byte character.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return True
    except UnicodeDecodeError:
        pass
    # Legacy 8-bit text: accept it if control bytes are rare.
    controls = sum(1 for byte in head if byte < 0x20 and byte not in _ALLOWED_CONTROL_BYTES)
    return controls <= len(head) // 100


def detect_media(head: bytes, *, declared: str | None, name: str) -> MediaType:
    stated = declared_mime(declared)
    guess = filetype.guess(head) if head else None
    if guess is not None:
        mime = guess.mime
        if (mime, stated) in _SAME_CONTAINER:
            mime = stated
        if mime in BROWSER_IMAGES:
            return MediaType(mime, IMAGE)
        if mime in BROWSER_VIDEO:
            return MediaType(mime, VIDEO)
        if mime in BROWSER_AUDIO:
            return MediaType(mime, AUDIO)
        if mime == "application/pdf":
            return MediaType(mime, PDF)
        return MediaType(mime, OTHER)
    if not looks_like_text(head):
        return MediaType(DOWNLOAD_TYPE, OTHER)
    return _text_media(head, stated=stated, extension=_extension(name))


def _text_media(head: bytes, *, stated: str, extension: str) -> MediaType:
    start = head.removeprefix(codecs.BOM_UTF8)[:SNIFF_BYTES]
    # Markup is recognised by content first: a page labelled text/plain is still a page.
    if _SVG_START.match(start) or stated == "image/svg+xml":
        return MediaType("image/svg+xml", SVG)
    if _HTML_START.match(start) or stated in HTML_TYPES:
        return MediaType("text/html", HTML)
    if start.lstrip().startswith(b"<?xml") or stated.endswith(("/xml", "+xml")):
        return MediaType("application/xml", XML)
    if stated in MARKDOWN_TYPES or extension in {"md", "markdown"}:
        return MediaType("text/markdown", MARKDOWN)
    if stated in CSV_TYPES or extension in {"csv", "tsv"}:
        return MediaType("text/csv", CSV)
    if stated == "application/json" or stated.endswith("+json") or extension == "json":
        return MediaType("application/json", JSON)
    if start.lstrip()[:1] in {b"{", b"["} and stated in {"", "text/plain", "application/octet-stream"}:
        return MediaType("application/json", JSON)
    return MediaType("text/plain", TEXT)


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def stored_media(stored: StoredObject, *, declared: str | None, name: str, head: bytes | None = None) -> MediaType:
    """The media type of a stored object, sniffed once per object version (the ETag) and cached.

    Pass `head` (the object's first bytes) when already read: the review page does,
    so the file view's requests that follow find the answer in the cache.
    """
    identity = "\0".join([stored.key, stored.etag, declared_mime(declared), _extension(name)])
    # Hashed: keys may hold spaces and any Unicode, which some cache backends refuse.
    cache_key = "flow-review:media:" + hashlib.sha256(identity.encode()).hexdigest()
    cached = cache.get(cache_key)
    if cached is not None:
        return MediaType(*cached)
    if head is None:
        _, head = artifact_storage().read_head(stored.key, SNIFF_BYTES)
    media = detect_media(head, declared=declared, name=name)
    cache.set(cache_key, (media.mime, media.family), timeout=3600)
    return media
