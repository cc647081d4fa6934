"""What the ops console deletes: never projects or artifacts; jobs, runs, review targets, the database cascading."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from approvals.models import Approval, Artifact, Job, Project, ReviewTarget, Run
from approvals.tests.factories import make_artifact, make_job, make_project, make_run

pytestmark = pytest.mark.django_db


def pipeline_record() -> dict[str, object]:
    artifact = make_artifact(project=make_project(name="Kept project"), name="kept-post")
    Approval.objects.create(artifact=artifact)
    return {"project": artifact.project, "artifact": artifact}


@pytest.mark.parametrize("model", ["project", "artifact"])
def test_the_delete_page_is_refused(ops_client, model):
    row = pipeline_record()[model]

    response = ops_client.post(reverse(f"admin:approvals_{model}_delete", args=[row.pk]), {"post": "yes"})

    assert response.status_code == 403
    assert type(row).objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize("model", ["project", "artifact"])
def test_the_change_page_has_no_delete_link(ops_client, model):
    row = pipeline_record()[model]

    page = ops_client.get(reverse(f"admin:approvals_{model}_change", args=[row.pk])).content.decode()

    assert reverse(f"admin:approvals_{model}_delete", args=[row.pk]) not in page
    assert 'class="deletelink"' not in page


@pytest.mark.parametrize("model", ["project", "artifact"])
def test_the_delete_selected_action_is_absent_and_posting_it_deletes_nothing(ops_client, model):
    row = pipeline_record()[model]
    changelist = reverse(f"admin:approvals_{model}_changelist")

    page = ops_client.get(changelist).content.decode()
    response = ops_client.post(
        changelist, {"action": "delete_selected", "_selected_action": [str(row.pk)], "post": "yes"}, follow=True
    )

    assert 'value="delete_selected"' not in page
    assert response.status_code == 200
    assert type(row).objects.filter(pk=row.pk).exists()
    assert Approval.objects.filter(artifact__name="kept-post").exists()


def test_deleting_a_job_leaves_its_runs_to_the_database(ops_client):
    job = make_job(output_artifact=make_artifact())
    runs = [make_run(job=job), make_run(job=job)]
    url = reverse("admin:approvals_job_delete", args=[job.pk])

    confirmation = ops_client.get(url).content.decode()
    with CaptureQueriesContext(connection) as queries:
        response = ops_client.post(url, {"post": "yes"})

    assert "<li>Runs: 2</li>" in confirmation
    assert response.status_code == 302
    assert not Job.objects.filter(pk=job.pk).exists()
    assert not Run.objects.filter(pk__in=[run.pk for run in runs]).exists()
    # One statement, on jobs: Django neither reads nor deletes the runs itself.
    deletes = [query["sql"] for query in queries.captured_queries if query["sql"].startswith("DELETE")]
    assert len(deletes) == 1
    assert deletes[0].startswith('DELETE FROM "jobs" WHERE') and job.pk.hex in deletes[0]


def test_deleting_a_review_target_keeps_its_project(ops_client):
    project = make_project(name="Targeted")
    ReviewTarget.objects.create(project=project, target_hours=24)

    response = ops_client.post(reverse("admin:approvals_reviewtarget_delete", args=[project.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not ReviewTarget.objects.filter(pk=project.pk).exists()
    assert Project.objects.filter(pk=project.pk).exists()


def test_deleting_selected_runs_removes_only_them(ops_client):
    job = make_job(output_artifact=make_artifact())
    doomed, kept = make_run(job=job), make_run(job=job)

    ops_client.post(
        reverse("admin:approvals_run_changelist"),
        {"action": "delete_selected", "_selected_action": [str(doomed.pk)], "post": "yes"},
    )

    assert list(Run.objects.filter(job=job)) == [kept]
    assert Artifact.objects.filter(pk=job.output_artifact_id).exists()
