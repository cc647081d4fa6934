"""One media-family classifier: the queue's SQL, the admin's filter and the sniffed bytes agree."""

import pytest
from django.db import connection
from django.urls import reverse

from approvals.files.families import MediaFamily, declared_family
from approvals.files.media import stored_media
from approvals.files.storage import artifact_storage
from approvals.models import Artifact, ArtifactKind
from approvals.selectors.filters import QueueFilters
from approvals.selectors.queue import FAMILY_SQL, pending_queue
from approvals.tests import sample_files
from approvals.tests.factories import make_artifact, make_pending_review

pytestmark = pytest.mark.django_db

# (kind, mime_type, storage_path, family): the edges of every rule.
DECLARED = [
    (ArtifactKind.TEXT, None, None, MediaFamily.TEXT),
    (ArtifactKind.JSON, None, None, MediaFamily.JSON),
    (ArtifactKind.FILE, None, "p/hero.png", MediaFamily.IMAGE),
    (ArtifactKind.FILE, "", "p/hero.PNG", MediaFamily.IMAGE),
    (ArtifactKind.FILE, "Image/PNG", "p/hero", MediaFamily.IMAGE),
    (ArtifactKind.FILE, "application/octet-stream", "p/clip.webm", MediaFamily.VIDEO),
    (ArtifactKind.FILE, "video/mp4", "p/clip.bin", MediaFamily.VIDEO),
    (ArtifactKind.FILE, "application/pdf", "p/x.png", MediaFamily.PDF),
    (ArtifactKind.FILE, None, "p/spec.pdf", MediaFamily.PDF),
    (ArtifactKind.FILE, "application/ld+json", "p/x", MediaFamily.JSON),
    (ArtifactKind.FILE, None, "p/x.json", MediaFamily.JSON),
    (ArtifactKind.FILE, "text/markdown", "p/x", MediaFamily.TEXT),
    (ArtifactKind.FILE, None, "p/notes.md", MediaFamily.TEXT),
    (ArtifactKind.FILE, "audio/mpeg", "p/x.mp3", MediaFamily.OTHER),
    (ArtifactKind.FILE, None, "p/archive.zip", MediaFamily.OTHER),
    (ArtifactKind.FILE, None, None, MediaFamily.OTHER),
    (ArtifactKind.FILE, "application/zip", "p/x.png", MediaFamily.OTHER),
]


def sql_family(artifact: Artifact) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"select {FAMILY_SQL} from artifacts a where a.id = %s", [artifact.id])  # noqa: S608 fixed SQL
        return cursor.fetchone()[0]


def admin_families(client, artifact: Artifact) -> set[str]:
    """The families under which the admin's artifact list shows this artifact."""
    changelist = reverse("admin:approvals_artifact_changelist")
    listed = set()
    for family in MediaFamily.values:
        page = client.get(changelist, {"mime": family, "q": artifact.name}).content.decode()
        if reverse("admin:approvals_artifact_change", args=[artifact.pk]) in page:
            listed.add(family)
    return listed


@pytest.mark.parametrize(("kind", "mime_type", "storage_path", "family"), DECLARED)
def test_python_sql_and_admin_classify_declared_media_alike(ops_client, kind, mime_type, storage_path, family):
    artifact = make_artifact(kind=kind, mime_type=mime_type, storage_path=storage_path, name="classified-artifact")

    assert declared_family(kind=kind, mime_type=mime_type, storage_path=storage_path) == family
    assert sql_family(artifact) == family
    assert admin_families(ops_client, artifact) == {family}


def test_a_png_without_a_declared_type_is_an_image_in_the_queue_the_admin_and_its_bytes(ops_client, local_bucket):
    data = sample_files.png_bytes()
    local_bucket.put("p/undeclared.png", data)
    approval = make_pending_review(kind=ArtifactKind.FILE, mime_type=None, storage_path="p/undeclared.png")
    artifact = approval.artifact

    (row,) = pending_queue(filters=QueueFilters(media=MediaFamily.IMAGE)).rows
    sniffed = stored_media(artifact_storage().stat_object(artifact.storage_path), declared=None, name=artifact.name)

    assert row.family == MediaFamily.IMAGE
    assert admin_families(ops_client, artifact) == {MediaFamily.IMAGE}
    assert sniffed.filter_family == MediaFamily.IMAGE
