"""Review analytics pages: who may see them, and figures that match the decisions made."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from approvals.decisions import approve_with_edits, decide, request_changes, undo
from approvals.models import Approval, ApprovalStatus, Job, ReviewItem, ReviewTarget
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


def _draft(*, project, cost: str, model: str = "gpt-4o") -> Approval:
    """A text draft made by a draft_post job with one run of `cost`, waiting for review."""
    artifact = make_artifact(project=project, body_text="Draft", metadata={"prompt": "Write a launch post"})
    make_run(job=make_job(output_artifact=artifact, kind="draft_post"), model=model, cost_usd=cost)
    return Approval.objects.create(artifact=artifact)


def _one_decision_of_each_kind() -> None:
    """Through the services the review form calls: approve, approve with edits, request changes, reject."""
    project = make_project(name="Reasons")
    decide(
        approval_id=_draft(project=project, cost="0.010000").pk,
        decision="approved",
        notes="",
        reasons=["length"],
        decided_by="alice",
    )
    approve_with_edits(
        approval_id=_draft(project=project, cost="0.030000").pk, body="Draft, edited", notes="", decided_by="alice"
    )
    request_changes(
        approval_id=_draft(project=project, cost="0.004000").pk, notes="", reasons=["tone", "brand"], decided_by="bilal"
    )
    decide(
        approval_id=_draft(project=project, cost="0.001000").pk,
        decision="rejected",
        notes="",
        reasons=["tone"],
        decided_by="bilal",
    )


def _review_items() -> list[tuple]:
    fields = [f.attname for f in ReviewItem._meta.concrete_fields]
    return sorted(ReviewItem.objects.values_list(*fields), key=str)


def test_outcomes_count_each_kind_of_decision_and_leave_out_the_draft_an_edit_replaced(analyst_client):
    _one_decision_of_each_kind()

    total = analyst_client.get(reverse("analytics-outcomes")).context["total"]

    counts = (total.approved, total.approved_with_edits, total.changes_requested, total.rejected, total.decided)
    assert counts == (1, 1, 1, 1, 4)
    assert total.approval_rate == Decimal("50.0")
    # The edit's cost is its draft's runs; the replaced draft is not spent on rejected drafts.
    assert total.cost_per_approved == Decimal("0.02")
    assert total.rejected_cost == Decimal("0.005")


def test_outcomes_count_reason_codes_per_dimension(analyst_client):
    _one_decision_of_each_kind()

    response = analyst_client.get(reverse("analytics-outcomes"))

    assert response.context["total"].reasons == {"tone": 2, "brand": 1, "length": 1}
    tables = {dimension: rows for dimension, _, _, rows in response.context["tables"]}
    for dimension, key in [
        ("model", "gpt-4o"),
        ("prompt", "Write a launch post"),
        ("project", "Reasons"),
        ("kind", "draft_post"),
    ]:
        [row] = tables[dimension]
        assert (row.key, row.decided, row.reason_counts) == (key, 4, [("Tone", 2), ("Brand", 1), ("Length", 1)])
    assert "Tone 2, Brand 1, Length 1" in response.content.decode()


def test_rebuild_review_items_gives_the_rows_the_trigger_kept():
    _one_decision_of_each_kind()
    _draft(project=make_project(), cost="0.002000")  # and one still pending
    kept = _review_items()

    with connection.cursor() as cursor:
        cursor.execute("select rebuild_review_items()")
        assert cursor.fetchone()[0] == len(kept) == 6

    assert _review_items() == kept
    outcomes = sorted(
        (outcome or "pending", reasons) for outcome, reasons in ReviewItem.objects.values_list("outcome", "reasons")
    )
    assert outcomes == [
        ("approved", ["length"]),
        ("approved_with_edits", []),
        ("changes_requested", ["tone", "brand"]),
        ("pending", []),
        ("rejected", ["tone"]),
        ("replaced_by_edit", []),
    ]


def test_reviewers_page_counts_an_approved_edit_as_one_approval(analyst_client):
    approve_with_edits(approval_id=make_pending_review(body_text="Draft").pk, body="Edited", notes="", decided_by="ana")

    activity = analyst_client.get(reverse("analytics-reviewers")).context["activity"]

    assert activity.reviewers == [("ana", 1, 0)]


def test_time_to_decision_times_an_approved_edit_from_the_drafts_arrival(analyst_client):
    draft = _arrived(make_pending_review(body_text="Draft"), hours_ago=5)
    approve_with_edits(approval_id=draft.pk, body="Edited", notes="", decided_by="ana")

    [(_, wait)] = analyst_client.get(reverse("analytics-time-to-decision")).context["weeks"]

    assert wait.count == 1
    assert abs(wait.p50.total_seconds() - 5 * 3600) < 60


def test_outcomes_count_decisions_recorded_without_an_outcome_by_their_status(analyst_client):
    for status in (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED, ApprovalStatus.REJECTED):
        # As the pipeline or a tool from before 009 writes them: a status, no outcome.
        Approval.objects.create(
            artifact=make_artifact(), status=status, decided_by="pipeline", decided_at=timezone.now()
        )

    total = analyst_client.get(reverse("analytics-outcomes")).context["total"]

    assert (total.approved, total.approved_with_edits, total.changes_requested, total.rejected) == (1, 0, 0, 2)


def test_outcomes_count_an_item_made_with_several_models_once_for_each(analyst_client):
    project = make_project()
    both = _draft(project=project, cost="0.010000", model="gpt-4o")
    make_run(job=both.artifact.output_jobs.get(), model="claude-3-5-sonnet", cost_usd="0.020000")
    decide(approval_id=both.pk, decision="rejected", notes="", reasons=["tone"], decided_by="alice")
    decide(approval_id=_draft(project=project, cost="0.040000").pk, decision="approved", notes="", decided_by="alice")

    response = analyst_client.get(reverse("analytics-outcomes"))

    [models] = [rows for dimension, _, _, rows in response.context["tables"] if dimension == "model"]
    assert [(row.key, row.approved, row.rejected, row.reasons, row.rejected_cost) for row in models] == [
        ("gpt-4o", 1, 1, {"tone": 1}, Decimal("0.03")),
        ("claude-3-5-sonnet", 0, 1, {"tone": 1}, Decimal("0.03")),
    ]


def test_an_undone_decision_is_not_counted_only_the_one_made_after_it(analyst_client, settings):
    approval = make_pending_review()
    Job.objects.filter(output_artifact_id=approval.artifact_id).delete()  # nothing downstream: undo stays possible
    for _ in range(3):  # approve, undo: three times over
        decide(approval_id=approval.pk, decision="approved", notes="", decided_by="alice")
        approval = Approval.objects.get(
            pk=undo(approval_id=approval.pk, undone_by="alice", window_seconds=30).new_approval_id
        )
    decide(approval_id=approval.pk, decision="approved", notes="", decided_by="alice")

    activity = analyst_client.get(reverse("analytics-reviewers")).context["activity"]
    total = analyst_client.get(reverse("analytics-outcomes")).context["total"]

    assert activity.reviewers == [("alice", 1, 0)]
    assert (total.approved, total.decided) == (1, 1)


def test_the_queue_shows_the_age_the_pipeline_corrected_an_approval_to(analyst_client):
    approval = make_pending_review(project=make_project(name="Corrected"))
    corrected = timezone.now() - timedelta(days=1, hours=11)
    Approval.objects.filter(pk=approval.pk).update(created_at=corrected)  # the pipeline's fix, not the app's

    (queue,) = analyst_client.get(reverse("analytics-queue")).context["queues"]

    assert queue.oldest == corrected
