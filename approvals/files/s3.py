"""The artifact bucket on Supabase Storage (or any S3 service), for STORAGE_BACKEND=s3.

A module of its own so that only deployments on S3 import boto (a tenth of a
second of every process start); approvals.files.storage has the rest.
"""

import io

from botocore.exceptions import ClientError
from storages.backends.s3 import S3Storage

from approvals.files.storage import ObjectSlice, StoredObject, clean_storage_path, s3_error_code, s3_errors


class S3ArtifactStorage(S3Storage):
    """The bucket on Supabase Storage (or any S3 service); reads are ranged GetObject calls, streamed."""

    def _normalize_name(self, name):
        return super()._normalize_name(clean_storage_path(name))

    @property
    def client(self):
        return self.connection.meta.client

    def stat_object(self, key: str) -> StoredObject:
        key = clean_storage_path(key)
        with s3_errors(key):
            head = self.client.head_object(Bucket=self.bucket_name, Key=key)
        return StoredObject(key=key, size=head["ContentLength"], etag=head["ETag"], last_modified=head["LastModified"])

    def read_head(self, key: str, limit: int) -> tuple[StoredObject, bytes]:
        key = clean_storage_path(key)
        with s3_errors(key):
            try:
                got = self.client.get_object(Bucket=self.bucket_name, Key=key, Range=f"bytes=0-{limit - 1}")
            except ClientError as error:
                # S3 answers a range request on an empty object with InvalidRange.
                if s3_error_code(error) != "InvalidRange":
                    raise
                return self.stat_object(key), b""
            try:
                data = got["Body"].read()
            finally:
                got["Body"].close()
        total = int(got["ContentRange"].rsplit("/", 1)[1]) if got.get("ContentRange") else got["ContentLength"]
        stored = StoredObject(key=key, size=total, etag=got["ETag"], last_modified=got["LastModified"])
        return stored, data

    def open_slice(self, stored: StoredObject, *, start: int, length: int) -> ObjectSlice:
        if length <= 0:
            return ObjectSlice(io.BytesIO(), 0)
        with s3_errors(stored.key):
            got = self.client.get_object(
                Bucket=self.bucket_name, Key=stored.key, Range=f"bytes={start}-{start + length - 1}"
            )
        return ObjectSlice(got["Body"], length)
