"""Query strings and headers at the edges of their types answer a page or a clear refusal, never a 500."""

import pytest
from django.urls import reverse

from approvals.models import ArtifactKind
from approvals.tests.factories import make_artifact

pytestmark = pytest.mark.django_db

ADMIN_LISTS = [
    "admin:approvals_project_changelist",
    "admin:approvals_artifact_changelist",
    "admin:approvals_approval_changelist",
    "admin:approvals_job_changelist",
    "admin:approvals_run_changelist",
]


def test_history_up_to_the_last_day_there_is_answers(reviewer_client):
    response = reviewer_client.get(reverse("history"), {"decided_to": "9999-12-31"})

    assert response.status_code == 200


def test_a_range_header_with_thousands_of_digits_is_ignored(reviewer_client, local_bucket):
    local_bucket.put("proj/1/a.bin", b"0123456789")
    artifact = make_artifact(kind=ArtifactKind.FILE, storage_path="proj/1/a.bin", size_bytes=10)

    response = reviewer_client.get(reverse("artifact-file", args=[artifact.id]), HTTP_RANGE="bytes=0-" + "9" * 4_400)

    assert response.status_code in (200, 206)


@pytest.mark.parametrize("url_name", ADMIN_LISTS)
@pytest.mark.parametrize(
    "query",
    ["project=not-a-uuid", "project=%00", "q=%00", "o=%00", "p=%00", "created_at__year=0", "created_at__day=99"],
)
def test_admin_lists_answer_odd_filters_without_a_server_error(ops_client, ops_dataset, url_name, query):
    response = ops_client.get(f"{reverse(url_name)}?{query}")

    assert response.status_code < 500


@pytest.mark.parametrize("url_name", ADMIN_LISTS)
@pytest.mark.parametrize("field", ["status", "kind", "model", "mime_family", "revision", "decided_within"])
def test_a_nul_byte_in_any_list_filter_is_not_a_server_error(ops_client, ops_dataset, url_name, field):
    response = ops_client.get(f"{reverse(url_name)}?{field}=a%00b")

    assert response.status_code < 500


@pytest.mark.parametrize("url_name", ["admin:approvals_project_changelist", "admin:approvals_run_changelist"])
@pytest.mark.parametrize(
    "query", ["created_at__year=9999", "created_at__year=9999&created_at__month=12", "created_at__year=0"]
)
def test_the_date_drill_down_at_the_ends_of_the_calendar_is_not_a_server_error(
    ops_client, ops_dataset, url_name, query
):
    response = ops_client.get(f"{reverse(url_name)}?{query}")

    assert response.status_code < 500


@pytest.mark.parametrize(
    "query",
    ["start=9999-12-31&end=9999-12-31", "start=0001-01-01&end=0001-01-01", "start=9999-12-30&end=9999-12-31"],
)
def test_the_costs_dashboard_at_the_ends_of_the_calendar_is_not_a_server_error(ops_client, query):
    response = ops_client.get(f"{reverse('admin:approvals_run_costs')}?{query}")

    assert response.status_code < 500
