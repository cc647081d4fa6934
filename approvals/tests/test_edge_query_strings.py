"""Query strings and headers at the edges of their types answer a page or a clear refusal, never a 500."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from approvals.models import ArtifactKind, ReviewClaim, ReviewTarget
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


# Every changelist of the app, and what each would meet in the query string.
APP_MODELS = {
    f"admin:approvals_{model._meta.model_name}_changelist": model
    for model in apps.get_app_config("approvals").get_models()
    if admin.site.is_registered(model)
}
APP_LISTS = sorted(APP_MODELS)
HUGE = "9" * 30
MALFORMED = [
    # An array column's lookups take a PostgreSQL array literal: the admin passes the text as it came.
    "reasons__contains=",
    "reasons__contains=garbage",
    "reasons__contains={",
    "reasons=garbage",
    "reasons__contained_by=x",
    "reasons__overlap=a,b",
    "reasons__len=abc",
    "reasons__0_1=x",
    # Fields and lookups that do not exist.
    "nosuch=1",
    "nosuch__deeper__exact=1",
    "status__nosuchlookup=1",
    # Keys that are not UUIDs.
    "pk=not-a-uuid",
    "pk__in=a,b",
    "project=00000000-0000-0000-0000-00000000000g",
    "approval=not-a-uuid",
    # Dates that are no dates.
    "created_at__gte=garbage",
    "created_at__gte=2020-13-45",
    "created_at__date=2020-02-30",
    "created_at__lt=99999-01-01",
    f"created_at__year={HUGE}",
    # Numbers past bigint and numeric.
    f"target_hours={HUGE}",
    f"target_hours__gt={HUGE}",
    f"attempts__lt={HUGE}",
    f"prompt_tokens__gte=-{HUGE}",
    "cost_usd__gt=1e999",
    f"size_bytes={HUGE}",
    f"p={HUGE}",
    f"o={HUGE}",
    f"q={HUGE}",
]


@pytest.fixture
def every_table_has_a_row(ops_dataset):
    """ops_dataset, plus a claim and a review target, so that every changelist runs its query over a row."""
    ReviewClaim.objects.create(
        approval=ops_dataset["pending"], claimant="alice", expires_at=timezone.now() + timezone.timedelta(minutes=5)
    )
    ReviewTarget.objects.create(project=ops_dataset["project"], target_hours=24)
    return ops_dataset


def answers_clearly(response) -> bool:
    """A page, a 400, or Django admin's answer to a wrong filter: back to the list with ?e=1."""
    if response.status_code == 302:
        return response["Location"].endswith("?e=1")
    return response.status_code in (200, 400)


def query_string_parameters(url_name: str, user) -> list[str]:
    """Every parameter the changelist's sidebar filters read, and its search, order and page."""
    model_admin = admin.site.get_model_admin(APP_MODELS[url_name])
    request = RequestFactory().get(reverse(url_name))
    request.user = user
    changelist = model_admin.get_changelist_instance(request)
    return [name for spec in changelist.filter_specs for name in spec.expected_parameters()] + ["q", "o", "p"]


@pytest.mark.parametrize("url_name", APP_LISTS)
def test_a_nul_byte_in_any_filter_or_search_of_every_changelist_is_not_a_server_error(
    ops_client, every_table_has_a_row, admin_user, url_name
):
    for parameter in query_string_parameters(url_name, admin_user):
        response = ops_client.get(f"{reverse(url_name)}?{parameter}=a%00b")

        assert answers_clearly(response), (parameter, response.status_code, response.get("Location"))


def test_a_nul_byte_in_the_claimant_filter_is_a_wrong_filter(ops_client, every_table_has_a_row):
    response = ops_client.get(f"{reverse('admin:approvals_reviewclaim_changelist')}?claimant=a%00b")

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('admin:approvals_reviewclaim_changelist')}?e=1"


def test_a_nul_byte_in_a_search_is_refused_by_the_search_box_and_lists_everything(ops_client, every_table_has_a_row):
    response = ops_client.get(f"{reverse('admin:approvals_reviewclaim_changelist')}?q=a%00b")

    assert response.status_code == 200
    assert "Null characters are not allowed." in response.content.decode()
    assert "alice" in response.content.decode()


@pytest.mark.parametrize("url_name", APP_LISTS)
@pytest.mark.parametrize("query", MALFORMED)
def test_every_changelist_answers_a_malformed_lookup_clearly(ops_client, every_table_has_a_row, url_name, query):
    response = ops_client.get(f"{reverse(url_name)}?{query}")

    assert answers_clearly(response), (response.status_code, response.get("Location"))


def test_a_malformed_array_lookup_on_the_approvals_list_leads_back_to_the_whole_list(ops_client, ops_dataset):
    response = ops_client.get(
        f"{reverse('admin:approvals_approval_changelist')}?reasons__contains=garbage", follow=True
    )

    assert response.redirect_chain == [(f"{reverse('admin:approvals_approval_changelist')}?e=1", 302)]
    assert response.status_code == 200
    assert "spring-hero-post" in response.content.decode()


def test_a_well_formed_array_lookup_on_the_approvals_list_still_filters(ops_client, ops_dataset):
    response = ops_client.get(f"{reverse('admin:approvals_approval_changelist')}?reasons__contains={{too_long}}")

    assert response.status_code == 200
