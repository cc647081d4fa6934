"""The artifact bucket `flow-artifacts`: object keys checked before any storage call, and streamed reads.

Two backends behind Django's storage API answer the same questions (what is this
object: size, ETag, Last-Modified; give me `length` bytes from `start` as a
stream): a local folder (development, the embedded setup) and Supabase Storage
through its S3-compatible endpoint (production; approvals/files/s3.py).
"""

import errno
import io
import os
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.storage import FileSystemStorage, storages

if TYPE_CHECKING:
    from approvals.files.s3 import S3ArtifactStorage

# artifacts.storage_path is at most 1024 characters (artifacts_storage_path_not_blank).
MAX_KEY_LENGTH = 1024
# Unicode categories refused in keys: control, format (zero-width and bidi
# overrides that disguise a name), surrogates, line and paragraph separators.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


class InvalidStoragePath(ValueError):
    """The key could name something outside the bucket, or is not a key at all."""


class ObjectMissing(LookupError):
    """The key is valid but no object is stored under it."""


class StorageUnavailable(RuntimeError):
    """The storage could not answer (unreachable, refused, misconfigured)."""


def clean_storage_path(path) -> str:
    """Return the key unchanged if it is a plain relative key; raise InvalidStoragePath otherwise.

    Keys are never rewritten (an S3 key is byte-exact, so "fixing" one could
    name another object): anything odd is refused before storage is touched.
    """
    if not isinstance(path, str) or not path:
        raise InvalidStoragePath("the storage path is empty")
    if len(path) > MAX_KEY_LENGTH:
        raise InvalidStoragePath(f"the storage path is longer than {MAX_KEY_LENGTH} characters")
    if len(path.encode("utf-8", "surrogatepass")) > MAX_KEY_LENGTH:
        raise InvalidStoragePath(f"the storage path is longer than {MAX_KEY_LENGTH} bytes (S3's limit for a key)")
    if any(unicodedata.category(character) in _REFUSED_CATEGORIES for character in path):
        raise InvalidStoragePath("the storage path contains control or invisible characters")
    if "\\" in path:
        raise InvalidStoragePath("the storage path contains a backslash")
    if path.startswith("/"):
        raise InvalidStoragePath("the storage path is absolute")
    if any(segment in {"", ".", ".."} for segment in path.split("/")):
        raise InvalidStoragePath("the storage path has an empty, '.' or '..' segment")
    return path


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    etag: str  # quoted, ready for the ETag header
    last_modified: datetime

    @property
    def last_modified_timestamp(self) -> int:
        return int(self.last_modified.timestamp())


class ObjectSlice:
    """`length` bytes of an open object, read in chunks; never more, whatever the server asks for.

    Local slices expose the file descriptor (positioned at the start) so that
    gunicorn can hand the bytes to os.sendfile; Django's FileResponse must not
    measure the slice by reading it, so it reports itself as not seekable.
    """

    def __init__(self, raw, length: int):
        self._raw = raw
        self._remaining = length

    def read(self, size: int = -1) -> bytes:
        if self._remaining <= 0:
            return b""
        wanted = self._remaining if size is None or size < 0 else min(size, self._remaining)
        data = self._raw.read(wanted)
        self._remaining -= len(data)
        return data

    def fileno(self) -> int:
        if not hasattr(self._raw, "fileno"):
            raise io.UnsupportedOperation("not a local file")
        return self._raw.fileno()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        # socket.sendfile moves the file position after sending; nothing else seeks.
        return self._raw.seek(offset, whence)

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self._raw.close()


class LocalArtifactStorage(FileSystemStorage):
    """The bucket as a folder (var/storage/flow-artifacts by default)."""

    def path(self, name: str) -> str:
        key = clean_storage_path(name)
        try:
            full_path = super().path(key)
        except SuspiciousFileOperation as error:
            raise InvalidStoragePath("the storage path leaves the bucket folder") from error
        # safe_join compares strings; a symlink inside the folder could still point out of it.
        root = os.path.realpath(self.location)
        if os.path.commonpath([root, os.path.realpath(full_path)]) != root:
            raise InvalidStoragePath("the storage path resolves outside the bucket folder")
        return full_path

    def stat_object(self, key: str) -> StoredObject:
        with self._open_raw(key) as raw:
            return self._stored_object(key, os.fstat(raw.fileno()))

    def read_head(self, key: str, limit: int) -> tuple[StoredObject, bytes]:
        with self._open_raw(key) as raw:
            stored = self._stored_object(key, os.fstat(raw.fileno()))
            return stored, raw.read(limit)

    def open_slice(self, stored: StoredObject, *, start: int, length: int) -> ObjectSlice:
        raw = self._open_raw(stored.key)
        raw.seek(start)
        return ObjectSlice(raw, length)

    def _open_raw(self, key: str):
        full_path = self.path(key)
        try:
            return open(full_path, "rb")  # noqa: SIM115 - the caller closes it (often after the response)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as error:
            if not os.path.isdir(self.location):
                raise StorageUnavailable(f"the storage folder {self.location} does not exist") from error
            raise ObjectMissing(key) from error
        except OSError as error:
            if error.errno == errno.ENAMETOOLONG:
                # A key the folder's file system cannot name: this item's problem, not the storage's.
                raise InvalidStoragePath(
                    "a part of the storage path is too long for the local storage folder"
                ) from error
            raise StorageUnavailable(f"the storage folder could not be read ({error.strerror})") from error

    @staticmethod
    def _stored_object(key: str, stat: os.stat_result) -> StoredObject:
        return StoredObject(
            key=key,
            size=stat.st_size,
            etag=f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"',
            last_modified=datetime.fromtimestamp(stat.st_mtime, tz=UTC),
        )


def s3_error_code(error) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class s3_errors:
    """Translate boto errors into the three outcomes the views know."""

    def __init__(self, key: str):
        self.key = key

    def __enter__(self):
        return self

    def __exit__(self, exc_type, error, traceback):
        if error is None:
            return False
        # Imported only once something failed: boto's import is a tenth of a
        # second of every process start, and deployments on local storage never need it.
        from botocore.exceptions import BotoCoreError, ClientError

        if isinstance(error, ClientError):
            code = s3_error_code(error)
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in {"404", "NoSuchKey", "NotFound"}:
                raise ObjectMissing(self.key) from error
            if code == "NoSuchBucket":
                raise StorageUnavailable("the storage bucket does not exist") from error
            if status in {401, 403}:
                raise StorageUnavailable("the storage refused access (check the S3 credentials)") from error
            raise StorageUnavailable(f"the storage answered with an error ({code or status})") from error
        if isinstance(error, BotoCoreError):
            raise StorageUnavailable(f"the storage could not be reached ({type(error).__name__})") from error
        return False


def artifact_storage() -> "LocalArtifactStorage | S3ArtifactStorage":
    storage = storages["default"]
    if isinstance(storage, LocalArtifactStorage):
        return storage
    from approvals.files.s3 import S3ArtifactStorage  # boto's import is paid where S3 is configured

    if not isinstance(storage, S3ArtifactStorage):
        raise ImproperlyConfigured(
            "STORAGES['default'] must be approvals.files.storage.LocalArtifactStorage"
            " or approvals.files.s3.S3ArtifactStorage."
        )
    return storage


def read_object(stored: StoredObject) -> bytes:
    """The whole object; only for callers that bounded stored.size first (thumbnails)."""
    reader = artifact_storage().open_slice(stored, start=0, length=stored.size)
    try:
        with s3_errors(stored.key):
            return reader.read()
    except OSError as error:
        raise StorageUnavailable(f"the object could not be read ({error})") from error
    finally:
        reader.close()
