"""The artifact bucket: keys are checked before storage is touched, and both backends read the same bytes."""

import io
import os

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile

from approvals.files.s3 import S3ArtifactStorage
from approvals.files.storage import (
    InvalidStoragePath,
    LocalArtifactStorage,
    ObjectMissing,
    StorageUnavailable,
    artifact_storage,
    clean_storage_path,
    read_object,
)
from approvals.tests.storage_fixtures import S3_CREDENTIALS, use_s3_bucket
from flowsite.settings import s3_storage

HOSTILE_PATHS = [
    "",
    "../secret.txt",
    "proj/../../etc/passwd",
    "proj/./file.png",
    "/etc/passwd",
    "//server/share/file",
    "proj\\..\\..\\secret.txt",
    "C:\\Windows\\win.ini",
    "proj/file\x00.png",
    "proj/\nfile.png",
    "proj/file\x7f.png",
    "proj/\u202egnp.exe",
    "proj//file.png",
    "proj/file.png/",
    "..",
    ".",
    "a" * 1025,
]


@pytest.mark.parametrize("path", HOSTILE_PATHS)
def test_hostile_paths_are_refused(path):
    with pytest.raises(InvalidStoragePath):
        clean_storage_path(path)


@pytest.mark.parametrize("path", ["proj/42/hero.png", "demo/a b/ünïcode – name.png", "x", ".thumbnails/a.webp"])
def test_plain_keys_pass_unchanged(path):
    assert clean_storage_path(path) == path


@pytest.mark.parametrize("path", HOSTILE_PATHS[1:12])
def test_local_storage_never_opens_anything_outside_the_bucket(local_bucket, tmp_path, path):
    (tmp_path / "secret.txt").write_text("outside the bucket")
    storage = artifact_storage()
    for call in (storage.stat_object, storage.exists, storage.open, lambda key: storage.read_head(key, 100)):
        with pytest.raises(InvalidStoragePath):
            call(path)


def test_local_storage_refuses_a_symlink_that_leads_out_of_the_bucket(local_bucket, tmp_path):
    (tmp_path / "secret.txt").write_text("outside the bucket")
    os.symlink(tmp_path / "secret.txt", local_bucket.root / "innocent.txt")
    with pytest.raises(InvalidStoragePath):
        artifact_storage().read_head("innocent.txt", 100)


def test_s3_storage_refuses_hostile_keys_before_any_request(settings):
    # An endpoint nothing listens on: a request would fail as unavailable, not as invalid.
    environ = {**S3_CREDENTIALS, "S3_ENDPOINT_URL": "http://127.0.0.1:9"}
    settings.STORAGES = {**settings.STORAGES, "default": s3_storage(environ)}
    storage = artifact_storage()
    for path in ("../x", "/abs", "a\\b", "a/\x00"):
        with pytest.raises(InvalidStoragePath):
            storage.stat_object(path)
        with pytest.raises(InvalidStoragePath):
            storage.read_head(path, 10)


def test_both_backends_stat_and_read_what_was_stored(bucket):
    data = bytes(range(256)) * 1000
    bucket.put("proj/1/blob.bin", data)
    storage = artifact_storage()

    stored = storage.stat_object("proj/1/blob.bin")
    assert stored.size == len(data)
    assert stored.etag.startswith('"') and stored.etag.endswith('"')
    assert stored.last_modified.tzinfo is not None

    head_info, head = storage.read_head("proj/1/blob.bin", 1000)
    assert head == data[:1000]
    assert head_info.size == len(data)
    assert head_info.etag == stored.etag

    middle = storage.open_slice(stored, start=5000, length=70000)
    try:
        assert b"".join(iter(lambda: middle.read(8192), b"")) == data[5000:75000]
    finally:
        middle.close()
    assert read_object(stored) == data


def test_both_backends_read_an_empty_object(bucket):
    bucket.put("proj/empty.txt", b"")
    stored, head = artifact_storage().read_head("proj/empty.txt", 100)
    assert (stored.size, head) == (0, b"")


def test_changing_an_object_changes_its_etag(bucket):
    bucket.put("proj/v.txt", b"first version")
    before = artifact_storage().stat_object("proj/v.txt")
    bucket.put("proj/v.txt", b"second version, longer")
    after = artifact_storage().stat_object("proj/v.txt")
    assert before.etag != after.etag


def test_both_backends_report_a_missing_object(bucket):
    with pytest.raises(ObjectMissing):
        artifact_storage().stat_object("proj/nothing-here.png")
    with pytest.raises(ObjectMissing):
        artifact_storage().read_head("proj/nothing-here.png", 10)


def test_a_folder_is_not_an_object(local_bucket):
    local_bucket.put("proj/inner/file.txt", b"x")
    with pytest.raises(ObjectMissing):
        artifact_storage().stat_object("proj/inner")


def test_django_storage_api_saves_and_opens_on_s3(s3_bucket):
    """seed_demo and the pipeline's tools use the plain storage API: it works against the S3 server."""
    storage = artifact_storage()
    assert isinstance(storage, S3ArtifactStorage)
    name = storage.save("demo/p/hello.txt", ContentFile(b"hello from the storage API"))
    assert name == "demo/p/hello.txt"
    with storage.open(name) as stored_file:
        assert stored_file.read() == b"hello from the storage API"
    assert artifact_storage().stat_object(name).size == len(b"hello from the storage API")


def test_s3_outage_is_reported_as_unavailable(settings, private_moto_server):
    bucket = use_s3_bucket(settings, private_moto_server.endpoint_url)
    bucket.put("proj/a.txt", b"abc")
    assert artifact_storage().stat_object("proj/a.txt").size == 3
    private_moto_server.stop()
    with pytest.raises(StorageUnavailable):
        artifact_storage().stat_object("proj/a.txt")
    with pytest.raises(StorageUnavailable):
        artifact_storage().read_head("proj/a.txt", 10)


def test_s3_missing_bucket_is_reported_as_unavailable(settings, moto_server):
    environ = {**S3_CREDENTIALS, "S3_ENDPOINT_URL": moto_server.endpoint_url, "S3_BUCKET": "no-such-bucket"}
    settings.STORAGES = {**settings.STORAGES, "default": s3_storage(environ)}
    with pytest.raises(StorageUnavailable):
        artifact_storage().read_head("proj/a.txt", 10)


def test_local_storage_without_its_folder_is_unavailable(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "approvals.files.storage.LocalArtifactStorage",
            "OPTIONS": {"location": str(tmp_path / "not-mounted")},
        },
    }
    assert isinstance(artifact_storage(), LocalArtifactStorage)
    with pytest.raises(StorageUnavailable):
        artifact_storage().stat_object("proj/a.txt")


def test_s3_settings_name_the_missing_variable():
    with pytest.raises(ImproperlyConfigured, match="S3_ENDPOINT_URL"):
        s3_storage({"S3_REGION": "eu-central-1", "S3_ACCESS_KEY_ID": "k", "S3_SECRET_ACCESS_KEY": "s"})


def test_s3_settings_use_sigv4_path_style_and_the_fixed_bucket():
    options = s3_storage({**S3_CREDENTIALS, "S3_ENDPOINT_URL": "https://abc.supabase.co/storage/v1/s3"})["OPTIONS"]
    assert options["bucket_name"] == "flow-artifacts"
    assert options["client_config"].signature_version == "s3v4"
    assert options["client_config"].s3 == {"addressing_style": "path"}
    assert options["endpoint_url"] == "https://abc.supabase.co/storage/v1/s3"


def test_local_slices_give_gunicorn_a_positioned_file_descriptor(local_bucket):
    """gunicorn sends a file wrapper with os.sendfile from the descriptor's position, Content-Length bytes."""
    local_bucket.put("proj/big.bin", bytes(range(256)) * 100)
    storage = artifact_storage()
    reader = storage.open_slice(storage.stat_object("proj/big.bin"), start=1000, length=50)
    try:
        assert os.lseek(reader.fileno(), 0, os.SEEK_CUR) == 1000
        assert reader.read() == (bytes(range(256)) * 100)[1000:1050]
        assert reader.read() == b""
    finally:
        reader.close()


def test_s3_slices_have_no_file_descriptor(s3_bucket):
    s3_bucket.put("proj/a.bin", b"0123456789")
    storage = artifact_storage()
    reader = storage.open_slice(storage.stat_object("proj/a.bin"), start=2, length=3)
    try:
        with pytest.raises(io.UnsupportedOperation):
            reader.fileno()
        assert reader.read() == b"234"
    finally:
        reader.close()
