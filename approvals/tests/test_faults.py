"""Faults a reviewer can run into mid-work: a decision whose transaction fails halfway, storage gone.

(The database restarting under gunicorn is test_production_server.py; apply_sql
killed mid-file is test_fault_apply_sql_killed.py.)
"""

import psycopg
import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from approvals.models import ApprovalStatus, ArtifactKind, JobStatus
from approvals.sql_runner.session import connection_params
from approvals.tests import sample_files
from approvals.tests.factories import make_artifact, make_pending_review, make_reviewer
from approvals.tests.storage_fixtures import use_s3_bucket

pytestmark = pytest.mark.usefixtures("transactional_pipeline_db")


@pytest.fixture
def reviewer_browser():
    client = Client(raise_request_exception=False)
    client.force_login(make_reviewer("reviewer"))
    return client


@pytest.fixture
def failing_job_updates():
    """A trigger that makes every update of jobs raise, as a failing disk or a bad deploy might."""
    with connection.cursor() as cursor:
        cursor.execute(
            """create function public.fault_refuse_job_update() returns trigger language plpgsql as
               $$ begin raise exception 'jobs are read-only during this fault'; end $$;
               create trigger fault_refuse_job_update before update on public.jobs
               for each row execute function public.fault_refuse_job_update();"""
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute(
            "drop trigger if exists fault_refuse_job_update on public.jobs;"
            "drop function if exists public.fault_refuse_job_update();"
        )


def committed_state(approval_id) -> tuple:
    """The approval and its job as another connection sees them: what was really committed."""
    params = connection_params(connections["default"])
    with psycopg.connect(**params) as other:
        return other.execute(
            """select a.status, a.decided_by, a.decided_at, a.notes, j.status, j.error
               from approvals a join jobs j on j.output_artifact_id = a.artifact_id where a.id = %s""",
            [approval_id],
        ).fetchone()


def test_a_decision_failing_halfway_changes_neither_the_approval_nor_the_job(reviewer_browser, failing_job_updates):
    approval = make_pending_review(name="launch-post")
    before = committed_state(approval.id)
    assert before == (ApprovalStatus.PENDING, None, None, None, JobStatus.NEEDS_APPROVAL, None)

    response = reviewer_browser.post(
        reverse("approval-decide", args=[approval.id]), {"decision": "rejected", "notes": "Too long."}
    )

    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body and "nothing was saved" in body
    assert "Traceback" not in body and "read-only during this fault" not in body
    assert committed_state(approval.id) == before  # the approval's UPDATE was rolled back with the job's


def test_the_same_decision_goes_through_once_the_fault_is_gone(reviewer_browser, failing_job_updates):
    approval = make_pending_review(name="launch-post")
    url = reverse("approval-decide", args=[approval.id])
    assert reviewer_browser.post(url, {"decision": "approved"}).status_code == 500

    with connection.cursor() as cursor:
        cursor.execute("drop trigger fault_refuse_job_update on public.jobs")
    response = reviewer_browser.post(url, {"decision": "approved", "notes": "Fine."})

    assert response.status_code == 303  # nothing half-done was left to block it
    status, decided_by, decided_at, notes, job_status, _ = committed_state(approval.id)
    assert (status, decided_by, notes, job_status) == ("approved", "reviewer", "Fine.", "done")
    assert decided_at is not None


def test_with_storage_down_reviewers_still_see_the_queue_and_the_page_and_can_decide(
    reviewer_browser, settings, private_moto_server, isolated_file_caches
):
    bucket = use_s3_bucket(settings, private_moto_server.endpoint_url)
    bucket.put("proj/1/hero.png", sample_files.png_bytes())
    artifact = make_artifact(
        name="hero.png", kind=ArtifactKind.FILE, storage_path="proj/1/hero.png", mime_type="image/png"
    )
    approval = make_pending_review(artifact=artifact)
    private_moto_server.stop()

    queue = reviewer_browser.get(reverse("queue"))
    review = reviewer_browser.get(reverse("approval-detail", args=[approval.id]))
    file_view = reviewer_browser.get(reverse("artifact-file", args=[artifact.id]))
    decided = reviewer_browser.post(reverse("approval-decide", args=[approval.id]), {"decision": "approved"})

    assert queue.status_code == 200 and "hero.png" in queue.content.decode()
    assert review.status_code == 200
    assert "File storage is unavailable right now" in review.content.decode()
    assert file_view.status_code == 503
    assert "File storage is unavailable" in file_view.content.decode()
    assert decided.status_code == 303  # the decision is in the database, not in storage
    assert committed_state(approval.id)[0] == "approved"
