"""Buckets for tests: a local folder under tmp_path, or a real S3 server (moto) on loopback.

The S3 bucket is configured through the same `s3_storage()` that settings.py
uses for STORAGE_BACKEND=s3, and objects go in and out over HTTP with boto3:
nothing in boto3 is mocked.
"""

import itertools
from dataclasses import dataclass
from pathlib import Path

import boto3
import moto
import pytest
from django.core.cache import cache
from django.core.files.storage import storages
from moto.server import ThreadedMotoServer

from flowsite.settings import s3_storage

S3_CREDENTIALS = {"S3_REGION": "us-east-1", "S3_ACCESS_KEY_ID": "testing", "S3_SECRET_ACCESS_KEY": "testing"}
_bucket_numbers = itertools.count(1)


@dataclass
class Bucket:
    backend: str
    name: str
    endpoint_url: str | None = None
    root: Path | None = None

    @property
    def storage(self):
        return storages["default"]

    def put(self, key: str, data: bytes) -> str:
        if self.backend == "local":
            path = self.root / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        else:
            s3_client(self.endpoint_url).put_object(Bucket=self.name, Key=key, Body=data)
        return key

    def delete(self, key: str) -> None:
        if self.backend == "local":
            (self.root / key).unlink()
        else:
            s3_client(self.endpoint_url).delete_object(Bucket=self.name, Key=key)


class MotoServer:
    """moto's S3 in server mode on 127.0.0.1, on a free port; `stop()` makes it refuse connections."""

    def __init__(self):
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        self.running = True

    def stop(self) -> None:
        if self.running:
            self._server.stop()
            # shutdown() leaves the socket listening: close it, so clients are refused at once.
            # moto has no public way to; test_private_api_pins.py pins this attribute.
            self.werkzeug_server().server_close()
            self.running = False

    def werkzeug_server(self):
        """The werkzeug server inside moto's ThreadedMotoServer (a private attribute, moto 5.x)."""
        server = getattr(self._server, "_server", None)
        if not hasattr(server, "server_close"):
            raise RuntimeError(
                f"moto {moto.__version__}: ThreadedMotoServer no longer keeps its werkzeug server in `_server`; "
                "MotoServer.stop() must find another way to close the listening socket."
            )
        return server


def s3_client(endpoint_url: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=S3_CREDENTIALS["S3_REGION"],
        aws_access_key_id=S3_CREDENTIALS["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_CREDENTIALS["S3_SECRET_ACCESS_KEY"],
    )


def use_s3_bucket(settings, endpoint_url: str) -> Bucket:
    name = f"flow-artifacts-{next(_bucket_numbers)}"
    s3_client(endpoint_url).create_bucket(Bucket=name)
    environ = {**S3_CREDENTIALS, "S3_ENDPOINT_URL": endpoint_url, "S3_BUCKET": name, "S3_READ_TIMEOUT": "5"}
    settings.STORAGES = {**settings.STORAGES, "default": s3_storage(environ)}
    return Bucket(backend="s3", name=name, endpoint_url=endpoint_url)


def use_local_bucket(settings, root: Path) -> Bucket:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "approvals.files.storage.LocalArtifactStorage", "OPTIONS": {"location": str(root)}},
    }
    root.mkdir(parents=True, exist_ok=True)
    return Bucket(backend="local", name="flow-artifacts", root=root)


@pytest.fixture(scope="session")
def moto_server():
    server = MotoServer()
    yield server
    server.stop()


@pytest.fixture
def private_moto_server():
    """A server of this test's own, for tests that stop it."""
    server = MotoServer()
    yield server
    server.stop()


@pytest.fixture
def isolated_file_caches(settings, tmp_path):
    """Thumbnails under tmp_path and no media types remembered from another test."""
    settings.THUMBNAIL_CACHE_DIR = tmp_path / "thumbnails"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def local_bucket(settings, tmp_path, isolated_file_caches) -> Bucket:
    return use_local_bucket(settings, tmp_path / "storage" / "flow-artifacts")


@pytest.fixture
def s3_bucket(settings, moto_server, isolated_file_caches) -> Bucket:
    return use_s3_bucket(settings, moto_server.endpoint_url)


@pytest.fixture(params=["local", "s3"])
def bucket(request, settings, tmp_path, isolated_file_caches) -> Bucket:
    """Each test that takes `bucket` runs on both backends."""
    if request.param == "local":
        return use_local_bucket(settings, tmp_path / "storage" / "flow-artifacts")
    return use_s3_bucket(settings, request.getfixturevalue("moto_server").endpoint_url)
