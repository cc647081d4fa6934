"""Queue thumbnails: made with Pillow on first view, bounded, cached on local disk per object version.

The cache is sharded by a digest of the object's key (`ab/cd/<key digest>-<version
digest>-320.webp`): a thumbnail's file name is derived, never searched for, and a
folder holds a few files even when the cache holds millions. The version digest
covers the key, the ETag and THUMBNAIL_VERSION, so a changed object gets a new
thumbnail; the old one is removed from its small folder when the new one is made.
Files of the earlier flat layout (`<artifact id>-<digest>.webp` at the top) are
never read: each thumbnail is simply made again in its shard.
"""

import hashlib
import io
import os
import tempfile
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

from approvals.files.media import IMAGE, stored_media
from approvals.files.storage import StoredObject, artifact_storage, read_object
from approvals.models import Artifact

THUMBNAIL_SIZE = 320
THUMBNAIL_MAX_INPUT_BYTES = 40 * 1024 * 1024
THUMBNAIL_MAX_PIXELS = 40_000_000
# Bump when the output changes (size, format), so cached files are remade.
THUMBNAIL_VERSION = "1"

# Pillow warns past this many pixels and refuses past twice as many; the
# thumbnail code turns the warning into a refusal as well.
Image.MAX_IMAGE_PIXELS = THUMBNAIL_MAX_PIXELS


class NoThumbnail(Exception):
    """The object is not an image we can (or will) shrink."""


@dataclass(frozen=True)
class Thumbnail:
    path: Path
    size: int
    etag: str
    last_modified: datetime


def thumbnail_for(artifact: Artifact) -> Thumbnail:
    """The cached WebP thumbnail of an image artifact, made now if this version has none."""
    stored = artifact_storage().stat_object(artifact.storage_path)
    path = thumbnail_path(stored)
    if not path.exists():
        media = stored_media(stored, declared=artifact.mime_type, name=artifact.name)
        if media.family != IMAGE:
            raise NoThumbnail(f"the file is not an image ({media.mime})")
        if stored.size > THUMBNAIL_MAX_INPUT_BYTES:
            raise NoThumbnail(f"the image is larger than {THUMBNAIL_MAX_INPUT_BYTES // (1024 * 1024)} MB")
        _write_atomically(path, render_thumbnail(read_object(stored)))
        _remove_older_versions(path)
    _, version_digest = _digests(stored)
    return Thumbnail(
        path=path, size=path.stat().st_size, etag=f'"{version_digest}"', last_modified=stored.last_modified
    )


def thumbnail_path(stored: StoredObject) -> Path:
    """Where this version of the object's thumbnail is cached: two folder levels from the key's digest."""
    key_digest, version_digest = _digests(stored)
    shard = Path(settings.THUMBNAIL_CACHE_DIR) / key_digest[:2] / key_digest[2:4]
    return shard / f"{key_digest}-{version_digest}-{THUMBNAIL_SIZE}.webp"


def _digests(stored: StoredObject) -> tuple[str, str]:
    """(the key's digest: its shard and its files' prefix, this version's digest: the thumbnail's ETag)."""
    key_digest = hashlib.sha256(stored.key.encode()).hexdigest()[:32]
    identity = f"{stored.key}\0{stored.etag}\0{THUMBNAIL_VERSION}".encode()
    return key_digest, hashlib.sha256(identity).hexdigest()[:24]


def _remove_older_versions(path: Path) -> None:
    """Other versions of the same key's thumbnail: only its own shard folder is listed, never the cache."""
    key_prefix = path.name.split("-")[0] + "-"
    with os.scandir(path.parent) as entries:
        for entry in entries:
            if entry.name.startswith(key_prefix) and entry.name != path.name:
                Path(entry.path).unlink(missing_ok=True)


def render_thumbnail(data: bytes) -> bytes:
    """WebP at most THUMBNAIL_SIZE on its longer side; refuses decompression bombs before decoding."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > THUMBNAIL_MAX_PIXELS:
                    raise NoThumbnail(f"the image has more than {THUMBNAIL_MAX_PIXELS:,} pixels")
                # JPEG decodes at a reduced scale straight away: far less memory for big photos.
                image.draft("RGB", (THUMBNAIL_SIZE, THUMBNAIL_SIZE))
                frame = ImageOps.exif_transpose(image)
                frame.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
                has_alpha = frame.mode in {"RGBA", "LA", "PA"} or "transparency" in frame.info
                frame = frame.convert("RGBA" if has_alpha else "RGB")
                output = io.BytesIO()
                frame.save(output, "WEBP", quality=80, method=4)
                return output.getvalue()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise NoThumbnail("the image is too large to decode safely") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise NoThumbnail(f"the image could not be decoded ({error})") from error


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Two requests may make the same thumbnail at once: each writes its own temp file, the rename wins.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".webp")
    try:
        with os.fdopen(handle, "wb") as output:
            output.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
