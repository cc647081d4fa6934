"""The file view: who may fetch, what the browser is allowed to render, ranges, validators, failures."""

import hashlib
import struct
import zlib
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils.http import http_date
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from approvals.files.byte_ranges import RangeNotSatisfiable, requested_range
from approvals.models import ArtifactKind
from approvals.tests import sample_files
from approvals.tests.factories import make_artifact, make_pending_review, make_reviewer
from approvals.tests.storage_fixtures import use_s3_bucket

pytestmark = pytest.mark.django_db

BLOB = bytes(range(256)) * 400  # 102,400 bytes, every offset distinguishable


@pytest.fixture
def reviewer_client(client):
    client.force_login(make_reviewer())
    return client


def file_artifact(bucket, data: bytes, *, path: str = "proj/1/file.bin", name: str = "file.bin", mime=None):
    bucket.put(path, data)
    return make_artifact(kind=ArtifactKind.FILE, storage_path=path, name=name, mime_type=mime, size_bytes=len(data))


def file_url(artifact, query: str = "") -> str:
    return reverse("artifact-file", args=[artifact.id]) + query


def body(response) -> bytes:
    # The test client closes a streamed response once it has been read to the end.
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_anonymous_is_sent_to_login(client, local_bucket):
    artifact = file_artifact(local_bucket, sample_files.png_bytes(), name="a.png")
    response = client.get(file_url(artifact))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_logged_in_user_without_the_permission_gets_403(client, local_bucket):
    artifact = file_artifact(local_bucket, sample_files.png_bytes(), name="a.png")
    client.force_login(User.objects.create_user("visitor", password="visitor-pass-123"))
    assert client.get(file_url(artifact)).status_code == 403
    assert client.get(reverse("artifact-thumbnail", args=[artifact.id])).status_code == 403


def test_non_file_artifacts_have_no_file(reviewer_client):
    artifact = make_artifact(kind=ArtifactKind.TEXT)
    assert reviewer_client.get(file_url(artifact)).status_code == 404


def test_png_is_streamed_inline_with_validators_and_safety_headers(reviewer_client, bucket):
    png = sample_files.png_bytes()
    artifact = file_artifact(bucket, png, name="hero.png", mime="image/png")
    response = reviewer_client.get(file_url(artifact))
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "image/png"
    assert response["Content-Length"] == str(len(png))
    assert response["Accept-Ranges"] == "bytes"
    assert response["ETag"].startswith('"')
    assert response["Last-Modified"].endswith("GMT")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox;")
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert response["Content-Disposition"] == 'inline; filename="hero.png"'
    assert body(response) == png


def test_pdf_is_inline_in_a_sandbox_and_may_be_framed_by_the_app_only(reviewer_client, local_bucket):
    artifact = file_artifact(local_bucket, sample_files.pdf_bytes(), name="brief.pdf", mime="application/pdf")
    response = reviewer_client.get(file_url(artifact))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="brief.pdf"'
    policy = [directive.strip() for directive in response["Content-Security-Policy"].split(";")]
    assert policy[0] == "sandbox"
    assert "frame-ancestors 'self'" in policy
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    body(response)


def test_the_type_comes_from_the_bytes_not_the_declared_mime(reviewer_client, bucket):
    pdf = file_artifact(bucket, sample_files.pdf_bytes(), path="p/a.png", name="a.png", mime="image/png")
    response = reviewer_client.get(file_url(pdf))
    assert response["Content-Type"] == "application/pdf"
    body(response)
    text = file_artifact(bucket, b"just words", path="p/b.png", name="b.png", mime="image/png")
    response = reviewer_client.get(file_url(text))
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    body(response)


@pytest.mark.parametrize(
    ("data", "name", "mime"),
    [
        (sample_files.HTML_WITH_SCRIPT.encode(), "landing.html", "text/html"),
        (sample_files.HTML_WITH_SCRIPT.encode(), "landing.txt", "text/plain"),
        (sample_files.SVG_WITH_SCRIPT.encode(), "logo.svg", "image/svg+xml"),
        (sample_files.SVG_WITH_SCRIPT.encode(), "logo.png", "image/png"),
        (b'<?xml version="1.0"?><feed><entry/></feed>', "feed.xml", None),
        (bytes(range(256)) * 4, "model.bin", None),
    ],
)
def test_active_or_unknown_content_is_only_ever_an_attachment(reviewer_client, local_bucket, data, name, mime):
    artifact = file_artifact(local_bucket, data, name=name, mime=mime)
    response = reviewer_client.get(file_url(artifact))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert body(response) == data


@pytest.mark.parametrize(
    ("data", "name", "mime"),
    [
        (sample_files.CSV_TEXT.encode(), "clicks.csv", "text/csv"),
        (b'{"a": 1}', "spec.json", "application/json"),
        (b"# Title\n", "notes.md", "text/markdown"),
    ],
)
def test_text_formats_are_served_as_plain_text(reviewer_client, local_bucket, data, name, mime):
    artifact = file_artifact(local_bucket, data, name=name, mime=mime)
    response = reviewer_client.get(file_url(artifact))
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert body(response) == data


def test_download_forces_an_attachment_with_a_safe_name(reviewer_client, local_bucket):
    artifact = file_artifact(local_bucket, sample_files.png_bytes(), name='../../evil"\r\nname.png', mime="image/png")
    response = reviewer_client.get(file_url(artifact, "?download=1"))
    assert response["Content-Disposition"] == 'attachment; filename="evil___name.png"'
    body(response)


def test_unicode_names_are_encoded_for_download(reviewer_client, local_bucket):
    artifact = file_artifact(local_bucket, sample_files.png_bytes(), name="Frühling – hero.png")
    response = reviewer_client.get(file_url(artifact, "?download=1"))
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''Fr%C3%BChling%20%E2%80%93%20hero.png"
    body(response)


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=40000-40999", 40000, 40999),
        ("bytes=-500", len(BLOB) - 500, len(BLOB) - 1),
        ("bytes=100000-", 100000, len(BLOB) - 1),
        ("bytes=102000-999999", 102000, len(BLOB) - 1),
        ("bytes=-999999", 0, len(BLOB) - 1),
    ],
)
def test_a_single_range_gets_206_with_exactly_those_bytes(reviewer_client, bucket, header, start, end):
    artifact = file_artifact(bucket, BLOB)
    response = reviewer_client.get(file_url(artifact), HTTP_RANGE=header)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end}/{len(BLOB)}"
    assert response["Content-Length"] == str(end - start + 1)
    assert body(response) == BLOB[start : end + 1]


@pytest.mark.parametrize("header", [f"bytes={len(BLOB)}-", f"bytes={len(BLOB) + 10}-{len(BLOB) + 20}", "bytes=-0"])
def test_an_unsatisfiable_range_gets_416_with_the_size(reviewer_client, bucket, header):
    artifact = file_artifact(bucket, BLOB)
    response = reviewer_client.get(file_url(artifact), HTTP_RANGE=header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(BLOB)}"


@pytest.mark.parametrize("header", ["bytes=0-10,20-30", "items=0-10", "bytes=10-5", "bytes=abc"])
def test_ranges_the_view_does_not_serve_get_the_whole_file(reviewer_client, local_bucket, header):
    artifact = file_artifact(local_bucket, BLOB)
    response = reviewer_client.get(file_url(artifact), HTTP_RANGE=header)
    assert response.status_code == 200
    assert body(response) == BLOB


def test_a_stale_if_range_gets_the_whole_file(reviewer_client, local_bucket):
    artifact = file_artifact(local_bucket, BLOB)
    response = reviewer_client.get(file_url(artifact), HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"old-version"')
    assert response.status_code == 200
    assert body(response) == BLOB
    etag = reviewer_client.head(file_url(artifact))["ETag"]
    response = reviewer_client.get(file_url(artifact), HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag)
    assert response.status_code == 206
    assert body(response) == BLOB[:10]


def test_head_gives_the_headers_without_the_body(reviewer_client, bucket):
    artifact = file_artifact(bucket, BLOB)
    response = reviewer_client.head(file_url(artifact))
    assert response.status_code == 200
    assert response["Content-Length"] == str(len(BLOB))
    assert response.content == b""


def test_conditional_get_answers_304_until_the_object_changes(reviewer_client, bucket):
    artifact = file_artifact(bucket, b"version one")
    first = reviewer_client.get(file_url(artifact))
    body(first)
    again = reviewer_client.get(file_url(artifact), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again["ETag"] == first["ETag"]
    assert again.content == b""
    since = reviewer_client.get(file_url(artifact), HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304

    bucket.put(artifact.storage_path, b"version two, which is longer")
    changed = reviewer_client.get(file_url(artifact), HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert body(changed) == b"version two, which is longer"


def test_if_modified_since_before_the_change_gets_the_file(reviewer_client, local_bucket):
    artifact = file_artifact(local_bucket, b"content")
    response = reviewer_client.get(file_url(artifact), HTTP_IF_MODIFIED_SINCE=http_date(0))
    assert response.status_code == 200
    body(response)


def test_a_missing_object_is_404_with_its_path(reviewer_client, bucket):
    artifact = make_artifact(kind=ArtifactKind.FILE, storage_path="proj/gone/hero.png", mime_type="image/png")
    response = reviewer_client.get(file_url(artifact))
    assert response.status_code == 404
    assert "File missing from storage: proj/gone/hero.png" in response.content.decode()


def test_an_invalid_path_is_refused_without_touching_storage(reviewer_client, local_bucket, tmp_path):
    (tmp_path / "storage" / "secret.txt").write_text("outside the bucket")
    artifact = make_artifact(kind=ArtifactKind.FILE, storage_path="../secret.txt", mime_type="text/plain")
    response = reviewer_client.get(file_url(artifact))
    assert response.status_code == 404
    assert "not a valid key" in response.content.decode()
    assert "outside the bucket" not in response.content.decode()


def test_a_storage_outage_is_503_with_a_clear_message(reviewer_client, settings, private_moto_server):
    bucket = use_s3_bucket(settings, private_moto_server.endpoint_url)
    artifact = file_artifact(bucket, sample_files.png_bytes(), name="a.png")
    body(reviewer_client.get(file_url(artifact)))
    private_moto_server.stop()
    response = reviewer_client.get(file_url(artifact))
    assert response.status_code == 503
    assert "File storage is unavailable" in response.content.decode()
    thumbnail = reviewer_client.get(reverse("artifact-thumbnail", args=[artifact.id]))
    assert thumbnail.status_code == 503


@given(
    size=st.integers(min_value=0, max_value=10**12),
    first=st.one_of(st.none(), st.integers(min_value=0, max_value=2 * 10**12)),
    last=st.one_of(st.none(), st.integers(min_value=0, max_value=2 * 10**12)),
)
def test_any_single_range_is_inside_the_object_or_refused(size, first, last):
    header = f"bytes={'' if first is None else first}-{'' if last is None else last}"
    try:
        answer = requested_range(header, size=size, if_range=None, etag='"e"', last_modified=0)
    except RangeNotSatisfiable:
        assert size == 0 or (first is not None and first >= size) or (first is None and last == 0)
        return
    if answer is not None:
        start, end = answer
        assert 0 <= start <= end < size
        if first is not None:
            assert start == first
        elif last is not None:
            assert end - start + 1 == min(last, size)


# --- Thumbnails ------------------------------------------------------------------------------------------


def thumbnail_url(artifact) -> str:
    return reverse("artifact-thumbnail", args=[artifact.id])


def decoded(data: bytes) -> Image.Image:
    import io

    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_thumbnail_is_a_bounded_webp_made_once(reviewer_client, bucket, settings):
    artifact = file_artifact(bucket, sample_files.jpeg_bytes((1600, 900)), name="photo.jpg", mime="image/jpeg")
    response = reviewer_client.get(thumbnail_url(artifact))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["Cache-Control"] == "private, no-store"
    image = decoded(body(response))
    assert image.format == "WEBP"
    assert image.size == (320, 180)

    cached = list(settings.THUMBNAIL_CACHE_DIR.rglob("*.webp"))
    assert len(cached) == 1
    made_at = cached[0].stat().st_mtime_ns
    again = reviewer_client.get(thumbnail_url(artifact))
    body(again)
    assert cached[0].stat().st_mtime_ns == made_at
    assert reviewer_client.get(thumbnail_url(artifact), HTTP_IF_NONE_MATCH=again["ETag"]).status_code == 304


def test_a_changed_image_gets_a_new_thumbnail(reviewer_client, local_bucket, settings):
    artifact = file_artifact(local_bucket, sample_files.png_bytes((400, 400), (255, 0, 0)), name="a.png")
    first = reviewer_client.get(thumbnail_url(artifact))
    assert decoded(body(first)).convert("RGB").getpixel((5, 5))[0] > 200
    local_bucket.put(artifact.storage_path, sample_files.png_bytes((400, 200), (0, 0, 255)))
    second = reviewer_client.get(thumbnail_url(artifact))
    image = decoded(body(second)).convert("RGB")
    assert image.size == (320, 160)
    assert image.getpixel((5, 5))[2] > 200
    assert second["ETag"] != first["ETag"]
    assert len(list(settings.THUMBNAIL_CACHE_DIR.rglob("*.webp"))) == 1


def key_shard(settings, key: str) -> tuple[Path, str]:
    """The cache folder two levels down from the key's SHA-256, and the digest that starts each file name there."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return settings.THUMBNAIL_CACHE_DIR / digest[:2] / digest[2:4], digest


def test_a_thumbnail_lands_in_the_shard_of_its_key(reviewer_client, local_bucket, settings):
    artifact = file_artifact(local_bucket, sample_files.png_bytes((400, 400)), path="proj/7/hero.png", name="a.png")
    body(reviewer_client.get(thumbnail_url(artifact)))
    shard, digest = key_shard(settings, "proj/7/hero.png")
    [made] = shard.iterdir()
    assert made.name.startswith(f"{digest}-") and made.name.endswith("-320.webp")
    assert [path.name for path in settings.THUMBNAIL_CACHE_DIR.iterdir()] == [shard.parent.name]


def test_a_new_version_cleans_only_its_own_shard_and_leaves_a_full_cache_alone(reviewer_client, local_bucket, settings):
    artifact = file_artifact(local_bucket, sample_files.png_bytes((400, 400), (255, 0, 0)), name="a.png")
    shard, digest = key_shard(settings, artifact.storage_path)
    shard.mkdir(parents=True)
    older = shard / f"{digest}-0123456789abcdef01234567-320.webp"
    older.write_bytes(b"an older version of this key")
    # Files the old flat layout made for this very artifact, and other keys' thumbnails: many, all left alone.
    flat = [settings.THUMBNAIL_CACHE_DIR / f"{artifact.id}-{n:024x}.webp" for n in range(2000)]
    elsewhere = [settings.THUMBNAIL_CACHE_DIR / f"{n:02x}" / "00" / f"{digest}-{n:024x}-320.webp" for n in range(256)]
    for path in flat + elsewhere:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"red")

    response = reviewer_client.get(thumbnail_url(artifact))

    assert decoded(body(response)).convert("RGB").getpixel((5, 5))[0] > 200
    [made] = shard.iterdir()
    assert made.name.startswith(digest) and made != older
    assert all(path.read_bytes() == b"red" for path in flat + [p for p in elsewhere if p.parent != shard])


def test_a_thumbnail_left_in_the_flat_cache_is_ignored_and_made_again(reviewer_client, local_bucket, settings):
    artifact = file_artifact(local_bucket, sample_files.png_bytes((400, 400), (0, 0, 255)), name="a.png")
    settings.THUMBNAIL_CACHE_DIR.mkdir(parents=True)
    stale = settings.THUMBNAIL_CACHE_DIR / f"{artifact.id}-{'0' * 24}.webp"
    stale.write_bytes(sample_files.png_bytes((10, 10), (255, 0, 0)))

    response = reviewer_client.get(thumbnail_url(artifact))

    image = decoded(body(response)).convert("RGB")
    assert image.size == (320, 320) and image.getpixel((5, 5))[2] > 200


def test_a_thumbnail_answers_a_range_and_a_conditional_get(reviewer_client, local_bucket):
    artifact = file_artifact(local_bucket, sample_files.jpeg_bytes((800, 600)), name="photo.jpg")
    whole = body(reviewer_client.get(thumbnail_url(artifact)))
    ranged = reviewer_client.get(thumbnail_url(artifact), HTTP_RANGE="bytes=10-49")
    assert (ranged.status_code, ranged["Content-Range"]) == (206, f"bytes 10-49/{len(whole)}")
    assert body(ranged) == whole[10:50]
    since = reviewer_client.get(thumbnail_url(artifact), HTTP_IF_MODIFIED_SINCE=ranged["Last-Modified"])
    assert since.status_code == 304
    assert since["Content-Security-Policy"].startswith("sandbox;")


def test_no_thumbnail_for_files_that_are_not_images(reviewer_client, local_bucket):
    artifact = file_artifact(local_bucket, sample_files.pdf_bytes(), name="fake.png", mime="image/png")
    assert reviewer_client.get(thumbnail_url(artifact)).status_code == 404
    svg = file_artifact(local_bucket, sample_files.SVG_WITH_SCRIPT.encode(), path="p/l.svg", mime="image/svg+xml")
    assert reviewer_client.get(thumbnail_url(svg)).status_code == 404


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims huge dimensions in a few bytes: a decompression bomb's calling card."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def test_a_decompression_bomb_gets_no_thumbnail(reviewer_client, local_bucket):
    artifact = file_artifact(local_bucket, png_header_only(30000, 30000), name="bomb.png", mime="image/png")
    response = reviewer_client.get(thumbnail_url(artifact))
    assert response.status_code == 404
    assert "too large" in response.content.decode() or "pixels" in response.content.decode()


def test_a_missing_image_has_no_thumbnail(reviewer_client, local_bucket):
    artifact = make_artifact(kind=ArtifactKind.FILE, storage_path="proj/gone.png", mime_type="image/png")
    assert reviewer_client.get(thumbnail_url(artifact)).status_code == 404


# --- Carousel slides ---------------------------------------------------------------------------------------


def slide_url(bucket, data: bytes, *, key: str = "proj/1/slide.png") -> str:
    bucket.put(key, data)
    approval = make_pending_review(
        kind=ArtifactKind.JSON, body_json={"slides": [{"image": key}]}, metadata={"platform": "instagram"}
    )
    return reverse("slide-image", args=[approval.artifact_id, 0])


def test_a_slide_answers_a_range_with_206_and_exactly_those_bytes(reviewer_client, bucket):
    png = sample_files.png_bytes((600, 400))
    url = slide_url(bucket, png)
    response = reviewer_client.get(url, HTTP_RANGE="bytes=100-399")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-399/{len(png)}"
    assert response["Content-Length"] == "300"
    assert body(response) == png[100:400]


def test_a_slide_answers_a_conditional_get_with_304(reviewer_client, bucket):
    url = slide_url(bucket, sample_files.png_bytes())
    first = reviewer_client.get(url)
    body(first)
    assert first["Last-Modified"].endswith("GMT")
    by_etag = reviewer_client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    by_date = reviewer_client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert (by_etag.status_code, by_date.status_code) == (304, 304)
    assert by_etag["Content-Security-Policy"] == first["Content-Security-Policy"]


def test_a_slide_is_an_inline_image_in_the_file_sandbox(reviewer_client, local_bucket):
    response = reviewer_client.get(slide_url(local_bucket, sample_files.png_bytes()))
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="slide.png"'
    assert response["Content-Security-Policy"].startswith("sandbox;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    body(response)


def test_a_slide_that_is_svg_is_not_served(reviewer_client, local_bucket):
    response = reviewer_client.get(slide_url(local_bucket, sample_files.SVG_WITH_SCRIPT.encode(), key="p/s.png"))
    assert response.status_code == 404
    assert b"<svg" not in response.content
