"""Every response that shows pipeline content tells browsers and proxies to keep no copy of it."""

import pytest
from django.urls import reverse

from approvals.models import ArtifactKind
from approvals.tests import sample_files
from approvals.tests.factories import make_artifact, make_pending_review

pytestmark = pytest.mark.django_db


def keeps_no_copy(response) -> bool:
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    return {"private", "no-store"} <= directives


@pytest.fixture
def pending(local_bucket):
    local_bucket.put("proj/1/photo.png", sample_files.png_bytes())
    artifact = make_artifact(kind=ArtifactKind.FILE, storage_path="proj/1/photo.png", name="photo.png")
    return make_pending_review(artifact=artifact)


@pytest.mark.parametrize("htmx", [False, True])
def test_reviewer_pages_keep_no_copy(reviewer_client, pending, htmx):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    urls = [
        reverse("queue"),
        reverse("history"),
        reverse("approval-detail", args=[pending.id]),
        f"{reverse('approval-next')}?after={pending.id}",
    ]
    for url in urls:
        response = reviewer_client.get(url, **headers)
        assert response.status_code in (200, 302), url
        assert keeps_no_copy(response), (url, response.get("Cache-Control"))


def test_a_decision_response_keeps_no_copy(reviewer_client, pending):
    response = reviewer_client.post(
        reverse("approval-decide", args=[pending.id]), {"decision": "approved"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert keeps_no_copy(response)


def test_files_and_thumbnails_keep_no_copy_but_still_answer_ranges_and_validators(reviewer_client, pending):
    file_url = reverse("artifact-file", args=[pending.artifact_id])
    whole = reviewer_client.get(file_url)
    ranged = reviewer_client.get(file_url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=whole["ETag"])
    thumbnail = reviewer_client.get(reverse("artifact-thumbnail", args=[pending.artifact_id]))

    assert keeps_no_copy(whole) and keeps_no_copy(ranged) and keeps_no_copy(thumbnail)
    assert whole["ETag"] and ranged.status_code == 206
