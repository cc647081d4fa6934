"""Queue thumbnails: made with Pillow on first view, bounded, cached on local disk per object version.

The cache file name carries a digest of the object's key and ETag, so a changed
object gets a new thumbnail and the old one is removed when the new one is made.
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
from approvals.files.storage import artifact_storage, read_object
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
    etag: str
    last_modified: datetime


def thumbnail_for(artifact: Artifact) -> Thumbnail:
    """The cached WebP thumbnail of an image artifact, made now if this version has none."""
    stored = artifact_storage().stat_object(artifact.storage_path)
    digest = hashlib.sha256(f"{stored.key}\0{stored.etag}\0{THUMBNAIL_VERSION}".encode()).hexdigest()[:24]
    cache_dir = Path(settings.THUMBNAIL_CACHE_DIR)
    path = cache_dir / f"{artifact.id}-{digest}.webp"
    if not path.exists():
        media = stored_media(stored, declared=artifact.mime_type, name=artifact.name)
        if media.family != IMAGE:
            raise NoThumbnail(f"the file is not an image ({media.mime})")
        if stored.size > THUMBNAIL_MAX_INPUT_BYTES:
            raise NoThumbnail(f"the image is larger than {THUMBNAIL_MAX_INPUT_BYTES // (1024 * 1024)} MB")
        _write_atomically(path, render_thumbnail(read_object(stored)))
        for stale in cache_dir.glob(f"{artifact.id}-*.webp"):
            if stale != path:
                stale.unlink(missing_ok=True)
    return Thumbnail(path=path, etag=f'"{digest}"', last_modified=stored.last_modified)


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
