"""A storage key as long as the schema allows is a problem of that item, never "storage unavailable"."""

import pytest
from django.urls import reverse

from approvals.files.storage import InvalidStoragePath, clean_storage_path
from approvals.models import ArtifactKind
from approvals.tests.factories import make_artifact, make_pending_review

pytestmark = pytest.mark.django_db


@pytest.fixture
def long_key_review(local_bucket):
    local_bucket.put("proj/other.mp4", b"a sibling, so the folder exists")
    artifact = make_artifact(kind=ArtifactKind.FILE, storage_path="proj/" + "k" * 1019, name="clip.mp4")
    return make_pending_review(artifact=artifact)


def test_a_1024_character_key_is_a_notice_on_the_review_page(reviewer_client, long_key_review):
    response = reviewer_client.get(reverse("approval-detail", args=[long_key_review.id]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "unavailable" not in html
    assert "Invalid storage path" in html


def test_a_1024_character_key_is_a_404_from_the_file_view_not_a_503(reviewer_client, long_key_review):
    for name in ("artifact-file", "artifact-thumbnail"):
        response = reviewer_client.get(reverse(name, args=[long_key_review.artifact_id]))
        assert response.status_code == 404, name


def test_a_key_over_1024_bytes_of_utf8_is_refused_before_storage_is_asked():
    # S3 keys are limited to 1,024 bytes; the schema counts characters.
    with pytest.raises(InvalidStoragePath):
        clean_storage_path("é" * 600)
