"""Previews in a real browser: the review page's image decodes, its video has a duration and seeks, its PDF shows.

Chromium (Debian's, through Playwright) loads the review pages from a live
server; the files come through the file view from a real bucket folder.
Without Chromium these tests skip, unless FLOW_REQUIRE_BROWSER=1 (CI), where
they fail.
"""

import pytest
from django.urls import reverse

from approvals.models import Approval, ArtifactKind
from approvals.tests import sample_files
from approvals.tests.factories import make_artifact, make_pending_review, make_reviewer

# Transactional, so the live server sees the rows; transactional_pipeline_db removes them afterwards.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("transactional_pipeline_db"),
]


@pytest.fixture
def reviewer_page(open_page, client):
    client.force_login(make_reviewer("browser_reviewer"))
    return open_page(session=client.cookies["sessionid"].value)


@pytest.fixture
def pending_files(local_bucket):
    """Make an image, a video or a PDF wait for review, its bytes in the bucket."""

    def pending(data: bytes, *, name: str, mime: str) -> Approval:
        path = local_bucket.put(f"browser/{name}", data)
        artifact = make_artifact(
            kind=ArtifactKind.FILE, name=name, storage_path=path, mime_type=mime, size_bytes=len(data)
        )
        return make_pending_review(artifact=artifact)

    return pending


def test_review_page_image_decodes(reviewer_page, live_server, pending_files):
    approval = pending_files(sample_files.png_bytes((120, 80)), name="hero.png", mime="image/png")
    reviewer_page.goto(live_server.url + reverse("approval-detail", args=[approval.id]))
    image = reviewer_page.locator(".preview-image img")
    image.wait_for()
    reviewer_page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [120, 80]


def test_review_page_video_has_a_duration_and_seeks(reviewer_page, live_server, pending_files):
    approval = pending_files(sample_files.webm_bytes(), name="teaser.webm", mime="video/webm")
    statuses = []

    def record(response):
        if "/file/" in response.url:
            statuses.append(response.status)

    reviewer_page.on("response", record)
    reviewer_page.goto(live_server.url + reverse("approval-detail", args=[approval.id]))
    video = reviewer_page.locator(".preview-video video")
    video.wait_for()
    reviewer_page.wait_for_function(
        "video => video.readyState >= 1 && Number.isFinite(video.duration) && video.duration > 0",
        arg=video.element_handle(),
    )
    duration = video.evaluate("video => video.duration")
    assert 1.5 < duration < 2.5

    video.evaluate("video => { video.currentTime = 1.5; }")
    reviewer_page.wait_for_function(
        "video => !video.seeking && video.currentTime >= 1.4", arg=video.element_handle(), timeout=10_000
    )
    reviewer_page.remove_listener("response", record)  # the page serves the module's next test
    # The player fetched the file in ranges, as seeking relies on.
    assert 206 in statuses


def test_review_page_pdf_opens_in_the_browsers_viewer(reviewer_page, live_server, pending_files):
    """The framed PDF is sandboxed by its CSP and still reaches Chromium's viewer, not an error page."""
    approval = pending_files(sample_files.pdf_bytes(), name="brief.pdf", mime="application/pdf")
    reviewer_page.goto(live_server.url + reverse("approval-detail", args=[approval.id]))
    reviewer_page.locator("iframe.preview-pdf-frame").wait_for()

    def frame_urls() -> list[str]:
        return [frame.url for frame in reviewer_page.frames]

    # Chromium's viewer runs in an extension frame inside ours; a refused PDF leaves a chrome-error:// frame.
    for _ in range(100):
        if any(url.startswith("chrome-extension://") for url in frame_urls()):
            break
        reviewer_page.wait_for_timeout(100)
    assert any(url.startswith("chrome-extension://") for url in frame_urls()), frame_urls()
    assert not any(url.startswith("chrome-error://") for url in frame_urls())
