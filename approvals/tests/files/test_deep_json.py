"""JSON nested deeper than Python's decoder goes (PostgreSQL stores 10,000 levels): no page fails on it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from approvals.models import Approval, ApprovalStatus, Artifact, ArtifactKind
from approvals.tests.factories import make_pending_review

pytestmark = pytest.mark.django_db

DEPTH = 10_000


@pytest.fixture
def deep_review():
    """A pending JSON artifact whose body the pipeline wrote with plain SQL, 10,000 arrays deep."""
    approval = make_pending_review(name="deep-spec", kind=ArtifactKind.JSON)
    with connection.cursor() as cursor:
        cursor.execute(
            "update artifacts set body_json = %s::jsonb where id = %s",
            ["[" * DEPTH + "1" + "]" * DEPTH, approval.artifact_id],
        )
    return approval


def test_the_review_page_shows_deep_json_as_truncated_text_with_a_notice(reviewer_client, deep_review):
    response = reviewer_client.get(reverse("approval-detail", args=[deep_review.id]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "nested too deeply" in html
    assert "[[[[" in html


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:approvals_artifact_changelist",
        "admin:approvals_approval_changelist",
        "admin:approvals_job_changelist",
        "admin:approvals_run_changelist",
        "admin:approvals_run_costs",
    ],
)
def test_admin_lists_and_the_costs_dashboard_keep_working_with_deep_json(ops_client, deep_review, url_name):
    assert ops_client.get(reverse(url_name)).status_code == 200


def test_the_admin_artifact_page_shows_deep_json_without_failing(ops_client, deep_review):
    response = ops_client.get(reverse("admin:approvals_artifact_change", args=[deep_review.artifact_id]))

    assert response.status_code == 200


def test_an_item_with_deep_json_can_still_be_decided(reviewer_client, deep_review):
    response = reviewer_client.post(
        reverse("approval-decide", args=[deep_review.id]), {"decision": "approved", "notes": ""}
    )

    assert response.status_code == 303
    assert Approval.objects.get(pk=deep_review.pk).status == ApprovalStatus.APPROVED


def test_a_newer_version_of_deep_json_still_shows_its_review_page(reviewer_client, deep_review):
    newer = make_pending_review(
        name="deep-spec",
        kind=ArtifactKind.JSON,
        version=2,
        previous_version=Artifact.objects.get(pk=deep_review.artifact_id),
    )

    assert reviewer_client.get(reverse("approval-detail", args=[newer.id])).status_code == 200


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:approvals_artifact_changelist",
        "admin:approvals_approval_changelist",
        "admin:approvals_job_changelist",
        "admin:approvals_run_changelist",
        "admin:approvals_run_costs",
    ],
)
def test_admin_lists_do_not_read_bodies_they_do_not_show(ops_client, deep_review, url_name):
    with CaptureQueriesContext(connection) as queries:
        assert ops_client.get(reverse(url_name)).status_code == 200

    assert not [query["sql"] for query in queries if '"body_json"' in query["sql"] or '"body_text"' in query["sql"]]


def test_saving_an_artifact_in_the_admin_keeps_its_deep_json_as_it_was(ops_client, deep_review):
    artifact = Artifact.objects.get(pk=deep_review.artifact_id)
    artifact.metadata = {"note": "edited"}
    artifact.save()

    with connection.cursor() as cursor:
        cursor.execute("select body_json::text from artifacts where id = %s", [artifact.pk])
        assert cursor.fetchone()[0] == "[" * DEPTH + "1" + "]" * DEPTH
