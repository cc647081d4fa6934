"""Review analytics pages: who may see them, and figures that match the decisions made."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from django.utils import timezone

from approvals.decisions import decide
from approvals.models import Approval, ApprovalStatus, ReviewItem, ReviewTarget
from approvals.tests.factories import make_artifact, make_job, make_pending_review, make_project, make_run

pytestmark = pytest.mark.django_db

PAGES = ["analytics-queue", "analytics-reviewers", "analytics-time-to-decision", "analytics-outcomes"]


def _arrived(approval: Approval, hours_ago: float) -> Approval:
    when = timezone.now() - timedelta(hours=hours_ago)
    Approval.objects.filter(pk=approval.pk).update(created_at=when)
    ReviewItem.objects.filter(pk=approval.pk).update(created_at=when)
    approval.refresh_from_db()
    return approval


@pytest.fixture
def analyst_client(client):
    user = User.objects.create_user("lead", password="lead-pass-123")
    user.user_permissions.add(Permission.objects.get(codename="view_analytics", content_type__app_label="approvals"))
    client.force_login(user)
    return client


@pytest.mark.parametrize("page", PAGES)
def test_analytics_sends_anonymous_users_to_the_login_page(client, page):
    response = client.get(reverse(page))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("page", PAGES)
def test_analytics_refuses_a_reviewer_without_the_permission(reviewer_client, page):
    assert reviewer_client.get(reverse(page)).status_code == 403


@pytest.mark.parametrize("page", PAGES)
def test_analytics_opens_for_a_user_granted_view_analytics(analyst_client, page):
    assert analyst_client.get(reverse(page)).status_code == 200


def test_analytics_opens_for_staff_without_the_permission(client):
    client.force_login(User.objects.create_user("ops-staff", password="x-pass-123", is_staff=True))
    assert client.get(reverse("analytics-queue")).status_code == 200


def test_queue_now_counts_items_over_the_projects_review_target_as_overdue(analyst_client):
    project = make_project(name="Targeted")
    ReviewTarget.objects.create(project=project, target_hours=4)
    _arrived(make_pending_review(project=project), hours_ago=5)
    _arrived(make_pending_review(project=project), hours_ago=3)
    _arrived(make_pending_review(project=make_project(name="No target")), hours_ago=50)

    response = analyst_client.get(reverse("analytics-queue"))

    queues = {queue.name: (queue.count, queue.overdue) for queue in response.context["queues"]}
    assert queues == {"Targeted": (2, 1), "No target": (1, 0)}
    assert 'data-figure="overdue">1<' in response.content.decode()


def test_outcomes_give_approval_rate_cost_per_approved_artifact_and_rejected_spend(analyst_client):
    project = make_project(name="Outcomes")
    costs = {"approved": ["0.010000", "0.030000"], "rejected": ["0.005000"]}
    for decision, amounts in costs.items():
        for amount in amounts:
            artifact = make_artifact(project=project, metadata={"prompt": "Write a launch post"})
            make_run(job=make_job(output_artifact=artifact, kind="draft_post"), model="gpt-4o", cost_usd=amount)
            approval = Approval.objects.create(artifact=artifact)
            decide(approval_id=approval.pk, decision=decision, notes="Off brand", decided_by="alice")

    total = analyst_client.get(reverse("analytics-outcomes")).context["total"]

    assert (total.approved, total.rejected) == (2, 1)
    assert total.approval_rate == Decimal("66.7")
    assert total.cost_per_approved == Decimal("0.02")
    assert total.rejected_cost == Decimal("0.005")
    tables = {
        dimension: rows for dimension, _, _, rows in analyst_client.get(reverse("analytics-outcomes")).context["tables"]
    }
    assert [(row.key, row.decided) for row in tables["prompt"]] == [("Write a launch post", 3)]
    assert [(row.key, row.decided) for row in tables["model"]] == [("gpt-4o", 3)]
    assert [(row.key, row.decided) for row in tables["kind"]] == [("draft_post", 3)]


def test_reviewers_page_counts_decisions_per_reviewer_per_day(analyst_client):
    for reviewer, decision in [("alice", "approved"), ("alice", "rejected"), ("bilal", "approved")]:
        decide(approval_id=make_pending_review().pk, decision=decision, notes="Too long", decided_by=reviewer)

    activity = analyst_client.get(reverse("analytics-reviewers")).context["activity"]

    assert activity.reviewers == [("alice", 1, 1), ("bilal", 1, 0)]
    assert [(day.day, day.decisions) for day in activity.days] == [(timezone.localdate(), {"alice": 2, "bilal": 1})]


def test_time_to_decision_gives_p50_and_p95_per_week(analyst_client):
    for hours in (1, 2, 3, 4, 10):
        approval = _arrived(make_pending_review(), hours_ago=hours)
        decide(approval_id=approval.pk, decision=ApprovalStatus.APPROVED, notes="", decided_by="alice")

    weeks = analyst_client.get(reverse("analytics-time-to-decision")).context["weeks"]

    [(_, wait)] = weeks
    assert wait.count == 5
    assert abs(wait.p50.total_seconds() - 3 * 3600) < 60
    assert abs(wait.p95.total_seconds() - 8.8 * 3600) < 60
