"""The ops console: pages render for staff, refuse others, actions go through the decision service."""

from datetime import UTC, datetime

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from approvals.admin import actions, big_tables
from approvals.models import Approval, ApprovalStatus, Artifact, Job, JobStatus, Project, Run
from approvals.tests.factories import make_artifact, make_pending_review, make_project, make_run

pytestmark = pytest.mark.django_db

MODELS = ("project", "artifact", "job", "approval", "run")
UTC = UTC


def changelist(model: str) -> str:
    return reverse(f"admin:approvals_{model}_changelist")


def post_action(client, model: str, action: str, objects, **extra):
    data = {"action": action, "_selected_action": [str(o.pk) for o in objects], **extra}
    return client.post(changelist(model), data, follow=True)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- Pages ---------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_every_changelist_renders_for_staff(ops_client, ops_dataset, model):
    response = ops_client.get(changelist(model))
    assert response.status_code == 200


def test_changelists_show_names_not_uuids(ops_client, ops_dataset):
    approvals = ops_client.get(changelist("approval")).content.decode()
    assert "spring-hero-post v1" in approvals
    assert "Northwind Coffee — Spring launch" in approvals
    jobs = ops_client.get(changelist("job")).content.decode()
    assert "spring-spec v1" in jobs
    runs = ops_client.get(changelist("run")).content.decode()
    assert "draft_post (Needs approval)" in runs


@pytest.mark.parametrize("key", ["project", "revision", "approved_job", "pending", "approved"])
def test_change_pages_render_for_staff(ops_client, ops_dataset, key):
    obj = ops_dataset[key]
    model = obj._meta.model_name
    response = ops_client.get(reverse(f"admin:approvals_{model}_change", args=[obj.pk]))
    assert response.status_code == 200


def test_run_change_page_renders(ops_client, ops_dataset):
    run = Run.objects.first()
    assert ops_client.get(reverse("admin:approvals_run_change", args=[run.pk])).status_code == 200


def test_artifact_page_links_to_job_runs_approvals_and_review_page(ops_client, ops_dataset):
    artifact = ops_dataset["pending"].artifact
    page = ops_client.get(reverse("admin:approvals_artifact_change", args=[artifact.pk])).content.decode()
    assert reverse("admin:approvals_job_change", args=[ops_dataset["pending_job"].pk]) in page
    assert f"{changelist('run')}?job={ops_dataset['pending_job'].pk}" in page
    assert f"{changelist('approval')}?artifact={artifact.pk}" in page
    assert reverse("approval-detail", args=[ops_dataset["pending"].pk]) in page


def test_approval_changelist_links_to_review_page_and_jobs(ops_client, ops_dataset):
    page = ops_client.get(changelist("approval")).content.decode()
    assert reverse("approval-detail", args=[ops_dataset["pending"].pk]) in page
    assert f"{changelist('job')}?output_artifact={ops_dataset['pending'].artifact_id}" in page


def test_job_changelist_sums_tokens_and_cost_of_its_runs(ops_client, ops_dataset):
    job = ops_dataset["approved_job"]
    make_run(job=job, prompt_tokens=1000, completion_tokens=500, cost_usd="0.100000")
    page = ops_client.get(changelist("job") + "?status__exact=done").content.decode()
    assert "3,000" in page  # 1,500 + 1,500 tokens
    assert "$0.112" in page  # 0.012 + 0.100 USD


def test_project_page_lists_only_recent_artifacts_bounded(ops_client, ops_dataset):
    project = ops_dataset["project"]
    for n in range(25):
        make_artifact(project=project, name=f"bulk-{n}")
    response = ops_client.get(reverse("admin:approvals_project_change", args=[project.pk]))
    assert response.status_code == 200
    inline = response.context["inline_admin_formsets"][0]
    assert len(inline.formset.forms) == 20


def test_admin_index_links_to_costs_dashboard(ops_client):
    assert reverse("admin:approvals_run_costs") in ops_client.get(reverse("admin:index")).content.decode()


# --- Who may see it ------------------------------------------------------------------


@pytest.mark.parametrize(
    "url_name", [f"admin:approvals_{m}_changelist" for m in MODELS] + ["admin:approvals_run_costs"]
)
def test_non_staff_are_sent_to_the_admin_login(client, ops_dataset, url_name):
    client.force_login(User.objects.create_user("reviewer-only", password="x-pass-123"))
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_without_permissions_are_refused(client, ops_dataset):
    client.force_login(User.objects.create_user("intern", password="x-pass-123", is_staff=True))
    assert client.get(changelist("approval")).status_code == 403
    assert client.get(reverse("admin:approvals_run_costs")).status_code == 403


def test_staff_without_review_permission_get_no_decision_actions(client, ops_dataset):
    user = User.objects.create_user("ops-viewer", password="x-pass-123", is_staff=True)
    # A lead on the ops console: reopening is approvals.can_reopen's, in the admin as from History.
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_approval", "can_reopen"]))
    client.force_login(user)
    response = client.get(changelist("approval"))
    actions = [name for name, _ in response.context["action_form"].fields["action"].choices]
    assert "reopen_selected" in actions
    assert "approve_selected" not in actions
    assert "reject_selected" not in actions


# --- Actions -------------------------------------------------------------------------


def test_requeue_moves_failed_jobs_to_queued_and_keeps_attempts(ops_client, ops_dataset):
    job = ops_dataset["rejected_job"]
    response = post_action(ops_client, "job", "requeue_failed_jobs", [job])
    job.refresh_from_db()
    assert (job.status, job.error, job.attempts) == (JobStatus.QUEUED, None, 2)
    assert any(m.startswith("Requeued 1 job") for m in messages_of(response))
    entry = LogEntry.objects.get(object_id=str(job.pk), action_flag=CHANGE)
    assert "Requeued" in entry.get_change_message()


def test_requeue_skips_jobs_that_are_not_failed_and_says_why(ops_client, ops_dataset):
    done = ops_dataset["approved_job"]
    response = post_action(ops_client, "job", "requeue_failed_jobs", [done, ops_dataset["broken_job"]])
    done.refresh_from_db()
    assert done.status == JobStatus.DONE
    assert Job.objects.get(pk=ops_dataset["broken_job"].pk).status == JobStatus.QUEUED
    messages = messages_of(response)
    assert any("Skipped 1 job" in m and "Only failed jobs can be requeued; this one is done." in m for m in messages)
    assert not LogEntry.objects.filter(object_id=str(done.pk)).exists()


def test_reopen_creates_a_pending_approval_and_keeps_the_decision(ops_client, ops_dataset):
    rejected = ops_dataset["rejected"]
    response = post_action(ops_client, "approval", "reopen_selected", [rejected])
    rejected.refresh_from_db()
    assert rejected.status == ApprovalStatus.REJECTED
    new = Approval.objects.get(artifact=rejected.artifact, status=ApprovalStatus.PENDING)
    assert Job.objects.get(pk=ops_dataset["rejected_job"].pk).status == JobStatus.NEEDS_APPROVAL
    assert any(m.startswith("Reopened 1 approval") for m in messages_of(response))
    assert LogEntry.objects.filter(object_id=str(rejected.pk), action_flag=CHANGE).exists()
    assert LogEntry.objects.filter(object_id=str(new.pk), action_flag=ADDITION).exists()


def test_reopen_skips_a_pending_approval(ops_client, ops_dataset):
    pending = ops_dataset["pending"]
    response = post_action(ops_client, "approval", "reopen_selected", [pending])
    assert Approval.objects.filter(artifact=pending.artifact).count() == 1
    assert any("still pending: there is nothing to reopen" in m for m in messages_of(response))


def test_approve_asks_for_confirmation_first_then_decides(ops_client, ops_dataset):
    pending = ops_dataset["pending"]
    page = post_action(ops_client, "approval", "approve_selected", [pending], index="0")
    assert page.status_code == 200
    assert "spring-hero-post v1" in page.content.decode()
    Approval.objects.get(pk=pending.pk, status=ApprovalStatus.PENDING)

    response = post_action(ops_client, "approval", "approve_selected", [pending], apply="yes", notes="Looks good")
    pending.refresh_from_db()
    assert (pending.status, pending.decided_by, pending.notes) == (ApprovalStatus.APPROVED, "ops", "Looks good")
    assert Job.objects.get(pk=ops_dataset["pending_job"].pk).status == JobStatus.DONE
    assert any(m.startswith("Approved 1 approval") for m in messages_of(response))
    assert "Approved through the admin action" in LogEntry.objects.get(object_id=str(pending.pk)).get_change_message()


def test_reject_without_notes_changes_nothing(ops_client, ops_dataset):
    pending = ops_dataset["pending"]
    page = post_action(ops_client, "approval", "reject_selected", [pending], apply="yes", notes="  ")
    assert page.status_code == 200
    assert "A reason is required to reject" in page.content.decode()
    assert Approval.objects.get(pk=pending.pk).status == ApprovalStatus.PENDING


def test_reject_with_notes_fails_the_job_with_the_reason(ops_client, ops_dataset):
    pending = ops_dataset["pending"]
    post_action(ops_client, "approval", "reject_selected", [pending], apply="yes", notes="Wrong logo")
    job = Job.objects.get(pk=ops_dataset["pending_job"].pk)
    assert (job.status, job.error) == (JobStatus.FAILED, "Rejected by ops: Wrong logo")


def test_deciding_an_already_decided_approval_is_skipped_with_who_decided(ops_client, ops_dataset):
    approved = ops_dataset["approved"]
    response = post_action(ops_client, "approval", "reject_selected", [approved], apply="yes", notes="Too late")
    approved.refresh_from_db()
    assert approved.status == ApprovalStatus.APPROVED
    assert any("already approved by alice" in m for m in messages_of(response))


def test_actions_refuse_more_rows_than_the_limit_and_change_nothing(ops_client, ops_dataset, monkeypatch):
    monkeypatch.setattr(actions, "ACTION_LIMIT", 1)
    jobs = [ops_dataset["rejected_job"], ops_dataset["broken_job"]]
    response = post_action(ops_client, "job", "requeue_failed_jobs", jobs)
    assert any("More than 1 rows selected: nothing was changed." in m for m in messages_of(response))
    assert set(Job.objects.filter(pk__in=[j.pk for j in jobs]).values_list("status", flat=True)) == {JobStatus.FAILED}


def test_decided_approval_cannot_be_edited_in_place(ops_client, ops_dataset):
    approved = ops_dataset["approved"]
    url = reverse("admin:approvals_approval_change", args=[approved.pk])
    page = ops_client.get(url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert ops_client.post(url, {"status": "rejected", "notes": "edited"}).status_code == 403
    approved.refresh_from_db()
    assert approved.status == ApprovalStatus.APPROVED


def test_artifact_edit_that_would_break_the_unique_key_is_a_form_error(ops_client, ops_dataset):
    artifact = ops_dataset["approved"].artifact
    url = reverse("admin:approvals_artifact_change", args=[artifact.pk])
    response = ops_client.post(url, {"name": "spring-hero-post", "mime_type": "", "size_bytes": "", "metadata": "{}"})
    assert response.status_code == 200
    assert "This project already has version 1" in response.content.decode()


# --- Big tables --------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_changelist_queries_do_not_grow_with_rows_shown(ops_client, model):
    def queries_for_page() -> int:
        ops_client.get(changelist(model))  # warm caches (content types, sessions)
        with CaptureQueriesContext(connection) as queries:
            assert ops_client.get(changelist(model)).status_code == 200
        return len(queries)

    project = make_project()
    for _ in range(5):
        make_pending_review(project=project)
    five = queries_for_page()
    for _ in range(45):
        make_pending_review(project=project)
    assert queries_for_page() == five


def test_large_unfiltered_changelist_uses_the_planner_estimate_not_count(ops_client, ops_dataset, monkeypatch):
    monkeypatch.setattr(big_tables, "ESTIMATE_THRESHOLD", 1)
    with connection.cursor() as cursor:
        cursor.execute("analyze public.approvals")
    with CaptureQueriesContext(connection) as queries:
        page = ops_client.get(changelist("approval")).content.decode()
    assert "about 3 approvals" in " ".join(page.split())
    assert not any("count(" in q["sql"].lower() for q in queries.captured_queries)


def test_small_filtered_changelist_is_counted_exactly(ops_client, ops_dataset):
    page = ops_client.get(changelist("approval") + "?status__exact=pending").content.decode()
    paginator = " ".join(
        page[page.index('class="paginator"') : page.index("</p>", page.index('class="paginator"'))].split()
    )
    assert "1 approval" in paginator
    assert "about" not in paginator


def test_pasting_a_job_id_finds_its_runs(ops_client, ops_dataset):
    job = ops_dataset["approved_job"]
    response = ops_client.get(changelist("run"), {"q": str(job.pk)})
    assert [run.job_id for run in response.context["cl"].result_list] == [job.pk]


def test_runs_date_drill_down_lists_only_years_and_months_with_runs(ops_client, ops_dataset):
    run_2024, run_2025 = Run.objects.all()[:2]
    Run.objects.filter(pk=run_2024.pk).update(created_at=datetime(2024, 3, 5, tzinfo=UTC))
    Run.objects.exclude(pk=run_2024.pk).update(created_at=datetime(2025, 7, 9, tzinfo=UTC))
    years = ops_client.get(changelist("run")).context["cl"].bounded_date_hierarchy
    assert [choice["title"] for choice in years["choices"]] == ["2024", "2025"]
    months = ops_client.get(changelist("run"), {"created_at__year": "2025"}).context["cl"].bounded_date_hierarchy
    assert [choice["title"] for choice in months["choices"]] == ["2025-07"]


def test_every_table_is_registered():
    from django.contrib import admin

    for model in (Project, Artifact, Job, Approval, Run):
        assert admin.site.is_registered(model)


def test_admin_frame_says_flow_review_ops_with_the_favicon_and_login_security(ops_client):
    page = ops_client.get(reverse("admin:index")).content.decode()

    assert "<title>Ops console | Flow Review ops</title>" in page
    assert 'id="site-name"><a href="/admin/">Flow Review ops</a>' in page
    assert 'rel="icon" href="/static/approvals/favicon' in page
    assert "Login security" in page
    assert reverse("analytics-queue") in page
